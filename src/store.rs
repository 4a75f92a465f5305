//! The ledger's keyspaces on top of a storage [`Engine`]: the committed
//! head, the log and the derived indexes, the atomic write of an event with
//! its index entries, durable commits, and recovery of a write that a crash
//! cut short. Engine-agnostic: which engine holds the bytes is decided once,
//! at open.
//!
//! Durability: every write command ends with [`Store::commit`], which applies
//! the final batch (carrying the new committed head) and then syncs the
//! engine; only then does the command report success.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::codec;
use crate::error::{Error, Result};
use crate::event::{Event, Hash, GENESIS};
use crate::index::{self, TargetState, Version};
use crate::model::Fact;
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
    /// should hear about (such as rebuilding derived indexes of an older layout).
    pub on_notice: Option<fn(&str)>,
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

/// An open ledger's storage. Holds the engine (and with it, for sled, the
/// inter-process lock) for as long as it lives.
pub(crate) struct Store {
    engine: Box<dyn Engine>,
    path: PathBuf,
    /// Held by the one [`crate::writer::Writer`] in progress.
    writer: Mutex<()>,
}

const META_REBUILDING: &[u8] = b"Mrebuilding";

impl Store {
    /// Opens (or, with `create`, creates) the ledger at `path`, waiting for
    /// another process to release it, and finishes or discards any write a
    /// crash interrupted, so that what is visible is always a committed state.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Store> {
        let engine = SledEngine::open(&SledOptions {
            create: opts.create,
            wait: opts.wait,
            on_wait: opts.on_wait,
            notice_after: opts.notice_after,
            cache_bytes: opts.cache_bytes,
            path,
        })?;
        Store::with_engine(Box::new(engine), path, opts.on_notice)
    }

    /// Opens the ledger held by `engine`; `path` names it in messages.
    pub(crate) fn with_engine(
        engine: Box<dyn Engine>,
        path: &Path,
        on_notice: Option<fn(&str)>,
    ) -> Result<Store> {
        let store = Store {
            engine,
            path: path.to_owned(),
            writer: Mutex::new(()),
        };
        let stale_layout = store.check_format()?;
        store.recover()?;
        if let Some(old) = stale_layout {
            store.rebuild_indexes(&mut |_| {})?;
            store.set_layout()?;
            if let Some(f) = on_notice {
                f(&format!(
                    "rebuilt the derived indexes of {} (layout {old} -> {})",
                    path.display(),
                    index::LAYOUT_VERSION
                ));
            }
        }
        Ok(store)
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        &self.path
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
    /// and returns the derived layout version if it is not this code's: the
    /// indexes are then rebuilt from the log, never refused, since derived
    /// state is disposable. A ledger without a layout record was written by a
    /// release before the two versions were separate, whose layout was 1.
    fn check_format(&self) -> Result<Option<u8>> {
        match self.engine.get(index::META_FORMAT)? {
            Some(v) if v.as_slice() == [index::LOG_FORMAT] => {}
            Some(v) => return Err(Error::UnsupportedFormat(v, index::LOG_FORMAT)),
            None if self.engine.is_empty()? => {
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

    fn set_layout(&self) -> Result<()> {
        let mut b = Batch::default();
        b.insert(index::META_LAYOUT, &[index::LAYOUT_VERSION]);
        self.engine.apply(b)?;
        self.durable_flush()
    }

    /// Discards log records past the committed head (an import cut short)
    /// and redoes a rebuild that was cut short.
    fn recover(&self) -> Result<()> {
        let head = self.head()?;
        let last = self.last_log_seq()?;
        if last > head.seq {
            self.discard_after(head.seq)?;
            self.durable_flush()?;
        }
        if self.engine.get(META_REBUILDING)?.is_some() {
            self.rebuild_indexes(&mut |_| {})?;
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

    /// The highest seq in the log tree, committed or not.
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

    /// The event at `seq`, which an index says exists.
    pub fn event_indexed(&self, seq: u64) -> Result<Event> {
        self.event(seq)?.ok_or_else(|| Error::Corrupt {
            seq,
            message: "an index refers to this seq but the log has no such record".into(),
        })
    }

    /// The seq of the event with this id.
    pub fn seq_of(&self, id: &Uuid) -> Result<Option<u64>> {
        match self.engine.get(&index::id_key(id))? {
            None => Ok(None),
            Some(v) => Ok(Some(u64::from_be_bytes(v.as_slice().try_into().map_err(
                |_| Error::Corrupt {
                    seq: 0,
                    message: format!("malformed id index entry for {id}"),
                },
            )?))),
        }
    }

    /// Log records from `from_seq` on, decoded, in seq order; stops at the
    /// committed head.
    pub fn events_from(&self, from_seq: u64) -> Result<impl Iterator<Item = Result<Event>> + '_> {
        let head = self.head()?.seq;
        let from = from_seq.max(1);
        // An empty range (nothing committed at or after `from`) must not reach
        // sled as lo > hi.
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

    /// Raw key-value pairs under a prefix, in key order.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<Entry>> + '_ {
        self.engine
            .scan_prefix(prefix)
            .map(|kv| kv.map_err(Error::from))
    }

    /// The raw value under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.engine.get(key)?)
    }

    /// Raw key-value pairs in `lo..=hi`, in key order.
    pub fn range(
        &self,
        lo: &[u8],
        hi: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<Entry>> + '_ {
        self.engine.range(lo, hi).map(|kv| kv.map_err(Error::from))
    }

    /// The seqs of the edits of statement `stmt_seq` up to `upto`, in order.
    pub fn edits(&self, stmt_seq: u64, upto: u64) -> Result<Vec<u64>> {
        let lo = index::edit_key(stmt_seq, 0);
        let hi = index::edit_key(stmt_seq, upto);
        self.range(&lo, &hi)
            .map(|kv| {
                let (k, _) = kv?;
                index::time_or_edit_seq(&k).ok_or_else(|| Error::Corrupt {
                    seq: stmt_seq,
                    message: "malformed edit index key".into(),
                })
            })
            .collect()
    }

    /// The state of the statement at `seq` after its edits up to `upto`.
    pub fn target_state(&self, seq: u64, upto: u64) -> Result<TargetState> {
        let event = self.event_indexed(seq)?;
        let Fact::StatementRecorded(s) = &event.payload else {
            return Err(Error::Corrupt {
                seq,
                message: "an edit targets this event but it is not a statement".into(),
            });
        };
        let mut state = TargetState {
            seq,
            actor: s.actor.clone(),
            issue: s.issue.clone(),
            stated_on: s.stated_on,
            retracted: false,
        };
        for e in self.edits(seq, upto)? {
            state = state.after(&self.event_indexed(e)?.payload);
        }
        Ok(state)
    }

    /// The highest committed seq recorded at or before `t` (0 if none).
    pub fn known_seq(&self, t: &DateTime<Utc>) -> Result<u64> {
        let lo = [index::TIME];
        let hi = index::time_key_upto(t);
        let head = self.head()?.seq;
        match self.range(&lo, &hi).next_back() {
            None => Ok(0),
            Some(kv) => {
                let (k, _) = kv?;
                let seq = index::time_or_edit_seq(&k).ok_or_else(|| Error::Corrupt {
                    seq: 0,
                    message: "malformed time index key".into(),
                })?;
                Ok(seq.min(head))
            }
        }
    }

    /// Every version entry under a prefix of the version keyspace.
    pub fn versions(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Version>> + '_ {
        self.scan_prefix(prefix).map(|kv| {
            let (k, v) = kv?;
            index::parse_version(&k, &v).ok_or_else(|| Error::Corrupt {
                seq: 0,
                message: format!("malformed version index key {k:?}"),
            })
        })
    }

    /// Applies a batch atomically, without committing a new head: the writes
    /// stay invisible to readers of a reopened ledger until a commit.
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

    /// Removes every log record after `committed`, with the index entries it
    /// derived, newest first. Used after a failed or interrupted write.
    pub fn discard_after(&self, committed: u64) -> Result<()> {
        let last = self.last_log_seq()?;
        let mut batch = WriteBatch::default();
        for seq in (committed + 1..=last).rev() {
            let Some(event) = self.event(seq)? else {
                continue;
            };
            let target = match event.payload.target() {
                None => None,
                Some(id) => match self.seq_of(&id)? {
                    Some(t) if t < seq => Some(self.target_state(t, seq - 1)?),
                    _ => None,
                },
            };
            if event.payload.target().is_none() || target.is_some() {
                for (k, _) in index::derived_entries(&event, target.as_ref()) {
                    batch.remove(&k);
                }
            } else {
                batch.remove(&index::id_key(&event.id));
            }
            // A time entry, if a restore wrote one for this seq before failing.
            batch.remove(&index::time_key(&event.recorded_at, seq));
            batch.remove(&index::log_key(seq));
            // Apply newest-first, one group at a time: each group removes whole
            // events, so an interruption leaves a shorter uncommitted tail.
            // Small groups: sled 0.34 holds on to memory per removal until
            // the batch is done (4096 per group peaked at 1.06 GB discarding
            // a failed 1M-event import, 256 at 447 MB, at the same speed).
            if batch.len() > 256 {
                self.apply(std::mem::take(&mut batch))?;
            }
        }
        self.apply(batch)
    }

    /// Drops every derived index entry and regenerates them from the log.
    /// Crash-safe: a marker makes the next open redo an interrupted rebuild.
    pub fn rebuild_indexes(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        // The writers' turn: no append may interleave with the rebuild.
        let _turn = self.writer_turn();
        if self.engine.get(META_REBUILDING)?.is_none() {
            // Replay the log before dropping anything: a rebuild that cannot
            // finish (an undecodable record) must not leave a marker that
            // makes every later open fail, export and head included.
            let mut check = crate::replay::Replay::default();
            for event in self.events_from(1)? {
                let event = event?;
                check
                    .step(&event, |seq| self.event_indexed(seq))
                    .map_err(|message| Error::Corrupt {
                        seq: event.seq,
                        message,
                    })?;
            }
        }
        let mut marker = WriteBatch::default();
        marker.insert(META_REBUILDING, &[1]);
        self.apply(marker)?;
        for prefix in index::DERIVED {
            let mut batch = WriteBatch::default();
            for kv in self.scan_prefix(&[prefix]) {
                batch.remove(&kv?.0);
                if batch.len() >= 8192 {
                    self.apply(std::mem::take(&mut batch))?;
                }
            }
            self.apply(batch)?;
        }
        let mut replay = crate::replay::Replay::default();
        let mut batch = WriteBatch::default();
        let mut n = 0;
        for event in self.events_from(1)? {
            let event = event?;
            let entries =
                replay
                    .step(&event, |seq| self.event_indexed(seq))
                    .map_err(|message| Error::Corrupt {
                        seq: event.seq,
                        message,
                    })?;
            for (k, v) in entries {
                batch.insert(&k, &v);
            }
            n += 1;
            if batch.len() >= 8192 {
                self.apply(std::mem::take(&mut batch))?;
                progress(n);
            }
        }
        if let Some((k, v)) = replay.finish() {
            batch.insert(&k, &v);
        }
        batch.remove(META_REBUILDING);
        self.apply(batch)?;
        self.durable_flush()?;
        Ok(n)
    }
}

fn decode_at(seq: u64, bytes: &[u8]) -> Result<Event> {
    codec::decode(bytes).map_err(|e| Error::Corrupt {
        seq,
        message: e.to_string(),
    })
}
