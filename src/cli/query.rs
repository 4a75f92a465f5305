//! `stance`, `stances`, `history` and `changes`: questions answered from the
//! read model on both time axes, as text or JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use clap::Args;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use stancelog::{
    format_timestamp, Actor, Attribution, Change, Edit, Filter, Issue, KnownAt, Ledger, Precision,
    Stance, StatedOn, StatementView, Wording,
};

use super::{env, json, open, parse, text, Global};

#[derive(Args, Debug)]
pub struct TimeArgs {
    /// Valid time: the stance in force on this date (YYYY-MM-DD) [default: today]
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// Transaction time: only events recorded at or before this moment
    /// (RFC 3339, or a date meaning the end of that day UTC), or seq:N for
    /// the ledger right after seq N [default: now]
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
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
    fn resolve(self, ledger: &Ledger, known_at: KnownAt) -> Result<Filter> {
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

pub fn stance(g: &Global, out: &mut impl Write, a: StanceArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let known_at = a.time.known_at.unwrap_or_default();
    let issue = pair(&ledger, &a.actor, &a.issue, known_at)?;
    let stance = ledger.stance(&a.actor, &issue, as_of, known_at)?;
    if g.json {
        json::line(out, &stance)
    } else {
        let label = actor_label(&ledger, &a.actor)?;
        let wording = ledger.issue_wording(&issue, known_at)?;
        print_stance(
            out,
            &label,
            &issue,
            wording.as_ref(),
            as_of,
            stance.as_ref(),
        )
    }
}

pub fn stances(g: &Global, out: &mut impl Write, a: StancesArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let known_at = a.time.known_at.unwrap_or_default();
    let filter = a.filter.resolve(&ledger, known_at)?;
    let stances = ledger.stances(as_of, known_at, &filter)?;
    if g.json {
        json::line(out, &stances)
    } else {
        print_stances(out, as_of, &stances)
    }
}

pub fn history(g: &Global, out: &mut impl Write, a: HistoryArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let known_at = a.known_at.unwrap_or_default();
    let issue = pair(&ledger, &a.actor, &a.issue, known_at)?;
    let views = ledger.history(&a.actor, &issue, known_at)?;
    if g.json {
        let items: Vec<_> = views.iter().map(json::HistoryItem::from).collect();
        json::line(out, &items)
    } else {
        let wording = ledger.issue_wording(&issue, known_at)?;
        print_history(out, &a.actor, &issue, wording.as_ref(), &views)
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
    if g.json {
        json::line(out, &changes)
    } else {
        print_changes(out, from, to, &changes)
    }
}

/// The answer of `stance`, as a short block.
fn print_stance(
    out: &mut impl Write,
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
        s.position,
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
    writeln!(out, "  summary: {}", text::clean(&s.summary))?;
    text::opt(out, "condition", &s.condition)?;
    text::opt(out, "quote", &s.quote)?;
    text::opt(out, "quote language", &s.quote_lang)?;
    text::opt(out, "translation", &s.translation)?;
    text::opt(out, "speaker", &s.speaker)?;
    if let Some(r) = s.speaker_role {
        writeln!(out, "  speaker role: {r}")?;
    }
    if s.attribution != Attribution::OnRecord {
        writeln!(out, "  attribution: {}", s.attribution)?;
    }
    text::opt(out, "reported by", &s.reported_by)?;
    if s.sources.len() > 1
        || s.sources
            .iter()
            .any(|x| x.publisher.is_some() || x.published_on.is_some())
    {
        for src in &s.sources {
            let mut parts: Vec<String> = Vec::new();
            for v in [&src.title, &src.publisher].into_iter().flatten() {
                parts.push(text::clean(v).into_owned());
            }
            if let Some(d) = src.published_on {
                parts.push(d.to_string());
            }
            if let Some(u) = &src.url {
                parts.push(text::clean(u).into_owned());
            }
            writeln!(out, "  source: {}", parts.join(", "))?;
        }
    } else {
        text::opt(out, "source", &s.source_title)?;
        text::opt(out, "url", &s.source_url)?;
    }
    writeln!(
        out,
        "  statement {} (seq {}, recorded {} by {}{})",
        s.statement_id,
        s.seq,
        format_timestamp(&s.recorded_at),
        text::clean(&s.recorded_by),
        match s.amendments {
            0 => String::new(),
            1 => ", 1 amendment".into(),
            n => format!(", {n} amendments"),
        }
    )?;
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
fn print_stances(out: &mut impl Write, as_of: NaiveDate, stances: &[Stance]) -> Result<()> {
    if stances.is_empty() {
        writeln!(out, "no stances in force as of {as_of}")?;
        return Ok(());
    }
    let actors: BTreeSet<&Actor> = stances.iter().map(|s| &s.actor).collect();
    let mut rows: BTreeMap<&Issue, BTreeMap<&Actor, &Stance>> = BTreeMap::new();
    for s in stances {
        rows.entry(&s.issue).or_default().insert(&s.actor, s);
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec![format!("issue (as of {as_of})")];
    header.extend(actors.iter().map(|a| a.to_string()));
    table.set_header(header);
    for (issue, by_actor) in rows {
        let mut row = vec![issue.to_string()];
        row.extend(actors.iter().map(|a| {
            by_actor
                .get(a)
                .map_or(String::new(), |s| s.position.to_string())
        }));
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
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

fn edit_line(out: &mut impl Write, e: &Edit) -> Result<()> {
    let changes = changes_text(e);
    writeln!(
        out,
        "    {} at seq {} ({} by {}): {}{}",
        match e.kind {
            "retraction" => "RETRACTED",
            "reinstatement" => "REINSTATED",
            _ => "amended",
        },
        e.seq,
        format_timestamp(&e.recorded_at),
        text::clean(&e.recorded_by),
        text::clean(&e.reason),
        if changes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", changes.join(", "))
        }
    )?;
    Ok(())
}

/// The answer of `history`.
fn print_history(
    out: &mut impl Write,
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
    let n = views.len();
    writeln!(
        out,
        "{actor} on {issue}: {n} statement{}",
        if n == 1 { "" } else { "s" }
    )?;
    proposition(out, wording)?;
    for v in views {
        let s = &v.statement;
        let precision = s.details.stated_on_precision.unwrap_or(Precision::Day);
        writeln!(
            out,
            "{:<10}  {:<8} {}{}",
            StatedOn::as_given(s.stated_on, precision),
            s.position.as_str(),
            text::clean(&s.summary),
            if v.retraction.is_some() {
                "  (retracted)"
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "    statement {} (seq {}, recorded {} by {})",
            v.id,
            v.seq,
            format_timestamp(&v.recorded_at),
            text::clean(&v.recorded_by)
        )?;
        let mut edits: Vec<&Edit> = v
            .amendments
            .iter()
            .chain(&v.undone)
            .chain(&v.retraction)
            .collect();
        edits.sort_by_key(|e| e.seq);
        for e in edits {
            edit_line(out, e)?;
        }
    }
    Ok(())
}

fn side(s: &Option<Stance>) -> String {
    match s {
        None => "(none)".into(),
        Some(s) => format!("{} ({})", s.position, s.stated_on),
    }
}

/// The answer of `changes`.
fn print_changes(
    out: &mut impl Write,
    from: NaiveDate,
    to: NaiveDate,
    changes: &[Change],
) -> Result<()> {
    if changes.is_empty() {
        writeln!(out, "no stance changed between {from} and {to}")?;
        return Ok(());
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "issue",
            "actor",
            &format!("as of {from}"),
            &format!("as of {to}"),
        ]);
    for c in changes {
        table.add_row(vec![
            c.issue.to_string(),
            c.actor.to_string(),
            side(&c.from),
            side(&c.to),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{} changes between {from} and {to}", changes.len())?;
    Ok(())
}
