//! Folding events into what users ask about: a statement with its amendments
//! applied, and the stance in force for an (actor, issue) pair. Pure: no I/O
//! and no rules (those live in `decide`). The naive whole-log fold here is
//! the reference the indexed queries are tested and benchmarked against.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::derive::Version;
use crate::event::Event;
use crate::model::{Actor, Amendment, Fact, Issue, Position, Statement};

/// An amendment or retraction as it appears in a statement's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Log position of the edit.
    pub seq: u64,
    /// Its id.
    pub id: Uuid,
    /// `amendment` or `retraction`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When it was recorded.
    #[serde(serialize_with = "ser_time")]
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
    /// Why.
    pub reason: String,
    /// What an amendment changed (field name, new value); empty for a retraction.
    pub changes: BTreeMap<&'static str, String>,
}

/// A statement as it stands after its edits up to some point of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementView {
    /// The statement's id.
    pub id: Uuid,
    /// Its own log position (decides same-date ties).
    pub seq: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
    /// The content with amendments applied.
    pub statement: Statement,
    /// Every amendment applied, in log order.
    pub amendments: Vec<Edit>,
    /// The retraction, if it was withdrawn.
    pub retraction: Option<Edit>,
}

pub(crate) fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::model::format_timestamp(t))
}

impl StatementView {
    /// Starts a view from the event that recorded the statement.
    pub fn from_event(event: &Event) -> Option<StatementView> {
        match &event.payload {
            Fact::StatementRecorded(s) => Some(StatementView {
                id: event.id,
                seq: event.seq,
                recorded_at: event.recorded_at,
                recorded_by: event.recorded_by.clone(),
                statement: s.clone(),
                amendments: Vec::new(),
                retraction: None,
            }),
            _ => None,
        }
    }

    /// Applies an edit event of this statement.
    pub fn apply(&mut self, event: &Event) {
        let edit = |reason: &str, changes| Edit {
            seq: event.seq,
            id: event.id,
            kind: event.kind(),
            recorded_at: event.recorded_at,
            recorded_by: event.recorded_by.clone(),
            reason: reason.to_owned(),
            changes,
        };
        match &event.payload {
            Fact::StatementAmended(a) => {
                let changes = apply_amendment(&mut self.statement, a);
                self.amendments.push(edit(&a.reason, changes));
            }
            Fact::StatementRetracted(r) => self.retraction = Some(edit(&r.reason, BTreeMap::new())),
            Fact::StatementRecorded(_) => {}
        }
    }

    /// The stance this statement gives, for output.
    pub fn stance(&self) -> Stance {
        let s = &self.statement;
        Stance {
            actor: s.actor.clone(),
            issue: s.issue.clone(),
            position: s.position,
            stated_on: s.stated_on,
            summary: s.summary.clone(),
            quote: s.quote.clone(),
            speaker: s.speaker.clone(),
            source_url: s.source_url.clone(),
            source_title: s.source_title.clone(),
            statement_id: self.id,
            seq: self.seq,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by.clone(),
            amendments: self.amendments.len(),
        }
    }
}

/// Applies an amendment's fields to a statement; returns what changed.
pub fn apply_amendment(s: &mut Statement, a: &Amendment) -> BTreeMap<&'static str, String> {
    let mut changes = BTreeMap::new();
    if let Some(p) = a.position {
        s.position = p;
        changes.insert("position", p.to_string());
    }
    if let Some(d) = a.stated_on {
        s.stated_on = d;
        changes.insert("stated_on", d.to_string());
    }
    let mut text = |name: &'static str, field: &mut String, new: &Option<String>| {
        if let Some(v) = new {
            field.clone_from(v);
            changes.insert(name, v.clone());
        }
    };
    text("summary", &mut s.summary, &a.summary);
    let mut opt = |name: &'static str, field: &mut Option<String>, new: &Option<String>| {
        if let Some(v) = new {
            *field = Some(v.clone());
            changes.insert(name, v.clone());
        }
    };
    opt("quote", &mut s.quote, &a.quote);
    opt("speaker", &mut s.speaker, &a.speaker);
    opt("source_url", &mut s.source_url, &a.source_url);
    opt("source_title", &mut s.source_title, &a.source_title);
    changes
}

/// The stance of an actor on an issue: the statement in force, flattened for
/// output. JSON field names are a public interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stance {
    /// The actor.
    pub actor: Actor,
    /// The issue.
    pub issue: Issue,
    /// The position in force.
    pub position: Position,
    /// When the statement in force was made.
    pub stated_on: NaiveDate,
    /// Its summary.
    pub summary: String,
    /// Its quote.
    pub quote: Option<String>,
    /// Its speaker.
    pub speaker: Option<String>,
    /// Its source URL.
    pub source_url: Option<String>,
    /// Its source title.
    pub source_title: Option<String>,
    /// The id of the statement in force.
    pub statement_id: Uuid,
    /// The statement's log position.
    pub seq: u64,
    /// When the statement was recorded.
    #[serde(serialize_with = "ser_time")]
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
    /// How many amendments were applied to it.
    pub amendments: usize,
}

/// Picks the version in force among all version entries of one pair: each
/// statement counts in its latest version at or before `known_seq`, unless
/// that version is a retraction; of those stated on or before `as_of`, the
/// latest date wins, and a tie goes to the statement recorded later.
/// Returns `(stmt_seq, version_seq)`.
pub fn in_force(versions: &[Version], as_of: NaiveDate, known_seq: u64) -> Option<(u64, u64)> {
    counting(versions, known_seq)
        .filter(|v| v.stated_on <= as_of)
        .max_by_key(|v| (v.stated_on, v.stmt_seq))
        .map(|v| (v.stmt_seq, v.version_seq))
}

/// The statements that count as known at `known_seq`, each in its latest
/// version then: those whose latest version is not a retraction.
pub fn counting(versions: &[Version], known_seq: u64) -> impl Iterator<Item = &Version> {
    let mut latest: HashMap<u64, &Version> = HashMap::new();
    for v in versions.iter().filter(|v| v.version_seq <= known_seq) {
        let slot = latest.entry(v.stmt_seq).or_insert(v);
        if v.version_seq > slot.version_seq {
            *slot = v;
        }
    }
    latest.into_values().filter(|v| !v.tombstone)
}

/// Every statement as known at `known_seq`, folded from the whole log in one
/// pass, with no index: the bench's baseline.
#[cfg(feature = "internals")]
pub fn fold_statements<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    known_seq: u64,
) -> BTreeMap<Uuid, StatementView> {
    let mut views: BTreeMap<Uuid, StatementView> = BTreeMap::new();
    for e in events.into_iter().filter(|e| e.seq <= known_seq) {
        match e.payload.target() {
            None => {
                if let Some(v) = StatementView::from_event(e) {
                    views.insert(e.id, v);
                }
            }
            Some(t) => {
                if let Some(v) = views.get_mut(&t) {
                    v.apply(e);
                }
            }
        }
    }
    views
}

/// The stance in force for every pair, by the naive fold of the whole log.
#[cfg(feature = "internals")]
pub fn fold_stances<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    as_of: NaiveDate,
    known_seq: u64,
) -> BTreeMap<(Issue, Actor), Stance> {
    let mut best: BTreeMap<(Issue, Actor), &StatementView> = BTreeMap::new();
    let views = fold_statements(events, known_seq);
    for v in views.values() {
        let s = &v.statement;
        if v.retraction.is_some() || s.stated_on > as_of {
            continue;
        }
        let key = (s.issue.clone(), s.actor.clone());
        let wins = best
            .get(&key)
            .is_none_or(|b| (s.stated_on, v.seq) > (b.statement.stated_on, b.seq));
        if wins {
            best.insert(key, v);
        }
    }
    best.into_iter().map(|(k, v)| (k, v.stance())).collect()
}
