//! PostgreSQL ledgers against a real server: the connection string comes
//! from `STANCELOG_TEST_POSTGRES` (`.ci/run` sets it); where it is unset each
//! test prints one skip line and passes. Every test works in a schema of
//! its own, dropped afterwards.
//!
//! The tests of a server that restarts or stops in the middle of a command
//! start a PostgreSQL cluster of their own (see [`PrivateServer`]), so as
//! not to disturb the shared server; they too are skipped where
//! `STANCELOG_TEST_POSTGRES` is unset, or where no cluster can be made.
//!
//! The acceptance test runs one sequence of commands on a sled ledger and on
//! a PostgreSQL one, with the same pinned clocks, and asserts that every
//! output (tables, JSON, the log, the export, the head, verify) is the same.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

use crate::support::{
    article, bare, failure, fixture, record_args, run_fails, run_ok, write_usa_statements,
    TestLedger,
};

/// A PostgreSQL ledger in a schema of its own, dropped on drop.
struct PgLedger {
    base: String,
    schema: String,
    /// The key of this ledger's pinned clock (see `support::next_time`),
    /// beside which `HOME` goes.
    clock: PathBuf,
    /// Where `HOME` and scratch files go.
    dir: tempfile::TempDir,
}

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

impl PgLedger {
    /// `None`, after one skip line, when no server is configured.
    fn new(test: &str) -> Option<PgLedger> {
        let Some(base) = crate::support::postgres_configured() else {
            eprintln!("skipped {test}: set STANCELOG_TEST_POSTGRES=postgres://USER@HOST/DB to run the PostgreSQL tests");
            return None;
        };
        Some(PgLedger::on(base))
    }

    /// A ledger in a schema of its own on the server at `base`.
    fn on(base: String) -> PgLedger {
        let schema = format!(
            "t_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = PgLedger {
            base,
            clock: dir.path().join("ledger"),
            schema,
            dir,
        };
        ledger.sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", ledger.schema));
        ledger
    }

    fn sql(&self, sql: &str) {
        let mut c = postgres::Client::connect(&self.base, postgres::NoTls).expect("connect");
        c.batch_execute(sql).expect("sql");
    }

    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.base, self.schema)
    }

    /// The binary in the cleared environment of `support::bare` (`HOME`
    /// in this ledger's temporary directory), pinned to this ledger's clock.
    fn cmd(&self) -> Command {
        Command::from_std(self.process())
    }

    /// The same, as a plain process (for spawning and killing).
    fn process(&self) -> std::process::Command {
        let mut c = bare(&self.clock, "tester");
        c.arg("--ledger")
            .arg(self.url())
            .stdin(std::process::Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        run_ok(self.cmd().args(args))
    }
}

impl Drop for PgLedger {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// The commands of the acceptance run: writes, then every query.
fn script(domain: &str, art: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["import", art]),
        v(&["import", domain]),
        v(&["import", art]),
        v(&[
            "record",
            "--actor",
            "USA",
            "--issue",
            "north-korea-sanctions-relief",
            "--position",
            "oppose",
            "--stated-on",
            "2019-12-24",
            "--summary",
            "Not yet.",
        ]),
        v(&["stances", "--as-of", "2019-12-31"]),
        v(&["--json", "stances", "--as-of", "2019-12-31"]),
        v(&[
            "stance",
            "JPN",
            "north-korea-sanctions-relief",
            "--as-of",
            "2019-12-31",
        ]),
        v(&["history", "CHN", "hong-kong-protests"]),
        v(&["changes", "--from", "2019-12-01", "--to", "2019-12-31"]),
        v(&["compare", "JPN", "CHN", "--as-of", "2019-12-31"]),
        v(&["shifts"]),
        v(&["issues"]),
        v(&["actors"]),
        v(&["log", "--format", "csv"]),
        v(&["export"]),
        v(&["head"]),
        v(&["--json", "verify"]),
        v(&[
            "stances",
            "--as-of",
            "2019-12-31",
            "--known-at",
            "2026-01-01T00:00:00Z",
        ]),
    ]
}

#[test]
fn a_postgres_ledger_answers_exactly_as_a_sled_ledger_does() {
    let Some(pg) = PgLedger::new("a_postgres_ledger_answers_exactly_as_a_sled_ledger_does") else {
        return;
    };
    let sled = TestLedger::new();
    // `init` takes one tick of the PostgreSQL ledger's clock: the sled
    // ledger's first command runs at the same second as a no-op `head`.
    pg.ok(&["init"]);
    let _ = sled.cmd().arg("head").output();
    let domain = fixture("xi-abe-summit-2019-12-23-domain.jsonl");
    let art = article();
    for args in script(domain.to_str().unwrap(), art.to_str().unwrap()) {
        let a = run_ok(sled.cmd().args(&args));
        let b = pg.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let a = a.replace(&sled.path().display().to_string(), "LEDGER");
        let b = b.replace(&pg.url(), "LEDGER");
        assert_eq!(
            a,
            b,
            "`stancelog {}` differs between sled and PostgreSQL",
            args.join(" ")
        );
    }
}

#[test]
fn migrate_copies_a_ledger_keeping_its_head_and_export_goes_back() {
    let Some(pg) = PgLedger::new("migrate_copies_a_ledger_keeping_its_head_and_export_goes_back")
    else {
        return;
    };
    let sled = TestLedger::new();
    sled.import_article();
    let head = sled.head();
    let out = run_ok(sled.cmd().args(["migrate", "--to", &pg.url()]));
    assert!(out.contains(&format!("head {head}")), "{out}");
    assert_eq!(pg.ok(&["head"]).trim(), head);
    pg.ok(&["verify", "--digest", &head]);
    assert_eq!(pg.ok(&["export"]), sled.ok(&["export"]));
    // A second migration into the same (no longer empty) ledger is refused.
    let e = run_fails(sled.cmd().args(["migrate", "--to", &pg.url()]));
    assert!(e.contains("not empty") || e.contains("empty"), "{e}");
    // And back: export from PostgreSQL, restore into a new sled ledger.
    let file = pg.dir.path().join("export.jsonl");
    std::fs::write(&file, pg.ok(&["export"])).unwrap();
    let back = TestLedger::new();
    back.ok(&["restore", file.to_str().unwrap()]);
    assert_eq!(back.head(), head);
}

#[test]
fn concurrent_writers_are_serialised_without_gaps_or_losses() {
    let Some(pg) = PgLedger::new("concurrent_writers_are_serialised_without_gaps_or_losses") else {
        return;
    };
    pg.ok(&["init"]);
    let writers = 4;
    let each = 8;
    let children: Vec<_> = (0..writers)
        .map(|w| {
            let url = pg.url();
            std::thread::spawn(move || {
                for i in 0..each {
                    let mut c = bare(Path::new("/postgres/concurrent"), &format!("writer-{w}"));
                    c.env_remove("STANCELOG_TEST_NOW");
                    let out = c
                        .args(["--ledger", &url, "record", "--actor", "USA", "--issue"])
                        .arg(format!("issue-{w}"))
                        .args([
                            "--position",
                            "support",
                            "--stated-on",
                            "2019-12-01",
                            "--summary",
                        ])
                        .arg(format!("writer {w} statement {i}"))
                        .output()
                        .expect("run");
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for c in children {
        c.join().expect("a writer");
    }
    let total = writers * each;
    let head = pg.ok(&["head"]);
    assert!(head.starts_with(&format!("{total}:")), "{head}");
    let v: serde_json::Value = serde_json::from_str(&pg.ok(&["--json", "verify"])).unwrap();
    assert_eq!(v["events"], total as u64, "{v}");
    let log = pg.ok(&["log", "--format", "csv"]);
    let seqs: Vec<u64> = log
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "no gaps, in order"
    );
}

#[test]
fn a_killed_import_leaves_nothing_and_a_retry_succeeds() {
    let Some(pg) = PgLedger::new("a_killed_import_leaves_nothing_and_a_retry_succeeds") else {
        return;
    };
    pg.ok(&["init"]);
    pg.ok(&["import", article().to_str().unwrap()]);
    let before = pg.ok(&["head"]);
    let file = pg.dir.path().join("big.jsonl");
    write_usa_statements(&file, 20_000, 50, |i| format!("statement {i}"));
    let mut child = pg
        .process()
        .args(["import", file.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = child.kill();
    let status = child.wait().unwrap();
    if status.success() {
        eprintln!("the import finished before the kill; the ledger must then hold it all");
        assert!(pg.ok(&["head"]).starts_with("20025:"));
        return;
    }
    assert_eq!(pg.ok(&["head"]), before, "a killed import left nothing");
    pg.ok(&["verify"]);
    pg.ok(&["import", file.to_str().unwrap()]);
    assert!(pg.ok(&["head"]).starts_with("20025:"));
}

#[test]
fn an_uninitialised_or_unreachable_ledger_is_one_clear_line_without_the_password() {
    let Some(pg) = PgLedger::new(
        "an_uninitialised_or_unreachable_ledger_is_one_clear_line_without_the_password",
    ) else {
        return;
    };
    let e = run_fails(pg.cmd().arg("stances"));
    assert!(e.contains("run `stancelog init"), "{e}");
    let e = run_fails(
        pg.cmd()
            .args(record_args("JPN", "x", "support", "2019-12-01", "s")),
    );
    assert!(e.contains("run `stancelog init"), "{e}");
    // A database that does not exist, named with a password.
    let mut c = Command::from_std(bare(&pg.clock, "tester"));
    let e = run_fails(c.args([
        "--ledger",
        "postgres://postgres:sekrit@127.0.0.1:5432/no_such_database_here",
        "stances",
    ]));
    assert!(
        e.contains("no_such_database_here") && e.contains("127.0.0.1"),
        "{e}"
    );
    assert!(!e.contains("sekrit"), "the password is never shown: {e}");
    // Nothing listens on this port.
    let mut c = Command::from_std(bare(&pg.clock, "tester"));
    let e = run_fails(c.args([
        "--ledger",
        "postgres://postgres:sekrit@127.0.0.1:1/test",
        "head",
    ]));
    assert!(e.contains("cannot connect") && !e.contains("sekrit"), "{e}");
}

#[test]
fn a_writer_waits_at_most_wait_seconds_for_the_lock_while_readers_never_wait() {
    let Some(pg) =
        PgLedger::new("a_writer_waits_at_most_wait_seconds_for_the_lock_while_readers_never_wait")
    else {
        return;
    };
    pg.ok(&["init"]);
    pg.ok(&["import", article().to_str().unwrap()]);
    let head = pg.ok(&["head"]);
    // Another writer's transaction, holding the ledger's lock (the key is
    // the one `storage::postgres` derives from the schema's name).
    let key =
        xxhash_rust::xxh3::xxh3_64(format!("stancelog ledger {}", pg.schema).as_bytes()) as i64;
    let mut holder = postgres::Client::connect(&pg.base, postgres::NoTls).expect("connect");
    let mut tx = holder.transaction().expect("begin");
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
        .expect("lock");
    let started = std::time::Instant::now();
    let out = pg
        .cmd()
        .args([
            "--wait",
            "1",
            "record",
            "--actor",
            "JPN",
            "--issue",
            "north-korea-sanctions-relief",
            "--position",
            "oppose",
            "--stated-on",
            "2019-12-24",
            "--summary",
            "Still too soon.",
        ])
        .output()
        .expect("run");
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(75), "{e}");
    // The wait is announced once, then the one error line.
    assert_eq!(e.lines().count(), 2, "{e}");
    assert!(e.contains("ledger is in use"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // Readers answer meanwhile, at the committed head.
    assert_eq!(pg.ok(&["head"]), head);
    pg.ok(&["stances", "--as-of", "2019-12-31"]);
    tx.rollback().expect("release");
    assert_eq!(pg.ok(&["head"]), head, "the refused write left nothing");
    pg.ok(&[
        "record",
        "--actor",
        "JPN",
        "--issue",
        "north-korea-sanctions-relief",
        "--position",
        "oppose",
        "--stated-on",
        "2019-12-24",
        "--summary",
        "Still too soon.",
    ]);
    assert!(pg.ok(&["head"]).starts_with("26:"));
}

/// Needs no server: `init` of a directory, and `migrate` to anything but
/// PostgreSQL.
#[test]
fn init_prepares_a_directory_and_migrate_takes_only_a_postgres_ledger() {
    let l = TestLedger::new();
    let out = run_ok(l.bare().args(["init", l.path().to_str().unwrap()]));
    assert!(out.contains("is ready (0 events)"), "{out}");
    assert!(l.head().starts_with("0:"), "an empty ledger exists");
    l.import_article();
    let e = run_fails(
        l.cmd()
            .args(["migrate", "--to", l.scratch("copy").to_str().unwrap()]),
    );
    assert!(e.contains("--to takes a PostgreSQL ledger"), "{e}");
    assert!(!l.scratch("copy").exists(), "nothing was written");
}

/// A PostgreSQL cluster of one test's own, on a free port of 127.0.0.1,
/// which the test may restart and stop without disturbing the shared
/// server the other tests use. Its files live in a temporary directory
/// (the socket too); on drop the server is stopped and the directory
/// removed, also when the test panics. The server runs as the `postgres`
/// user (initdb refuses root), with trust authentication and without
/// fsync.
struct PrivateServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivateServer {
    /// `None`, after one skip line, when `STANCELOG_TEST_POSTGRES` is
    /// unset or a cluster cannot be made here (not root, no `runuser`, no
    /// `postgres` user, no server binaries).
    fn start(test: &str) -> Option<PrivateServer> {
        PrivateServer::start_with(test, "trust")
    }

    /// The same, with `host_auth` the authentication of TCP connections
    /// (the socket stays `trust`, so the test can set passwords).
    fn start_with(test: &str, host_auth: &str) -> Option<PrivateServer> {
        let skip = |why: &str| {
            eprintln!("skipped {test}: {why}");
            None
        };
        if crate::support::postgres_configured().is_none() {
            return skip("set STANCELOG_TEST_POSTGRES=postgres://USER@HOST/DB to run the PostgreSQL tests (this one starts a server of its own)");
        }
        let Some(bin) = server_binaries() else {
            return skip("no PostgreSQL server binaries (initdb, pg_ctl) found");
        };
        let as_postgres = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", "true"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !as_postgres {
            return skip("cannot run initdb as the postgres user here (needs root, runuser and a postgres user)");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        // The server's user writes the cluster, its log and its socket here.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .expect("chmod");
        let mut server = PrivateServer { bin, dir, port: 0 };
        let data = server.data();
        let init = server
            .as_postgres("initdb")
            .args([
                "--auth-local=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--auth-host={host_auth}"))
            .arg("--no-sync")
            .arg("-D")
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        // A port that was free a moment ago may be taken by the time the
        // server binds it: then another.
        for _ in 0..3 {
            server.port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            if server.start_again() {
                return Some(server);
            }
        }
        panic!(
            "the private PostgreSQL server did not start: {}",
            server.log()
        );
    }

    /// Starts the (stopped) server on its port.
    fn start_again(&self) -> bool {
        let opts = format!(
            "-F -p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.pg_ctl(&["start", "-o", &opts])
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// One of the server's binaries, run as the `postgres` user.
    fn as_postgres(&self, program: &str) -> std::process::Command {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .stdin(std::process::Stdio::null());
        c
    }

    /// `pg_ctl ARGS` on this cluster, waiting for it to finish; whether it
    /// succeeded.
    fn pg_ctl(&self, args: &[&str]) -> bool {
        self.as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "30"])
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Its database `postgres`, as user `postgres` with a password (which
    /// trust authentication ignores, and no message may show).
    fn url(&self) -> String {
        format!(
            "postgres://postgres:s3cret@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Runs SQL as `postgres` over the server's socket (trusted).
    fn psql(&self, sql: &str) {
        let out = self
            .as_postgres("psql")
            .arg("-h")
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// How messages name that database: host, port and database.
    fn place(&self) -> String {
        format!("127.0.0.1:{}/postgres", self.port)
    }

    /// Waits until a `stancelog` session has written in its open
    /// transaction (it holds a transaction id), and returns true; false
    /// if `child` ended first.
    fn wait_for_a_writer(&self, child: &mut std::process::Child) -> bool {
        let mut c = postgres::Client::connect(&self.url(), postgres::NoTls).expect("connect");
        let started = std::time::Instant::now();
        loop {
            let writing: i64 = c
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stancelog' AND backend_xid IS NOT NULL",
                    &[],
                )
                .expect("pg_stat_activity")
                .get(0);
            if writing > 0 {
                return true;
            }
            if child.try_wait().expect("try_wait").is_some() {
                return false;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the import never began writing"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}

/// The directory of the PostgreSQL server binaries: `pg_config --bindir`,
/// else the newest of `/usr/lib/postgresql/VERSION/bin` (Debian's layout).
fn server_binaries() -> Option<PathBuf> {
    let configured = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    configured
        .into_iter()
        .chain(versions.into_iter().rev().map(|(_, p)| p))
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
}

/// Starts `import FILE` on `pg` with stdout and stderr piped.
fn spawn_import(pg: &PgLedger, file: &Path) -> std::process::Child {
    pg.process()
        .args(["import", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the import")
}

/// The one error line of a command that lost its connection: exit 1,
/// saying so and what to do, naming host, port and database, never the
/// password.
fn lost_connection(out: &std::process::Output, server: &PrivateServer) -> String {
    let e = failure(out, 1);
    assert!(e.contains("lost the connection"), "{e}");
    assert!(e.contains(&server.place()), "names the database: {e}");
    assert!(
        e.contains("nothing of this command was committed, so it can be run again"),
        "says what to do: {e}"
    );
    assert!(!e.contains("s3cret"), "the password is never shown: {e}");
    e
}

/// Statements in the import that the server's restart or stop interrupts:
/// enough that it is still writing when that happens (the test waits until
/// the import's transaction has written, then acts at once), few enough
/// that the retry is quick.
const BIG_IMPORT: usize = 2_000;

/// Starts an import of `BIG_IMPORT` statements into `pg`, runs `pg_ctl
/// ARGS` on `server` once the import is seen writing, and checks that the
/// import failed with the one lost-connection line; returns the file.
fn interrupted_import(server: &PrivateServer, pg: &PgLedger, pg_ctl: &[&str]) -> PathBuf {
    let file = pg.dir.path().join("big.jsonl");
    write_usa_statements(&file, BIG_IMPORT, 50, |i| format!("statement {i}"));
    let mut child = spawn_import(pg, &file);
    assert!(
        server.wait_for_a_writer(&mut child),
        "the import ended before it was seen writing: {:?}",
        child.wait_with_output()
    );
    assert!(server.pg_ctl(pg_ctl), "{}", server.log());
    let out = child.wait_with_output().expect("wait for the import");
    lost_connection(&out, server);
    file
}

#[test]
fn a_server_restarted_during_an_import_fails_it_in_one_line_and_a_retry_succeeds() {
    let test = "a_server_restarted_during_an_import_fails_it_in_one_line_and_a_retry_succeeds";
    let Some(server) = PrivateServer::start(test) else {
        return;
    };
    let pg = PgLedger::on(server.url());
    pg.ok(&["init"]);
    let before = pg.ok(&["head"]);
    let file = interrupted_import(&server, &pg, &["restart", "-m", "fast"]);
    assert_eq!(pg.ok(&["head"]), before, "nothing was half-written");
    pg.ok(&["verify"]);
    pg.ok(&["import", file.to_str().unwrap()]);
    pg.ok(&["verify"]);
    let head = pg.ok(&["head"]);
    assert!(head.starts_with(&format!("{BIG_IMPORT}:")), "{head}");
}

#[test]
fn a_server_stopped_during_an_import_is_one_clear_line_and_leaves_nothing() {
    let test = "a_server_stopped_during_an_import_is_one_clear_line_and_leaves_nothing";
    let Some(server) = PrivateServer::start(test) else {
        return;
    };
    let pg = PgLedger::on(server.url());
    pg.ok(&["init"]);
    pg.ok(&["import", article().to_str().unwrap()]);
    let before = pg.ok(&["head"]);
    // As a crash would: no shutdown checkpoint, recovery on the next start.
    let _ = interrupted_import(&server, &pg, &["stop", "-m", "immediate"]);
    // While it is down, a reader cannot connect: one line naming it.
    let e = run_fails(
        pg.cmd()
            .args(["stance", "JPN", "north-korea-sanctions-relief"]),
    );
    assert!(
        e.contains("cannot connect") && e.contains(&server.place()) && !e.contains("s3cret"),
        "{e}"
    );
    assert!(server.start_again(), "{}", server.log());
    assert_eq!(pg.ok(&["head"]), before, "nothing was half-written");
    pg.ok(&["verify"]);
}

#[test]
fn a_wrong_password_is_one_clear_line_naming_the_host_and_database_never_the_password() {
    let test = "a_wrong_password_is_one_clear_line_naming_the_host_and_database_never_the_password";
    let Some(server) = PrivateServer::start_with(test, "scram-sha-256") else {
        return;
    };
    server.psql("ALTER USER postgres PASSWORD 'right-one'");
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = dir.path().join("ledger");
    let at = |password: &str| {
        format!(
            "postgres://postgres:{password}@127.0.0.1:{}/postgres?schema=pw",
            server.port
        )
    };
    // The right password works: `init`, then a write and a read.
    let mut c = Command::from_std(bare(&clock, "tester"));
    run_ok(c.args(["init", &at("right-one")]));
    let mut c = Command::from_std(bare(&clock, "tester"));
    run_ok(c.args(["--ledger", &at("right-one")]).args(record_args(
        "JPN",
        "x",
        "support",
        "2019-12-01",
        "s",
    )));
    // A wrong one, for a read and for a write: one line, naming where, not
    // the password, and nothing written.
    for args in [
        vec!["head"],
        record_args("CHN", "x", "oppose", "2019-12-01", "t"),
    ] {
        let mut c = Command::from_std(bare(&clock, "tester"));
        let e = run_fails(c.args(["--ledger", &at("wrong-one")]).args(&args));
        assert!(e.contains(&server.place()), "{e}");
        assert!(e.contains("password"), "says why: {e}");
        assert!(!e.contains("wrong-one") && !e.contains("right-one"), "{e}");
    }
    let mut c = Command::from_std(bare(&clock, "tester"));
    let head = run_ok(c.args(["--ledger", &at("right-one"), "head"]));
    assert!(head.starts_with("1:"), "{head}");
}
