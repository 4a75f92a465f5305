//! Record format 1: mirror types of the event as bincode 2 (standard
//! config) encodes it through serde. Field order and variant order are the
//! stored format; these types never change (a new format gets a new module).
//! Decoding converts them into validated domain values, so a record read
//! from storage is checked like any input.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{validate_author, Amendment, Fact, Position, Retraction, Statement};

#[derive(Serialize, Deserialize)]
pub(super) struct EventV1 {
    seq: u64,
    id: Uuid,
    #[serde(with = "chrono::serde::ts_microseconds")]
    recorded_at: DateTime<Utc>,
    recorded_by: String,
    prev_hash: [u8; 32],
    hash: [u8; 32],
    payload: PayloadV1,
}

#[derive(Serialize, Deserialize)]
enum PayloadV1 {
    Statement(StatementV1),
    Amendment(AmendmentV1),
    Retraction(RetractionV1),
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) enum PositionV1 {
    Support,
    Oppose,
    Neutral,
    Mixed,
}

#[derive(Serialize, Deserialize)]
struct StatementV1 {
    actor: String,
    issue: String,
    position: PositionV1,
    stated_on: NaiveDate,
    summary: String,
    quote: Option<String>,
    speaker: Option<String>,
    source_url: Option<String>,
    source_title: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct AmendmentV1 {
    target: Uuid,
    reason: String,
    position: Option<PositionV1>,
    stated_on: Option<NaiveDate>,
    summary: Option<String>,
    quote: Option<String>,
    speaker: Option<String>,
    source_url: Option<String>,
    source_title: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct RetractionV1 {
    target: Uuid,
    reason: String,
}

impl From<Position> for PositionV1 {
    fn from(p: Position) -> Self {
        match p {
            Position::Support => PositionV1::Support,
            Position::Oppose => PositionV1::Oppose,
            Position::Neutral => PositionV1::Neutral,
            Position::Mixed => PositionV1::Mixed,
        }
    }
}

impl From<PositionV1> for Position {
    fn from(p: PositionV1) -> Self {
        match p {
            PositionV1::Support => Position::Support,
            PositionV1::Oppose => Position::Oppose,
            PositionV1::Neutral => Position::Neutral,
            PositionV1::Mixed => Position::Mixed,
        }
    }
}

impl EventV1 {
    /// The format-1 record of `e`, if format 1 can hold it: the three kinds
    /// of format 1 without any field of format 2.
    pub(super) fn of(e: &Event) -> Option<EventV1> {
        let payload = match &e.payload {
            Fact::StatementRecorded(s) if !s.details.is_empty() => return None,
            Fact::StatementAmended(a) if a.stated_on_precision.is_some() => return None,
            Fact::StatementRecorded(s) => PayloadV1::Statement(StatementV1 {
                actor: s.actor.as_str().to_owned(),
                issue: s.issue.as_str().to_owned(),
                position: s.position.into(),
                stated_on: s.stated_on,
                summary: s.summary.clone(),
                quote: s.quote.clone(),
                speaker: s.speaker.clone(),
                source_url: s.source_url.clone(),
                source_title: s.source_title.clone(),
            }),
            Fact::StatementAmended(a) => PayloadV1::Amendment(AmendmentV1 {
                target: a.target,
                reason: a.reason.clone(),
                position: a.position.map(Into::into),
                stated_on: a.stated_on,
                summary: a.summary.clone(),
                quote: a.quote.clone(),
                speaker: a.speaker.clone(),
                source_url: a.source_url.clone(),
                source_title: a.source_title.clone(),
            }),
            Fact::StatementRetracted(r) => PayloadV1::Retraction(RetractionV1 {
                target: r.target,
                reason: r.reason.clone(),
            }),
            Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_)
            | Fact::StatementReinstated(_) => return None,
        };
        Some(EventV1 {
            seq: e.seq,
            id: e.id,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by.clone(),
            prev_hash: e.prev_hash,
            hash: e.hash,
            payload,
        })
    }
}

impl TryFrom<EventV1> for Event {
    type Error = Error;

    /// Upcasts a format-1 record into the domain, validating every value
    /// (codes, slugs, field limits, the author) as an append would.
    fn try_from(e: EventV1) -> Result<Event> {
        let invalid = |err: Error| Error::Decode(err.to_string());
        let payload = match e.payload {
            PayloadV1::Statement(s) => Fact::StatementRecorded(Statement {
                actor: s.actor.parse().map_err(invalid)?,
                issue: s.issue.parse().map_err(invalid)?,
                position: s.position.into(),
                stated_on: s.stated_on,
                summary: s.summary,
                quote: s.quote,
                speaker: s.speaker,
                source_url: s.source_url,
                source_title: s.source_title,
                details: Default::default(),
            }),
            PayloadV1::Amendment(a) => Fact::StatementAmended(Amendment {
                target: a.target,
                reason: a.reason,
                position: a.position.map(Into::into),
                stated_on: a.stated_on,
                summary: a.summary,
                quote: a.quote,
                speaker: a.speaker,
                source_url: a.source_url,
                source_title: a.source_title,
                stated_on_precision: None,
            }),
            PayloadV1::Retraction(r) => Fact::StatementRetracted(Retraction {
                target: r.target,
                reason: r.reason,
            }),
        };
        payload.validate().map_err(invalid)?;
        validate_author(&e.recorded_by).map_err(invalid)?;
        Ok(Event {
            seq: e.seq,
            id: e.id,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by,
            prev_hash: e.prev_hash,
            hash: e.hash,
            payload,
        })
    }
}
