//! The rules: whether a request may be appended, and as what. Pure, given a
//! read-only view of what the ledger already holds; the store and the
//! importer supply the view, so every way in obeys the same rules.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::chain::content_id;
use crate::error::{Error, Result};
use crate::index::TargetState;
use crate::model::Payload;

/// A request to append one event: a payload and, optionally, the id it must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The id given by the user; derived from the content when absent.
    pub id: Option<Uuid>,
    /// What to record.
    pub payload: Payload,
}

/// What the rules need to know about the ledger.
pub trait View {
    /// The seq and payload of the event with this id, if any.
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Payload)>>;
    /// The current state of the statement at `seq`.
    fn target_state(&self, seq: u64) -> Result<TargetState>;
}

/// The outcome of applying the rules to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Append this payload under this id; for an edit, `target` is the state
    /// of the statement it edits.
    Append {
        /// The event's id.
        id: Uuid,
        /// The state of the targeted statement, for edits.
        target: Option<TargetState>,
    },
    /// The same event (same id, same content) is already in the ledger.
    Skip {
        /// The id already present.
        id: Uuid,
        /// Where it is.
        seq: u64,
    },
}

/// The rules that need no ledger: field limits and no statement from the
/// future. Lets a command fail before it creates anything.
pub fn precheck(req: &Request, recorded_on: NaiveDate) -> Result<()> {
    req.payload.validate()?;
    let stated_on = match &req.payload {
        Payload::Statement(s) => Some(s.stated_on),
        Payload::Amendment(a) => a.stated_on,
        Payload::Retraction(_) => None,
    };
    match stated_on {
        Some(d) if d > recorded_on => Err(Error::invalid(format!(
            "stated_on {d} is after the recording date {recorded_on} (statements cannot come from the future)"
        ))),
        _ => Ok(()),
    }
}

/// Applies every rule to `req`, as it would be recorded on `recorded_on`.
pub fn decide(req: &Request, view: &impl View, recorded_on: NaiveDate) -> Result<Decision> {
    precheck(req, recorded_on)?;
    let payload = &req.payload;
    let id = req.id.unwrap_or_else(|| content_id(payload));
    if let Some((seq, existing)) = view.find(&id)? {
        return if &existing == payload {
            Ok(Decision::Skip { id, seq })
        } else {
            Err(Error::invalid(format!(
                "id {id} is already used by a different event (seq {seq})"
            )))
        };
    }
    let target = match payload {
        Payload::Statement(_) => None,
        Payload::Amendment(a) => Some(live_target(view, &a.target, "amend")?),
        Payload::Retraction(r) => Some(live_target(view, &r.target, "retract")?),
    };
    Ok(Decision::Append { id, target })
}

/// Finds the statement an edit targets and checks it still counts.
fn live_target(view: &impl View, target: &Uuid, verb: &str) -> Result<TargetState> {
    let (seq, payload) = view
        .find(target)?
        .ok_or_else(|| Error::invalid(format!("cannot {verb} {target}: no such statement")))?;
    if !matches!(payload, Payload::Statement(_)) {
        return Err(Error::invalid(format!(
            "cannot {verb} {target}: it is an {}, not a statement (target the statement's id)",
            payload.kind()
        )));
    }
    let state = view.target_state(seq)?;
    if state.retracted {
        return Err(Error::invalid(format!(
            "cannot {verb} {target}: the statement is already retracted (record a new statement instead)"
        )));
    }
    Ok(state)
}
