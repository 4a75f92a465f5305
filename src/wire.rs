//! The JSON form of an event, one struct for both directions: `import` reads
//! it (unknown fields rejected, so a typo such as `postion` is caught), and
//! `log --json` / `export` write it with the envelope added. An ordinary
//! import ignores the envelope fields other than `id`; `restore` uses them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chain::{hex_hash, Field};
use crate::decide::Request;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{
    excerpt, format_timestamp, parse_date, Amendment, Command, Retraction, Statement,
};

/// One event as a JSON object. Field names are a public interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wire {
    /// Envelope: log position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The event's id; derived from the content when absent on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Envelope: when it was recorded (RFC 3339, microseconds, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// Envelope: who recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// `statement`, `amendment` or `retraction`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Statement: who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Statement: on what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// Edits: the statement's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Edits: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Date stated (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_on: Option<String>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Source URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Source title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_title: Option<String>,
    /// Envelope: the previous event's hash (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// Envelope: this event's hash (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

fn required<'a>(kind: &str, field: &str, v: &'a Option<String>) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| Error::invalid(format!("{kind} is missing required field {field:?}")))
}

fn forbid(kind: &str, field: &str, present: bool, hint: &str) -> Result<()> {
    if present {
        Err(Error::invalid(format!(
            "{kind} cannot have field {field:?}{hint}"
        )))
    } else {
        Ok(())
    }
}

fn parse_uuid(field: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s)
        .map_err(|_| Error::invalid(format!("invalid {field} {} (expected a UUID)", excerpt(s))))
}

impl Wire {
    /// The event's full JSON form, envelope included.
    pub fn from_event(e: &Event) -> Wire {
        let mut w = Wire {
            seq: Some(e.seq),
            id: Some(e.id.to_string()),
            recorded_at: Some(format_timestamp(&e.recorded_at)),
            recorded_by: Some(e.recorded_by.clone()),
            kind: e.kind().to_owned(),
            prev_hash: Some(hex_hash(&e.prev_hash)),
            hash: Some(hex_hash(&e.hash)),
            ..Wire::default()
        };
        for (name, value) in crate::chain::payload_fields(&e.payload) {
            let slot = match name {
                Field::Actor => &mut w.actor,
                Field::Issue => &mut w.issue,
                Field::Target => &mut w.target,
                Field::Reason => &mut w.reason,
                Field::Position => &mut w.position,
                Field::StatedOn => &mut w.stated_on,
                Field::Summary => &mut w.summary,
                Field::Quote => &mut w.quote,
                Field::Speaker => &mut w.speaker,
                Field::SourceUrl => &mut w.source_url,
                Field::SourceTitle => &mut w.source_title,
            };
            *slot = value;
        }
        w
    }

    /// The whole event this object describes, envelope included, as read
    /// back from the read model (which stores this form). Checks syntax, not
    /// the hash: the caller compares it with the log where that matters.
    pub(crate) fn to_event(&self) -> std::result::Result<Event, String> {
        let req = self.to_request().map_err(|e| e.to_string())?;
        let missing = |f: &str| format!("event row without {f}");
        let recorded_at = self
            .recorded_at
            .as_deref()
            .ok_or_else(|| missing("recorded_at"))?;
        let recorded_at = chrono::DateTime::parse_from_rfc3339(recorded_at)
            .map_err(|_| format!("invalid recorded_at {recorded_at:?}"))?
            .with_timezone(&chrono::Utc);
        let hash = |f: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(crate::chain::parse_hash)
                .ok_or_else(|| format!("invalid {f}"))
        };
        Ok(Event {
            seq: self.seq.ok_or_else(|| missing("seq"))?,
            id: req.id.ok_or_else(|| missing("id"))?,
            recorded_at,
            recorded_by: self
                .recorded_by
                .clone()
                .ok_or_else(|| missing("recorded_by"))?,
            prev_hash: hash("prev_hash", &self.prev_hash)?,
            hash: hash("hash", &self.hash)?,
            payload: req.command.into_fact(),
        })
    }

    /// The append request this object asks for (envelope fields other than
    /// `id` are ignored). Checks field presence and syntax; the rules that
    /// need the ledger are checked by [`crate::decide`].
    pub fn to_request(&self) -> Result<Request> {
        let id = self
            .id
            .as_deref()
            .map(|s| parse_uuid("id", s))
            .transpose()?;
        let k = self.kind.as_str();
        let position = self.position.as_deref().map(str::parse).transpose()?;
        let stated_on = self.stated_on.as_deref().map(parse_date).transpose()?;
        let command = match k {
            "statement" => {
                forbid(k, "target", self.target.is_some(), "")?;
                forbid(k, "reason", self.reason.is_some(), "")?;
                Command::Record(Statement {
                    actor: required(k, "actor", &self.actor)?.parse()?,
                    issue: required(k, "issue", &self.issue)?.parse()?,
                    position: position.ok_or_else(|| {
                        Error::invalid("statement is missing required field \"position\"")
                    })?,
                    stated_on: stated_on.ok_or_else(|| {
                        Error::invalid("statement is missing required field \"stated_on\"")
                    })?,
                    summary: required(k, "summary", &self.summary)?.to_owned(),
                    quote: self.quote.clone(),
                    speaker: self.speaker.clone(),
                    source_url: self.source_url.clone(),
                    source_title: self.source_title.clone(),
                })
            }
            "amendment" => {
                let hint = " (actor and issue cannot be amended: retract the statement and record a new one)";
                forbid(k, "actor", self.actor.is_some(), hint)?;
                forbid(k, "issue", self.issue.is_some(), hint)?;
                Command::Amend(Amendment {
                    target: parse_uuid("target", required(k, "target", &self.target)?)?,
                    reason: required(k, "reason", &self.reason)?.to_owned(),
                    position,
                    stated_on,
                    summary: self.summary.clone(),
                    quote: self.quote.clone(),
                    speaker: self.speaker.clone(),
                    source_url: self.source_url.clone(),
                    source_title: self.source_title.clone(),
                })
            }
            "retraction" => {
                for (f, present) in [
                    ("actor", self.actor.is_some()),
                    ("issue", self.issue.is_some()),
                    ("position", self.position.is_some()),
                    ("stated_on", self.stated_on.is_some()),
                    ("summary", self.summary.is_some()),
                    ("quote", self.quote.is_some()),
                    ("speaker", self.speaker.is_some()),
                    ("source_url", self.source_url.is_some()),
                    ("source_title", self.source_title.is_some()),
                ] {
                    forbid(k, f, present, "")?;
                }
                Command::Retract(Retraction {
                    target: parse_uuid("target", required(k, "target", &self.target)?)?,
                    reason: required(k, "reason", &self.reason)?.to_owned(),
                })
            }
            other => {
                return Err(Error::invalid(format!(
                    "unknown type {} (expected statement, amendment or retraction)",
                    excerpt(other)
                )))
            }
        };
        Ok(Request { id, command })
    }
}
