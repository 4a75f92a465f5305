//! The single write path: every command that adds events (record, amend,
//! retract, import) goes through [`append`]. Events are decided one by one,
//! written in atomic batches, and become visible only when the final batch
//! moves the committed head; on any error everything written is discarded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::chain::event_hash;
use crate::decide::{decide, Decision, Request, View};
use crate::error::Result;
use crate::event::Event;
use crate::index::{self, TargetState};
use crate::model::{to_micros, validate_author, Fact};
use crate::runs::SortedRuns;
use crate::store::Store;
use crate::writer::Writer;

/// Events per atomic batch on large writes. sled holds one epoch guard for
/// a whole batch, so the node copies each insert replaces are freed only
/// after it: at a million events, batches of 256 imported about 18% faster
/// than batches of 2,048 and peaked about 90 MiB lower (docs/PERFORMANCE.md).
pub const BATCH_EVENTS: usize = 256;

/// Version-index entries a write keeps in memory (about 120 bytes each)
/// before it sorts them and spills them to a temporary file.
pub const VERSION_RUN_ENTRIES: usize = 32_768;

/// Version entries per atomic batch when they are applied in key order.
const VERSION_BATCH: usize = 1024;

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
    writer: Writer<'s>,
    /// The transaction time of every event of this write.
    now: DateTime<Utc>,
    /// This write's events not yet applied to the store, by id.
    pending: HashMap<Uuid, (u64, Fact)>,
    /// The state of every statement this write has recorded or edited and
    /// not yet applied.
    pending_targets: HashMap<u64, TargetState>,
    /// This write's version entries, applied in key order before the commit:
    /// nothing reads the version keyspace while writing, and sled inserts
    /// keys in order far more cheaply than at random places (at a million
    /// events, the import was about 45% faster and its ledger about 20%
    /// smaller; docs/PERFORMANCE.md).
    versions: SortedRuns,
}

impl View for Appender<'_> {
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>> {
        if let Some((seq, p)) = self.pending.get(id) {
            return Ok(Some((*seq, p.clone())));
        }
        let store = self.writer.store();
        match store.seq_of(id)? {
            None => Ok(None),
            Some(seq) => Ok(Some((seq, store.event_indexed(seq)?.payload))),
        }
    }

    fn target_state(&self, seq: u64) -> Result<TargetState> {
        match self.pending_targets.get(&seq) {
            Some(t) => Ok(t.clone()),
            None => self.writer.store().target_state(seq, u64::MAX),
        }
    }
}

impl Appender<'_> {
    /// Adds the write's version entries to the batch in key order, applying
    /// it (still past the committed head) whenever it fills; what is left
    /// goes out with the commit. A small write thus stays one atomic batch.
    fn add_versions(&mut self) -> Result<()> {
        let versions = std::mem::replace(&mut self.versions, SortedRuns::new(1));
        for entry in versions.finish().map_err(sort_error)? {
            self.writer.insert(&entry.map_err(sort_error)?);
            if self.writer.batch_len() >= VERSION_BATCH {
                self.writer.apply()?;
            }
        }
        Ok(())
    }

    fn push(&mut self, req: Request, author: &str) -> Result<Outcome> {
        let now = self.now;
        let (id, fact, target) = match decide(req, self, now.date_naive())? {
            Decision::AlreadyRecorded { id, seq } => {
                return Ok(Outcome {
                    id,
                    seq,
                    added: false,
                })
            }
            Decision::Append { id, fact, target } => (id, fact, target),
        };
        let prev = *self.writer.head();
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
        self.writer.push_event(&event);
        for entry in index::derived_entries(&event, target.as_ref()) {
            if entry.0.first() == Some(&index::VERSION) {
                self.versions.push(entry).map_err(sort_error)?;
            } else {
                self.writer.insert(&entry);
            }
        }
        // Later requests of the same batch may edit this statement
        // before it reaches the store: keep its state at hand.
        let state = match (target, &event.payload) {
            (Some(t), p) => Some(t.after(p)),
            (None, Fact::StatementRecorded(s)) => Some(TargetState {
                seq,
                actor: s.actor.clone(),
                issue: s.issue.clone(),
                stated_on: s.stated_on,
                retracted: false,
            }),
            (None, Fact::StatementAmended(_) | Fact::StatementRetracted(_)) => None,
        };
        if let Some(state) = state {
            self.pending_targets.insert(state.seq, state);
        }
        self.pending.insert(id, (seq, event.payload));
        if self.pending.len() >= BATCH_EVENTS {
            self.writer.apply()?;
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

fn sort_error(e: std::io::Error) -> crate::Error {
    crate::Error::io("cannot sort the version index entries of this write", e)
}

/// Appends every request, all or nothing. The requests may come from a
/// stream of any length; memory stays bounded by [`BATCH_EVENTS`] and
/// [`VERSION_RUN_ENTRIES`]. On success the new head is durable; on error
/// nothing remains written.
pub(crate) fn append(
    store: &Store,
    requests: impl IntoIterator<Item = Result<Request>>,
    ctx: &mut Context<'_>,
) -> Result<Summary> {
    append_with_runs(store, requests, ctx, VERSION_RUN_ENTRIES)
}

/// [`append`], keeping `run_entries` version entries in memory at most.
fn append_with_runs(
    store: &Store,
    requests: impl IntoIterator<Item = Result<Request>>,
    ctx: &mut Context<'_>,
    run_entries: usize,
) -> Result<Summary> {
    validate_author(&ctx.author)?;
    let writer = Writer::begin(store)?;
    let now = to_micros((ctx.clock)()).max(writer.committed().recorded_at);
    let mut app = Appender {
        writer,
        now,
        pending: HashMap::new(),
        pending_targets: HashMap::new(),
        versions: SortedRuns::new(run_entries),
    };
    let mut summary = Summary::default();
    let mut handled = 0u64;
    for req in requests {
        let outcome = app.push(req?, &ctx.author)?;
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
    if summary.added > 0 {
        app.add_versions()?;
        // One time entry per run of equal recorded_at: this write
        // extends the previous run when the clock has not moved on.
        let prev = *app.writer.committed();
        if prev.seq > 0 && prev.recorded_at == app.now {
            app.writer
                .remove(&index::time_key(&prev.recorded_at, prev.seq));
        }
        let head_seq = app.writer.head().seq;
        app.writer.insert(&index::time_entry(&app.now, head_seq));
    }
    summary.head_seq = app.writer.commit()?.seq;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::model::{Amendment, Command, Retraction, Statement};
    use crate::query::{self, Filter};
    use crate::store::OpenOptions;

    fn statement(i: usize) -> Request {
        Request {
            id: Some(Uuid::from_u128(i as u128 + 1)),
            command: Command::Record(Statement {
                actor: format!("A{}", i % 5).parse().unwrap(),
                issue: format!("issue-{}", i % 13).parse().unwrap(),
                position: "support".parse().unwrap(),
                stated_on: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                    + chrono::Days::new((i * 7919 % 3000) as u64),
                summary: format!("statement {i}"),
                quote: None,
                speaker: None,
                source_url: None,
                source_title: None,
            }),
        }
    }

    /// Statements, amendments (some moving a statement to another date) and
    /// retractions, so that version entries come in every kind and order.
    fn requests() -> Vec<Request> {
        let mut out = Vec::new();
        for i in 0..400 {
            out.push(statement(i));
            if i % 9 == 8 {
                out.push(Request {
                    id: None,
                    command: Command::Amend(Amendment {
                        target: Uuid::from_u128(i as u128 - 3),
                        reason: "corrected".into(),
                        position: Some("oppose".parse().unwrap()),
                        stated_on: Some(NaiveDate::from_ymd_opt(2010, 6, 1).unwrap()),
                        summary: None,
                        quote: None,
                        speaker: None,
                        source_url: None,
                        source_title: None,
                    }),
                });
            }
            if i % 31 == 30 {
                out.push(Request {
                    id: None,
                    command: Command::Retract(Retraction {
                        target: Uuid::from_u128(i as u128 - 10),
                        reason: "withdrawn".into(),
                    }),
                });
            }
        }
        out
    }

    fn write(dir: &std::path::Path, run_entries: usize) -> Store {
        let opts = OpenOptions {
            create: true,
            ..OpenOptions::default()
        };
        let store = Store::open(dir, &opts).unwrap();
        let clock = || Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut ctx = Context {
            author: "test".into(),
            clock: &clock,
            progress: None,
        };
        append_with_runs(
            &store,
            requests().into_iter().map(Ok),
            &mut ctx,
            run_entries,
        )
        .unwrap();
        store
    }

    /// Version entries spilled in many sorted runs (seven entries each) end up
    /// exactly as a fresh replay derives them, and answer like a write that
    /// sorted them in memory.
    #[test]
    fn version_entries_spilled_in_runs_equal_a_fresh_replay() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let spilled = write(a.path(), 7);
        let in_memory = write(b.path(), VERSION_RUN_ENTRIES);
        let report = crate::audit::verify(&spilled, None, &mut |_| {}).unwrap();
        assert!(report.events > 400);
        for day in ["2001-01-01", "2005-06-30", "2010-06-01", "2030-01-01"] {
            let as_of: NaiveDate = day.parse().unwrap();
            let rows = |s: &Store| {
                query::stances(s, as_of, s.head().unwrap().seq, &Filter::default()).unwrap()
            };
            assert_eq!(rows(&spilled), rows(&in_memory), "as of {day}");
        }
        let versions = |s: &Store| {
            s.scan_prefix(&[index::VERSION])
                .map(|kv| kv.unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&spilled), versions(&in_memory));
    }
}
