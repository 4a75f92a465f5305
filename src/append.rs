//! The single write path: every command that adds events (record, amend,
//! retract, import) goes through [`append`]. Events are decided one by one,
//! written in atomic batches, and become visible only when the final batch
//! moves the committed head; on any error everything written is discarded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::chain::event_hash;
use crate::codec;
use crate::decide::{decide, Decision, Request, View};
use crate::error::Result;
use crate::event::Event;
use crate::index::{self, TargetState};
use crate::model::{to_micros, validate_author, Payload};
use crate::store::{Head, Store, WriteBatch};

/// Events per atomic batch on large writes. sled holds one epoch guard for
/// a whole batch, so the node copies each insert replaces are freed only
/// after it: at a million events, batches of 256 imported about 18% faster
/// than batches of 2,048 and peaked about 90 MiB lower (docs/PERFORMANCE.md).
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

struct Appender<'s> {
    store: &'s Store,
    /// The transaction time of every event of this write.
    now: DateTime<Utc>,
    committed: u64,
    head: Head,
    batch: WriteBatch,
    applied_any: bool,
    pending: HashMap<Uuid, (u64, Payload)>,
    pending_targets: HashMap<u64, TargetState>,
}

impl View for Appender<'_> {
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Payload)>> {
        if let Some((seq, p)) = self.pending.get(id) {
            return Ok(Some((*seq, p.clone())));
        }
        match self.store.seq_of(id)? {
            None => Ok(None),
            Some(seq) => Ok(Some((seq, self.store.event_indexed(seq)?.payload))),
        }
    }

    fn target_state(&self, seq: u64) -> Result<TargetState> {
        match self.pending_targets.get(&seq) {
            Some(t) => Ok(t.clone()),
            None => self.store.target_state(seq, u64::MAX),
        }
    }
}

impl Appender<'_> {
    fn push(&mut self, req: Request, ctx: &Context<'_>) -> Result<Outcome> {
        let now = self.now;
        match decide(&req, self, now.date_naive())? {
            Decision::Skip { id, seq } => Ok(Outcome {
                id,
                seq,
                added: false,
            }),
            Decision::Append { id, target } => {
                let seq = self.head.seq + 1;
                let payload = req.payload;
                let hash = event_hash(&self.head.hash, seq, &id, &now, &ctx.author, &payload);
                let event = Event {
                    seq,
                    id,
                    recorded_at: now,
                    recorded_by: ctx.author.clone(),
                    prev_hash: self.head.hash,
                    hash,
                    payload,
                };
                self.batch
                    .insert(&index::log_key(seq), &codec::encode(&event));
                for (k, v) in index::derived_entries(&event, target.as_ref()) {
                    self.batch.insert(&k, &v);
                }
                // Later requests of the same batch may edit this statement
                // before it reaches the store: keep its state at hand.
                let state = match (target, &event.payload) {
                    (Some(t), p) => Some(t.after(p)),
                    (None, Payload::Statement(s)) => Some(TargetState {
                        seq,
                        actor: s.actor.clone(),
                        issue: s.issue.clone(),
                        stated_on: s.stated_on,
                        retracted: false,
                    }),
                    (None, _) => None,
                };
                if let Some(state) = state {
                    self.pending_targets.insert(state.seq, state);
                }
                self.pending.insert(id, (seq, event.payload));
                self.head = Head {
                    seq,
                    hash,
                    recorded_at: now,
                };
                if self.pending.len() >= BATCH_EVENTS {
                    self.store.apply(std::mem::take(&mut self.batch))?;
                    self.applied_any = true;
                    self.pending.clear();
                    self.pending_targets.clear();
                }
                Ok(Outcome {
                    id,
                    seq,
                    added: true,
                })
            }
        }
    }
}

/// Appends every request, all or nothing. The requests may come from a
/// stream of any length; memory stays bounded by [`BATCH_EVENTS`]. On
/// success the new head is durable; on error nothing remains written.
pub fn append(
    store: &Store,
    requests: impl IntoIterator<Item = Result<Request>>,
    ctx: &mut Context<'_>,
) -> Result<Summary> {
    validate_author(&ctx.author)?;
    let head = store.head()?;
    let mut app = Appender {
        store,
        now: to_micros((ctx.clock)()).max(head.recorded_at),
        committed: head.seq,
        head,
        batch: WriteBatch::default(),
        applied_any: false,
        pending: HashMap::new(),
        pending_targets: HashMap::new(),
    };
    let mut summary = Summary::default();
    let mut handled = 0u64;
    let result: Result<()> = (|| {
        for req in requests {
            let outcome = app.push(req?, ctx)?;
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
        Ok(())
    })();
    match result {
        Ok(()) => {
            if summary.added > 0 {
                let mut batch = app.batch;
                // One time entry per run of equal recorded_at: this write
                // extends the previous run when the clock has not moved on.
                let prev = store.head()?;
                if prev.seq > 0 && prev.recorded_at == app.now {
                    batch.remove(&index::time_key(&prev.recorded_at, prev.seq));
                }
                let (k, v) = index::time_entry(&app.now, app.head.seq);
                batch.insert(&k, &v);
                store.commit(batch, &app.head)?;
            }
            summary.head_seq = app.head.seq;
            Ok(summary)
        }
        Err(e) => {
            if app.applied_any {
                store.discard_after(app.committed)?;
                store.durable_flush()?;
            }
            Err(e)
        }
    }
}
