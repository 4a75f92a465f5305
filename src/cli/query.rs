//! `stance`, `stances`, `history` and `changes`: questions answered from the
//! read model on both time axes, as text or JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use clap::Args;
use comfy_table::Cell;

use stancelog::{
    Actor, Attribution, Change, Edit, Filter, Issue, KnownAt, Ledger, Precision, Stance, StatedOn,
    StatementView, Wording,
};

use super::ui::{self, Format, Ui};
use super::{env, json, open, parse, records, table, text, Failed, Global};

#[derive(Args, Debug)]
pub struct TimeArgs {
    /// Valid time: the stance in force on this date (YYYY-MM-DD) [default: today]
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub(super) as_of: Option<NaiveDate>,
    /// Transaction time: only events recorded at or before this moment
    /// (RFC 3339, or a date meaning the end of that day UTC), or seq:N for
    /// the ledger right after seq N [default: now]
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    pub(super) known_at: Option<KnownAt>,
}

#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Only this actor (repeatable)
    #[arg(long = "actor", value_parser = parse::actor, value_name = "ACTOR")]
    actors: Vec<Actor>,
    /// Only this issue, by slug or alias (repeatable)
    #[arg(long = "issue", value_parser = parse::issue_name, value_name = "ISSUE")]
    issues: Vec<String>,
}

impl FilterArgs {
    /// The filter, its issue names resolved and its actors checked.
    pub(super) fn resolve(self, ledger: &Ledger, known_at: KnownAt) -> Result<Filter> {
        for a in &self.actors {
            ledger.check_actor(a)?;
        }
        let issues = self
            .issues
            .iter()
            .map(|n| ledger.find_issue(n, known_at))
            .collect::<stancelog::Result<Vec<Issue>>>()?;
        Ok(Filter {
            actors: self.actors,
            issues,
        })
    }
}

#[derive(Args, Debug)]
pub struct StanceArgs {
    /// Actor code, e.g. JPN
    #[arg(value_parser = parse::actor)]
    actor: Actor,
    /// Issue slug or alias, e.g. north-korea-sanctions-relief
    #[arg(value_parser = parse::issue_name, value_name = "ISSUE")]
    issue: String,
    #[command(flatten)]
    time: TimeArgs,
}

#[derive(Args, Debug)]
pub struct StancesArgs {
    #[command(flatten)]
    time: TimeArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// With --format csv or tsv: the issues x actors grid (a row per issue,
    /// a column per actor) instead of one row per stance
    #[arg(long)]
    matrix: bool,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Actor code
    #[arg(value_parser = parse::actor)]
    actor: Actor,
    /// Issue slug or alias
    #[arg(value_parser = parse::issue_name, value_name = "ISSUE")]
    issue: String,
    /// Only events recorded at or before this moment (RFC 3339, or a date = end of that day UTC), or seq:N: right after seq N
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
}

#[derive(Args, Debug)]
pub struct ChangesArgs {
    /// The earlier date (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    from: NaiveDate,
    /// The later date (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    to: NaiveDate,
    /// Only events recorded at or before this moment, or seq:N: right after seq N
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
    #[command(flatten)]
    filter: FilterArgs,
}

/// The actor checked and the issue name resolved, as a query sees them:
/// an unknown code or a name that appears nowhere in the ledger is an
/// error with what to use instead.
fn pair(ledger: &Ledger, actor: &Actor, issue: &str, known_at: KnownAt) -> Result<Issue> {
    ledger.check_actor(actor)?;
    Ok(ledger.find_issue(issue, known_at)?)
}

/// `JPN (Japan)`, or the code alone when nothing names it.
fn actor_label(ledger: &Ledger, actor: &Actor) -> Result<String> {
    Ok(match ledger.actor_name(actor)? {
        Some(n) => format!("{actor} ({})", text::clean(&n)),
        None => actor.to_string(),
    })
}

/// Each actor's name as the ledger knows it, for the `actor_name` column.
fn actor_names(ledger: &Ledger) -> impl Fn(&Actor) -> String + '_ {
    |a| ledger.actor_name(a).ok().flatten().unwrap_or_default()
}

pub fn stance(g: &Global, out: &mut impl Write, a: StanceArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let known_at = a.time.known_at.unwrap_or_default();
    let issue = pair(&ledger, &a.actor, &a.issue, known_at)?;
    let stance = ledger.stance(&a.actor, &issue, as_of, known_at)?;
    let ui = &g.ui;
    match ui.format {
        Format::Csv | Format::Tsv => {
            records::stances(ui, out, stance.as_slice(), &actor_names(&ledger))
        }
        _ if g.json => json::line(out, &stance),
        _ => {
            let label = actor_label(&ledger, &a.actor)?;
            let wording = ledger.issue_wording(&issue, known_at)?;
            print_stance(
                out,
                ui,
                &label,
                &issue,
                wording.as_ref(),
                as_of,
                stance.as_ref(),
            )
        }
    }
}

pub fn stances(g: &Global, out: &mut impl Write, a: StancesArgs) -> Result<()> {
    let ui = &g.ui;
    if a.matrix && !matches!(ui.format, Format::Csv | Format::Tsv) && ui.explicit {
        return Err(Failed::usage(
            format!(
                "--matrix shapes CSV and TSV; --format {} has no matrix form",
                ui.format.name()
            ),
            Some("use --format csv --matrix, or the table (which is a matrix already)".into()),
        )
        .into());
    }
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let known_at = a.time.known_at.unwrap_or_default();
    let filter = a.filter.resolve(&ledger, known_at)?;
    // The JSON forms stream: a whole ledger's stances are never all held.
    let jsonl = ui.format == Format::Jsonl;
    if jsonl || g.json && !matches!(ui.format, Format::Csv | Format::Tsv) {
        // Each stance is encoded into `buf`, then written whole.
        let mut buf = Vec::with_capacity(1024);
        let mut first = true;
        if !jsonl {
            out.write_all(b"[")?;
        }
        ledger.for_each_stance(as_of, known_at, &filter, |s| {
            buf.clear();
            if !std::mem::take(&mut first) && !jsonl {
                buf.push(b',');
            }
            json::value(&mut buf, &s)?;
            if jsonl {
                buf.push(b'\n');
            }
            out.write_all(&buf).map_err(anyhow::Error::from)
        })??;
        if !jsonl {
            out.write_all(b"]\n")?;
        }
        return Ok(());
    }
    let stances = ledger.stances(as_of, known_at, &filter)?;
    match ui.format {
        Format::Jsonl => unreachable!("streamed above"),
        Format::Csv | Format::Tsv if a.matrix => records::matrix(ui, out, &stances),
        Format::Csv | Format::Tsv => records::stances(ui, out, &stances, &actor_names(&ledger)),
        _ if g.json => json::line(out, &stances),
        _ => print_stances(out, ui, as_of, &stances),
    }
}

pub fn history(g: &Global, out: &mut impl Write, a: HistoryArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let known_at = a.known_at.unwrap_or_default();
    let issue = pair(&ledger, &a.actor, &a.issue, known_at)?;
    let views = ledger.history(&a.actor, &issue, known_at)?;
    let ui = &g.ui;
    match ui.format {
        Format::Jsonl => views
            .iter()
            .try_for_each(|v| json::line(out, &json::HistoryItem::from(v))),
        Format::Csv | Format::Tsv => records::history(ui, out, &views),
        _ if g.json => {
            let items: Vec<_> = views.iter().map(json::HistoryItem::from).collect();
            json::line(out, &items)
        }
        _ => {
            let wording = ledger.issue_wording(&issue, known_at)?;
            print_history(out, ui, &a.actor, &issue, wording.as_ref(), &views)
        }
    }
}

pub fn changes(g: &Global, out: &mut impl Write, a: ChangesArgs) -> Result<()> {
    let (from, to) = (a.from, a.to);
    if from > to {
        return Err(anyhow!("--from {from} is after --to {to}"));
    }
    let ledger = open::open_read(g)?;
    let known_at = a.known_at.unwrap_or_default();
    let filter = a.filter.resolve(&ledger, known_at)?;
    let changes = ledger.changes(from, to, known_at, &filter)?;
    let ui = &g.ui;
    match ui.format {
        Format::Jsonl => changes.iter().try_for_each(|c| json::line(out, c)),
        Format::Csv | Format::Tsv => records::changes(ui, out, &changes),
        _ if g.json => json::line(out, &changes),
        _ => print_changes(out, ui, from, to, &changes),
    }
}

/// `  label: value`, wrapped with a hanging indent.
fn field(out: &mut impl Write, ui: &Ui, label: &str, value: &str) -> Result<()> {
    let first = format!("  {label}: ");
    writeln!(
        out,
        "{}",
        ui::wrap(&text::clean(value), ui.width, &first, "      ")
    )?;
    Ok(())
}

/// The answer of `stance`, as a short block.
fn print_stance(
    out: &mut impl Write,
    ui: &Ui,
    actor: &str,
    issue: &Issue,
    wording: Option<&Wording>,
    as_of: NaiveDate,
    stance: Option<&Stance>,
) -> Result<()> {
    let Some(s) = stance else {
        writeln!(out, "{actor} on {issue} as of {as_of}: no stance recorded")?;
        proposition(out, wording)?;
        return Ok(());
    };
    let hedges: Vec<&str> = s.qualifiers.iter().map(|q| q.as_str()).collect();
    writeln!(
        out,
        "{actor} on {issue} as of {as_of}: {}{}",
        ui::position(ui.colour, s.position),
        if hedges.is_empty() {
            String::new()
        } else {
            format!(" ({})", hedges.join(", "))
        }
    )?;
    proposition(out, wording)?;
    writeln!(
        out,
        "  stated on: {}",
        StatedOn::as_given(s.stated_on, s.stated_on_precision)
    )?;
    field(out, ui, "summary", &s.summary)?;
    for (label, v) in [
        ("condition", &s.condition),
        ("quote", &s.quote),
        ("quote language", &s.quote_lang),
        ("translation", &s.translation),
        ("speaker", &s.speaker),
    ] {
        if let Some(v) = v {
            field(out, ui, label, v)?;
        }
    }
    if let Some(r) = s.speaker_role {
        writeln!(out, "  speaker role: {r}")?;
    }
    if s.attribution != Attribution::OnRecord {
        writeln!(out, "  attribution: {}", s.attribution)?;
    }
    if let Some(v) = &s.reported_by {
        field(out, ui, "reported by", v)?;
    }
    if s.sources.len() > 1
        || s.sources
            .iter()
            .any(|x| x.publisher.is_some() || x.published_on.is_some())
    {
        for src in &s.sources {
            let mut parts: Vec<String> = Vec::new();
            for v in [&src.title, &src.publisher].into_iter().flatten() {
                parts.push(v.clone());
            }
            if let Some(d) = src.published_on {
                parts.push(d.to_string());
            }
            if let Some(u) = &src.url {
                parts.push(u.clone());
            }
            field(out, ui, "source", &parts.join(", "))?;
        }
    } else {
        for (label, v) in [("source", &s.source_title), ("url", &s.source_url)] {
            if let Some(v) = v {
                field(out, ui, label, v)?;
            }
        }
    }
    let about = format!(
        "statement {} (seq {}, recorded {} by {}{})",
        ui::dim(ui.colour, &text::short_id(&s.statement_id)),
        s.seq,
        text::when(&s.recorded_at),
        text::clean(&s.recorded_by),
        match s.amendments {
            0 => String::new(),
            1 => ", 1 amendment".into(),
            n => format!(", {n} amendments"),
        }
    );
    writeln!(out, "{}", ui::wrap(&about, ui.width, "  ", "      "))?;
    Ok(())
}

/// The proposition under a heading, when the issue is defined.
fn proposition(out: &mut impl Write, wording: Option<&Wording>) -> Result<()> {
    if let Some(w) = wording {
        writeln!(out, "  proposition: {}", text::clean(&w.proposition))?;
    }
    Ok(())
}

/// The answer of `stances`: issues as rows, actors as columns.
fn print_stances(
    out: &mut impl Write,
    ui: &Ui,
    as_of: NaiveDate,
    stances: &[Stance],
) -> Result<()> {
    if stances.is_empty() {
        writeln!(out, "no stances in force as of {as_of}")?;
        return Ok(());
    }
    let actors: BTreeSet<&Actor> = stances.iter().map(|s| &s.actor).collect();
    write!(out, "{}", table::matrix(ui, as_of, stances))?;
    writeln!(
        out,
        "{}, {}",
        text::plural(stances.len(), "stance", "stances"),
        text::plural(actors.len(), "actor", "actors")
    )?;
    // Support and oppose mean nothing without the proposition: a legend.
    let mut legend: BTreeMap<&Issue, &str> = BTreeMap::new();
    for s in stances {
        if let Some(p) = &s.proposition {
            legend.insert(&s.issue, p);
        }
    }
    if !legend.is_empty() {
        writeln!(out, "propositions (support and oppose refer to these):")?;
        for (issue, p) in legend {
            writeln!(out, "  {issue}: {}", text::clean(p))?;
        }
    }
    Ok(())
}

/// An amendment's changes as `field: old → new`, in field order.
pub(super) fn changes_text(e: &Edit) -> Vec<String> {
    e.changes
        .iter()
        .map(|(k, v)| {
            let old = e.previous.as_ref().and_then(|p| p.get(k));
            match old {
                Some(Some(o)) => format!("{k}: {} → {}", text::clean(o), text::clean(v)),
                Some(None) => format!("{k}: (none) → {}", text::clean(v)),
                None => format!("{k}={}", text::clean(v)),
            }
        })
        .collect()
}

fn edit_line(out: &mut impl Write, ui: &Ui, e: &Edit) -> Result<()> {
    let changes = changes_text(e);
    let line = format!(
        "{} at seq {} ({} by {}): {}{}",
        match e.kind {
            "retraction" => "RETRACTED",
            "reinstatement" => "REINSTATED",
            _ => "amended",
        },
        e.seq,
        text::when(&e.recorded_at),
        text::clean(&e.recorded_by),
        text::clean(&e.reason),
        if changes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", changes.join(", "))
        }
    );
    writeln!(out, "{}", ui::wrap(&line, ui.width, "    ", "        "))?;
    Ok(())
}

/// The answer of `history`.
fn print_history(
    out: &mut impl Write,
    ui: &Ui,
    actor: &Actor,
    issue: &Issue,
    wording: Option<&Wording>,
    views: &[StatementView],
) -> Result<()> {
    if views.is_empty() {
        writeln!(out, "no statements recorded for {actor} on {issue}")?;
        proposition(out, wording)?;
        return Ok(());
    }
    writeln!(
        out,
        "{actor} on {issue}: {}",
        text::plural(views.len(), "statement", "statements")
    )?;
    proposition(out, wording)?;
    for v in views {
        let s = &v.statement;
        let precision = s.details.stated_on_precision.unwrap_or(Precision::Day);
        let pos = s.position.as_str();
        let first = format!(
            "{:<10}  {}{} ",
            StatedOn::as_given(s.stated_on, precision).to_string(),
            ui::position(ui.colour, s.position),
            " ".repeat(8usize.saturating_sub(pos.len()))
        );
        let summary = format!(
            "{}{}",
            text::clean(&s.summary),
            if v.retraction.is_some() {
                "  (retracted)"
            } else {
                ""
            }
        );
        writeln!(
            out,
            "{}",
            ui::wrap(&summary, ui.width, &first, &" ".repeat(21))
        )?;
        let about = format!(
            "statement {} (seq {}, recorded {} by {})",
            ui::dim(ui.colour, &text::short_id(&v.id)),
            v.seq,
            text::when(&v.recorded_at),
            text::clean(&v.recorded_by)
        );
        writeln!(out, "{}", ui::wrap(&about, ui.width, "    ", "        "))?;
        let mut edits: Vec<&Edit> = v
            .amendments
            .iter()
            .chain(&v.undone)
            .chain(&v.retraction)
            .collect();
        edits.sort_by_key(|e| e.seq);
        for e in edits {
            edit_line(out, ui, e)?;
        }
    }
    Ok(())
}

fn side(ui: &Ui, s: &Option<Stance>) -> Cell {
    match s {
        None => Cell::new("(none)"),
        Some(s) => table::position_cell(ui, s.position, &format!(" ({})", s.stated_on)),
    }
}

/// The answer of `changes`.
fn print_changes(
    out: &mut impl Write,
    ui: &Ui,
    from: NaiveDate,
    to: NaiveDate,
    changes: &[Change],
) -> Result<()> {
    if changes.is_empty() {
        writeln!(out, "no stance changed between {from} and {to}")?;
        return Ok(());
    }
    let mut t = table::new(ui);
    t.set_header(vec![
        table::header_cell(ui, "issue"),
        table::header_cell(ui, "actor"),
        table::header_cell(ui, &format!("as of {from}")),
        table::header_cell(ui, &format!("as of {to}")),
    ]);
    // Slugs and codes are not split; the dated columns wrap instead.
    for i in 0..2 {
        if let Some(col) = t.column_mut(i) {
            col.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    for c in changes {
        t.add_row(vec![
            Cell::new(c.issue.as_str()),
            Cell::new(c.actor.as_str()),
            side(ui, &c.from),
            side(ui, &c.to),
        ]);
    }
    write!(out, "{}", table::render(ui, &mut t))?;
    writeln!(
        out,
        "{} between {from} and {to}",
        text::plural(changes.len(), "change", "changes")
    )?;
    Ok(())
}
