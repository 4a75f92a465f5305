//! Concurrent use: sled lets one process open a ledger at a time, so every
//! command takes the ledger's lock and waits for it (saying so once on
//! stderr) for up to `--wait SECONDS`. These tests start many writer and
//! reader processes at once on one ledger and check that none fails, that
//! no raw lock error ever leaks, and that every acknowledged event is present
//! exactly once; and that a command that cannot get the ledger in time fails
//! with a clear "ledger is in use" message, writing nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value;

const WRITERS: usize = 4;
const COMMANDS_PER_WRITER: usize = 15;
const READERS: usize = 2;
const COMMANDS_PER_READER: usize = 15;
const IMPORT_FILES: usize = 3;
const LINES_PER_IMPORT: usize = 300;

const ACTORS: [&str; 4] = ["CHN", "JPN", "USA", "KOR"];
const POSITIONS: [&str; 4] = ["support", "oppose", "neutral", "mixed"];

const WAITING: &str = "waiting for the ledger";
/// The notice of a write that created the ledger.
const CREATED: &str = "created a new ledger at ";

/// The binary pointed at `ledger`, with a fixed author and no inherited
/// stancelog settings (so `--wait` has its default unless given).
fn cmd(ledger: &Path, author: &str) -> Command {
    crate::support::process(ledger, author)
}

fn run(ledger: &Path, author: &str, args: &[&str]) -> Output {
    cmd(ledger, author)
        .args(args)
        .output()
        .expect("run stancelog")
}

/// What one command of the crowd did.
struct Ran {
    who: String,
    args: Vec<String>,
    output: Output,
}

impl Ran {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("{} {:?}: not JSON ({e})", self.who, self.args))
    }
}

/// Every command must succeed, and its stderr may only say that it waited,
/// once, that it created the ledger, or that its statements are on issues
/// no definition names: no raw lock error, no storage error.
/// The warning of a statement on an undefined issue (docs/DOMAIN.md).
const UNDEFINED: &str = "warning: statements on issues no definition names";

fn assert_clean(r: &Ran) {
    let stderr = r.stderr();
    assert!(
        r.output.status.success(),
        "{} {:?} failed ({:?}): {stderr}",
        r.who,
        r.args,
        r.output.status
    );
    let waits = stderr.matches(WAITING).count();
    assert!(waits <= 1, "{} said it was waiting {waits} times", r.who);
    let other: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.contains(WAITING)
                && !l.starts_with(CREATED)
                && !l.starts_with(UNDEFINED)
                && !l.trim().is_empty()
        })
        .collect();
    assert!(
        other.is_empty(),
        "{} {:?} printed unexpected stderr: {stderr}",
        r.who,
        r.args
    );
}

fn statement_line(summary: &str, n: usize) -> String {
    serde_json::json!({
        "type": "statement",
        "actor": ACTORS[n % 4],
        "issue": format!("concurrent-issue-{}", n % 5),
        "position": POSITIONS[n % 4],
        "stated_on": "2019-12-23",
        "summary": summary,
    })
    .to_string()
}

#[test]
fn many_writers_and_readers_at_once_lose_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let base = run(
        &ledger,
        "setup",
        &[
            "record",
            "--actor",
            "CHN",
            "--issue",
            "concurrent-baseline",
            "--position",
            "neutral",
            "--stated-on",
            "2019-12-23",
            "--summary",
            "baseline",
        ],
    );
    assert!(base.status.success());
    let mut files = Vec::new();
    for f in 0..IMPORT_FILES {
        let path = dir.path().join(format!("import-{f}.jsonl"));
        let mut w = File::create(&path).expect("create import");
        for j in 0..LINES_PER_IMPORT {
            writeln!(w, "{}", statement_line(&format!("import {f} line {j}"), j)).unwrap();
        }
        files.push(path);
    }

    // Everyone starts at once.
    let crowd = WRITERS + READERS + 1;
    let barrier = Arc::new(Barrier::new(crowd));
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let (ledger, barrier) = (ledger.clone(), barrier.clone());
        threads.push(std::thread::spawn(move || writer(&ledger, w, &barrier)));
    }
    for r in 0..READERS {
        let (ledger, barrier) = (ledger.clone(), barrier.clone());
        threads.push(std::thread::spawn(move || reader(&ledger, r, &barrier)));
    }
    {
        let (ledger, barrier) = (ledger.clone(), barrier.clone());
        threads.push(std::thread::spawn(move || {
            importer(&ledger, &files, &barrier)
        }));
    }
    let mut ran = Vec::new();
    for t in threads {
        ran.extend(t.join().expect("a client thread panicked"));
    }

    let mut waited = 0;
    for r in &ran {
        assert_clean(r);
        waited += usize::from(r.stderr().contains(WAITING));
    }

    // Every acknowledged event, exactly once; nothing else.
    let mut acknowledged: HashMap<String, u64> = HashMap::new();
    let mut imported = 0u64;
    for r in &ran {
        match r
            .args
            .iter()
            .find(|a| ["record", "amend", "import"].contains(&a.as_str()))
        {
            Some(a) if a == "import" => {
                let v = r.json();
                assert_eq!(v["added"], LINES_PER_IMPORT as u64, "{v}");
                imported += LINES_PER_IMPORT as u64;
            }
            Some(_) => {
                let v = r.json();
                assert_eq!(v["added"], true, "{v}");
                let id = v["id"].as_str().unwrap().to_owned();
                let seq = v["seq"].as_u64().unwrap();
                assert!(acknowledged.insert(id, seq).is_none(), "id reused: {v}");
            }
            None => {}
        }
    }
    let verify = run(&ledger, "check", &["--json", "verify"]);
    assert!(
        verify.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let log = run(&ledger, "check", &["--json", "log"]);
    assert!(log.status.success());
    let events: Vec<Value> = String::from_utf8(log.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut by_id: HashMap<&str, Vec<u64>> = HashMap::new();
    for e in &events {
        by_id
            .entry(e["id"].as_str().unwrap())
            .or_default()
            .push(e["seq"].as_u64().unwrap());
    }
    for (id, seq) in &acknowledged {
        assert_eq!(
            by_id.get(id.as_str()),
            Some(&vec![*seq]),
            "acknowledged event {id} (seq {seq}) not present exactly once at its seq"
        );
    }
    for f in 0..IMPORT_FILES {
        for j in [0, LINES_PER_IMPORT - 1] {
            let s = format!("import {f} line {j}");
            assert_eq!(
                events.iter().filter(|e| e["summary"] == s.as_str()).count(),
                1,
                "{s}"
            );
        }
    }
    assert_eq!(
        events.len() as u64,
        1 + acknowledged.len() as u64 + imported,
        "the log holds more or fewer events than were acknowledged"
    );

    eprintln!(
        "concurrency: {} commands run at once by {WRITERS} writers, {READERS} readers and an \
         importer ({} waited and said so once); {} single events and {imported} imported \
         events acknowledged, all present exactly once; verify passed; {:.1} s",
        ran.len(),
        waited,
        acknowledged.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Records statements, amending one of its own every fifth command.
fn writer(ledger: &Path, w: usize, barrier: &Barrier) -> Vec<Ran> {
    let who = format!("writer-{w}");
    barrier.wait();
    let mut ran: Vec<Ran> = Vec::new();
    let mut last_id: Option<String> = None;
    for i in 0..COMMANDS_PER_WRITER {
        let args: Vec<String> = match (&last_id, i % 5) {
            (Some(target), 4) => vec![
                "--json".into(),
                "amend".into(),
                target.clone(),
                "--reason".into(),
                format!("{who} corrects command {}", i - 1),
                "--position".into(),
                "mixed".into(),
            ],
            _ => vec![
                "--json".into(),
                "record".into(),
                "--actor".into(),
                ACTORS[w % 4].into(),
                "--issue".into(),
                format!("concurrent-issue-{}", i % 5),
                "--position".into(),
                POSITIONS[i % 3].into(),
                "--stated-on".into(),
                "2019-12-23".into(),
                "--summary".into(),
                format!("{who} command {i}"),
            ],
        };
        let output = cmd(ledger, &who).args(&args).output().expect("run writer");
        let r = Ran {
            who: who.clone(),
            args,
            output,
        };
        assert_clean(&r);
        if r.args[1] == "record" {
            last_id = Some(r.json()["id"].as_str().unwrap().to_owned());
        }
        ran.push(r);
    }
    ran
}

/// Reads while the writers write: every read sees a committed state, so
/// `verify` passes every time.
fn reader(ledger: &Path, r: usize, barrier: &Barrier) -> Vec<Ran> {
    let who = format!("reader-{r}");
    barrier.wait();
    let mut ran = Vec::new();
    for i in 0..COMMANDS_PER_READER {
        let args: Vec<String> = match (i + r) % 3 {
            0 => vec!["--json".into(), "stances".into()],
            1 => vec!["verify".into()],
            _ => vec!["head".into()],
        };
        let output = cmd(ledger, &who).args(&args).output().expect("run reader");
        let ran_one = Ran {
            who: who.clone(),
            args,
            output,
        };
        assert_clean(&ran_one);
        ran.push(ran_one);
    }
    ran
}

/// Imports a few files: larger writes among the small ones.
fn importer(ledger: &Path, files: &[PathBuf], barrier: &Barrier) -> Vec<Ran> {
    let who = "importer".to_owned();
    barrier.wait();
    files
        .iter()
        .map(|f| {
            let args = vec![
                "--json".to_owned(),
                "import".to_owned(),
                f.display().to_string(),
            ];
            let output = cmd(ledger, &who).args(&args).output().expect("import");
            let r = Ran {
                who: who.clone(),
                args,
                output,
            };
            assert_clean(&r);
            r
        })
        .collect()
}

#[test]
fn writers_creating_a_ledger_at_once_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("new-ledger");
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let (ledger, barrier) = (ledger.clone(), barrier.clone());
            std::thread::spawn(move || {
                let who = format!("creator-{w}");
                barrier.wait();
                let args: Vec<String> = [
                    "--json",
                    "record",
                    "--actor",
                    "JPN",
                    "--issue",
                    "concurrent-creation",
                    "--position",
                    "support",
                    "--stated-on",
                    "2019-12-23",
                    "--summary",
                    &who,
                ]
                .map(String::from)
                .to_vec();
                let output = cmd(&ledger, &who).args(&args).output().expect("run");
                Ran { who, args, output }
            })
        })
        .collect();
    let mut created = 0;
    for t in threads {
        let r = t.join().unwrap();
        assert_clean(&r);
        assert_eq!(r.json()["added"], true);
        created += r.stderr().matches(CREATED).count();
    }
    assert_eq!(created, 1, "one of them created the ledger and said so");
    let out = run(&ledger, "check", &["--json", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seq"], 4);
}

#[test]
fn a_busy_ledger_fails_clearly_after_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let record = |summary: &str| -> Vec<String> {
        [
            "record",
            "--actor",
            "KOR",
            "--issue",
            "busy-ledger",
            "--position",
            "oppose",
            "--stated-on",
            "2019-12-23",
            "--summary",
            summary,
        ]
        .map(String::from)
        .to_vec()
    };
    let out = cmd(&ledger, "setup")
        .args(record("before"))
        .output()
        .unwrap();
    assert!(out.status.success());

    let mut holder = crate::support::hold(&ledger, &statement_line("held import line 1", 1));

    // Readers never wait: they answer from the read model while the ledger
    // is held, at once, with no notice.
    for args in [vec!["head"], vec!["stances", "--json"], vec!["log"]] {
        let t = Instant::now();
        let out = cmd(&ledger, "reader")
            .args(["--wait", "1"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert!(t.elapsed() < Duration::from_secs(1), "{args:?} waited");
        assert!(!out.stdout.is_empty());
    }

    // Writers give up after --wait N, saying so clearly, with the exit
    // code of a busy ledger (75, EX_TEMPFAIL: try again later).
    for (args, wait) in [
        (record("while busy"), "1"),
        (vec!["verify".to_owned()], "0"),
    ] {
        let t = Instant::now();
        let out = cmd(&ledger, "impatient")
            .args(["--wait", wait])
            .args(&args)
            .output()
            .unwrap();
        let took = t.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(75), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        let error: Vec<&str> = stderr.lines().filter(|l| !l.contains(WAITING)).collect();
        assert_eq!(error.len(), 1, "{args:?}: {stderr}");
        assert!(
            error[0].starts_with("error: ") && error[0].contains("ledger is in use"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("could not acquire lock"), "{stderr}");
        let wait_s: u64 = wait.parse().unwrap();
        assert!(
            took >= Duration::from_secs(wait_s),
            "gave up after {took:?}"
        );
        assert!(took < Duration::from_secs(wait_s + 10), "waited {took:?}");
        // It said it was waiting (once) only when it waited long enough.
        let expected_notices = usize::from(wait_s >= 1);
        assert_eq!(
            stderr.matches(WAITING).count(),
            expected_notices,
            "{stderr}"
        );
    }

    // A patient command waits, says so once, and succeeds when the holder
    // finishes.
    let patient = cmd(&ledger, "patient")
        .args(["--wait", "60", "--json"])
        .args(record("after waiting"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let stdin = holder.stdin.as_mut().unwrap();
    writeln!(stdin, "{}", statement_line("held import line 2", 2)).unwrap();
    drop(holder.stdin.take());
    let held = holder.wait_with_output().unwrap();
    assert!(
        held.status.success(),
        "{}",
        String::from_utf8_lossy(&held.stderr)
    );
    let patient = patient.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&patient.stderr);
    assert!(patient.status.success(), "{stderr}");
    assert_eq!(stderr.matches(WAITING).count(), 1, "{stderr}");

    // The writer that gave up wrote nothing; the others are all there.
    let out = run(&ledger, "check", &["--json", "log"]);
    let log = String::from_utf8(out.stdout).unwrap();
    let summaries: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["summary"].to_string())
        .collect();
    assert_eq!(
        summaries,
        [
            "\"before\"",
            "\"held import line 1\"",
            "\"held import line 2\"",
            "\"after waiting\""
        ]
    );
    assert!(run(&ledger, "check", &["verify"]).status.success());
}
