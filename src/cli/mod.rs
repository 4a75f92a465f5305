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
//! - `help`: long help (examples, exit status), `help`, `completions`, `man`
//! - `json`: every JSON shape printed; `records`: every CSV/TSV shape;
//!   `table`: human tables; `text`: escaping for the terminal
//! - `ui`: format, colour and width of this run's output; `pager`: `$PAGER`
//! - `csvin`: CSV input for `import --format csv`
//! - `open`: where the ledger is and how each command opens it
//! - `env`: the author, the clock and progress bars
//! - `parse`: value parsers for arguments
//! - `chart`, `report`: the SVG timeline and the HTML report, drawn by the
//!   pure `svg` and `html` (through `xml`) in the colours of `palette`

mod analysis;
mod audit;
mod backend;
mod bulk;
mod chart;
mod csvin;
mod env;
mod help;
mod html;
mod info;
mod json;
mod naming;
mod open;
mod pager;
mod palette;
mod parse;
mod query;
mod records;
mod report;
mod svg;
mod table;
#[cfg(test)]
mod testing;
mod text;
mod ui;
mod write;
mod xml;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use ui::{ColorWhen, Format, Ui};

/// An event-sourced, tamper-evident ledger of diplomatic positions.
#[derive(Parser, Debug)]
#[command(
    name = "stancelog",
    version,
    about,
    long_about = None,
    disable_help_subcommand = true,
    after_help = help::EXIT_STATUS_SHORT,
    after_long_help = help::EXIT_STATUS
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Ledger directory, or a PostgreSQL ledger postgres://USER@HOST/DB[?schema=NAME] [default: the platform data directory, e.g. ~/.local/share/stancelog/ledger]
    #[arg(long, global = true, env = "STANCELOG_LEDGER", value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Machine-readable JSON output: the same as --format json
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format [default: table on a terminal, plain otherwise]. For `import`, csv and tsv name the input's format
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// When to colour the output (NO_COLOR turns auto off, CLICOLOR_FORCE on)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Never page long output on a terminal (else $PAGER, or less -FRX)
    #[arg(long, global = true)]
    pub no_pager: bool,
    /// Who records the events a writing command adds (also accepted after
    /// record, amend, retract and import) [default: $STANCELOG_AUTHOR, else the OS user]
    #[arg(
        long,
        help_heading = "Options of the commands that write",
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
        hide_short_help = true,
        env = "STANCELOG_CACHE_MIB",
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(1..=1_048_576)
    )]
    pub cache_mib: Option<u64>,
    /// The shape of the output, decided once from the options above and
    /// the environment (see `ui`). `json` is also set for `--format jsonl`
    /// on commands that print one object, whose JSON Lines form is that
    /// one line; list commands look at `ui.format` first.
    #[arg(skip)]
    pub ui: Ui,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Record a statement
    #[command(after_long_help = help::RECORD)]
    Record(write::RecordArgs),
    /// Amend a recorded statement (appends an amendment)
    #[command(after_long_help = help::AMEND)]
    Amend(write::AmendArgs),
    /// Retract a recorded statement (appends a retraction)
    #[command(after_long_help = help::RETRACT)]
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
    /// Import JSON Lines (one event per line) or CSV (--format csv), all or nothing
    #[command(after_long_help = help::IMPORT)]
    Import(bulk::ImportArgs),
    /// The stance of an actor on an issue
    #[command(after_long_help = help::STANCE)]
    Stance(query::StanceArgs),
    /// Every stance in force, as a table (issues as rows, actors as columns)
    #[command(after_long_help = help::STANCES)]
    Stances(query::StancesArgs),
    /// Every statement on an (actor, issue) pair, with amendments and retractions
    #[command(after_long_help = help::HISTORY)]
    History(query::HistoryArgs),
    /// Every (actor, issue) whose stance in force differs between two dates
    #[command(after_long_help = help::CHANGES)]
    Changes(query::ChangesArgs),
    /// Two actors' stances side by side, with how far they agree
    #[command(after_long_help = help::COMPARE)]
    Compare(analysis::CompareArgs),
    /// Every change of a position in force, classified (first, reversal,
    /// softening, hardening, shift), in date order
    #[command(after_long_help = help::SHIFTS)]
    Shifts(analysis::ShiftsArgs),
    /// What the ledger is: paths, formats, counts, dates and size
    #[command(after_long_help = help::INFO)]
    Info,
    /// The raw log in seq order: the audit trail
    #[command(after_long_help = help::LOG)]
    Log(audit::LogArgs),
    /// Replay the whole log and check hashes, order, rules and indexes
    #[command(after_long_help = help::VERIFY)]
    Verify(audit::VerifyArgs),
    /// The log head as SEQ:HASH, a digest to publish
    #[command(after_long_help = help::HEAD)]
    Head,
    /// The whole log as JSON Lines that `import` accepts
    #[command(after_long_help = help::EXPORT)]
    Export,
    /// Rebuild the read model (every projection) from the log
    #[command(after_long_help = help::REBUILD)]
    Rebuild,
    /// Re-append to the log the events it lost that the read model still
    /// holds (after checking they chain onto the log), then verify
    #[command(after_long_help = help::REPAIR)]
    Repair,
    /// Rebuild an empty ledger from `export` output, keeping every seq, time
    /// and hash and checking the hash chain line by line; all or nothing
    #[command(after_long_help = help::RESTORE)]
    Restore(bulk::RestoreArgs),
    /// Prepare a ledger: a directory, or a PostgreSQL database (creates the
    /// schema and applies the migrations it lacks)
    #[command(after_long_help = help::INIT)]
    Init(backend::InitArgs),
    /// Copy this ledger into an empty PostgreSQL ledger, keeping every seq,
    /// time, author and hash
    #[command(after_long_help = help::MIGRATE)]
    Migrate(backend::MigrateArgs),
    /// Shell completions, to stdout
    #[command(after_long_help = help::COMPLETIONS)]
    Completions(help::CompletionsArgs),
    /// The manual page (roff), to stdout
    #[command(after_long_help = help::MAN)]
    Man,
    /// Help on stancelog or one of its commands (the long form, as --help)
    Help(help::HelpArgs),
    /// Draw an issue's positions over time as an SVG timeline: a lane per
    /// actor, the position in force as coloured bars, a marker per statement
    #[command(after_long_help = help::CHART)]
    Chart(chart::ChartArgs),
    /// Write one self-contained HTML page: the stance matrix, a chart per
    /// issue, the last 30 days' changes, the audit trail and the digest
    #[command(after_long_help = help::REPORT)]
    Report(report::ReportArgs),
}

/// Which `--format`s a command takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accepts {
    /// Commands that print records: every format.
    Records,
    /// Commands that print one report or receipt: human forms and JSON.
    Report,
    /// `import`: every format, csv and tsv naming its input's.
    Import,
    /// `export`: JSON Lines only.
    Export,
    /// Commands whose output has no format (help, completions, man).
    Nothing,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Record(_) => "record",
            Command::Amend(_) => "amend",
            Command::Retract(_) => "retract",
            Command::Reinstate(_) => "reinstate",
            Command::Issue(_) => "issue",
            Command::Issues(_) => "issues",
            Command::Actor(_) => "actor",
            Command::Actors => "actors",
            Command::Import(_) => "import",
            Command::Stance(_) => "stance",
            Command::Stances(_) => "stances",
            Command::History(_) => "history",
            Command::Changes(_) => "changes",
            Command::Compare(_) => "compare",
            Command::Shifts(_) => "shifts",
            Command::Info => "info",
            Command::Chart(_) => "chart",
            Command::Report(_) => "report",
            Command::Log(_) => "log",
            Command::Verify(_) => "verify",
            Command::Head => "head",
            Command::Export => "export",
            Command::Rebuild => "rebuild",
            Command::Repair => "repair",
            Command::Restore(_) => "restore",
            Command::Init(_) => "init",
            Command::Migrate(_) => "migrate",
            Command::Completions(_) => "completions",
            Command::Man => "man",
            Command::Help(_) => "help",
        }
    }

    fn accepts(&self) -> Accepts {
        match self {
            Command::Stance(_)
            | Command::Stances(_)
            | Command::History(_)
            | Command::Changes(_)
            | Command::Log(_) => Accepts::Records,
            Command::Import(_) => Accepts::Import,
            Command::Export => Accepts::Export,
            // chart and report write a file; the others print no records.
            Command::Completions(_)
            | Command::Man
            | Command::Help(_)
            | Command::Chart(_)
            | Command::Report(_) => Accepts::Nothing,
            _ => Accepts::Report,
        }
    }

    /// Whether its output can run to pages (and so goes through a pager
    /// on a terminal).
    fn pages(&self) -> bool {
        matches!(
            self,
            Command::Stances(_)
                | Command::History(_)
                | Command::Changes(_)
                | Command::Shifts(_)
                | Command::Issues(_)
                | Command::Actors
                | Command::Log(_)
                | Command::Export
        )
    }
}

/// Refuses a `--format` (or `--json`) the command cannot print, as a
/// usage error saying what it can.
fn check_format(command: &Command, g: &Global) -> Result<(), Failed> {
    let name = command.name();
    let Some(asked) = g.format.or(g.json.then_some(Format::Json)) else {
        return Ok(());
    };
    let given = if g.json {
        "--json".to_owned()
    } else {
        format!("--format {}", asked.name())
    };
    let refuse = |message: String, hint: &str| Err(Failed::usage(message, Some(hint.to_owned())));
    match command.accepts() {
        Accepts::Records | Accepts::Import => Ok(()),
        Accepts::Report if !matches!(asked, Format::Csv | Format::Tsv) => Ok(()),
        Accepts::Report => refuse(
            format!("`{name}` prints a report, not records, so it has no {given} form"),
            "use --json for a machine-readable report; csv and tsv are for stance, stances, history, changes and log",
        ),
        Accepts::Export if asked == Format::Jsonl && !g.json => Ok(()),
        Accepts::Export => refuse(
            format!("`export` always writes JSON Lines (the form `import` and `restore` read); it has no {given} form"),
            "drop the option (or say --format jsonl); for a table, use `stancelog log --format csv`",
        ),
        Accepts::Nothing => refuse(
            format!("`{name}` has no {given} form"),
            "drop the option",
        ),
    }
}

/// An error with its own exit code and, on a line of its own, a hint.
#[derive(Debug)]
pub struct Failed {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl Failed {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Failed {
        Failed {
            code: EXIT_USAGE,
            message: message.into(),
            hint,
        }
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failed {}

/// Exit codes, as `--help` and the README document them.
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// `verify` found a fault (or a log that does not extend the digest).
pub const EXIT_FAULT: u8 = 3;
/// The ledger stayed busy for all of `--wait` (EX_TEMPFAIL: try again).
pub const EXIT_BUSY: u8 = 75;

/// The exit code of a failed command.
fn exit_code(e: &anyhow::Error) -> u8 {
    for c in e.chain() {
        if let Some(f) = c.downcast_ref::<Failed>() {
            return f.code;
        }
        if let Some(stancelog::Error::Busy(..)) = c.downcast_ref::<stancelog::Error>() {
            return EXIT_BUSY;
        }
    }
    EXIT_ERROR
}

/// Prints `error: MESSAGE` (red when stderr takes colour) and, on a line
/// of its own, `hint: HINT`, as cargo does.
fn report(colour: bool, message: &str, hint: Option<&str>) {
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "{} {}",
        ui::paint(colour, ui::ERROR, "error:"),
        text::clean(message)
    );
    if let Some(hint) = hint {
        let _ = writeln!(
            err,
            "{} {}",
            ui::paint(colour, ui::HINT, "hint:"),
            text::clean(hint)
        );
    }
}

/// The clap command, wrapped to `COLUMNS` when it is set (else clap asks
/// the terminal) and coloured as `--color` says, looked for before parsing
/// so that usage errors obey it too.
fn clap_command() -> clap::Command {
    let mut cmd = Cli::command();
    if let Some(w) = ui::columns() {
        cmd = cmd.term_width(w);
    }
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        let when = match a.to_str() {
            Some("--color") => args.next().and_then(|v| v.into_string().ok()),
            Some(s) if s.starts_with("--color=") => Some(s["--color=".len()..].to_owned()),
            Some("--") => break,
            _ => continue,
        };
        match when.as_deref() {
            Some("never") => cmd = cmd.color(clap::ColorChoice::Never),
            Some("always") => cmd = cmd.color(clap::ColorChoice::Always),
            _ => {}
        }
    }
    cmd
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
    let (mut cli, by_given) = match clap_command()
        .try_get_matches()
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)))
    {
        Ok((cli, m)) => (
            cli,
            m.value_source("by") == Some(clap::parser::ValueSource::CommandLine),
        ),
        Err(e) => return usage_error(e),
    };
    let g = &mut cli.global;
    // For `import`, csv and tsv name the input's format, not the output's.
    let input_format = matches!(cli.command, Command::Import(_))
        && matches!(g.format, Some(Format::Csv | Format::Tsv));
    let output_format = if input_format { None } else { g.format };
    g.ui = match Ui::detect(output_format, g.json, g.color) {
        Ok(ui) => ui,
        Err(message) => {
            report(
                Ui::detect(None, false, g.color).is_ok_and(|u| u.err_colour),
                &message,
                None,
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let writes = matches!(
        cli.command,
        Command::Record(_) | Command::Amend(_) | Command::Retract(_) | Command::Import(_)
    );
    if by_given && !writes {
        report(
            cli.global.ui.err_colour,
            &format!(
                "--by names who records, and `{}` records nothing",
                cli.command.name()
            ),
            Some("drop --by; it is for record, amend, retract and import"),
        );
        return ExitCode::from(EXIT_USAGE);
    }
    if let Err(f) = check_format(&cli.command, &cli.global) {
        report(cli.global.ui.err_colour, &f.message, f.hint.as_deref());
        return ExitCode::from(f.code);
    }
    let g = &mut cli.global;
    g.json = matches!(g.ui.format, Format::Json | Format::Jsonl) && g.ui.explicit;
    let colour = g.ui.err_colour;
    // A panic that the library catches (sled failing on damaged files) is
    // reported as an error line by the command; one that escapes is an
    // internal error, printed once below.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string().replace('\n', " ");
        *PANIC.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
    }));
    let ledger = match open::postgres_url(&cli.global) {
        Some(url) => Some(std::path::PathBuf::from(stancelog::shown_postgres_address(
            &url,
        ))),
        None => open::ledger_path(&cli.global).ok(),
    };
    let outcome = std::panic::catch_unwind(|| run(cli));
    let Ok(result) = outcome else {
        let msg = PANIC.lock().unwrap_or_else(|p| p.into_inner()).take();
        report(
            colour,
            &format!(
                "internal error: {} (please report it)",
                msg.as_deref().unwrap_or("a panic")
            ),
            None,
        );
        return ExitCode::from(101);
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if is_disk_full(&e) => {
            let place = ledger.map_or_else(|| "the ledger".to_owned(), |p| p.display().to_string());
            report(
                colour,
                &format!("the disk holding {place} is full; nothing was written"),
                None,
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            let hint = e
                .chain()
                .find_map(|c| c.downcast_ref::<Failed>())
                .and_then(|f| f.hint.clone());
            report(colour, &one_line(&e), hint.as_deref());
            ExitCode::from(exit_code(&e))
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
pub(crate) fn one_line(e: &anyhow::Error) -> String {
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
    let pager = if cli.command.pages() && g.ui.terminal && !g.no_pager {
        pager::Pager::start()
    } else {
        None
    };
    // Buffered: serde and the tables write in small pieces, and stdout's
    // own buffer is a line (a whole-ledger JSON array is one line); every
    // command's output is complete before it exits, and the flush below
    // reports a failed write.
    let mut out: Box<dyn Write + '_> = match &pager {
        Some(p) => Box::new(io::BufWriter::with_capacity(OUT_BUFFER, p.input())),
        None => Box::new(io::BufWriter::with_capacity(
            OUT_BUFFER,
            io::stdout().lock(),
        )),
    };
    let result = dispatch(cli.command, g, &mut out);
    let flushed = out.flush();
    drop(out);
    if let Some(p) = pager {
        p.wait();
    }
    result.and_then(|()| Ok(flushed?))
}

/// Bytes of output held before a write to stdout or the pager.
const OUT_BUFFER: usize = 64 * 1024;

fn dispatch(command: Command, g: &Global, out: &mut Box<dyn Write + '_>) -> Result<()> {
    match command {
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
        Command::Init(a) => backend::init(g, out, a),
        Command::Migrate(a) => backend::migrate(g, out, a),
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
        Command::Completions(a) => help::completions(out, clap_command(), a),
        Command::Man => help::man(out, clap_command()),
        Command::Help(a) => help::help(out, clap_command(), g.ui.colour, a),
        Command::Chart(a) => chart::chart(g, a),
        Command::Report(a) => report::report(g, a),
    }
}
