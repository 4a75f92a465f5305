//! `stance`, `stances`, `history` and `changes`: questions answered from the
//! read model on both time axes, as text or JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use clap::Args;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use stancelog::{
    format_timestamp, Actor, Change, Edit, Filter, Issue, KnownAt, Stance, StatementView,
};

use super::{env, json, open, parse, text, Global};

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
    /// Only this issue (repeatable)
    #[arg(long = "issue", value_parser = parse::issue, value_name = "ISSUE")]
    issues: Vec<Issue>,
}

impl From<FilterArgs> for Filter {
    fn from(f: FilterArgs) -> Self {
        Filter {
            actors: f.actors,
            issues: f.issues,
        }
    }
}

#[derive(Args, Debug)]
pub struct StanceArgs {
    /// Actor code, e.g. JPN
    #[arg(value_parser = parse::actor)]
    actor: Actor,
    /// Issue slug, e.g. north-korea-sanctions-relief
    #[arg(value_parser = parse::issue)]
    issue: Issue,
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
    /// Issue slug
    #[arg(value_parser = parse::issue)]
    issue: Issue,
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

pub fn stance(g: &Global, out: &mut impl Write, a: StanceArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let stance = ledger.stance(
        &a.actor,
        &a.issue,
        as_of,
        a.time.known_at.unwrap_or_default(),
    )?;
    if g.json {
        json::line(out, &stance)
    } else {
        print_stance(out, &a.actor, &a.issue, as_of, stance.as_ref())
    }
}

pub fn stances(g: &Global, out: &mut impl Write, a: StancesArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = a.time.as_of.unwrap_or_else(env::today);
    let stances = ledger.stances(as_of, a.time.known_at.unwrap_or_default(), &a.filter.into())?;
    if g.json {
        json::line(out, &stances)
    } else {
        print_stances(out, as_of, &stances)
    }
}

pub fn history(g: &Global, out: &mut impl Write, a: HistoryArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let views = ledger.history(&a.actor, &a.issue, a.known_at.unwrap_or_default())?;
    if g.json {
        let items: Vec<_> = views.iter().map(json::HistoryItem::from).collect();
        json::line(out, &items)
    } else {
        print_history(out, &a.actor, &a.issue, &views)
    }
}

pub fn changes(g: &Global, out: &mut impl Write, a: ChangesArgs) -> Result<()> {
    let (from, to) = (a.from, a.to);
    if from > to {
        return Err(anyhow!("--from {from} is after --to {to}"));
    }
    let ledger = open::open_read(g)?;
    let changes = ledger.changes(from, to, a.known_at.unwrap_or_default(), &a.filter.into())?;
    if g.json {
        json::line(out, &changes)
    } else {
        print_changes(out, from, to, &changes)
    }
}

/// The answer of `stance`, as a short block.
fn print_stance(
    out: &mut impl Write,
    actor: &Actor,
    issue: &Issue,
    as_of: NaiveDate,
    stance: Option<&Stance>,
) -> Result<()> {
    let Some(s) = stance else {
        writeln!(out, "{actor} on {issue} as of {as_of}: no stance recorded")?;
        return Ok(());
    };
    writeln!(out, "{actor} on {issue} as of {as_of}: {}", s.position)?;
    writeln!(out, "  stated on: {}", s.stated_on)?;
    writeln!(out, "  summary: {}", text::clean(&s.summary))?;
    text::opt(out, "quote", &s.quote)?;
    text::opt(out, "speaker", &s.speaker)?;
    text::opt(out, "source", &s.source_title)?;
    text::opt(out, "url", &s.source_url)?;
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
    Ok(())
}

fn edit_line(out: &mut impl Write, e: &Edit) -> Result<()> {
    let changes: Vec<String> = e
        .changes
        .iter()
        .map(|(k, v)| format!("{k}={}", text::clean(v)))
        .collect();
    writeln!(
        out,
        "    {} at seq {} ({} by {}): {}{}",
        if e.kind == "retraction" {
            "RETRACTED"
        } else {
            "amended"
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
    views: &[StatementView],
) -> Result<()> {
    if views.is_empty() {
        writeln!(out, "no statements recorded for {actor} on {issue}")?;
        return Ok(());
    }
    let n = views.len();
    writeln!(
        out,
        "{actor} on {issue}: {n} statement{}",
        if n == 1 { "" } else { "s" }
    )?;
    for v in views {
        let s = &v.statement;
        writeln!(
            out,
            "{}  {:<8} {}{}",
            s.stated_on,
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
        for e in v.amendments.iter().chain(&v.retraction) {
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
