//! `stancelog restore`: an export restored into an empty ledger is the same
//! ledger (same head, same answers on both time axes); a non-empty ledger, an
//! altered, reordered or missing line, or a broken rule is refused naming the
//! line and the first bad seq, and nothing is kept.

use std::path::Path;

use serde_json::Value;

use crate::support::{article, run_ok, statement_line, TestLedger};

/// Re-hashes an export from the first line on, as an attacker who knows the
/// chain's specification would after changing a line: the result is a
/// consistent chain.
pub fn rehash(export: &str) -> String {
    use stancelog::Wire;
    use stancelog::{hex_hash, internals::event_hash};
    let mut prev = [0u8; 32];
    let mut out = String::new();
    for line in export.lines() {
        let mut w: Wire = serde_json::from_str(line).unwrap();
        let req = w.to_request().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(w.recorded_at.as_deref().unwrap())
            .unwrap()
            .to_utc();
        let h = event_hash(
            &prev,
            w.seq.unwrap(),
            &req.id.unwrap(),
            &at,
            w.recorded_by.as_deref().unwrap(),
            &req.command.clone().into_fact(),
        );
        w.prev_hash = Some(hex_hash(&prev));
        w.hash = Some(hex_hash(&h));
        prev = h;
        out.push_str(&serde_json::to_string(&w).unwrap());
        out.push('\n');
    }
    out
}

fn ids(l: &TestLedger) -> Vec<String> {
    l.ok(&["export"])
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// A ledger written over four months, so that `--known-at` matters: the
/// article on 2020-01-01, an amendment on 2020-02-01, a new statement on
/// 2020-03-01, a retraction on 2020-04-01 (all at odd microseconds).
fn source() -> TestLedger {
    let l = TestLedger::new();
    run_ok(
        l.at("2020-01-01T10:00:00.000001Z")
            .args(["import", article().to_str().unwrap()]),
    );
    let ids = ids(&l);
    // seq 2: JPN china-japan-new-era-relations; seq 3: JPN us-china-phase-one-trade-deal.
    run_ok(l.at("2020-02-01T08:30:00.123456+09:00").args([
        "amend",
        &ids[1],
        "--reason",
        "restated after the summit",
        "--position",
        "mixed",
        "--stated-on",
        "2019-12-24",
    ]));
    run_ok(l.at("2020-03-01T00:00:00Z").args([
        "--by",
        "Zoë",
        "record",
        "--actor",
        "JPN",
        "--issue",
        "china-japan-new-era-relations",
        "--position",
        "oppose",
        "--stated-on",
        "2020-02-20",
        "--summary",
        "A later statement reversing course (新時代 no more).",
    ]));
    run_ok(
        l.at("2020-04-01T00:00:00Z")
            .args(["retract", &ids[2], "--reason", "misattributed"]),
    );
    assert!(l.head().starts_with("28:"));
    l
}

/// Every answer the ledger gives, on both time axes.
fn answers(l: &TestLedger) -> Vec<Value> {
    let known = [
        None,
        Some("2019-12-31"),
        Some("2020-01-01T10:00:00.000001Z"),
        Some("2020-01-15"),
        Some("2020-02-01T00:00:00+09:00"),
        Some("2020-03-01"),
        Some("2020-03-31T23:00:00-05:00"),
        Some("2020-04-02"),
    ];
    let mut out = Vec::new();
    for k in known {
        let mut with = |args: &[&str]| {
            let mut a = args.to_vec();
            if let Some(k) = k {
                a.extend(["--known-at", k]);
            }
            out.push(l.json(&a));
        };
        for as_of in ["2019-12-23", "2019-12-24", "2020-02-25"] {
            with(&[
                "stance",
                "JPN",
                "china-japan-new-era-relations",
                "--as-of",
                as_of,
            ]);
            with(&[
                "stance",
                "JPN",
                "us-china-phase-one-trade-deal",
                "--as-of",
                as_of,
            ]);
            with(&["stances", "--as-of", as_of]);
        }
        with(&["history", "JPN", "china-japan-new-era-relations"]);
        with(&["history", "JPN", "us-china-phase-one-trade-deal"]);
        with(&["changes", "--from", "2019-12-01", "--to", "2020-03-01"]);
    }
    out
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn restore_gives_the_same_head_and_the_same_answers_on_both_time_axes() {
    let src = source();
    let export = src.ok(&["export"]);
    let file = write(&src.scratch("backup.jsonl"), &export);

    // The source as restored (the end of each round appends to it).
    let (head, log, a) = (src.head(), src.ok(&["log", "--json"]), answers(&src));
    for dst in TestLedger::each() {
        let out = dst.ok(&["restore", &file]);
        assert!(out.starts_with("restored 28 events"), "{out}");
        assert!(out.contains(&format!("head {head}")), "{out}");
        assert_eq!(dst.head(), head);
        assert_eq!(dst.ok(&["export"]), export, "byte-for-byte the same log");
        assert_eq!(dst.ok(&["log", "--json"]), log);
        assert_eq!(answers(&dst), a);
        // Known-at really matters for this ledger: `stances --as-of 2020-02-25`
        // now and as known on 2020-01-15 differ (12 answers per known-at).
        assert_ne!(a[8], a[3 * 12 + 8]);
        let distinct: std::collections::HashSet<String> = a.iter().map(Value::to_string).collect();
        assert!(distinct.len() >= 15, "{} distinct answers", distinct.len());
        dst.ok(&["verify", "--digest", &head]);
        let v = dst.json(&["verify"]);
        assert_eq!(v["events"], 28);

        // Appending after a restore continues the chain as in the original.
        let line = statement_line("CHN", "senkaku-islands", "oppose", "2020-04-02", "later");
        let more = write(&src.scratch("more.jsonl"), &line);
        run_ok(src.at("2020-05-01T00:00:00Z").args(["import", &more]));
        run_ok(dst.at("2020-05-01T00:00:00Z").args(["import", &more]));
        assert_eq!(dst.head(), src.head());
    }
}

#[test]
fn restore_reads_standard_input_and_reports_json() {
    let src = source();
    let export = src.ok(&["export"]);
    for dst in TestLedger::each() {
        let out = run_ok(
            dst.cmd()
                .args(["--json", "restore", "-"])
                .write_stdin(export.clone()),
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["events"], 28);
        assert_eq!(
            format!("{}:{}", v["seq"], v["hash"].as_str().unwrap()),
            src.head()
        );
    }
}

#[test]
fn restore_of_an_empty_export_leaves_an_empty_ledger() {
    for dst in TestLedger::each() {
        let file = write(&dst.scratch("empty.jsonl"), "");
        let out = dst.ok(&["restore", &file]);
        assert!(out.starts_with("restored 0 events"), "{out}");
        assert_eq!(dst.head(), format!("0:{}", "0".repeat(64)));
    }
}

#[test]
fn restore_refuses_a_ledger_that_is_not_empty() {
    let src = source();
    let file = write(&src.scratch("backup.jsonl"), &src.ok(&["export"]));
    let head = src.head();
    let err = src.fails(&["restore", &file]);
    assert!(err.contains("is not empty (head at seq 28)"), "{err}");
    assert_eq!(src.head(), head);

    let other = TestLedger::new();
    other.ok(&[
        "record",
        "--actor",
        "JPN",
        "--issue",
        "x",
        "--position",
        "support",
        "--stated-on",
        "2019-01-01",
        "--summary",
        "one",
    ]);
    let before = other.head();
    let err = other.fails(&["restore", &file]);
    assert!(err.contains("not empty (head at seq 1)"), "{err}");
    assert_eq!(other.head(), before);
    other.ok(&["verify"]);
}

#[test]
fn restore_of_a_missing_file_creates_no_ledger() {
    for dst in TestLedger::each() {
        let err = dst.fails(&["restore", dst.scratch("nope.jsonl").to_str().unwrap()]);
        assert!(err.contains("cannot open"), "{err}");
        dst.assert_nothing_written();
    }
}

/// The ledger holds nothing: it was never created, or its head is seq 0.
pub fn assert_empty(l: &TestLedger) {
    let out = l.cmd().arg("head").output().unwrap();
    if out.status.success() {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("0:{}", "0".repeat(64))
        );
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no ledger at"), "{err}");
    }
}

/// Restores `text` into a fresh ledger, expects a failure containing every
/// string in `want`, and checks nothing was kept (the ledger is empty and a
/// clean export still restores into it).
/// On every backend, with the same message.
fn refused(text: &str, want: &[&str], clean: &str) -> String {
    let mut errs = Vec::new();
    for dst in TestLedger::each() {
        let file = write(&dst.scratch("backup.jsonl"), text);
        let err = dst.fails(&["restore", &file]);
        for w in want {
            assert!(err.contains(w), "expected {w:?} in: {err}");
        }
        assert_empty(&dst);
        let good = write(&dst.scratch("good.jsonl"), clean);
        dst.ok(&["restore", &good]);
        dst.ok(&["verify"]);
        // The message names the file, which is in each ledger's own
        // scratch directory.
        errs.push(err.replace(dst.root().to_str().unwrap(), "[TMP]"));
    }
    assert!(errs.windows(2).all(|w| w[0] == w[1]), "{errs:?}");
    errs.remove(0)
}

/// Replaces line `n` (1-based) with `f` applied to its JSON.
fn edit_line(export: &str, n: usize, f: impl FnOnce(&mut Value)) -> String {
    let mut lines: Vec<String> = export.lines().map(str::to_owned).collect();
    let mut v: Value = serde_json::from_str(&lines[n - 1]).unwrap();
    f(&mut v);
    lines[n - 1] = v.to_string();
    lines.join("\n") + "\n"
}

#[test]
fn restore_refuses_altered_lines_naming_the_line_and_seq() {
    let src = source();
    let export = src.ok(&["export"]);
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "summary",
            Box::new(|v| v["summary"] = "Rewritten.".into()),
            "hash does not match",
        ),
        (
            "position",
            Box::new(|v| v["position"] = "oppose".into()),
            "hash does not match",
        ),
        (
            "quote removed",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("quote");
            }),
            "hash does not match",
        ),
        (
            "recorded_by",
            Box::new(|v| v["recorded_by"] = "mallory".into()),
            "hash does not match",
        ),
        (
            "recorded_at",
            Box::new(|v| v["recorded_at"] = "2020-01-01T10:00:00.000002Z".into()),
            "hash does not match",
        ),
        (
            "id",
            Box::new(|v| v["id"] = "00000000-0000-4000-8000-000000000000".into()),
            "hash does not match",
        ),
        (
            "hash",
            Box::new(|v| v["hash"] = "ab".repeat(32).into()),
            "hash does not match",
        ),
        (
            "prev_hash",
            Box::new(|v| v["prev_hash"] = "ab".repeat(32).into()),
            "prev_hash",
        ),
        (
            "uppercase id",
            Box::new(|v| {
                let s = v["id"].as_str().unwrap().to_uppercase();
                v["id"] = s.into();
            }),
            "canonical export form (field id)",
        ),
        (
            "recorded_at spelled differently",
            Box::new(|v| v["recorded_at"] = "2020-01-01T19:00:00.000001+09:00".into()),
            "canonical export form (field recorded_at)",
        ),
        (
            "envelope missing",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("hash");
            }),
            "no \"hash\"",
        ),
    ];
    for (what, f, want) in cases {
        let text = edit_line(&export, 5, f);
        let err = refused(&text, &["backup.jsonl:5: seq 5: ", want], &export);
        eprintln!("{what}: {err}");
    }
}

#[test]
fn restore_refuses_reordered_missing_repeated_and_foreign_lines() {
    let src = source();
    let export = src.ok(&["export"]);
    let lines: Vec<&str> = export.lines().collect();
    let join = |v: Vec<&str>| v.join("\n") + "\n";

    let mut swapped = lines.clone();
    swapped.swap(6, 7);
    refused(
        &join(swapped),
        &["backup.jsonl:7: seq 7: missing (this line has seq 8"],
        &export,
    );

    let mut missing = lines.clone();
    missing.remove(9);
    refused(
        &join(missing),
        &["backup.jsonl:10: seq 10: missing (this line has seq 11"],
        &export,
    );

    let mut repeated = lines.clone();
    repeated.insert(4, lines[3]);
    refused(
        &join(repeated),
        &["backup.jsonl:5: seq 5: this line has seq 4"],
        &export,
    );

    let mut first_missing = lines.clone();
    first_missing.remove(0);
    refused(
        &join(first_missing),
        &["backup.jsonl:1: seq 1: missing"],
        &export,
    );

    // Lines meant for `import` (no envelope) are not a backup.
    let plain = std::fs::read_to_string(article()).unwrap();
    refused(
        &plain,
        &["backup.jsonl:1: seq 1: the line has no \"seq\""],
        &export,
    );

    // Broken JSON and unknown fields are named like any input error.
    let mut bad = lines.clone();
    bad[11] = "{\"seq\": 12,";
    refused(&join(bad), &["backup.jsonl:12: invalid JSON"], &export);
    let with_typo = edit_line(&export, 3, |v| v["postion"] = "support".into());
    refused(
        &with_typo,
        &["backup.jsonl:3: ", "unknown field `postion`"],
        &export,
    );
}

#[test]
fn restore_of_a_truncated_export_is_caught_by_a_published_digest() {
    let src = source();
    let export = src.ok(&["export"]);
    let published = src.head();
    let cut: String = export.lines().take(20).map(|l| format!("{l}\n")).collect();
    let dst = TestLedger::new();
    dst.ok(&["restore", &write(&dst.scratch("cut.jsonl"), &cut)]);
    dst.ok(&["verify"]);
    let err = dst.faults(&["verify", "--digest", &published]);
    assert!(
        err.contains("does not extend digest 28:") && err.contains("the log ends at seq 20"),
        "{err}"
    );
}

#[test]
fn restore_checks_the_rules_of_a_consistently_forged_chain() {
    let src = source();
    let export = src.ok(&["export"]);
    let statement_id = |n: usize| {
        serde_json::from_str::<Value>(export.lines().nth(n - 1).unwrap()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Each forgery is re-hashed, so only the rules can catch it.
    let cases: Vec<(String, &str)> =
        vec![
        (
            edit_line(&export, 4, |v| v["stated_on"] = "2020-06-01".into()),
            "backup.jsonl:4: seq 4: stated_on 2020-06-01 is after the recording date 2020-01-01",
        ),
        (
            edit_line(&export, 6, |v| v["id"] = statement_id(5).into()),
            "backup.jsonl:6: seq 6: duplicate id",
        ),
        (
            edit_line(&export, 26, |v| v["target"] = statement_id(27).into()),
            "backup.jsonl:26: seq 26: amendment targets",
        ),
        (
            edit_line(&export, 7, |v| v["summary"] = "x".repeat(1001).into()),
            "backup.jsonl:7: seq 7: summary is 1001 characters long",
        ),
        (
            edit_line(&export, 8, |v| v["recorded_at"] = "2019-12-31T00:00:00.000000Z".into()),
            "backup.jsonl:8: seq 8: recorded_at goes backwards",
        ),
        (
            edit_line(&export, 9, |v| v["recorded_by"] = "two\nlines".into()),
            "backup.jsonl:9: seq 9: recorded_by must not contain control characters",
        ),
    ];
    for (text, want) in cases {
        refused(&rehash(&text), &[want], &export);
    }
}

#[test]
fn a_failed_restore_past_the_first_batch_keeps_nothing() {
    // More events than one write batch (`BATCH_EVENTS`), the last one altered: the
    // batches already applied must be discarded.
    let src = TestLedger::new();
    let mut jsonl = String::new();
    for i in 0..3000 {
        jsonl.push_str(&statement_line(
            "JPN",
            &format!("issue-{i}"),
            "support",
            "2019-12-23",
            "s",
        ));
        jsonl.push('\n');
    }
    let input = write(&src.scratch("many.jsonl"), &jsonl);
    run_ok(src.at("2020-01-01T00:00:00Z").args(["import", &input]));
    let export = src.ok(&["export"]);
    let bad = edit_line(&export, 2990, |v| v["summary"] = "t".into());

    // Into an existing empty ledger, so the discarding is what is tested.
    let dst = TestLedger::new();
    dst.ok(&["import", "/dev/null"]);
    let file = write(&dst.scratch("backup.jsonl"), &bad);
    let err = dst.fails(&["restore", &file]);
    assert!(
        err.contains("backup.jsonl:2990: seq 2990: hash does not match"),
        "{err}"
    );
    assert_eq!(dst.head(), format!("0:{}", "0".repeat(64)));
    {
        let db = stancelog::internals::sled_config(&dst.path())
            .open()
            .unwrap();
        let keys: Vec<Vec<u8>> = db.iter().map(|kv| kv.unwrap().0.to_vec()).collect();
        assert_eq!(
            keys,
            [b"Mformat".to_vec(), b"Mlayout".to_vec()],
            "only the format markers may remain"
        );
    }
    dst.ok(&["restore", &write(&dst.scratch("good.jsonl"), &export)]);
    assert_eq!(dst.head(), src.head());
    dst.ok(&["verify"]);
}
