//! Durability seen from outside: under strace, a write command fsyncs the
//! log's `db` and the read model's WAL before it prints its result. Skipped,
//! with one line, where strace is not installed.

use std::process::Command;

use crate::support::TestLedger;

/// The system calls of `args` against `l`, as strace prints them with file
/// names (`-y`), or `None` where strace is missing.
fn traced(l: &TestLedger, args: &[&str]) -> Option<Vec<String>> {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed");
        return None;
    }
    let out = l.scratch("trace.txt");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-y", "-e", "trace=fsync,fdatasync,write", "-o"])
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_stancelog"))
        .arg("--ledger")
        .arg(l.path())
        .args(args)
        .env("STANCELOG_AUTHOR", "tracer")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = cmd.status().expect("run strace");
    assert!(status.success());
    Some(
        std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// The success output is written only after both stores are synced.
fn synced_before_success(trace: &[String], success: &str) {
    let printed = trace
        .iter()
        .position(|l| l.contains("write(") && l.contains(success))
        .unwrap_or_else(|| panic!("no write of {success:?} in {trace:#?}"));
    let before = &trace[..printed];
    let synced = |file: &str| {
        before
            .iter()
            .any(|l| (l.contains("fsync(") || l.contains("fdatasync(")) && l.contains(file))
    };
    assert!(
        synced("/db>"),
        "the log's db was not fsynced first: {before:#?}"
    );
    assert!(
        synced("read-model.sqlite3-wal>") || synced("read-model.sqlite3>"),
        "the read model was not synced first: {before:#?}"
    );
}

#[test]
fn a_record_syncs_the_log_and_the_read_model_before_it_reports() {
    let l = TestLedger::new();
    l.import_article();
    let Some(trace) = traced(
        &l,
        &[
            "record",
            "--actor",
            "USA",
            "--issue",
            "x",
            "--position",
            "support",
            "--stated-on",
            "2019-12-01",
            "--summary",
            "traced",
        ],
    ) else {
        return;
    };
    synced_before_success(&trace, "recorded statement");
}

#[test]
fn an_import_syncs_the_log_and_the_read_model_before_it_reports() {
    let l = TestLedger::new();
    l.import_article();
    let file = l.scratch("more.jsonl");
    crate::support::write_usa_statements(&file, 300, 300, |_| "s".to_owned());
    let Some(trace) = traced(&l, &["import", file.to_str().unwrap()]) else {
        return;
    };
    synced_before_success(&trace, "imported ");
}
