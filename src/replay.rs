//! A fresh replay of the log, one event at a time and independent of the
//! read model: runs every event through the rules ([`decide`], the same
//! function every append runs) and yields the rows it derives. `verify`
//! compares them with the read model, and `restore` checks an export with
//! it, so both accept exactly what an append accepts.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::decide::{decide, Decision, Request, View};
use crate::derive::{derive, Derived, TargetState};
use crate::error::{Error, Result, RuleViolation};
use crate::event::Event;
use crate::model::{validate_author, Amendment, Fact, Issue, Reinstatement, Retraction};
use crate::names::Names;

/// What the replay remembers of each id seen so far.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// A statement: its seq, current date, and whether it is retracted.
    Statement(u64, NaiveDate, bool),
    /// An amendment or retraction, at this seq.
    Edit(u64),
}

/// Replay state: one small entry per event id (about 40 bytes), so a replay of
/// millions of events stays within a few hundred MiB.
#[derive(Default)]
pub struct Replay {
    seen: HashMap<Uuid, Seen>,
    /// The naming events so far (few: issues, aliases, merges, actors).
    names: Names,
    /// Every slug a statement is on (one entry per issue, not per statement).
    issues: HashSet<Issue>,
}

/// The replay's state as a [`View`] for the rules; `load` fetches an earlier
/// event by seq.
struct ReplayView<'a, L> {
    seen: &'a HashMap<Uuid, Seen>,
    names: &'a Names,
    issues: &'a HashSet<Issue>,
    load: &'a L,
}

impl<L: Fn(u64) -> Result<Event>> View for ReplayView<'_, L> {
    /// A replay refuses any repeated id, so which edit came last does not
    /// matter to it.
    fn latest_edit(&self, _seq: u64) -> Result<Option<u64>> {
        Ok(None)
    }

    fn names(&self) -> &Names {
        self.names
    }

    fn has_statements(&self, issue: &Issue) -> Result<bool> {
        Ok(self.issues.contains(issue))
    }

    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>> {
        let seq = match self.seen.get(id) {
            None => return Ok(None),
            Some(Seen::Statement(seq, _, _)) | Some(Seen::Edit(seq)) => *seq,
        };
        Ok(Some((seq, (self.load)(seq)?.payload)))
    }

    fn target_state(&self, seq: u64) -> Result<TargetState> {
        let event = (self.load)(seq)?;
        let Fact::StatementRecorded(s) = event.payload else {
            return Err(Error::Corrupt {
                seq,
                message: "an edit targets this event but it is not a statement".into(),
            });
        };
        let Some(&Seen::Statement(_, stated_on, retracted)) = self.seen.get(&event.id) else {
            return Err(Error::Corrupt {
                seq,
                message: "the replay lost track of this statement".into(),
            });
        };
        Ok(TargetState {
            seq,
            actor: s.actor,
            issue: s.issue,
            stated_on,
            retracted,
        })
    }
}

impl Replay {
    /// A replay with room for `events` ids, so that a replay of a known
    /// length never rehashes (at a million events, rehashing the growing
    /// map was a few percent of `verify`).
    pub fn with_capacity(events: u64) -> Replay {
        Replay {
            seen: HashMap::with_capacity(usize::try_from(events).unwrap_or(0)),
            ..Replay::default()
        }
    }

    /// Checks `event` against the events before it, by the rules of an
    /// append recorded at the event's own `recorded_at`, and returns the
    /// rows it derives. `load` fetches an earlier event by seq (for an edit's
    /// actor and issue). A rule violation comes back as its description, for
    /// the caller to attach to the event's seq.
    pub fn step(
        &mut self,
        event: &Event,
        load: impl Fn(u64) -> Result<Event>,
    ) -> std::result::Result<Derived, String> {
        validate_author(&event.recorded_by).map_err(|e| e.to_string())?;
        let kind = event.kind();
        let view = ReplayView {
            seen: &self.seen,
            names: &self.names,
            issues: &self.issues,
            load: &load,
        };
        let request = Request {
            id: Some(event.id),
            command: event.payload.clone().into_command(),
        };
        let target = match decide(request, &view, event.recorded_at.date_naive()) {
            Ok(Decision::Append { target, .. }) => target,
            Ok(Decision::AlreadyRecorded { id, .. })
            | Err(Error::Rule(RuleViolation::IdInUse { id, .. })) => {
                return Err(format!("duplicate id {id}"))
            }
            Err(Error::Rule(
                RuleViolation::UnknownTarget { target, .. }
                | RuleViolation::NotAStatement { target, .. },
            )) => {
                return Err(format!(
                    "{kind} targets {target}, which is not an earlier statement"
                ))
            }
            Err(Error::Rule(RuleViolation::AlreadyRetracted { target, .. })) => {
                return Err(format!(
                    "{kind} targets {target}, which is already retracted"
                ))
            }
            Err(Error::Rule(RuleViolation::NotRetracted { target })) => {
                return Err(format!("{kind} targets {target}, which is not retracted"))
            }
            Err(e) => return Err(e.to_string()),
        };
        match (&event.payload, &target) {
            (Fact::StatementRecorded(s), _) => {
                self.seen
                    .insert(event.id, Seen::Statement(event.seq, s.stated_on, false));
                if !self.issues.contains(&s.issue) {
                    self.issues.insert(s.issue.clone());
                }
            }
            (
                Fact::StatementAmended(Amendment { target: id, .. })
                | Fact::StatementRetracted(Retraction { target: id, .. })
                | Fact::StatementReinstated(Reinstatement { target: id, .. }),
                Some(before),
            ) => {
                let after = before.after(&event.payload);
                self.seen.insert(
                    id.to_owned(),
                    Seen::Statement(before.seq, after.stated_on, after.retracted),
                );
                self.seen.insert(event.id, Seen::Edit(event.seq));
            }
            (
                Fact::StatementAmended(_)
                | Fact::StatementRetracted(_)
                | Fact::StatementReinstated(_),
                None,
            ) => return Err(format!("{kind} has no target")),
            (
                Fact::IssueDefined(_)
                | Fact::IssueReworded(_)
                | Fact::AliasAdded(_)
                | Fact::AliasRemoved(_)
                | Fact::IssuesMerged(_)
                | Fact::ActorDefined(_),
                _,
            ) => {
                self.names.apply(&event.payload);
                self.seen.insert(event.id, Seen::Edit(event.seq));
            }
        }
        derive(event, target.as_ref()).ok_or_else(|| format!("{kind} has no target"))
    }
}
