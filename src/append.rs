//! The write path of new events: every command that adds events (record,
//! amend, retract, import) goes through [`append`]. Requests are decided one
//! by one against the read model (which sees the write's own rows), stamped,
//! and written through the one [`Writer`]; they become visible only when it
//! commits, and on any error nothing written remains.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::chain::event_hash;
use crate::decide::{decide, Decision, Request, View};
use crate::derive::{derive, TargetState};
use crate::error::Result;
use crate::event::Event;
use crate::ledger::Ledger;
use crate::model::{to_micros, validate_author, Fact};
use crate::writer::Writer;

/// Events per atomic batch of the log on large writes. sled holds one epoch
/// guard for a whole batch, so the node copies each insert replaces are
/// freed only after it (docs/PERFORMANCE.md).
pub const BATCH_EVENTS: usize = 256;

/// Who writes and what time it is; the clock is injected so tests and
/// replays of history are deterministic. The clock is read once per write:
/// all events of one write share their `recorded_at` (transaction time), so
/// no `--known-at` moment can see part of a write.
pub struct Context<'a> {
    /// The name recorded as `recorded_by`.
    pub author: String,
    /// Gives the current time; the ledger never lets `recorded_at` go backwards.
    pub clock: &'a dyn Fn() -> DateTime<Utc>,
    /// Called with the number of input events handled so far, now and then.
    pub progress: Option<&'a mut dyn FnMut(u64)>,
}

/// What happened to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The event's id.
    pub id: Uuid,
    /// Its seq (the existing one, if skipped).
    pub seq: u64,
    /// False when the same event was already present.
    pub added: bool,
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events appended.
    pub added: u64,
    /// Requests skipped because the same event was already present.
    pub skipped: u64,
    /// The outcome of the last request, if any.
    pub last: Option<Outcome>,
    /// The committed head after the write.
    pub head_seq: u64,
}

/// The rules' view of the ledger during a write: the read model inside the
/// writer's transaction, which sees the rows of this write's own events.
pub(crate) struct WriteView<'w, 's>(pub(crate) &'w Writer<'s>);

impl View for WriteView<'_, '_> {
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>> {
        Ok(self.0.query().event_by_id(id)?.map(|e| (e.seq, e.payload)))
    }

    fn target_state(&self, seq: u64) -> Result<TargetState> {
        self.0.query().target_state(seq)
    }
}

/// Decides one request and, if it adds an event, stamps it (at `now`, by
/// `author`) and pushes it with its rows.
fn push(
    writer: &mut Writer<'_>,
    req: Request,
    now: DateTime<Utc>,
    author: &str,
) -> Result<Outcome> {
    let (id, fact, target) = match decide(req, &WriteView(writer), now.date_naive())? {
        Decision::AlreadyRecorded { id, seq } => {
            return Ok(Outcome {
                id,
                seq,
                added: false,
            })
        }
        Decision::Append { id, fact, target } => (id, fact, target),
    };
    let prev = *writer.head();
    let seq = prev.seq + 1;
    let hash = event_hash(&prev.hash, seq, &id, &now, author, &fact);
    let event = Event {
        seq,
        id,
        recorded_at: now,
        recorded_by: author.to_owned(),
        prev_hash: prev.hash,
        hash,
        payload: fact,
    };
    let derived = derive(&event, target.as_ref()).ok_or_else(|| crate::Error::Corrupt {
        seq,
        message: "an edit without the state of its target".into(),
    })?;
    writer.push_event(&event, &derived)?;
    if writer.batch_len() >= BATCH_EVENTS {
        writer.apply()?;
    }
    Ok(Outcome {
        id,
        seq,
        added: true,
    })
}

/// Appends every request, all or nothing. The requests may come from a
/// stream of any length; memory stays bounded by [`BATCH_EVENTS`] (the read
/// model's transaction spills to its own file). On success the new head is
/// durable in the log and in the read model; on error nothing remains
/// written.
pub(crate) fn append(
    ledger: &Ledger,
    requests: impl IntoIterator<Item = Result<Request>>,
    ctx: &mut Context<'_>,
) -> Result<Summary> {
    validate_author(&ctx.author)?;
    let mut writer = ledger.writer()?;
    let now = to_micros((ctx.clock)()).max(writer.committed().recorded_at);
    let mut summary = Summary::default();
    let mut handled = 0u64;
    for req in requests {
        let outcome = push(&mut writer, req?, now, &ctx.author)?;
        if outcome.added {
            summary.added += 1;
        } else {
            summary.skipped += 1;
        }
        summary.last = Some(outcome);
        handled += 1;
        if handled.is_multiple_of(4096) {
            if let Some(p) = ctx.progress.as_mut() {
                p(handled);
            }
        }
    }
    summary.head_seq = writer.commit()?.seq;
    Ok(summary)
}
