//! `compare` and `shifts`: how far two actors agree, and when positions
//! moved, from the stances in force.

use std::io::Write;

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use clap::Args;

use stancelog::{Actor, Comparison, KnownAt, Shift};

use super::{env, json, open, parse, query, ui, Global};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The first actor, e.g. JPN
    #[arg(value_parser = parse::actor)]
    a: Actor,
    /// The second actor, e.g. CHN
    #[arg(value_parser = parse::actor)]
    b: Actor,
    /// Valid time: the stances in force on this date (YYYY-MM-DD) [default: today]
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// Transaction time: only events recorded at or before this moment, or
    /// seq:N for the ledger right after seq N [default: now]
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
}

#[derive(Args, Debug)]
pub struct ShiftsArgs {
    /// Only shifts stated on or after this date (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Only shifts stated on or before this date (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    to: Option<NaiveDate>,
    #[command(flatten)]
    filter: query::FilterArgs,
    /// Transaction time: only events recorded at or before this moment, or
    /// seq:N for the ledger right after seq N [default: now]
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
}

pub fn compare(g: &Global, out: &mut impl Write, a: CompareArgs) -> Result<()> {
    if a.a == a.b {
        return Err(anyhow!(
            "compare needs two different actors (both are {}); name another",
            a.a
        ));
    }
    let ledger = open::open_read(g)?;
    ledger.check_actor(&a.a)?;
    ledger.check_actor(&a.b)?;
    let as_of = a.as_of.unwrap_or_else(env::today);
    let c = ledger.compare(&a.a, &a.b, as_of, a.known_at.unwrap_or_default())?;
    if g.json {
        json::line(out, &c)
    } else {
        print_comparison(out, g.ui.colour, &c)
    }
}

pub fn shifts(g: &Global, out: &mut impl Write, a: ShiftsArgs) -> Result<()> {
    if let (Some(from), Some(to)) = (a.from, a.to) {
        if from > to {
            return Err(anyhow!("--from {from} is after --to {to}"));
        }
    }
    let ledger = open::open_read(g)?;
    let known_at = a.known_at.unwrap_or_default();
    let filter = a.filter.resolve(&ledger, known_at)?;
    let shifts = ledger.shifts(a.from, a.to, known_at, &filter)?;
    match json::list(g, out, &shifts) {
        Some(done) => done,
        None => print_shifts(out, g.ui.colour, &shifts),
    }
}

/// An agreement as a person reads it: two decimals at most.
fn score(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn print_comparison(out: &mut impl Write, colour: bool, c: &Comparison) -> Result<()> {
    let Some(mean) = c.agreement else {
        writeln!(
            out,
            "{} and {} as of {}: no issue on which both have a stance in force",
            c.a, c.b, c.as_of
        )?;
        return Ok(());
    };
    writeln!(
        out,
        "{} and {} as of {}: mean agreement {} over {} shared issue{}",
        c.a,
        c.b,
        c.as_of,
        score(mean),
        c.shared,
        if c.shared == 1 { "" } else { "s" }
    )?;
    let width = c
        .issues
        .iter()
        .map(|s| s.issue.as_str().chars().count())
        .max()
        .unwrap_or(0);
    for s in &c.issues {
        writeln!(
            out,
            "  {:<width$}  {} {} {}",
            s.issue.as_str(),
            ui::position_padded(colour, s.a, 7),
            ui::position_padded(colour, s.b, 7),
            score(s.agreement),
        )?;
    }
    Ok(())
}

fn print_shifts(out: &mut impl Write, colour: bool, shifts: &[Shift]) -> Result<()> {
    if shifts.is_empty() {
        writeln!(out, "no position in force changed")?;
        return Ok(());
    }
    for s in shifts {
        let id = s.statement_id.to_string();
        writeln!(
            out,
            "{}  {} on {}: {} {} -> {}  (statement {})",
            s.stated_on,
            s.actor,
            s.issue,
            s.kind.as_str(),
            s.from
                .map_or_else(|| "(none)".to_owned(), |p| ui::position(colour, p)),
            ui::position(colour, s.to),
            &id[..8]
        )?;
    }
    writeln!(
        out,
        "{} shift{}",
        shifts.len(),
        if shifts.len() == 1 { "" } else { "s" }
    )?;
    Ok(())
}
