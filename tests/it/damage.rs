//! Damaged storage never panics and never passes silently: truncated,
//! missing and garbled files, a snapshot sled cannot read, damage found by
//! verify, and a full disk, through the real binary.

use std::path::{Path, PathBuf};

use crate::support::TestLedger;

/// A ledger big enough that truncating `db` cuts into its data.
fn big() -> TestLedger {
    let l = TestLedger::new();
    let file = l.scratch("many.jsonl");
    crate::support::write_usa_statements(&file, 3000, 50, |i| format!("s{i}"));
    l.ok(&["import", file.to_str().unwrap()]);
    l
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn truncate(p: &Path, percent: u64) {
    let db = p.join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len * percent / 100)
        .unwrap();
}

#[test]
fn damaged_files_never_make_a_command_panic() {
    let l = big();
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage)> = vec![
        ("db truncated to 0%", Box::new(|p| truncate(p, 0))),
        ("db truncated to 6%", Box::new(|p| truncate(p, 6))),
        ("db truncated to 25%", Box::new(|p| truncate(p, 25))),
        ("db truncated to 50%", Box::new(|p| truncate(p, 50))),
        ("db truncated to 75%", Box::new(|p| truncate(p, 75))),
        (
            "db missing",
            Box::new(|p| std::fs::remove_file(p.join("db")).unwrap()),
        ),
        (
            "conf garbled",
            Box::new(|p| std::fs::write(p.join("conf"), [0xA5u8; 62]).unwrap()),
        ),
        (
            "conf missing",
            Box::new(|p| std::fs::remove_file(p.join("conf")).unwrap()),
        ),
        (
            "blobs missing",
            Box::new(|p| {
                let _ = std::fs::remove_dir_all(p.join("blobs"));
            }),
        ),
    ];
    let mut checked = 0;
    for (name, damage) in &cases {
        for keep_model in [true, false] {
            let dir = l.scratch(&format!("case-{checked}"));
            copy_dir(&l.path(), &dir);
            damage(&dir);
            if !keep_model {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.join(format!("read-model.sqlite3{suffix}")));
                }
            }
            for args in [
                &["head"][..],
                &["stances", "--json"],
                &["verify"],
                &["export"],
                &crate::support::A_RECORD,
            ] {
                let out = crate::support::process(&dir, "t")
                    .args(args)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                let errors: Vec<&str> = stderr
                    .lines()
                    .filter(|l| !l.starts_with("notice: ") && !l.starts_with("waiting for"))
                    .collect();
                let code = out.status.code();
                // verify exits 3 for the damage it finds; other errors 1.
                let fault = if args[0] == "verify" { Some(3) } else { None };
                assert!(
                    matches!(code, Some(0) | Some(1)) || code == fault,
                    "{name}, model kept {keep_model}, {args:?}: exit {code:?}: {stderr}"
                );
                assert!(!stderr.contains("panicked"), "{name}: {args:?}: {stderr}");
                if code != Some(0) {
                    assert_eq!(
                        errors.len(),
                        1,
                        "{name}, model kept {keep_model}, {args:?}: {stderr}"
                    );
                    assert!(errors[0].starts_with("error: "), "{stderr}");
                    assert!(!errors[0].contains("backtrace"), "{stderr}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

#[test]
fn a_snapshot_sled_cannot_read_is_moved_aside_with_a_notice() {
    let l = big();
    let head = l.head();
    // Opening the log after the import writes sled's page-table snapshot.
    l.ok(&["verify"]);
    let snap: PathBuf = std::fs::read_dir(l.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .max()
        .expect("a snapshot");
    let len = std::fs::metadata(&snap).unwrap().len() as usize;
    std::fs::write(&snap, vec![0x5Au8; len]).unwrap();
    let out = l.cmd().arg("verify").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stderr.is_empty() {
        // This sled build opened past the damaged snapshot by itself.
        return;
    }
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("notice: moved aside a snapshot of "),
        "{stderr}"
    );
    assert!(!snap.exists());
    assert_eq!(l.head(), head);
}

#[test]
fn writes_are_refused_once_verify_found_damage_until_it_is_repaired() {
    let l = TestLedger::new();
    l.import_article();
    let conn = rusqlite::Connection::open(l.path().join(stancelog::READ_MODEL_FILE)).unwrap();
    conn.execute(
        "UPDATE event_rows SET summary = 'rewritten' WHERE seq = 4",
        [],
    )
    .unwrap();
    drop(conn);
    let record = crate::support::A_RECORD;
    // Before anyone looked, a write goes through (nothing has been found yet).
    l.ok(&record);
    assert!(l.faults(&["verify"]).contains("at seq 4:"));
    let err = l.fails(&[&record[..8], &["2019-12-02", "--summary", "t"]].concat());
    assert!(
        err.contains("verify found damage here") && err.contains("writes are refused"),
        "{err}"
    );
    l.ok(&["rebuild"]);
    l.ok(&["verify"]);
    l.ok(&[&record[..8], &["2019-12-02", "--summary", "t"]].concat());
}

#[test]
fn a_write_on_a_full_disk_says_so_in_one_sentence_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(small) = crate::support::SmallDisk::mount(dir.path()) else {
        return;
    };
    let mnt = small.path().to_owned();
    let ledger = mnt.join("ledger");
    let run = |args: &[&str]| {
        crate::support::process(&ledger, "a")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        run(&["import", crate::support::article().to_str().unwrap()])
            .status
            .success()
    );
    let head = String::from_utf8(run(&["head"]).stdout).unwrap();
    let filler = mnt.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 1 << 16];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&[0]).is_ok() {}
    }
    let file = dir.path().join("many.jsonl");
    crate::support::write_usa_statements(&file, 2000, 2000, |_| "long summary ".repeat(50));
    let out = run(&["import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: the disk holding {} is full; nothing was written",
            ledger.display()
        )
    );
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(String::from_utf8(run(&["head"]).stdout).unwrap(), head);
    assert!(run(&["verify"]).status.success());
}
