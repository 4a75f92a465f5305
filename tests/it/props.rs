//! Property tests: the indexed queries give exactly what a naive fold over the
//! whole log gives, for random sequences of statements, amendments,
//! retractions and reinstatements recorded in random order, on both time axes; and they keep
//! doing so after the indexes are rebuilt.
//!
//! The fold is the test's own (`oracle`): it reads the log only as the JSON
//! objects of the export format and answers with plain JSON, so it shares no
//! code with the library, and the library's answers are compared as JSON.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::open_new;
use stancelog::{
    Actor, Amendment, Context, Fact, Issue, Ledger, Position, Reinstatement, Request, Retraction,
    Statement,
};

/// A naive, independent fold of the log, given as export-format JSON objects
/// in seq order: each statement counts with its amendments of seq <=
/// `known_seq` applied, unless a retraction of seq <= `known_seq` withdrew
/// it; among those stated on or before `as_of`, the latest `stated_on` wins
/// and a tie goes to the higher statement seq.
mod oracle {
    use std::collections::BTreeMap;

    use chrono::{DateTime, NaiveDate, Utc};
    use serde_json::{json, Map, Value};

    /// The statement fields an amendment may change, in output order.
    const EDITABLE: [&str; 7] = [
        "position",
        "stated_on",
        "summary",
        "quote",
        "speaker",
        "source_url",
        "source_title",
    ];

    fn seq(e: &Value) -> u64 {
        e["seq"].as_u64().expect("seq")
    }

    fn text(e: &Value, k: &str) -> String {
        e[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {e}"))
            .to_owned()
    }

    /// The last seq recorded at or before `t`, by a scan of the whole log.
    pub fn known_seq(log: &[Value], t: DateTime<Utc>) -> u64 {
        log.iter()
            .filter(|e| text(e, "recorded_at").parse::<DateTime<Utc>>().unwrap() <= t)
            .map(seq)
            .max()
            .unwrap_or(0)
    }

    /// A statement as known at some seq, in the shape of the library's
    /// history entries: the stance fields, its edits and its retraction.
    #[derive(Clone)]
    pub struct Entry {
        pub fields: Map<String, Value>,
        pub amendments: Vec<Value>,
        pub retraction: Option<Value>,
        /// Retractions undone, each followed by the reinstatement that undid it.
        pub undone: Vec<Value>,
    }

    impl Entry {
        fn stated_on(&self) -> NaiveDate {
            self.fields["stated_on"].as_str().unwrap().parse().unwrap()
        }
        fn seq(&self) -> u64 {
            self.fields["seq"].as_u64().unwrap()
        }
        fn pair(&self) -> (String, String) {
            (
                self.fields["issue"].as_str().unwrap().to_owned(),
                self.fields["actor"].as_str().unwrap().to_owned(),
            )
        }
        /// The stance this statement gives.
        pub fn stance(&self) -> Value {
            let mut o = self.fields.clone();
            o.insert("amendments".into(), json!(self.amendments.len()));
            Value::Object(o)
        }
        /// The history entry.
        pub fn history(&self) -> Value {
            let mut o = self.fields.clone();
            o.insert("amendments".into(), json!(self.amendments));
            o.insert("retraction".into(), json!(self.retraction));
            o.insert("undone".into(), json!(self.undone));
            Value::Object(o)
        }
    }

    fn edit(e: &Value, changes: Map<String, Value>) -> Value {
        json!({
            "seq": e["seq"], "id": e["id"], "type": e["type"],
            "recorded_at": e["recorded_at"], "recorded_by": e["recorded_by"],
            "reason": e["reason"], "changes": changes,
        })
    }

    /// Every statement known at `known`, in log order.
    pub fn statements(log: &[Value], known: u64) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
        for e in log.iter().filter(|e| seq(e) <= known) {
            match e["type"].as_str().unwrap() {
                "statement" => {
                    let mut fields = Map::new();
                    for k in ["actor", "issue"].into_iter().chain(EDITABLE) {
                        fields.insert(k.into(), e.get(k).cloned().unwrap_or(Value::Null));
                    }
                    for (k, v) in [("statement_id", "id"), ("seq", "seq")] {
                        fields.insert(k.into(), e[v].clone());
                    }
                    for k in ["recorded_at", "recorded_by"] {
                        fields.insert(k.into(), e[k].clone());
                    }
                    // No definitions in these logs; dates are days, on the record.
                    fields.insert("title".into(), Value::Null);
                    fields.insert("proposition".into(), Value::Null);
                    fields.insert("stated_on_precision".into(), json!("day"));
                    fields.insert("attribution".into(), json!("on-record"));
                    by_id.insert(text(e, "id"), entries.len());
                    entries.push(Entry {
                        fields,
                        amendments: Vec::new(),
                        retraction: None,
                        undone: Vec::new(),
                    });
                }
                kind => {
                    let Some(&i) = by_id.get(&text(e, "target")) else {
                        continue;
                    };
                    let entry = &mut entries[i];
                    if kind == "retraction" {
                        entry.retraction = Some(edit(e, Map::new()));
                        continue;
                    }
                    if kind == "reinstatement" {
                        let undone = entry
                            .retraction
                            .take()
                            .expect("rules: only a retracted one");
                        entry.undone.push(undone);
                        entry.undone.push(edit(e, Map::new()));
                        continue;
                    }
                    let (mut changes, mut previous) = (Map::new(), Map::new());
                    for k in EDITABLE {
                        if let Some(v) = e.get(k).filter(|v| !v.is_null()) {
                            let old = entry.fields.insert(k.into(), v.clone());
                            previous.insert(k.into(), old.unwrap_or(Value::Null));
                            changes.insert(k.into(), v.clone());
                        }
                    }
                    let mut a = edit(e, changes);
                    a["previous"] = Value::Object(previous);
                    entry.amendments.push(a);
                }
            }
        }
        entries
    }

    /// The stance in force per (issue, actor), sorted by issue then actor.
    pub fn stances(
        log: &[Value],
        as_of: NaiveDate,
        known: u64,
    ) -> BTreeMap<(String, String), Value> {
        let mut best: BTreeMap<(String, String), Entry> = BTreeMap::new();
        for s in statements(log, known) {
            if s.retraction.is_some() || s.stated_on() > as_of {
                continue;
            }
            let wins = best
                .get(&s.pair())
                .is_none_or(|b| (s.stated_on(), s.seq()) > (b.stated_on(), b.seq()));
            if wins {
                best.insert(s.pair(), s);
            }
        }
        best.into_iter().map(|(k, v)| (k, v.stance())).collect()
    }

    /// Every change of a position in force, found by asking the fold for
    /// the stances on every date a statement can have (the test's dates
    /// are `day(0..12)`) and comparing each with the day before; sorted by
    /// date, then actor, then issue.
    pub fn shifts(log: &[Value], known: u64) -> Value {
        let firm = |p: &Value| p == "support" || p == "oppose";
        let mut out: Vec<Value> = Vec::new();
        let mut before: BTreeMap<(String, String), Value> = BTreeMap::new();
        for k in 0..12 {
            let now = stances(log, super::day(k), known);
            for ((issue, actor), s) in &now {
                let to = &s["position"];
                let from = before
                    .get(&(issue.clone(), actor.clone()))
                    .map(|p| &p["position"]);
                let kind = match from {
                    None => "first",
                    Some(f) if f == to => continue,
                    Some(f) if firm(f) && firm(to) => "reversal",
                    Some(f) if firm(f) => "softening",
                    Some(_) if firm(to) => "hardening",
                    Some(_) => "shift",
                };
                out.push(serde_json::json!({
                    "actor": actor, "issue": issue,
                    "from": from.cloned().unwrap_or(Value::Null), "to": to,
                    "kind": kind, "stated_on": s["stated_on"], "statement_id": s["statement_id"],
                }));
            }
            before = now;
        }
        let key = |v: &Value| {
            (
                v["stated_on"].to_string(),
                v["actor"].to_string(),
                v["issue"].to_string(),
            )
        };
        out.sort_by_key(key);
        Value::Array(out)
    }

    /// Every statement on the pair, ordered by `stated_on` then seq.
    pub fn history(log: &[Value], actor: &str, issue: &str, known: u64) -> Vec<Value> {
        let mut list: Vec<Entry> = statements(log, known)
            .into_iter()
            .filter(|s| s.pair() == (issue.to_owned(), actor.to_owned()))
            .collect();
        list.sort_by_key(|s| (s.stated_on(), s.seq()));
        list.iter().map(Entry::history).collect()
    }
}

/// The log as export-format JSON objects.
fn log_json(ledger: &Ledger) -> Vec<Value> {
    ledger
        .events(1)
        .unwrap()
        .map(|e| serde_json::to_value(stancelog::Wire::from_event(&e.unwrap())).unwrap())
        .collect()
}

/// Any serialisable library answer as JSON.
fn js<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

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
    Reinstate {
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
        1 => (0..64usize).prop_map(|target| Op::Reinstate { target }),
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
                details: Default::default(),
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
                stated_on_precision: None,
            }),
            Op::Retract { target } if !statements.is_empty() => {
                Fact::StatementRetracted(Retraction {
                    target: statements[target % statements.len()],
                    reason: format!("retraction {i}"),
                })
            }
            Op::Reinstate { target } if !statements.is_empty() => {
                Fact::StatementReinstated(Reinstatement {
                    target: statements[target % statements.len()],
                    reason: format!("reinstatement {i}"),
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

fn check_against_fold(ledger: &Ledger, log: &[Value], probes: &[(u8, u16)]) {
    let all = Default::default();
    for &(d, secs) in probes {
        let as_of = day(d);
        let known_at = t0() + Duration::seconds(i64::from(secs));
        let known = oracle::known_seq(log, known_at);
        assert_eq!(ledger.known_seq(Some(known_at)).unwrap(), known);
        // Known now, a query reads `stances_latest`; known earlier, every version.
        let head = log.len() as u64;
        let now = ledger.stances(as_of, None, &all).unwrap();
        assert_eq!(
            js(&now),
            Value::Array(
                oracle::stances(log, as_of, head)
                    .values()
                    .cloned()
                    .collect()
            ),
            "stances as of {as_of} known now"
        );
        let expected = oracle::stances(log, as_of, known);
        let got = ledger.stances(as_of, Some(known_at), &all).unwrap();
        assert_eq!(
            js(&got),
            Value::Array(expected.values().cloned().collect()),
            "stances as of {as_of} known at {known_at}"
        );
        for a in ACTORS {
            for i in ISSUES {
                let (actor, issue): (Actor, Issue) = (a.parse().unwrap(), i.parse().unwrap());
                let want = expected
                    .get(&(i.to_owned(), a.to_owned()))
                    .cloned()
                    .unwrap_or(Value::Null);
                assert_eq!(
                    js(&ledger
                        .stance(&actor, &issue, as_of, Some(known_at))
                        .unwrap()),
                    want,
                    "{a} {i} as of {as_of} known {known}"
                );
                // The library's history entries in the oracle's shape: the
                // only place that names fields of the library's view type.
                let hist: Vec<Value> = ledger
                    .history(&actor, &issue, Some(known_at))
                    .unwrap()
                    .iter()
                    .map(|v| {
                        let mut o = js(&v.stance());
                        o["amendments"] = js(&v.amendments);
                        o["retraction"] = js(&v.retraction);
                        o["undone"] = js(&v.undone);
                        o
                    })
                    .collect();
                assert_eq!(hist, oracle::history(log, a, i, known), "history {a} {i}");
            }
        }
        // `changes` agrees with two folds.
        let later = day(d.saturating_add(5));
        let after = oracle::stances(log, later, known);
        let changes = ledger.changes(as_of, later, Some(known_at), &all).unwrap();
        let id = |v: Option<&Value>| v.map(|s| s["statement_id"].clone());
        for c in js(&changes).as_array().unwrap() {
            let key = (
                c["issue"].as_str().unwrap().to_owned(),
                c["actor"].as_str().unwrap().to_owned(),
            );
            let (before, now) = (expected.get(&key), after.get(&key));
            assert_eq!(c["from"], before.cloned().unwrap_or(Value::Null));
            assert_eq!(c["to"], now.cloned().unwrap_or(Value::Null));
            assert_ne!(id(before), id(now));
        }
        let moved = ACTORS
            .iter()
            .flat_map(|a| ISSUES.iter().map(move |i| (i.to_string(), a.to_string())))
            .filter(|k| id(expected.get(k)) != id(after.get(k)))
            .count();
        assert_eq!(changes.len(), moved);
        assert_eq!(
            js(&ledger.shifts(None, None, Some(known_at), &all).unwrap()),
            oracle::shifts(log, known),
            "shifts known at {known_at}"
        );
        check_snapshot(ledger, log, known_at, known);
    }
}

/// A snapshot at a moment answers as the single queries do: its head is the
/// last event known, its pairs those with a statement, its audit summary
/// counts every event known, and each pair's timeline gives, day by day,
/// the stance the oracle has in force.
fn check_snapshot(ledger: &Ledger, log: &[Value], known_at: DateTime<Utc>, known: u64) {
    let days: Vec<NaiveDate> = (0..40).map(|n| day(0) + Duration::days(n - 1)).collect();
    let folds: Vec<_> = days
        .iter()
        .map(|d| oracle::stances(log, *d, known))
        .collect();
    ledger
        .snapshot(Some(known_at), |snap| {
            assert_eq!(snap.head()?.seq, known);
            let all = Default::default();
            let pairs: Vec<(String, String)> = snap
                .pairs(&all)?
                .iter()
                .map(|(a, i)| (a.to_string(), i.to_string()))
                .collect();
            let mut want = Vec::new();
            for a in ACTORS {
                for i in ISSUES {
                    if !oracle::history(log, a, i, known).is_empty() {
                        want.push((a.to_owned(), i.to_owned()));
                    }
                }
            }
            want.sort();
            assert_eq!(pairs, want, "pairs known at {known}");
            let events: u64 = snap.authorship()?.iter().map(|a| a.events).sum();
            assert_eq!(events, known);
            for a in ACTORS {
                for i in ISSUES {
                    let timeline = snap.timeline(&a.parse().unwrap(), &i.parse().unwrap())?;
                    assert!(timeline.windows(2).all(|w| w[0].stated_on < w[1].stated_on));
                    for (d, fold) in days.iter().zip(&folds) {
                        let in_force = timeline.iter().rev().find(|s| s.stated_on <= *d);
                        let want = fold
                            .get(&(i.to_owned(), a.to_owned()))
                            .cloned()
                            .unwrap_or(Value::Null);
                        assert_eq!(js(&in_force), want, "timeline of {a} {i} on {d}");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
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
        let log = log_json(&ledger);
        check_against_fold(&ledger, &log, &probes);
        ledger.verify(None, &mut |_| {}).unwrap();
        ledger.rebuild(&mut |_| {}).unwrap();
        check_against_fold(&ledger, &log, &probes);
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
            let f = Default::default();
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
        writeln!(jsonl, r#"{{"type":"statement","id":"{}","actor":"{}","issue":"{issue}","position":"support","stated_on":"2019-01-01","summary":"s{i}"}}"#, id(i), ["CHN", "JPN", "USA", "KOR", "RUS", "PRK", "FRA"][i % 7]).unwrap();
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
    let log = log_json(&ledger);
    assert_eq!(summary.added as usize, log.len());
    assert_eq!(log.len(), jsonl.lines().count());
    ledger.verify(None, &mut |_| {}).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let expected: Vec<Value> = oracle::stances(&log, as_of, log.len() as u64)
        .into_values()
        .collect();
    assert_eq!(
        js(&ledger.stances(as_of, None, &Default::default()).unwrap()),
        Value::Array(expected)
    );
}
