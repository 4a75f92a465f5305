//! Command-line interface: clap definitions and one function per command.
//! The only place that touches stdout, stderr, environment variables and
//! exit codes; the library returns values and errors.

mod render;

use std::io::{self, BufReader, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use stancelog::{
    format_timestamp, hex_hash, parse_date, parse_hash, parse_moment, validate_author, Actor,
    Amendment, Command as LedgerCommand, Context, Digest, Filter, Issue, Ledger, OpenOptions,
    Position, Request, Retraction, Statement, Wire,
};

/// An event-sourced, tamper-evident ledger of diplomatic positions.
#[derive(Parser, Debug)]
#[command(name = "stancelog", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
    /// Ledger directory [default: the platform data directory, e.g. ~/.local/share/stancelog/ledger]
    #[arg(long, global = true, env = "STANCELOG_LEDGER", value_name = "PATH")]
    ledger: Option<PathBuf>,
    /// Machine-readable JSON output
    #[arg(long, global = true)]
    json: bool,
    /// Who records the events written by this command [default: $STANCELOG_AUTHOR, else the OS user]
    #[arg(
        long,
        global = true,
        env = "STANCELOG_AUTHOR",
        value_name = "NAME",
        value_parser = visible_text
    )]
    by: Option<String>,
    /// Seconds to wait for a ledger another process is using
    #[arg(
        long,
        global = true,
        env = "STANCELOG_WAIT",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    wait: u64,
    /// sled's page cache in MiB [default: 16 for import, restore and rebuild (bounds their memory); 64 otherwise]. A larger cache makes large imports faster at the cost of memory
    #[arg(
        long,
        global = true,
        env = "STANCELOG_CACHE_MIB",
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(1..=1_048_576)
    )]
    cache_mib: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Record a statement
    Record(RecordArgs),
    /// Amend a recorded statement (appends an amendment)
    Amend(AmendArgs),
    /// Retract a recorded statement (appends a retraction)
    Retract(RetractArgs),
    /// Import JSON Lines (one event per line), all or nothing
    Import {
        /// File to read, or - for standard input
        file: PathBuf,
    },
    /// The stance of an actor on an issue
    Stance {
        /// Actor code, e.g. JPN
        #[arg(value_parser = actor)]
        actor: Actor,
        /// Issue slug, e.g. north-korea-sanctions-relief
        #[arg(value_parser = issue)]
        issue: Issue,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Every stance in force, as a table (issues as rows, actors as columns)
    Stances {
        #[command(flatten)]
        time: TimeArgs,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Every statement on an (actor, issue) pair, with amendments and retractions
    History {
        /// Actor code
        #[arg(value_parser = actor)]
        actor: Actor,
        /// Issue slug
        #[arg(value_parser = issue)]
        issue: Issue,
        /// Only events recorded at or before this moment (RFC 3339, or a date = end of that day UTC)
        #[arg(long, value_parser = moment, value_name = "TIME")]
        known_at: Option<DateTime<Utc>>,
    },
    /// Every (actor, issue) whose stance in force differs between two dates
    Changes {
        /// The earlier date (YYYY-MM-DD)
        #[arg(long, value_parser = date, value_name = "DATE")]
        from: NaiveDate,
        /// The later date (YYYY-MM-DD)
        #[arg(long, value_parser = date, value_name = "DATE")]
        to: NaiveDate,
        /// Only events recorded at or before this moment
        #[arg(long, value_parser = moment, value_name = "TIME")]
        known_at: Option<DateTime<Utc>>,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// The raw log in seq order: the audit trail
    Log {
        /// Start after this seq
        #[arg(long, default_value_t = 0, value_name = "N")]
        after_seq: u64,
        /// Show at most this many events
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Replay the whole log and check hashes, order, rules and indexes
    Verify {
        /// Also check that the log still extends a published head (SEQ:HASH from `stancelog head`)
        #[arg(long, value_parser = digest, value_name = "SEQ:HASH")]
        digest: Option<Digest>,
    },
    /// The log head as SEQ:HASH, a digest to publish
    Head,
    /// The whole log as JSON Lines that `import` accepts
    Export,
    /// Rebuild the read model (every projection) from the log
    Rebuild,
    /// Re-append to the log the events it lost that the read model still
    /// holds (after checking they chain onto the log), then verify
    Repair,
    /// Rebuild an empty ledger from `export` output, keeping every seq, time
    /// and hash and checking the hash chain line by line; all or nothing
    Restore {
        /// Export file to read, or - for standard input
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
struct TimeArgs {
    /// Valid time: the stance in force on this date (YYYY-MM-DD) [default: today]
    #[arg(long, value_parser = date, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// Transaction time: only events recorded at or before this moment
    /// (RFC 3339, or a date meaning the end of that day UTC) [default: now]
    #[arg(long, value_parser = moment, value_name = "TIME")]
    known_at: Option<DateTime<Utc>>,
}

#[derive(Args, Debug)]
struct FilterArgs {
    /// Only this actor (repeatable)
    #[arg(long = "actor", value_parser = actor, value_name = "ACTOR")]
    actors: Vec<Actor>,
    /// Only this issue (repeatable)
    #[arg(long = "issue", value_parser = issue, value_name = "ISSUE")]
    issues: Vec<Issue>,
}

#[derive(Args, Debug)]
struct RecordArgs {
    /// Actor code (ISO 3166-1 alpha-3 by convention), e.g. CHN
    #[arg(long, value_parser = actor)]
    actor: Actor,
    /// Issue slug naming a proposition, e.g. senkaku-islands
    #[arg(long, value_parser = issue)]
    issue: Issue,
    /// support, oppose, neutral or mixed
    #[arg(long, value_parser = position)]
    position: Position,
    /// When it was said (YYYY-MM-DD)
    #[arg(long, value_parser = date, value_name = "DATE")]
    stated_on: NaiveDate,
    /// One-sentence account of the statement
    #[arg(long, value_parser = visible_text)]
    summary: String,
    /// The words as quoted
    #[arg(long)]
    quote: Option<String>,
    /// Who spoke
    #[arg(long)]
    speaker: Option<String>,
    /// Where it was reported (http or https)
    #[arg(long, value_name = "URL")]
    source_url: Option<String>,
    /// Title of the report
    #[arg(long, value_name = "TITLE")]
    source_title: Option<String>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = uuid, value_name = "UUID")]
    id: Option<Uuid>,
}

#[derive(Args, Debug)]
struct AmendArgs {
    /// The id of the statement to amend
    #[arg(value_parser = uuid, value_name = "ID")]
    target: Uuid,
    /// Why the amendment is made
    #[arg(long, value_parser = visible_text)]
    reason: String,
    /// New position
    #[arg(long, value_parser = position)]
    position: Option<Position>,
    /// New date (YYYY-MM-DD)
    #[arg(long, value_parser = date, value_name = "DATE")]
    stated_on: Option<NaiveDate>,
    /// New summary
    #[arg(long, value_parser = visible_text)]
    summary: Option<String>,
    /// New quote
    #[arg(long)]
    quote: Option<String>,
    /// New speaker
    #[arg(long)]
    speaker: Option<String>,
    /// New source URL
    #[arg(long, value_name = "URL")]
    source_url: Option<String>,
    /// New source title
    #[arg(long, value_name = "TITLE")]
    source_title: Option<String>,
    /// Use this id for the amendment instead of one derived from the content
    #[arg(long, value_parser = uuid, value_name = "UUID")]
    id: Option<Uuid>,
}

#[derive(Args, Debug)]
struct RetractArgs {
    /// The id of the statement to retract
    #[arg(value_parser = uuid, value_name = "ID")]
    target: Uuid,
    /// Why it is retracted
    #[arg(long, value_parser = visible_text)]
    reason: String,
    /// Use this id for the retraction instead of one derived from the content
    #[arg(long, value_parser = uuid, value_name = "UUID")]
    id: Option<Uuid>,
}

fn actor(s: &str) -> Result<Actor, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}
fn issue(s: &str) -> Result<Issue, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}
fn position(s: &str) -> Result<Position, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}
fn date(s: &str) -> Result<NaiveDate, String> {
    parse_date(s).map_err(|e| e.to_string())
}
fn moment(s: &str) -> Result<DateTime<Utc>, String> {
    parse_moment(s).map_err(|e| e.to_string())
}
fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|_| format!("invalid id {s:?} (expected a UUID)"))
}
/// A required text flag: refused (a usage error) when it shows nothing,
/// being empty or only whitespace and invisible characters.
fn visible_text(s: &str) -> Result<String, String> {
    if s.chars()
        .all(|c| c.is_whitespace() || render::is_invisible(c))
    {
        Err("must not be empty or blank; give some text".to_owned())
    } else {
        Ok(s.to_owned())
    }
}
fn digest(s: &str) -> Result<Digest, String> {
    let s = s.trim();
    let bad = || format!("invalid digest {s:?} (expected SEQ:HASH as printed by `stancelog head`)");
    let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
    Ok(Digest {
        seq: seq.parse().map_err(|_| bad())?,
        hash: parse_hash(hash).ok_or_else(bad)?,
    })
}

/// Runs the CLI and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    // An environment variable set to nothing means "not set", as for most
    // tools; clap would take it for a flag given without its value.
    for var in [
        "STANCELOG_LEDGER",
        "STANCELOG_AUTHOR",
        "STANCELOG_WAIT",
        "STANCELOG_CACHE_MIB",
    ] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(var);
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    // A panic that the library catches (sled failing on damaged files) is
    // reported as an error line by the command; one that escapes is an
    // internal error, printed once below.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string().replace('\n', " ");
        *PANIC.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
    }));
    let ledger = ledger_path(&cli.global).ok();
    let outcome = std::panic::catch_unwind(|| run(cli));
    let Ok(result) = outcome else {
        let msg = PANIC.lock().unwrap_or_else(|p| p.into_inner()).take();
        let _ = writeln!(
            io::stderr(),
            "error: internal error: {} (please report it)",
            render::clean(msg.as_deref().unwrap_or("a panic"))
        );
        return ExitCode::from(101);
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if is_disk_full(&e) => {
            let place = ledger.map_or_else(|| "the ledger".to_owned(), |p| p.display().to_string());
            let _ = writeln!(
                io::stderr(),
                "error: the disk holding {} is full; nothing was written",
                render::clean(&place)
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            let msg = one_line(&e);
            let _ = writeln!(io::stderr(), "error: {}", render::clean(&msg));
            ExitCode::FAILURE
        }
    }
}

/// The message of the last panic, kept by the panic hook.
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Prints a clap error (or help) and exits with its code. A usage error
/// quotes the values given, so it is escaped like every other message when
/// they hold control or invisible characters.
fn usage_error(e: clap::Error) -> ExitCode {
    let text = e.render().to_string();
    if !e.use_stderr()
        || text
            .split('\n')
            .all(|l| matches!(render::clean(l), std::borrow::Cow::Borrowed(_)))
    {
        e.exit()
    }
    let cleaned: Vec<_> = text.split('\n').map(render::clean).collect();
    let _ = write!(io::stderr(), "{}", cleaned.join("\n"));
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// The error and its causes on one line, skipping a cause whose text the
/// message already carries (library errors include their source's text).
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg.replace('\n', " ")
}

fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(c.downcast_ref::<stancelog::Error>(), Some(stancelog::Error::Storage(s)) if s.is_disk_full())
            || c.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::StorageFull)
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn ledger_path(global: &Global) -> Result<PathBuf> {
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
            render::path(p)
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
    let shown = render::path(path);
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
    let _ = writeln!(
        io::stderr(),
        "created a new ledger at {}",
        render::path(path)
    );
}

fn announce_wait(path: &Path) {
    let _ = writeln!(
        io::stderr(),
        "waiting for the ledger at {} (another stancelog process is using it)...",
        render::path(path)
    );
}

/// A one-line notice from opening the ledger (an index layout rebuilt).
fn announce_notice(message: &str) {
    let _ = writeln!(io::stderr(), "notice: {}", render::clean(message));
}

/// Opens the ledger for a command that only reads: the read model alone,
/// with no lock, so it never waits for a writer.
fn open_read(global: &Global) -> Result<Ledger> {
    let (path, _) = ledger_at(global)?;
    Ok(Ledger::open_reader(
        &path,
        &open_options(global, false, false),
    )?)
}

fn open(global: &Global, create: bool) -> Result<Ledger> {
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
fn open_for_repair(global: &Global) -> Result<Ledger> {
    let (path, _) = ledger_at(global)?;
    let mut opts = open_options(global, false, true);
    opts.for_repair = true;
    Ok(Ledger::open(&path, &opts)?)
}

/// Opens the ledger for a command that writes or rewrites all of it.
fn open_bulk(global: &Global, path: &Path, create: bool) -> Result<Ledger> {
    Ok(Ledger::open(path, &open_options(global, create, true))?)
}

/// The options of every open: the command's default cache (`bulk` for
/// import, restore and rebuild), unless `--cache-mib` says otherwise.
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
fn bulk_write<T>(global: &Global, f: impl FnOnce(&Ledger) -> Result<T>) -> Result<T> {
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
        .with_context(|| format!("cannot create {}", render::path(parent)))?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a staging directory in {}",
                render::path(parent)
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
                render::path(staging.path())
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

/// Who records: `--by` (or `STANCELOG_AUTHOR`), else the OS user; refused
/// when neither names anyone, rather than recording a made-up name.
fn author(global: &Global) -> Result<String> {
    if let Some(by) = &global.by {
        return Ok(by.clone());
    }
    match whoami::fallible::username() {
        Ok(name) if !name.trim().is_empty() => Ok(name),
        _ => Err(anyhow!(
            "cannot tell who records this: the OS user is unknown; pass --by NAME or set STANCELOG_AUTHOR"
        )),
    }
}

/// The ledger's clock: the system's; the ledger still never lets time go
/// backwards. Only a build with the cargo feature `test-clock` (which the
/// test suite enables for itself, never a default) lets `STANCELOG_TEST_NOW`
/// (RFC 3339) pin it, so a binary users install cannot forge `recorded_at`.
fn clock() -> DateTime<Utc> {
    #[cfg(feature = "test-clock")]
    if let Some(t) = std::env::var("STANCELOG_TEST_NOW")
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
    {
        return t.with_timezone(&Utc);
    }
    Utc::now()
}

fn today() -> NaiveDate {
    clock().date_naive()
}

fn progress_bar(what: &'static str, total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})"
    } else {
        "{msg} {spinner} {pos} events ({per_sec})"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}

fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let mut out = io::stdout().lock();
    match cli.command {
        Command::Record(a) => {
            let command = LedgerCommand::Record(Statement {
                actor: a.actor,
                issue: a.issue,
                position: a.position,
                stated_on: a.stated_on,
                summary: a.summary,
                quote: a.quote,
                speaker: a.speaker,
                source_url: a.source_url,
                source_title: a.source_title,
                details: Default::default(),
            });
            write_one(g, &mut out, Request { id: a.id, command })
        }
        Command::Amend(a) => {
            let command = LedgerCommand::Amend(Amendment {
                target: a.target,
                reason: a.reason,
                position: a.position,
                stated_on: a.stated_on,
                summary: a.summary,
                quote: a.quote,
                speaker: a.speaker,
                source_url: a.source_url,
                source_title: a.source_title,
                stated_on_precision: None,
            });
            write_one(g, &mut out, Request { id: a.id, command })
        }
        Command::Retract(a) => {
            let command = LedgerCommand::Retract(Retraction {
                target: a.target,
                reason: a.reason,
            });
            write_one(g, &mut out, Request { id: a.id, command })
        }
        Command::Import { file } => import(g, &mut out, &file),
        Command::Restore { file } => restore(g, &mut out, &file),
        Command::Stance { actor, issue, time } => {
            let ledger = open_read(g)?;
            let as_of = time.as_of.unwrap_or_else(today);
            let stance = ledger.stance(&actor, &issue, as_of, time.known_at)?;
            if g.json {
                render::json_line(&mut out, &stance)
            } else {
                render::stance(&mut out, &actor, &issue, as_of, stance.as_ref())
            }
        }
        Command::Stances { time, filter } => {
            let ledger = open_read(g)?;
            let as_of = time.as_of.unwrap_or_else(today);
            let filter = Filter {
                actors: filter.actors,
                issues: filter.issues,
            };
            let stances = ledger.stances(as_of, time.known_at, &filter)?;
            if g.json {
                render::json_line(&mut out, &stances)
            } else {
                render::stances(&mut out, as_of, &stances)
            }
        }
        Command::History {
            actor,
            issue,
            known_at,
        } => {
            let ledger = open_read(g)?;
            let views = ledger.history(&actor, &issue, known_at)?;
            if g.json {
                let items: Vec<_> = views.iter().map(render::HistoryItem::from).collect();
                render::json_line(&mut out, &items)
            } else {
                render::history(&mut out, &actor, &issue, &views)
            }
        }
        Command::Changes {
            from,
            to,
            known_at,
            filter,
        } => {
            if from > to {
                return Err(anyhow!("--from {from} is after --to {to}"));
            }
            let ledger = open_read(g)?;
            let filter = Filter {
                actors: filter.actors,
                issues: filter.issues,
            };
            let changes = ledger.changes(from, to, known_at, &filter)?;
            if g.json {
                render::json_line(&mut out, &changes)
            } else {
                render::changes(&mut out, from, to, &changes)
            }
        }
        Command::Log { after_seq, limit } => {
            let ledger = open_read(g)?;
            let limit = limit.unwrap_or(u64::MAX);
            let events = ledger
                .events(after_seq.saturating_add(1))?
                .take(usize::try_from(limit).unwrap_or(usize::MAX));
            for event in events {
                let event = event?;
                if g.json {
                    render::json_line(&mut out, &Wire::from_event(&event))?;
                } else {
                    render::log_line(&mut out, &event)?;
                }
            }
            Ok(out.flush()?)
        }
        Command::Export => {
            let ledger = open_read(g)?;
            let mut out = io::BufWriter::new(out);
            for event in ledger.events(1)? {
                render::json_line(&mut out, &Wire::from_event(&event?))?;
            }
            Ok(out.flush()?)
        }
        Command::Verify { digest } => {
            let ledger = open(g, false)?;
            let bar = progress_bar("verifying", Some(ledger.head()?.seq));
            let report = ledger
                .verify(digest, &mut |n| bar.set_position(n))
                .map_err(|e| verify_failed(e, digest))?;
            bar.finish_and_clear();
            let head = format!("{}:{}", report.head.seq, hex_hash(&report.head.hash));
            if g.json {
                let v = serde_json::json!({
                    "ok": true,
                    "seq": report.head.seq,
                    "hash": hex_hash(&report.head.hash),
                    "events": report.events,
                    "index_entries": report.index_entries,
                });
                render::json_line(&mut out, &v)
            } else {
                writeln!(
                    out,
                    "ok: {} events and {} index entries verified{}",
                    report.events,
                    report.index_entries,
                    digest.map_or(String::new(), |d| format!(
                        "; the log extends digest {}:{}",
                        d.seq,
                        hex_hash(&d.hash)
                    ))
                )?;
                writeln!(out, "head {head}")?;
                Ok(())
            }
        }
        Command::Head => {
            let ledger = open_read(g)?;
            let head = ledger.head()?;
            if g.json {
                let v = serde_json::json!({
                    "seq": head.seq,
                    "hash": hex_hash(&head.hash),
                    "recorded_at": format_timestamp(&head.recorded_at),
                });
                render::json_line(&mut out, &v)
            } else {
                Ok(writeln!(out, "{}:{}", head.seq, hex_hash(&head.hash))?)
            }
        }
        Command::Repair => {
            let ledger = open_for_repair(g)?;
            let n = ledger.repair(&mut |_| {})?;
            let report = ledger
                .verify(None, &mut |_| {})
                .map_err(|e| anyhow!("verify failed after the repair: {e}"))?;
            let head = format!("{}:{}", report.head.seq, hex_hash(&report.head.hash));
            if g.json {
                let v = serde_json::json!({ "repaired": n, "seq": report.head.seq, "hash": hex_hash(&report.head.hash) });
                render::json_line(&mut out, &v)
            } else if n == 0 {
                Ok(writeln!(out, "nothing to repair: the log holds every event the read model witnessed; head {head}")?)
            } else {
                Ok(writeln!(out, "repaired: re-appended {n} events to the log from the read model; verified, head {head}")?)
            }
        }
        Command::Rebuild => {
            let ledger = open_bulk(g, &ledger_at(g)?.0, false)?;
            let bar = progress_bar("rebuilding", Some(ledger.head()?.seq));
            let n = ledger.rebuild(&mut |n| bar.set_position(n))?;
            bar.finish_and_clear();
            if g.json {
                render::json_line(
                    &mut out,
                    &serde_json::json!({ "rebuilt": true, "events": n }),
                )
            } else {
                Ok(writeln!(out, "rebuilt the indexes from {n} events")?)
            }
        }
    }
}

/// A failed verify. A digest the log does not extend is not corruption the
/// log shows by itself: say that either the digest or the history is wrong.
fn verify_failed(e: stancelog::Error, digest: Option<Digest>) -> anyhow::Error {
    if let (stancelog::Error::Corrupt { seq, message }, Some(d)) = (&e, digest) {
        let shown = format!("{}:{}", d.seq, hex_hash(&d.hash));
        let check = "check it against the digest as published";
        if message.starts_with("the log no longer extends the digest") {
            // "...: hash at seq N is HASH, the digest says ..."
            let logged = message
                .split_once(" is ")
                .and_then(|(_, rest)| rest.split_once(','))
                .map_or(String::new(), |(hash, _)| {
                    format!(" (the log has {}:{hash})", d.seq)
                });
            return anyhow!(
                "verify failed: the log does not extend digest {shown}{logged}: either the digest is wrong ({check}) or history was rewritten at or before seq {}",
                d.seq
            );
        }
        if message.starts_with("the digest names seq") {
            if d.seq == 0 {
                return anyhow!(
                    "verify failed: the log does not extend digest {shown}: seq 0 only ever has the all-zero hash, so the digest is wrong ({check})"
                );
            }
            return anyhow!(
                "verify failed: the log does not extend digest {shown}: the log ends at seq {}; either the digest is wrong ({check}) or history was rewritten at or before seq {}",
                seq.saturating_sub(1),
                d.seq
            );
        }
    }
    anyhow!("verify failed: {e}")
}

fn write_one(g: &Global, out: &mut impl Write, req: Request) -> Result<()> {
    let kind = req.command.kind();
    let author = author(g)?;
    // Fail before touching the ledger when no ledger is needed to tell, and
    // never create a ledger for an edit, whose target cannot exist in it.
    validate_author(&author)?;
    req.precheck(clock().date_naive())?;
    let ledger = open(g, matches!(req.command, LedgerCommand::Record(_)))?;
    let mut ctx = Context {
        author,
        clock: &clock,
        progress: None,
    };
    let summary = ledger.append([Ok(req)], &mut ctx)?;
    let o = summary.last.expect("one request gives one outcome");
    if let Some(by) = o.superseded_by {
        // Not a repeat: history undid the event since, and re-sending it
        // must not be mistaken for having applied it.
        let (undone, hint) = match kind {
            "statement" => (
                "retracted it",
                "to record it again, give it a new id with --id",
            ),
            _ => (
                "amended the statement again",
                "to apply this correction again, amend with a different --reason",
            ),
        };
        return Err(stancelog::RuleViolation::Superseded {
            kind,
            id: o.id,
            seq: o.seq,
            superseded_by: by,
            undone,
            hint,
        }
        .into());
    }
    if g.json {
        let v = serde_json::json!({ "id": o.id, "seq": o.seq, "type": kind, "added": o.added });
        render::json_line(out, &v)
    } else if o.added {
        Ok(writeln!(out, "recorded {kind} {} at seq {}", o.id, o.seq)?)
    } else {
        Ok(writeln!(
            out,
            "already recorded: {kind} {} is at seq {} (nothing added)",
            o.id, o.seq
        )?)
    }
}

/// The input named on the command line: a file, opened at once so that a
/// missing file fails before any ledger is touched, or `-` for stdin.
enum Input {
    /// A regular file, read in place.
    File(std::fs::File),
    /// Something that cannot be reread (a pipe, `<(cmd)`, a FIFO, a
    /// device): spooled like stdin.
    Stream(std::fs::File, String),
    Stdin,
}

impl Input {
    fn open(file: &Path) -> Result<(Input, String)> {
        if file.as_os_str() == "-" {
            return Ok((Input::Stdin, "<stdin>".to_owned()));
        }
        let name = file.display().to_string();
        let f = std::fs::File::open(file).with_context(|| format!("cannot open {name}"))?;
        if f.metadata().is_ok_and(|m| m.is_file()) {
            Ok((Input::File(f), name))
        } else {
            Ok((Input::Stream(f, name.clone()), name))
        }
    }

    /// A rewindable reader. Stdin and other streams are spooled to an
    /// unnamed temporary file (an import reads its input twice); call this
    /// once the ledger is held, so a producer piping into `import -` keeps
    /// the ledger for the duration.
    fn reader(self) -> Result<BufReader<std::fs::File>> {
        let f = match self {
            Input::File(f) => f,
            Input::Stream(mut f, name) => spool(&mut f, &name)?,
            Input::Stdin => spool(&mut io::stdin().lock(), "stdin")?,
        };
        Ok(BufReader::with_capacity(1 << 16, f))
    }
}

/// Copies a stream to an unnamed temporary file, rewound.
fn spool(input: &mut impl io::Read, name: &str) -> Result<std::fs::File> {
    let mut spool = tempfile::tempfile()
        .with_context(|| format!("cannot create a temporary file for {name}"))?;
    io::copy(input, &mut spool).with_context(|| format!("cannot read {name}"))?;
    spool.seek(io::SeekFrom::Start(0))?;
    Ok(spool)
}

fn restore(g: &Global, out: &mut impl Write, file: &Path) -> Result<()> {
    let (input, name) = Input::open(file)?;
    let bar = progress_bar("restoring", None);
    let restored = bulk_write(g, |ledger| {
        let reader = input.reader()?;
        Ok(ledger.restore(reader, &name, clock(), &mut |n| bar.set_position(n))?)
    })?;
    bar.finish_and_clear();
    let head = &restored.head;
    if g.json {
        let v = serde_json::json!({
            "file": name,
            "events": restored.events,
            "seq": head.seq,
            "hash": hex_hash(&head.hash),
        });
        render::json_line(out, &v)
    } else {
        writeln!(
            out,
            "restored {} events from {}; the chain checks out",
            restored.events,
            render::clean(&name)
        )?;
        Ok(writeln!(out, "head {}:{}", head.seq, hex_hash(&head.hash))?)
    }
}

fn import(g: &Global, out: &mut impl Write, file: &Path) -> Result<()> {
    let (input, name) = Input::open(file)?;
    let author = author(g)?;
    validate_author(&author)?;
    let bar = progress_bar("importing", None);
    let mut tick = |n: u64| bar.set_position(n);
    let ctx_author = author.clone();
    let mut ctx = Context {
        author,
        clock: &clock,
        progress: Some(&mut tick),
    };
    let summary = bulk_write(g, |ledger| {
        let reader = input.reader()?;
        Ok(ledger.import(reader, &name, &mut ctx)?)
    })?;
    bar.finish_and_clear();
    if summary.envelopes > 0 {
        let _ = writeln!(
            io::stderr(),
            "warning: {} lines of {} carry an export's envelope (authors, times, hashes): they check out, and were recorded anew as by {} now; `stancelog restore` into a new ledger keeps them",
            summary.envelopes,
            render::clean(&name),
            render::clean(&ctx_author)
        );
    }
    let repeats = summary.skipped - summary.superseded;
    if g.json {
        let v = serde_json::json!({
            "file": name,
            "added": summary.added,
            "skipped": repeats,
            "superseded": summary.superseded,
            "head_seq": summary.head_seq,
        });
        render::json_line(out, &v)
    } else {
        let superseded = match summary.superseded {
            0 => String::new(),
            n => format!(", {n} not re-applied (already present but retracted or amended since; record them with new ids to apply them again)"),
        };
        let _ = writeln!(
            io::stderr(),
            "imported {}: {} added, {} skipped (already present){superseded}; head at seq {}",
            render::clean(&name),
            summary.added,
            repeats,
            summary.head_seq
        );
        Ok(())
    }
}
