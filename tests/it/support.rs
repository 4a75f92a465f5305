//! Shared helpers: a temporary ledger and the real binary run against it in a
//! clean, deterministic environment.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// Path of a file under `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The article fixture.
pub fn article() -> PathBuf {
    fixture("xi-abe-summit-2019-12-23.jsonl")
}

/// The binary as a plain process (for spawning, killing and racing),
/// pointed at `ledger`, with `author` and no inherited stancelog settings.
pub fn process(ledger: &Path, author: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stancelog"));
    c.env_remove("STANCELOG_LEDGER")
        .env_remove("STANCELOG_TEST_NOW")
        .env_remove("STANCELOG_WAIT")
        .env_remove("STANCELOG_CACHE_MIB")
        .env("STANCELOG_AUTHOR", author)
        .arg("--ledger")
        .arg(ledger)
        .stdin(std::process::Stdio::null());
    c
}

/// A new ledger opened in process at `dir`, for tests of the library.
pub fn open_new(dir: &Path) -> stancelog::Ledger {
    let opts = stancelog::OpenOptions {
        create: true,
        ..Default::default()
    };
    stancelog::Ledger::open(dir, &opts).expect("open a new ledger")
}

/// A ledger in a fresh temporary directory (the ledger itself is created by
/// the first write, in a subdirectory, so "does not exist" can be tested).
pub struct TestLedger {
    dir: TempDir,
}

impl Default for TestLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl TestLedger {
    pub fn new() -> Self {
        TestLedger {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Where the ledger lives.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    /// A scratch path next to the ledger.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary, pointed at this ledger, with a fixed author and no
    /// inherited stancelog settings.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("stancelog").expect("binary");
        c.env_remove("STANCELOG_LEDGER")
            .env_remove("STANCELOG_TEST_NOW")
            .env_remove("STANCELOG_WAIT")
            .env_remove("STANCELOG_CACHE_MIB")
            .env("STANCELOG_AUTHOR", "tester")
            .arg("--ledger")
            .arg(self.path());
        c
    }

    /// The binary with the ledger's clock pinned to `now` (RFC 3339).
    pub fn at(&self, now: &str) -> Command {
        let mut c = self.cmd();
        c.env("STANCELOG_TEST_NOW", now);
        c
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        run_ok(self.cmd().args(args))
    }

    /// Runs a command that must fail with exit 1; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        run_fails(self.cmd().args(args))
    }

    /// Runs a command with `--json` and parses its stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = run_ok(self.cmd().arg("--json").args(args));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// The head as printed by `stancelog head`.
    pub fn head(&self) -> String {
        self.ok(&["head"]).trim().to_owned()
    }

    /// Imports the article fixture.
    pub fn import_article(&self) {
        self.ok(&["import", article().to_str().unwrap()]);
    }
}

/// Runs a prepared command that must succeed; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "command failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs a prepared command that must fail with exit 1 and a one-line
/// `error:` message; returns that message.
pub fn run_fails(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1, stderr: {stderr}"
    );
    let line = stderr.trim_end();
    assert!(line.starts_with("error: "), "no error line: {stderr}");
    assert!(!line.contains('\n'), "error is not one line: {stderr}");
    line.to_owned()
}

/// One JSONL statement line.
pub fn statement_line(
    actor: &str,
    issue: &str,
    position: &str,
    stated_on: &str,
    summary: &str,
) -> String {
    serde_json::json!({
        "type": "statement", "actor": actor, "issue": issue, "position": position,
        "stated_on": stated_on, "summary": summary,
    })
    .to_string()
}
