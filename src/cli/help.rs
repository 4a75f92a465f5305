//! Help beyond clap's defaults: the long help's examples (drawn from the
//! article fixture, so each one runs as printed after the README's quick
//! start) and exit-status section, the `help` command, shell completions
//! and the manual page.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use clap_complete::Shell;

/// The exit statuses, in short help.
pub const EXIT_STATUS_SHORT: &str =
    "Exit status: 0 ok, 1 error, 2 usage, 3 verify found a fault, 75 ledger busy. See --help.";

/// The exit statuses, in long help.
pub const EXIT_STATUS: &str = "\
Examples:
  stancelog import fixtures/xi-abe-summit-2019-12-23.jsonl
  stancelog stances --as-of 2019-12-23
  stancelog stances --as-of 2019-12-23 --format csv > stances.csv
  stancelog help stances

Exit status:
  0   success
  1   error: the command failed and wrote nothing (one line on stderr)
  2   usage: an unknown option, a bad value, a format the command cannot print
  3   `verify` found a fault, or the log does not extend the given --digest
  75  the ledger stayed busy (another process held it) for all of --wait;
      try again (EX_TEMPFAIL)";

pub const RECORD: &str = "\
Examples:
  stancelog record --actor USA --issue hong-kong-protests --position support \\
    --stated-on 2019-11-27 \\
    --summary \"Signed the Hong Kong Human Rights and Democracy Act into law.\"
  stancelog record --by analyst --actor JPN --issue senkaku-islands \\
    --position support --stated-on 2019-12-23 --summary \"...\" --json";

pub const AMEND: &str = "\
Examples:
  stancelog amend 1fdd54d6-0e30-5dcb-bc39-11b2f34ddf3e \\
    --reason \"article says 'urged self-restraint by Beijing'\" --quote \"self-restraint\"
  stancelog amend 1fdd54d6-0e30-5dcb-bc39-11b2f34ddf3e --reason \"misread\" --position mixed";

pub const RETRACT: &str = "\
Examples:
  stancelog retract a41d2ded-723a-5a18-9841-d1829b6eda4e --reason \"wrong source\"";

pub const IMPORT: &str = "\
Input:
  JSON Lines by default: one event per line, as `export` writes them.
  With --format csv (or tsv): a header row naming statement fields
  (actor, issue, position, stated_on, summary, and optionally quote,
  speaker, source_url, source_title, id), then one statement per row; an
  empty cell is an absent field. Errors name the row and the column.

Examples:
  stancelog import fixtures/xi-abe-summit-2019-12-23.jsonl
  stancelog import --format csv statements.csv
  cat more.jsonl | stancelog import -";

pub const STANCE: &str = "\
Examples:
  stancelog stance JPN north-korea-sanctions-relief --as-of 2019-12-23
  stancelog stance CHN hong-kong-protests --as-of 2019-12-23 --json
  stancelog stance JPN east-china-sea-restraint --as-of 2019-12-23 --known-at 2026-01-01";

pub const STANCES: &str = "\
Examples:
  stancelog stances --as-of 2019-12-23
  stancelog stances --as-of 2019-12-23 --issue hong-kong-protests --issue senkaku-islands
  stancelog stances --as-of 2019-12-23 --format csv           # one row per stance
  stancelog stances --as-of 2019-12-23 --format csv --matrix  # issues x actors
  stancelog stances --as-of 2019-12-23 --format jsonl --actor JPN";

pub const HISTORY: &str = "\
Examples:
  stancelog history JPN east-china-sea-restraint
  stancelog history CHN hong-kong-protests --format jsonl";

pub const CHANGES: &str = "\
Examples:
  stancelog changes --from 2019-12-01 --to 2019-12-31
  stancelog changes --from 2019-12-01 --to 2019-12-31 --issue hong-kong-protests --format csv";

pub const LOG: &str = "\
Examples:
  stancelog log --after-seq 20 --limit 5
  stancelog log --format csv > audit.csv
  stancelog log --json | jq -r .recorded_by | sort | uniq -c";

pub const VERIFY: &str = "\
Examples:
  stancelog verify
  stancelog verify --digest \"$(cat published-head.txt)\"

Exit status: 0 when every check passes; 3 when a fault is found, or when the
log does not extend the --digest given; 75 when the ledger stays busy.";

pub const HEAD: &str = "\
Examples:
  stancelog head > published-head.txt
  stancelog head --json";

pub const EXPORT: &str = "\
Examples:
  stancelog export > backup.jsonl
  stancelog --ledger new-ledger restore backup.jsonl";

pub const REBUILD: &str = "\
Examples:
  stancelog rebuild";

pub const REPAIR: &str = "\
Examples:
  stancelog repair";

pub const RESTORE: &str = "\
Examples:
  stancelog export > backup.jsonl
  stancelog --ledger new-ledger restore backup.jsonl";

pub const INIT: &str = "\
Examples:
  stancelog init postgres://analyst@db.example/newsroom
  stancelog init 'postgres://analyst@db.example/newsroom?schema=asia_desk'
  stancelog --ledger postgres://analyst@db.example/newsroom stances";

pub const MIGRATE: &str = "\
Examples:
  stancelog migrate --to postgres://analyst@db.example/newsroom
  stancelog --ledger postgres://analyst@db.example/newsroom verify --digest SEQ:HASH";

pub const COMPARE: &str = "\
Examples:
  stancelog compare JPN CHN --as-of 2019-12-31
  stancelog compare JPN CHN --as-of 2019-12-31 --json";

pub const SHIFTS: &str = "\
Examples:
  stancelog shifts --issue hong-kong-protests
  stancelog shifts --format jsonl";

pub const INFO: &str = "\
Examples:
  stancelog info
  stancelog info --json";

pub const CHART: &str = "\
Examples:
  stancelog chart north-korea-sanctions-relief --as-of 2020-06-30 -o chart.svg
  stancelog chart senkaku-islands --actor JPN --actor CHN -o senkaku.svg";

pub const REPORT: &str = "\
Examples:
  stancelog report --as-of 2019-12-31 -o briefing.html";

pub const COMPLETIONS: &str = "\
Examples:
  stancelog completions bash > ~/.local/share/bash-completion/completions/stancelog
  stancelog completions zsh > ~/.zfunc/_stancelog
  stancelog completions fish > ~/.config/fish/completions/stancelog.fish";

pub const MAN: &str = "\
Examples:
  stancelog man > stancelog.1 && man ./stancelog.1";

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Args, Debug)]
pub struct HelpArgs {
    /// The command to explain (none: stancelog itself)
    #[arg(value_name = "COMMAND")]
    command: Option<String>,
}

/// Writes `bytes` and flushes; a closed pipe is seen by the caller as one.
fn emit(out: &mut impl Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)?;
    Ok(out.flush()?)
}

pub fn completions(out: &mut impl Write, mut cmd: clap::Command, a: CompletionsArgs) -> Result<()> {
    // Generated into memory: the generators panic on a failed write.
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "stancelog", &mut buf);
    emit(out, &buf)
}

pub fn man(out: &mut impl Write, cmd: clap::Command) -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    emit(out, &buf)
}

pub fn help(out: &mut impl Write, mut cmd: clap::Command, colour: bool, a: HelpArgs) -> Result<()> {
    // Built first, so that subcommands have the global options and their
    // full names.
    cmd.build();
    let text = match a.command {
        None => cmd.render_long_help(),
        Some(name) => {
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            let Some(sub) = cmd.find_subcommand_mut(&name) else {
                return Err(anyhow::Error::new(super::Failed::usage(
                    format!("no command named {name:?}"),
                    Some(format!("the commands are {}", names.join(", "))),
                )));
            };
            sub.render_long_help()
        }
    };
    let text = if colour {
        text.ansi().to_string()
    } else {
        text.to_string()
    };
    emit(out, text.as_bytes())
}
