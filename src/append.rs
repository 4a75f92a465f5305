//! The write path of new events: every command that adds events (record,
//! amend, retract, import) goes through [`append`]. Requests are decided one
//! by one against the read model (which sees the write's own rows), stamped,
//! and written through the one [`Writer`]; they become visible only when it
//! commits, and on any error nothing written remains.

use std::cell::Cell;
use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::chain::event_hash;
use crate::decide::{check_actors, check_content_id, decide, Decision, Request, View};
use crate::derive::{derive, TargetState};
use crate::error::{Result, RuleViolation};
use crate::event::Event;
use crate::ledger::Ledger;
use crate::model::{format_timestamp, to_micros, validate_author, Amendment, Fact};
use crate::names::Names;
use crate::projection::StatementView;
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
    /// When not added: the later event that undid the one present (its
    /// retraction, or a later amendment), so that the request is a new one
    /// history superseded rather than a repeat.
    pub superseded_by: Option<u64>,
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events appended.
    pub added: u64,
    /// Requests skipped because the same event was already present (both
    /// exact repeats and those in [`Summary::superseded`]).
    pub skipped: u64,
    /// Of the skipped requests, those whose event a later one undid.
    pub superseded: u64,
    /// Input lines that carried an export's envelope (authors, times,
    /// hashes), checked, and recorded anew by this write's author and time.
    pub envelopes: u64,
    /// The outcome of the last request, if any.
    pub last: Option<Outcome>,
    /// The committed head after the write.
    pub head_seq: u64,
    /// The slugs of statements added on issues no definition names (still
    /// valid: a slug alone is an issue), in the order first met, once each.
    pub undefined_issues: Vec<crate::model::Issue>,
}

/// The rules' view of the ledger during a write: the read model inside the
/// writer's transaction, which sees the rows of this write's own events,
/// and the naming events folded so far (kept up to date by the write).
pub(crate) struct WriteView<'w, 's>(
    pub(crate) &'w Writer<'s>,
    pub(crate) &'w Names,
    /// Ids known to be in no event: see [`Unused`].
    pub(crate) &'w Unused,
);

/// Ids that one query found in no event of the ledger, less those this
/// write has since appended: their lookups need no query. On PostgreSQL a
/// query is a round trip, and an import looks up every line's id, so the
/// write asks once per [`PREFETCH`] requests (on SQLite a lookup is an
/// index probe in process, and nothing is prefetched).
#[derive(Default)]
pub(crate) struct Unused(HashSet<Uuid>);

/// Requests whose ids are looked up in one query (PostgreSQL).
pub(crate) const PREFETCH: usize = 512;

impl WriteView<'_, '_> {
    /// The naming events of the read model as the writer sees it.
    pub(crate) fn load_names(writer: &Writer<'_>) -> Result<Names> {
        Ok(Names::from_events(&writer.query().naming_events(u64::MAX)?))
    }
}

impl View for WriteView<'_, '_> {
    fn names(&self) -> &Names {
        self.1
    }

    fn has_statements(&self, issue: &crate::model::Issue) -> Result<bool> {
        self.0.has_statements(issue)
    }

    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>> {
        if self.2 .0.contains(id) {
            return Ok(None);
        }
        Ok(self.0.query().event_by_id(id)?.map(|e| (e.seq, e.payload)))
    }

    fn target_state(&self, seq: u64) -> Result<TargetState> {
        self.0.query().target_state(seq)
    }

    fn latest_edit(&self, seq: u64) -> Result<Option<u64>> {
        self.0.query().latest_edit(seq)
    }
}

/// Decides one request and, if it adds an event, stamps it (at `now`, by
/// `author`) and pushes it with its rows.
fn push(
    writer: &mut Writer<'_>,
    names: &mut Names,
    unused: &mut Unused,
    req: Request,
    now: DateTime<Utc>,
    author: &str,
) -> Result<Outcome> {
    let view = WriteView(writer, names, unused);
    let (id, fact, target) = match decide(req, &view, now.date_naive())? {
        Decision::AlreadyRecorded {
            id,
            seq,
            superseded_by,
        } => {
            return Ok(Outcome {
                id,
                seq,
                added: false,
                superseded_by,
            })
        }
        Decision::Append { id, fact, target } => (id, fact, target),
    };
    // A repeat was checked when it was first appended; a new event's id
    // must be the content id of what it says, if it claims to be one.
    check_content_id(id, &fact)?;
    check_actors(&fact, names)?;
    if let (Fact::StatementAmended(a), Some(t)) = (&fact, &target) {
        if amends_nothing(writer, t.seq, a)? {
            return Err(RuleViolation::AmendsNothing { target: a.target }.into());
        }
    }
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
    unused.0.remove(&id);
    names.apply(&event.payload);
    if writer.batch_len() >= BATCH_EVENTS {
        writer.apply()?;
    }
    Ok(Outcome {
        id,
        seq,
        added: true,
        superseded_by: None,
    })
}

/// Whether every field `a` gives already has that value in the statement at
/// `seq` as it stands: a command rule (old no-op amendments stay valid).
fn amends_nothing(writer: &Writer<'_>, seq: u64, a: &Amendment) -> Result<bool> {
    let q = writer.query();
    let Some(mut view) = StatementView::from_event(&q.event_indexed(seq)?) else {
        return Ok(false);
    };
    for e in q.edits(seq, u64::MAX)? {
        view.apply(&e);
    }
    let s = &view.statement;
    let same = |given: &Option<String>, have: &Option<String>| given.is_none() || given == have;
    Ok(a.position.is_none_or(|p| p == s.position)
        && a.stated_on.is_none_or(|d| {
            d == s.stated_on && a.stated_on_precision == s.details.stated_on_precision
        })
        && a.summary.as_ref().is_none_or(|v| v == &s.summary)
        && same(&a.quote, &s.quote)
        && same(&a.speaker, &s.speaker)
        && same(&a.source_url, &s.source_url)
        && same(&a.source_title, &s.source_title))
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
    append_counting(ledger, requests, ctx, &Cell::new(0))
}

/// [`append`], setting `at` to the ordinal (from 0) of each request as it
/// is decided: the write may read up to [`PREFETCH`] requests ahead of the
/// one it decides, so a caller that names the input of an error (an
/// import's line) asks `at`, not how far its iterator got.
pub(crate) fn append_counting(
    ledger: &Ledger,
    requests: impl IntoIterator<Item = Result<Request>>,
    ctx: &mut Context<'_>,
    at: &Cell<u64>,
) -> Result<Summary> {
    validate_author(&ctx.author)?;
    let mut writer = ledger.writer()?;
    let clock = to_micros((ctx.clock)());
    let last = writer.committed().recorded_at;
    if writer.committed().seq > 0 && clock + chrono::Duration::days(1) < last {
        return Err(crate::Error::ClockBehind {
            clock: format_timestamp(&clock),
            head: format_timestamp(&last),
        });
    }
    let now = clock.max(last);
    let mut summary = Summary::default();
    let mut handled = 0u64;
    let mut undefined = HashSet::new();
    let mut names = WriteView::load_names(&writer)?;
    let prefetch = writer.store().is_transactional();
    let mut unused = Unused::default();
    let mut requests = requests.into_iter();
    let mut ahead: VecDeque<Result<Request>> = VecDeque::new();
    loop {
        if ahead.is_empty() && prefetch {
            ahead.extend(requests.by_ref().take(PREFETCH));
            let ids: Vec<Uuid> = ahead
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|r| {
                    r.id.unwrap_or_else(|| crate::chain::content_id(&r.command.clone().into_fact()))
                })
                .collect();
            let used = writer.query().ids_in_use(&ids)?;
            unused.0 = ids.into_iter().filter(|i| !used.contains(i)).collect();
        }
        let Some(req) = ahead.pop_front().or_else(|| requests.next()) else {
            break;
        };
        at.set(handled);
        let req = req?;
        let on_issue = match &req.command {
            crate::model::Command::Record(s) => Some(s.issue.clone()),
            _ => None,
        };
        let outcome = push(&mut writer, &mut names, &mut unused, req, now, &ctx.author)?;
        if let Some(issue) = on_issue.filter(|i| outcome.added && !names.is_defined(i)) {
            if undefined.insert(issue.clone()) {
                summary.undefined_issues.push(issue);
            }
        }
        if outcome.added {
            summary.added += 1;
        } else {
            summary.skipped += 1;
            summary.superseded += u64::from(outcome.superseded_by.is_some());
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
