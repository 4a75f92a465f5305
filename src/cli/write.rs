//! `record`, `amend`, `retract` and `reinstate`: one request each, appended
//! durably. The naming commands (`naming.rs`) use the same write path.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use uuid::Uuid;

use stancelog::{
    validate_author, Actor, Amendment, Attribution, Command as LedgerCommand, Context, Details,
    Issue, Ledger, Position, Precision, Qualifier, Reinstatement, Request, Retraction, Source,
    SpeakerRole, StatedOn, Statement,
};

/// One line on stderr naming the undefined issues a write recorded
/// statements on, with the nearest defined ones.
pub(super) fn warn_undefined(ledger: &Ledger, undefined: &[Issue]) -> Result<()> {
    if let Some(w) = undefined_warning(ledger, undefined)? {
        eprintln!("{w}");
    }
    Ok(())
}

/// The warning [`warn_undefined`] prints, if there is one.
pub(super) fn undefined_warning(ledger: &Ledger, undefined: &[Issue]) -> Result<Option<String>> {
    if undefined.is_empty() {
        return Ok(None);
    }
    let near = ledger.nearest_defined(undefined)?;
    let names: Vec<&str> = undefined.iter().map(Issue::as_str).collect();
    let (shown, more) = if names.len() > 5 {
        (&names[..5], format!(" and {} more", names.len() - 5))
    } else {
        (&names[..], String::new())
    };
    let hint = if near.is_empty() {
        " (define with `stancelog issue define SLUG --title T --proposition P`)".to_owned()
    } else {
        format!(
            " (nearest defined: {}; or define with `stancelog issue define`)",
            near.join(", ")
        )
    };
    Ok(Some(format!(
        "warning: statements on issues no definition names: {}{more}{hint}",
        shown.join(", ")
    )))
}

use super::{env, json, open, parse, Global};

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Actor code (ISO 3166-1 alpha-3 by convention), e.g. CHN
    #[arg(long, value_parser = parse::actor)]
    pub actor: Actor,
    /// Issue slug naming a proposition, e.g. senkaku-islands, or one of its aliases
    #[arg(long, value_parser = parse::issue_name, value_name = "ISSUE")]
    pub issue: String,
    /// support, oppose, neutral or mixed
    #[arg(long, value_parser = parse::position)]
    pub position: Position,
    /// When it was said: YYYY-MM-DD, or YYYY-MM / YYYY when only the month
    /// or year is known (it then counts from the period's last day)
    #[arg(long, value_parser = parse::stated_on, value_name = "DATE")]
    pub stated_on: StatedOn,
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
    /// Another source's URL (repeatable; after --source-url, which is the first)
    #[arg(long = "source", value_name = "URL")]
    pub sources: Vec<String>,
    /// Publisher of the first source
    #[arg(long, value_name = "NAME")]
    pub source_publisher: Option<String>,
    /// Publication date of the first source (YYYY-MM-DD)
    #[arg(long, value_parser = parse::date, value_name = "DATE")]
    pub source_published_on: Option<NaiveDate>,
    /// A hedge: not-yet, conditional (with --condition), in-principle, reiterated (repeatable)
    #[arg(long = "qualifier", value_parser = parse::qualifier, value_name = "Q")]
    pub qualifiers: Vec<Qualifier>,
    /// The condition of a conditional position
    #[arg(long, value_parser = parse::visible_text, value_name = "TEXT")]
    pub condition: Option<String>,
    /// Whose words: on-record (default), anonymous, reported (with --reported-by), inferred
    #[arg(long, value_parser = parse::attribution, value_name = "A")]
    pub attribution: Option<Attribution>,
    /// Who reported it (with --attribution reported)
    #[arg(long, value_parser = parse::visible_text, value_name = "NAME")]
    pub reported_by: Option<String>,
    /// The speaker's office: head-of-state, head-of-government, foreign-minister,
    /// spokesperson, official, legislature, envoy, state-media, other
    #[arg(long, value_parser = parse::speaker_role, value_name = "ROLE")]
    pub speaker_role: Option<SpeakerRole>,
    /// The language of the quote (a tag such as ja or zh-Hans)
    #[arg(long, value_name = "LANG")]
    pub quote_lang: Option<String>,
    /// A translation of the quote
    #[arg(long, value_name = "TEXT")]
    pub translation: Option<String>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    pub id: Option<Uuid>,
    #[command(flatten)]
    pub by: env::By,
}

#[derive(Args, Debug)]
pub struct ReinstateArgs {
    /// The id of the retracted statement, or at least 6 of its first hex digits
    #[arg(value_parser = parse::statement_ref, value_name = "ID")]
    pub target: parse::StatementRef,
    /// Why it counts again
    #[arg(long, value_parser = parse::visible_text)]
    pub reason: String,
    /// Use this id for the reinstatement instead of one derived from the content
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
    /// New date: YYYY-MM-DD, YYYY-MM or YYYY
    #[arg(long, value_parser = parse::stated_on, value_name = "DATE")]
    pub stated_on: Option<StatedOn>,
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
    let mut sources = Vec::new();
    if a.source_url.is_some()
        || a.source_title.is_some()
        || a.source_publisher.is_some()
        || a.source_published_on.is_some()
    {
        sources.push(Source {
            url: a.source_url,
            title: a.source_title,
            publisher: a.source_publisher,
            published_on: a.source_published_on,
        });
    }
    sources.extend(a.sources.into_iter().map(|url| Source {
        url: Some(url),
        ..Source::default()
    }));
    let (source_url, source_title, sources) = stancelog::split_sources(sources);
    let mut qualifiers = a.qualifiers;
    qualifiers.sort_unstable();
    qualifiers.dedup();
    let name = a.issue;
    let by = a.by;
    // The issue is resolved against the ledger (an alias names its issue,
    // a merged slug the one it was merged into) once it is open.
    let statement = move |issue: Issue| Statement {
        actor: a.actor,
        issue,
        position: a.position,
        stated_on: a.stated_on.date,
        summary: a.summary,
        quote: a.quote,
        speaker: a.speaker,
        source_url,
        source_title,
        details: Details {
            stated_on_precision: Some(a.stated_on.precision).filter(|p| *p != Precision::Day),
            qualifiers,
            condition: a.condition,
            attribution: a.attribution.filter(|x| *x != Attribution::OnRecord),
            reported_by: a.reported_by,
            speaker_role: a.speaker_role,
            sources,
            quote_lang: a.quote_lang,
            translation: a.translation,
        },
    };
    // A name that is no slug must be an alias of a ledger that exists: a
    // failed record creates no ledger.
    let issue: Issue = match name.parse() {
        Ok(slug) => slug,
        Err(e) => match open::open_read(g) {
            Ok(ledger) => ledger.resolve_issue(&name)?,
            Err(_) => return Err(e.into()),
        },
    };
    let req = Request {
        id: a.id,
        command: LedgerCommand::Record(statement(issue)),
    };
    write_resolved(g, &by, out, req, Some(&name))
}

pub fn reinstate(g: &Global, out: &mut impl Write, a: ReinstateArgs) -> Result<()> {
    let command = LedgerCommand::Reinstate(Reinstatement {
        target: a.target.resolve(g)?,
        reason: a.reason,
    });
    write_one(g, &a.by, out, Request { id: a.id, command })
}

pub fn amend(g: &Global, out: &mut impl Write, a: AmendArgs) -> Result<()> {
    let command = LedgerCommand::Amend(Amendment {
        target: a.target.resolve(g)?,
        reason: a.reason,
        position: a.position,
        stated_on: a.stated_on.map(|s| s.date),
        summary: a.summary,
        quote: a.quote,
        speaker: a.speaker,
        source_url: a.source_url,
        source_title: a.source_title,
        stated_on_precision: a
            .stated_on
            .map(|s| s.precision)
            .filter(|p| *p != Precision::Day),
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

pub(super) fn write_one(
    g: &Global,
    by: &env::By,
    out: &mut impl Write,
    req: Request,
) -> Result<()> {
    write_resolved(g, by, out, req, None)
}

/// Appends one request; a statement's issue is first resolved from
/// `issue_name` (a slug or an alias), and a statement on an issue no
/// definition names gets a warning naming the nearest defined ones.
fn write_resolved(
    g: &Global,
    by: &env::By,
    out: &mut impl Write,
    mut req: Request,
    issue_name: Option<&str>,
) -> Result<()> {
    let kind = req.command.kind();
    let author = env::author(g, by)?;
    // Fail before touching the ledger when no ledger is needed to tell, and
    // never create a ledger for an edit, whose target cannot exist in it.
    validate_author(&author)?;
    req.precheck(env::today())?;
    let creates = matches!(
        req.command,
        LedgerCommand::Record(_)
            | LedgerCommand::DefineIssue(_)
            | LedgerCommand::AddAlias(_)
            | LedgerCommand::DefineActor(_)
    );
    let ledger = open::open(g, creates)?;
    if let (Some(name), LedgerCommand::Record(s)) = (issue_name, &mut req.command) {
        s.issue = ledger.resolve_issue(name)?;
    }
    let mut ctx = Context {
        author,
        clock: &env::clock,
        progress: None,
    };
    let summary = ledger.append([Ok(req)], &mut ctx)?;
    warn_undefined(&ledger, &summary.undefined_issues)?;
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
