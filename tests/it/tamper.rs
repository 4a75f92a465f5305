//! Tampering through the storage layer, below every rule: the raw sled tree
//! is edited the way an attacker with file access (or a bad disk) would, then
//! `verify` must fail naming the damaged seq; `rebuild` must repair index
//! damage and must never make log damage pass. A consistent rewrite of
//! history (re-hashed from the change onward) must fail `verify --digest`.

use std::path::Path;

use stancelog::internals::{codec, index};

use crate::support::{article, TestLedger};

/// Events in the standard ledger: the 25 article statements, one amendment
/// (seq 26, of seq 2) and one retraction (seq 27, of seq 3).
const EVENTS: u64 = 27;

/// A ledger with statements, an amendment and a retraction recorded at
/// three different times.
fn ledger() -> TestLedger {
    let l = TestLedger::new();
    crate::support::run_ok(
        l.at("2020-01-01T00:00:00Z")
            .args(["import", article().to_str().unwrap()]),
    );
    let ids: Vec<String> = l
        .ok(&["export"])
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    crate::support::run_ok(l.at("2020-01-02T00:00:00Z").args([
        "amend",
        &ids[1],
        "--reason",
        "restated",
        "--position",
        "mixed",
    ]));
    crate::support::run_ok(l.at("2020-01-03T00:00:00Z").args([
        "retract",
        &ids[2],
        "--reason",
        "misattributed",
    ]));
    assert!(l.head().starts_with(&format!("{EVENTS}:")));
    l
}

/// Opens the ledger's sled database directly (as an attacker with file
/// access would, past every API), lets `f` edit the raw tree, flushes.
fn tamper(path: &Path, f: impl FnOnce(&sled::Db)) {
    let db = stancelog::internals::sled_config(path)
        .open()
        .expect("open sled");
    f(&db);
    db.flush().expect("flush");
}

fn get(db: &sled::Db, key: &[u8]) -> Vec<u8> {
    db.get(key).unwrap().expect("key present").to_vec()
}

/// `verify` finds a fault (exit 3) naming `seq`; returns the message.
fn verify_fails_at(l: &TestLedger, seq: u64) -> String {
    let err = l.faults(&["verify"]);
    assert!(
        err.contains(&format!("at seq {seq}:")),
        "expected a fault at seq {seq}: {err}"
    );
    err
}

/// Log damage: `rebuild` (whether it fails or not) must not make verify pass.
fn rebuild_does_not_hide(l: &TestLedger, seq: u64) {
    let _ = l.cmd().arg("rebuild").output().expect("run rebuild");
    let err = l.faults(&["verify"]);
    assert!(
        err.contains(&format!("seq {seq}")),
        "after rebuild, expected a fault at seq {seq}: {err}"
    );
}

/// Index damage: `rebuild` repairs it and the answers come back.
fn rebuild_repairs(l: &TestLedger, answers_before: &serde_json::Value) {
    l.ok(&["rebuild"]);
    let out = l.ok(&["verify"]);
    assert!(out.starts_with(&format!("ok: {EVENTS} events")), "{out}");
    assert_eq!(&answers(l), answers_before);
}

/// Everything queries answer, on both time axes.
fn answers(l: &TestLedger) -> serde_json::Value {
    serde_json::json!({
        "now": l.json(&["stances", "--as-of", "2019-12-31"]),
        "known_day_one": l.json(&["stances", "--as-of", "2019-12-31", "--known-at", "2020-01-01"]),
        "history": l.json(&["history", "JPN", "china-japan-new-era-relations"]),
        "retracted": l.json(&["history", "JPN", "us-china-phase-one-trade-deal"]),
    })
}

fn head_record(seq: u64, hash: &[u8], micros: i64) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(hash);
    v.extend_from_slice(&micros.to_be_bytes());
    v
}

// ---------------------------------------------------------------- log damage

// Every single-byte change of a stored event: a unit test of the audit
// (`every_single_byte_change_of_a_stored_event_is_detected` in src/audit.rs),
// run against the in-memory engine so that thousands of trials stay fast.

#[test]
fn a_changed_byte_in_a_stored_summary_fails_verify_and_survives_rebuild() {
    let l = ledger();
    tamper(&l.path(), |db| {
        let key = index::log_key(10);
        let mut v = get(db, &key);
        // The summary is text near the end of the record; change one letter.
        let pos = v.len() - 20;
        v[pos] = if v[pos] == b'a' { b'b' } else { b'a' };
        db.insert(key, v).unwrap();
    });
    let err = verify_fails_at(&l, 10);
    assert!(err.contains("hash does not match"), "{err}");
    rebuild_does_not_hide(&l, 10);
}

#[test]
fn an_undecodable_event_fails_rebuild_without_locking_the_ledger_up() {
    let l = ledger();
    let head = l.head();
    tamper(&l.path(), |db| {
        let key = index::log_key(10);
        let mut v = get(db, &key);
        v.truncate(v.len() - 5);
        db.insert(key, v).unwrap();
    });
    let err = verify_fails_at(&l, 10);
    assert!(err.contains("cannot decode record"), "{err}");
    // rebuild refuses before dropping anything...
    let err = l.fails(&["rebuild"]);
    assert!(err.contains("at seq 10:"), "{err}");
    // ...so the ledger still opens: the head can be read, the read model's
    // intact copy still exports the whole log, and the damage is still
    // reported.
    assert_eq!(l.head(), head);
    let out = l.cmd().arg("export").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 27);
    verify_fails_at(&l, 10);
}

#[test]
fn a_deleted_event_is_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        db.remove(index::log_key(7)).unwrap();
    });
    let err = verify_fails_at(&l, 7);
    assert!(err.contains("record missing"), "{err}");
    rebuild_does_not_hide(&l, 7);
}

#[test]
fn a_deleted_last_event_is_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        db.remove(index::log_key(EVENTS)).unwrap();
    });
    let err = verify_fails_at(&l, EVENTS);
    assert!(err.contains("log ends at seq 26"), "{err}");
}

#[test]
fn two_swapped_events_are_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        let (a, b) = (get(db, &index::log_key(5)), get(db, &index::log_key(6)));
        db.insert(index::log_key(5), b).unwrap();
        db.insert(index::log_key(6), a).unwrap();
    });
    let err = verify_fails_at(&l, 5);
    assert!(err.contains("claims seq 6"), "{err}");
    rebuild_does_not_hide(&l, 5);
}

#[test]
fn two_swapped_events_with_rewritten_seqs_are_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        let mut a = codec::decode(&get(db, &index::log_key(5))).unwrap();
        let mut b = codec::decode(&get(db, &index::log_key(6))).unwrap();
        std::mem::swap(&mut a.seq, &mut b.seq);
        db.insert(index::log_key(5), codec::encode(&b)).unwrap();
        db.insert(index::log_key(6), codec::encode(&a)).unwrap();
    });
    let err = verify_fails_at(&l, 5);
    assert!(err.contains("prev_hash does not link"), "{err}");
    rebuild_does_not_hide(&l, 5);
}

#[test]
fn a_truncated_tail_with_the_head_kept_is_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        for seq in [26, EVENTS] {
            db.remove(index::log_key(seq)).unwrap();
        }
    });
    let err = verify_fails_at(&l, 26);
    assert!(err.contains("committed head is seq 27"), "{err}");
    rebuild_does_not_hide(&l, 26);
}

#[test]
fn a_truncated_tail_with_a_rewritten_head_is_caught_by_the_indexes_or_the_digest() {
    let l = ledger();
    let published = l.head();
    let answers_before = answers(&l);
    // The attacker drops the last two events and points the head at seq 25,
    // leaving the index entries the dropped events derived.
    tamper(&l.path(), |db| {
        let last = codec::decode(&get(db, &index::log_key(25))).unwrap();
        for seq in [26, EVENTS] {
            db.remove(index::log_key(seq)).unwrap();
        }
        db.insert(
            index::META_HEAD,
            head_record(25, &last.hash, last.recorded_at.timestamp_micros()),
        )
        .unwrap();
    });
    // The read model witnessed seq 27: every command says the log lost it.
    let err = l.faults(&["verify"]);
    assert!(
        err.contains("lost acknowledged events after seq 25 (the read model witnessed seq 27)"),
        "{err}"
    );
    // `rebuild` refuses too: it would erase the witness.
    let err = l.fails(&["rebuild"]);
    assert!(
        err.contains("lost acknowledged events after seq 25"),
        "{err}"
    );
    // A careful attacker also deletes the read model, which the next
    // command rebuilds from the cut log. The log is then consistent on its
    // own: only a published digest can tell that it was cut.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(l.path().join(format!("read-model.sqlite3{suffix}")));
    }
    l.ok(&["verify"]);
    assert_ne!(answers(&l), answers_before);
    let err = l.faults(&["verify", "--digest", &published]);
    assert!(
        err.contains("the log does not extend digest 27:")
            && err.contains("the log ends at seq 25"),
        "{err}"
    );
}

#[test]
fn a_rewritten_head_hash_is_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        let mut head = get(db, index::META_HEAD);
        head[8] ^= 1;
        db.insert(index::META_HEAD, head).unwrap();
    });
    let err = verify_fails_at(&l, EVENTS);
    assert!(err.contains("committed head's hash"), "{err}");
}

#[test]
fn a_record_in_an_unknown_format_is_detected() {
    let l = ledger();
    tamper(&l.path(), |db| {
        let mut v = get(db, &index::log_key(3));
        v[0] = 3;
        db.insert(index::log_key(3), v).unwrap();
    });
    let err = verify_fails_at(&l, 3);
    assert!(err.contains("unknown record format version 3"), "{err}");
}

// ------------------------------------------------------ read model damage

/// Opens the read model directly (as an analyst's tool, or an attacker,
/// could) and lets `f` change it past every API.
fn tamper_model(path: &Path, f: impl FnOnce(&rusqlite::Connection)) {
    let conn = rusqlite::Connection::open(path.join(stancelog::READ_MODEL_FILE)).expect("open");
    f(&conn);
}

/// Applies `f` to the read model, checks verify names `seq`, then that
/// rebuild repairs the damage and every answer is as before.
fn model_case(seq: u64, f: impl FnOnce(&rusqlite::Connection)) {
    let l = ledger();
    let before = answers(&l);
    tamper_model(&l.path(), f);
    let err = verify_fails_at(&l, seq);
    assert!(err.contains("stancelog rebuild"), "{err}");
    rebuild_repairs(&l, &before);
}

#[test]
fn an_altered_event_row_is_detected_and_rebuilt() {
    model_case(4, |db| {
        db.execute(
            "UPDATE event_rows SET summary = 'rewritten' WHERE seq = 4",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_altered_edit_target_is_detected_and_rebuilt() {
    // Seq 26 amended seq 2; the row now says it amended seq 3.
    model_case(26, |db| {
        db.execute("UPDATE event_rows SET target_seq = 3 WHERE seq = 26", [])
            .unwrap();
    });
}

#[test]
fn a_deleted_event_row_is_detected_and_rebuilt() {
    model_case(27, |db| {
        db.execute("DELETE FROM event_rows WHERE seq = 27", [])
            .unwrap();
    });
}

#[test]
fn a_deleted_version_row_is_detected_and_rebuilt() {
    // Seq 26 amended seq 2: it made the version (2, 26).
    model_case(26, |db| {
        db.execute("DELETE FROM versions WHERE version_seq = 26", [])
            .unwrap();
    });
}

#[test]
fn a_flipped_tombstone_is_detected_and_rebuilt() {
    // Seq 27 retracted seq 3: its version is a tombstone.
    model_case(27, |db| {
        db.execute(
            "UPDATE versions SET tombstone = 0 WHERE version_seq = 27",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_added_version_row_is_detected_and_rebuilt() {
    // A forged version claiming seq 40: a stance no event made.
    model_case(40, |db| {
        db.execute(
            "INSERT INTO versions VALUES ('JPN', 'senkaku-islands', '2019-12-30', 1, 40, 0)",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_added_event_row_is_detected_and_rebuilt() {
    model_case(40, |db| {
        db.execute(
            "INSERT INTO event_rows (seq, id, recorded_us, recorded_by, type_code, hash, actor, issue, position_code, stated_on, summary) \
             SELECT 40, X'c4b3f2a1000040008000000000000040', recorded_us, recorded_by, type_code, hash, actor, issue, position_code, stated_on, summary FROM event_rows WHERE seq = 1",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_altered_stored_time_is_detected_and_rebuilt() {
    // One microsecond later in `event_rows`: the `events` view's text differs.
    model_case(4, |db| {
        db.execute(
            "UPDATE event_rows SET recorded_us = recorded_us + 1 WHERE seq = 4",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_altered_stored_position_code_is_detected_and_rebuilt() {
    model_case(4, |db| {
        db.execute(
            "UPDATE event_rows SET position_code = (position_code + 1) % 4 WHERE seq = 4",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_unknown_type_code_is_detected_and_rebuilt() {
    model_case(4, |db| {
        db.execute("UPDATE event_rows SET type_code = 99 WHERE seq = 4", [])
            .unwrap();
    });
}

#[test]
fn a_report_over_an_unknown_type_code_names_its_seq_and_code() {
    // A read of the event, and the audit summary grouped by the stored
    // code, name the damage in one line: the seq and the code.
    let l = ledger();
    tamper_model(&l.path(), |db| {
        db.execute("UPDATE event_rows SET type_code = 99 WHERE seq = 4", [])
            .unwrap();
    });
    let page = l.scratch("report.html");
    let err = l.fails(&["report", "-o", page.to_str().unwrap()]);
    assert!(
        err.contains("at seq 4") && err.contains("event_rows: unknown type code 99"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!page.exists());
}

#[test]
fn an_altered_hash_is_detected_at_its_row_and_rebuilt() {
    // The stored hash of seq 4 is also seq 5's `prev_hash` in the view:
    // the first row that differs is seq 4's.
    model_case(4, |db| {
        db.execute(
            "UPDATE event_rows SET hash = zeroblob(32) WHERE seq = 4",
            [],
        )
        .unwrap();
    });
}

#[test]
fn a_rewritten_view_is_detected_and_rebuilt() {
    // What analysts read of `events` is a view: rewriting it is damage too.
    model_case(EVENTS, |db| {
        db.execute_batch(
            "DROP VIEW events; CREATE VIEW events AS SELECT seq, 'forged' AS summary FROM event_rows",
        )
        .unwrap();
    });
    let l = ledger();
    tamper_model(&l.path(), |db| {
        db.execute_batch("DROP INDEX events_by_target").unwrap();
    });
    let err = verify_fails_at(&l, EVENTS);
    assert!(
        err.contains("the read model's index events_by_target is not the one this release defines"),
        "{err}"
    );
}

// The rows `stances_latest` keeps per pair (seq 2 is amended by seq 26,
// seq 3 retracted by seq 27, seq 5 is neither).

#[test]
fn a_stances_latest_row_naming_another_statement_is_detected_and_rebuilt() {
    model_case(2, |db| {
        db.execute(
            "UPDATE stances_latest SET statement_seq = 1 WHERE statement_seq = 2",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_altered_stances_latest_field_is_detected_and_rebuilt() {
    model_case(5, |db| {
        db.execute(
            "UPDATE stances_latest SET summary = 'rewritten' WHERE statement_seq = 5",
            [],
        )
        .unwrap();
    });
}

#[test]
fn an_amended_statement_shown_unamended_in_stances_latest_is_detected_and_rebuilt() {
    model_case(2, |db| {
        db.execute(
            "UPDATE stances_latest SET position = (SELECT position FROM events WHERE seq = 2) WHERE statement_seq = 2",
            [],
        )
        .unwrap();
    });
}

#[test]
fn a_deleted_stances_latest_row_is_detected_and_rebuilt() {
    model_case(5, |db| {
        db.execute("DELETE FROM stances_latest WHERE statement_seq = 5", [])
            .unwrap();
    });
}

#[test]
fn a_retracted_statement_put_back_in_stances_latest_is_detected_and_rebuilt() {
    model_case(3, |db| {
        db.execute(
            "UPDATE stances_latest SET statement_seq = 3, stated_on = '2019-12-23' WHERE statement_seq IS NULL",
            [],
        )
        .unwrap();
    });
}

// ------------------------------------------------------ consistent rewrites

#[test]
fn a_consistently_rewritten_history_fails_the_published_digest() {
    let l = ledger();
    let export = l.ok(&["export"]);
    // Digests published along the way: at seq 9, 10 and the head.
    let digest_at = |seq: usize| {
        let line: serde_json::Value =
            serde_json::from_str(export.lines().nth(seq - 1).unwrap()).unwrap();
        format!("{seq}:{}", line["hash"].as_str().unwrap())
    };
    let (d9, d10, published) = (digest_at(9), digest_at(10), l.head());
    assert_eq!(published, digest_at(EVENTS as usize));

    // Rewrite the summary of seq 10 and re-hash everything from there on.
    let mut lines: Vec<String> = export.lines().map(str::to_owned).collect();
    let mut w: serde_json::Value = serde_json::from_str(&lines[9]).unwrap();
    w["summary"] = "A quietly rewritten account.".into();
    lines[9] = w.to_string();
    let forged = crate::restore::rehash(&(lines.join("\n") + "\n"));
    assert_ne!(forged, export);

    // Restoring the forged export without re-hashing is refused at seq 10...
    let plain = l.scratch("edited.jsonl");
    std::fs::write(&plain, lines.join("\n") + "\n").unwrap();
    let fresh = TestLedger::new();
    let err = fresh.fails(&["restore", plain.to_str().unwrap()]);
    assert!(
        err.contains("edited.jsonl:10: seq 10: hash does not match"),
        "{err}"
    );

    // ...but the re-hashed one is a consistent chain, and restores.
    let forged_file = l.scratch("forged.jsonl");
    std::fs::write(&forged_file, &forged).unwrap();
    let victim = TestLedger::new();
    victim.ok(&["restore", forged_file.to_str().unwrap()]);
    victim.ok(&["verify"]);
    assert_ne!(victim.head(), published);

    // The digest of the untouched prefix still holds; every later one fails,
    // naming the digest's seq (a single hash cannot say which event changed).
    victim.ok(&["verify", "--digest", &d9]);
    let err = victim.faults(&["verify", "--digest", &d10]);
    assert!(
        err.contains("the log does not extend digest 10:")
            && err.contains("history was rewritten at or before seq 10"),
        "{err}"
    );
    let err = victim.faults(&["verify", "--digest", &published]);
    assert!(err.contains(&format!("at or before seq {EVENTS}")), "{err}");
    assert!(err.contains("the log does not extend digest"), "{err}");
}

#[test]
fn head_prints_a_publishable_digest_and_verify_checks_it() {
    let l = TestLedger::new();
    let empty = TestLedger::new();
    // The digest of an empty ledger is a prefix of every log.
    crate::support::run_ok(empty.cmd().args(["import", "/dev/null"]));
    let zero = empty.head();
    assert_eq!(zero, format!("0:{}", "0".repeat(64)));
    empty.ok(&["verify", "--digest", &zero]);

    l.ok(&["import", article().to_str().unwrap()]);
    let head = l.head();
    let (seq, hash) = head.split_once(':').unwrap();
    assert_eq!(seq, "25");
    assert!(
        hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let v = l.json(&["head"]);
    assert_eq!(v["seq"], 25);
    assert_eq!(v["hash"], hash);
    l.ok(&["verify", "--digest", &head]);
    l.ok(&["verify", "--digest", &zero]);
    let err = l.faults(&["verify", "--digest", &format!("0:{}", "1".repeat(64))]);
    assert!(err.contains("seq 0"), "{err}");
    // A digest past the end: the log was cut, or it is another ledger's.
    let err = l.faults(&["verify", "--digest", &format!("30:{hash}")]);
    assert!(
        err.contains("the log does not extend digest 30:")
            && err.contains("the log ends at seq 25"),
        "{err}"
    );
}

#[test]
fn tamper_helpers_see_the_expected_layout() {
    // Guards the test's own assumptions about the fixture ledger.
    let l = ledger();
    tamper(&l.path(), |db| {
        assert_eq!(db.scan_prefix([index::LOG]).count() as u64, EVENTS);
        // Only the log and its metadata live in sled.
        assert!(db.iter().all(|kv| matches!(kv.unwrap().0[0], b'L' | b'M')));
    });
    tamper_model(&l.path(), |db| {
        let edit = |seq: i64| -> Option<i64> {
            db.query_row(
                "SELECT target_seq FROM event_rows WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(edit(26), Some(2));
        assert_eq!(edit(27), Some(3));
    });
}
