//! Human and JSON renderings. Free text from the ledger is passed through
//! [`clean`] before it reaches a terminal, so control characters and ANSI
//! escapes stored in a quote are shown, never obeyed.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;

use stancelog::{format_timestamp, Actor, Change, Edit, Event, Fact, Issue, Stance, StatementView};

pub use stancelog::is_invisible;

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// Escapes control characters (ESC included), bidirectional controls and
/// invisible characters, so text cannot drive the terminal or display other
/// than it reads.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else if is_invisible(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A path as shown to a human: its lossy text, escaped like [`clean`].
pub fn path(p: &std::path::Path) -> String {
    clean(&p.display().to_string()).into_owned()
}

/// Writes one value as a line of JSON.
pub fn json_line(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    // serde_json wraps a failed write in its own error, whose chain does not
    // hold the io::Error: unwrap it, so a closed pipe is seen as one.
    serde_json::to_writer(&mut *out, value).map_err(|e| {
        if e.is_io() {
            anyhow::Error::from(std::io::Error::from(e))
        } else {
            anyhow::Error::from(e)
        }
    })?;
    writeln!(out)?;
    Ok(())
}

fn opt(label: &str, v: &Option<String>, out: &mut impl Write) -> Result<()> {
    if let Some(v) = v {
        writeln!(out, "  {label}: {}", clean(v))?;
    }
    Ok(())
}

/// The answer of `stance`, as a short block.
pub fn stance(
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
    writeln!(out, "  summary: {}", clean(&s.summary))?;
    opt("quote", &s.quote, out)?;
    opt("speaker", &s.speaker, out)?;
    opt("source", &s.source_title, out)?;
    opt("url", &s.source_url, out)?;
    writeln!(
        out,
        "  statement {} (seq {}, recorded {} by {}{})",
        s.statement_id,
        s.seq,
        format_timestamp(&s.recorded_at),
        clean(&s.recorded_by),
        match s.amendments {
            0 => String::new(),
            1 => ", 1 amendment".into(),
            n => format!(", {n} amendments"),
        }
    )?;
    Ok(())
}

/// The answer of `stances`: issues as rows, actors as columns.
pub fn stances(out: &mut impl Write, as_of: NaiveDate, stances: &[Stance]) -> Result<()> {
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
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "{}, {}",
        plural(stances.len(), "stance", "stances"),
        plural(actors.len(), "actor", "actors")
    )?;
    Ok(())
}

/// One statement of `history --json`.
#[derive(Serialize)]
pub struct HistoryItem<'a> {
    statement_id: uuid::Uuid,
    seq: u64,
    actor: &'a Actor,
    issue: &'a Issue,
    position: stancelog::Position,
    stated_on: NaiveDate,
    summary: &'a str,
    quote: &'a Option<String>,
    speaker: &'a Option<String>,
    source_url: &'a Option<String>,
    source_title: &'a Option<String>,
    recorded_at: String,
    recorded_by: &'a str,
    retracted: bool,
    amendments: &'a [Edit],
    retraction: &'a Option<Edit>,
}

impl<'a> From<&'a StatementView> for HistoryItem<'a> {
    fn from(v: &'a StatementView) -> Self {
        let s = &v.statement;
        HistoryItem {
            statement_id: v.id,
            seq: v.seq,
            actor: &s.actor,
            issue: &s.issue,
            position: s.position,
            stated_on: s.stated_on,
            summary: &s.summary,
            quote: &s.quote,
            speaker: &s.speaker,
            source_url: &s.source_url,
            source_title: &s.source_title,
            recorded_at: format_timestamp(&v.recorded_at),
            recorded_by: &v.recorded_by,
            retracted: v.retraction.is_some(),
            amendments: &v.amendments,
            retraction: &v.retraction,
        }
    }
}

fn edit_line(out: &mut impl Write, e: &Edit) -> Result<()> {
    let changes: Vec<String> = e
        .changes
        .iter()
        .map(|(k, v)| format!("{k}={}", clean(v)))
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
        clean(&e.recorded_by),
        clean(&e.reason),
        if changes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", changes.join(", "))
        }
    )?;
    Ok(())
}

/// The answer of `history`.
pub fn history(
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
            clean(&s.summary),
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
            clean(&v.recorded_by)
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
pub fn changes(
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

/// One line of `log`.
pub fn log_line(out: &mut impl Write, e: &Event) -> Result<()> {
    let what = match &e.payload {
        Fact::StatementRecorded(s) => format!(
            "{} {} {} {}: {}",
            s.actor,
            s.issue,
            s.position,
            s.stated_on,
            clean(&s.summary)
        ),
        Fact::StatementAmended(a) => format!("amends {}: {}", a.target, clean(&a.reason)),
        Fact::StatementRetracted(r) => format!("retracts {}: {}", r.target, clean(&r.reason)),
        Fact::StatementReinstated(r) => format!("reinstates {}: {}", r.target, clean(&r.reason)),
        Fact::IssueDefined(d) => format!("{}: {}", d.slug, clean(&d.proposition)),
        Fact::IssueReworded(r) => format!("rewords {}: {}", r.slug, clean(&r.reason)),
        Fact::AliasAdded(a) => format!("{} also named {}", a.slug, clean(&a.alias)),
        Fact::AliasRemoved(a) => format!(
            "{} no longer named {}: {}",
            a.slug,
            clean(&a.alias),
            clean(&a.reason)
        ),
        Fact::IssuesMerged(m) => format!("{} merged into {}: {}", m.from, m.into, clean(&m.reason)),
        Fact::ActorDefined(d) => format!("{} is {}", d.code, clean(&d.name)),
    };
    writeln!(
        out,
        "{:>6}  {}  {:<10} {}  by {}  {}",
        e.seq,
        format_timestamp(&e.recorded_at),
        e.kind(),
        e.id,
        clean(&e.recorded_by),
        what
    )?;
    Ok(())
}
