//! Property tests: the indexed queries give exactly what a naive fold over the
//! whole log gives, for random sequences of statements, amendments and
//! retractions recorded in random order, on both time axes; and they keep
//! doing so after the indexes are rebuilt.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

use stancelog::internals::{fold_stances, fold_statements};
use stancelog::Filter;

use crate::support::open_new;
use stancelog::{
    Actor, Amendment, Context, Event, Fact, Issue, Ledger, Position, Request, Retraction, Statement,
};

const ACTORS: [&str; 3] = ["CHN", "JPN", "RUS"];
const ISSUES: [&str; 2] = ["senkaku-islands", "hong-kong-protests"];
const POSITIONS: [Position; 4] = [
    Position::Support,
    Position::Oppose,
    Position::Neutral,
    Position::Mixed,
];

#[derive(Clone, Debug)]
enum Op {
    State {
        actor: usize,
        issue: usize,
        position: usize,
        day: u8,
    },
    Amend {
        target: usize,
        position: Option<usize>,
        day: Option<u8>,
    },
    Retract {
        target: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..ACTORS.len(), 0..ISSUES.len(), 0..4usize, 0..12u8)
            .prop_map(|(actor, issue, position, day)| Op::State { actor, issue, position, day }),
        2 => (0..64usize, proptest::option::of(0..4usize), proptest::option::of(0..12u8))
            .prop_map(|(target, position, day)| Op::Amend { target, position, day }),
        1 => (0..64usize).prop_map(|target| Op::Retract { target }),
    ]
}

/// Dates are drawn from a small range so that same-day ties are common.
fn day(d: u8) -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 12, 1).unwrap() + Duration::days(i64::from(d) * 3)
}

fn t0() -> DateTime<Utc> {
    "2020-03-01T00:00:00Z".parse().unwrap()
}

/// Applies the ops one append at a time, each at its own recorded time (some
/// appends share a time); appends the rules refuse are simply not recorded.
fn build(ledger: &Ledger, ops: &[Op], gaps: &[u8]) -> Vec<Request> {
    let mut accepted = Vec::new();
    let mut statements: Vec<uuid::Uuid> = Vec::new();
    let mut now = t0();
    for (i, op) in ops.iter().enumerate() {
        now += Duration::seconds(i64::from(gaps[i % gaps.len()]));
        let payload = match *op {
            Op::State {
                actor,
                issue,
                position,
                day: d,
            } => Fact::StatementRecorded(Statement {
                actor: ACTORS[actor].parse().unwrap(),
                issue: ISSUES[issue].parse().unwrap(),
                position: POSITIONS[position],
                stated_on: day(d),
                summary: format!("statement {i}"),
                quote: None,
                speaker: None,
                source_url: None,
                source_title: None,
            }),
            Op::Amend {
                target,
                position,
                day: d,
            } if !statements.is_empty() => Fact::StatementAmended(Amendment {
                target: statements[target % statements.len()],
                reason: format!("amendment {i}"),
                position: position.map(|p| POSITIONS[p]),
                stated_on: d.map(day),
                summary: Some(format!("amended by {i}")),
                quote: None,
                speaker: None,
                source_url: None,
                source_title: None,
            }),
            Op::Retract { target } if !statements.is_empty() => {
                Fact::StatementRetracted(Retraction {
                    target: statements[target % statements.len()],
                    reason: format!("retraction {i}"),
                })
            }
            _ => continue,
        };
        let is_statement = matches!(payload, Fact::StatementRecorded(_));
        let clock = move || now;
        let mut ctx = Context {
            author: "prop".into(),
            clock: &clock,
            progress: None,
        };
        let req = Request {
            id: None,
            command: payload.into_command(),
        };
        if let Ok(summary) = ledger.append([Ok(req.clone())], &mut ctx) {
            if is_statement {
                statements.push(summary.last.unwrap().id);
            }
            accepted.push(req);
        }
    }
    accepted
}

/// The naive answer to "last seq known at t": a scan of the whole log.
fn naive_known(events: &[Event], t: DateTime<Utc>) -> u64 {
    events
        .iter()
        .filter(|e| e.recorded_at <= t)
        .map(|e| e.seq)
        .max()
        .unwrap_or(0)
}

fn check_against_fold(ledger: &Ledger, events: &[Event], probes: &[(u8, u16)]) {
    for &(d, secs) in probes {
        let as_of = day(d);
        let known_at = t0() + Duration::seconds(i64::from(secs));
        let known = naive_known(events, known_at);
        assert_eq!(ledger.known_seq(Some(known_at)).unwrap(), known);
        let expected: Vec<_> = fold_stances(events, as_of, known).into_values().collect();
        let got = ledger
            .stances(as_of, Some(known_at), &Filter::default())
            .unwrap();
        assert_eq!(got, expected, "stances as of {as_of} known at {known_at}");
        let views = fold_statements(events, known);
        for a in ACTORS {
            for i in ISSUES {
                let (actor, issue): (Actor, Issue) = (a.parse().unwrap(), i.parse().unwrap());
                let want = expected
                    .iter()
                    .find(|s| s.actor == actor && s.issue == issue)
                    .cloned();
                assert_eq!(
                    ledger
                        .stance(&actor, &issue, as_of, Some(known_at))
                        .unwrap(),
                    want,
                    "{a} {i} as of {as_of} known {known}"
                );
                let mut hist: Vec<_> = views
                    .values()
                    .filter(|v| v.statement.actor == actor && v.statement.issue == issue)
                    .cloned()
                    .collect();
                hist.sort_by_key(|v| (v.statement.stated_on, v.seq));
                assert_eq!(
                    ledger.history(&actor, &issue, Some(known_at)).unwrap(),
                    hist
                );
            }
        }
        // `changes` agrees with two folds.
        let later = day(d.saturating_add(5));
        let after: Vec<_> = fold_stances(events, later, known).into_values().collect();
        let changes = ledger
            .changes(as_of, later, Some(known_at), &Filter::default())
            .unwrap();
        for c in &changes {
            let before = expected
                .iter()
                .find(|s| s.actor == c.actor && s.issue == c.issue);
            let now = after
                .iter()
                .find(|s| s.actor == c.actor && s.issue == c.issue);
            assert_eq!(c.from.as_ref(), before);
            assert_eq!(c.to.as_ref(), now);
            assert_ne!(before.map(|s| s.statement_id), now.map(|s| s.statement_id));
        }
        let moved = ACTORS
            .iter()
            .flat_map(|a| ISSUES.iter().map(move |i| (*a, *i)))
            .filter(|(a, i)| {
                let f = |list: &Vec<stancelog::Stance>| {
                    list.iter()
                        .find(|s| s.actor.as_str() == *a && s.issue.as_str() == *i)
                        .map(|s| s.statement_id)
                };
                f(&expected) != f(&after)
            })
            .count();
        assert_eq!(changes.len(), moved);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn indexed_queries_equal_a_naive_fold(
        ops in proptest::collection::vec(op(), 1..40),
        gaps in proptest::collection::vec(0u8..3, 1..8),
        probes in proptest::collection::vec((0u8..14, 0u16..90), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = open_new(dir.path());
        build(&ledger, &ops, &gaps);
        let events: Vec<Event> = ledger.events(1).unwrap().collect::<Result<_, _>>().unwrap();
        check_against_fold(&ledger, &events, &probes);
        ledger.verify(None, &mut |_| {}).unwrap();
        ledger.rebuild(&mut |_| {}).unwrap();
        check_against_fold(&ledger, &events, &probes);
    }

    /// The same requests written in one all-or-nothing append (as an import
    /// does, with edits of statements still in the unflushed batch) give the
    /// same answers as one append per request.
    #[test]
    fn one_batch_equals_many_appends(
        ops in proptest::collection::vec(op(), 1..40),
        probes in proptest::collection::vec(0u8..14, 1..4),
    ) {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = open_new(da.path());
        let accepted = build(&a, &ops, &[1]);
        let b = open_new(db.path());
        let clock = t0;
        let mut ctx = Context { author: "prop".into(), clock: &clock, progress: None };
        let summary = b.append(accepted.iter().cloned().map(Ok), &mut ctx).unwrap();
        prop_assert_eq!(summary.added, accepted.len() as u64);
        b.verify(None, &mut |_| {}).unwrap();
        for d in probes {
            let f = Filter::default();
            prop_assert_eq!(a.stances(day(d), None, &f).unwrap().len(), b.stances(day(d), None, &f).unwrap().len());
            let ids = |l: &Ledger| l.stances(day(d), None, &f).unwrap().into_iter().map(|s| (s.statement_id, s.position, s.stated_on, s.summary)).collect::<Vec<_>>();
            prop_assert_eq!(ids(&a), ids(&b));
        }
    }
}

/// An import far larger than one write batch, whose amendments and
/// retractions target statements from earlier batches and from their own.
#[test]
fn large_imports_span_batches_and_stay_consistent() {
    use std::fmt::Write as _;
    let n = 3 * stancelog::internals::BATCH_EVENTS + 17;
    let mut jsonl = String::new();
    let id = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    for i in 0..n {
        let issue = format!("issue-{}", i % 97);
        writeln!(jsonl, r#"{{"type":"statement","id":"{}","actor":"A{}","issue":"{issue}","position":"support","stated_on":"2019-01-01","summary":"s{i}"}}"#, id(i), i % 7).unwrap();
        if i % 10 == 9 {
            // Edit a statement from the current batch and one from long ago.
            writeln!(
                jsonl,
                r#"{{"type":"amendment","target":"{}","reason":"r","position":"oppose"}}"#,
                id(i - 1)
            )
            .unwrap();
            // (targets i/2 end in 4 or 9, never an amended one ending in 8)
            writeln!(
                jsonl,
                r#"{{"type":"retraction","target":"{}","reason":"r"}}"#,
                id(i / 2)
            )
            .unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_new(dir.path());
    let clock = t0;
    let mut ctx = Context {
        author: "big".into(),
        clock: &clock,
        progress: None,
    };
    let summary = ledger
        .import(
            std::io::Cursor::new(jsonl.as_bytes()),
            "big.jsonl",
            &mut ctx,
        )
        .unwrap();
    let events: Vec<Event> = ledger.events(1).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(summary.added as usize, events.len());
    assert_eq!(events.len(), jsonl.lines().count());
    ledger.verify(None, &mut |_| {}).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let expected: Vec<_> = fold_stances(&events, as_of, events.len() as u64)
        .into_values()
        .collect();
    assert_eq!(
        ledger.stances(as_of, None, &Filter::default()).unwrap(),
        expected
    );
}
