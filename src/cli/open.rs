//! Where the ledger is and how each kind of command opens it: readers open
//! the read model alone, writers take the lock, and a first bulk write
//! builds the ledger in a staging directory moved into place on success.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};

use stancelog::{Ledger, OpenOptions};

use super::{text, Global};

pub fn ledger_path(global: &Global) -> Result<PathBuf> {
    match &global.ledger {
        Some(p) => expand_home(p),
        None => dirs::data_dir()
            .map(|d| d.join("stancelog").join("ledger"))
            .ok_or_else(|| {
                anyhow!("cannot find a data directory for the default ledger; pass --ledger PATH")
            }),
    }
}

/// A leading `~` (alone or before `/`) is the home directory, as a shell
/// would have it; a shell does not expand it in `STANCELOG_LEDGER="~/x"`.
fn expand_home(p: &Path) -> Result<PathBuf> {
    let rest = match p.to_str() {
        Some("~") => "",
        Some(s) if s.starts_with("~/") => s[2..].trim_start_matches('/'),
        _ => return Ok(p.to_owned()),
    };
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) if rest.is_empty() => Ok(PathBuf::from(home)),
        Some(home) => Ok(PathBuf::from(home).join(rest)),
        None => Err(anyhow!(
            "cannot expand ~ in the ledger path {}: HOME is not set; set HOME or give the full path",
            text::path(p)
        )),
    }
}

/// What the ledger path holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// Nothing: a ledger would be created there.
    Nothing,
    /// An empty directory: a ledger would be created in it.
    Empty,
    /// A ledger (its log, its read model or both).
    Ledger,
    /// A ledger another writer is creating right now (only its lock file).
    Creating,
}

/// The ledger path and what it holds, refusing, before any work, a path
/// that is not a directory and a directory that holds something other than
/// a ledger (never turning it into one).
fn ledger_at(global: &Global) -> Result<(PathBuf, Found)> {
    let path = ledger_path(global)?;
    let found = probe(&path)?;
    Ok((path, found))
}

fn probe(path: &Path) -> Result<Found> {
    let shown = text::path(path);
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot use {shown}"))),
    };
    let meta = if meta.file_type().is_symlink() {
        match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(anyhow!(
                    "{shown} is a dangling symbolic link (its target does not exist), not a ledger directory; pass a directory, or a path where none exists yet"
                ))
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot use {shown}"))),
        }
    } else {
        meta
    };
    if !meta.is_dir() {
        return Err(anyhow!(
            "{shown} is {}, not a ledger directory; pass a directory, or a path where none exists yet",
            describe(&meta.file_type())
        ));
    }
    // The lock file is the first thing a ledger being created gets: a
    // writer that is creating it right now has not written the rest yet.
    let log = path.join("conf").is_file() && path.join("db").is_file();
    if log || path.join(stancelog::READ_MODEL_FILE).is_file() {
        return Ok(Found::Ledger);
    }
    if path.join(LOCK_FILE).is_file() {
        return Ok(Found::Creating);
    }
    let mut entries = std::fs::read_dir(path).with_context(|| format!("cannot list {shown}"))?;
    if entries.next().is_some() {
        return Err(anyhow!(
            "{shown} is not a stancelog ledger (it holds other files); pass an empty or new directory"
        ));
    }
    Ok(Found::Empty)
}

/// What a path that is not a directory is, for a message.
fn describe(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if t.is_file() {
        "a file"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a directory"
    }
}

/// The ledger's inter-process lock file, inside its directory.
const LOCK_FILE: &str = "stancelog.lock";

/// Prefix of the staging directories of first bulk writes.
const STAGING_PREFIX: &str = ".stancelog-new-";

fn announce_created(path: &Path) {
    let _ = writeln!(io::stderr(), "created a new ledger at {}", text::path(path));
}

fn announce_wait(path: &Path) {
    let _ = writeln!(
        io::stderr(),
        "waiting for the ledger at {} (another stancelog process is using it)...",
        text::path(path)
    );
}

/// A one-line notice from opening the ledger (an index layout rebuilt).
fn announce_notice(message: &str) {
    let _ = writeln!(io::stderr(), "notice: {}", text::clean(message));
}

/// Opens the ledger for a command that only reads: the read model alone,
/// with no lock, so it never waits for a writer.
/// The PostgreSQL address `--ledger` (or `STANCELOG_LEDGER`) gives, if it
/// gives one rather than a directory.
pub fn postgres_url(global: &Global) -> Option<String> {
    let s = global.ledger.as_deref()?.to_str()?;
    stancelog::is_postgres_url(s).then(|| s.to_owned())
}

pub fn open_read(global: &Global) -> Result<Ledger> {
    if let Some(url) = postgres_url(global) {
        return Ok(Ledger::open_postgres_reader(
            &url,
            &open_options(global, false, false),
        )?);
    }
    let (path, _) = ledger_at(global)?;
    Ok(Ledger::open_reader(
        &path,
        &open_options(global, false, false),
    )?)
}

pub fn open(global: &Global, create: bool) -> Result<Ledger> {
    if let Some(url) = postgres_url(global) {
        return Ok(Ledger::open_postgres(
            &url,
            &open_options(global, create, false),
        )?);
    }
    let (path, found) = ledger_at(global)?;
    let ledger = Ledger::open(&path, &open_options(global, create, false))?;
    // Another writer racing to create it may have got there first: then it
    // holds events by the time this one holds the lock.
    if create && found != Found::Ledger && ledger.head()?.seq == 0 {
        announce_created(&path);
    }
    Ok(ledger)
}

/// Opens the ledger for `repair`, which alone may open a log that lost
/// events the read model witnessed.
pub fn open_for_repair(global: &Global) -> Result<Ledger> {
    if let Some(url) = postgres_url(global) {
        return Ok(Ledger::open_postgres(
            &url,
            &open_options(global, false, true),
        )?);
    }
    let (path, _) = ledger_at(global)?;
    let mut opts = open_options(global, false, true);
    opts.for_repair = true;
    Ok(Ledger::open(&path, &opts)?)
}

/// Opens the ledger for `rebuild`, which rewrites all of its read model.
pub fn open_for_rebuild(global: &Global) -> Result<Ledger> {
    if let Some(url) = postgres_url(global) {
        return Ok(Ledger::open_postgres(
            &url,
            &open_options(global, false, true),
        )?);
    }
    open_bulk(global, &ledger_at(global)?.0, false)
}

/// Opens the ledger for a command that writes or rewrites all of it.
fn open_bulk(global: &Global, path: &Path, create: bool) -> Result<Ledger> {
    Ok(Ledger::open(path, &open_options(global, create, true))?)
}

/// The options of every open: the command's default cache (`bulk` for
/// import, restore and rebuild), unless `--cache-mib` says otherwise.
/// How a command that is not a bulk write opens a ledger.
pub fn options(global: &Global) -> OpenOptions {
    open_options(global, false, false)
}

/// Opens (with `create`, creating) the ledger directory at `path`.
pub fn open_at(global: &Global, path: &Path, create: bool) -> Result<Ledger> {
    let found = probe(path)?;
    let ledger = Ledger::open(path, &open_options(global, create, false))?;
    if create && found != Found::Ledger && ledger.head()?.seq == 0 {
        announce_created(path);
    }
    Ok(ledger)
}

fn open_options(global: &Global, create: bool, bulk: bool) -> OpenOptions {
    let mut opts = OpenOptions {
        create,
        wait: Duration::from_secs(global.wait),
        on_wait: Some(announce_wait),
        on_notice: Some(announce_notice),
        ..OpenOptions::default()
    };
    if bulk {
        opts = opts.for_bulk_writes();
    }
    if let Some(mib) = global.cache_mib {
        opts.cache_bytes = mib * 1024 * 1024;
    }
    opts
}

/// Runs a bulk write (import, restore). A ledger that does not exist yet is
/// built in a staging directory beside it and moved into place only on
/// success, so a failed first import leaves nothing behind.
pub fn bulk_write<T>(global: &Global, f: impl FnOnce(&Ledger) -> Result<T>) -> Result<T> {
    if let Some(url) = postgres_url(global) {
        // One transaction: a failed bulk write leaves nothing.
        return f(&Ledger::open_postgres(
            &url,
            &open_options(global, false, true),
        )?);
    }
    let (path, found) = ledger_at(global)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    remove_stale_staging(parent);
    match found {
        Found::Ledger | Found::Creating => return f(&open_bulk(global, &path, true)?),
        Found::Empty => {
            let ledger = open_bulk(global, &path, true)?;
            announce_created(&path);
            return f(&ledger);
        }
        Found::Nothing => {}
    }
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", text::path(parent)))?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a staging directory in {}",
                text::path(parent)
            )
        })?;
    // Held until the directory is moved into place, so that another
    // process's clean-up (below) never takes it for a stale one, even in the
    // moment between the ledger's release of its own lock and the move.
    let held = std::fs::File::open(staging.path())
        .and_then(|d| d.try_lock().map(|()| d).map_err(io::Error::other))
        .with_context(|| {
            format!(
                "cannot lock the staging directory {}",
                text::path(staging.path())
            )
        })?;
    let value = f(&open_bulk(global, staging.path(), true)?)?;
    std::fs::rename(staging.path(), &path).with_context(|| {
        format!(
            "cannot move the new ledger into place at {} (if another process created it meanwhile, run the command again)",
            path.display()
        )
    })?;
    let _ = staging.keep();
    drop(held);
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    announce_created(&path);
    Ok(value)
}

/// Removes the staging directories that interrupted first bulk writes left
/// in `parent`: those that neither the process building them (which locks
/// the directory) nor a ledger open in them (`stancelog.lock`) holds. One
/// without a lock file is left alone for a minute, as its process may be
/// about to take the lock. Best effort: a directory that cannot be removed
/// stays.
fn remove_stale_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let is_staging = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(STAGING_PREFIX));
        if !is_staging || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let Ok(handle) = std::fs::File::open(&dir) else {
            continue;
        };
        if handle.try_lock().is_err() {
            continue;
        }
        let lock = match std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(LOCK_FILE))
        {
            Ok(lock) if lock.try_lock().is_ok() => Some(lock),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(60));
                if !old {
                    continue;
                }
                None
            }
            Err(_) => continue,
        };
        let _ = std::fs::remove_dir_all(&dir);
        drop(lock);
    }
}
