//! The log store on top of a storage [`Engine`]: the log records and the
//! committed head, and nothing else (every projection lives in the read
//! model). Atomic batches past the head, durable commits, and recovery of a
//! write that a crash cut short. Engine-agnostic: which engine holds the
//! bytes is decided once, at open.
//!
//! Durability: every write command ends with [`Store::commit`], which applies
//! the final batch (carrying the new committed head) and then syncs the
//! engine; only then does the command report success.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::codec;
use crate::error::{Error, Result};
use crate::event::{Event, Hash, GENESIS};
use crate::index;
use crate::storage::sled::{SledEngine, SledOptions};
use crate::storage::{Batch, Engine, Entry};

/// How to open a ledger.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Create the ledger if it does not exist (write commands); read commands
    /// fail on a missing ledger instead.
    pub create: bool,
    /// How long to wait for another process to release the ledger.
    pub wait: Duration,
    /// Called once if the ledger is still busy after [`OpenOptions::notice_after`].
    pub on_wait: Option<fn(&Path)>,
    /// How long to wait quietly before calling `on_wait`.
    pub notice_after: Duration,
    /// sled's page cache, in bytes; bounds memory on large imports.
    pub cache_bytes: u64,
    /// Called with a one-line notice when opening does something the user
    /// should hear about (such as building the read model of an older ledger).
    pub on_notice: Option<fn(&str)>,
    /// Open a ledger whose log lost events the read model witnessed (the
    /// log behind the watermark, or its files damaged or gone), for
    /// [`crate::Ledger::repair`]; every other open refuses such a ledger, so
    /// that nothing (not even `rebuild`) can erase the witness.
    pub for_repair: bool,
}

/// sled's page cache for commands that write or rewrite the whole ledger
/// (import, restore, rebuild), instead of the default 64 MiB.
///
/// A bulk write touches far more pages than any cache holds, and sled's own
/// bookkeeping (about 200 MiB at a million events) comes on top of the
/// cache, so this is what keeps a 1M-event import near 300 MiB of RSS. It
/// costs about 12% of import speed against 64 MiB (47.8k against 54.5k
/// events/s at 1M; docs/PERFORMANCE.md).
pub const BULK_CACHE_BYTES: u64 = 16 * 1024 * 1024;

impl OpenOptions {
    /// These options with the page cache of a bulk write ([`BULK_CACHE_BYTES`]).
    pub fn for_bulk_writes(self) -> OpenOptions {
        OpenOptions {
            cache_bytes: BULK_CACHE_BYTES,
            ..self
        }
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: false,
            wait: Duration::from_secs(30),
            on_wait: None,
            notice_after: Duration::from_millis(500),
            cache_bytes: 64 * 1024 * 1024,
            on_notice: None,
            for_repair: false,
        }
    }
}

/// The committed end of the log: what every reader sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last committed seq (0 for an empty ledger).
    pub seq: u64,
    /// Its hash ([`GENESIS`] for an empty ledger).
    pub hash: Hash,
    /// Its recorded_at (the epoch for an empty ledger).
    pub recorded_at: DateTime<Utc>,
}

impl Head {
    /// The head of an empty ledger.
    pub fn empty() -> Head {
        Head {
            seq: 0,
            hash: GENESIS,
            recorded_at: DateTime::UNIX_EPOCH,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(48);
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&self.hash);
        v.extend_from_slice(&self.recorded_at.timestamp_micros().to_be_bytes());
        v
    }

    fn decode(b: &[u8]) -> Option<Head> {
        let b: &[u8; 48] = b.try_into().ok()?;
        Some(Head {
            seq: u64::from_be_bytes(b[..8].try_into().ok()?),
            hash: b[8..40].try_into().ok()?,
            recorded_at: DateTime::from_timestamp_micros(i64::from_be_bytes(
                b[40..].try_into().ok()?,
            ))?,
        })
    }
}

/// A set of writes applied atomically by [`Store::apply`] or [`Store::commit`].
pub(crate) type WriteBatch = Batch;

/// An open log store. Holds the engine (and with it, for sled, the
/// inter-process lock) for as long as it lives.
pub(crate) struct Store {
    engine: Box<dyn Engine>,
    path: PathBuf,
    /// Whether this open found no log at all (a new, or emptied, store).
    was_empty: bool,
    /// Held by the one [`crate::writer::Writer`] in progress.
    writer: Mutex<()>,
}

impl Store {
    /// Opens (or, with `create`, creates) the ledger's log at `path`,
    /// waiting for another process to release it, and discards any write a
    /// crash interrupted, so that what is visible is always a committed state.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Store> {
        let engine = SledEngine::open(&SledOptions {
            create: opts.create,
            wait: opts.wait,
            on_wait: opts.on_wait,
            notice_after: opts.notice_after,
            cache_bytes: opts.cache_bytes,
            on_notice: opts.on_notice,
            path,
        })?;
        Store::with_engine(Box::new(engine), path, opts.on_notice)
    }

    /// Whether the engine's writes join the read model's transaction (see
    /// [`Engine::transactional`]).
    pub(crate) fn is_transactional(&self) -> bool {
        self.engine.transactional()
    }

    /// Opens the log held by `engine`; `path` names it in messages.
    pub(crate) fn with_engine(
        engine: Box<dyn Engine>,
        path: &Path,
        on_notice: Option<fn(&str)>,
    ) -> Result<Store> {
        let was_empty = engine.is_empty()?;
        let store = Store {
            engine,
            path: path.to_owned(),
            was_empty,
            writer: Mutex::new(()),
        };
        let stale_layout = store.check_format()?;
        store.recover()?;
        if let Some(old) = stale_layout {
            store.upgrade_layout()?;
            if let Some(f) = on_notice {
                f(&format!(
                    "removed the derived indexes of layout {old} from the log of {} (the read model holds them now)",
                    path.display()
                ));
            }
        }
        Ok(store)
    }

    /// Waits for, and returns, this process's turn to write.
    pub(crate) fn writer_turn(&self) -> MutexGuard<'_, ()> {
        // The guarded value is `()`: a writer that panicked left nothing
        // in it to repair (its uncommitted tail is discarded on drop or at
        // the next open).
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the committed head back to `head` (after a failed commit).
    pub(crate) fn reset_head(&self, head: &Head) -> Result<()> {
        let mut b = Batch::default();
        b.insert(index::META_HEAD, &head.encode());
        self.apply(b)
    }

    /// Checks the log's format version (refusing one this code cannot read)
    /// and returns the derived layout version if it is not this code's, for
    /// [`Store::upgrade_layout`]. A ledger without a layout record was
    /// written by a release before the two versions were separate, whose
    /// layout was 1.
    fn check_format(&self) -> Result<Option<u8>> {
        match self.engine.get(index::META_FORMAT)? {
            Some(v) if v.as_slice() == [index::LOG_FORMAT] => {}
            Some(v) => return Err(Error::UnsupportedFormat(v, index::LOG_FORMAT)),
            None if self.was_empty => {
                let mut b = Batch::default();
                b.insert(index::META_FORMAT, &[index::LOG_FORMAT]);
                b.insert(index::META_LAYOUT, &[index::LAYOUT_VERSION]);
                self.engine.apply(b)?;
                return Ok(None);
            }
            None => return Err(Error::NotALedger(self.path.clone())),
        }
        let layout = match self.engine.get(index::META_LAYOUT)? {
            None => 1,
            Some(v) => v.first().copied().unwrap_or(0),
        };
        Ok((layout != index::LAYOUT_VERSION).then_some(layout))
    }

    /// Removes what an older layout kept beside the log (the derived index
    /// keyspaces of layout 1), in batches, then records the current layout.
    /// Crash-safe: the layout record moves last, so an interrupted upgrade
    /// is redone by the next open.
    fn upgrade_layout(&self) -> Result<()> {
        for prefix in index::LEGACY_DERIVED {
            loop {
                let keys: Vec<Vec<u8>> = self
                    .engine
                    .scan_prefix(&[prefix])
                    .take(8192)
                    .map(|kv| kv.map(|(k, _)| k))
                    .collect::<std::result::Result<_, _>>()?;
                if keys.is_empty() {
                    break;
                }
                let mut b = Batch::default();
                for k in &keys {
                    b.remove(k);
                }
                self.engine.apply(b)?;
            }
        }
        let mut b = Batch::default();
        b.remove(index::META_REBUILDING);
        b.insert(index::META_LAYOUT, &[index::LAYOUT_VERSION]);
        self.engine.apply(b)?;
        self.durable_flush()
    }

    /// Discards log records past the committed head (a write cut short).
    fn recover(&self) -> Result<()> {
        if self.is_transactional() {
            // A write that did not commit left nothing.
            return Ok(());
        }
        let head = self.head()?;
        let last = self.last_log_seq()?;
        if last > head.seq {
            self.discard_after(head.seq)?;
            self.durable_flush()?;
        }
        Ok(())
    }

    /// The committed head.
    pub fn head(&self) -> Result<Head> {
        match self.engine.get(index::META_HEAD)? {
            None => Ok(Head::empty()),
            Some(v) => Head::decode(&v).ok_or_else(|| Error::Corrupt {
                seq: 0,
                message: "unreadable head record".into(),
            }),
        }
    }

    /// The highest seq in the log, committed or not.
    pub fn last_log_seq(&self) -> Result<u64> {
        match self.engine.scan_prefix(&[index::LOG]).next_back() {
            None => Ok(0),
            Some(kv) => {
                let (k, _) = kv?;
                index::log_key_seq(&k).ok_or_else(|| Error::Corrupt {
                    seq: 0,
                    message: "malformed log key".into(),
                })
            }
        }
    }

    /// The event at `seq`, if present.
    pub fn event(&self, seq: u64) -> Result<Option<Event>> {
        match self.engine.get(&index::log_key(seq))? {
            None => Ok(None),
            Some(bytes) => decode_at(seq, &bytes).map(Some),
        }
    }

    /// The event at `seq`, which the log must hold.
    pub fn event_indexed(&self, seq: u64) -> Result<Event> {
        self.event(seq)?.ok_or_else(|| Error::Corrupt {
            seq,
            message: "the log has no record at this seq".into(),
        })
    }

    /// Log records from `from_seq` to the committed head, decoded, in order.
    pub fn events_from(&self, from_seq: u64) -> Result<impl Iterator<Item = Result<Event>> + '_> {
        let head = self.head()?.seq;
        let from = from_seq.max(1);
        let range = (from <= head).then(|| {
            self.engine
                .range(&index::log_key(from), &index::log_key(head))
        });
        Ok(range.into_iter().flatten().map(|kv| {
            let (k, v) = kv?;
            let seq = index::log_key_seq(&k).unwrap_or(0);
            decode_at(seq, &v)
        }))
    }

    /// Every raw log record, committed or not, in key order.
    pub fn scan_log(&self) -> impl DoubleEndedIterator<Item = Result<Entry>> + '_ {
        self.engine
            .scan_prefix(&[index::LOG])
            .map(|kv| kv.map_err(Error::from))
    }

    /// Applies a batch atomically, without committing a new head: the writes
    /// stay invisible to readers of a reopened log until a commit.
    pub fn apply(&self, batch: WriteBatch) -> Result<()> {
        Ok(self.engine.apply(batch)?)
    }

    /// Applies the last batch of a write together with its new head, then
    /// makes it durable.
    pub fn commit(&self, mut batch: WriteBatch, head: &Head) -> Result<()> {
        batch.insert(index::META_HEAD, &head.encode());
        self.apply(batch)?;
        self.durable_flush()
    }

    /// Makes everything applied so far durable.
    pub fn durable_flush(&self) -> Result<()> {
        Ok(self.engine.sync()?)
    }

    /// Removes every log record after `committed`, newest first, in groups
    /// (an interruption leaves a shorter uncommitted tail). Used after a
    /// failed or interrupted write.
    pub fn discard_after(&self, committed: u64) -> Result<()> {
        let last = self.last_log_seq()?;
        let mut batch = WriteBatch::default();
        for seq in (committed + 1..=last).rev() {
            batch.remove(&index::log_key(seq));
            // Small groups: sled 0.34 holds on to memory per removal until
            // the batch is done.
            if batch.len() > 256 {
                self.apply(std::mem::take(&mut batch))?;
            }
        }
        self.apply(batch)
    }
}

fn decode_at(seq: u64, bytes: &[u8]) -> Result<Event> {
    codec::decode(bytes).map_err(|e| Error::Corrupt {
        seq,
        message: e.to_string(),
    })
}
