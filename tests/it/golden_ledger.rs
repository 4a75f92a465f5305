//! A ledger written by the release before the core was reshaped (kept as
//! files in `fixtures/golden/ledger-v0/`, with what that release answered):
//! the new code opens it, verifies it with the same head, exports the same
//! bytes and gives the same answers on both time axes. And a ledger of the
//! last release with a schema-3 read model (`fixtures/golden/ledger-v3/`),
//! whose read model the new code rebuilds, answering as that release did.

use std::path::Path;

use crate::support::{fixture, TestLedger};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A copy of the old ledger (the fixture itself is never opened, so that
/// nothing the new code writes can change it).
fn old_ledger() -> TestLedger {
    let l = TestLedger::new();
    copy_dir(&fixture("golden/ledger-v0/ledger"), &l.path());
    l
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("golden/ledger-v0/{name}"))).unwrap()
}

#[test]
fn a_ledger_of_the_previous_release_verifies_with_the_same_head() {
    let l = old_ledger();
    assert_eq!(format!("{}\n", l.head()), golden("head"));
    let out = l.ok(&["verify"]);
    assert!(out.starts_with("ok: 27 events"), "{out}");
    assert!(out.contains(golden("head").trim()), "{out}");
    l.ok(&["verify", "--digest", golden("head").trim()]);
}

#[test]
fn a_ledger_of_the_previous_release_exports_the_same_bytes() {
    let l = old_ledger();
    assert_eq!(l.ok(&["export"]), golden("export.jsonl"));
}

#[test]
fn a_ledger_of_the_previous_release_answers_the_same_on_both_time_axes() {
    let l = old_ledger();
    let text = golden("answers.txt");
    let mut lines = text.lines().peekable();
    let mut checked = 0;
    while let Some(command) = lines.next() {
        let mut want = String::new();
        while let Some(out) = lines.next_if(|l| l.starts_with('[') || l.starts_with('{')) {
            want.push_str(out);
            want.push('\n');
        }
        let mut args = vec!["--json"];
        args.extend(command.split_whitespace());
        let got = l.ok(&args);
        // Every field that release answered has the same value; fields
        // added since (title, proposition, precision, attribution) are extra.
        let parse = |text: &str| -> Vec<serde_json::Value> {
            text.lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        };
        let (want, got) = (parse(&want), parse(&got));
        assert!(
            want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| answers_keep(w, g)),
            "stancelog {command}: {got:?} does not keep {want:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 14, "every recorded answer was compared");
}

/// Whether `got` has every value `want` has: the same scalars, arrays of
/// the same length whose items keep `want`'s, objects with at least
/// `want`'s keys.
fn answers_keep(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| answers_keep(v, gv))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| answers_keep(a, b))
        }
        _ => want == got,
    }
}

#[test]
fn a_ledger_of_the_previous_release_upgrades_itself_on_first_open_with_notices() {
    let l = old_ledger();
    let out = l.cmd().arg("head").output().unwrap();
    assert!(out.status.success());
    let path = l.path();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "notice: removed the derived indexes of layout 1 from the log of {p} (the read model holds them now)\n\
             notice: built the read model of {p} from 27 events\n",
            p = path.display()
        )
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), golden("head"));
    // Once upgraded, nothing more is said, and sled holds only the log.
    let again = l.cmd().arg("head").output().unwrap();
    assert!(again.stderr.is_empty());
    assert!(path.join(stancelog::READ_MODEL_FILE).is_file());
    let db = stancelog::internals::sled_config(&path).open().unwrap();
    assert!(db.iter().all(|kv| matches!(kv.unwrap().0[0], b'L' | b'M')));
}

/// The `use_compression` line of the sled `conf` in `dir`.
fn compression_line(dir: &Path) -> String {
    let conf = std::fs::read(dir.join("conf")).unwrap();
    String::from_utf8_lossy(&conf)
        .lines()
        .find(|l| l.starts_with("use_compression: "))
        .expect("a use_compression line")
        .to_owned()
}

#[test]
fn a_new_ledger_is_compressed_and_an_old_one_stays_uncompressed() {
    let new = TestLedger::new();
    new.ok(&crate::support::A_RECORD);
    assert_eq!(compression_line(&new.path()), "use_compression: true");

    // Opened, upgraded and written to, the old ledger keeps its setting,
    // and its log, old events and new, still verifies.
    let old = old_ledger();
    assert_eq!(compression_line(&old.path()), "use_compression: false");
    old.ok(&crate::support::A_RECORD);
    old.ok(&["import", crate::support::article().to_str().unwrap()]);
    assert_eq!(compression_line(&old.path()), "use_compression: false");
    let out = old.ok(&["verify"]);
    assert!(out.starts_with("ok: "), "{out}");
    assert!(!out.starts_with("ok: 27 events"), "{out}");
}

/// A ledger of the last release with a schema-3 read model (its `events`
/// a table of text), kept in `fixtures/golden/ledger-v3/` with what that
/// release answered: the new code rebuilds the read model from the log on
/// first open, with one notice, and answers exactly as that release did.
fn v3_ledger() -> TestLedger {
    let l = TestLedger::new();
    copy_dir(&fixture("golden/ledger-v3/ledger"), &l.path());
    l
}

fn golden_v3(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("golden/ledger-v3/{name}"))).unwrap()
}

#[test]
fn a_schema_3_read_model_is_rebuilt_on_first_open_and_answers_the_same() {
    let l = v3_ledger();
    let path = l.path();
    let schema = |sql: &str| -> String {
        let db = rusqlite::Connection::open(path.join(stancelog::READ_MODEL_FILE)).unwrap();
        db.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(
        schema("SELECT type FROM sqlite_master WHERE name = 'events'"),
        "table"
    );
    // A read command, which opens nothing else when the model is current.
    let out = l
        .cmd()
        .args(["--json", "stances", "--as-of", "2019-12-23"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "notice: rebuilt the read model of {} (schema 3 -> 4) from 48 events\n",
            path.display()
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        golden_v3("stances.json")
    );
    assert_eq!(
        schema("SELECT value FROM meta WHERE key = 'schema_version'"),
        "4"
    );
    assert_eq!(
        schema("SELECT type FROM sqlite_master WHERE name = 'events'"),
        "view"
    );
    // Once rebuilt, nothing more is said; the rest is as that release had it.
    let again = l.cmd().arg("head").output().unwrap();
    assert!(again.stderr.is_empty(), "{again:?}");
    assert_eq!(String::from_utf8_lossy(&again.stdout), golden_v3("head"));
    assert_eq!(l.ok(&["export"]), golden_v3("export.jsonl"));
    assert_eq!(l.ok(&["--json", "log"]), golden_v3("log.json"));
    let out = l.ok(&["verify", "--digest", golden_v3("head").trim()]);
    assert!(out.starts_with("ok: 48 events"), "{out}");
}

#[test]
fn the_events_view_shows_the_text_the_schema_3_table_held() {
    // Every documented column of `events`, row for row, as that release's
    // read model stored it (in a copy no stancelog opened).
    let (l, pristine) = (v3_ledger(), v3_ledger());
    l.ok(&["head"]);
    let columns = "seq, id, recorded_at, recorded_by, type, prev_hash, hash, target, target_seq, \
         actor, issue, reason, position, stated_on, summary, quote, speaker, source_url, \
         source_title, stated_on_precision, qualifiers, condition, attribution, reported_by, \
         speaker_role, sources, quote_lang, translation, slug, title, proposition, description, \
         alias, lang, used_by, from_issue, into_issue, code, name, kind";
    let rows = |path: &Path| -> Vec<Vec<rusqlite::types::Value>> {
        let db =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut st = db
            .prepare(&format!("SELECT {columns} FROM events ORDER BY seq"))
            .unwrap();
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let old = rows(&pristine.path().join(stancelog::READ_MODEL_FILE));
    let new = rows(&l.path().join(stancelog::READ_MODEL_FILE));
    assert_eq!(old.len(), 48);
    assert_eq!(new, old);
}
