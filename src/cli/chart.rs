//! `stancelog chart`: one issue's positions over time as an SVG file. The
//! edge around [`super::svg`]: flags, one snapshot of the ledger, the file.
//! Also the pieces `report` shares: a chart built from a snapshot, the
//! issue's heading, and writing an output file whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use chrono::NaiveDate;
use clap::Args;

use stancelog::{format_timestamp, Actor, Filter, Head, Issue, Snapshot};

use super::query::TimeArgs;
use super::svg::{self, Chart};
use super::{env, open, parse, text, Global};

/// The flags of `chart`.
#[derive(Args, Debug)]
pub struct ChartArgs {
    /// Issue slug or alias, e.g. senkaku-islands
    #[arg(value_name = "ISSUE")]
    pub issue: String,
    /// Only this actor's lane, in the order given (repeatable) [default: every actor with a statement on the issue]
    #[arg(long = "actor", value_parser = parse::actor, value_name = "ACTOR")]
    pub actors: Vec<Actor>,
    /// The first day shown (YYYY-MM-DD) [default: the first statement's date]
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// The last day shown (YYYY-MM-DD) [default: --as-of]
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub to: Option<NaiveDate>,
    #[command(flatten)]
    pub time: TimeArgs,
    /// Where to write the SVG, or - for standard output
    #[arg(short = 'o', long = "output", value_name = "FILE.svg")]
    pub output: PathBuf,
}

/// The heading of an issue in pictures and reports: the proposition in
/// force at the snapshot's moment when the issue is defined, else its slug.
pub fn issue_heading(snap: &Snapshot<'_>, issue: &Issue) -> stancelog::Result<String> {
    Ok(snap
        .wording(issue)?
        .map_or_else(|| issue.as_str().to_owned(), |w| w.proposition))
}

/// Which moment a picture shows, for its caption.
pub fn known_label(head: &Head) -> String {
    if head.seq == 0 {
        "an empty ledger".to_owned()
    } else {
        format!(
            "the ledger at seq {} ({})",
            head.seq,
            format_timestamp(&head.recorded_at)
        )
    }
}

/// The chart of `issue` from one snapshot: a lane per actor of `actors`,
/// in that order, showing what was in force up to `as_of` between `from`
/// and `to` (see [`svg::window`]).
pub fn build(
    snap: &Snapshot<'_>,
    issue: &Issue,
    actors: &[Actor],
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> stancelog::Result<Chart> {
    let mut lanes = Vec::with_capacity(actors.len());
    for a in actors {
        let timeline = snap.timeline(a, issue)?;
        let history = snap.history(a, issue)?;
        lanes.push(svg::lane(a.as_str(), &timeline, &history, as_of));
    }
    let (from, to) = svg::window(&lanes, as_of, from, to);
    Ok(Chart {
        title: issue_heading(snap, issue)?,
        caption: format!(
            "{issue}: positions in force {from} to {to}{}; {}",
            if to == as_of {
                String::new()
            } else {
                format!(" (as of {as_of})")
            },
            known_label(&snap.head()?)
        ),
        from,
        to,
        lanes,
    })
}

/// Runs `chart`.
pub fn chart(g: &Global, args: ChartArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = args.time.as_of.unwrap_or_else(env::today);
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            return Err(anyhow!("--from {from} is after --to {to}"));
        }
    }
    let known_at = args.time.known_at.unwrap_or_default();
    for a in &args.actors {
        ledger.check_actor(a)?;
    }
    let issue = &ledger.find_issue(&args.issue, known_at)?;
    let chart = ledger.snapshot(known_at, |snap| {
        let filter = Filter {
            actors: Vec::new(),
            issues: vec![issue.clone()],
        };
        let on_issue: Vec<Actor> = snap.pairs(&filter)?.into_iter().map(|(a, _)| a).collect();
        if on_issue.is_empty() {
            return Ok(None);
        }
        let actors = if args.actors.is_empty() {
            on_issue
        } else {
            let mut given = args.actors.clone();
            let mut seen = std::collections::HashSet::new();
            given.retain(|a| seen.insert(a.clone()));
            given
        };
        build(snap, issue, &actors, as_of, args.from, args.to).map(Some)
    })?;
    let Some(chart) = chart else {
        let when = match args.time.known_at {
            Some(t) => format!(" as known at {t}"),
            None => String::new(),
        };
        return Err(anyhow!(
            "no statements on issue {issue}{when}; `stancelog stances` lists the issues that have some"
        ));
    };
    if chart.from > chart.to {
        return Err(anyhow!(
            "--from {} is after the last day shown, {} (--to, else --as-of)",
            chart.from,
            chart.to
        ));
    }
    write_output(&args.output, svg::svg(&chart).as_bytes())
}

/// Writes `bytes` to `path` whole or not at all (a temporary file beside
/// it, renamed over it), or to standard output for `-`.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return Ok(out.flush()?);
    }
    let shown = text::path(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(anyhow!("{shown} is a directory; give a file name with -o"));
    }
    // 0666 less the umask, as for any file a command creates (a temporary
    // file is 0600 otherwise).
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o666);
    let mut tmp = tempfile::Builder::new()
        .prefix(".stancelog-")
        .permissions(mode)
        .tempfile_in(dir)
        .with_context(|| format!("cannot write {shown}"))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {shown}"))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {shown}"))?;
    Ok(())
}
