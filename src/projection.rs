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
use crate::model::{
    Actor, Amendment, Attribution, Fact, Issue, Position, Precision, Qualifier, Source,
    SpeakerRole, StatedOn, Statement,
};

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
    /// For an amendment, each changed field's value just before it (`null`
    /// where the field was absent); not written for other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<BTreeMap<&'static str, Option<String>>>,
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
    /// The retraction in force, if it is withdrawn now.
    pub retraction: Option<Edit>,
    /// Retractions a reinstatement undid, each followed by that
    /// reinstatement, in log order: the audit trail keeps both.
    pub undone: Vec<Edit>,
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
                undone: Vec::new(),
            }),
            _ => None,
        }
    }

    /// Applies an edit event of this statement.
    pub fn apply(&mut self, event: &Event) {
        let edit = |reason: &str, changes, previous| Edit {
            seq: event.seq,
            id: event.id,
            kind: event.kind(),
            recorded_at: event.recorded_at,
            recorded_by: event.recorded_by.clone(),
            reason: reason.to_owned(),
            changes,
            previous,
        };
        match &event.payload {
            Fact::StatementAmended(a) => {
                let (changes, previous) = apply_amendment(&mut self.statement, a);
                self.amendments
                    .push(edit(&a.reason, changes, Some(previous)));
            }
            Fact::StatementRetracted(r) => {
                self.retraction = Some(edit(&r.reason, BTreeMap::new(), None))
            }
            Fact::StatementReinstated(r) => {
                if let Some(old) = self.retraction.take() {
                    self.undone.push(old);
                }
                self.undone.push(edit(&r.reason, BTreeMap::new(), None));
            }
            Fact::StatementRecorded(_)
            | Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_) => {}
        }
    }

    /// The stance this statement gives, for output (`title` and
    /// `proposition` are the query's to fill in, from the issue's wording).
    pub fn stance(&self) -> Stance {
        self.clone().into_stance()
    }

    /// [`StatementView::stance`], moving the fields instead of copying them.
    pub fn into_stance(self) -> Stance {
        let amendments = self.amendments.len();
        let s = self.statement;
        let d = s.details;
        let mut sources = d.sources;
        if s.source_url.is_some() || s.source_title.is_some() {
            sources.insert(
                0,
                Source {
                    url: s.source_url,
                    title: s.source_title,
                    ..Source::default()
                },
            );
        }
        let first = sources.first();
        Stance {
            title: None,
            proposition: None,
            stated_on_precision: d.stated_on_precision.unwrap_or(Precision::Day),
            qualifiers: d.qualifiers,
            condition: d.condition,
            attribution: d.attribution.unwrap_or(Attribution::OnRecord),
            reported_by: d.reported_by,
            speaker_role: d.speaker_role,
            quote_lang: d.quote_lang,
            translation: d.translation,
            actor: s.actor,
            issue: s.issue,
            position: s.position,
            stated_on: s.stated_on,
            summary: s.summary,
            quote: s.quote,
            speaker: s.speaker,
            source_url: first.and_then(|f| f.url.clone()),
            source_title: first.and_then(|f| f.title.clone()),
            sources,
            statement_id: self.id,
            seq: self.seq,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
            amendments,
        }
    }
}

/// What an amendment changed (field, new value) and each such field's
/// value before it (`None` where it was absent).
pub type Changes = (
    BTreeMap<&'static str, String>,
    BTreeMap<&'static str, Option<String>>,
);

/// Applies an amendment's fields to a statement; returns what changed,
/// from what. A new `source_url`/`source_title` changes the first source.
pub fn apply_amendment(s: &mut Statement, a: &Amendment) -> Changes {
    let mut changes = BTreeMap::new();
    let mut previous = BTreeMap::new();
    if let Some(p) = a.position {
        previous.insert("position", Some(s.position.to_string()));
        s.position = p;
        changes.insert("position", p.to_string());
    }
    if let Some(d) = a.stated_on {
        let old = s.details.stated_on_precision.unwrap_or(Precision::Day);
        previous.insert("stated_on", Some(StatedOn::as_given(s.stated_on, old)));
        s.stated_on = d;
        s.details.stated_on_precision = a.stated_on_precision;
        let new = a.stated_on_precision.unwrap_or(Precision::Day);
        changes.insert("stated_on", StatedOn::as_given(d, new));
    }
    if let Some(v) = &a.summary {
        previous.insert(
            "summary",
            Some(std::mem::replace(&mut s.summary, v.clone())),
        );
        changes.insert("summary", v.clone());
    }
    if a.source_url.is_some() || a.source_title.is_some() {
        if let Some(first) = s.details.sources.first_mut() {
            // The statement keeps its sources as a list: change its first.
            if let Some(v) = &a.source_url {
                previous.insert("source_url", first.url.replace(v.clone()));
                changes.insert("source_url", v.clone());
            }
            if let Some(v) = &a.source_title {
                previous.insert("source_title", first.title.replace(v.clone()));
                changes.insert("source_title", v.clone());
            }
        }
    }
    let has_list = !s.details.sources.is_empty();
    let mut opt = |name: &'static str, field: &mut Option<String>, new: &Option<String>| {
        if let Some(v) = new {
            previous.insert(name, field.replace(v.clone()));
            changes.insert(name, v.clone());
        }
    };
    opt("quote", &mut s.quote, &a.quote);
    opt("speaker", &mut s.speaker, &a.speaker);
    if !has_list {
        opt("source_url", &mut s.source_url, &a.source_url);
        opt("source_title", &mut s.source_title, &a.source_title);
    }
    (changes, previous)
}

/// The stance of an actor on an issue: the statement in force, flattened for
/// output. JSON field names are a public interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stance {
    /// The actor.
    pub actor: Actor,
    /// The issue (the slug a merged one now names).
    pub issue: Issue,
    /// The issue's title in force, `null` when it is not defined.
    pub title: Option<String>,
    /// The proposition the position refers to, `null` when not defined.
    pub proposition: Option<String>,
    /// The position in force.
    pub position: Position,
    /// When the statement in force was made (the last day of a coarse period).
    pub stated_on: NaiveDate,
    /// How precise `stated_on` is: `day`, `month` or `year`.
    pub stated_on_precision: Precision,
    /// Hedges on the position (left out when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<Qualifier>,
    /// The condition of a `conditional` position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Whose words: `on-record`, `anonymous`, `reported` or `inferred`.
    pub attribution: Attribution,
    /// Who reported it, for `reported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    /// The speaker's office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_role: Option<SpeakerRole>,
    /// The language of the quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_lang: Option<String>,
    /// A translation of the quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<String>,
    /// Its summary.
    pub summary: String,
    /// Its quote.
    pub quote: Option<String>,
    /// Its speaker.
    pub speaker: Option<String>,
    /// Its source URL.
    pub source_url: Option<String>,
    /// Its source title (of the first source).
    pub source_title: Option<String>,
    /// Every source, the first being `source_url`/`source_title`'s; left
    /// out when there is at most one with only a URL and title (which
    /// `source_url`/`source_title` then say).
    #[serde(skip_serializing_if = "legacy_sources")]
    pub sources: Vec<Source>,
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

/// Whether `source_url`/`source_title` say everything about the sources.
fn legacy_sources(sources: &[Source]) -> bool {
    match sources {
        [] => true,
        [one] => one.publisher.is_none() && one.published_on.is_none(),
        _ => false,
    }
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
