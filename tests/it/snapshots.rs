//! The human output of every command, and the error line of each main error
//! path, pinned whole as snapshots (`tests/it/snapshots/`). The commands run
//! through the real binary in the cleared environment of `support`, with the
//! clock at `BASE_TIME` plus one second per command, so every timestamp, id
//! and hash is stable; temporary paths are shown as `[LEDGER]`, `[TMP]` and
//! `[FIXTURES]`. To accept a deliberate change of output, run the tests with
//! `INSTA_UPDATE=always` and review the diff of the `.snap` files.

use std::path::Path;

use insta::assert_snapshot;

use crate::support::{article, fixture, statement_line, TestLedger};

/// Runs `stancelog ARGS` (stdin from `stdin`) against `l` and returns the
/// whole transcript: command line, exit code, stdout and stderr, with the
/// temporary paths replaced by placeholders.
fn run(l: &TestLedger, args: &[&str], stdin: Option<&str>) -> String {
    run_with(l, &[], args, stdin)
}

/// [`run`] with environment variables (`COLUMNS` to pin the width).
fn run_with(l: &TestLedger, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = l.cmd();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().expect("run stancelog");
    let code = out
        .status
        .code()
        .map_or_else(|| "signal".to_owned(), |c| c.to_string());
    let text = format!(
        "$ stancelog {}\nexit: {code}\n--- stdout\n{}--- stderr\n{}",
        args.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    redact(l, &text)
}

/// An argument as a shell would need it typed.
fn quoted(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
        return arg.to_owned();
    }
    format!(
        "\"{}\"",
        arg.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$")
    )
}

fn redact(l: &TestLedger, text: &str) -> String {
    let fixtures = fixture("");
    let fixtures = fixtures.to_str().unwrap().trim_end_matches('/');
    text.replace(l.ledger_arg().to_str().unwrap(), "[LEDGER]")
        .replace(l.root().to_str().unwrap(), "[TMP]")
        .replace(fixtures, "[FIXTURES]")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The ids the article fixture gives (derived from content, so fixed).
const JPN_EAST_CHINA_SEA: &str = "1fdd54d6-0e30-5dcb-bc39-11b2f34ddf3e";
const USA_HONG_KONG: &str = "a41d2ded-723a-5a18-9841-d1829b6eda4e";

const RECORD_USA: [&str; 15] = [
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
    "Signed the Hong Kong Human Rights and Democracy Act into law.",
    "--speaker",
    "Donald Trump",
    "--source-url",
    "https://www.congress.gov/bill/116th-congress/senate-bill/1838",
];

/// The article imported, then one statement recorded, one amended.
fn tour_ledger(l: TestLedger) -> TestLedger {
    l.import_article();
    l.ok(&RECORD_USA);
    l.ok(&[
        "amend",
        JPN_EAST_CHINA_SEA,
        "--reason",
        "article says 'urged self-restraint by Beijing'",
        "--quote",
        "self-restraint",
    ]);
    l
}

#[test]
fn writes() {
    let l = TestLedger::new();
    let article = article();
    let import = ["import", path(&article)];
    assert_snapshot!("import", run(&l, &import, None));
    assert_snapshot!("import_again", run(&l, &import, None));
    assert_snapshot!(
        "import_stdin",
        run(
            &l,
            &["import", "-"],
            Some(
                &(statement_line("RUS", "syria", "support", "2019-12-01", "Backs Damascus.")
                    + "\n")
            ),
        )
    );
    assert_snapshot!("import_json", run(&l, &["--json", "import", "-"], Some("")));
    assert_snapshot!("record", run(&l, &RECORD_USA, None));
    assert_snapshot!("record_again", run(&l, &RECORD_USA, None));
    assert_snapshot!(
        "amend",
        run(
            &l,
            &[
                "amend",
                JPN_EAST_CHINA_SEA,
                "--reason",
                "article says 'urged self-restraint by Beijing'",
                "--quote",
                "self-restraint",
            ],
            None
        )
    );
    assert_snapshot!(
        "retract",
        run(
            &l,
            &["retract", USA_HONG_KONG, "--reason", "wrong source"],
            None
        )
    );
    assert_snapshot!("record_json", {
        let mut args = RECORD_USA.to_vec();
        args[10] = "Signed the act.";
        args.insert(0, "--json");
        run(&l, &args, None)
    });
}

#[test]
fn reads() {
    for l in TestLedger::each().into_iter().map(tour_ledger) {
        let stance = ["stance", "JPN", "north-korea-sanctions-relief"];
        assert_snapshot!(
            "stance",
            run(
                &l,
                &[&stance[..], &["--as-of", "2019-12-23"]].concat(),
                None
            )
        );
        assert_snapshot!(
            "stance_none_in_force",
            run(
                &l,
                &[&stance[..], &["--as-of", "2019-12-22"]].concat(),
                None
            )
        );
        assert_snapshot!(
            "stance_none_in_force_json",
            run(
                &l,
                &[&["--json"][..], &stance, &["--as-of", "2019-12-22"]].concat(),
                None
            )
        );
        assert_snapshot!(
            "stance_known_at",
            run(
                &l,
                &[
                    "stance",
                    "JPN",
                    "east-china-sea-restraint",
                    "--as-of",
                    "2019-12-23",
                    "--known-at",
                    "2026-01-01T00:00:00Z"
                ],
                None
            )
        );
        assert_snapshot!(
            "stances",
            run(&l, &["stances", "--as-of", "2019-12-23"], None)
        );
        assert_snapshot!(
            "stances_filtered",
            run(
                &l,
                &[
                    "stances",
                    "--as-of",
                    "2019-12-23",
                    "--actor",
                    "USA",
                    "--issue",
                    "hong-kong-protests"
                ],
                None
            )
        );
        assert_snapshot!(
            "stances_empty",
            run(&l, &["stances", "--as-of", "2019-01-01"], None)
        );
        assert_snapshot!(
            "history",
            run(&l, &["history", "JPN", "east-china-sea-restraint"], None)
        );
        assert_snapshot!(
            "history_empty",
            run(&l, &["history", "JPN", "no-such-issue"], None)
        );
        assert_snapshot!(
            "changes",
            run(
                &l,
                &["changes", "--from", "2019-11-01", "--to", "2019-12-31"],
                None
            )
        );
        assert_snapshot!(
            "changes_none",
            run(
                &l,
                &["changes", "--from", "2019-12-24", "--to", "2019-12-31"],
                None
            )
        );
        assert_snapshot!("log", run(&l, &["log"], None));
        assert_snapshot!(
            "log_page",
            run(&l, &["log", "--after-seq", "20", "--limit", "2"], None)
        );
    }
}

#[test]
fn audit_and_maintenance() {
    for l in TestLedger::each().into_iter().map(tour_ledger) {
        let head = l.head();
        assert_snapshot!("head", run(&l, &["head"], None));
        assert_snapshot!("verify", run(&l, &["verify"], None));
        l.ok(&["retract", USA_HONG_KONG, "--reason", "wrong source"]);
        assert_snapshot!(
            "verify_digest",
            run(&l, &["verify", "--digest", &head], None)
        );
        assert_snapshot!("export", run(&l, &["export"], None));
        assert_snapshot!("rebuild", run(&l, &["rebuild"], None));
        let backup = l.scratch("backup.jsonl");
        std::fs::write(&backup, l.ok(&["export"])).unwrap();
        let fresh = TestLedger::new();
        let restored = run(&fresh, &["restore", path(&backup)], None);
        assert_snapshot!(
            "restore",
            restored.replace(l.root().to_str().unwrap(), "[TMP]")
        );
    }
}

#[test]
fn error_lines() {
    for l in TestLedger::each().into_iter().map(tour_ledger) {
        let bad = l.scratch("bad.jsonl");
        std::fs::write(
            &bad,
            [
                statement_line("JPN", "a", "support", "2019-12-23", "One."),
                statement_line("JPN", "b", "support", "2019-12-23", "Two."),
                statement_line("JPN", "c", "maybe", "2019-12-23", "Three."),
            ]
            .join("\n"),
        )
        .unwrap();
        assert_snapshot!(
            "error_import_unknown_position",
            run(&l, &["import", path(&bad)], None)
        );
        let typo = l.scratch("typo.jsonl");
        std::fs::write(
            &typo,
            r#"{"type":"statement","actor":"JPN","issue":"a","postion":"support","stated_on":"2019-12-23","summary":"x"}"#,
        )
        .unwrap();
        assert_snapshot!(
            "error_import_unknown_field",
            run(&l, &["import", path(&typo)], None)
        );
        let actor = l.scratch("actor.jsonl");
        std::fs::write(
            &actor,
            format!(r#"{{"type":"amendment","target":"{JPN_EAST_CHINA_SEA}","reason":"wrong actor","actor":"CHN"}}"#),
        )
        .unwrap();
        assert_snapshot!(
            "error_import_amends_actor",
            run(&l, &["import", path(&actor)], None)
        );
        assert_snapshot!(
            "error_import_missing_file",
            run(&l, &["import", path(&l.scratch("missing.jsonl"))], None)
        );
        let mut bad_actor = RECORD_USA.to_vec();
        bad_actor[2] = "usa";
        assert_snapshot!("error_record_bad_actor", run(&l, &bad_actor, None));
        let mut future = RECORD_USA.to_vec();
        future[8] = "9999-12-31";
        assert_snapshot!("error_record_future", run(&l, &future, None));
        let unknown = "6f1c1b9e-7a39-4c53-9d0f-7d2b3f0b8c11";
        assert_snapshot!(
            "error_amend_unknown",
            run(
                &l,
                &["amend", unknown, "--reason", "r", "--position", "oppose"],
                None
            )
        );
        assert_snapshot!(
            "error_amend_changes_nothing",
            run(&l, &["amend", JPN_EAST_CHINA_SEA, "--reason", "r"], None)
        );
        l.ok(&["retract", USA_HONG_KONG, "--reason", "wrong source"]);
        assert_snapshot!(
            "error_retract_twice",
            run(&l, &["retract", USA_HONG_KONG, "--reason", "again"], None)
        );
        assert_snapshot!(
            "error_amend_retracted",
            run(
                &l,
                &[
                    "amend",
                    USA_HONG_KONG,
                    "--reason",
                    "r",
                    "--position",
                    "oppose"
                ],
                None
            )
        );
        let wrong = format!("{}:{}", 5, "0".repeat(64));
        assert_snapshot!(
            "error_verify_wrong_digest",
            run(&l, &["verify", "--digest", &wrong], None)
        );
        assert_snapshot!(
            "error_changes_reversed",
            run(
                &l,
                &["changes", "--from", "2019-12-31", "--to", "2019-12-01"],
                None
            )
        );
        let backup = l.scratch("backup.jsonl");
        std::fs::write(&backup, l.ok(&["export"])).unwrap();
        assert_snapshot!(
            "error_restore_not_empty",
            run(&l, &["restore", path(&backup)], None)
        );
        let missing = TestLedger::new();
        assert_snapshot!(
            "error_read_missing_ledger",
            run(&missing, &["stance", "JPN", "senkaku-islands"], None)
        );
        assert_snapshot!(
            "error_edit_missing_ledger",
            run(&missing, &["retract", unknown, "--reason", "r"], None)
        );
    }
}

/// Human output fitted to a pinned width: the table at 80 columns (the
/// README's fixture table, which used to be 83 and wrap mid-word), the
/// bare form at 60, and text wrapped with a hanging indent.
#[test]
fn fitted_to_the_width() {
    for l in TestLedger::each().into_iter().map(tour_ledger) {
        let at = |cols: &'static str| [("COLUMNS", cols)];
        let stances = ["stances", "--as-of", "2019-12-23"];
        let table = run_with(
            &l,
            &at("80"),
            &[&stances[..], &["--format", "table"]].concat(),
            None,
        );
        assert!(
            table.lines().all(|line| line.chars().count() <= 80),
            "{table}"
        );
        assert_snapshot!("fitted_stances_table_80", table);
        assert_snapshot!(
            "fitted_stances_plain_60",
            run_with(&l, &at("60"), &stances, None)
        );
        assert_snapshot!(
            "fitted_history_60",
            run_with(
                &l,
                &at("60"),
                &["history", "JPN", "east-china-sea-restraint"],
                None
            )
        );
        assert_snapshot!(
            "fitted_stance_60",
            run_with(
                &l,
                &at("60"),
                &[
                    "stance",
                    "JPN",
                    "north-korea-sanctions-relief",
                    "--as-of",
                    "2019-12-23"
                ],
                None
            )
        );
        assert_snapshot!(
            "fitted_log_80",
            run_with(&l, &at("80"), &["log", "--after-seq", "24"], None)
        );
        assert_snapshot!(
            "fitted_changes_table_60",
            run_with(
                &l,
                &at("60"),
                &[
                    "changes",
                    "--from",
                    "2019-12-01",
                    "--to",
                    "2019-12-31",
                    "--issue",
                    "hong-kong-protests",
                    "--format",
                    "table"
                ],
                None
            )
        );
    }
}

/// Fifty actors by thirty issues: the full matrix would be hundreds of
/// columns wide, so at 90 it falls back to one glyph a cell with a legend.
#[test]
fn a_wide_matrix_becomes_a_compact_grid() {
    let l = TestLedger::new();
    let file = l.scratch("grid.jsonl");
    std::fs::write(&file, crate::ux::grid_lines(50, 30)).unwrap();
    l.ok(&["import", path(&file)]);
    let grid = run_with(
        &l,
        &[("COLUMNS", "90")],
        &["stances", "--as-of", "2019-12-31"],
        None,
    );
    let widest = grid
        .lines()
        .skip(4)
        .take_while(|l| !l.starts_with("--- stderr"))
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(widest <= 90, "{widest} columns:\n{grid}");
    assert_snapshot!("compact_grid_50x30_at_90", grid);
}

/// Help at 80 columns: the short and long forms of the tool and of one
/// command, with the global options apart, examples and exit status.
#[test]
fn help_at_80_columns() {
    let l = TestLedger::new();
    let cols = [("COLUMNS", "80")];
    assert_snapshot!("help_short", run_with(&l, &cols, &["-h"], None));
    assert_snapshot!("help_long", run_with(&l, &cols, &["--help"], None));
    assert_snapshot!(
        "help_stances_short",
        run_with(&l, &cols, &["stances", "-h"], None)
    );
    assert_snapshot!(
        "help_stances_long",
        run_with(&l, &cols, &["help", "stances"], None)
    );
}
