//! `record`, `amend` and `retract`: one request each, appended durably.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use uuid::Uuid;

use stancelog::{
    validate_author, Actor, Amendment, Command as LedgerCommand, Context, Issue, Position, Request,
    Retraction, Statement,
};

use super::{env, json, open, parse, Global};

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Actor code (ISO 3166-1 alpha-3 by convention), e.g. CHN
    #[arg(long, value_parser = parse::actor)]
    pub actor: Actor,
    /// Issue slug naming a proposition, e.g. senkaku-islands
    #[arg(long, value_parser = parse::issue)]
    pub issue: Issue,
    /// support, oppose, neutral or mixed
    #[arg(long, value_parser = parse::position)]
    pub position: Position,
    /// When it was said (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub stated_on: NaiveDate,
    /// One-sentence account of the statement
    #[arg(long, value_parser = parse::visible_text)]
    pub summary: String,
    /// The words as quoted
    #[arg(long)]
    pub quote: Option<String>,
    /// Who spoke
    #[arg(long)]
    pub speaker: Option<String>,
    /// Where it was reported (http or https)
    #[arg(long, value_name = "URL")]
    pub source_url: Option<String>,
    /// Title of the report
    #[arg(long, value_name = "TITLE")]
    pub source_title: Option<String>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    pub id: Option<Uuid>,
    #[command(flatten)]
    pub by: env::By,
}

#[derive(Args, Debug)]
pub struct AmendArgs {
    /// The id of the statement to amend, or at least 6 of its first hex digits
    #[arg(value_parser = parse::statement_ref, value_name = "ID")]
    pub target: parse::StatementRef,
    /// Why the amendment is made
    #[arg(long, value_parser = parse::visible_text)]
    pub reason: String,
    /// New position
    #[arg(long, value_parser = parse::position)]
    pub position: Option<Position>,
    /// New date (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub stated_on: Option<NaiveDate>,
    /// New summary
    #[arg(long, value_parser = parse::visible_text)]
    pub summary: Option<String>,
    /// New quote
    #[arg(long)]
    pub quote: Option<String>,
    /// New speaker
    #[arg(long)]
    pub speaker: Option<String>,
    /// New source URL
    #[arg(long, value_name = "URL")]
    pub source_url: Option<String>,
    /// New source title
    #[arg(long, value_name = "TITLE")]
    pub source_title: Option<String>,
    /// Use this id for the amendment instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    pub id: Option<Uuid>,
    #[command(flatten)]
    pub by: env::By,
}

#[derive(Args, Debug)]
pub struct RetractArgs {
    /// The id of the statement to retract, or at least 6 of its first hex digits
    #[arg(value_parser = parse::statement_ref, value_name = "ID")]
    pub target: parse::StatementRef,
    /// Why it is retracted
    #[arg(long, value_parser = parse::visible_text)]
    pub reason: String,
    /// Use this id for the retraction instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    pub id: Option<Uuid>,
    #[command(flatten)]
    pub by: env::By,
}

pub fn record(g: &Global, out: &mut impl Write, a: RecordArgs) -> Result<()> {
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
    });
    write_one(g, &a.by, out, Request { id: a.id, command })
}

pub fn amend(g: &Global, out: &mut impl Write, a: AmendArgs) -> Result<()> {
    let command = LedgerCommand::Amend(Amendment {
        target: a.target.resolve(g)?,
        reason: a.reason,
        position: a.position,
        stated_on: a.stated_on,
        summary: a.summary,
        quote: a.quote,
        speaker: a.speaker,
        source_url: a.source_url,
        source_title: a.source_title,
    });
    write_one(g, &a.by, out, Request { id: a.id, command })
}

pub fn retract(g: &Global, out: &mut impl Write, a: RetractArgs) -> Result<()> {
    let command = LedgerCommand::Retract(Retraction {
        target: a.target.resolve(g)?,
        reason: a.reason,
    });
    write_one(g, &a.by, out, Request { id: a.id, command })
}

fn write_one(g: &Global, by: &env::By, out: &mut impl Write, req: Request) -> Result<()> {
    let kind = req.command.kind();
    let author = env::author(g, by)?;
    // Fail before touching the ledger when no ledger is needed to tell, and
    // never create a ledger for an edit, whose target cannot exist in it.
    validate_author(&author)?;
    req.precheck(env::today())?;
    let ledger = open::open(g, matches!(req.command, LedgerCommand::Record(_)))?;
    let mut ctx = Context {
        author,
        clock: &env::clock,
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
        let v = json::Written {
            added: o.added,
            id: o.id,
            seq: o.seq,
            kind,
        };
        json::line(out, &v)
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
