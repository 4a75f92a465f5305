//! Every JSON shape the CLI prints, in one place: each is an interface that
//! scripts depend on, so field names here change only with an issue saying
//! so. Fields of the shapes built here are declared in alphabetical order,
//! the order they have always been printed in. Stances, changes and events
//! print as the library serialises them (`Stance`, `Change`, `Wire`,
//! `Comparison`, `Shift`).

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use stancelog::{format_timestamp, hex_hash, Actor, Edit, Head, Info, Issue, StatementView};

/// Writes one value as a line of JSON.
pub fn line(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    self::value(out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Writes one value as JSON (compact, as inside an array).
pub fn value(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
    // serde_json wraps a failed write in its own error, whose chain does not
    // hold the io::Error: unwrap it, so a closed pipe is seen as one.
    serde_json::to_writer(&mut *out, value).map_err(|e| {
        if e.is_io() {
            anyhow::Error::from(std::io::Error::from(e))
        } else {
            anyhow::Error::from(e)
        }
    })
}

/// A list in the machine form asked for, if one was: JSON Lines (one
/// element a line) for `--format jsonl`, one JSON array for `--json`;
/// `None` when the caller prints its human form.
pub fn list<T: Serialize>(
    g: &super::Global,
    out: &mut impl Write,
    items: &[T],
) -> Option<Result<()>> {
    if g.ui.format == super::ui::Format::Jsonl {
        return Some(items.iter().try_for_each(|i| line(out, i)));
    }
    g.json.then(|| line(out, &items))
}

/// What `record`, `amend` and `retract` print.
#[derive(Serialize)]
pub struct Written {
    pub added: bool,
    pub id: Uuid,
    pub seq: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// What `import` prints.
#[derive(Serialize)]
pub struct Imported<'a> {
    pub added: u64,
    pub file: &'a str,
    pub head_seq: u64,
    pub skipped: u64,
    pub superseded: u64,
}

/// What `restore` prints.
#[derive(Serialize)]
pub struct Restored<'a> {
    pub events: u64,
    pub file: &'a str,
    pub hash: String,
    pub seq: u64,
}

/// What `verify` prints when the ledger checks out.
#[derive(Serialize)]
pub struct Verified {
    pub events: u64,
    pub hash: String,
    pub index_entries: u64,
    pub ok: bool,
    pub seq: u64,
}

/// What `head` prints.
#[derive(Serialize)]
pub struct HeadJson {
    pub hash: String,
    pub recorded_at: String,
    pub seq: u64,
}

impl From<&Head> for HeadJson {
    fn from(head: &Head) -> Self {
        HeadJson {
            hash: hex_hash(&head.hash),
            recorded_at: format_timestamp(&head.recorded_at),
            seq: head.seq,
        }
    }
}

/// What `info` prints: the contract's fields, then the paths and formats.
#[derive(Serialize)]
pub struct InfoJson {
    pub path: String,
    pub read_model: String,
    pub head_seq: u64,
    pub head_hash: String,
    pub events: u64,
    pub statements: u64,
    pub actors: u64,
    pub issues: u64,
    pub first_stated_on: Option<NaiveDate>,
    pub last_stated_on: Option<NaiveDate>,
    pub bytes: u64,
    pub log_format: u8,
    pub record_format: u8,
    pub read_model_schema: String,
}

impl From<&Info> for InfoJson {
    fn from(i: &Info) -> Self {
        InfoJson {
            path: i.path.display().to_string(),
            read_model: i.read_model.display().to_string(),
            head_seq: i.head.seq,
            head_hash: hex_hash(&i.head.hash),
            events: i.events,
            statements: i.statements,
            actors: i.actors,
            issues: i.issues,
            first_stated_on: i.first_stated_on,
            last_stated_on: i.last_stated_on,
            bytes: i.bytes,
            log_format: i.log_format,
            record_format: i.record_format,
            read_model_schema: i.read_model_schema.clone(),
        }
    }
}

/// What `repair` prints.
#[derive(Serialize)]
pub struct Repaired {
    pub hash: String,
    pub repaired: u64,
    pub seq: u64,
}

/// What `rebuild` prints.
#[derive(Serialize)]
pub struct Rebuilt {
    pub events: u64,
    pub rebuilt: bool,
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
    // Added with record format 2 (docs/DOMAIN.md); optional ones are left
    // out when absent.
    stated_on_precision: stancelog::Precision,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    qualifiers: &'a [stancelog::Qualifier],
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: &'a Option<String>,
    attribution: stancelog::Attribution,
    #[serde(skip_serializing_if = "Option::is_none")]
    reported_by: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker_role: Option<stancelog::SpeakerRole>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    sources: &'a [stancelog::Source],
    #[serde(skip_serializing_if = "Option::is_none")]
    quote_lang: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    translation: &'a Option<String>,
    /// Retractions a reinstatement undid, each followed by that reinstatement.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    undone: &'a [Edit],
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
            stated_on_precision: s
                .details
                .stated_on_precision
                .unwrap_or(stancelog::Precision::Day),
            qualifiers: &s.details.qualifiers,
            condition: &s.details.condition,
            attribution: s
                .details
                .attribution
                .unwrap_or(stancelog::Attribution::OnRecord),
            reported_by: &s.details.reported_by,
            speaker_role: s.details.speaker_role,
            sources: &s.details.sources,
            quote_lang: &s.details.quote_lang,
            translation: &s.details.translation,
            undone: &v.undone,
        }
    }
}
