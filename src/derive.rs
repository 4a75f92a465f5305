//! What each event derives for the read model, as a pure function of the
//! event and (for an edit) the state of its target just before it. Because
//! derived rows depend on nothing else, `verify` can compare the read model
//! with a fresh replay row by row and `rebuild` can regenerate it.

use chrono::NaiveDate;

use crate::event::Event;
use crate::model::{Actor, Fact, Issue};

/// What an edit needs to know about the statement it targets, as of just
/// before the edit: where its versions live and whether it still counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetState {
    /// The statement's seq.
    pub seq: u64,
    /// Its actor (never changes).
    pub actor: Actor,
    /// Its issue (never changes).
    pub issue: Issue,
    /// Its date after all earlier amendments.
    pub stated_on: NaiveDate,
    /// Whether an earlier retraction withdrew it.
    pub retracted: bool,
}

impl TargetState {
    /// The state after `fact` (an edit of this statement) is applied: the
    /// one fold of a statement's lifecycle, shared by appends and replays.
    pub fn after(&self, fact: &Fact) -> TargetState {
        let mut next = self.clone();
        match fact {
            Fact::StatementAmended(a) => {
                if let Some(d) = a.stated_on {
                    next.stated_on = d;
                }
            }
            Fact::StatementRetracted(_) => next.retracted = true,
            Fact::StatementReinstated(_) => next.retracted = false,
            Fact::StatementRecorded(_)
            | Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_) => {}
        }
        next
    }

    /// The state of a statement just recorded at `seq`.
    pub fn recorded(seq: u64, fact: &Fact) -> Option<TargetState> {
        match fact {
            Fact::StatementRecorded(s) => Some(TargetState {
                seq,
                actor: s.actor.clone(),
                issue: s.issue.clone(),
                stated_on: s.stated_on,
                retracted: false,
            }),
            _ => None,
        }
    }
}

/// One version of a statement: a row of the read model's `versions` table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The actor of the statement.
    pub actor: String,
    /// The issue of the statement.
    pub issue: String,
    /// The statement's date as of this version.
    pub stated_on: NaiveDate,
    /// The statement's own seq.
    pub stmt_seq: u64,
    /// The seq of the event that made this version (the statement or an edit).
    pub version_seq: u64,
    /// This version is a retraction.
    pub tombstone: bool,
}

/// Everything one event derives beyond its own row in `events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derived {
    /// For an edit, the seq of the statement it edits.
    pub target_seq: Option<u64>,
    /// The version of a statement the event makes (none for an event that
    /// names things).
    pub version: Option<Version>,
}

/// The rows `event` derives; `target` is the state of the statement an edit
/// targets just before it (`None` for a statement). `None` for an edit
/// without a target state, which the rules never let through. A
/// reinstatement makes a version that counts again, at the statement's
/// date; the naming kinds make no version (queries read them from
/// `events`).
pub fn derive(event: &Event, target: Option<&TargetState>) -> Option<Derived> {
    let version = |t: &TargetState, stated_on: NaiveDate, tombstone: bool| Version {
        actor: t.actor.as_str().to_owned(),
        issue: t.issue.as_str().to_owned(),
        stated_on,
        stmt_seq: t.seq,
        version_seq: event.seq,
        tombstone,
    };
    match (&event.payload, target) {
        (Fact::StatementRecorded(s), _) => Some(Derived {
            target_seq: None,
            version: Some(Version {
                actor: s.actor.as_str().to_owned(),
                issue: s.issue.as_str().to_owned(),
                stated_on: s.stated_on,
                stmt_seq: event.seq,
                version_seq: event.seq,
                tombstone: false,
            }),
        }),
        (Fact::StatementAmended(a), Some(t)) => Some(Derived {
            target_seq: Some(t.seq),
            version: Some(version(t, a.stated_on.unwrap_or(t.stated_on), false)),
        }),
        (Fact::StatementRetracted(_), Some(t)) => Some(Derived {
            target_seq: Some(t.seq),
            version: Some(version(t, t.stated_on, true)),
        }),
        (Fact::StatementReinstated(_), Some(t)) => Some(Derived {
            target_seq: Some(t.seq),
            version: Some(version(t, t.stated_on, false)),
        }),
        (
            Fact::StatementAmended(_) | Fact::StatementRetracted(_) | Fact::StatementReinstated(_),
            None,
        ) => None,
        (
            Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_),
            _,
        ) => Some(Derived {
            target_seq: None,
            version: None,
        }),
    }
}
