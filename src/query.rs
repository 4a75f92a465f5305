//! Answers on both time axes by seeking the indexes, never by replaying the
//! log: a stance is one reverse seek in the version keyspace of its pair,
//! plus reads of the statement and its edits.
//!
//! `known` is always a seq: the last event recorded at the `--known-at`
//! moment ([`crate::store::Store::known_seq`]); everything after it is
//! ignored, which is how the past of the ledger is read.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::Result;
use crate::index::{self, Version};
use crate::model::{Actor, Issue};
use crate::projection::{in_force, Stance, StatementView};
use crate::store::Store;

/// The statement at `seq` with its edits up to `known` applied.
pub fn statement_view(store: &Store, seq: u64, known: u64) -> Result<StatementView> {
    view_with_edits(store, seq, &store.edits(seq, known)?)
}

/// The statement at `seq` with the given edits (seqs, in order) applied.
fn view_with_edits(store: &Store, seq: u64, edits: &[u64]) -> Result<StatementView> {
    let event = store.event_indexed(seq)?;
    let mut view = StatementView::from_event(&event).ok_or_else(|| crate::Error::Corrupt {
        seq,
        message: "the version index points at an event that is not a statement".into(),
    })?;
    for &e in edits {
        view.apply(&store.event_indexed(e)?);
    }
    Ok(view)
}

/// The stance in force for `actor` on `issue` as of `as_of`, as known at `known`.
pub fn stance(
    store: &Store,
    actor: &Actor,
    issue: &Issue,
    as_of: NaiveDate,
    known: u64,
) -> Result<Option<Stance>> {
    let lo = index::pair_prefix(actor.as_str(), Some(issue.as_str()));
    let hi = index::version_key_upto(actor.as_str(), issue.as_str(), as_of);
    // The edits of each statement up to `known`, looked up once each.
    let mut edits: HashMap<u64, Vec<u64>> = HashMap::new();
    for kv in store.range(&lo, &hi).rev() {
        let (k, v) = kv?;
        // Every key in the range shares the pair prefix: decode only the tail.
        let Some(ver) = index::parse_version_tail(&k[lo.len()..], &v) else {
            return Err(crate::Error::Corrupt {
                seq: 0,
                message: format!("malformed version index key {k:?}"),
            });
        };
        if ver.version_seq > known {
            continue;
        }
        let list = match edits.entry(ver.stmt_seq) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(store.edits(ver.stmt_seq, known)?)
            }
        };
        let latest = list.last().copied().unwrap_or(ver.stmt_seq);
        if ver.version_seq != latest || ver.tombstone {
            continue;
        }
        return Ok(Some(view_with_edits(store, ver.stmt_seq, list)?.stance()));
    }
    Ok(None)
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
    /// The version-keyspace prefixes to scan.
    fn prefixes(&self) -> Vec<Vec<u8>> {
        if self.actors.is_empty() {
            return vec![vec![index::VERSION]];
        }
        let mut out = Vec::new();
        for a in &self.actors {
            if self.issues.is_empty() {
                out.push(index::pair_prefix(a.as_str(), None));
            }
            for i in &self.issues {
                out.push(index::pair_prefix(a.as_str(), Some(i.as_str())));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn keeps_issue(&self, issue: &str) -> bool {
        self.issues.is_empty() || self.issues.iter().any(|i| i.as_str() == issue)
    }
}

/// Calls `f` with the version entries of each (actor, issue) pair the filter
/// selects, pair by pair, in key order.
fn for_each_pair(
    store: &Store,
    filter: &Filter,
    mut f: impl FnMut(&[Version]) -> Result<()>,
) -> Result<()> {
    for prefix in filter.prefixes() {
        let mut group: Vec<Version> = Vec::new();
        for ver in store.versions(&prefix) {
            let ver = ver?;
            if !filter.keeps_issue(&ver.issue) {
                continue;
            }
            let same = group
                .first()
                .is_some_and(|g| g.actor == ver.actor && g.issue == ver.issue);
            if !same && !group.is_empty() {
                f(&group)?;
                group.clear();
            }
            group.push(ver);
        }
        if !group.is_empty() {
            f(&group)?;
        }
    }
    Ok(())
}

/// Every stance in force as of `as_of`, known at `known`, sorted by issue then actor.
pub fn stances(
    store: &Store,
    as_of: NaiveDate,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Stance>> {
    let mut winners = Vec::new();
    for_each_pair(store, filter, |group| {
        winners.extend(in_force(group, as_of, known).map(|(stmt, _)| stmt));
        Ok(())
    })?;
    // Read the statements in log order: neighbouring seqs share sled pages.
    winners.sort_unstable();
    let mut out = winners
        .into_iter()
        .map(|stmt| Ok(statement_view(store, stmt, known)?.stance()))
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| (&a.issue, &a.actor).cmp(&(&b.issue, &b.actor)));
    Ok(out)
}

/// Every statement on a pair known at `known`, in `stated_on` order (ties by seq).
pub fn history(
    store: &Store,
    actor: &Actor,
    issue: &Issue,
    known: u64,
) -> Result<Vec<StatementView>> {
    let prefix = index::pair_prefix(actor.as_str(), Some(issue.as_str()));
    let mut seqs: Vec<u64> = Vec::new();
    for ver in store.versions(&prefix) {
        let ver = ver?;
        if ver.stmt_seq <= known {
            seqs.push(ver.stmt_seq);
        }
    }
    seqs.sort_unstable();
    seqs.dedup();
    let mut views = seqs
        .into_iter()
        .map(|s| statement_view(store, s, known))
        .collect::<Result<Vec<_>>>()?;
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
pub fn changes(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for_each_pair(store, filter, |group| {
        let a = in_force(group, from, known).map(|(s, _)| s);
        let b = in_force(group, to, known).map(|(s, _)| s);
        if a != b {
            let view = |s: Option<u64>| -> Result<Option<Stance>> {
                s.map(|s| statement_view(store, s, known).map(|v| v.stance()))
                    .transpose()
            };
            let (from, to) = (view(a)?, view(b)?);
            let any = to.as_ref().or(from.as_ref()).expect("one side exists");
            out.push(Change {
                actor: any.actor.clone(),
                issue: any.issue.clone(),
                position_changed: from.as_ref().map(|s| s.position)
                    != to.as_ref().map(|s| s.position),
                from,
                to,
            });
        }
        Ok(())
    })?;
    out.sort_by(|a, b| (&a.issue, &a.actor).cmp(&(&b.issue, &b.actor)));
    Ok(out)
}
