//! Shared helpers: a temporary ledger and the real binary run against it in a
//! clean, deterministic environment, as jj's test environment does: every
//! spawned command starts from an empty environment and gets only a temporary
//! `HOME`, `STANCELOG_AUTHOR`, `--ledger` and a pinned clock, `BASE_TIME`
//! plus one second per command already run against that ledger (so outputs
//! are stable, and still move forward from one command to the next).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use assert_cmd::Command;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use tempfile::TempDir;

/// The pinned clock of a ledger's first command; each further command against
/// the same ledger runs one second later.
pub const BASE_TIME: &str = "2026-01-01T00:00:00Z";

/// How many commands have run against each ledger path.
static COMMANDS: Mutex<Option<HashMap<PathBuf, i64>>> = Mutex::new(None);

/// The pinned clock of the next command against `ledger`: `BASE_TIME` plus
/// n seconds for its n-th command (counting from 0).
pub fn next_time(ledger: &Path) -> String {
    let mut map = COMMANDS.lock().unwrap_or_else(|e| e.into_inner());
    let n = map
        .get_or_insert_with(HashMap::new)
        .entry(ledger.to_owned())
        .or_insert(0);
    let t = BASE_TIME.parse::<DateTime<Utc>>().expect("base time") + Duration::seconds(*n);
    *n += 1;
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

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

/// The binary in an empty environment with only what it needs: `HOME` (a
/// directory beside `ledger`, so nothing reaches the real one), the author
/// and the pinned clock of the next command against `ledger`. No `--ledger`.
pub fn bare(ledger: &Path, author: &str) -> std::process::Command {
    let home = ledger
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("home");
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_stancelog"));
    c.env_clear()
        .env("HOME", home)
        .env("STANCELOG_AUTHOR", author)
        .env("STANCELOG_TEST_NOW", next_time(ledger));
    c
}

/// The binary as a plain process (for spawning, killing and racing),
/// pointed at `ledger`, with `author`, in the environment of [`bare`].
pub fn process(ledger: &Path, author: &str) -> std::process::Command {
    let mut c = bare(ledger, author);
    c.arg("--ledger")
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

/// Which engine a [`TestLedger`] runs on.
enum Backend {
    /// A sled ledger in the temporary directory (created by its first write).
    Sled,
    /// A PostgreSQL ledger in a schema of its own (`init`ed on creation,
    /// dropped on drop) of the server `STANCELOG_TEST_POSTGRES` names.
    Postgres { base: String, schema: String },
}

/// How many PostgreSQL test ledgers this process has made (their schemas
/// are `cli_PID_N`).
static PG_LEDGERS: AtomicUsize = AtomicUsize::new(0);

/// The server the PostgreSQL runs use, or `None` (with one skip line per
/// process) when `STANCELOG_TEST_POSTGRES` is unset.
pub fn postgres_base() -> Option<String> {
    static SKIP: Once = Once::new();
    let base = postgres_configured();
    if base.is_none() {
        SKIP.call_once(|| {
            eprintln!(
                "skipped the PostgreSQL runs of the CLI suite: set \
                 STANCELOG_TEST_POSTGRES=postgres://USER@HOST/DB to run them"
            )
        });
    }
    base
}

/// The server `STANCELOG_TEST_POSTGRES` names, if it names one: unset and
/// empty both mean none (an empty base would make each PostgreSQL ledger
/// the relative directory `?schema=...`).
pub fn postgres_configured() -> Option<String> {
    std::env::var("STANCELOG_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// A ledger in a fresh temporary directory (the ledger itself is created by
/// the first write, in a subdirectory, so "does not exist" can be tested),
/// or in a PostgreSQL schema of its own (see [`TestLedger::each`]).
pub struct TestLedger {
    dir: TempDir,
    backend: Backend,
}

impl Default for TestLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestLedger {
    fn drop(&mut self) {
        if let Backend::Postgres { base, schema } = &self.backend {
            if std::thread::panicking() {
                eprintln!("(this failure is on the PostgreSQL ledger {})", self.url());
            }
            if let Ok(mut c) = postgres::Client::connect(base, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl TestLedger {
    /// A sled ledger.
    pub fn new() -> Self {
        TestLedger {
            dir: tempfile::tempdir().expect("tempdir"),
            backend: Backend::Sled,
        }
    }

    /// The same test on every backend: a new sled ledger, then, where
    /// `STANCELOG_TEST_POSTGRES` names a server, a new PostgreSQL ledger in
    /// a schema of its own, already `init`ed (a PostgreSQL ledger is made by
    /// `init`, not by its first write). Both start from the same pinned
    /// clock, so a test pins the same outputs on each.
    pub fn each() -> Vec<TestLedger> {
        let mut all = vec![TestLedger::new()];
        if let Some(base) = postgres_base() {
            let schema = format!(
                "cli_{}_{}",
                std::process::id(),
                PG_LEDGERS.fetch_add(1, Ordering::SeqCst)
            );
            let l = TestLedger {
                dir: tempfile::tempdir().expect("tempdir"),
                backend: Backend::Postgres { base, schema },
            };
            // `init` records nothing, so it runs off the pinned clock.
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_stancelog"))
                .env_clear()
                .env("HOME", l.root().join("home"))
                .arg("init")
                .arg(l.url())
                .output()
                .expect("run init");
            assert!(
                out.status.success(),
                "init {}: {}",
                l.url(),
                String::from_utf8_lossy(&out.stderr)
            );
            all.push(l);
        }
        all
    }

    /// Whether this ledger is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    /// The connection string of a PostgreSQL ledger (panics on sled).
    pub fn url(&self) -> String {
        let Backend::Postgres { base, schema } = &self.backend else {
            panic!("a sled ledger has no URL");
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}schema={schema}")
    }

    /// What `--ledger` (or `STANCELOG_LEDGER`) names this ledger by: its
    /// directory, or its connection string.
    pub fn ledger_arg(&self) -> std::ffi::OsString {
        match self.backend {
            Backend::Sled => self.path().into(),
            Backend::Postgres { .. } => self.url().into(),
        }
    }

    /// Asserts that nothing has been written to the ledger: on sled, that
    /// no ledger directory exists; on PostgreSQL, that the log is empty.
    pub fn assert_nothing_written(&self) {
        match &self.backend {
            Backend::Sled => assert!(!self.path().exists(), "the ledger was created"),
            Backend::Postgres { base, schema } => {
                let mut c = postgres::Client::connect(base, postgres::NoTls).expect("connect");
                let n: i64 = c
                    .query_one(&format!("SELECT count(*) FROM {schema}.log"), &[])
                    .expect("count the log")
                    .get(0);
                assert_eq!(n, 0, "the log has events");
            }
        }
    }

    /// Where the ledger lives.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    /// The temporary directory that holds the ledger and scratch files.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A scratch path next to the ledger.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary, pointed at this ledger, with a fixed author, in the
    /// cleared environment of [`bare`] (the clock pinned to the next second).
    pub fn cmd(&self) -> Command {
        let mut c = Command::from_std(bare(&self.path(), "tester"));
        c.arg("--ledger").arg(self.ledger_arg());
        c
    }

    /// The binary in the same environment without `--ledger`.
    pub fn bare(&self) -> Command {
        Command::from_std(bare(&self.path(), "tester"))
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

    /// Runs `verify` (with `args`) that must find a fault: exit 3; returns
    /// stderr.
    pub fn faults(&self, args: &[&str]) -> String {
        assert_eq!(args.first(), Some(&"verify"), "only verify exits 3");
        run_fails_with(self.cmd().args(args), 3)
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
    run_fails_with(cmd, 1)
}

/// Runs a prepared command that must fail with exit `code` and a one-line
/// `error:` message (which a `hint:` line may follow); returns the message.
pub fn run_fails_with(cmd: &mut Command, code: i32) -> String {
    failure(&cmd.output().expect("run"), code)
}

/// The outcome of a finished command that must have failed with exit
/// `code` and a one-line `error:` message (which a `hint:` line may
/// follow); returns the message.
pub fn failure(out: &std::process::Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}, stderr: {stderr}"
    );
    let text = stderr.trim_end();
    let (line, hint) = text.split_once('\n').unwrap_or((text, ""));
    assert!(line.starts_with("error: "), "no error line: {stderr}");
    assert!(
        hint.is_empty() || (hint.starts_with("hint: ") && !hint.contains('\n')),
        "error is not one line (and a hint): {stderr}"
    );
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

/// A 24 MiB tmpfs mounted under a directory, unmounted on drop: a disk
/// that fills up. `None`, with one skip line, where this process may not
/// mount (it needs root).
pub struct SmallDisk(PathBuf);

impl SmallDisk {
    pub fn mount(under: &Path) -> Option<SmallDisk> {
        let mnt = under.join("small");
        std::fs::create_dir_all(&mnt).expect("mount point");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=24m", "tmpfs"])
            .arg(&mnt)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here (needs root and mount)");
            return None;
        }
        Some(SmallDisk(mnt))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Writes `n` JSONL statements by USA, all `support` on 2019-12-01, to
/// `file`: statement `i` on issue `issue-{i % issues}` with `summary(i)`.
pub fn write_usa_statements(
    file: &Path,
    n: usize,
    issues: usize,
    summary: impl Fn(usize) -> String,
) {
    let lines: String = (0..n)
        .map(|i| {
            statement_line(
                "USA",
                &format!("issue-{}", i % issues),
                "support",
                "2019-12-01",
                &summary(i),
            ) + "\n"
        })
        .collect();
    std::fs::write(file, lines).expect("write the statements");
}

/// Starts `import -` with `first_line` on its stdin and keeps stdin open:
/// the importer holds the ledger (it opens it before reading) until stdin
/// is closed. Returns once the ledger's lock is taken.
pub fn hold(ledger: &Path, first_line: &str) -> std::process::Child {
    use std::io::Write;
    use std::time::{Duration, Instant};
    let mut child = process(ledger, "holder")
        .args(["--json", "import", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn holder");
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{first_line}").unwrap();
    stdin.flush().unwrap();
    // Wait until the holder has the lock (probing it without keeping it).
    let lock = std::fs::File::open(ledger.join("stancelog.lock")).expect("lock file");
    let t = Instant::now();
    loop {
        match lock.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) => break,
            Ok(()) => lock.unlock().unwrap(),
            Err(std::fs::TryLockError::Error(e)) => panic!("probing the lock: {e}"),
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "holder never took the ledger"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A valid `record` of a statement no fixture has: the write command the
/// damage and witness tests try.
pub const A_RECORD: [&str; 11] = [
    "record",
    "--actor",
    "FRA",
    "--issue",
    "x",
    "--position",
    "support",
    "--stated-on",
    "2019-12-01",
    "--summary",
    "s",
];

/// The arguments of a `record` with the required flags.
pub fn record_args<'a>(
    actor: &'a str,
    issue: &'a str,
    position: &'a str,
    date: &'a str,
    summary: &'a str,
) -> Vec<&'a str> {
    vec![
        "record",
        "--actor",
        actor,
        "--issue",
        issue,
        "--position",
        position,
        "--stated-on",
        date,
        "--summary",
        summary,
    ]
}
