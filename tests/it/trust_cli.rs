//! What the CLI does with the paths it is given, the text it prints and the
//! messages it gives: a path that is not a ledger is refused before any work,
//! a new ledger is announced, printed text cannot drive the terminal, closed
//! pipes and unseekable inputs behave, and errors do not mislead.

use std::io::Read as _;
use std::path::Path;
use std::process::Stdio;

use crate::support::{article, bare, run_fails, run_ok, statement_line, TestLedger};

const RECORD: [&str; 11] = [
    "record",
    "--actor",
    "CHN",
    "--issue",
    "senkaku-islands",
    "--position",
    "oppose",
    "--stated-on",
    "2019-12-23",
    "--summary",
    "Restated its claim.",
];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The binary against `ledger` (any path) in the cleared test environment.
fn at_path(l: &TestLedger, ledger: &Path) -> assert_cmd::Command {
    let mut c = l.bare();
    c.arg("--ledger").arg(ledger);
    c
}

/// Runs a command that must fail with a usage error (exit 2); returns stderr.
fn usage_error(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2: {stderr}");
    stderr
}

#[test]
fn a_directory_of_other_files_is_refused_and_left_alone() {
    for l in TestLedger::each() {
        let dir = l.scratch("documents");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("db"), "my own database").unwrap();
        std::fs::write(dir.join("notes.txt"), "notes").unwrap();
        let want = format!(
            "error: {} is not a stancelog ledger (it holds other files); pass an empty or new directory",
            s(&dir)
        );
        let article = article();
        for args in [
            &RECORD[..],
            &["import", s(&article)],
            &["head"],
            &["verify"],
        ] {
            let err = run_fails(at_path(&l, &dir).args(args));
            assert_eq!(err, want, "{args:?}");
        }
        assert_eq!(
            std::fs::read_to_string(dir.join("db")).unwrap(),
            "my own database"
        );
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["db", "notes.txt"]);

        // An empty directory is as good as a missing one.
        let empty = l.scratch("empty");
        std::fs::create_dir(&empty).unwrap();
        run_ok(at_path(&l, &empty).args(["import", s(&article)]));
        let head = run_ok(at_path(&l, &empty).arg("head"));
        assert!(head.starts_with("25:"), "{head}");
    }
}

#[test]
fn a_path_that_is_not_a_directory_is_named_for_what_it_is() {
    for l in TestLedger::each() {
        let file = l.scratch("ledger.txt");
        std::fs::write(&file, "not a ledger").unwrap();
        let dangling = l.scratch("link");
        std::os::unix::fs::symlink(l.scratch("nowhere"), &dangling).unwrap();
        let cases = [
            (file.clone(), "is a file, not a ledger directory"),
            ("/dev/null".into(), "is a device, not a ledger directory"),
            (
                dangling.clone(),
                "is a dangling symbolic link (its target does not exist), not a ledger directory",
            ),
        ];
        let article = article();
        for (path, what) in cases {
            for args in [&RECORD[..], &["import", s(&article)], &["restore", "-"]] {
                let err = run_fails(at_path(&l, &path).args(args).write_stdin(""));
                assert!(
                    err.starts_with(&format!("error: {} {what}; pass a directory", s(&path))),
                    "{args:?}: {err}"
                );
            }
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a ledger");
        assert!(!l.scratch("nowhere").exists());
        let stray: Vec<_> = std::fs::read_dir(l.root())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".stancelog-new-")
            })
            .collect();
        assert!(stray.is_empty(), "staging left behind: {stray:?}");
    }
}

#[test]
fn ledger_from_the_environment_expands_home_and_empty_means_unset() {
    for l in TestLedger::each() {
        let home = l.root().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut c = l.bare();
        c.current_dir(l.root())
            .env("STANCELOG_LEDGER", "~/my-ledger")
            .args(RECORD);
        run_ok(&mut c);
        assert!(home.join("my-ledger").join("read-model.sqlite3").is_file());
        assert!(!l.root().join("~").exists());

        // Without HOME, a leading ~ is refused rather than taken literally.
        let mut c = l.bare();
        c.current_dir(l.root())
            .env_remove("HOME")
            .env("STANCELOG_LEDGER", "~/my-ledger")
            .args(RECORD);
        let err = run_fails(&mut c);
        assert_eq!(
            err,
            "error: cannot expand ~ in the ledger path ~/my-ledger: HOME is not set; set HOME or give the full path"
        );

        // Empty is unset: the default ledger (under HOME), not a clap error.
        let mut c = l.bare();
        c.env("STANCELOG_LEDGER", "").arg("head");
        let err = run_fails(&mut c);
        assert!(
            err.starts_with(&format!(
                "error: no ledger at {}",
                s(&home.join(".local/share/stancelog/ledger"))
            )),
            "{err}"
        );
    }
}

#[test]
fn a_write_that_creates_a_ledger_says_so() {
    let l = TestLedger::new();
    let created = format!("created a new ledger at {}\n", s(&l.path()));
    let out = l.cmd().args(RECORD).output().unwrap();
    assert!(out.status.success());
    // Then only the warning that the issue is not defined (docs/DOMAIN.md).
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (first, rest) = stderr.split_at(created.len().min(stderr.len()));
    assert_eq!(first, created);
    assert!(
        rest.is_empty() || rest.starts_with("warning: statements on issues no definition names"),
        "{rest}"
    );
    let out = l.cmd().args(RECORD).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // Import and restore too, once: a typo in --ledger does not go unseen.
    let export = l.scratch("export.jsonl");
    std::fs::write(&export, l.ok(&["export"])).unwrap();
    for (name, cmd) in [("imported", "import"), ("restored", "restore")] {
        let typo = l.scratch(&format!("ledgr-{name}"));
        let out = at_path(&l, &typo).args([cmd, s(&export)]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("created a new ledger at {}\n", s(&typo))),
            "{stderr}"
        );
    }
    // A failed first write creates nothing, and says nothing about it.
    let none = l.scratch("never");
    let err = run_fails(at_path(&l, &none).args(["import", "-"]).write_stdin("{"));
    assert!(!err.contains("created"), "{err}");
    assert!(!none.exists());
}

#[test]
fn stale_staging_directories_are_removed_by_the_next_first_write() {
    let l = TestLedger::new();
    // What an interrupted first import leaves: a half-built ledger whose
    // lock nobody holds.
    let stale = l.root().join(".stancelog-new-AbC123");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("stancelog.lock"), "").unwrap();
    std::fs::write(stale.join("db"), "half a ledger").unwrap();
    // One still being built by a live process: its lock is held.
    let live = l.root().join(".stancelog-new-LiVe99");
    std::fs::create_dir(&live).unwrap();
    let held = std::fs::File::create(live.join("stancelog.lock")).unwrap();
    held.lock().unwrap();
    // Not a staging directory at all.
    let other = l.root().join(".stancelog-notes");
    std::fs::create_dir(&other).unwrap();

    l.import_article();
    assert!(
        !stale.exists(),
        "the stale staging directory is still there"
    );
    assert!(live.join("stancelog.lock").exists());
    assert!(other.exists());
    drop(held);

    // Any bulk write into the parent cleans up, into an existing ledger too.
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("stancelog.lock"), "").unwrap();
    run_ok(l.cmd().args(["import", "-"]).write_stdin(""));
    assert!(!stale.exists(), "left by an import into an existing ledger");
    assert!(!live.exists(), "its lock is free now");
}

/// A summary with a right-to-left override, and a quote, speaker and title
/// with zero-width and invisible characters.
const SNEAKY_SUMMARY: &str = "Backs \u{202E}noitcnas\u{202C} relief.";

#[test]
fn bidi_and_invisible_characters_are_escaped_in_human_output() {
    for l in TestLedger::each() {
        let line = serde_json::json!({
            "type": "statement", "actor": "RUS", "issue": "syria", "position": "support",
            "stated_on": "2019-12-01", "summary": SNEAKY_SUMMARY,
            "quote": "zero\u{200B}width\u{FEFF}", "speaker": "a\u{2066}b\u{2069}",
            "source_title": "line\u{2028}break\u{2029}",
        })
        .to_string();
        l.cmd()
            .args(["import", "-"])
            .write_stdin(line + "\n")
            .assert()
            .success();
        let mut shown = String::new();
        for args in [
            &["history", "RUS", "syria"][..],
            &["stance", "RUS", "syria", "--as-of", "2019-12-02"],
            &["log"],
        ] {
            shown += &l.ok(args);
        }
        for c in [
            '\u{202E}', '\u{202C}', '\u{200B}', '\u{FEFF}', '\u{2066}', '\u{2028}',
        ] {
            assert!(
                !shown.contains(c),
                "{c:?} reached the terminal raw:\n{shown}"
            );
        }
        assert!(
            shown.contains("Backs \\u{202e}noitcnas\\u{202c} relief."),
            "{shown}"
        );
        assert!(shown.contains("zero\\u{200b}width\\u{feff}"), "{shown}");
        assert!(shown.contains("line\\u{2028}break\\u{2029}"), "{shown}");
        // JSON keeps the text as it is.
        let v = l.json(&["stance", "RUS", "syria", "--as-of", "2019-12-02"]);
        assert_eq!(v["summary"], SNEAKY_SUMMARY);
    }
}

#[test]
fn bidi_and_invisible_characters_are_refused_where_they_do_not_belong() {
    for l in TestLedger::each() {
        l.ok(&RECORD);
        // Actors and issues are ASCII only.
        for (flag, value) in [
            ("--actor", "CHN\u{202E}"),
            ("--issue", "senkaku\u{200B}-islands"),
        ] {
            let mut args = RECORD.to_vec();
            let i = args.iter().position(|a| *a == flag).unwrap();
            args[i + 1] = value;
            let err = usage_error(l.cmd().args(&args));
            assert!(err.contains("invalid"), "{err}");
            assert!(!err.contains(value), "raw value in the message: {err}");
        }
        let mut args = RECORD.to_vec();
        args.extend(["--source-url", "https://example.org/\u{200B}x"]);
        let err = l.fails(&args);
        assert!(err.starts_with("error: invalid source_url"), "{err}");
        assert!(err.contains("\\u{200b}"), "{err}");

        let mut c = l.cmd();
        c.args(RECORD).args(["--by", "eve\u{202E}lam"]);
        assert_eq!(
            run_fails(&mut c),
            "error: recorded_by must not contain bidirectional controls or invisible characters"
        );
        let mut c = l.cmd();
        c.env("STANCELOG_AUTHOR", "\u{2066}mallory\u{2069}")
            .args(RECORD);
        assert_eq!(
            run_fails(&mut c),
            "error: recorded_by must not contain bidirectional controls or invisible characters"
        );

        // A summary or reason of nothing but invisible characters is blank.
        let line = statement_line(
            "RUS",
            "syria",
            "support",
            "2019-12-01",
            "\u{200B} \u{FEFF}\u{2060}",
        );
        let err = run_fails(l.cmd().args(["import", "-"]).write_stdin(line + "\n"));
        assert_eq!(err, "error: <stdin>:1: summary must not be empty");
        let id = l.json(&[
            "record",
            "--actor",
            "JPN",
            "--issue",
            "syria",
            "--position",
            "mixed",
            "--stated-on",
            "2019-12-01",
            "--summary",
            "Asks for talks.",
        ])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let line =
            serde_json::json!({"type": "retraction", "target": id, "reason": "\u{200E}\u{200F}"})
                .to_string();
        let err = run_fails(l.cmd().args(["import", "-"]).write_stdin(line + "\n"));
        assert_eq!(err, "error: <stdin>:1: reason must not be empty");
    }
}

#[test]
fn file_names_and_paths_are_escaped_in_notices() {
    for l in TestLedger::each() {
        let sneaky = l.scratch("evil\u{1b}[2J\u{202E}.jsonl");
        std::fs::copy(article(), &sneaky).unwrap();
        let out = l.cmd().args(["import", s(&sneaky)]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\u{202E}'),
            "{stderr:?}"
        );
        assert!(
            stderr.contains("evil\\u{1b}[2J\\u{202e}.jsonl: 25 added"),
            "{stderr:?}"
        );

        // The notice of a wait for a ledger in use, at a path with an escape.
        let dir = l.scratch("led\u{1b}[31mger");
        run_ok(at_path(&l, &dir).args(RECORD));
        let lock = std::fs::File::open(dir.join("stancelog.lock")).unwrap();
        lock.lock().unwrap();
        let out = at_path(&l, &dir)
            .args(["--wait", "1"])
            .args(RECORD)
            .output()
            .unwrap();
        drop(lock);
        assert_eq!(out.status.code(), Some(75), "a busy ledger exits 75");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
        assert!(
            stderr.starts_with("waiting for the ledger at ")
                && stderr.contains("led\\u{1b}[31mger (another stancelog process is using it)"),
            "{stderr:?}"
        );
    }
}

/// A ledger whose `export`, `stances --json` and `changes --json` are each
/// well over a pipe's buffer (64 KiB on Linux).
fn big_ledger() -> TestLedger {
    let l = TestLedger::new();
    let mut input = String::new();
    for i in 0..1500 {
        let summary = format!("Statement number {i}, long enough to fill the pipe quickly.");
        input += &statement_line(
            "CHN",
            &format!("issue-{i}"),
            "support",
            "2019-12-01",
            &summary,
        );
        input.push('\n');
    }
    l.cmd()
        .args(["import", "-"])
        .write_stdin(input)
        .assert()
        .success();
    l
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let l = big_ledger();
    for args in [
        &["export"][..],
        &["--json", "stances", "--as-of", "2019-12-02"],
        &[
            "--json",
            "changes",
            "--from",
            "2019-11-01",
            "--to",
            "2019-12-02",
        ],
        &["--json", "log"],
        &["log"],
    ] {
        let mut child = crate::support::process(&l.path(), "tester")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(stderr, "", "{args:?}");
        assert!(status.success(), "{args:?}: {status:?}");
    }
}

#[test]
fn import_and_restore_read_a_named_pipe() {
    for l in TestLedger::each() {
        let export = l.scratch("export.jsonl");
        let fifo = l.scratch("events.fifo");
        for (cmd, seq) in [("import", "25"), ("restore", "25")] {
            let ledger = l.scratch(&format!("from-fifo-{cmd}"));
            let status = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap();
            assert!(status.success());
            let source = if cmd == "import" {
                article()
            } else {
                std::fs::write(
                    &export,
                    run_ok(at_path(&l, &l.scratch("from-fifo-import")).arg("export")),
                )
                .unwrap();
                export.clone()
            };
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || {
                    let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                    std::io::copy(&mut std::fs::File::open(source).unwrap(), &mut w).unwrap();
                })
            };
            run_ok(at_path(&l, &ledger).args([cmd, s(&fifo)]));
            writer.join().unwrap();
            std::fs::remove_file(&fifo).unwrap();
            let head = run_ok(at_path(&l, &ledger).arg("head"));
            assert!(head.starts_with(&format!("{seq}:")), "{cmd}: {head}");
        }
    }
}

#[test]
fn a_digest_the_log_does_not_extend_is_not_called_corruption() {
    for l in TestLedger::each() {
        l.import_article();
        let head = l.head();
        let (seq, hash) = head.split_once(':').unwrap();
        assert_eq!(seq, "25");
        let history: Vec<String> = l
            .ok(&["--json", "log"])
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                v["hash"].as_str().unwrap().to_owned()
            })
            .collect();
        // One hex digit mistyped.
        let at15 = &history[14];
        let flipped = if at15.starts_with('0') { "1" } else { "0" };
        let typo = format!("15:{flipped}{}", &at15[1..]);
        let at_15 = l.faults(&["verify", "--digest", &typo]);
        assert_eq!(
            at_15,
            format!(
                "error: verify failed: the log does not extend digest {typo} (the log has 15:{}): either the digest is wrong (check it against the digest as published) or history was rewritten at or before seq 15",
                history[14]
            )
        );
        let past = format!("27:{hash}");
        let past_end = l.faults(&["verify", "--digest", &past]);
        assert_eq!(
            past_end,
            format!(
                "error: verify failed: the log does not extend digest {past}: the log ends at seq 25; either the digest is wrong (check it against the digest as published) or history was rewritten at or before seq 27"
            )
        );
        let zero = format!("0:{hash}");
        let err = l.faults(&["verify", "--digest", &zero]);
        assert!(
            err.contains("seq 0 only ever has the all-zero hash, so the digest is wrong"),
            "{err}"
        );
        // Pasted with the newline `head` prints, or with spaces.
        let out = l.ok(&["verify", "--digest", &format!("  {head}\n")]);
        assert!(
            out.contains(&format!("the log extends digest {head}")),
            "{out}"
        );
    }
}

#[test]
fn blank_text_flags_are_usage_errors() {
    for l in TestLedger::each() {
        let id = l.json(&RECORD)["id"].as_str().unwrap().to_owned();
        let before = l.head();
        for blank in ["", "   ", "\u{200B}\u{2060}"] {
            let mut record = RECORD.to_vec();
            *record.last_mut().unwrap() = blank;
            let cases: [Vec<&str>; 4] = [
                record,
                vec!["amend", &id, "--reason", blank, "--position", "support"],
                vec!["amend", &id, "--reason", "typo", "--summary", blank],
                vec!["retract", &id, "--reason", blank],
            ];
            for args in cases {
                let err = usage_error(l.cmd().args(&args));
                assert!(
                    err.contains("must not be empty or blank"),
                    "{args:?}: {err}"
                );
            }
            let err = usage_error(l.cmd().args(RECORD).args(["--by", blank]));
            assert!(err.contains("--by <NAME>"), "{err}");
        }
        assert_eq!(l.head(), before, "something was written");
        // An empty STANCELOG_AUTHOR still means unset.
        let mut c = l.cmd();
        c.env("STANCELOG_AUTHOR", "").args(RECORD);
        run_ok(&mut c);
    }
}

#[test]
fn no_author_is_refused_rather_than_made_up() {
    for l in TestLedger::each() {
        // A user id with no name: only where user namespaces are allowed.
        let probe = std::process::Command::new("unshare")
            .args(["--map-user=54321", "true"])
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            eprintln!("skipped: cannot run as a user id without a name here");
            return;
        }
        let exe = env!("CARGO_BIN_EXE_stancelog");
        let base = bare(&l.path(), "unused");
        let envs: Vec<_> = base
            .get_envs()
            .filter(|(k, _)| *k != "STANCELOG_AUTHOR")
            .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
            .collect();
        let mut c = assert_cmd::Command::new("unshare");
        c.env_clear()
            .envs(envs)
            .arg("--map-user=54321")
            .arg(exe)
            .arg("--ledger")
            .arg(l.path())
            .args(RECORD);
        assert_eq!(
            run_fails(&mut c),
            "error: cannot tell who records this: the OS user is unknown; pass --by NAME or set STANCELOG_AUTHOR"
        );
        assert!(!l.path().exists());
    }
}

#[test]
fn import_reads_a_process_substitution() {
    for l in TestLedger::each() {
        if std::process::Command::new("bash")
            .args(["-c", "true"])
            .status()
            .is_err()
        {
            eprintln!("skipped: no bash here");
            return;
        }
        let exe = env!("CARGO_BIN_EXE_stancelog");
        let mut c = std::process::Command::new("bash");
        let base = bare(&l.path(), "tester");
        c.env_clear()
            .envs(
                base.get_envs()
                    .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
            )
            .env("EXE", exe)
            .env("LEDGER", l.ledger_arg())
            .env("ARTICLE", article())
            .args([
                "-c",
                r#""$EXE" --ledger "$LEDGER" import <(cat "$ARTICLE")"#,
            ]);
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains(": 25 added"), "{stderr}");
        assert!(l.head().starts_with("25:"));
    }
}
