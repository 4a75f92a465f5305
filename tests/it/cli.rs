//! Every command and every error path, through the real binary.

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{article, record_args, run_fails, run_ok, statement_line, TestLedger};

/// Records a statement and returns its id.
fn record(
    l: &TestLedger,
    actor: &str,
    issue: &str,
    position: &str,
    date: &str,
    summary: &str,
) -> String {
    let v = l.json(&record_args(actor, issue, position, date, summary));
    assert_eq!(v["added"], true);
    v["id"].as_str().unwrap().to_owned()
}

fn position_of(l: &TestLedger, actor: &str, issue: &str, as_of: &str) -> Value {
    l.json(&["stance", actor, issue, "--as-of", as_of])["position"].clone()
}

#[test]
fn import_of_the_article_gives_the_expected_table() {
    for l in TestLedger::each() {
        l.import_article();
        let cases = [
            ("CHN", "north-korea-sanctions-relief", "support"),
            ("RUS", "north-korea-sanctions-relief", "support"),
            ("JPN", "north-korea-sanctions-relief", "oppose"),
            ("JPN", "hong-kong-protests", "support"),
            ("CHN", "hong-kong-protests", "oppose"),
            ("JPN", "xinjiang-uighurs", "support"),
            ("CHN", "xinjiang-uighurs", "oppose"),
            ("JPN", "senkaku-islands", "support"),
            ("CHN", "senkaku-islands", "oppose"),
            ("JPN", "north-korea-denuclearization", "support"),
            ("CHN", "north-korea-denuclearization", "support"),
        ];
        for (actor, issue, want) in cases {
            assert_eq!(
                position_of(&l, actor, issue, "2019-12-23"),
                want,
                "{actor} {issue}"
            );
        }
        let table = l.ok(&["stances", "--as-of", "2019-12-23"]);
        assert!(table.contains("senkaku-islands"));
        assert!(table.contains("RUS"));
        // The day before the summit nothing was in force.
        assert_eq!(
            l.json(&["stances", "--as-of", "2019-12-22"]),
            serde_json::json!([])
        );
    }
}

#[test]
fn stance_json_has_the_contract_fields() {
    for l in TestLedger::each() {
        l.import_article();
        let v = l.json(&[
            "stance",
            "JPN",
            "north-korea-sanctions-relief",
            "--as-of",
            "2019-12-23",
        ]);
        for field in [
            "actor",
            "issue",
            "position",
            "summary",
            "stated_on",
            "statement_id",
            "quote",
            "speaker",
            "source_url",
            "recorded_at",
            "seq",
        ] {
            assert!(v.get(field).is_some(), "missing {field} in {v}");
        }
        assert_eq!(v["actor"], "JPN");
        assert_eq!(v["stated_on"], "2019-12-23");
        assert_eq!(v["recorded_by"], "tester");
    }
}

#[test]
fn stance_is_null_when_nothing_is_in_force() {
    for l in TestLedger::each() {
        l.import_article();
        let out = run_ok(l.cmd().args(["--json", "stance", "USA", "senkaku-islands"]));
        assert_eq!(out.trim(), "null");
        let human = l.ok(&["stance", "USA", "senkaku-islands", "--as-of", "2019-12-23"]);
        assert!(human.contains("no stance recorded"), "{human}");
    }
}

#[test]
fn reimporting_the_same_file_adds_nothing() {
    for l in TestLedger::each() {
        let first = l.json(&["import", article().to_str().unwrap()]);
        assert_eq!(first["added"], 25);
        let head = l.head();
        let again = l.json(&["import", article().to_str().unwrap()]);
        assert_eq!(again["added"], 0);
        assert_eq!(again["skipped"], 25);
        assert_eq!(l.head(), head);
    }
}

#[test]
fn human_import_summary_goes_to_stderr() {
    for l in TestLedger::each() {
        l.cmd()
            .args(["import", article().to_str().unwrap()])
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains("25 added, 0 skipped"));
    }
}

#[test]
fn import_reads_stdin() {
    for l in TestLedger::each() {
        let line = statement_line(
            "USA",
            "hong-kong-protests",
            "support",
            "2019-11-27",
            "Signed the Hong Kong act.",
        );
        l.cmd()
            .args(["import", "-"])
            .write_stdin(format!("{line}\n"))
            .assert()
            .success();
        assert_eq!(
            position_of(&l, "USA", "hong-kong-protests", "2019-12-01"),
            "support"
        );
    }
}

#[test]
fn a_bad_line_rejects_the_whole_file_and_names_the_line() {
    for l in TestLedger::each() {
        l.import_article();
        let head = l.head();
        let good = statement_line(
            "USA",
            "hong-kong-protests",
            "support",
            "2019-11-27",
            "Signed the act.",
        );
        let bad = statement_line("USA", "senkaku-islands", "maybe", "2019-11-27", "Unclear.");
        let file = l.scratch("bad.jsonl");
        std::fs::write(&file, format!("{good}\n\n{bad}\n")).unwrap();
        let err = l.fails(&["import", file.to_str().unwrap()]);
        assert!(err.contains("bad.jsonl:3:"), "{err}");
        assert!(err.contains("unknown position \"maybe\""), "{err}");
        assert_eq!(l.head(), head, "a failed import wrote something");
        assert_eq!(
            position_of(&l, "USA", "hong-kong-protests", "2019-12-01"),
            Value::Null
        );
    }
}

#[test]
fn rule_violations_in_an_import_name_the_line() {
    for l in TestLedger::each() {
        let file = l.scratch("edits.jsonl");
        let s = statement_line(
            "JPN",
            "senkaku-islands",
            "support",
            "2019-12-23",
            "Japanese territory.",
        );
        let unknown =
            r#"{"type":"retraction","target":"6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11","reason":"x"}"#;
        std::fs::write(&file, format!("{s}\n{unknown}\n")).unwrap();
        let err = l.fails(&["import", file.to_str().unwrap()]);
        assert!(err.contains("edits.jsonl:2: cannot retract"), "{err}");
        assert!(err.contains("no such statement"), "{err}");
        // A failed first import leaves no ledger behind.
        l.assert_nothing_written();
        assert!(std::fs::read_dir(l.path().parent().unwrap())
            .unwrap()
            .all(|e| e.unwrap().file_name() != "ledger"));
        // An empty ledger (made by an empty import) exports, logs and verifies as empty.
        let empty = l.scratch("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        l.ok(&["import", empty.to_str().unwrap()]);
        assert_eq!(l.head(), format!("0:{}", "0".repeat(64)));
        assert_eq!(l.ok(&["export"]), "");
        assert_eq!(l.ok(&["log"]), "");
        assert!(l.ok(&["verify"]).contains("ok: 0 events"));
    }
}

#[test]
fn an_import_can_amend_and_retract_what_it_records() {
    for l in TestLedger::each() {
        let id = "11111111-2222-4333-8444-555555555555";
        let lines = [
            format!(
                r#"{{"type":"statement","id":"{id}","actor":"CHN","issue":"belt-and-road-cooperation","position":"support","stated_on":"2019-12-23","summary":"Xi asked Japan to cooperate."}}"#
            ),
            format!(
                r#"{{"type":"amendment","target":"{id}","reason":"misread","position":"mixed"}}"#
            ),
        ];
        let file = l.scratch("a.jsonl");
        std::fs::write(&file, lines.join("\n")).unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        assert_eq!(
            position_of(&l, "CHN", "belt-and-road-cooperation", "2020-01-01"),
            "mixed"
        );
        let retract = format!(r#"{{"type":"retraction","target":"{id}","reason":"wrong source"}}"#);
        std::fs::write(&file, retract).unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        assert_eq!(
            position_of(&l, "CHN", "belt-and-road-cooperation", "2020-01-01"),
            Value::Null
        );
    }
}

#[test]
fn amending_actor_or_issue_is_refused_with_a_hint() {
    for l in TestLedger::each() {
        let id = record(
            &l,
            "JPN",
            "senkaku-islands",
            "support",
            "2019-12-23",
            "Japanese territory.",
        );
        let file = l.scratch("amend.jsonl");
        std::fs::write(
            &file,
            format!(
                r#"{{"type":"amendment","target":"{id}","reason":"wrong actor","actor":"CHN"}}"#
            ),
        )
        .unwrap();
        let err = l.fails(&["import", file.to_str().unwrap()]);
        assert!(err.contains("amend.jsonl:1:"), "{err}");
        assert!(
            err.contains("retract the statement and record a new one"),
            "{err}"
        );
    }
}

#[test]
fn import_of_a_missing_file_fails_and_creates_no_ledger() {
    for l in TestLedger::each() {
        let err = l.fails(&["import", "/nonexistent/file.jsonl"]);
        assert!(err.contains("cannot open /nonexistent/file.jsonl"), "{err}");
        l.assert_nothing_written();
    }
}

#[test]
fn an_empty_import_is_a_no_op() {
    for l in TestLedger::each() {
        l.import_article();
        let head = l.head();
        let file = l.scratch("empty.jsonl");
        std::fs::write(&file, "").unwrap();
        let v = l.json(&["import", file.to_str().unwrap()]);
        assert_eq!(v["added"], 0);
        assert_eq!(l.head(), head);
    }
}

#[test]
fn record_prints_the_new_id_and_is_idempotent() {
    for l in TestLedger::each() {
        let args = record_args(
            "KOR",
            "north-korea-denuclearization",
            "support",
            "2019-12-24",
            "Moon backs it.",
        );
        let out = l.ok(&args);
        assert!(out.starts_with("recorded statement "), "{out}");
        assert!(out.contains("at seq 1"), "{out}");
        let again = l.ok(&args);
        assert!(again.starts_with("already recorded"), "{again}");
        assert_eq!(l.head().split(':').next(), Some("1"));
    }
}

#[test]
fn record_with_an_id_in_use_for_other_content_fails() {
    for l in TestLedger::each() {
        let id = "11111111-2222-4333-8444-555555555555";
        let mut a = record_args(
            "KOR",
            "north-korea-denuclearization",
            "support",
            "2019-12-24",
            "One.",
        );
        a.extend(["--id", id]);
        l.ok(&a);
        let mut b = record_args(
            "KOR",
            "north-korea-denuclearization",
            "oppose",
            "2019-12-24",
            "Two.",
        );
        b.extend(["--id", id]);
        let err = l.fails(&b);
        assert!(err.contains("already used by a different event"), "{err}");
    }
}

#[test]
fn record_rejects_bad_values() {
    for l in TestLedger::each() {
        // Usage errors (malformed values caught by argument parsing) exit 2.
        for args in [
            record_args("japan", "senkaku-islands", "support", "2019-12-23", "x"),
            record_args("JPN", "senkaku-islands", "maybe", "2019-12-23", "x"),
            record_args("JPN", "senkaku-islands", "support", "2019-02-29", "x"),
            vec!["record", "--actor", "JPN"],
        ] {
            l.cmd().args(&args).assert().code(2);
        }
        // Rule violations exit 1 with one line, and write nothing. An issue is
        // a name now (a slug or an alias), so a malformed one is found there.
        let name = l.fails(&record_args(
            "JPN",
            "Senkaku Islands",
            "support",
            "2019-12-23",
            "x",
        ));
        assert!(name.contains("invalid issue \"Senkaku Islands\""), "{name}");
        let future = l.fails(&record_args(
            "JPN",
            "senkaku-islands",
            "support",
            "9999-12-31",
            "x",
        ));
        assert!(future.contains("after the recording date"), "{future}");
        // A blank summary is a usage error, as every other bad flag value.
        l.cmd()
            .args(record_args(
                "JPN",
                "senkaku-islands",
                "support",
                "2019-12-23",
                "  ",
            ))
            .assert()
            .code(2)
            .stderr(predicates::str::contains("must not be empty or blank"));
        let mut url = record_args("JPN", "senkaku-islands", "support", "2019-12-23", "x");
        url.extend(["--source-url", "ftp://example.org/a"]);
        assert!(l.fails(&url).contains("invalid source_url"));
        let long = "x".repeat(1001);
        let err = l.fails(&record_args(
            "JPN",
            "senkaku-islands",
            "support",
            "2019-12-23",
            &long,
        ));
        assert!(err.contains("at most 1000"), "{err}");
        // Nothing needed a ledger to tell, so none was created.
        l.assert_nothing_written();
        l.ok(&record_args(
            "JPN",
            "senkaku-islands",
            "support",
            "2019-12-23",
            "x",
        ));
        assert!(l
            .fails(&record_args(
                "JPN",
                "senkaku-islands",
                "support",
                "9999-12-31",
                "x"
            ))
            .contains("after the recording date"));
        assert_eq!(l.head().split(':').next(), Some("1"));
    }
}

#[test]
fn edits_on_a_missing_ledger_create_nothing() {
    for l in TestLedger::each() {
        // A sled ledger is made by its first write; a PostgreSQL one by
        // `init`, so there it exists and is empty.
        let missing = if l.is_postgres() {
            "no such statement"
        } else {
            "no ledger at"
        };
        let id = "6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11";
        let err = l.fails(&["amend", id, "--reason", "r", "--position", "oppose"]);
        assert!(err.contains(missing), "{err}");
        let err = l.fails(&["retract", id, "--reason", "r"]);
        assert!(err.contains(missing), "{err}");
        l.assert_nothing_written();
    }
}

#[test]
fn the_author_comes_from_by_then_the_environment() {
    for l in TestLedger::each() {
        l.ok(&[
            "--by",
            "alice",
            "record",
            "--actor",
            "JPN",
            "--issue",
            "a",
            "--position",
            "support",
            "--stated-on",
            "2019-12-23",
            "--summary",
            "one",
        ]);
        l.ok(&record_args("JPN", "b", "support", "2019-12-23", "two"));
        let log = l.ok(&["log", "--json"]);
        let authors: Vec<String> = log
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["recorded_by"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(authors, ["alice", "tester"]);
    }
}

#[test]
fn amend_changes_the_stance_and_history_shows_it() {
    for l in TestLedger::each() {
        let id = record(
            &l,
            "JPN",
            "east-china-sea-restraint",
            "support",
            "2019-12-23",
            "Urged restraint.",
        );
        let out = l.ok(&[
            "amend",
            &id,
            "--reason",
            "source corrected",
            "--position",
            "mixed",
            "--summary",
            "Mixed.",
        ]);
        assert!(out.starts_with("recorded amendment"), "{out}");
        let v = l.json(&["stance", "JPN", "east-china-sea-restraint"]);
        assert_eq!(v["position"], "mixed");
        assert_eq!(v["summary"], "Mixed.");
        assert_eq!(v["statement_id"], id.as_str());
        assert_eq!(v["amendments"], 1);
        let h = l.json(&["history", "JPN", "east-china-sea-restraint"]);
        assert_eq!(h[0]["amendments"][0]["reason"], "source corrected");
        assert_eq!(h[0]["amendments"][0]["changes"]["position"], "mixed");
        let human = l.ok(&["history", "JPN", "east-china-sea-restraint"]);
        assert!(human.contains("amended at seq 2"), "{human}");
    }
}

#[test]
fn amend_and_retract_errors() {
    for l in TestLedger::each() {
        let id = record(
            &l,
            "JPN",
            "east-china-sea-restraint",
            "support",
            "2019-12-23",
            "Urged restraint.",
        );
        let unknown = "6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11";
        assert!(l
            .fails(&["amend", unknown, "--reason", "r", "--position", "oppose"])
            .contains("no such statement"));
        assert!(l
            .fails(&["retract", unknown, "--reason", "r"])
            .contains("no such statement"));
        assert!(l
            .fails(&["amend", &id, "--reason", "r"])
            .contains("changes nothing"));
        l.cmd()
            .args(["amend", &id, "--reason", " ", "--position", "oppose"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("must not be empty or blank"));
        let amendment = l.json(&["amend", &id, "--reason", "r", "--position", "oppose"])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(l
            .fails(&["retract", &amendment, "--reason", "r"])
            .contains("not a statement"));
        l.cmd()
            .args(["amend", "not-a-uuid", "--reason", "r"])
            .assert()
            .code(2);
        l.ok(&["retract", &id, "--reason", "wrong"]);
        assert!(l
            .fails(&["retract", &id, "--reason", "again"])
            .contains("already retracted"));
        assert!(l
            .fails(&["amend", &id, "--reason", "r", "--position", "support"])
            .contains("already retracted"));
    }
}

#[test]
fn retraction_restores_previous_stance() {
    for l in TestLedger::each() {
        record(
            &l,
            "CHN",
            "hong-kong-protests",
            "oppose",
            "2019-06-12",
            "Internal affair.",
        );
        let later = record(
            &l,
            "CHN",
            "hong-kong-protests",
            "neutral",
            "2019-12-23",
            "Misreported.",
        );
        assert_eq!(
            position_of(&l, "CHN", "hong-kong-protests", "2020-01-01"),
            "neutral"
        );
        l.ok(&["retract", &later, "--reason", "misreported"]);
        assert_eq!(
            position_of(&l, "CHN", "hong-kong-protests", "2020-01-01"),
            "oppose"
        );
        let h = l.json(&["history", "CHN", "hong-kong-protests"]);
        assert_eq!(h.as_array().unwrap().len(), 2);
        assert_eq!(h[1]["retracted"], true);
        assert_eq!(h[1]["retraction"]["reason"], "misreported");
    }
}

#[test]
fn statements_recorded_out_of_order_are_placed_by_date() {
    for l in TestLedger::each() {
        record(
            &l,
            "RUS",
            "north-korea-sanctions-relief",
            "support",
            "2021-11-01",
            "Renewed the call.",
        );
        record(
            &l,
            "RUS",
            "north-korea-sanctions-relief",
            "oppose",
            "2017-09-11",
            "Voted for sanctions.",
        );
        assert_eq!(
            position_of(&l, "RUS", "north-korea-sanctions-relief", "2018-01-01"),
            "oppose"
        );
        assert_eq!(
            position_of(&l, "RUS", "north-korea-sanctions-relief", "2022-01-01"),
            "support"
        );
        assert_eq!(
            position_of(&l, "RUS", "north-korea-sanctions-relief", "2017-09-10"),
            Value::Null
        );
        let h = l.json(&["history", "RUS", "north-korea-sanctions-relief"]);
        let dates: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["stated_on"].as_str().unwrap())
            .collect();
        assert_eq!(dates, ["2017-09-11", "2021-11-01"]);
    }
}

#[test]
fn same_day_tie_goes_to_later_entry() {
    for l in TestLedger::each() {
        let first = record(
            &l,
            "CHN",
            "senkaku-islands",
            "oppose",
            "2019-12-23",
            "Claims the Diaoyu.",
        );
        record(
            &l,
            "CHN",
            "senkaku-islands",
            "mixed",
            "2019-12-23",
            "Softer line.",
        );
        assert_eq!(
            position_of(&l, "CHN", "senkaku-islands", "2019-12-23"),
            "mixed"
        );
        // Amending the earlier entry does not move it ahead in the tie.
        l.ok(&[
            "amend",
            &first,
            "--reason",
            "typo",
            "--summary",
            "Claims the Diaoyu Islands.",
        ]);
        assert_eq!(
            position_of(&l, "CHN", "senkaku-islands", "2019-12-23"),
            "mixed"
        );
    }
}

#[test]
fn known_at_reads_the_ledger_as_it_was() {
    for l in TestLedger::each() {
        let out = run_ok(
            l.at("2020-01-05T10:00:00Z")
                .args(["--json"])
                .args(record_args(
                    "JPN",
                    "hong-kong-protests",
                    "support",
                    "2019-12-23",
                    "Deeply alarming.",
                )),
        );
        let id = serde_json::from_str::<Value>(&out).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        run_ok(l.at("2020-02-01T10:00:00Z").args([
            "amend",
            &id,
            "--reason",
            "misquoted",
            "--position",
            "mixed",
        ]));
        let at = |known: &str| {
            l.json(&[
                "stance",
                "JPN",
                "hong-kong-protests",
                "--as-of",
                "2020-01-01",
                "--known-at",
                known,
            ])
        };
        assert_eq!(at("2020-01-05T09:59:59Z"), Value::Null);
        assert_eq!(at("2020-01-10")["position"], "support");
        assert_eq!(at("2020-02-01T19:00:00+09:00")["position"], "mixed");
        assert_eq!(at("2020-02-01T18:59:59+09:00")["position"], "support");
        let hist = l.json(&[
            "history",
            "JPN",
            "hong-kong-protests",
            "--known-at",
            "2020-01-31",
        ]);
        assert_eq!(hist[0]["amendments"], serde_json::json!([]));
        l.cmd()
            .args([
                "stance",
                "JPN",
                "hong-kong-protests",
                "--known-at",
                "last week",
            ])
            .assert()
            .code(2);
    }
}

#[test]
fn recorded_at_never_goes_backwards() {
    for l in TestLedger::each() {
        run_ok(l.at("2020-06-01T00:00:00Z").args(record_args(
            "JPN",
            "a",
            "support",
            "2019-12-23",
            "one",
        )));
        // A clock that went back (less than a day: more is refused, see
        // trust.rs): the entry is stamped with the previous time.
        run_ok(l.at("2020-05-31T12:00:00Z").args(record_args(
            "JPN",
            "b",
            "support",
            "2019-12-23",
            "two",
        )));
        let times = recorded_times(&l);
        assert_eq!(
            times,
            ["2020-06-01T00:00:00.000000Z", "2020-06-01T00:00:00.000000Z"]
        );
    }
}

#[test]
fn stances_filters_and_sorts() {
    for l in TestLedger::each() {
        l.import_article();
        let v = l.json(&[
            "stances",
            "--as-of",
            "2019-12-23",
            "--issue",
            "north-korea-sanctions-relief",
        ]);
        let actors: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["actor"].as_str().unwrap())
            .collect();
        assert_eq!(actors, ["CHN", "JPN", "RUS"]);
        let v = l.json(&[
            "stances",
            "--as-of",
            "2019-12-23",
            "--actor",
            "RUS",
            "--actor",
            "JPN",
            "--issue",
            "north-korea-sanctions-relief",
        ]);
        assert_eq!(v.as_array().unwrap().len(), 2);
        let all = l.json(&["stances", "--as-of", "2019-12-23"]);
        let keys: Vec<(String, String)> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["issue"].as_str().unwrap().to_owned(),
                    s["actor"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 25);
    }
}

#[test]
fn changes_lists_pairs_that_moved() {
    for l in TestLedger::each() {
        record(
            &l,
            "JPN",
            "hong-kong-protests",
            "neutral",
            "2019-06-01",
            "No comment.",
        );
        record(
            &l,
            "JPN",
            "hong-kong-protests",
            "support",
            "2019-12-23",
            "Deeply alarming.",
        );
        record(
            &l,
            "CHN",
            "hong-kong-protests",
            "oppose",
            "2019-06-01",
            "Internal affairs.",
        );
        record(
            &l,
            "USA",
            "hong-kong-protests",
            "support",
            "2019-11-27",
            "Signed the act.",
        );
        let v = l.json(&["changes", "--from", "2019-07-01", "--to", "2020-01-01"]);
        let items = v.as_array().unwrap();
        assert_eq!(items.len(), 2, "{v}");
        assert_eq!(items[0]["actor"], "JPN");
        assert_eq!(items[0]["from"]["position"], "neutral");
        assert_eq!(items[0]["to"]["position"], "support");
        assert_eq!(items[0]["position_changed"], true);
        assert_eq!(items[1]["actor"], "USA");
        assert_eq!(items[1]["from"], Value::Null);
        let human = l.ok(&["changes", "--from", "2019-07-01", "--to", "2020-01-01"]);
        assert!(human.contains("neutral (2019-06-01)"), "{human}");
        assert!(l
            .fails(&["changes", "--from", "2020-01-01", "--to", "2019-01-01"])
            .contains("is after"));
    }
}

#[test]
fn log_is_the_audit_trail() {
    for l in TestLedger::each() {
        l.import_article();
        let out = l.ok(&["log", "--json", "--after-seq", "20", "--limit", "3"]);
        let lines: Vec<Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["seq"], 21);
        for field in [
            "seq",
            "id",
            "recorded_at",
            "recorded_by",
            "type",
            "hash",
            "prev_hash",
            "actor",
            "summary",
        ] {
            assert!(lines[0].get(field).is_some(), "missing {field}");
        }
        assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);
        assert_eq!(l.ok(&["log", "--after-seq", "25"]), "");
        assert_eq!(l.ok(&["log", "--after-seq", "1000"]), "");
        let human = l.ok(&["log", "--limit", "1"]);
        assert!(
            human.contains("statement") && human.contains("by tester"),
            "{human}"
        );
    }
}

#[test]
fn verify_and_head_agree() {
    for l in TestLedger::each() {
        l.import_article();
        let out = l.ok(&["verify"]);
        assert!(out.contains("ok: 25 events"), "{out}");
        let head = l.head();
        assert!(out.contains(&format!("head {head}")), "{out}");
        let v = l.json(&["verify"]);
        assert_eq!(v["ok"], true);
        assert_eq!(
            format!("{}:{}", v["seq"], v["hash"].as_str().unwrap()),
            head
        );
        l.ok(&["verify", "--digest", &head]);
    }
}

#[test]
fn verify_with_a_digest_from_an_earlier_head() {
    for l in TestLedger::each() {
        record(&l, "JPN", "a", "support", "2019-12-23", "one");
        let early = l.head();
        record(&l, "JPN", "b", "support", "2019-12-23", "two");
        l.ok(&["verify", "--digest", &early]);
        let forged = format!("1:{}", "ab".repeat(32));
        let err = l.faults(&["verify", "--digest", &forged]);
        assert!(err.contains("seq 1"), "{err}");
        assert!(l
            .faults(&["verify", "--digest", &format!("9:{}", "ab".repeat(32))])
            .contains("log ends at seq 2"));
        l.cmd()
            .args(["verify", "--digest", "nonsense"])
            .assert()
            .code(2);
    }
}

#[test]
fn rebuild_gives_identical_answers() {
    for l in TestLedger::each() {
        l.import_article();
        let before = l.json(&["stances", "--as-of", "2019-12-23"]);
        let out = l.ok(&["rebuild"]);
        assert!(out.contains("from 25 events"), "{out}");
        assert_eq!(l.json(&["stances", "--as-of", "2019-12-23"]), before);
        l.ok(&["verify"]);
    }
}

#[test]
fn read_commands_on_a_missing_ledger_fail_and_create_nothing() {
    let l = TestLedger::new();
    for args in [
        vec!["stance", "JPN", "senkaku-islands"],
        vec!["stances"],
        vec!["history", "JPN", "senkaku-islands"],
        vec!["changes", "--from", "2019-01-01", "--to", "2020-01-01"],
        vec!["log"],
        vec!["verify"],
        vec!["head"],
        vec!["export"],
        vec!["rebuild"],
    ] {
        let err = l.fails(&args);
        assert!(err.contains("no ledger at"), "{args:?}: {err}");
        assert!(!l.path().exists(), "{args:?} created the ledger");
    }
}

#[test]
fn ledger_path_comes_from_the_environment() {
    for l in TestLedger::each() {
        let mut c = l.bare();
        c.env("STANCELOG_LEDGER", l.ledger_arg())
            .env("STANCELOG_AUTHOR", "env")
            .args(["import", article().to_str().unwrap()]);
        run_ok(&mut c);
        assert!(l.head().starts_with("25:"));
    }
}

#[test]
fn global_options_go_before_or_after_the_command() {
    for l in TestLedger::each() {
        l.import_article();
        let mut c = assert_cmd::Command::cargo_bin("stancelog").unwrap();
        let out = run_ok(
            c.args([
                "stance",
                "JPN",
                "senkaku-islands",
                "--as-of",
                "2019-12-23",
                "--json",
                "--ledger",
            ])
            .arg(l.ledger_arg()),
        );
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap()["position"],
            "support"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for l in TestLedger::each() {
        l.cmd().arg("frobnicate").assert().code(2);
        l.cmd().args(["stance", "JPN"]).assert().code(2);
        l.cmd()
            .args(["stances", "--as-of", "2019-13-01"])
            .assert()
            .code(2);
        l.cmd().arg("--help").assert().success();
    }
}

#[test]
fn cache_size_is_a_global_option_and_zero_is_a_usage_error() {
    for l in TestLedger::each() {
        l.cmd()
            .args(["--cache-mib", "0", "stances"])
            .assert()
            .code(2);
        l.cmd()
            .args(["--cache-mib", "lots", "stances"])
            .assert()
            .code(2);
        let article = article();
        l.ok(&["--cache-mib", "1", "import", article.to_str().unwrap()]);
        let small = l.json(&["--cache-mib", "1", "stances", "--as-of", "2019-12-23"]);
        let default = l.json(&["stances", "--as-of", "2019-12-23"]);
        assert_eq!(small, default);
        assert!(!default.as_array().expect("rows").is_empty());
        let env = l
            .cmd()
            .env("STANCELOG_CACHE_MIB", "0")
            .arg("stances")
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&env.get_output().stderr).into_owned();
        assert!(err.contains("--cache-mib"), "{err}");
    }
}

#[test]
fn control_characters_never_reach_the_terminal() {
    for l in TestLedger::each() {
        let quote = "\u{1b}[31mred\u{1b}[0m";
        let mut a = record_args(
            "JPN",
            "hong-kong-protests",
            "support",
            "2019-12-23",
            "Alarmed.",
        );
        a.extend(["--quote", quote]);
        l.ok(&a);
        let human = l.ok(&["stance", "JPN", "hong-kong-protests"]);
        assert!(!human.contains('\u{1b}'), "{human:?}");
        assert!(human.contains("\\u{1b}[31mred"), "{human:?}");
        assert_eq!(
            l.json(&["stance", "JPN", "hong-kong-protests"])["quote"],
            quote
        );
        let failing = run_fails(l.cmd().args([
            "amend",
            "6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11",
            "--reason",
            "\u{1b}[2J",
            "--position",
            "oppose",
        ]));
        assert!(!failing.contains('\u{1b}'));
    }
}

/// The write reads requests ahead of the one it decides (on PostgreSQL it
/// looks up hundreds of ids in one query): an error is still on its line.
#[test]
fn a_rule_violation_mid_file_names_its_own_line_not_how_far_the_write_read() {
    for l in TestLedger::each() {
        l.import_article();
        let head = l.head();
        let lines: Vec<String> = usa_statements(1500).lines().map(str::to_owned).collect();
        let bad =
            r#"{"type":"retraction","target":"6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11","reason":"x"}"#;
        let text: String = lines[..700]
            .iter()
            .map(String::as_str)
            .chain([bad])
            .chain(lines[700..].iter().map(String::as_str))
            .map(|s| format!("{s}\n"))
            .collect();
        let file = l.scratch("mid.jsonl");
        std::fs::write(&file, text).unwrap();
        let err = l.fails(&["import", file.to_str().unwrap()]);
        assert!(err.contains("mid.jsonl:701: cannot retract"), "{err}");
        assert_eq!(l.head(), head);
    }
}

#[test]
fn a_rule_violation_after_several_batches_discards_them_all() {
    for l in TestLedger::each() {
        l.import_article();
        let head = l.head();
        let n = 2 * stancelog::internals::BATCH_EVENTS + 10;
        let mut text = usa_statements(n);
        // Syntactically fine, so it passes the first pass; the ledger knows no such statement.
        text.push_str(
            r#"{"type":"retraction","target":"6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11","reason":"x"}"#,
        );
        let file = l.scratch("many.jsonl");
        std::fs::write(&file, text).unwrap();
        let err = l.fails(&["import", file.to_str().unwrap()]);
        assert!(
            err.contains(&format!("many.jsonl:{}: cannot retract", n + 1)),
            "{err}"
        );
        assert_eq!(l.head(), head);
        assert!(l.ok(&["verify"]).contains("ok: 25 events"));
        assert_eq!(
            l.json(&["stances", "--actor", "USA"]),
            serde_json::json!([])
        );
    }
}

#[test]
fn an_import_is_one_moment_in_transaction_time() {
    for l in TestLedger::each() {
        run_ok(
            l.at("2020-01-01T00:00:00.5Z")
                .args(["import", article().to_str().unwrap()]),
        );
        let times: std::collections::BTreeSet<String> = recorded_times(&l).into_iter().collect();
        assert_eq!(times.len(), 1, "one import, one recorded_at: {times:?}");
        // No moment shows part of it.
        let at = |t: &str| {
            l.json(&["stances", "--as-of", "2019-12-23", "--known-at", t])
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(at("2020-01-01T00:00:00.499999Z"), 0);
        assert_eq!(at("2020-01-01T00:00:00.5Z"), 25);
        // A later write at the same pinned time extends the same moment.
        run_ok(l.at("2020-01-01T00:00:00.5Z").args(record_args(
            "USA",
            "a",
            "support",
            "2019-12-23",
            "x",
        )));
        assert_eq!(at("2020-01-01T00:00:00.5Z"), 26);
        l.ok(&["verify"]);
    }
}

/// The `recorded_at` of every event, in log order.
fn recorded_times(l: &TestLedger) -> Vec<String> {
    l.ok(&["log", "--json"])
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["recorded_at"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// `n` JSONL statements by USA on issues `issue-0`, `issue-1`, ...
fn usa_statements(n: usize) -> String {
    (0..n)
        .map(|i| statement_line("USA", &format!("issue-{i}"), "support", "2019-12-01", "s") + "\n")
        .collect()
}
