//! Round trips: events through the stored encoding and the JSON form, and a
//! whole ledger through `export` and `import`.

use serde_json::Value;

use stancelog::internals::codec;
use stancelog::Context;
use stancelog::Wire;

use crate::support::{open_new, run_ok, TestLedger};

#[test]
fn stored_records_and_json_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_new(dir.path());
    let clock = || "2020-01-01T00:00:00.123456Z".parse().unwrap();
    let mut ctx = Context {
        author: "rt".into(),
        clock: &clock,
        progress: None,
    };
    let file = std::fs::File::open(crate::support::article()).unwrap();
    ledger
        .import(std::io::BufReader::new(file), "article", &mut ctx)
        .unwrap();
    for event in ledger.events(1).unwrap() {
        let event = event.unwrap();
        assert_eq!(codec::decode(&codec::encode(&event)).unwrap(), event);
        let wire = Wire::from_event(&event);
        let back: Wire = serde_json::from_str(&serde_json::to_string(&wire).unwrap()).unwrap();
        let req = back.to_request().unwrap();
        assert_eq!(req.command.into_fact(), event.payload);
        assert_eq!(req.id, Some(event.id));
    }
}

#[test]
fn export_then_import_gives_identical_stances_and_history() {
    let a = TestLedger::new();
    a.import_article();
    let jpn = a.json(&["stance", "JPN", "hong-kong-protests"]);
    let id = jpn["statement_id"].as_str().unwrap().to_owned();
    a.ok(&[
        "amend",
        &id,
        "--reason",
        "added the quote",
        "--quote",
        "deeply alarming, he said",
    ]);
    let chn = a.json(&["stance", "CHN", "senkaku-islands"])["statement_id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.ok(&["retract", &chn, "--reason", "test retraction"]);

    let export = a.ok(&["export"]);
    assert_eq!(export.lines().count(), 27);
    let file = a.scratch("export.jsonl");
    std::fs::write(&file, &export).unwrap();

    let b = TestLedger::new();
    let v = b.json(&["import", file.to_str().unwrap()]);
    assert_eq!(v["added"], 27);
    let strip = |mut v: Value| {
        // recorded_at/by belong to the new ledger's own envelope.
        for item in v.as_array_mut().unwrap() {
            let o = item.as_object_mut().unwrap();
            o.remove("recorded_at");
            o.remove("recorded_by");
            for edits in ["amendments"] {
                if let Some(list) = o.get_mut(edits).and_then(Value::as_array_mut) {
                    for e in list {
                        e.as_object_mut().unwrap().remove("recorded_at");
                    }
                }
            }
            if let Some(r) = o.get_mut("retraction").and_then(Value::as_object_mut) {
                r.remove("recorded_at");
            }
        }
        v
    };
    for as_of in ["2019-12-22", "2019-12-23", "2025-01-01"] {
        let sa = strip(a.json(&["stances", "--as-of", as_of]));
        let sb = strip(b.json(&["stances", "--as-of", as_of]));
        assert_eq!(sa, sb, "stances as of {as_of}");
    }
    for (actor, issue) in [
        ("JPN", "hong-kong-protests"),
        ("CHN", "senkaku-islands"),
        ("RUS", "north-korea-sanctions-relief"),
    ] {
        let ha = strip(a.json(&["history", actor, issue]));
        let hb = strip(b.json(&["history", actor, issue]));
        assert_eq!(ha, hb, "{actor} {issue}");
    }
    // And the re-export carries the same events in the same order.
    let again = run_ok(b.cmd().arg("export"));
    let ids = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(ids(&again), ids(&export));
}
