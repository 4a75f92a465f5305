//! The read model beside the log, through the real binary: readers that
//! never wait and never write (while an import holds the ledger, on a
//! read-only mount, on a full disk), a read model deleted and rebuilt, and
//! the watermark as a witness: each kind of damage to the log stops every
//! command that opens it with one line, and `repair` heals it to the head
//! it had before.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{process, statement_line, TestLedger};

/// A ledger with the article imported and two later writes.
fn ledger() -> TestLedger {
    let l = TestLedger::new();
    l.import_article();
    l.ok(&[
        "record",
        "--actor",
        "USA",
        "--issue",
        "hong-kong-protests",
        "--position",
        "support",
        "--stated-on",
        "2019-11-27",
        "--summary",
        "Signed the act into law.",
    ]);
    l.ok(&[
        "record",
        "--actor",
        "KOR",
        "--issue",
        "hong-kong-protests",
        "--position",
        "neutral",
        "--stated-on",
        "2019-12-20",
        "--summary",
        "No comment.",
    ]);
    l
}

/// Everything the ledger answers, for comparing before and after.
fn answers(l: &TestLedger) -> (String, String, String) {
    (
        l.head(),
        l.ok(&["export"]),
        l.ok(&["--json", "stances", "--as-of", "2019-12-31"]),
    )
}

/// Runs `args`, which must fail with a one-line message containing
/// `needle`: exit 3 for `verify`, which found the fault, else exit 1.
fn stops_with(l: &TestLedger, args: &[&str], needle: &str) {
    let err = if args[0] == "verify" {
        l.faults(args)
    } else {
        l.fails(args)
    };
    assert!(err.contains(needle), "{args:?}: {err}");
}

const DAMAGED: &str = "run `stancelog repair` to rebuild the log from it";
const BEHIND: &str = "run `stancelog repair` to re-append them from the read model";

/// After `damage`, every command that opens the log stops with `message`;
/// `repair` then brings back the very same ledger.
fn witness_case(damage: impl FnOnce(&Path), message: &str) {
    let l = ledger();
    let before = answers(&l);
    damage(&l.path());
    for args in [&["verify"][..], &["rebuild"], &crate::support::A_RECORD] {
        stops_with(&l, args, message);
    }
    let out = l.ok(&["repair"]);
    assert!(out.starts_with("repaired: re-appended "), "{out}");
    assert!(
        out.contains(&format!("verified, head {}", before.0)),
        "{out}"
    );
    assert_eq!(answers(&l), before);
    assert!(l.ok(&["verify"]).starts_with("ok: 27 events"));
}

#[test]
fn an_emptied_log_is_witnessed_and_repaired() {
    witness_case(|p| std::fs::write(p.join("db"), b"").unwrap(), DAMAGED);
}

#[test]
fn a_deleted_log_is_witnessed_and_repaired() {
    witness_case(|p| std::fs::remove_file(p.join("db")).unwrap(), DAMAGED);
}

#[test]
fn readers_refuse_a_log_whose_files_are_gone() {
    let l = ledger();
    std::fs::write(l.path().join("db"), b"").unwrap();
    for args in [&["head"][..], &["stances"], &["export"]] {
        stops_with(&l, args, DAMAGED);
    }
}

#[test]
fn a_newest_write_dropped_by_a_flipped_byte_is_witnessed_and_repaired() {
    // One flipped byte near the end of what sled wrote: its recovery drops
    // that write (and anything after it) and opens a shorter log.
    witness_case(drop_newest_write, BEHIND);
}

#[test]
fn a_log_truncated_to_half_answers_the_same_or_is_witnessed_and_repaired() {
    // Whether half of `db` still holds every write depends on how sled laid
    // it out; either way nothing acknowledged may be lost.
    let l = TestLedger::new();
    let file = l.scratch("many.jsonl");
    crate::support::write_usa_statements(&file, 3000, 50, |i| format!("s{i}"));
    l.ok(&["import", file.to_str().unwrap()]);
    let before = answers(&l);
    let db = l.path().join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let out = l.cmd().arg("verify").output().unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(DAMAGED) || err.contains(BEHIND), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        l.ok(&["repair"]);
    }
    assert_eq!(answers(&l), before);
    l.ok(&["verify"]);
}

#[test]
fn a_deleted_read_model_is_rebuilt_from_the_log_with_a_notice() {
    let l = ledger();
    let before = answers(&l);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(l.path().join(format!("read-model.sqlite3{suffix}")));
    }
    let out = l.cmd().arg("head").output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "notice: built the read model of {} from 27 events",
            l.path().display()
        )
    );
    assert_eq!(answers(&l), before);
    l.ok(&["verify"]);
}

#[test]
fn a_reader_answers_while_an_import_holds_the_ledger_and_then_sees_it() {
    let l = ledger();
    let old = l.head();
    let mut holder = crate::support::hold(
        &l.path(),
        &statement_line("KOR", "held", "support", "2019-12-01", "held"),
    );
    let t = Instant::now();
    assert_eq!(l.head(), old, "the reader sees the last committed head");
    assert!(l.ok(&["stances"]).contains("hong-kong-protests"));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "the reader waited: {:?}",
        t.elapsed()
    );
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let new = l.head();
    assert!(new.starts_with("28:"), "{new}");
}

/// Runs `f` with a read-only bind mount of `dir`, if this process may
/// mount (root); otherwise prints one skip line and returns.
fn with_read_only_mount(dir: &Path, f: impl FnOnce(&Path)) {
    let target = dir.with_extension("ro");
    std::fs::create_dir_all(&target).unwrap();
    let mount = |args: &[&str]| {
        Command::new("mount")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    let (d, t) = (dir.to_str().unwrap(), target.to_str().unwrap());
    if !mount(&["--bind", d, t]) {
        eprintln!("skipped: cannot bind-mount here (needs root and mount)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(target.clone());
    assert!(mount(&["-o", "remount,bind,ro", t]), "remount read-only");
    f(&target);
}

#[test]
fn readers_answer_on_a_read_only_mount() {
    let l = ledger();
    let before = answers(&l);
    with_read_only_mount(&l.path(), |ro| {
        let read = |args: &[&str]| ok(process(ro, "auditor").args(args));
        assert_eq!(read(&["head"]).trim(), before.0);
        assert_eq!(read(&["export"]), before.1);
        assert_eq!(
            read(&["--json", "stances", "--as-of", "2019-12-31"]),
            before.2
        );
        // A write says it cannot, in one line, and changes nothing.
        let out = process(ro, "auditor")
            .args(crate::support::A_RECORD)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
    });
    assert_eq!(answers(&l), before);
}

#[test]
fn readers_answer_on_a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let Some(small) = crate::support::SmallDisk::mount(dir.path()) else {
        return;
    };
    let mnt = small.path().to_owned();
    let ledger = mnt.join("ledger");
    ok(process(&ledger, "a").args(["import", crate::support::article().to_str().unwrap()]));
    let head = ok(process(&ledger, "a").arg("head"));
    // Fill the disk to the last byte.
    let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
    let block = vec![0u8; 1 << 16];
    while filler.write_all(&block).is_ok() {}
    let _ = filler.write_all(&[0]);
    drop(filler);
    assert_eq!(ok(process(&ledger, "a").arg("head")), head);
    let stances = ok(process(&ledger, "a").args(["--json", "stances", "--as-of", "2019-12-23"]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stances)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        25
    );
    ok(process(&ledger, "a").arg("export"));
}

#[test]
fn a_third_party_reader_queries_the_views_while_an_import_runs() {
    if Command::new("python3")
        .arg("-c")
        .arg("import sqlite3")
        .status()
        .map_or(true, |s| !s.success())
    {
        eprintln!("skipped: python3 with sqlite3 is not available");
        return;
    }
    let l = ledger();
    let file = l.scratch("big.jsonl");
    crate::support::write_usa_statements(&file, 20_000, 300, |i| format!("s{i}"));
    let mut import = process(&l.path(), "importer")
        .args(["import", file.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let script = r#"
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
seen = []
for _ in range(50):
    n = db.execute("select count(*) from statements_current").fetchone()[0]
    s = db.execute("select count(*) from stances_now").fetchone()[0]
    assert n in (27, 20027), n
    assert s > 0
    seen.append(n)
print(min(seen), max(seen))
"#;
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            l.path().join("read-model.sqlite3").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(import.wait().unwrap().success());
    let after = Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from statements_current').fetchone()[0])", l.path().join("read-model.sqlite3").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&after.stdout).trim(), "20027");
}

/// Runs a prepared process that must succeed; returns stdout.
fn ok(c: &mut Command) -> String {
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "{:?}: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Flips a byte near the end of what sled wrote, so that its recovery
/// drops the newest write.
fn drop_newest_write(p: &Path) {
    let path = p.join("db");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.iter().rposition(|&b| b != 0).expect("data");
    bytes[last - 20] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

fn model_sql(l: &TestLedger, sql: &str) {
    let conn = rusqlite::Connection::open(l.path().join(stancelog::READ_MODEL_FILE)).unwrap();
    conn.execute(sql, []).unwrap();
}

#[test]
fn a_read_model_that_disagrees_with_the_log_at_its_head_stops_writes_until_rebuilt() {
    let l = ledger();
    let record = crate::support::A_RECORD;
    model_sql(
        &l,
        &format!(
            "UPDATE meta SET value = '{}' WHERE key = 'watermark_hash'",
            "0".repeat(64)
        ),
    );
    stops_with(
        &l,
        &record,
        "the log and the read model hold different events here; neither is trusted",
    );
    stops_with(
        &l,
        &["verify"],
        "the read model's watermark (seq 27) is not the log's head (seq 27)",
    );
    l.ok(&["rebuild"]);
    l.ok(&["verify"]);
    l.ok(&record);
}

#[test]
fn repair_refuses_a_copy_that_does_not_chain_onto_the_log() {
    let l = ledger();
    drop_newest_write(&l.path());
    model_sql(
        &l,
        &format!(
            "UPDATE event_rows SET hash = X'{}' WHERE seq = 27",
            "1".repeat(64)
        ),
    );
    stops_with(
        &l,
        &["repair"],
        "corrupt ledger at seq 27: the read model's copy does not chain onto the log",
    );
    // Nothing was re-appended: the log still stops at seq 26.
    stops_with(&l, &["verify"], "lost acknowledged events after seq 26");
}

#[test]
fn stances_now_skips_statements_dated_after_today_for_the_one_before() {
    // Dates relative to the real today, which the view's `date('now')` reads;
    // the ledger's pinned clock is past both, so the rules accept them.
    let today = chrono::Utc::now().date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let l = TestLedger::new();
    let clock = format!("{}T00:00:00Z", day(400));
    let record = |actor: &str, issue: &str, position: &str, on: &str| {
        crate::support::run_ok(l.at(&clock).args(crate::support::record_args(
            actor,
            issue,
            position,
            on,
            "a statement",
        )));
    };
    record("JPN", "senkaku-islands", "support", &day(-30));
    record("JPN", "senkaku-islands", "oppose", &day(365));
    record("CHN", "senkaku-islands", "oppose", &day(-60));
    record("CHN", "senkaku-islands", "mixed", &day(-10));
    record("USA", "senkaku-islands", "neutral", &day(200));
    let conn = rusqlite::Connection::open_with_flags(
        l.path().join(stancelog::READ_MODEL_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let rows: Vec<(String, String, String)> = conn
        .prepare("SELECT actor, position, stated_on FROM stances_now ORDER BY actor")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // JPN's later statement is not in force yet; USA has none in force.
    assert_eq!(
        rows,
        [
            ("CHN".into(), "mixed".into(), day(-10)),
            ("JPN".into(), "support".into(), day(-30)),
        ]
    );
    // The same as `stances` as of today, known now.
    let stances = l.ok(&["--json", "stances", "--as-of", &today.to_string()]);
    let stances: serde_json::Value = serde_json::from_str(&stances).unwrap();
    let positions: Vec<&str> = stances
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, ["mixed", "support"]);
}

/// The `events` view, column by column, is the export: every kind and
/// every field of record format 2 (the second chain vector), including
/// the columns the view derives (`prev_hash` from the row before, `target`
/// from `target_seq`) and the ones stored as bytes and codes.
#[test]
fn the_events_view_shows_every_kind_and_field_as_export_writes_it() {
    use rusqlite::types::Value as Sql;
    use serde_json::Value;
    let l = TestLedger::new();
    let vector = crate::support::fixture("chain-vector-v2.jsonl");
    l.ok(&["restore", vector.to_str().unwrap()]);
    let export = l.ok(&["export"]);
    let db = rusqlite::Connection::open_with_flags(
        l.path().join(stancelog::READ_MODEL_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut st = db.prepare("SELECT * FROM events ORDER BY seq").unwrap();
    let names: Vec<String> = st.column_names().map(str::to_owned).collect();
    let rows: Vec<Vec<Sql>> = st
        .query_map([], |r| (0..names.len()).map(|i| r.get(i)).collect())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), export.lines().count());
    // The export's name of each column (`target_seq` is the view's own).
    fn key(name: &str) -> &str {
        match name {
            "from_issue" => "from",
            "into_issue" => "into",
            n => n,
        }
    }
    for (line, row) in export.lines().zip(&rows) {
        let want: Value = serde_json::from_str(line).unwrap();
        for (name, value) in names.iter().zip(row) {
            if name == "target_seq" {
                continue;
            }
            let got = match value {
                Sql::Null => Value::Null,
                Sql::Integer(i) => Value::from(*i),
                Sql::Text(t) if matches!(name.as_str(), "qualifiers" | "sources" | "used_by") => {
                    serde_json::from_str(t).unwrap()
                }
                Sql::Text(t) => Value::from(t.as_str()),
                other => panic!("{name}: unexpected {other:?}"),
            };
            let want = want.get(key(name)).cloned().unwrap_or(Value::Null);
            assert_eq!(got, want, "column {name} of {line}");
        }
        for k in want.as_object().unwrap().keys() {
            assert!(names.iter().any(|n| key(n) == k), "no column for {k}");
        }
    }
}
