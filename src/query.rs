//! Answers on both time axes from the read model, never by replaying the
//! log: a stance is one indexed read of its pair's versions, plus reads of
//! the statement in force and its edits.
//!
//! `known` is always a seq: the last event recorded at the `--known-at`
//! moment; everything after it is ignored, which is how the past of the
//! ledger is read.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::derive::Version;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{Actor, Issue};
use crate::projection::{in_force, Stance, StatementView};
use crate::readmodel::Query;
use crate::store::Head;

/// The statement `event` with `edits` (in order) applied.
fn fold(event: &Event, edits: &[Event]) -> Result<StatementView> {
    let mut view = StatementView::from_event(event).ok_or_else(|| Error::Corrupt {
        seq: event.seq,
        message: "read model: a version points at an event that is not a statement".into(),
    })?;
    for e in edits {
        view.apply(e);
    }
    Ok(view)
}

/// The statements at `seqs` with their edits up to `known` applied, in the
/// order of `seqs`; a few queries for all of them.
pub(crate) fn statement_views(
    q: &Query<'_>,
    seqs: &[u64],
    known: u64,
) -> Result<Vec<StatementView>> {
    // A chunk at a time, in log order (neighbouring rows share pages), so
    // that memory holds one chunk's events, not every winner's.
    let mut order: Vec<(usize, u64)> = seqs.iter().copied().enumerate().collect();
    order.sort_unstable_by_key(|&(_, s)| s);
    let mut views: Vec<Option<StatementView>> = vec![None; seqs.len()];
    for chunk in order.chunks(CHUNK) {
        let mut wanted: Vec<u64> = chunk.iter().map(|&(_, s)| s).collect();
        wanted.dedup();
        let events = q.events_at(&wanted)?;
        let edits = q.edits_of(&wanted, known)?;
        for &(i, s) in chunk {
            let event = events.get(&s).ok_or_else(|| Error::Corrupt {
                seq: s,
                message: "read model: a version points at a missing event".into(),
            })?;
            views[i] = Some(fold(event, edits.get(&s).map_or(&[], Vec::as_slice))?);
        }
    }
    Ok(views.into_iter().flatten().collect())
}

/// Statements read per round trip by [`statement_views`].
const CHUNK: usize = 500;

/// The stance in force for `actor` on `issue` as of `as_of`, as known at `known`.
pub(crate) fn stance(
    q: &Query<'_>,
    actor: &Actor,
    issue: &Issue,
    as_of: NaiveDate,
    known: u64,
) -> Result<Option<Stance>> {
    let versions = q.pair_versions(actor, issue)?;
    let Some((stmt, _)) = in_force(&versions, as_of, known) else {
        return Ok(None);
    };
    let event = q.event_indexed(stmt)?;
    Ok(Some(fold(&event, &q.edits(stmt, known)?)?.stance()))
}

/// Restricts a whole-table query to some actors and issues (empty = all).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these actors.
    pub actors: Vec<Actor>,
    /// Only these issues.
    pub issues: Vec<Issue>,
}

impl Filter {
    fn keeps_issue(&self, issue: &str) -> bool {
        self.issues.is_empty() || self.issues.iter().any(|i| i.as_str() == issue)
    }
}

/// Calls `f` with the versions of each (actor, issue) pair the filter
/// selects, pair by pair, in (actor, issue) order.
pub(crate) fn for_each_pair(
    q: &Query<'_>,
    filter: &Filter,
    mut f: impl FnMut(&[Version]) -> Result<()>,
) -> Result<()> {
    let mut group: Vec<Version> = Vec::new();
    q.for_each_version(&filter.actors, |ver| {
        if !filter.keeps_issue(&ver.issue) {
            return Ok(());
        }
        let same = group
            .first()
            .is_some_and(|g| g.actor == ver.actor && g.issue == ver.issue);
        if !same && !group.is_empty() {
            f(&group)?;
            group.clear();
        }
        group.push(ver);
        Ok(())
    })?;
    if !group.is_empty() {
        f(&group)?;
    }
    Ok(())
}

/// Every stance in force as of `as_of`, known at `known`, sorted by issue then actor.
pub(crate) fn stances(
    q: &Query<'_>,
    as_of: NaiveDate,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Stance>> {
    let mut winners = Vec::new();
    for_each_pair(q, filter, |group| {
        winners.extend(in_force(group, as_of, known).map(|(stmt, _)| stmt));
        Ok(())
    })?;
    let mut out: Vec<Stance> = statement_views(q, &winners, known)?
        .iter()
        .map(StatementView::stance)
        .collect();
    out.sort_by(|a, b| (&a.issue, &a.actor).cmp(&(&b.issue, &b.actor)));
    Ok(out)
}

/// Every statement on a pair known at `known`, in `stated_on` order (ties by seq).
pub(crate) fn history(
    q: &Query<'_>,
    actor: &Actor,
    issue: &Issue,
    known: u64,
) -> Result<Vec<StatementView>> {
    let seqs = q.pair_statements(actor, issue, known)?;
    let mut views = statement_views(q, &seqs, known)?;
    views.sort_by_key(|v| (v.statement.stated_on, v.seq));
    Ok(views)
}

/// A pair whose stance in force differs between two dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The actor.
    pub actor: Actor,
    /// The issue.
    pub issue: Issue,
    /// Whether the position itself changed (not only the statement in force).
    pub position_changed: bool,
    /// The stance in force at the earlier date, if any.
    pub from: Option<Stance>,
    /// The stance in force at the later date, if any.
    pub to: Option<Stance>,
}

/// Every pair whose statement in force differs between `from` and `to`.
pub(crate) fn changes(
    q: &Query<'_>,
    from: NaiveDate,
    to: NaiveDate,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Change>> {
    let mut pairs: Vec<(Option<u64>, Option<u64>)> = Vec::new();
    for_each_pair(q, filter, |group| {
        let a = in_force(group, from, known).map(|(s, _)| s);
        let b = in_force(group, to, known).map(|(s, _)| s);
        if a != b {
            pairs.push((a, b));
        }
        Ok(())
    })?;
    let seqs: Vec<u64> = pairs
        .iter()
        .flat_map(|(a, b)| a.iter().chain(b.iter()).copied())
        .collect();
    let views: HashMap<u64, Stance> = statement_views(q, &seqs, known)?
        .into_iter()
        .map(|v| (v.seq, v.stance()))
        .collect();
    let mut out = Vec::with_capacity(pairs.len());
    for (a, b) in pairs {
        let side = |s: Option<u64>| s.and_then(|s| views.get(&s).cloned());
        let (from, to) = (side(a), side(b));
        let Some(any) = to.as_ref().or(from.as_ref()) else {
            continue;
        };
        out.push(Change {
            actor: any.actor.clone(),
            issue: any.issue.clone(),
            position_changed: from.as_ref().map(|s| s.position) != to.as_ref().map(|s| s.position),
            from,
            to,
        });
    }
    out.sort_by(|a, b| (&a.issue, &a.actor).cmp(&(&b.issue, &b.actor)));
    Ok(out)
}

/// The succession of stances in force for a pair, known at `known`: for
/// each date on which the statement in force changes, the stance that takes
/// over (its `stated_on` is that date), in date order. It asks [`in_force`]
/// at every date a known version carries, so it follows the one rule of
/// which statement counts by construction.
pub(crate) fn timeline(
    q: &Query<'_>,
    actor: &Actor,
    issue: &Issue,
    known: u64,
) -> Result<Vec<Stance>> {
    let versions = q.pair_versions(actor, issue)?;
    let mut dates: Vec<NaiveDate> = versions
        .iter()
        .filter(|v| v.version_seq <= known)
        .map(|v| v.stated_on)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let mut seqs: Vec<u64> = Vec::new();
    for d in dates {
        if let Some((stmt, _)) = in_force(&versions, d, known) {
            if seqs.last() != Some(&stmt) {
                seqs.push(stmt);
            }
        }
    }
    Ok(statement_views(q, &seqs, known)?
        .iter()
        .map(StatementView::stance)
        .collect())
}

/// Every (actor, issue) pair the filter selects that has a statement known
/// at `known` (retracted ones included), in (actor, issue) order.
pub(crate) fn pairs(q: &Query<'_>, known: u64, filter: &Filter) -> Result<Vec<(Actor, Issue)>> {
    let mut out = Vec::new();
    for_each_pair(q, filter, |group| {
        if let Some(v) = group.iter().find(|v| v.version_seq <= known) {
            let bad = |e: Error| Error::Corrupt {
                seq: v.stmt_seq,
                message: format!("read model: {e}"),
            };
            out.push((v.actor.parse().map_err(bad)?, v.issue.parse().map_err(bad)?));
        }
        Ok(())
    })?;
    Ok(out)
}

/// What one author recorded of one kind of event: a line of the audit
/// trail's summary (who recorded what, when).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Authorship {
    /// Who recorded the events.
    pub recorded_by: String,
    /// Their type (`statement`, `amendment`, `retraction`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// How many.
    pub events: u64,
    /// When the first of them was recorded.
    #[serde(serialize_with = "crate::projection::ser_time")]
    pub first_recorded_at: DateTime<Utc>,
    /// When the last of them was recorded.
    #[serde(serialize_with = "crate::projection::ser_time")]
    pub last_recorded_at: DateTime<Utc>,
}

/// The audit trail up to `known`, summed per author and type, in that order.
pub(crate) fn authorship(q: &Query<'_>, known: u64) -> Result<Vec<Authorship>> {
    let time = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Error::Corrupt {
                seq: 0,
                message: format!("read model: unreadable recorded_at {s:?}"),
            })
    };
    q.authorship(known)?
        .into_iter()
        .map(|(recorded_by, kind, events, first, last)| {
            Ok(Authorship {
                recorded_by,
                kind,
                events,
                first_recorded_at: time(&first)?,
                last_recorded_at: time(&last)?,
            })
        })
        .collect()
}

/// The ledger as it stood at one moment, read from one snapshot of the read
/// model: every answer from the same `Snapshot` is of the same state, even
/// while a writer appends, so a page that combines several of them (a
/// report, a chart) never mixes two states. Made by [`crate::Ledger::snapshot`].
pub struct Snapshot<'a> {
    pub(crate) q: &'a Query<'a>,
    /// The last seq the snapshot sees.
    pub(crate) known: u64,
}

impl Snapshot<'_> {
    /// The head as the snapshot sees it: the last event known (seq, hash,
    /// recorded_at), the digest that `verify --digest` checks the ledger
    /// still extends.
    pub fn head(&self) -> Result<Head> {
        let head = self.q.watermark()?;
        if self.known >= head.seq {
            return Ok(head);
        }
        if self.known == 0 {
            return Ok(Head::empty());
        }
        let e = self.q.event_indexed(self.known)?;
        Ok(Head {
            seq: e.seq,
            hash: e.hash,
            recorded_at: e.recorded_at,
        })
    }

    /// Every stance in force as of `as_of`, sorted by issue then actor.
    pub fn stances(&self, as_of: NaiveDate, filter: &Filter) -> Result<Vec<Stance>> {
        stances(self.q, as_of, self.known, filter)
    }

    /// Every statement on a pair, in `stated_on` order, with its edits.
    pub fn history(&self, actor: &Actor, issue: &Issue) -> Result<Vec<StatementView>> {
        history(self.q, actor, issue, self.known)
    }

    /// Every pair whose stance in force differs between two dates.
    pub fn changes(&self, from: NaiveDate, to: NaiveDate, filter: &Filter) -> Result<Vec<Change>> {
        changes(self.q, from, to, self.known, filter)
    }

    /// The stances in force for a pair over time, each from its
    /// `stated_on` until the next one's (see `timeline`).
    pub fn timeline(&self, actor: &Actor, issue: &Issue) -> Result<Vec<Stance>> {
        timeline(self.q, actor, issue, self.known)
    }

    /// Every (actor, issue) pair the filter selects with at least one
    /// statement (retracted ones included), in (actor, issue) order.
    pub fn pairs(&self, filter: &Filter) -> Result<Vec<(Actor, Issue)>> {
        pairs(self.q, self.known, filter)
    }

    /// The audit trail's summary: events per author and type, with the
    /// first and last `recorded_at` of each.
    pub fn authorship(&self) -> Result<Vec<Authorship>> {
        authorship(self.q, self.known)
    }
}
