//! Answers on both time axes from the read model, never by replaying the
//! log: a stance is one indexed read of its pair's versions, plus reads of
//! the statement in force and its edits.
//!
//! `known` is always a seq: the last event recorded at the `--known-at`
//! moment; everything after it is ignored, which is how the past of the
//! ledger is read.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::derive::Version;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{Actor, Issue};
use crate::names::Names;
use crate::projection::{in_force, Stance, StatementView};
use crate::readmodel::{LatestStatement, Query};
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

/// The naming events as known at `known`, folded.
pub(crate) fn names_at(q: &Query<'_>, known: u64) -> Result<Names> {
    Ok(Names::from_events(&q.naming_events(known)?))
}

/// A stance with what the naming events say: the slug a merged issue now
/// names, and the wording in force.
pub(crate) fn named(mut s: Stance, names: &Names) -> Stance {
    s.issue = names.canonical(&s.issue);
    if let Some(w) = names.wording(&s.issue) {
        s.title = Some(w.title.clone());
        s.proposition = Some(w.proposition.clone());
    }
    s
}

/// The stance in force for `actor` on `issue` as of `as_of`, as known at
/// `known`: the statements of every slug merged into it count as its own.
pub(crate) fn stance(
    q: &Query<'_>,
    actor: &Actor,
    issue: &Issue,
    as_of: NaiveDate,
    known: u64,
) -> Result<Option<Stance>> {
    let names = names_at(q, known)?;
    let mut versions = Vec::new();
    for slug in names.merged_group(issue) {
        versions.extend(q.pair_versions(actor, &slug)?);
    }
    let Some((stmt, _)) = in_force(&versions, as_of, known) else {
        return Ok(None);
    };
    let event = q.event_indexed(stmt)?;
    Ok(Some(named(
        fold(&event, &q.edits(stmt, known)?)?.stance(),
        &names,
    )))
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
/// selects, pair by pair, in (actor, issue) order. With merges, a pair is
/// an actor and the slug its issue now names (its versions under every
/// slug merged into it); the filter's issues are such slugs.
pub(crate) fn for_each_pair(
    q: &Query<'_>,
    names: &Names,
    filter: &Filter,
    mut f: impl FnMut(&[Version]) -> Result<()>,
) -> Result<()> {
    let merged = names.issues.values().any(|e| e.merged_into.is_some());
    let mut group: Vec<Version> = Vec::new();
    // With merges, an actor's versions are regrouped by the slug each
    // issue now names (one actor's versions at a time).
    let mut actor_rows: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    let mut actor: Option<String> = None;
    let flush = |rows: &mut BTreeMap<String, Vec<Version>>,
                 f: &mut dyn FnMut(&[Version]) -> Result<()>|
     -> Result<()> {
        for (_, g) in std::mem::take(rows) {
            f(&g)?;
        }
        Ok(())
    };
    q.for_each_version(&filter.actors, |ver| {
        if merged {
            let issue = names.canonical(&ver.issue.parse().map_err(|_| Error::Corrupt {
                seq: ver.stmt_seq,
                message: "read model: a version with an invalid issue".into(),
            })?);
            if !filter.keeps_issue(issue.as_str()) {
                return Ok(());
            }
            if actor.as_deref() != Some(ver.actor.as_str()) {
                flush(&mut actor_rows, &mut f)?;
                actor = Some(ver.actor.clone());
            }
            actor_rows
                .entry(issue.as_str().to_owned())
                .or_default()
                .push(ver);
            return Ok(());
        }
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
    flush(&mut actor_rows, &mut f)?;
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
    let mut out = Vec::new();
    let done: std::result::Result<(), std::convert::Infallible> =
        for_each_stance(q, as_of, known, filter, &mut |s| {
            out.push(s);
            Ok(())
        })?;
    let Ok(()) = done;
    Ok(out)
}

/// The share of pairs (one in this many) whose latest statement may be
/// dated after the day asked about for [`for_each_stance`] to read
/// `stances_latest`: each such pair costs a query of its own there, so for
/// a date far in the past, when most pairs are such, one scan of every
/// version is cheaper. (At 1M events: 2.76 s by the versions for a date
/// before nearly every pair's latest statement; docs/PERFORMANCE.md.)
const LATEST_FALLBACK_SHARE: u64 = 8;

/// So many pairs answered by their own versions cost a few milliseconds:
/// below it, `stances_latest` is read whatever the share.
const LATEST_FALLBACKS_ANYWAY: u64 = 64;

/// Calls `f` with every stance in force as of `as_of`, known at `known`,
/// in (issue, actor) order; stops at the first error `f` returns (the
/// inner result). At the head this reads `stances_latest` (a row per pair,
/// and the statement it names); a pair whose latest statement is dated
/// after `as_of` is answered from its own versions. Known at an earlier
/// seq, or for a date before the latest statements of more than one pair
/// in [`LATEST_FALLBACK_SHARE`], it reads every version
/// ([`stances_by_versions`]).
pub(crate) fn for_each_stance<E>(
    q: &Query<'_>,
    as_of: NaiveDate,
    known: u64,
    filter: &Filter,
    f: &mut dyn FnMut(Stance) -> std::result::Result<(), E>,
) -> Result<std::result::Result<(), E>> {
    let names = names_at(q, known)?;
    let latest = || -> Result<bool> {
        let (pairs, after) = q.latest_after(as_of)?;
        Ok(after <= (pairs / LATEST_FALLBACK_SHARE).max(LATEST_FALLBACKS_ANYWAY))
    };
    if known < q.watermark()?.seq || !latest()? {
        for s in stances_by_versions(q, &names, as_of, known, filter)? {
            if let Err(e) = f(s) {
                return Ok(Err(e));
            }
        }
        return Ok(Ok(()));
    }
    let merged = names.issues.values().any(|e| e.merged_into.is_some());
    // The raw slugs to read: each filtered issue and every slug merged into it.
    let issues: Vec<Issue> = filter
        .issues
        .iter()
        .flat_map(|i| names.merged_group(i))
        .collect();
    let issues: Vec<&str> = issues.iter().map(Issue::as_str).collect();
    let actors: Vec<&str> = filter.actors.iter().map(Actor::as_str).collect();
    // With merges, pairs regroup under the slug each issue now names, which
    // reorders them: they are gathered, the latest of each group kept.
    let mut grouped: BTreeMap<(Issue, Actor), Stance> = BTreeMap::new();
    let mut failed: Option<E> = None;
    let mut chunk: Vec<LatestStatement> = Vec::with_capacity(CHUNK);
    let mut emit = |chunk: &mut Vec<LatestStatement>| -> Result<bool> {
        for s in settle(q, std::mem::take(chunk), as_of, known)? {
            let s = named(s, &names);
            if merged {
                let key = (s.issue.clone(), s.actor.clone());
                let later = grouped
                    .get(&key)
                    .is_none_or(|b| (s.stated_on, s.seq) > (b.stated_on, b.seq));
                if later {
                    grouped.insert(key, s);
                }
            } else if let Err(e) = f(s) {
                failed = Some(e);
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut stopped = false;
    q.for_each_latest(&issues, &actors, |row| {
        if stopped {
            return Ok(());
        }
        chunk.push(row);
        if chunk.len() == CHUNK {
            stopped = !emit(&mut chunk)?;
        }
        Ok(())
    })?;
    if !stopped {
        emit(&mut chunk)?;
    }
    if let Some(e) = failed {
        return Ok(Err(e));
    }
    for (_, s) in grouped {
        if let Err(e) = f(s) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
}

/// Where a pair's stance as of the day asked about comes from.
enum Source {
    /// Its latest statement (dated on or before the day).
    Latest,
    /// An earlier statement, by the pair's own versions.
    Earlier(u64),
    /// None is in force on the day.
    Nothing,
}

/// The stances of a chunk of pairs, in its order: each pair's latest
/// statement when it is dated on or before `as_of`, else the statement in
/// force then by the pair's own versions (if any), read for the whole chunk
/// at once.
fn settle(
    q: &Query<'_>,
    chunk: Vec<LatestStatement>,
    as_of: NaiveDate,
    known: u64,
) -> Result<Vec<Stance>> {
    let mut sources = Vec::with_capacity(chunk.len());
    for row in &chunk {
        sources.push(if row.stated_on <= as_of {
            Source::Latest
        } else {
            let versions = q.versions_of_pair(&row.actor, &row.issue)?;
            in_force(&versions, as_of, known).map_or(Source::Nothing, |(s, _)| Source::Earlier(s))
        });
    }
    let wanted: Vec<u64> = sources
        .iter()
        .filter_map(|s| match s {
            Source::Earlier(seq) => Some(*seq),
            Source::Latest | Source::Nothing => None,
        })
        .collect();
    let mut views = statement_views(q, &wanted, known)?.into_iter();
    let mut out = Vec::with_capacity(chunk.len());
    for (row, source) in chunk.into_iter().zip(sources) {
        match source {
            Source::Latest => out.push(row.stance),
            Source::Earlier(_) => out.extend(views.next().map(|v| v.stance())),
            Source::Nothing => {}
        }
    }
    Ok(out)
}

/// Every stance in force as of `as_of`, known at `known`, from every
/// version, sorted by issue then actor.
fn stances_by_versions(
    q: &Query<'_>,
    names: &Names,
    as_of: NaiveDate,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Stance>> {
    let mut winners = Vec::new();
    for_each_pair(q, names, filter, |group| {
        winners.extend(in_force(group, as_of, known).map(|(stmt, _)| stmt));
        Ok(())
    })?;
    let mut out: Vec<Stance> = statement_views(q, &winners, known)?
        .iter()
        .map(|v| named(v.stance(), names))
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
    let names = names_at(q, known)?;
    let mut seqs = Vec::new();
    for slug in names.merged_group(issue) {
        seqs.extend(q.pair_statements(actor, &slug, known)?);
    }
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
    let names = names_at(q, known)?;
    let mut pairs: Vec<(Option<u64>, Option<u64>)> = Vec::new();
    for_each_pair(q, &names, filter, |group| {
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
        .map(|v| (v.seq, named(v.stance(), &names)))
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
    let names = names_at(q, known)?;
    let mut versions = Vec::new();
    for slug in names.merged_group(issue) {
        versions.extend(q.pair_versions(actor, &slug)?);
    }
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
        .map(|v| named(v.stance(), &names))
        .collect())
}

/// Every (actor, issue) pair the filter selects that has a statement known
/// at `known` (retracted ones included), in (actor, issue) order.
pub(crate) fn pairs(q: &Query<'_>, known: u64, filter: &Filter) -> Result<Vec<(Actor, Issue)>> {
    let names = names_at(q, known)?;
    let mut out = Vec::new();
    for_each_pair(q, &names, filter, |group| {
        if let Some(v) = group.iter().find(|v| v.version_seq <= known) {
            let bad = |e: Error| Error::Corrupt {
                seq: v.stmt_seq,
                message: format!("read model: {e}"),
            };
            let issue: Issue = v.issue.parse().map_err(bad)?;
            out.push((v.actor.parse().map_err(bad)?, names.canonical(&issue)));
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

    /// The wording in force of an issue (or of the issue it was merged
    /// into), if it is defined.
    pub fn wording(&self, issue: &Issue) -> Result<Option<crate::names::Wording>> {
        Ok(names_at(self.q, self.known)?.wording(issue).cloned())
    }

    /// The audit trail's summary: events per author and type, with the
    /// first and last `recorded_at` of each.
    pub fn authorship(&self) -> Result<Vec<Authorship>> {
        authorship(self.q, self.known)
    }
}

/// The amendment at `seq` as the statement's history shows it, with the
/// values it changed from (`None` for an event that is not an amendment).
pub(crate) fn amendment(q: &Query<'_>, seq: u64) -> Result<Option<crate::projection::Edit>> {
    let Some(event) = q.event(seq)? else {
        return Ok(None);
    };
    let crate::model::Fact::StatementAmended(a) = &event.payload else {
        return Ok(None);
    };
    let Some(statement) = q.event_by_id(&a.target)? else {
        return Ok(None);
    };
    let view = fold(&statement, &q.edits(statement.seq, seq)?)?;
    Ok(view.amendments.last().filter(|e| e.seq == seq).cloned())
}
