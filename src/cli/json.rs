//! Every JSON shape the CLI prints, in one place: each is an interface that
//! scripts depend on, so field names here change only with an issue saying
//! so. Fields of the shapes built here are declared in alphabetical order,
//! the order they have always been printed in. Stances, changes and events
//! print as the library serialises them (`Stance`, `Change`, `Wire`).

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use stancelog::{format_timestamp, hex_hash, Actor, Edit, Head, Issue, StatementView};

/// Writes one value as a line of JSON.
pub fn line(out: &mut impl Write, value: &impl Serialize) -> Result<()> {
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
