//! The rules, and the only place they live: whether a command may be
//! appended, and as which fact. Pure, given a read-only [`View`] of what the
//! ledger already holds. Every way in (append, import, restore) and every
//! replay of the log (rebuild, verify) runs [`decide`], so all five accept
//! exactly the same logs.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::chain::content_id;
use crate::error::{Result, RuleViolation};
use crate::index::TargetState;
use crate::model::{Command, Fact};

/// A command and, optionally, the id its fact must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The id given by the user; derived from the content when absent.
    pub id: Option<Uuid>,
    /// What to do.
    pub command: Command,
}

impl Request {
    /// Checks the rules that need no ledger (field limits, no statement
    /// dated after `recorded_on`), so that a caller can refuse a request
    /// before it opens or creates anything.
    pub fn precheck(&self, recorded_on: NaiveDate) -> Result<()> {
        precheck(&self.command, recorded_on)
    }
}

/// What the rules need to know about the ledger.
pub(crate) trait View {
    /// The seq and fact of the event with this id, if any.
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>>;
    /// The current state of the statement at `seq`.
    fn target_state(&self, seq: u64) -> Result<TargetState>;
}

/// The outcome of applying the rules to a request. Built once per request
/// and matched at once, so the size difference of its variants costs nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decision {
    /// Append this fact under this id; for an edit, `target` is the state
    /// of the statement it edits just before it.
    Append {
        /// The event's id.
        id: Uuid,
        /// What to append.
        fact: Fact,
        /// The state of the targeted statement, for edits.
        target: Option<TargetState>,
    },
    /// The same event (same id, same content) is already in the ledger.
    AlreadyRecorded {
        /// The id already present.
        id: Uuid,
        /// Where it is.
        seq: u64,
    },
}

/// The rules that need no ledger: field limits and no statement from the
/// future. Lets a command fail before it creates anything.
pub(crate) fn precheck(command: &Command, recorded_on: NaiveDate) -> Result<()> {
    command.validate()?;
    match command.stated_on() {
        Some(d) if d > recorded_on => Err(RuleViolation::FromTheFuture {
            stated_on: d,
            recorded_on,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Applies every rule to `req`, as it would be recorded on `recorded_on`.
pub(crate) fn decide(req: Request, view: &impl View, recorded_on: NaiveDate) -> Result<Decision> {
    precheck(&req.command, recorded_on)?;
    let fact = req.command.into_fact();
    let id = req.id.unwrap_or_else(|| content_id(&fact));
    if let Some((seq, existing)) = view.find(&id)? {
        return if existing == fact {
            Ok(Decision::AlreadyRecorded { id, seq })
        } else {
            Err(RuleViolation::IdInUse { id, seq }.into())
        };
    }
    let target = match &fact {
        Fact::StatementRecorded(_) => None,
        Fact::StatementAmended(a) => Some(live_target(view, &a.target, "amend")?),
        Fact::StatementRetracted(r) => Some(live_target(view, &r.target, "retract")?),
    };
    Ok(Decision::Append { id, fact, target })
}

/// Finds the statement an edit targets and checks it still counts.
fn live_target(view: &impl View, target: &Uuid, verb: &'static str) -> Result<TargetState> {
    let (seq, fact) = view.find(target)?.ok_or(RuleViolation::UnknownTarget {
        verb,
        target: *target,
    })?;
    if !matches!(fact, Fact::StatementRecorded(_)) {
        return Err(RuleViolation::NotAStatement {
            verb,
            target: *target,
            kind: fact.kind(),
        }
        .into());
    }
    let state = view.target_state(seq)?;
    if state.retracted {
        return Err(RuleViolation::AlreadyRetracted {
            verb,
            target: *target,
        }
        .into());
    }
    Ok(state)
}
