//! Holes a review found around the rules, each closed and pinned here
//! through the real binary: time that cannot be forged, idempotency that
//! never hides a real request, and imports that cannot launder an altered
//! export.

use serde_json::Value;

use crate::restore::rehash;
use crate::support::{run_fails, run_ok, TestLedger};

fn record<'a>(date: &'a str, summary: &'a str) -> Vec<&'a str> {
    vec![
        "record",
        "--actor",
        "JPN",
        "--issue",
        "north-korea-sanctions-relief",
        "--position",
        "oppose",
        "--stated-on",
        date,
        "--summary",
        summary,
    ]
}

fn id_of(l: &TestLedger, args: &[&str]) -> String {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    l.json(&a[1..])
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no id from {args:?}"))
}

// ------------------------------------------------------------------ time

#[test]
fn a_restore_refuses_events_recorded_after_this_machines_clock() {
    let src = TestLedger::new();
    run_ok(
        src.at("2020-01-01T00:00:00Z")
            .args(record("2019-12-23", "Too soon.")),
    );
    let export = src.ok(&["export"]);
    let mut w: Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    w["seq"] = 2.into();
    w["id"] = "8c2d1b5e-9f3a-4c7b-8e6d-5a4b3c2d1e0f".into();
    w["summary"] = "From the future.".into();
    w["recorded_at"] = "2999-12-31T00:00:00.000000Z".into();
    let forged = rehash(&format!("{export}{w}\n"));
    let dst = TestLedger::new();
    let file = dst.scratch("future.jsonl");
    std::fs::write(&file, forged).unwrap();
    let err = run_fails(
        dst.at("2026-06-01T00:00:00Z")
            .args(["restore", file.to_str().unwrap()]),
    );
    assert!(
        err.contains("future.jsonl:2: seq 2: recorded_at 2999-12-31T00:00:00.000000Z is after this machine's clock (2026-06-01T00:00:00.000000Z, with 5 minutes of skew allowed)"),
        "{err}"
    );
    // A few minutes of skew are allowed.
    let genuine = dst.scratch("genuine.jsonl");
    std::fs::write(&genuine, &export).unwrap();
    run_ok(
        dst.at("2019-12-31T23:57:00Z")
            .args(["restore", genuine.to_str().unwrap()]),
    );
}

#[test]
fn a_clock_far_behind_the_ledger_is_refused_naming_both_times() {
    let l = TestLedger::new();
    run_ok(l.at("2026-03-10T12:00:00Z").args(record("2019-12-23", "a")));
    let err = run_fails(l.at("2026-03-08T12:00:00Z").args(record("2019-12-23", "b")));
    assert_eq!(
        err,
        "error: this machine's clock says 2026-03-08T12:00:00.000000Z, more than a day before the ledger's last write at 2026-03-10T12:00:00.000000Z; set the clock right and try again (nothing was written)"
    );
    // Less than a day behind is stamped with the head's time, as before.
    run_ok(l.at("2026-03-10T01:00:00Z").args(record("2019-12-23", "c")));
    assert_eq!(l.head().split(':').next(), Some("2"));
}

#[test]
fn record_and_import_accept_today_in_any_time_zone_and_refuse_beyond() {
    let l = TestLedger::new();
    // Recorded on 2026-03-10 UTC: 2026-03-11 is today in UTC+14.
    run_ok(
        l.at("2026-03-10T12:00:00Z")
            .args(record("2026-03-11", "tomorrow in Kiribati")),
    );
    let err = run_fails(
        l.at("2026-03-10T12:00:00Z")
            .args(record("2026-03-12", "two days ahead")),
    );
    assert!(
        err.contains("stated_on 2026-03-12 is after the recording date 2026-03-10"),
        "{err}"
    );
    assert!(
        err.contains("up to one day past the UTC date is accepted"),
        "{err}"
    );
    let file = l.scratch("ahead.jsonl");
    std::fs::write(
        &file,
        crate::support::statement_line("KOR", "x", "support", "2026-03-12", "two days ahead")
            + "\n",
    )
    .unwrap();
    let err = run_fails(
        l.at("2026-03-10T12:00:00Z")
            .args(["import", file.to_str().unwrap()]),
    );
    assert!(
        err.contains("ahead.jsonl:1: stated_on 2026-03-12 is after the recording date 2026-03-10"),
        "{err}"
    );
}

// ----------------------------------------------------------- idempotency

#[test]
fn recording_a_retracted_statement_again_is_not_skipped_in_silence() {
    let l = TestLedger::new();
    let id = id_of(&l, &record("2019-12-23", "Too soon."));
    l.ok(&["retract", &id, "--reason", "misattributed"]);
    let err = l.fails(&record("2019-12-23", "Too soon."));
    assert_eq!(
        err,
        format!("error: statement {id} is already at seq 1, but seq 2 has since retracted it; nothing was added (to record it again, give it a new id with --id)")
    );
    assert_eq!(
        l.json(&[
            "stance",
            "JPN",
            "north-korea-sanctions-relief",
            "--as-of",
            "2020-01-01"
        ]),
        Value::Null
    );
    // With a new id it is recorded.
    l.ok(&[
        &record("2019-12-23", "Too soon.")[..],
        &["--id", "0b3c9f60-2a4e-4d7a-9c1b-6e5f4a3b2c1d"],
    ]
    .concat());
    assert_eq!(
        l.json(&[
            "stance",
            "JPN",
            "north-korea-sanctions-relief",
            "--as-of",
            "2020-01-01"
        ])["position"],
        "oppose"
    );
}

#[test]
fn a_correction_reapplied_after_it_was_reverted_is_not_skipped_in_silence() {
    let l = TestLedger::new();
    let id = id_of(&l, &record("2019-12-23", "Too soon."));
    let fix = ["amend", &id, "--reason", "misread", "--position", "mixed"];
    l.ok(&fix);
    l.ok(&["amend", &id, "--reason", "reverted", "--position", "oppose"]);
    let err = l.fails(&fix);
    assert!(err.contains("is already at seq 2, but seq 3 has since amended the statement again; nothing was added"), "{err}");
    // An exact repeat of the latest request is still a quiet no-op.
    let again = l.ok(&["amend", &id, "--reason", "reverted", "--position", "oppose"]);
    assert!(again.starts_with("already recorded: amendment"), "{again}");
}

#[test]
fn an_import_reports_superseded_lines_apart_from_repeats() {
    let l = TestLedger::new();
    let line = crate::support::statement_line("JPN", "x", "oppose", "2019-12-23", "s");
    let file = l.scratch("one.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    l.ok(&["import", file.to_str().unwrap()]);
    // An exact re-import is a no-op, exit 0.
    let out = l
        .cmd()
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("0 added, 1 skipped (already present); head at seq 1"));
    let id = l.ok(&["--json", "log"]);
    let id = serde_json::from_str::<Value>(id.trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    l.ok(&["retract", &id, "--reason", "wrong"]);
    let out = l
        .cmd()
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 added, 0 skipped (already present), 1 not re-applied"),
        "{stderr}"
    );
    let v = l.json(&["import", file.to_str().unwrap()]);
    assert_eq!(
        (v["skipped"].as_u64(), v["superseded"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn an_amendment_that_changes_nothing_is_refused() {
    let l = TestLedger::new();
    let id = id_of(&l, &record("2019-12-23", "Too soon."));
    let err = l.fails(&[
        "amend",
        &id,
        "--reason",
        "same",
        "--position",
        "oppose",
        "--summary",
        "Too soon.",
    ]);
    assert_eq!(
        err,
        format!("error: the amendment changes nothing: every field it gives already has that value in statement {id}")
    );
    assert!(l.head().starts_with("1:"));
}

// ------------------------------------------------------------- laundering

#[test]
fn an_altered_export_line_cannot_be_imported_under_the_genuine_id() {
    let src = TestLedger::new();
    src.import_article();
    let export = src.ok(&["export"]);
    let altered: String = export
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if i == 4 {
                v["position"] = if v["position"] == "oppose" {
                    "support"
                } else {
                    "oppose"
                }
                .into();
            }
            v.to_string() + "\n"
        })
        .collect();
    let dst = TestLedger::new();
    let file = dst.scratch("altered.jsonl");
    std::fs::write(&file, &altered).unwrap();
    let err = dst.fails(&["import", file.to_str().unwrap()]);
    assert!(err.contains("altered.jsonl:5: the line carries an export's envelope but its hash does not match its content"), "{err}");
    // With the envelope stripped, the genuine content id still gives it away.
    let stripped: String = altered
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            for k in ["seq", "recorded_at", "recorded_by", "prev_hash", "hash"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(&file, stripped).unwrap();
    let err = dst.fails(&["import", file.to_str().unwrap()]);
    assert!(
        err.contains("altered.jsonl:5: id ")
            && err.contains("is a content id (UUID v5) but not of this content"),
        "{err}"
    );
    assert!(
        !dst.path().join("read-model.sqlite3").exists(),
        "nothing was created"
    );
}

#[test]
fn an_untouched_export_imported_says_its_authors_and_times_are_not_kept() {
    let src = TestLedger::new();
    src.import_article();
    let file = src.scratch("export.jsonl");
    std::fs::write(&file, src.ok(&["export"])).unwrap();
    let dst = TestLedger::new();
    let out = dst
        .cmd()
        .args(["import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: 25 lines of ") && stderr.contains("carry an export's envelope (authors, times, hashes): they check out, and were recorded anew as by tester now; `stancelog restore` into a new ledger keeps them"),
        "{stderr}"
    );
}
