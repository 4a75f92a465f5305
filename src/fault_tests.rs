//! Deterministic crash and fault tests of the commit protocol, against the
//! in-memory engine: a write is failed, or the machine "dies", at every
//! storage operation it performs, and the ledger must then hold either the
//! whole write or none of it, and verify.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::append::{Context, BATCH_EVENTS};
use crate::chain::recomputed_hash;
use crate::codec;
use crate::error::Error;
use crate::event::Event;
use crate::index;
use crate::ledger::Ledger;
use crate::model::{Amendment, Command, Fact, Position, Retraction, Statement};
use crate::query::Filter;
use crate::storage::memory::{Faults, MemoryHandle};
use crate::store::OpenOptions;
use crate::Request;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap()
}

fn statement(i: usize) -> Statement {
    Statement {
        actor: ["CHN", "JPN", "USA", "KOR", "RUS", "PRK", "FRA"][i % 7]
            .parse()
            .unwrap(),
        issue: format!("issue-{}", i % 11).parse().unwrap(),
        position: [Position::Support, Position::Oppose, Position::Mixed][i % 3],
        stated_on: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
            + chrono::Days::new((i * 7919 % 5000) as u64),
        summary: format!("statement {i}"),
        quote: None,
        speaker: None,
        source_url: None,
        source_title: None,
        details: Default::default(),
    }
}

/// `n` statements with ids from `first`, an amendment of every 9th and a
/// retraction of every 31st, so that a write spans several batches.
fn requests(first: usize, n: usize) -> Vec<Request> {
    let id = |i: usize| Uuid::from_u128(i as u128 + 1);
    let mut out = Vec::new();
    for i in first..first + n {
        out.push(Request {
            id: Some(id(i)),
            command: Command::Record(statement(i)),
        });
        if i % 9 == 8 {
            out.push(Request {
                id: None,
                command: Command::Amend(Amendment {
                    target: id(i - 3),
                    reason: format!("corrected {i}"),
                    position: Some(Position::Neutral),
                    stated_on: Some(NaiveDate::from_ymd_opt(2010, 6, 1).unwrap()),
                    summary: None,
                    quote: None,
                    speaker: None,
                    source_url: None,
                    source_title: None,
                    stated_on_precision: None,
                }),
            });
        }
        if i % 31 == 30 {
            out.push(Request {
                id: None,
                command: Command::Retract(Retraction {
                    target: id(i - 10),
                    reason: format!("withdrawn {i}"),
                }),
            });
        }
    }
    out
}

fn append(l: &Ledger, reqs: Vec<Request>, day: u32) -> crate::Result<crate::Summary> {
    let clock = move || at(day);
    let mut ctx = Context {
        author: "test".into(),
        clock: &clock,
        progress: None,
    };
    l.append(reqs.into_iter().map(Ok), &mut ctx)
}

/// Everything a reader can see: the head, the log and the answers of both
/// time axes.
fn observe(l: &Ledger) -> (String, Vec<Event>, String) {
    let head = l.head().unwrap();
    let events = l.events(1).unwrap().map(|e| e.unwrap()).collect();
    let mut answers = String::new();
    for day in ["2003-01-01", "2010-06-01", "2020-01-01"] {
        let d: NaiveDate = day.parse().unwrap();
        for known in [None, Some(at(1)), Some(at(2))] {
            let s = l.stances(d, known, &Filter::default()).unwrap();
            answers.push_str(&format!("{s:?}\n"));
        }
    }
    (format!("{}:{:?}", head.seq, head.hash), events, answers)
}

type Seen = (String, Vec<Event>, String);

/// A ledger with one earlier write (its log in memory, its read model in a
/// temporary directory), and what it looks like.
fn base() -> (MemoryHandle, tempfile::TempDir, Seen) {
    let handle = MemoryHandle::default();
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::in_memory(&handle, dir.path()).unwrap();
    append(&l, requests(0, 40), 1).unwrap();
    let before = observe(&l);
    (handle, dir, before)
}

/// The second write: more than two batches, edits of earlier statements
/// and of its own.
fn second_write() -> Vec<Request> {
    requests(40, 2 * BATCH_EVENTS + 30)
}

#[test]
fn a_write_that_fails_at_any_storage_operation_leaves_the_ledger_as_it_was() {
    // How many operations the write performs when nothing fails.
    let (handle, dir, _) = base();
    handle.arm(Faults::default());
    append(
        &Ledger::in_memory(&handle, dir.path()).unwrap(),
        second_write(),
        2,
    )
    .unwrap();
    let (applies, syncs) = handle.counts();
    assert!(
        applies >= 3 && syncs >= 1,
        "{applies} applies, {syncs} syncs"
    );

    let plans = (1..=applies)
        .map(|n| Faults {
            fail_apply: Some(n),
            ..Faults::default()
        })
        .chain((1..=syncs).map(|n| Faults {
            fail_sync: Some(n),
            ..Faults::default()
        }));
    for plan in plans {
        let (handle, dir, before) = base();
        let l = Ledger::in_memory(&handle, dir.path()).unwrap();
        handle.arm(plan);
        let err = append(&l, second_write(), 2).expect_err("the fault surfaces");
        assert!(matches!(err, Error::Storage(_)), "{plan:?}: {err}");
        assert_eq!(observe(&l), before, "{plan:?}: the ledger changed");
        l.verify(None, &mut |_| {}).expect("verifies");
        // And after a restart, only what was synced counts: the same.
        drop(l);
        let restarted = Ledger::in_memory(&handle.crash(), dir.path()).unwrap();
        assert_eq!(observe(&restarted), before, "{plan:?}: after a restart");
        restarted.verify(None, &mut |_| {}).expect("verifies");
    }
}

#[test]
fn a_crash_at_any_storage_operation_keeps_the_write_whole_or_not_at_all() {
    let (handle, dir, _) = base();
    let full = Ledger::in_memory(&handle, dir.path()).unwrap();
    handle.arm(Faults::default());
    append(&full, second_write(), 2).unwrap();
    let after = observe(&full);
    let (applies, syncs) = handle.counts();

    let mut whole = 0;
    for n in 1..=applies + syncs + 1 {
        let (handle, dir, before) = base();
        let l = Ledger::in_memory(&handle, dir.path()).unwrap();
        handle.arm(Faults {
            die_at: Some(n),
            ..Faults::default()
        });
        let result = append(&l, second_write(), 2);
        drop(l);
        let restarted = Ledger::in_memory(&handle.crash(), dir.path()).unwrap();
        let seen = observe(&restarted);
        restarted.verify(None, &mut |_| {}).expect("verifies");
        if result.is_ok() {
            // Reported success: it must have survived.
            assert_eq!(seen, after, "crash at op {n} lost an acknowledged write");
            whole += 1;
        } else {
            assert!(
                seen == before || seen == after,
                "crash at op {n}: half a write"
            );
        }
    }
    assert_eq!(whole, 1, "only the run past the last operation succeeds");

    // The machine dies after the log is committed and synced but before the
    // read model commits: the write was never acknowledged, the log holds
    // it, and the next open brings the read model up to the log.
    let (handle, dir, _) = base();
    let l = Ledger::in_memory(&handle, dir.path()).unwrap();
    handle.arm(Faults {
        die_at: Some(applies + syncs + 1),
        ..Faults::default()
    });
    crate::writer::fail_next_model_commit();
    append(&l, second_write(), 2).expect_err("the read model's commit fails");
    drop(l);
    let restarted = Ledger::in_memory(&handle.crash(), dir.path()).unwrap();
    assert_eq!(observe(&restarted), after, "caught up after the crash");
    restarted.verify(None, &mut |_| {}).expect("verifies");
}

#[test]
fn eight_threads_appending_through_one_ledger_each_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        create: true,
        ..OpenOptions::default()
    };
    let ledger = Arc::new(Ledger::open(&dir.path().join("l"), &opts).unwrap());
    const PER_THREAD: usize = 50;
    std::thread::scope(|s| {
        for t in 0..8 {
            let ledger = Arc::clone(&ledger);
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let n = t * PER_THREAD + i;
                    let req = Request {
                        id: Some(Uuid::from_u128(n as u128 + 1)),
                        command: Command::Record(statement(n)),
                    };
                    let s = append(&ledger, vec![req], 1).unwrap();
                    assert_eq!(s.added, 1);
                }
            });
        }
    });
    let report = ledger.verify(None, &mut |_| {}).unwrap();
    assert_eq!(report.events, 8 * PER_THREAD as u64);
    let ids: std::collections::BTreeSet<Uuid> =
        ledger.events(1).unwrap().map(|e| e.unwrap().id).collect();
    assert_eq!(ids.len(), 8 * PER_THREAD);
}

/// The article fixture, amended and retracted at later times, in memory.
fn article_ledger() -> (MemoryHandle, tempfile::TempDir, Ledger) {
    let handle = MemoryHandle::default();
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::in_memory(&handle, dir.path()).unwrap();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/xi-abe-summit-2019-12-23.jsonl");
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let clock = || at(1);
    let mut ctx = Context {
        author: "test".into(),
        clock: &clock,
        progress: None,
    };
    l.import(file, "article", &mut ctx).unwrap();
    let ids: Vec<Uuid> = l.events(1).unwrap().map(|e| e.unwrap().id).collect();
    let amend = Request {
        id: None,
        command: Command::Amend(Amendment {
            target: ids[1],
            reason: "restated".into(),
            position: Some(Position::Mixed),
            stated_on: None,
            summary: None,
            quote: None,
            speaker: None,
            source_url: None,
            source_title: None,
            stated_on_precision: None,
        }),
    };
    append(&l, vec![amend], 2).unwrap();
    let retract = Request {
        id: None,
        command: Command::Retract(Retraction {
            target: ids[2],
            reason: "misattributed".into(),
        }),
    };
    append(&l, vec![retract], 3).unwrap();
    (handle, dir, l)
}

#[test]
fn every_single_byte_change_of_a_stored_event_is_detected() {
    let (handle, _dir, l) = article_ledger();
    let last = l.head().unwrap().seq;
    assert_eq!(last, 27);
    let stored = handle.applied();
    let mut detected = 0;
    for seq in [1, 26, last] {
        let key = index::log_key(seq);
        let original = stored[key.as_slice()].clone();
        let decoded = codec::decode(&original).unwrap();
        for i in 0..original.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bytes = original.clone();
                bytes[i] ^= mask;
                handle.poke(&key, Some(&bytes));
                match l.verify(None, &mut |_| {}) {
                    Err(Error::Corrupt { seq: s, .. }) if s == seq => detected += 1,
                    // A change that decodes to the very same event (a
                    // non-canonical integer encoding, say) alters nothing.
                    Ok(_) if codec::decode(&bytes).ok().as_ref() == Some(&decoded) => {}
                    other => panic!("seq {seq} byte {i} ^ {mask:#x}: {other:?}"),
                }
            }
        }
        handle.poke(&key, Some(&original));
    }
    l.verify(None, &mut |_| {}).expect("restored");
    assert!(detected > 3 * 3 * 100, "only {detected} changes detected");
}

/// A record that breaks one rule, hashed consistently onto the chain so
/// that only the rules can catch it.
struct Forgery {
    name: &'static str,
    /// Turns the last event of the article ledger into the forged one.
    forge: fn(&mut Event),
}

const FORGERIES: &[Forgery] = &[
    Forgery {
        name: "field limit",
        forge: |e| {
            if let Fact::StatementRecorded(s) = &mut e.payload {
                s.summary = "x".repeat(1001);
            }
        },
    },
    Forgery {
        name: "future date",
        forge: |e| {
            if let Fact::StatementRecorded(s) = &mut e.payload {
                s.stated_on = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
            }
        },
    },
    Forgery {
        name: "edit of a retracted statement",
        forge: |e| {
            // Seq 27 retracted the statement at seq 3; seq 28 amends it.
            e.payload = Fact::StatementAmended(Amendment {
                target: e.payload.target().unwrap(),
                reason: "after the retraction".into(),
                position: Some(Position::Support),
                stated_on: None,
                summary: None,
                quote: None,
                speaker: None,
                source_url: None,
                source_title: None,
                stated_on_precision: None,
            });
        },
    },
    Forgery {
        name: "lowercase actor",
        forge: |e| {
            if let Fact::StatementRecorded(s) = &mut e.payload {
                s.actor = crate::model::Actor::unchecked("jpn");
            }
        },
    },
];

/// The forged event as the next (seq 28) event of `l`, with its hash.
fn forged_event(l: &Ledger, f: &Forgery) -> Event {
    let events: Vec<Event> = l.events(1).unwrap().map(|e| e.unwrap()).collect();
    let last = events.last().unwrap();
    let mut e = match f.name {
        "edit of a retracted statement" => last.clone(),
        _ => events[0].clone(),
    };
    (f.forge)(&mut e);
    e.seq = last.seq + 1;
    e.id = Uuid::from_u128(0xF0F0 + e.seq as u128);
    e.recorded_at = at(4);
    e.prev_hash = last.hash;
    e.hash = recomputed_hash(&e);
    e
}

#[test]
fn a_consistently_hashed_record_that_breaks_a_rule_is_refused_by_all_five_paths() {
    for f in FORGERIES {
        let (handle, _dir, l) = article_ledger();
        let e = forged_event(&l, f);

        // 1. append and 2. import: as a request (where it can be expressed).
        let req = Request {
            id: Some(e.id),
            command: e.payload.clone().into_command(),
        };
        if f.name != "lowercase actor" {
            let err = append(&l, vec![req.clone()], 4).expect_err(f.name);
            assert!(matches!(err, Error::Rule(_)), "{}: append: {err}", f.name);
            let line = serde_json::to_string(&crate::Wire::from_event(&e)).unwrap();
            let clock = || at(4);
            let mut ctx = Context {
                author: "test".into(),
                clock: &clock,
                progress: None,
            };
            let err = l
                .import(std::io::Cursor::new(line), "forged", &mut ctx)
                .expect_err(f.name);
            assert!(
                matches!(err, Error::Input { .. }),
                "{}: import: {err}",
                f.name
            );
        }

        // 3. restore: the ledger's own export with the forgery appended.
        let mut export = String::new();
        for ev in l.events(1).unwrap() {
            export += &serde_json::to_string(&crate::Wire::from_event(&ev.unwrap())).unwrap();
            export.push('\n');
        }
        export += &serde_json::to_string(&crate::Wire::from_event(&e)).unwrap();
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = Ledger::in_memory(&MemoryHandle::default(), fresh_dir.path()).unwrap();
        let err = fresh
            .restore(std::io::Cursor::new(export), "export", at(5), &mut |_| {})
            .expect_err(f.name);
        assert!(
            err.to_string().contains("seq 28"),
            "{}: restore: {err}",
            f.name
        );

        // 4. verify and 5. rebuild: the record written past every API.
        handle.poke(&index::log_key(e.seq), Some(&codec::encode(&e)));
        let head = crate::store::Head {
            seq: e.seq,
            hash: e.hash,
            recorded_at: e.recorded_at,
        };
        handle.poke(index::META_HEAD, Some(&head.encode()));
        let err = l.verify(None, &mut |_| {}).expect_err(f.name);
        assert!(
            matches!(err, Error::Corrupt { seq: 28, .. }),
            "{}: verify: {err}",
            f.name
        );
        let err = l.rebuild(&mut |_| {}).expect_err(f.name);
        assert!(
            matches!(err, Error::Corrupt { seq: 28, .. }),
            "{}: rebuild: {err}",
            f.name
        );
    }
}

static NOTICES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[test]
fn a_log_of_derived_layout_1_loses_its_old_indexes_on_open_with_a_notice() {
    let (handle, dir, l) = article_ledger();
    let before = observe(&l);
    drop(l);
    // Layout 1 kept index keyspaces beside the log.
    handle.poke(index::META_LAYOUT, Some(&[1]));
    for prefix in index::LEGACY_DERIVED {
        handle.poke(&[prefix, 1, 2, 3], Some(&[0]));
    }
    let store = crate::store::Store::with_engine(
        Box::new(handle.engine()),
        Path::new("<memory>"),
        Some(|n: &str| NOTICES.lock().unwrap().push(n.to_owned())),
    )
    .unwrap();
    drop(store);
    let notices = NOTICES.lock().unwrap().clone();
    assert_eq!(
        notices,
        ["removed the derived indexes of layout 1 from the log of <memory> (the read model holds them now)"]
    );
    let stored = handle.applied();
    assert!(
        stored.keys().all(|k| k[0] == index::LOG || k[0] == b'M'),
        "only the log and meta remain"
    );
    assert_eq!(stored[index::META_LAYOUT], [index::LAYOUT_VERSION]);
    let l = Ledger::in_memory(&handle, dir.path()).unwrap();
    assert_eq!(observe(&l), before);
    l.verify(None, &mut |_| {})
        .expect("verifies after the upgrade");
}
