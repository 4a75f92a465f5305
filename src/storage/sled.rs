//! The embedded engine: one sled tree in the ledger directory. The only
//! module that names sled, so its workarounds live here and nowhere else:
//! the inter-process lock and sled's lingering file lock, torn snapshots,
//! the reopen after a bulk write, and the fsyncs sled's own flush omits;
//! and its settings ([`config`]: zstd compression for a new ledger, the
//! stored setting for an existing one).
//!
//! Durability: sled 0.34's `flush` uses `sync_file_range`, which reaches
//! neither the drive's cache nor the file's metadata, so [`Engine::sync`]
//! also `fsync`s `db` (and, once, `conf`, the directory and its parent for a
//! new ledger). docs/DURABILITY.md has the details.

use std::fs::{File, OpenOptions as FsOpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Batch, Engine, Entries, Entry, StorageError};
use crate::error::{Error, Result};

/// What the sled engine needs to know to open a ledger directory.
pub(crate) struct SledOptions<'a> {
    /// Create the directory and database if missing.
    pub(crate) create: bool,
    /// How long to wait for another process to release the ledger.
    pub(crate) wait: Duration,
    /// Called once if the ledger is still busy after `notice_after`.
    pub(crate) on_wait: Option<fn(&Path)>,
    /// How long to wait quietly before calling `on_wait`.
    pub(crate) notice_after: Duration,
    /// sled's page cache, in bytes.
    pub(crate) cache_bytes: u64,
    /// Called with a one-line notice when opening repairs something.
    pub(crate) on_notice: Option<fn(&str)>,
    /// The directory.
    pub(crate) path: &'a Path,
}

/// Index and log entries written through one engine after which closing it
/// also reopens and closes sled once (see [`Reopen`]): about 50,000 events.
pub const REOPEN_AFTER_WRITES: u64 = 200_000;

const LOCK_FILE: &str = "stancelog.lock";

/// Whether a sled database exists at `path`.
pub(crate) fn exists(path: &Path) -> bool {
    path.join("conf").is_file() && path.join("db").is_file()
}

/// Whether `path` holds a sled database that is not obviously gone: `db`
/// present and not empty. A cheap check for readers, which never open it.
pub(crate) fn looks_intact(path: &Path) -> bool {
    exists(path) && path.join("db").metadata().is_ok_and(|m| m.len() > 0)
}

/// The files of a sled database in `path`, for moving a damaged one aside.
pub(crate) fn files(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "conf" || name == "db" || name == "blobs" || name.starts_with("snap.") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The zstd level of a compressed ledger (sled's `compression_factor`).
///
/// 1, zstd's fastest: the level hardly changes the size, and it is most of
/// the write time. Measured by copying the log of a bench ledger (320,100
/// records, 111 MB of keys and values) into a new sled database in batches
/// of 256, flushed and fsynced, six rounds per level on the 2-core bench
/// machine (load 3-4 from other builds): uncompressed 1.79x the bytes,
/// about 3 s; level 1 1.085x, 12.1 s (median); 2 1.075x, 13.5 s; 3 1.067x,
/// 15.2 s; 4 1.064x, 16.2 s; 5 1.063x, 17.2 s. Level 5 saves 2% of the
/// disk for 40% more write time. A scan of the log took 0.36 s
/// uncompressed and 1.5-1.8 s at every level (decompression).
pub const COMPRESSION_FACTOR: i32 = 1;

/// The sled configuration of the database in `path`: the one place the
/// engine's settings are chosen, used by every open of a ledger (and by
/// the bench's raw-sled floors, through `internals`). The caller adds the
/// cache size.
///
/// A new database gets sled's zstd compression (the log took about 1.8x
/// its encoded bytes uncompressed, 1.1x compressed); an existing one is
/// opened with the setting it was created with, which sled persists in
/// `conf` and refuses to open with a different one. See
/// [`compression_for`].
pub fn config(path: &Path) -> sled::Config {
    let conf = std::fs::read(path.join("conf")).ok();
    let compressed = compression_for(conf.as_deref());
    let c = sled::Config::new().path(path).use_compression(compressed);
    if compressed {
        c.compression_factor(COMPRESSION_FACTOR)
    } else {
        c
    }
}

/// Whether to open a sled database with compression, given its `conf`
/// file's bytes (`None`: no `conf`, or one that cannot be read).
///
/// sled 0.34.7 keeps `segment_size: N`, `use_compression: true|false` and
/// `version: 0.34` lines there, then a CRC-32 of them in 4 bytes. Read as
/// sled reads it (`Config::read_config`): a file of 8 bytes or less counts
/// as none, a wrong CRC is only warned about, each line is `key: value`.
///
/// - no `conf` (a new database, which sled creates with this setting): on;
/// - `use_compression: false` (every ledger created before compression):
///   off; `use_compression: true`: on;
/// - a `conf` that says neither (garbled, not UTF-8, no such line) or that
///   cannot be read: on, without guessing what it said. sled fails to
///   parse such a file whatever the setting (and fails to read one it
///   cannot open), so the error the user sees is sled's own about `conf`,
///   never a compression mismatch made up here.
///
/// A `db` whose `conf` was deleted (the CLI calls that directory "not a
/// stancelog ledger" and does not open it) would be opened as a new
/// database; if it was created uncompressed, sled then fails on its data:
/// an error, caught by [`guard`] if sled panics, as for any other damage.
fn compression_for(conf: Option<&[u8]>) -> bool {
    const NEW: bool = true;
    let Some(bytes) = conf.filter(|b| b.len() > 8) else {
        return NEW;
    };
    let text = &bytes[..bytes.len() - 4];
    let mut said = None;
    for line in text.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            return NEW;
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut kv = line.split(": ");
        if kv.next() == Some("use_compression") {
            // sled keeps the last value of a repeated key.
            said = kv.next().and_then(|v| v.parse::<bool>().ok());
        }
    }
    said.unwrap_or(NEW)
}

/// A ledger directory opened with sled. Holds the inter-process lock for as
/// long as it lives.
pub(crate) struct SledEngine {
    db: sled::Db,
    path: PathBuf,
    /// Whether `conf` and the directory entry still need an fsync (a ledger
    /// created by this open); afterwards only `db` changes.
    meta_unsynced: AtomicBool,
    // Declared after `db` so that it drops after it: see [`Reopen`].
    reopen: Reopen,
    _lock: File,
}

impl SledEngine {
    /// Opens (or creates) the sled database at `opts.path`, waiting for
    /// another process to release it.
    pub(crate) fn open(opts: &SledOptions<'_>) -> Result<SledEngine> {
        let path = opts.path;
        let existed = exists(path);
        if !opts.create && !existed {
            return Err(Error::NoLedger(path.to_owned()));
        }
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        let mut wait = Wait::new(path, opts);
        let lock = acquire_lock(path, &mut wait)?;
        let db = match open_sled(path, opts.cache_bytes, &mut wait) {
            Err(e @ Error::Storage(_)) if looks_intact(path) => {
                // A damaged snapshot only speeds opening up (the data is in
                // `db`): move the snapshots aside and try once more. (An
                // empty `db` is the damage itself; its snapshot is kept.)
                let moved = move_snapshots_aside(path)?;
                if moved.is_empty() {
                    return Err(e);
                }
                let db = open_sled(path, opts.cache_bytes, &mut wait)?;
                if let Some(f) = opts.on_notice {
                    f(&format!(
                        "moved aside a snapshot of {} that sled could not read ({}); opened from its log",
                        path.display(),
                        moved.join(", ")
                    ));
                }
                db
            }
            other => other?,
        };
        Ok(SledEngine {
            db,
            path: path.to_owned(),
            meta_unsynced: AtomicBool::new(!existed),
            reopen: Reopen {
                path: path.to_owned(),
                cache_bytes: opts.cache_bytes,
                written: AtomicU64::new(0),
            },
            _lock: lock,
        })
    }
}

/// sled's error as one plain sentence (its own text carries a Debug dump
/// of a disk pointer and an empty backtrace).
fn storage(e: sled::Error) -> StorageError {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            StorageError::disk_full()
        }
        sled::Error::Io(io) => StorageError::with_source("", io),
        sled::Error::Corruption { .. } => {
            StorageError::msg("sled read corrupted data in the ledger's files")
        }
        other => StorageError::with_source("", other),
    }
}

/// Runs `f`, turning a panic inside sled into an error: sled 0.34 panics
/// on some damaged files (a truncated `db`, a damaged `conf`, missing blob
/// files) instead of failing, and a panic must not be how damage is told.
fn guard<T>(f: impl FnOnce() -> Result<T, StorageError>) -> Result<T, StorageError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            Err(StorageError::msg(format!(
                "sled failed on damaged files ({})",
                what.lines().next().unwrap_or("")
            )))
        }
    }
}

type Raw = sled::Result<(sled::IVec, sled::IVec)>;

/// An iterator whose every step is [`guard`]ed.
struct Guarded<I>(I);

fn owned(kv: Option<Raw>) -> Option<Result<Entry, StorageError>> {
    kv.map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(storage))
}

impl<I: Iterator<Item = Raw>> Iterator for Guarded<I> {
    type Item = Result<Entry, StorageError>;
    fn next(&mut self) -> Option<Self::Item> {
        let inner = &mut self.0;
        guard(|| Ok(owned(inner.next()))).unwrap_or_else(|e| Some(Err(e)))
    }
}

impl<I: DoubleEndedIterator<Item = Raw>> DoubleEndedIterator for Guarded<I> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let inner = &mut self.0;
        guard(|| Ok(owned(inner.next_back()))).unwrap_or_else(|e| Some(Err(e)))
    }
}

fn entries<'a>(iter: impl DoubleEndedIterator<Item = Raw> + 'a) -> Entries<'a> {
    Box::new(Guarded(iter))
}

impl Engine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        guard(|| Ok(self.db.get(key).map_err(storage)?.map(|v| v.to_vec())))
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Entries<'_> {
        if lo > hi {
            // sled panics on a range whose start is past its end.
            return Box::new(std::iter::empty());
        }
        entries(self.db.range(lo.to_vec()..=hi.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_> {
        entries(self.db.scan_prefix(prefix))
    }

    fn apply(&self, batch: Batch) -> Result<(), StorageError> {
        self.reopen
            .written
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        guard(|| self.db.apply_batch(b).map_err(storage))
    }

    /// Flushes sled and fsyncs its files, so that a reported success survives
    /// a power loss. Only `db` changes after creation, so `conf` and the
    /// directory are synced once, by the first sync of a new ledger.
    fn sync(&self) -> Result<(), StorageError> {
        guard(|| self.db.flush().map_err(storage).map(drop))?;
        let meta = self.meta_unsynced.load(Ordering::Acquire);
        let names: &[&str] = if meta { &["db", "conf"] } else { &["db"] };
        for name in names {
            let p = self.path.join(name);
            let f = File::open(&p).map_err(|e| {
                StorageError::with_source(format!("cannot open {}", p.display()), e)
            })?;
            f.sync_all().map_err(|e| {
                StorageError::with_source(format!("cannot sync {}", p.display()), e)
            })?;
        }
        // sled keeps nodes larger than a quarter of a segment in blobs/N
        // and syncs neither those files nor their directory.
        let blobs = self.path.join("blobs");
        if let Ok(entries) = std::fs::read_dir(&blobs) {
            for e in entries.flatten() {
                let f = File::open(e.path()).map_err(|err| {
                    StorageError::with_source(format!("cannot open {}", e.path().display()), err)
                })?;
                f.sync_all().map_err(|err| {
                    StorageError::with_source(format!("cannot sync {}", e.path().display()), err)
                })?;
            }
            if let Ok(dir) = File::open(&blobs) {
                let _ = dir.sync_all();
            }
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

    fn is_empty(&self) -> Result<bool, StorageError> {
        guard(|| Ok(self.db.is_empty()))
    }
}

/// After a large write, a close-and-reopen of sled when the engine drops.
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

/// Waiting for the ledger: one budget (`opts.wait`) and one notice
/// (`opts.on_wait`, after `opts.notice_after`) shared by both locks.
struct Wait<'a> {
    path: &'a Path,
    opts: &'a SledOptions<'a>,
    start: Instant,
    noticed: bool,
}

impl<'a> Wait<'a> {
    fn new(path: &'a Path, opts: &'a SledOptions<'a>) -> Self {
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

/// Renames every `snap.*` file of `path` to `unreadable-snap.*` (sled
/// reads any file whose name starts with `snap.`); returns their names.
fn move_snapshots_aside(path: &Path) -> Result<Vec<String>> {
    let mut moved = Vec::new();
    for f in files(path) {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("snap.") {
            let to = f.with_file_name(format!("unreadable-{name}"));
            std::fs::rename(&f, &to)
                .map_err(|e| Error::io(format!("cannot move {} aside", f.display()), e))?;
            moved.push(name);
        }
    }
    Ok(moved)
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
fn open_sled(path: &Path, cache_bytes: u64, wait: &mut Wait<'_>) -> Result<sled::Db> {
    loop {
        match try_open_sled(path, cache_bytes)? {
            Some(db) => return Ok(db),
            None => wait.busy()?,
        }
    }
}

/// Opens sled once, the only place this module does: first removes any torn
/// snapshot ([`remove_torn_snapshots`]; the caller holds the ledger lock),
/// then `None` while another process's sled still holds its lock on `db`.
fn try_open_sled(path: &Path, cache_bytes: u64) -> Result<Option<sled::Db>> {
    remove_torn_snapshots(path)?;
    let opened = guard(|| Ok(config(path).cache_capacity(cache_bytes).open()))?;
    match opened {
        Err(sled::Error::Io(e)) if e.to_string().starts_with("could not acquire lock") => Ok(None),
        Err(e) => Err(Error::Storage(storage(e))),
        Ok(db) => Ok(Some(db)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `conf` as sled 0.34.7 writes it: three lines, then their CRC-32
    /// (left zero here: sled only warns about a wrong one).
    fn conf(compression: &str) -> Vec<u8> {
        let mut c =
            format!("segment_size: 524288\nuse_compression: {compression}\nversion: 0.34\n")
                .into_bytes();
        c.extend_from_slice(&[0; 4]);
        c
    }

    /// `try_open_sled` until sled's lingering lock on `db` is gone.
    fn open(path: &Path) -> Result<sled::Db> {
        for _ in 0..500 {
            if let Some(db) = try_open_sled(path, 1 << 20)? {
                return Ok(db);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("sled's lock on {} was never released", path.display());
    }

    #[test]
    fn a_new_database_is_compressed() {
        assert!(compression_for(None));
    }

    #[test]
    fn an_existing_database_keeps_the_setting_its_conf_holds() {
        assert!(!compression_for(Some(&conf("false"))));
        assert!(compression_for(Some(&conf("true"))));
        // The golden ledger's own `conf`, written by sled before this.
        let golden = include_bytes!("../../fixtures/golden/ledger-v0/ledger/conf");
        assert!(!compression_for(Some(golden)));
        // Read as sled reads it: CRLF line ends, the last of a repeated key.
        let crlf = conf("false\r");
        assert!(!compression_for(Some(&crlf)));
        let mut twice = b"use_compression: true\n".to_vec();
        twice.extend_from_slice(&conf("false"));
        assert!(!compression_for(Some(&twice)));
    }

    #[test]
    fn a_conf_that_says_nothing_readable_gets_the_default_not_a_guess() {
        // sled counts a `conf` of 8 bytes or less as none, and rewrites it.
        assert!(compression_for(Some(b"")));
        assert!(compression_for(Some(b"use_com\0")));
        // Garbled (the damage of tests/it/damage.rs), not a boolean, no line.
        assert!(compression_for(Some(&[0xA5; 62])));
        assert!(compression_for(Some(&conf("maybe"))));
        assert!(compression_for(Some(
            b"segment_size: 524288\nversion: 0.34\n\0\0\0\0"
        )));
    }

    #[test]
    fn sled_writes_and_keeps_the_setting_chosen() {
        let new = tempfile::tempdir().unwrap();
        drop(open(new.path()).unwrap());
        let written = std::fs::read(new.path().join("conf")).unwrap();
        assert!(String::from_utf8_lossy(&written).contains("use_compression: true\n"));
        assert!(compression_for(Some(&written)));

        // An uncompressed database opens as it is and stays uncompressed.
        let old = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(old.path()).open().unwrap();
            db.insert(b"k", b"v").unwrap();
            db.flush().unwrap();
        }
        let db = open(old.path()).unwrap();
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
        db.insert(b"k2", b"v2").unwrap();
        db.flush().unwrap();
        drop(db);
        let kept = std::fs::read(old.path().join("conf")).unwrap();
        let kept = String::from_utf8_lossy(&kept);
        assert!(kept.contains("use_compression: false\n"), "{kept}");
    }

    #[test]
    fn a_garbled_conf_fails_with_sleds_own_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            db.insert(b"k", b"v").unwrap();
            db.flush().unwrap();
        }
        std::fs::write(dir.path().join("conf"), [0xA5u8; 62]).unwrap();
        let err = (0..500)
            .find_map(|_| match try_open_sled(dir.path(), 1 << 20) {
                Ok(None) => {
                    std::thread::sleep(Duration::from_millis(10));
                    None
                }
                Ok(Some(_)) => panic!("a garbled conf opened"),
                Err(e) => Some(e.to_string()),
            })
            .expect("sled's lock released");
        assert!(!err.contains("compression"), "{err}");
        assert!(err.contains("sled version"), "{err}");
    }
}
