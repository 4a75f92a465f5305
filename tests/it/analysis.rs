//! `compare`, `shifts`, `info`, short ids and `--known-at seq:N`, through
//! the real binary, against expectations computed by hand.

use serde_json::{json, Value};

use crate::support::{record_args, TestLedger};

fn record(l: &TestLedger, actor: &str, issue: &str, position: &str, date: &str) -> String {
    let summary = format!("{actor} {position} {issue} on {date}");
    let v = l.json(&record_args(actor, issue, position, date, &summary));
    v["id"].as_str().unwrap().to_owned()
}

/// Stderr of a command that must exit with `code`.
fn fails_with(l: &TestLedger, code: i32, args: &[&str]) -> String {
    let out = l.cmd().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed an answer");
    stderr
}

#[test]
fn compare_scores_the_fixture_by_hand() {
    for l in TestLedger::each() {
        l.import_article();
        // JPN and CHN share nine issues in the article: they agree on five
        // (new era, denuclearisation, shared responsibility, UN sanctions, the
        // state visit) and are opposed on four.
        let v = l.json(&["compare", "JPN", "CHN", "--as-of", "2020-01-01"]);
        assert_eq!(v["a"], "JPN");
        assert_eq!(v["b"], "CHN");
        assert_eq!(v["as_of"], "2020-01-01");
        assert_eq!(v["shared"], 9);
        assert!((v["agreement"].as_f64().unwrap() - 5.0 / 9.0).abs() < 1e-12);
        let issues = v["issues"].as_array().unwrap();
        assert_eq!(issues.len(), 9);
        assert_eq!(
            issues[1],
            json!({"issue": "hong-kong-protests", "a": "support", "b": "oppose", "agreement": 0.0})
        );
        let agreeing = issues.iter().filter(|i| i["agreement"] == 1.0).count();
        assert_eq!(agreeing, 5);
        // Before the summit there was nothing to compare.
        let before = l.json(&["compare", "JPN", "CHN", "--as-of", "2019-12-22"]);
        assert_eq!(before["shared"], 0);
        assert_eq!(before["agreement"], Value::Null);
        let text = l.ok(&["compare", "JPN", "CHN", "--as-of", "2019-12-22"]);
        assert_eq!(
            text,
            "JPN and CHN as of 2019-12-22: no issue on which both have a stance in force\n"
        );
    }
}

#[test]
fn compare_counts_neutral_and_mixed_as_half() {
    for l in TestLedger::each() {
        record(&l, "JPN", "a", "support", "2020-01-01");
        record(&l, "CHN", "a", "neutral", "2020-01-01");
        record(&l, "JPN", "b", "mixed", "2020-01-01");
        record(&l, "CHN", "b", "mixed", "2020-01-01");
        record(&l, "JPN", "c", "oppose", "2020-01-01");
        let v = l.json(&["compare", "JPN", "CHN", "--as-of", "2020-02-01"]);
        assert_eq!(v["shared"], 2, "c is JPN's alone");
        assert_eq!(v["agreement"], 0.75);
        assert_eq!(
            l.ok(&["compare", "JPN", "CHN", "--as-of", "2020-02-01"]),
            "JPN and CHN as of 2020-02-01: mean agreement 0.75 over 2 shared issues\n  \
             a  support neutral 0.5\n  b  mixed   mixed   1\n"
        );
        let e = l.fails(&["compare", "JPN", "JPN"]);
        assert!(e.contains("two different actors"), "{e}");
    }
}

#[test]
fn shifts_classify_every_move_in_date_order() {
    for l in TestLedger::each() {
        record(&l, "JPN", "x", "support", "2019-01-10");
        record(&l, "JPN", "x", "support", "2019-02-10"); // no move
        record(&l, "JPN", "x", "oppose", "2019-03-10"); // reversal
        record(&l, "JPN", "x", "mixed", "2019-04-10"); // softening
        record(&l, "JPN", "x", "neutral", "2019-05-10"); // shift
        let hard = record(&l, "JPN", "x", "oppose", "2019-06-10"); // hardening
        let gone = record(&l, "CHN", "x", "support", "2019-03-01");
        l.ok(&["retract", &gone, "--reason", "misattributed"]);
        let all = l.json(&["shifts"]);
        let kinds: Vec<(&str, &str)> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["stated_on"].as_str().unwrap(),
                    s["kind"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("2019-01-10", "first"),
                ("2019-03-10", "reversal"),
                ("2019-04-10", "softening"),
                ("2019-05-10", "shift"),
                ("2019-06-10", "hardening"),
            ],
            "the retracted CHN statement is no shift"
        );
        assert_eq!(all[0]["from"], Value::Null);
        assert_eq!(
            all[4],
            json!({"actor": "JPN", "issue": "x", "from": "neutral", "to": "oppose",
                   "kind": "hardening", "stated_on": "2019-06-10", "statement_id": hard})
        );
        // The window keeps the moves dated in it, with the position before it.
        let window = l.json(&["shifts", "--from", "2019-04-01", "--to", "2019-05-31"]);
        assert_eq!(window.as_array().unwrap().len(), 2);
        assert_eq!(window[0]["from"], "oppose");
        assert_eq!(window[0]["kind"], "softening");
        // As known before the retraction, CHN's statement was a first stance.
        let before = l.json(&["shifts", "--actor", "CHN", "--known-at", "seq:7"]);
        assert_eq!(before.as_array().unwrap().len(), 1);
        assert_eq!(before[0]["statement_id"], gone.as_str());
        let text = l.ok(&["shifts", "--issue", "x", "--from", "2019-06-01"]);
        assert_eq!(
            text,
            format!(
                "2019-06-10  JPN on x: hardening neutral -> oppose  (statement {})\n1 shift\n",
                &hard[..8]
            )
        );
        assert_eq!(
            l.ok(&["shifts", "--from", "2020-01-01"]),
            "no position in force changed\n"
        );
        let e = l.fails(&["shifts", "--from", "2020-01-02", "--to", "2020-01-01"]);
        assert!(
            e.contains("--from 2020-01-02 is after --to 2020-01-01"),
            "{e}"
        );
    }
}

#[test]
fn an_amendment_moves_a_shift_to_its_new_date_and_position() {
    for l in TestLedger::each() {
        record(&l, "JPN", "x", "support", "2019-01-10");
        let second = record(&l, "JPN", "x", "oppose", "2019-03-10");
        l.ok(&[
            "amend",
            &second[..8],
            "--reason",
            "date and position misread",
            "--stated-on",
            "2019-02-01",
            "--position",
            "mixed",
        ]);
        let v = l.json(&["shifts"]);
        assert_eq!(v[1]["stated_on"], "2019-02-01");
        assert_eq!(v[1]["to"], "mixed");
        assert_eq!(v[1]["kind"], "softening");
        let was = l.json(&["shifts", "--known-at", "seq:2"]);
        assert_eq!(was[1]["kind"], "reversal");
    }
}

#[test]
fn short_ids_name_one_statement_or_list_the_candidates() {
    for l in TestLedger::each() {
        let base = [
            "record",
            "--actor",
            "JPN",
            "--issue",
            "x",
            "--position",
            "support",
            "--stated-on",
            "2020-01-01",
        ];
        for (id, summary) in [
            ("abcdef01-0000-4000-8000-000000000001", "one"),
            ("abcdef02-0000-4000-8000-000000000002", "two"),
        ] {
            let mut args = base.to_vec();
            args.extend(["--summary", summary, "--id", id]);
            l.ok(&args);
        }
        let e = l.fails(&["retract", "abcdef", "--reason", "r"]);
        assert_eq!(
            e,
            "error: the id prefix abcdef is ambiguous: it starts abcdef01-0000-4000-8000-000000000001, \
             abcdef02-0000-4000-8000-000000000002; give more of the id"
        );
        let v = l.json(&["retract", "ABCDEF02", "--reason", "r"]);
        assert_eq!(v["added"], true);
        let history = l.json(&["history", "JPN", "x"]);
        assert_eq!(history[1]["retracted"], true);
        assert_eq!(history[0]["retracted"], false);
        let v = l.json(&[
            "amend",
            "abcdef01-00",
            "--reason",
            "r",
            "--position",
            "mixed",
        ]);
        assert_eq!(v["type"], "amendment");
        let e = l.fails(&["amend", "fedcba", "--reason", "r", "--position", "mixed"]);
        assert!(e.contains("no statement id starts with fedcba"), "{e}");
        // An amendment's id is not a statement's: a prefix names statements only.
        let amendment = v["id"].as_str().unwrap();
        let e = l.fails(&["retract", &amendment[..8], "--reason", "r"]);
        assert!(e.contains("no statement id starts with"), "{e}");
        for bad in [
            "abcde",
            "abcdefgh",
            "abcdef01-0000-4000-8000-000000000001ff",
        ] {
            let e = fails_with(&l, 2, &["retract", bad, "--reason", "r"]);
            assert!(
                e.contains("at least 6 of its first hex digits"),
                "{bad}: {e}"
            );
        }
        // A failed lookup wrote nothing.
        assert!(l.head().starts_with("4:"));
    }
}

#[test]
fn known_at_seq_reads_the_ledger_right_after_that_seq() {
    for l in TestLedger::each() {
        let id = record(&l, "JPN", "x", "support", "2020-01-01");
        l.ok(&["amend", &id, "--reason", "misread", "--position", "oppose"]);
        l.ok(&["retract", &id, "--reason", "misattributed"]);
        let at = |n: &str| {
            l.json(&[
                "stance",
                "JPN",
                "x",
                "--as-of",
                "2020-02-01",
                "--known-at",
                n,
            ])
        };
        assert_eq!(at("seq:0"), Value::Null);
        assert_eq!(at("seq:1")["position"], "support");
        assert_eq!(at("seq:2")["position"], "oppose");
        assert_eq!(at("seq:3"), Value::Null);
        let history = l.json(&["history", "JPN", "x", "--known-at", "seq:2"]);
        assert_eq!(history[0]["amendments"].as_array().unwrap().len(), 1);
        assert_eq!(history[0]["retracted"], false);
        let stances = l.json(&["stances", "--as-of", "2020-02-01", "--known-at", "seq:1"]);
        assert_eq!(stances.as_array().unwrap().len(), 1);
        let changes = l.json(&[
            "changes",
            "--from",
            "2019-01-01",
            "--to",
            "2020-02-01",
            "--known-at",
            "seq:2",
        ]);
        assert_eq!(changes[0]["to"]["position"], "oppose");
        let e = l.fails(&["stance", "JPN", "x", "--known-at", "seq:4"]);
        assert_eq!(
            e,
            "error: there is no seq 4 in this ledger: its head is seq 3 (`stancelog log` lists the seqs)"
        );
        let e = fails_with(&l, 2, &["stance", "JPN", "x", "--known-at", "seq:x"]);
        assert!(e.contains("expected seq:N"), "{e}");
    }
}

#[test]
fn info_summarises_the_ledger() {
    for l in TestLedger::each() {
        l.import_article();
        let v = l.json(&["info"]);
        let head = l.head();
        let (seq, hash) = head.split_once(':').unwrap();
        // A PostgreSQL ledger keeps its log and read model in one schema.
        let (path, read_model) = if l.is_postgres() {
            (l.url(), l.url())
        } else {
            let read_model = l.path().join("read-model.sqlite3");
            (
                l.path().display().to_string(),
                read_model.display().to_string(),
            )
        };
        assert_eq!(v["path"], path);
        assert_eq!(v["read_model"], read_model);
        assert_eq!(v["head_seq"].to_string(), seq);
        assert_eq!(v["head_hash"], hash);
        assert_eq!(v["events"], 25);
        assert_eq!(v["statements"], 25);
        assert_eq!(v["actors"], 3);
        assert_eq!(v["issues"], 15);
        assert_eq!(v["first_stated_on"], "2019-12-23");
        assert_eq!(v["last_stated_on"], "2019-12-23");
        let files: u64 = if l.is_postgres() {
            // The size of its tables, which hold at least the records.
            1
        } else {
            std::fs::read_dir(l.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_type().unwrap().is_file())
                .map(|e| e.metadata().unwrap().len())
                .sum()
        };
        assert!(v["bytes"].as_u64().unwrap() >= files, "{v}");
        let text = l.ok(&["info"]);
        assert!(
            text.contains(&format!("events      25 (head {head})")),
            "{text}"
        );
        assert!(
            text.contains("statements  25 by 3 actors on 15 issues"),
            "{text}"
        );
        assert!(
            text.contains("stated on   2019-12-23 to 2019-12-23"),
            "{text}"
        );
        let e = l
            .bare()
            .arg("info")
            .arg("--ledger")
            .arg(l.scratch("none"))
            .output()
            .unwrap();
        assert_eq!(e.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&e.stderr).contains("no ledger at"));
    }
}
