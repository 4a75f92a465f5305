//! The only user of sled: opening a ledger (with a lock that other processes
//! wait on), the atomic write of an event with its index entries, durable
//! flushing, and recovery of a write that a crash cut short.
//!
//! Durability: every write command ends with [`Store::commit`], which applies
//! the final batch (carrying the new committed head), calls sled's `flush`
//! and then `fsync`s the database file and directory, because sled 0.34's
//! flush uses `sync_file_range`, which does not reach the drive's cache or
//! the file's metadata. Only then does the command report success.

use std::fs::{File, OpenOptions as FsOpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::codec;
use crate::error::{Error, Result};
use crate::event::{Event, Hash, GENESIS};
use crate::index::{self, TargetState, Version};
use crate::model::Payload;

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

    fn encode(&self) -> Vec<u8> {
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
#[derive(Default)]
pub struct WriteBatch {
    inner: sled::Batch,
    len: usize,
}

impl WriteBatch {
    /// Adds an insert.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.inner.insert(key, value);
        self.len += 1;
    }
    /// Adds a removal.
    pub fn remove(&mut self, key: &[u8]) {
        self.inner.remove(key);
        self.len += 1;
    }
    /// How many writes it holds.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A raw key-value pair from the tree.
pub type Entry = (sled::IVec, sled::IVec);

/// An open ledger. Holds the inter-process lock for as long as it lives.
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// Whether `conf` and the directory entry still need an fsync (a ledger
    /// created by this open); afterwards only `db` changes.
    meta_unsynced: AtomicBool,
    // Declared after `db` so that it drops after it: see [`Reopen`].
    reopen: Reopen,
    _lock: File,
}

/// Index and log entries written through one [`Store`] after which closing it
/// also reopens and closes sled once (see `Reopen`): about 50,000 events.
pub const REOPEN_AFTER_WRITES: u64 = 200_000;

/// After a large write, a close-and-reopen of sled when the [`Store`] drops.
///
/// sled 0.34 writes its page-table snapshot only while recovering at open,
/// so the first open after a bulk import replays everything the import
/// logged (about 0.6 s per million events); every later open is fast again.
/// Reopening once in the importing process, after `db` has been closed and
/// while the ledger lock is still held, moves that cost out of the user's
/// next command. Best effort: durability never depends on it.
struct Reopen {
    path: PathBuf,
    cache_bytes: u64,
    written: AtomicU64,
}

impl Drop for Reopen {
    fn drop(&mut self) {
        if *self.written.get_mut() < REOPEN_AFTER_WRITES {
            return;
        }
        // sled's own `flock` on `db` lingers a moment after its `Db` drops
        // (see `open_sled`): retry briefly, then give up quietly.
        for _ in 0..100 {
            match try_open_sled(&self.path, self.cache_bytes) {
                Ok(Some(db)) => {
                    drop(db);
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return,
            }
        }
    }
}

const LOCK_FILE: &str = "stancelog.lock";
const META_REBUILDING: &[u8] = b"Mrebuilding";

/// Whether a sled database exists at `path`.
pub fn exists(path: &Path) -> bool {
    path.join("conf").is_file() && path.join("db").is_file()
}

impl Store {
    /// Opens (or, with `create`, creates) the ledger at `path`, waiting for
    /// another process to release it, and finishes or discards any write a
    /// crash interrupted, so that what is visible is always a committed state.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Store> {
        let existed = exists(path);
        if !opts.create && !existed {
            return Err(Error::NoLedger(path.to_owned()));
        }
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        let mut wait = Wait::new(path, opts);
        let lock = acquire_lock(path, &mut wait)?;
        let db = open_sled(path, opts, &mut wait)?;
        let store = Store {
            db,
            path: path.to_owned(),
            meta_unsynced: AtomicBool::new(!existed),
            reopen: Reopen {
                path: path.to_owned(),
                cache_bytes: opts.cache_bytes,
                written: AtomicU64::new(0),
            },
            _lock: lock,
        };
        store.check_format()?;
        store.recover()?;
        Ok(store)
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_format(&self) -> Result<()> {
        match self.db.get(index::META_FORMAT)? {
            Some(v) if v.as_ref() == [index::LAYOUT_VERSION] => Ok(()),
            Some(v) => Err(Error::invalid(format!(
                "ledger layout version {:?} is not supported by this stancelog (expects {})",
                v.as_ref(),
                index::LAYOUT_VERSION
            ))),
            None if self.db.is_empty() => {
                self.db
                    .insert(index::META_FORMAT, &[index::LAYOUT_VERSION])?;
                Ok(())
            }
            None => Err(Error::invalid(format!(
                "{} is not a stancelog ledger",
                self.path.display()
            ))),
        }
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
        if self.db.contains_key(META_REBUILDING)? {
            self.rebuild_indexes(&mut |_| {})?;
        }
        Ok(())
    }

    /// The committed head.
    pub fn head(&self) -> Result<Head> {
        match self.db.get(index::META_HEAD)? {
            None => Ok(Head::empty()),
            Some(v) => Head::decode(&v).ok_or_else(|| Error::Corrupt {
                seq: 0,
                message: "unreadable head record".into(),
            }),
        }
    }

    /// The highest seq in the log tree, committed or not.
    pub fn last_log_seq(&self) -> Result<u64> {
        match self.db.scan_prefix([index::LOG]).next_back() {
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
        match self.db.get(index::log_key(seq))? {
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
        match self.db.get(index::id_key(id))? {
            None => Ok(None),
            Some(v) => Ok(Some(u64::from_be_bytes(v.as_ref().try_into().map_err(
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
        let range =
            (from <= head).then(|| self.db.range(index::log_key(from)..=index::log_key(head)));
        Ok(range.into_iter().flatten().map(|kv| {
            let (k, v) = kv?;
            let seq = index::log_key_seq(&k).unwrap_or(0);
            decode_at(seq, &v)
        }))
    }

    /// Raw key-value pairs under a prefix, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl DoubleEndedIterator<Item = Result<Entry>> {
        self.db
            .scan_prefix(prefix)
            .map(|kv| kv.map_err(Error::from))
    }

    /// Raw key-value pairs in `lo..=hi`, in key order.
    pub fn range(&self, lo: &[u8], hi: &[u8]) -> impl DoubleEndedIterator<Item = Result<Entry>> {
        self.db.range(lo..=hi).map(|kv| kv.map_err(Error::from))
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
        let Payload::Statement(s) = &event.payload else {
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
        self.reopen
            .written
            .fetch_add(batch.len as u64, Ordering::Relaxed);
        self.db.apply_batch(batch.inner)?;
        Ok(())
    }

    /// Applies the last batch of a write together with its new head, then
    /// makes it durable.
    pub fn commit(&self, mut batch: WriteBatch, head: &Head) -> Result<()> {
        batch.insert(index::META_HEAD, &head.encode());
        self.apply(batch)?;
        self.durable_flush()
    }

    /// Flushes sled and fsyncs its files, so that a reported success survives
    /// a power loss. Only `db` changes after creation, so `conf` and the
    /// directory are synced once, by the first flush of a new ledger.
    pub fn durable_flush(&self) -> Result<()> {
        self.db.flush()?;
        let meta = self.meta_unsynced.load(Ordering::Acquire);
        let names: &[&str] = if meta { &["db", "conf"] } else { &["db"] };
        for name in names {
            let p = self.path.join(name);
            let f =
                File::open(&p).map_err(|e| Error::io(format!("cannot open {}", p.display()), e))?;
            f.sync_all()
                .map_err(|e| Error::io(format!("cannot sync {}", p.display()), e))?;
        }
        if meta {
            if let Ok(dir) = File::open(&self.path) {
                let _ = dir.sync_all();
            }
            // A new ledger's own directory entry lives in its parent: without
            // this, a power loss could drop the whole new ledger directory.
            let parent = match self.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if let Ok(parent) = File::open(parent) {
                let _ = parent.sync_all();
            }
            self.meta_unsynced.store(false, Ordering::Release);
        }
        Ok(())
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
        if !self.db.contains_key(META_REBUILDING)? {
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
        self.db.insert(META_REBUILDING, &[1])?;
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

    /// Counts the entries under a prefix.
    pub fn count_prefix(&self, prefix: &[u8]) -> Result<u64> {
        let mut n = 0;
        for kv in self.scan_prefix(prefix) {
            kv?;
            n += 1;
        }
        Ok(n)
    }

    /// Direct access to the tree, for tests that tamper with storage and for
    /// benchmarks. Writing through it bypasses every rule and the hash chain.
    #[doc(hidden)]
    pub fn raw(&self) -> &sled::Db {
        &self.db
    }
}

fn decode_at(seq: u64, bytes: &[u8]) -> Result<Event> {
    codec::decode(bytes).map_err(|e| Error::Corrupt {
        seq,
        message: e.to_string(),
    })
}

/// Waiting for the ledger: one budget (`opts.wait`) and one notice
/// (`opts.on_wait`, after `opts.notice_after`) shared by both locks.
struct Wait<'a> {
    path: &'a Path,
    opts: &'a OpenOptions,
    start: Instant,
    noticed: bool,
}

impl<'a> Wait<'a> {
    fn new(path: &'a Path, opts: &'a OpenOptions) -> Self {
        Wait {
            path,
            opts,
            start: Instant::now(),
            noticed: false,
        }
    }

    /// Called when the ledger is busy: fails with [`Error::Busy`] once the
    /// budget is spent, else announces the wait (once) and sleeps a little.
    fn busy(&mut self) -> Result<()> {
        let waited = self.start.elapsed();
        if waited >= self.opts.wait {
            return Err(Error::Busy(self.path.to_owned(), self.opts.wait.as_secs()));
        }
        if !self.noticed && waited >= self.opts.notice_after {
            self.noticed = true;
            if let Some(f) = self.opts.on_wait {
                f(self.path);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        Ok(())
    }
}

/// Takes the ledger's inter-process lock, waiting up to `opts.wait`.
fn acquire_lock(path: &Path, wait: &mut Wait<'_>) -> Result<File> {
    let lock_path = path.join(LOCK_FILE);
    let file = FsOpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", lock_path.display()), e))
            }
        }
        wait.busy()?;
    }
}

/// Removes the snapshot files a killed sled process left half-written.
///
/// sled 0.34.7 writes its page-table snapshot (at every open that recovers)
/// to `snap.<lsn>.generating`, fsyncs it and renames it to `snap.<lsn>`. But
/// when it opens, it reads the newest file whose name starts with `snap.`,
/// `.generating` files included, and a torn one fails the open with "Read
/// corrupted data at file offset None" (sled issue #1527). A process killed
/// while writing a snapshot left the ledger unopenable that way (seen in
/// tests/it/crash.rs). A `.generating` file is never a finished snapshot (a
/// finished one has been renamed), and the caller holds the ledger's lock,
/// so no other process is writing one: removing it only makes sled fall
/// back to the previous snapshot and replay its log from there.
fn remove_torn_snapshots(path: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("cannot list {}", path.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot list {}", path.display()), e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let file = entry.path();
            std::fs::remove_file(&file)
                .map_err(|e| Error::io(format!("cannot remove {}", file.display()), e))?;
        }
    }
    Ok(())
}

/// Opens sled, waiting while a process that has just released the ledger's
/// lock still holds sled's own lock on the `db` file.
///
/// sled does not close its `db` file when the `Db` is dropped: its IO
/// threadpool and epoch-deferred frees keep `Arc`s to it for a while, so the
/// previous owner can release `stancelog.lock` a moment before the kernel
/// releases sled's `flock` on `db`. Without this wait, the next
/// command failed with sled's raw "could not acquire lock" IO error (seen in
/// tests/it/concurrency.rs, about one run in six).
fn open_sled(path: &Path, opts: &OpenOptions, wait: &mut Wait<'_>) -> Result<sled::Db> {
    loop {
        match try_open_sled(path, opts.cache_bytes)? {
            Some(db) => return Ok(db),
            None => wait.busy()?,
        }
    }
}

/// Opens sled once, the only place the store does: first removes any torn
/// snapshot ([`remove_torn_snapshots`]; the caller holds the ledger lock),
/// then `None` while another process's sled still holds its lock on `db`.
fn try_open_sled(path: &Path, cache_bytes: u64) -> Result<Option<sled::Db>> {
    remove_torn_snapshots(path)?;
    match sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .open()
    {
        Err(sled::Error::Io(e)) if e.to_string().starts_with("could not acquire lock") => Ok(None),
        other => Ok(Some(other?)),
    }
}
