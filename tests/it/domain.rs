//! What a stance is about, through the real binary: issues as propositions
//! (definitions, rewordings on both time axes), aliases in any script,
//! merges, actor codes and their hints, typos in queries, qualifiers and
//! attribution through import, export, restore and `log --json`, coarse
//! dates on the as-of axis, reinstatement, and amendments' old → new values.

use serde_json::Value;

use crate::support::{article, fixture, record_args, run_ok, TestLedger};

/// The article and its second fixture (definitions, aliases, the sanctions
/// positions with their hedge and attribution), as the quick start imports them.
fn article_ledger() -> TestLedger {
    let l = TestLedger::new();
    l.import_article();
    l.ok(&[
        "import",
        fixture("xi-abe-summit-2019-12-23-domain.jsonl")
            .to_str()
            .unwrap(),
    ]);
    l
}

/// stderr of a command that must succeed.
fn warnings(l: &TestLedger, args: &[&str]) -> String {
    let out = l.cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn head_seq(l: &TestLedger) -> u64 {
    l.head().split(':').next().unwrap().parse().unwrap()
}

#[test]
fn the_headline_stances_of_the_article_are_unchanged_by_its_second_fixture() {
    let plain = TestLedger::new();
    plain.import_article();
    let rich = article_ledger();
    let positions = |l: &TestLedger| -> Vec<(String, String, String)> {
        let v = l.json(&["stances", "--as-of", "2019-12-23"]);
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let f = |k: &str| s[k].as_str().unwrap().to_owned();
                (f("issue"), f("actor"), f("position"))
            })
            .collect()
    };
    assert_eq!(positions(&plain), positions(&rich));
    let jpn = rich.json(&[
        "stance",
        "JPN",
        "north-korea-sanctions-relief",
        "--as-of",
        "2019-12-23",
    ]);
    assert_eq!(jpn["position"], "oppose");
    assert_eq!(jpn["qualifiers"], serde_json::json!(["not-yet"]));
    assert_eq!(jpn["attribution"], "anonymous");
    assert_eq!(jpn["speaker_role"], "official");
    assert_eq!(jpn["title"], "Easing UN sanctions on North Korea now");
    assert_eq!(
        jpn["proposition"],
        "UN Security Council sanctions on North Korea should be eased now."
    );
    assert_eq!(jpn["sources"][0]["publisher"], "Nikkei Asian Review");
    let rus = rich.json(&[
        "stance",
        "RUS",
        "north-korea-sanctions-relief",
        "--as-of",
        "2019-12-23",
    ]);
    assert_eq!(rus["attribution"], "inferred");
    rich.ok(&["verify"]);
}

#[test]
fn aliases_resolve_in_any_script_case_spacing_and_width() {
    let l = article_ledger();
    for name in [
        "senkaku-islands",
        "Diaoyu Islands",
        "diaoyu   ISLANDS",
        "Diaoyu-Islands",
        "Ｄｉａｏｙｕｔａｉ",
        "尖閣諸島",
        "钓鱼岛",
    ] {
        let v = l.json(&["stance", "CHN", name, "--as-of", "2019-12-23"]);
        assert_eq!(v["issue"], "senkaku-islands", "{name}");
        assert_eq!(v["position"], "oppose", "{name}");
    }
    // A record names the issue by an alias too, and is stored under the slug.
    let mut args = record_args(
        "TWN",
        "Diaoyutai",
        "oppose",
        "2019-12-20",
        "Taiwan claims them.",
    );
    args.extend([
        "--quote",
        "釣魚台列嶼是中華民國領土",
        "--quote-lang",
        "zh-Hant",
        "--translation",
        "The Diaoyutai Islands are territory of the Republic of China",
    ]);
    l.ok(&args);
    let v = l.json(&["stance", "TWN", "senkaku-islands", "--as-of", "2019-12-23"]);
    assert_eq!(v["issue"], "senkaku-islands");
    assert_eq!(v["quote_lang"], "zh-Hant");
    // An alias that another issue's slug or alias already has is refused.
    let before = l.head();
    let e = l.fails(&[
        "issue",
        "alias",
        "east-china-sea-restraint",
        "DIAOYU islands",
    ]);
    assert!(e.contains("already an alias of senkaku-islands"), "{e}");
    let e = l.fails(&["issue", "alias", "senkaku-islands", "Hong Kong Protests"]);
    assert!(
        e.contains("slug of another issue, hong-kong-protests"),
        "{e}"
    );
    assert_eq!(l.head(), before, "a refused alias writes nothing");
    // The listing shows each alias with its language and users.
    let show = l.json(&["issue", "show", "钓鱼岛"]);
    assert_eq!(show["slug"], "senkaku-islands");
    let aliases = show["aliases"].as_array().unwrap();
    assert_eq!(aliases.len(), 4);
    assert!(aliases.iter().any(|a| a["alias"] == "钓鱼岛"
        && a["lang"] == "zh-Hans"
        && a["used_by"] == serde_json::json!(["CHN"])));
    assert_eq!(show["statements"], 3);
    assert_eq!(show["actors"], 3);
    // Unalias: the name no longer resolves.
    l.ok(&[
        "issue",
        "unalias",
        "senkaku-islands",
        "diaoyutai",
        "--reason",
        "a Taiwanese name, kept elsewhere",
    ]);
    let e = l.fails(&["stance", "CHN", "Diaoyutai"]);
    assert!(e.contains("no issue Diaoyutai in this ledger"), "{e}");
}

#[test]
fn a_merge_makes_the_slug_merged_away_name_the_other_on_both_time_axes() {
    let l = article_ledger();
    // A second analyst's own slug for the same dispute, with a later statement.
    l.ok(&record_args(
        "JPN",
        "senkaku-diaoyu-dispute",
        "mixed",
        "2019-12-24",
        "Another analyst's reading.",
    ));
    let before_merge = head_seq(&l);
    l.ok(&[
        "issue",
        "merge",
        "senkaku-diaoyu-dispute",
        "senkaku-islands",
        "--reason",
        "one dispute, two slugs",
    ]);
    let at = |known: &str| {
        l.json(&[
            "stance",
            "JPN",
            "senkaku-islands",
            "--as-of",
            "2019-12-31",
            "--known-at",
            known,
        ])
    };
    // Now: the merged slug's later statement counts as senkaku-islands'.
    let now = at(&format!("seq:{}", before_merge + 1));
    assert_eq!(
        (now["issue"].as_str(), now["position"].as_str()),
        (Some("senkaku-islands"), Some("mixed"))
    );
    // As known before the merge, the two were apart.
    let then = at(&format!("seq:{before_merge}"));
    assert_eq!(then["position"], "support");
    let apart = l.json(&[
        "stance",
        "JPN",
        "senkaku-diaoyu-dispute",
        "--as-of",
        "2019-12-31",
        "--known-at",
        &format!("seq:{before_merge}"),
    ]);
    assert_eq!(apart["issue"], "senkaku-diaoyu-dispute");
    // Afterwards the old slug names the new one everywhere, records included.
    let via_old = l.json(&[
        "stance",
        "JPN",
        "senkaku-diaoyu-dispute",
        "--as-of",
        "2019-12-31",
    ]);
    assert_eq!(via_old["issue"], "senkaku-islands");
    l.ok(&record_args(
        "CHN",
        "senkaku-diaoyu-dispute",
        "oppose",
        "2019-12-25",
        "Recorded under the old slug.",
    ));
    let chn = l.json(&["stance", "CHN", "senkaku-islands", "--as-of", "2019-12-31"]);
    assert_eq!(chn["summary"], "Recorded under the old slug.");
    let issues = l.json(&["issues"]);
    let merged = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == "senkaku-diaoyu-dispute")
        .unwrap();
    assert_eq!(merged["merged_into"], "senkaku-islands");
    let table = l.json(&[
        "stances",
        "--as-of",
        "2019-12-31",
        "--issue",
        "senkaku-islands",
    ]);
    assert_eq!(table.as_array().unwrap().len(), 2, "{table}");
    let e = l.fails(&[
        "issue",
        "merge",
        "senkaku-diaoyu-dispute",
        "hong-kong-protests",
        "--reason",
        "r",
    ]);
    assert!(e.contains("merged into senkaku-islands"), "{e}");
    l.ok(&["verify"]);
}

#[test]
fn one_import_can_merge_a_slug_its_own_earlier_line_brought_in() {
    let l = article_ledger();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("merge.jsonl");
    let lines = [
        crate::support::statement_line(
            "JPN",
            "senkaku-diaoyu-dispute",
            "mixed",
            "2019-12-24",
            "Another analyst's reading.",
        ),
        serde_json::json!({
            "type": "issue_merge", "from": "senkaku-diaoyu-dispute",
            "into": "senkaku-islands", "reason": "one dispute, two slugs",
        })
        .to_string(),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    l.ok(&["import", file.to_str().unwrap()]);
    let now = l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2019-12-31"]);
    assert_eq!(now["position"], "mixed");
    let all = l.json(&[
        "stances",
        "--as-of",
        "2019-12-31",
        "--issue",
        "senkaku-islands",
    ]);
    let jpn: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["actor"] == "JPN")
        .collect();
    assert_eq!(jpn.len(), 1, "{all}");
    assert_eq!(jpn[0]["position"], "mixed");
    l.ok(&["verify"]);
}

#[test]
fn a_rewording_is_read_on_both_time_axes() {
    let l = article_ledger();
    let before = head_seq(&l);
    l.ok(&[
        "issue",
        "reword",
        "Diaoyu Islands",
        "--reason",
        "say whose sovereignty",
        "--proposition",
        "Japan, not China, has sovereignty over the Senkaku Islands.",
    ]);
    let proposition = |known: &str| {
        l.json(&[
            "stance",
            "JPN",
            "senkaku-islands",
            "--as-of",
            "2019-12-23",
            "--known-at",
            known,
        ])["proposition"]
            .clone()
    };
    assert_eq!(
        proposition(&format!("seq:{}", head_seq(&l))),
        "Japan, not China, has sovereignty over the Senkaku Islands."
    );
    assert_eq!(
        proposition(&format!("seq:{before}")),
        "The Senkaku Islands are under Japanese sovereignty."
    );
    assert_eq!(proposition("seq:25"), Value::Null, "not yet defined then");
    let human = l.ok(&["stance", "JPN", "senkaku-islands", "--as-of", "2019-12-23"]);
    assert!(
        human.starts_with("JPN (Japan) on senkaku-islands as of 2019-12-23: support\n  proposition: Japan, not China,"),
        "{human}"
    );
    let history = l.ok(&["history", "CHN", "senkaku-islands"]);
    assert!(
        history
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("  proposition: "),
        "{history}"
    );
    let e = l.fails(&[
        "issue",
        "reword",
        "hong-kong-protest",
        "--reason",
        "r",
        "--title",
        "t",
    ]);
    assert!(e.contains("not defined"), "{e}");
    let e = l.fails(&[
        "issue",
        "define",
        "senkaku-islands",
        "--title",
        "t",
        "--proposition",
        "p",
    ]);
    assert!(e.contains("already defined"), "{e}");
}

#[test]
fn actor_codes_are_checked_with_hints_and_never_guessed() {
    let l = article_ledger();
    let before = l.head();
    for (code, hint) in [
        (
            "JP",
            "JP is an ISO 3166-1 alpha-2 code: use the alpha-3 code JPN (Japan)",
        ),
        ("UK", "GBR"),
        ("ZZZ", "stancelog actor define ZZZ --name NAME"),
    ] {
        let e = l.fails(&record_args(
            code,
            "senkaku-islands",
            "support",
            "2019-12-23",
            "s",
        ));
        assert!(e.contains(hint), "{code}: {e}");
        let e = l.fails(&["stance", code, "senkaku-islands"]);
        assert!(e.contains(hint), "{code}: {e}");
    }
    assert_eq!(l.head(), before, "refused records write nothing");
    for code in ["EU", "NATO", "ASEAN", "XKX", "G20"] {
        l.ok(&record_args(
            code,
            "north-korea-denuclearization",
            "support",
            "2019-12-23",
            "s",
        ));
    }
    l.ok(&[
        "actor",
        "define",
        "ZZZ",
        "--name",
        "A made-up bloc",
        "--kind",
        "organisation",
    ]);
    l.ok(&record_args(
        "ZZZ",
        "senkaku-islands",
        "neutral",
        "2019-12-23",
        "s",
    ));
    let e = l.fails(&["actor", "define", "JPN", "--name", "Japan again"]);
    assert!(e.contains("already a code of ISO 3166-1"), "{e}");
    let actors = l.json(&["actors"]);
    let zzz = actors
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "ZZZ")
        .unwrap();
    assert_eq!(zzz["name"], "A made-up bloc");
    assert_eq!(zzz["kind"], "organisation");
    assert_eq!(zzz["statements"], 1);
    let eu = actors
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "EU")
        .unwrap();
    assert_eq!(eu["name"], "European Union");
    let human = l.ok(&["stance", "ZZZ", "senkaku-islands", "--as-of", "2019-12-23"]);
    assert!(
        human.starts_with("ZZZ (A made-up bloc) on senkaku-islands"),
        "{human}"
    );
}

#[test]
fn statements_with_codes_from_before_the_rule_still_decode_verify_and_answer() {
    // An export whose statement uses a code no table names (as ledgers
    // recorded before codes were checked may), re-chained consistently.
    let old = TestLedger::new();
    old.import_article();
    let export = old
        .ok(&["export"])
        .replace("\"actor\":\"RUS\"", "\"actor\":\"SU\"");
    let path = old.scratch("old.jsonl");
    std::fs::write(&path, crate::restore::rehash(&export)).unwrap();
    let l = TestLedger::new();
    l.ok(&["restore", path.to_str().unwrap()]);
    l.ok(&["verify"]);
    let v = l.json(&[
        "stance",
        "SU",
        "north-korea-sanctions-relief",
        "--as-of",
        "2019-12-23",
    ]);
    assert_eq!(v["position"], "support");
    let actors = l.json(&["actors"]);
    let su = actors
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "SU")
        .unwrap();
    assert_eq!(
        (su["kind"].as_str(), &su["name"]),
        (Some("unlisted"), &Value::Null)
    );
    // A new statement with it needs a definition first.
    let e = l.fails(&record_args(
        "SU",
        "senkaku-islands",
        "support",
        "2019-12-23",
        "s",
    ));
    assert!(e.contains("actor define SU"), "{e}");
}

#[test]
fn typos_in_queries_are_errors_with_the_nearest_names() {
    let l = article_ledger();
    for (args, want) in [
        (
            vec!["stance", "JPN", "hong-kong-protest"],
            "no issue hong-kong-protest in this ledger (did you mean hong-kong-protests?)",
        ),
        (
            vec!["stance", "JPN", "senkaku-island"],
            "did you mean senkaku-islands?",
        ),
        (
            vec!["history", "JPN", "senkaku-island"],
            "did you mean senkaku-islands?",
        ),
        (
            vec!["stances", "--issue", "xinjiang-uighur"],
            "did you mean xinjiang-uighurs?",
        ),
        (
            vec![
                "changes",
                "--from",
                "2019-01-01",
                "--to",
                "2020-01-01",
                "--issue",
                "diaoyu island",
            ],
            "did you mean",
        ),
    ] {
        let e = l.fails(&args);
        assert!(e.contains(want), "{args:?}: {e}");
    }
    // A known issue without a stance of that actor is an answer, not an error.
    let out = l.ok(&["stance", "RUS", "senkaku-islands", "--as-of", "2019-12-23"]);
    assert!(
        out.starts_with(
            "RUS (Russian Federation) on senkaku-islands as of 2019-12-23: no stance recorded"
        ),
        "{out}"
    );
    assert_eq!(l.json(&["stance", "RUS", "senkaku-islands"]), Value::Null);
}

#[test]
fn a_statement_on_an_undefined_issue_warns_once_naming_the_nearest_defined() {
    let l = article_ledger();
    let stderr = warnings(
        &l,
        &record_args("JPN", "senkaku-island", "support", "2019-12-23", "typo"),
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("senkaku-island") && stderr.contains("nearest defined: senkaku-islands"),
        "{stderr}"
    );
    let file = l.scratch("two.jsonl");
    std::fs::write(
        &file,
        [
            r#"{"type":"statement","actor":"JPN","issue":"hong-kong-protest","position":"support","stated_on":"2019-12-23","summary":"a"}"#,
            r#"{"type":"statement","actor":"CHN","issue":"hong-kong-protest","position":"oppose","stated_on":"2019-12-23","summary":"b"}"#,
            r#"{"type":"statement","actor":"CHN","issue":"钓鱼岛","position":"oppose","stated_on":"2019-12-22","summary":"by alias"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let stderr = warnings(&l, &["import", file.to_str().unwrap()]);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(
        warned[0].contains("hong-kong-protest ") || warned[0].contains("hong-kong-protest ("),
        "{stderr}"
    );
    assert!(warned[0].contains("hong-kong-protests"), "{stderr}");
    // The alias line was stored under its slug.
    let hist = l.json(&["history", "CHN", "senkaku-islands"]);
    assert!(hist
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["summary"] == "by alias"));
    // Defined issues give no warning.
    let quiet = warnings(
        &l,
        &record_args("JPN", "Diaoyu Islands", "support", "2019-12-24", "s"),
    );
    assert!(quiet.is_empty(), "{quiet}");
}

#[test]
fn qualifiers_and_attribution_round_trip_through_import_export_restore_and_log() {
    let l = article_ledger();
    let mut args = record_args(
        "CHN",
        "north-korea-sanctions-relief",
        "support",
        "2019-12-23",
        "Easing only if Pyongyang acts.",
    );
    args.extend([
        "--qualifier",
        "conditional",
        "--qualifier",
        "in-principle",
        "--condition",
        "North Korea takes denuclearization steps",
        "--attribution",
        "reported",
        "--reported-by",
        "Kyodo",
        "--speaker-role",
        "spokesperson",
        "--source-url",
        "https://example.org/a",
        "--source-title",
        "A",
        "--source",
        "https://example.org/b",
    ]);
    l.ok(&args);
    let log = l.ok(&["--json", "log"]);
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["qualifiers"],
        serde_json::json!(["conditional", "in-principle"])
    );
    assert_eq!(
        last["condition"],
        "North Korea takes denuclearization steps"
    );
    assert_eq!(last["attribution"], "reported");
    assert_eq!(last["reported_by"], "Kyodo");
    assert_eq!(last["speaker_role"], "spokesperson");
    assert_eq!(last["sources"][1]["url"], "https://example.org/b");
    assert_eq!(last["sources"][0]["title"], "A");
    // Restore: same head, same answers; import of the export: same content.
    let export = l.ok(&["export"]);
    let file = l.scratch("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let restored = TestLedger::new();
    restored.ok(&["restore", file.to_str().unwrap()]);
    assert_eq!(restored.head(), l.head());
    assert_eq!(restored.ok(&["export"]), export);
    let q = [
        "stance",
        "CHN",
        "north-korea-sanctions-relief",
        "--as-of",
        "2019-12-23",
    ];
    assert_eq!(restored.json(&q), l.json(&q));
    restored.ok(&["verify"]);
    let imported = TestLedger::new();
    let stripped: String = export
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            for k in ["seq", "recorded_at", "recorded_by", "prev_hash", "hash"] {
                v.as_object_mut().unwrap().remove(k);
            }
            format!("{v}\n")
        })
        .collect();
    let file2 = l.scratch("content.jsonl");
    std::fs::write(&file2, stripped).unwrap();
    imported.ok(&["import", file2.to_str().unwrap()]);
    let mut a = imported.json(&q);
    let mut b = l.json(&q);
    for v in [&mut a, &mut b] {
        for k in ["recorded_at", "recorded_by"] {
            v.as_object_mut().unwrap().remove(k);
        }
    }
    assert_eq!(a, b);
    // A conditional without its condition is refused, naming the flag.
    let mut bad = record_args(
        "CHN",
        "north-korea-sanctions-relief",
        "support",
        "2019-12-23",
        "s2",
    );
    bad.extend(["--qualifier", "conditional"]);
    let e = l.fails(&bad);
    assert!(e.contains("--condition"), "{e}");
}

#[test]
fn coarse_dates_count_from_the_last_day_of_their_period() {
    for l in TestLedger::each() {
        l.ok(&record_args(
            "CHN",
            "senkaku-islands",
            "oppose",
            "1994",
            "A long-standing claim.",
        ));
        l.ok(&record_args(
            "JPN",
            "senkaku-islands",
            "support",
            "2019-02",
            "Some time in February.",
        ));
        let at = |actor: &str, d: &str| l.json(&["stance", actor, "senkaku-islands", "--as-of", d]);
        assert_eq!(at("CHN", "1994-12-30"), Value::Null);
        let v = at("CHN", "1994-12-31");
        assert_eq!(
            (v["stated_on"].as_str(), v["stated_on_precision"].as_str()),
            (Some("1994-12-31"), Some("year"))
        );
        assert_eq!(at("JPN", "2019-02-27"), Value::Null);
        let v = at("JPN", "2019-02-28");
        assert_eq!(
            (v["stated_on"].as_str(), v["stated_on_precision"].as_str()),
            (Some("2019-02-28"), Some("month"))
        );
        let human = l.ok(&["stance", "CHN", "senkaku-islands", "--as-of", "2000-01-01"]);
        assert!(human.contains("\n  stated on: 1994\n"), "{human}");
        let history = l.ok(&["history", "JPN", "senkaku-islands"]);
        assert!(history.contains("\n2019-02     support"), "{history}");
        for bad in ["2019-13", "19", "2019-1"] {
            let out = l
                .cmd()
                .args(record_args("CHN", "senkaku-islands", "oppose", bad, "s"))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{bad}");
        }
        // An import line may give a coarse date too.
        let file = l.scratch("coarse.jsonl");
        std::fs::write(&file, r#"{"type":"statement","actor":"RUS","issue":"senkaku-islands","position":"neutral","stated_on":"2010","summary":"s"}"#).unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        assert_eq!(at("RUS", "2010-12-31")["stated_on_precision"], "year");
    }
}

#[test]
fn reinstate_undoes_a_retraction_and_the_trail_keeps_both() {
    for l in TestLedger::each() {
        let out = l.ok(&record_args(
            "JPN",
            "senkaku-islands",
            "support",
            "2019-12-23",
            "s",
        ));
        let id = out.split_whitespace().nth(2).unwrap().to_owned();
        let e = l.fails(&["reinstate", &id, "--reason", "r"]);
        assert!(e.contains("is not retracted"), "{e}");
        l.ok(&["retract", &id, "--reason", "wrong article"]);
        assert_eq!(
            l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2020-01-01"]),
            Value::Null
        );
        l.ok(&[
            "reinstate",
            &id[..8],
            "--reason",
            "it was the right article",
        ]);
        let v = l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2020-01-01"]);
        assert_eq!(v["statement_id"], id.as_str());
        let history = l.ok(&["history", "JPN", "senkaku-islands"]);
        assert!(
            history.contains("RETRACTED at seq 2") && history.contains("REINSTATED at seq 3"),
            "{history}"
        );
        assert!(!history.contains("(retracted)"), "{history}");
        let log = l.ok(&["log"]);
        assert!(
            log.contains("reinstatement") && log.contains(&format!("reinstates {}", &id[..8])),
            "{log}"
        );
        // Retracted again, as known before the reinstatement, it did not count.
        l.ok(&["retract", &id, "--reason", "wrong after all"]);
        assert_eq!(
            l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2020-01-01"]),
            Value::Null
        );
        let known = l.json(&[
            "stance",
            "JPN",
            "senkaku-islands",
            "--as-of",
            "2020-01-01",
            "--known-at",
            "seq:3",
        ]);
        assert_eq!(known["statement_id"], id.as_str());
        l.ok(&["verify"]);
    }
}

#[test]
fn history_shows_every_amendment_as_old_to_new() {
    for l in TestLedger::each() {
        let out = l.ok(&record_args(
            "JPN",
            "senkaku-islands",
            "oppose",
            "2019-12-23",
            "first",
        ));
        let id = out.split_whitespace().nth(2).unwrap().to_owned();
        l.ok(&[
            "amend",
            &id,
            "--reason",
            "misread",
            "--position",
            "support",
            "--stated-on",
            "2019-12",
            "--speaker",
            "Shinzo Abe",
        ]);
        let human = l.ok(&["history", "JPN", "senkaku-islands"]);
        assert!(human.contains("position: oppose → support"), "{human}");
        assert!(human.contains("stated_on: 2019-12-23 → 2019-12"), "{human}");
        assert!(human.contains("speaker: (none) → Shinzo Abe"), "{human}");
        let json = l.json(&["history", "JPN", "senkaku-islands"]);
        let a = &json[0]["amendments"][0];
        assert_eq!(a["changes"]["position"], "support");
        assert_eq!(a["previous"]["position"], "oppose");
        assert_eq!(a["previous"]["speaker"], Value::Null);
        let v = l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2020-01-01"]);
        assert_eq!(
            (v["stated_on"].as_str(), v["stated_on_precision"].as_str()),
            (Some("2019-12-31"), Some("month"))
        );
        let _ = run_ok(l.cmd().args(["verify"]));
        let _ = article();
    }
}

#[test]
fn the_tidy_csv_and_the_lists_carry_names_titles_and_hedges() {
    let l = article_ledger();
    let csv = l.ok(&["stances", "--as-of", "2019-12-31", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let japan = rows
        .iter()
        .find(|r| &r[0] == "JPN" && &r[2] == "north-korea-sanctions-relief")
        .expect("Japan's sanctions stance");
    assert_eq!(&japan[1], "Japan");
    assert_eq!(&japan[3], "Easing UN sanctions on North Korea now");
    assert_eq!(&japan[4], "oppose");
    assert_eq!(&japan[5], "not-yet");
    let russia = rows.iter().find(|r| &r[0] == "RUS").unwrap();
    assert_eq!(&russia[1], "Russian Federation");
    assert_eq!(&russia[5], "", "no hedge");
    // Piped, the lists are plain text, with no box drawing.
    for list in [&["issues"][..], &["actors"][..]] {
        let out = l.ok(list);
        assert!(
            !out.contains(['│', '┆', '─', '┌']),
            "{list:?} drew boxes into a pipe: {out}"
        );
    }
    assert!(l
        .ok(&["actors"])
        .contains("RUS    Russian Federation  state  2"));
}
