//! Analysis over the stances in force: how far two actors agree, and when
//! an actor's position moved. The scoring and the classification are pure
//! functions (tested at the rules); the queries read the read model's
//! version index and the statements in force, never the whole log.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::derive::Version;
use crate::error::Result;
use crate::model::{Actor, Issue, Position};
use crate::projection::{counting, Stance};
use crate::query::{self, Filter};
use crate::readmodel::Query;

/// How far two positions on one proposition agree: 1 for the same position,
/// 0 for support against oppose, 0.5 for any other pairing (neutral or
/// mixed against anything else), as abstentions count in UN-vote similarity.
pub fn agreement(a: Position, b: Position) -> f64 {
    use Position::*;
    match (a, b) {
        _ if a == b => 1.0,
        (Support, Oppose) | (Oppose, Support) => 0.0,
        _ => 0.5,
    }
}

/// One issue on which both actors of a comparison have a stance in force.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shared {
    /// The issue.
    pub issue: Issue,
    /// The first actor's position.
    pub a: Position,
    /// The second actor's position.
    pub b: Position,
    /// Their [`agreement`].
    pub agreement: f64,
}

/// Two actors' stances side by side. JSON field names are a public interface.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The first actor.
    pub a: Actor,
    /// The second actor.
    pub b: Actor,
    /// The date the stances are in force on.
    pub as_of: NaiveDate,
    /// How many issues both have a stance on.
    pub shared: usize,
    /// The mean agreement over the shared issues; `None` when there are none.
    pub agreement: Option<f64>,
    /// The shared issues, by issue.
    pub issues: Vec<Shared>,
}

/// Compares two actors' stances in force (`stances` holds both actors'
/// stances, any order).
pub fn compare(a: &Actor, b: &Actor, as_of: NaiveDate, stances: &[Stance]) -> Comparison {
    let mut by_issue: BTreeMap<&Issue, (Option<Position>, Option<Position>)> = BTreeMap::new();
    for s in stances {
        let slot = by_issue.entry(&s.issue).or_default();
        if &s.actor == a {
            slot.0 = Some(s.position);
        }
        if &s.actor == b {
            slot.1 = Some(s.position);
        }
    }
    let issues: Vec<Shared> = by_issue
        .into_iter()
        .filter_map(|(issue, pair)| match pair {
            (Some(pa), Some(pb)) => Some(Shared {
                issue: issue.clone(),
                a: pa,
                b: pb,
                agreement: agreement(pa, pb),
            }),
            _ => None,
        })
        .collect();
    let shared = issues.len();
    let agreement =
        (shared > 0).then(|| issues.iter().map(|s| s.agreement).sum::<f64>() / shared as f64);
    Comparison {
        a: a.clone(),
        b: b.clone(),
        as_of,
        shared,
        agreement,
        issues,
    }
}

/// What kind of move a change of position in force is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftKind {
    /// None → a position: the first stance on record.
    First,
    /// Support ↔ oppose.
    Reversal,
    /// Support or oppose → mixed or neutral.
    Softening,
    /// Mixed or neutral → support or oppose.
    Hardening,
    /// Neutral ↔ mixed.
    Shift,
}

impl ShiftKind {
    /// Classifies a move from `from` to `to`; `None` when it is no move.
    pub fn of(from: Option<Position>, to: Position) -> Option<ShiftKind> {
        use Position::*;
        let firm = |p: Position| matches!(p, Support | Oppose);
        match from {
            None => Some(ShiftKind::First),
            Some(f) if f == to => None,
            Some(f) if firm(f) && firm(to) => Some(ShiftKind::Reversal),
            Some(f) if firm(f) => Some(ShiftKind::Softening),
            Some(_) if firm(to) => Some(ShiftKind::Hardening),
            Some(_) => Some(ShiftKind::Shift),
        }
    }

    /// The name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftKind::First => "first",
            ShiftKind::Reversal => "reversal",
            ShiftKind::Softening => "softening",
            ShiftKind::Hardening => "hardening",
            ShiftKind::Shift => "shift",
        }
    }
}

/// A change of an actor's position in force on an issue. JSON field names
/// are a public interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shift {
    /// The actor.
    pub actor: Actor,
    /// The issue.
    pub issue: Issue,
    /// The position in force before (`None` for the first).
    pub from: Option<Position>,
    /// The position in force from `stated_on` on.
    pub to: Position,
    /// What kind of move it is.
    pub kind: ShiftKind,
    /// The date of the statement that moved it.
    pub stated_on: NaiveDate,
    /// That statement.
    pub statement_id: Uuid,
}

/// The statements that are in force in turn on one pair, known at `known`:
/// for each date some counting statement is stated on, the one that wins
/// that date (the latest recorded of that day), in date order. The position
/// in force moves only at these dates, since a later date always wins.
pub(crate) fn succession(versions: &[Version], known: u64) -> Vec<(NaiveDate, u64)> {
    let mut by_date: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for v in counting(versions, known) {
        let winner = by_date.entry(v.stated_on).or_insert(v.stmt_seq);
        *winner = (*winner).max(v.stmt_seq);
    }
    by_date.into_iter().collect()
}

/// The moves along a succession of stances in force (in date order),
/// keeping those dated within `[from, to]`.
pub fn shifts_of(
    succession: &[Stance],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Vec<Shift> {
    let mut out = Vec::new();
    let mut before: Option<Position> = None;
    for s in succession {
        let in_window =
            from.is_none_or(|f| s.stated_on >= f) && to.is_none_or(|t| s.stated_on <= t);
        if let Some(kind) = ShiftKind::of(before, s.position) {
            if in_window {
                out.push(Shift {
                    actor: s.actor.clone(),
                    issue: s.issue.clone(),
                    from: before,
                    to: s.position,
                    kind,
                    stated_on: s.stated_on,
                    statement_id: s.statement_id,
                });
            }
        }
        before = Some(s.position);
    }
    out
}

/// Every shift of the pairs `filter` selects, known at `known`, in date
/// order (then actor, issue).
pub(crate) fn shifts(
    q: &Query<'_>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    known: u64,
    filter: &Filter,
) -> Result<Vec<Shift>> {
    // A pair's statements in force in turn, by seq; read in one batch.
    let names = query::names_at(q, known)?;
    let mut pairs: Vec<Vec<u64>> = Vec::new();
    query::for_each_pair(q, &names, filter, |group| {
        let seqs: Vec<u64> = succession(group, known)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        if !seqs.is_empty() {
            pairs.push(seqs);
        }
        Ok(())
    })?;
    let all: Vec<u64> = pairs.iter().flatten().copied().collect();
    let mut stances = query::statement_views(q, &all, known)?
        .into_iter()
        .map(|v| query::named(v.stance(), &names));
    let mut out = Vec::new();
    for seqs in &pairs {
        let run: Vec<Stance> = stances.by_ref().take(seqs.len()).collect();
        out.extend(shifts_of(&run, from, to));
    }
    out.sort_by(|a, b| (a.stated_on, &a.actor, &a.issue).cmp(&(b.stated_on, &b.actor, &b.issue)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Position::*;

    #[test]
    fn agreement_scores_like_un_vote_similarity() {
        assert_eq!(agreement(Support, Support), 1.0);
        assert_eq!(agreement(Mixed, Mixed), 1.0);
        assert_eq!(agreement(Support, Oppose), 0.0);
        assert_eq!(agreement(Oppose, Support), 0.0);
        for (a, b) in [(Support, Neutral), (Oppose, Mixed), (Neutral, Mixed)] {
            assert_eq!(agreement(a, b), 0.5, "{a} {b}");
            assert_eq!(agreement(b, a), 0.5, "{b} {a}");
        }
    }

    #[test]
    fn every_move_has_one_kind() {
        let all = [Support, Oppose, Neutral, Mixed];
        for to in all {
            assert_eq!(ShiftKind::of(None, to), Some(ShiftKind::First));
            assert_eq!(ShiftKind::of(Some(to), to), None, "no move");
        }
        assert_eq!(
            ShiftKind::of(Some(Support), Oppose),
            Some(ShiftKind::Reversal)
        );
        assert_eq!(
            ShiftKind::of(Some(Oppose), Support),
            Some(ShiftKind::Reversal)
        );
        assert_eq!(
            ShiftKind::of(Some(Support), Mixed),
            Some(ShiftKind::Softening)
        );
        assert_eq!(
            ShiftKind::of(Some(Oppose), Neutral),
            Some(ShiftKind::Softening)
        );
        assert_eq!(
            ShiftKind::of(Some(Neutral), Oppose),
            Some(ShiftKind::Hardening)
        );
        assert_eq!(
            ShiftKind::of(Some(Mixed), Support),
            Some(ShiftKind::Hardening)
        );
        assert_eq!(ShiftKind::of(Some(Neutral), Mixed), Some(ShiftKind::Shift));
        assert_eq!(ShiftKind::of(Some(Mixed), Neutral), Some(ShiftKind::Shift));
    }

    fn version(stated_on: &str, stmt: u64, ver: u64, tombstone: bool) -> Version {
        Version {
            actor: "JPN".into(),
            issue: "x".into(),
            stated_on: stated_on.parse().unwrap(),
            stmt_seq: stmt,
            version_seq: ver,
            tombstone,
        }
    }

    #[test]
    fn succession_takes_each_statements_latest_known_version() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let versions = [
            version("2019-01-01", 1, 1, false),
            version("2019-02-01", 2, 2, false),
            version("2019-02-01", 3, 3, false),
            // statement 2 moved to March by seq 4, retracted by seq 5
            version("2019-03-01", 2, 4, false),
            version("2019-03-01", 2, 5, true),
        ];
        assert_eq!(
            succession(&versions, 3),
            [(d("2019-01-01"), 1), (d("2019-02-01"), 3)],
            "a same-day tie goes to the later statement"
        );
        assert_eq!(
            succession(&versions, 4),
            [
                (d("2019-01-01"), 1),
                (d("2019-02-01"), 3),
                (d("2019-03-01"), 2)
            ]
        );
        assert_eq!(
            succession(&versions, 5),
            [(d("2019-01-01"), 1), (d("2019-02-01"), 3)],
            "a retracted statement is no shift"
        );
        assert!(succession(&versions, 0).is_empty());
    }
}
