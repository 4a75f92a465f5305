//! Command-line interface: clap definitions, and one module per command
//! group holding its arguments, their conversion into library calls and its
//! output. The only place that touches stdout, stderr, environment
//! variables and exit codes; the library returns values and errors.
//!
//! - `write`: record, amend, retract, reinstate
//! - `naming`: issue define|reword|alias|unalias|merge|show, issues, actor define, actors
//! - `bulk`: import, restore
//! - `query`: stance, stances, history, changes
//! - `audit`: log, export, head, verify, rebuild, repair
//! - `analysis`: compare, shifts
//! - `info`: info
//! - `json`: every JSON shape printed; `text`: escaping for the terminal
//! - `open`: where the ledger is and how each command opens it
//! - `env`: the author, the clock and progress bars
//! - `parse`: value parsers for arguments

mod analysis;
mod audit;
mod bulk;
mod env;
mod info;
mod json;
mod naming;
mod open;
mod parse;
mod query;
mod text;
mod write;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

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
pub struct Global {
    /// Ledger directory [default: the platform data directory, e.g. ~/.local/share/stancelog/ledger]
    #[arg(long, global = true, env = "STANCELOG_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Machine-readable JSON output
    #[arg(long, global = true)]
    pub json: bool,
    /// Who records the events written by this command [default: $STANCELOG_AUTHOR, else the OS user]
    #[arg(
        long,
        global = true,
        env = "STANCELOG_AUTHOR",
        value_name = "NAME",
        value_parser = parse::visible_text
    )]
    pub by: Option<String>,
    /// Seconds to wait for a ledger another process is using
    #[arg(
        long,
        global = true,
        env = "STANCELOG_WAIT",
        default_value_t = 30,
        value_name = "SECONDS"
    )]
    pub wait: u64,
    /// sled's page cache in MiB [default: 16 for import, restore and rebuild (bounds their memory); 64 otherwise]. A larger cache makes large imports faster at the cost of memory
    #[arg(
        long,
        global = true,
        env = "STANCELOG_CACHE_MIB",
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(1..=1_048_576)
    )]
    pub cache_mib: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Record a statement
    Record(write::RecordArgs),
    /// Amend a recorded statement (appends an amendment)
    Amend(write::AmendArgs),
    /// Retract a recorded statement (appends a retraction)
    Retract(write::RetractArgs),
    /// Undo a retraction: the statement counts again (appends a reinstatement)
    Reinstate(write::ReinstateArgs),
    /// Define, reword, alias, merge or show an issue
    #[command(subcommand)]
    Issue(naming::IssueCommand),
    /// Every issue: slug, title, proposition, aliases, statements, actors
    Issues(naming::IssuesArgs),
    /// Define an actor code
    #[command(subcommand)]
    Actor(naming::ActorCommand),
    /// Every actor: code, name, kind, statements
    Actors,
    /// Import JSON Lines (one event per line), all or nothing
    Import(bulk::ImportArgs),
    /// The stance of an actor on an issue
    Stance(query::StanceArgs),
    /// Every stance in force, as a table (issues as rows, actors as columns)
    Stances(query::StancesArgs),
    /// Every statement on an (actor, issue) pair, with amendments and retractions
    History(query::HistoryArgs),
    /// Every (actor, issue) whose stance in force differs between two dates
    Changes(query::ChangesArgs),
    /// Two actors' stances side by side, with how far they agree
    Compare(analysis::CompareArgs),
    /// Every change of a position in force, classified (first, reversal,
    /// softening, hardening, shift), in date order
    Shifts(analysis::ShiftsArgs),
    /// What the ledger is: paths, formats, counts, dates and size
    Info,
    /// The raw log in seq order: the audit trail
    Log(audit::LogArgs),
    /// Replay the whole log and check hashes, order, rules and indexes
    Verify(audit::VerifyArgs),
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
    Restore(bulk::RestoreArgs),
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
    let ledger = open::ledger_path(&cli.global).ok();
    let outcome = std::panic::catch_unwind(|| run(cli));
    let Ok(result) = outcome else {
        let msg = PANIC.lock().unwrap_or_else(|p| p.into_inner()).take();
        let _ = writeln!(
            io::stderr(),
            "error: internal error: {} (please report it)",
            text::clean(msg.as_deref().unwrap_or("a panic"))
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
                text::clean(&place)
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            let msg = one_line(&e);
            let _ = writeln!(io::stderr(), "error: {}", text::clean(&msg));
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
            .all(|l| matches!(text::clean(l), std::borrow::Cow::Borrowed(_)))
    {
        e.exit()
    }
    let cleaned: Vec<_> = text.split('\n').map(text::clean).collect();
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

/// Runs one command: each group's module parses nothing more, converts its
/// arguments into library calls and prints the answer.
fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let mut out = io::stdout().lock();
    let out = &mut out;
    match cli.command {
        Command::Record(a) => write::record(g, out, a),
        Command::Amend(a) => write::amend(g, out, a),
        Command::Retract(a) => write::retract(g, out, a),
        Command::Reinstate(a) => write::reinstate(g, out, a),
        Command::Issue(c) => naming::issue(g, out, c),
        Command::Issues(a) => naming::issues(g, out, a),
        Command::Actor(c) => naming::actor(g, out, c),
        Command::Actors => naming::actors(g, out),
        Command::Import(a) => bulk::import(g, out, a),
        Command::Restore(a) => bulk::restore(g, out, a),
        Command::Stance(a) => query::stance(g, out, a),
        Command::Stances(a) => query::stances(g, out, a),
        Command::History(a) => query::history(g, out, a),
        Command::Changes(a) => query::changes(g, out, a),
        Command::Compare(a) => analysis::compare(g, out, a),
        Command::Shifts(a) => analysis::shifts(g, out, a),
        Command::Info => info::info(g, out),
        Command::Log(a) => audit::log(g, out, a),
        Command::Export => audit::export(g, out),
        Command::Verify(a) => audit::verify(g, out, a),
        Command::Head => audit::head(g, out),
        Command::Repair => audit::repair(g, out),
        Command::Rebuild => audit::rebuild(g, out),
    }
}
