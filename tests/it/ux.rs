//! Where output goes (issue 12): formats (CSV and TSV parsed back, JSON
//! Lines, JSON unchanged), no box drawing in a pipe, colour and its
//! switches, the pager on a real terminal, help, completions, the manual
//! page, exit codes and CSV import, all through the real binary.

use std::io::Read;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{article, run_fails_with, run_ok, statement_line, TestLedger};

/// `actors` × `issues` statements, positions cycling, one pair in seven
/// left without a stance: a grid for the compact matrix.
/// Fifty ISO 3166-1 alpha-3 codes, for generated actors (codes that name
/// no country are refused).
const ISO_CODES: [&str; 50] = [
    "ARG", "AUS", "AUT", "BEL", "BRA", "CAN", "CHE", "CHL", "CHN", "COL", "CZE", "DEU", "DNK",
    "EGY", "ESP", "FIN", "FRA", "GBR", "GRC", "HUN", "IDN", "IND", "IRL", "IRN", "ISR", "ITA",
    "JPN", "KEN", "KOR", "MEX", "MYS", "NGA", "NLD", "NOR", "NZL", "PAK", "PER", "PHL", "POL",
    "PRT", "ROU", "RUS", "SAU", "SGP", "SWE", "THA", "TUR", "UKR", "USA", "ZAF",
];

pub fn grid_lines(actors: usize, issues: usize) -> String {
    let positions = ["support", "oppose", "neutral", "mixed"];
    let mut out = String::new();
    for a in 0..actors {
        let actor = ISO_CODES[a % ISO_CODES.len()];
        for i in 0..issues {
            if (a + i) % 7 == 0 {
                continue;
            }
            out += &statement_line(
                actor,
                &format!("issue-{i:02}"),
                positions[(a * 3 + i) % 4],
                "2019-12-01",
                "grid",
            );
            out.push('\n');
        }
    }
    out
}

fn article_ledger() -> TestLedger {
    let l = TestLedger::new();
    l.import_article();
    l
}

/// CSV text parsed into its header and rows.
fn parse_csv(text: &str, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

const AS_OF: [&str; 2] = ["--as-of", "2019-12-23"];

fn stances_json(l: &TestLedger) -> Vec<Value> {
    let v = l.json(&["stances", AS_OF[0], AS_OF[1]]);
    v.as_array().unwrap().clone()
}

#[test]
fn stances_as_csv_are_the_tidy_long_form_with_one_header_row() {
    let l = article_ledger();
    let out = l.ok(&["stances", AS_OF[0], AS_OF[1], "--format", "csv"]);
    let (header, rows) = parse_csv(&out, b',');
    assert_eq!(
        header,
        [
            "actor",
            "actor_name",
            "issue",
            "title",
            "position",
            "qualifiers",
            "stated_on",
            "statement_id"
        ]
    );
    let json = stances_json(&l);
    assert_eq!(rows.len(), json.len());
    for (row, s) in rows.iter().zip(&json) {
        assert_eq!(row[0], s["actor"].as_str().unwrap());
        assert_eq!(row[2], s["issue"].as_str().unwrap());
        assert_eq!(row[4], s["position"].as_str().unwrap());
        assert_eq!(row[6], s["stated_on"].as_str().unwrap());
        assert_eq!(row[7], s["statement_id"].as_str().unwrap());
        // The article alone defines no issue and hedges nothing; every
        // actor it names is a country with a name.
        assert_eq!((&*row[3], &*row[5]), ("", ""));
        let name = match &*row[0] {
            "CHN" => "China",
            "JPN" => "Japan",
            "RUS" => "Russian Federation",
            "USA" => "United States of America",
            other => panic!("unexpected actor {other}"),
        };
        assert_eq!(&row[1], name);
    }
    assert!(out.ends_with("\r\n"), "RFC 4180 ends records with CRLF");
}

#[test]
fn stances_as_a_csv_matrix_and_as_tsv() {
    let l = article_ledger();
    let out = l.ok(&["stances", AS_OF[0], AS_OF[1], "--format", "csv", "--matrix"]);
    let (header, rows) = parse_csv(&out, b',');
    assert_eq!(header, ["issue", "title", "CHN", "JPN", "RUS"]);
    let json = stances_json(&l);
    let issues: std::collections::BTreeSet<&str> =
        json.iter().map(|s| s["issue"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), issues.len());
    for s in &json {
        let row = rows
            .iter()
            .find(|r| r[0] == s["issue"].as_str().unwrap())
            .unwrap();
        let col = header
            .iter()
            .position(|h| h == s["actor"].as_str().unwrap())
            .unwrap();
        assert_eq!(row[col], s["position"].as_str().unwrap());
    }
    let filled: usize = rows
        .iter()
        .map(|r| r[2..].iter().filter(|c| !c.is_empty()).count())
        .sum();
    assert_eq!(filled, json.len(), "an empty cell is a pair with no stance");

    let tsv = l.ok(&["stances", AS_OF[0], AS_OF[1], "--format", "tsv"]);
    let (header, rows) = parse_csv(&tsv, b'\t');
    assert_eq!(header[0], "actor");
    assert_eq!(rows.len(), json.len());
}

#[test]
fn csv_quotes_commas_quotes_and_line_breaks() {
    for l in TestLedger::each() {
        let summary = "Said \"no\", twice,\nthen left.";
        l.ok(&[
            "record",
            "--actor",
            "JPN",
            "--issue",
            "x",
            "--position",
            "oppose",
            "--stated-on",
            "2019-12-23",
            "--summary",
            summary,
        ]);
        let out = l.ok(&["history", "JPN", "x", "--format", "csv"]);
        let (header, rows) = parse_csv(&out, b',');
        let col = header.iter().position(|h| h == "summary").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][col], summary);
    }
}

#[test]
fn changes_and_log_as_csv() {
    let l = article_ledger();
    let out = l.ok(&[
        "changes",
        "--from",
        "2019-12-01",
        "--to",
        "2019-12-31",
        "--format",
        "csv",
    ]);
    let (header, rows) = parse_csv(&out, b',');
    assert_eq!(header[..3], ["actor", "issue", "position_changed"]);
    let json = l.json(&["changes", "--from", "2019-12-01", "--to", "2019-12-31"]);
    assert_eq!(rows.len(), json.as_array().unwrap().len());
    assert!(rows.iter().all(|r| r[3].is_empty() && !r[6].is_empty()));

    let out = l.ok(&["log", "--format", "csv"]);
    let (header, rows) = parse_csv(&out, b',');
    assert_eq!(rows.len(), 25);
    let export: Vec<Value> = l
        .ok(&["export"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (row, event) in rows.iter().zip(&export) {
        for (name, cell) in header.iter().zip(row) {
            match &event[name] {
                Value::Null => assert_eq!(cell, "", "{name}"),
                Value::String(s) => assert_eq!(cell, s, "{name}"),
                other => assert_eq!(cell, &other.to_string(), "{name}"),
            }
        }
    }
}

#[test]
fn lists_come_as_json_lines_of_the_json_elements() {
    let l = article_ledger();
    let cases: [&[&str]; 4] = [
        &["stances", "--as-of", "2019-12-23"],
        &["history", "JPN", "senkaku-islands"],
        &["changes", "--from", "2019-12-01", "--to", "2019-12-31"],
        &["shifts"],
    ];
    for args in cases {
        let array = l.ok(&[&["--json"][..], args].concat());
        let lines = l.ok(&[args, &["--format", "jsonl"]].concat());
        let elements: Vec<Value> = serde_json::from_str::<Value>(&array)
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        let rejoined = format!("[{}]\n", lines.lines().collect::<Vec<_>>().join(","));
        assert_eq!(rejoined, array, "{args:?}: the same bytes, one per line");
        assert_eq!(lines.lines().count(), elements.len(), "{args:?}");
    }
    assert_eq!(
        l.ok(&["log", "--format", "jsonl"]),
        l.ok(&["log", "--json"])
    );
    // --format json is --json, byte for byte.
    for args in cases {
        assert_eq!(
            l.ok(&[args, &["--format", "json"]].concat()),
            l.ok(&[&["--json"][..], args].concat())
        );
    }
}

const BOX: &[char] = &['│', '┆', '─', '┌', '┐', '└', '┘', '╞', '═', '╪', '╡'];

#[test]
fn piped_human_output_has_no_box_drawing_unless_asked() {
    let l = article_ledger();
    let args: [&[&str]; 2] = [
        &["stances", "--as-of", "2019-12-23"],
        &["changes", "--from", "2019-12-01", "--to", "2019-12-31"],
    ];
    for a in args {
        let plain = l.ok(a);
        assert!(!plain.contains(BOX), "{a:?}: {plain}");
        assert!(plain.contains("support"));
        let table = l.ok(&[a, &["--format", "table"]].concat());
        assert!(table.contains(BOX), "{a:?}: {table}");
        assert_eq!(l.ok(&[a, &["--format", "plain"]].concat()), plain);
    }
}

#[test]
fn formats_a_command_cannot_print_are_usage_errors_with_a_hint() {
    let l = article_ledger();
    for (args, needle) in [
        (&["export", "--json"][..], "always writes JSON Lines"),
        (&["export", "--format", "csv"], "always writes JSON Lines"),
        (&["export", "--format", "json"], "always writes JSON Lines"),
        (&["head", "--format", "csv"], "prints a report, not records"),
        (
            &["verify", "--format", "tsv"],
            "prints a report, not records",
        ),
        (&["man", "--json"], "`man` has no --json form"),
        (&["completions", "bash", "--json"], "has no --json form"),
        (
            &["stances", "--json", "--format", "csv"],
            "--json means --format json",
        ),
        (
            &["stances", "--format", "json", "--matrix"],
            "--matrix shapes CSV",
        ),
    ] {
        let out = l.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = l.cmd().args(["export", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().nth(1).map(|h| h.starts_with("hint: ")),
        Some(true),
        "{stderr}"
    );
    assert_eq!(l.ok(&["export", "--format", "jsonl"]), l.ok(&["export"]));
    assert_eq!(
        l.ok(&["head", "--format", "jsonl"]),
        l.ok(&["head", "--json"])
    );
}

/// The widest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn tables_and_text_fit_columns() {
    let l = article_ledger();
    for cols in [60, 80, 100] {
        let c = cols.to_string();
        for args in [
            &["stances", "--as-of", "2019-12-23", "--format", "table"][..],
            &["stances", "--as-of", "2019-12-23"],
            &["log"],
            &["history", "JPN", "east-china-sea-restraint"],
            &[
                "changes",
                "--from",
                "2019-12-01",
                "--to",
                "2019-12-31",
                "--format",
                "table",
            ],
        ] {
            let out = run_ok(l.cmd().env("COLUMNS", &c).args(args));
            assert!(
                widest(&out) <= cols,
                "{args:?} at {cols}: {} wide\n{out}",
                widest(&out)
            );
        }
    }
    // Short ids and times to the second in human output.
    let log = run_ok(l.cmd().env("COLUMNS", "80").args(["log", "--limit", "1"]));
    assert!(log.contains(" 360f844f "), "{log}");
    assert!(!log.contains("360f844f-"), "{log}");
    assert!(log.contains("T00:00:00Z"), "{log}");
    // stated_on in the table.
    let t = run_ok(
        l.cmd()
            .env("COLUMNS", "80")
            .args(["stances", "--as-of", "2019-12-23"]),
    );
    assert!(t.contains("2019-12-23  2019-12-23"), "{t}");
}

#[test]
fn a_50_by_30_grid_fits_90_columns() {
    for l in TestLedger::each() {
        let file = l.scratch("grid.jsonl");
        std::fs::write(&file, grid_lines(50, 30)).unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        let out = run_ok(
            l.cmd()
                .env("COLUMNS", "90")
                .args(["stances", "--as-of", "2019-12-31"]),
        );
        let w = widest(&out);
        assert!(w <= 90, "{w} wide\n{out}");
        eprintln!("50 x 30 grid at COLUMNS=90: {w} columns wide");
        // Every actor has a column: the codes read downwards.
        let rows: Vec<&str> = out.lines().collect();
        let issue_rows: Vec<&&str> = rows.iter().filter(|r| r.starts_with("issue-")).collect();
        assert_eq!(issue_rows.len(), 30);
        let cells = |r: &str| r.split_whitespace().nth(1).unwrap().chars().count();
        assert!(issue_rows.iter().all(|r| cells(r) == 50), "{out}");
        assert!(
            out.contains("+ support, - oppose, 0 neutral, ~ mixed, . none"),
            "{out}"
        );
        // The first issue row: actor ARG (a=0) has no stance on issue-00.
        assert!(issue_rows[0]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with('.'));
    }
}

const GREEN: &str = "\u{1b}[32m";
const RED: &str = "\u{1b}[31m";

#[test]
fn colour_follows_color_no_color_and_clicolor_force() {
    let l = article_ledger();
    let args = ["stance", "JPN", "senkaku-islands", "--as-of", "2019-12-23"];
    let always = run_ok(l.cmd().args(args).arg("--color=always"));
    assert!(always.contains(&format!("{GREEN}support")), "{always:?}");
    let oppose = run_ok(l.cmd().args([
        "stance",
        "CHN",
        "senkaku-islands",
        "--as-of",
        "2019-12-23",
        "--color",
        "always",
    ]));
    assert!(oppose.contains(&format!("{RED}oppose")), "{oppose:?}");
    let piped = run_ok(l.cmd().args(args));
    assert!(!piped.contains('\u{1b}'), "{piped:?}");
    assert!(!run_ok(l.cmd().args(args).arg("--color=never")).contains('\u{1b}'));
    assert!(run_ok(l.cmd().args(args).env("CLICOLOR_FORCE", "1")).contains(GREEN));
    let no = run_ok(
        l.cmd()
            .args(args)
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
    );
    assert!(!no.contains('\u{1b}'), "NO_COLOR wins: {no:?}");
    // compare and shifts colour positions alike, and keep their columns.
    let cmp = ["compare", "JPN", "CHN", "--as-of", "2019-12-31"];
    let plain = run_ok(l.cmd().args(cmp));
    let coloured = run_ok(l.cmd().args(cmp).arg("--color=always"));
    assert!(
        coloured.contains(&format!("{GREEN}support")),
        "{coloured:?}"
    );
    let stripped = coloured
        .replace(GREEN, "")
        .replace(RED, "")
        .replace("\u{1b}[0m", "");
    assert_eq!(stripped, plain);
    assert!(run_ok(l.cmd().args(["shifts", "--color=always"])).contains(GREEN));
    // Tables and the compact grid too; JSON and CSV never.
    let t = run_ok(l.cmd().args([
        "stances",
        "--as-of",
        "2019-12-23",
        "--color",
        "always",
        "--format",
        "table",
    ]));
    assert!(t.contains('\u{1b}'), "{t:?}");
    for f in ["json", "csv", "jsonl"] {
        let out = run_ok(
            l.cmd()
                .args(["stances", "--color", "always", "--format", f]),
        );
        assert!(!out.contains('\u{1b}'), "{f}: {out:?}");
    }
    // error: in red, only when colour is on.
    let out = l
        .cmd()
        .args(["stance", "JPN", "x", "--color", "always", "--ledger"])
        .arg(l.scratch("none"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with('\u{1b}') && err.contains("error:"),
        "{err:?}"
    );
    let out = l
        .cmd()
        .args(["stance", "JPN", "x", "--ledger"])
        .arg(l.scratch("none"))
        .output()
        .unwrap();
    assert!(!out.stderr.contains(&0x1b));
}

/// Runs `stancelog ARGS` on a real terminal (util-linux `script`), with
/// `PAGER` writing what it is given to a file; returns that file's text,
/// or `None` when no pager ran. `None` too, with a skip line, where
/// `script` is missing.
fn paged(l: &TestLedger, args: &str) -> Option<Option<String>> {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to give the binary a terminal");
        return None;
    }
    let paged = l.scratch("paged.txt");
    let _ = std::fs::remove_file(&paged);
    let bin = env!("CARGO_BIN_EXE_stancelog");
    let line = format!("{bin} --ledger {} {args}", l.path().display());
    let status = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("HOME", l.root())
        .env("TERM", "xterm")
        .env("COLUMNS", "80")
        .env("PAGER", format!("cat > {}", paged.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    Some(std::fs::read_to_string(&paged).ok())
}

#[test]
fn long_output_on_a_terminal_goes_through_the_pager_never_when_piped() {
    let l = article_ledger();
    let Some(shown) = paged(&l, "stances --as-of 2019-12-23") else {
        return;
    };
    let shown = shown.expect("the pager ran");
    assert!(shown.contains(BOX), "a terminal gets the table: {shown}");
    // And colour, through the pager: support in the palette's green (ANSI
    // colour 2, as comfy-table writes it).
    assert!(shown.contains("\u{1b}[38;5;2m support"), "{shown:?}");
    assert_eq!(
        paged(&l, "--no-pager stances --as-of 2019-12-23"),
        Some(None)
    );
    // Piped: the pager is never started, whatever PAGER says.
    let marker = l.scratch("paged.txt");
    let out = run_ok(
        l.cmd()
            .env("PAGER", format!("cat > {}", marker.display()))
            .args(["stances", "--as-of", "2019-12-23"]),
    );
    assert!(out.contains("support"));
    assert!(!marker.exists());
}

#[test]
fn help_short_and_long_with_examples_global_options_and_exit_status() {
    for l in TestLedger::each() {
        let short = run_ok(l.bare().arg("-h"));
        let long = run_ok(l.bare().arg("--help"));
        assert!(long.len() > short.len());
        assert!(long.contains("Global options:"), "{long}");
        assert!(
            long.contains("Exit status:") && long.contains("75"),
            "{long}"
        );
        assert!(
            short.contains(
                "Exit status: 0 ok, 1 error, 2 usage, 3 verify found a fault, 75 ledger busy"
            ),
            "{short}"
        );
        assert!(!short.contains("--cache-mib") && long.contains("--cache-mib"));
        let stances = run_ok(l.bare().args(["stances", "--help"]));
        assert!(stances.contains("Examples:"), "{stances}");
        assert!(
            stances.contains("stancelog stances --as-of 2019-12-23 --format csv"),
            "{stances}"
        );
        assert!(
            !stances.contains("--by"),
            "--by only on commands that write: {stances}"
        );
        assert!(run_ok(l.bare().args(["stances", "-h"])).len() < stances.len());
        for writer in ["record", "amend", "retract", "import"] {
            assert!(
                run_ok(l.bare().args([writer, "--help"])).contains("--by <NAME>"),
                "{writer}"
            );
        }
        for args in [&["stances", "--by", "x"][..], &["--by", "x", "stances"]] {
            let err = l.bare().args(args).output().unwrap();
            assert_eq!(err.status.code(), Some(2), "{args:?}");
        }
        assert_eq!(run_ok(l.bare().args(["help", "stances"])), stances);
        assert!(run_ok(l.bare().args(["help", "--help"])).contains("Usage: stancelog help"));
        let out = l.bare().args(["help", "nope"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        // Wrapped to the width.
        // Wrapped to the width (clap keeps the usage line whole).
        let narrow = run_ok(l.bare().env("COLUMNS", "60").args(["record", "--help"]));
        let body: String = narrow
            .lines()
            .filter(|l| !l.starts_with("Usage:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(widest(&body) <= 60, "{narrow}");
    }
}

/// The examples of the read commands' long help, run as printed (but for
/// those that redirect, pipe or substitute) against the article ledger.
#[test]
fn the_examples_in_help_run_against_the_fixture() {
    let l = article_ledger();
    let mut ran = 0;
    for command in [
        "stance", "stances", "history", "changes", "log", "head", "verify",
    ] {
        let help = run_ok(l.bare().args([command, "--help"]));
        let examples: Vec<&str> = help
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| l.starts_with("  stancelog"))
            .filter(|e| !e.contains(['>', '|', '$']))
            .collect();
        assert!(!examples.is_empty(), "{command}: {help}");
        for e in examples {
            let e = e.split('#').next().unwrap();
            let words: Vec<&str> = e.split_whitespace().skip(1).collect();
            run_ok(l.cmd().args(&words));
            ran += 1;
        }
    }
    assert!(ran >= 12, "{ran} examples ran");
}

#[test]
fn completions_and_man_page_to_stdout_and_a_closed_pipe_is_no_error() {
    for l in TestLedger::each() {
        for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
            let out = run_ok(l.bare().args(["completions", shell]));
            assert!(
                out.contains("stancelog") && out.contains("stances"),
                "{shell}"
            );
        }
        let man = run_ok(l.bare().arg("man"));
        assert!(man.contains(".TH stancelog"), "{man}");
        assert!(man.contains("stances"));
        for args in [&["completions", "zsh"][..], &["man"]] {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stancelog"))
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stdout.take());
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(child.wait().unwrap().success(), "{args:?}: {err}");
            assert!(err.is_empty(), "{args:?}: {err}");
        }
    }
}

#[test]
fn exit_codes_tell_usage_errors_and_faults_apart() {
    let l = article_ledger();
    assert_eq!(
        l.cmd().arg("--nope").output().unwrap().status.code(),
        Some(2)
    );
    assert_eq!(
        l.cmd()
            .args(["stances", "--as-of", "x"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let err = l.fails(&["import", "missing.jsonl"]);
    assert!(err.contains("cannot open"), "{err}");
    let head = l.head();
    let (seq, hash) = head.split_once(':').unwrap();
    let forged = format!("{seq}:{}", hash.chars().rev().collect::<String>());
    let err = l.faults(&["verify", "--digest", &forged]);
    assert!(err.contains("does not extend digest"), "{err}");
    l.ok(&["verify", "--digest", &head]);
}

const SHEET: &str = "\
actor,issue,position,stated_on,summary,speaker
JPN,senkaku-islands,support,2019-12-23,\"Abe restated, firmly, Japan's sovereignty.\",Shinzo Abe
CHN,senkaku-islands,oppose,2019-12-23,Beijing rejected the claim.,
";

#[test]
fn csv_import_reads_a_sheet_with_a_header_row() {
    for l in TestLedger::each() {
        let file = l.scratch("sheet.csv");
        std::fs::write(&file, SHEET).unwrap();
        let out = l
            .cmd()
            .args(["import", "--format", "csv"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = l.json(&["stance", "JPN", "senkaku-islands", "--as-of", "2019-12-23"]);
        assert_eq!(s["summary"], "Abe restated, firmly, Japan's sovereignty.");
        assert_eq!(s["speaker"], "Shinzo Abe");
        let c = l.json(&["stance", "CHN", "senkaku-islands", "--as-of", "2019-12-23"]);
        assert_eq!(c["position"], "oppose");
        assert_eq!(
            c["speaker"],
            Value::Null,
            "an empty cell is an absent field"
        );
        // Content ids: the same sheet again adds nothing; JSON output works.
        let again = l.json(&["import", "--format", "csv", file.to_str().unwrap()]);
        assert_eq!(again["added"], 0);
        // TSV, and the sheet our own CSV output makes round-trips its rows.
        let tsv = l.scratch("sheet.tsv");
        std::fs::write(
            &tsv,
            SHEET
                .replace(
                    ",\"Abe restated, firmly, Japan's sovereignty.\",",
                    "\tAbe again.\t",
                )
                .replace(',', "\t"),
        )
        .unwrap();
        let added = l.json(&["import", "--format", "tsv", tsv.to_str().unwrap()]);
        assert_eq!(added["added"], 1);
    }
}

#[test]
fn csv_import_errors_name_the_row_and_column_and_write_nothing() {
    for l in TestLedger::each() {
        let cases = [
            (
                SHEET.replace("CHN,senkaku-islands,oppose", "CHN,senkaku-islands,maybe"),
                "row 3, column position: unknown position \"maybe\"",
            ),
            (
                SHEET
                    .replace("postion", "x")
                    .replace("position,stated_on", "postion,stated_on"),
                "row 1, column 3 (\"postion\"): not a statement field",
            ),
            (
                SHEET
                    .replace(",speaker\n", "\n")
                    .replace(",Shinzo Abe", "")
                    .replace("claim.,", "claim."),
                "",
            ),
            (
                SHEET.replace("2019-12-23,Beijing", "2019-13-45,Beijing"),
                "row 3, column stated_on:",
            ),
            (
                SHEET.replace("2019-12-23,Beijing", "2030-01-01,Beijing"),
                "row 3, column stated_on: stated_on 2030-01-01 is after the recording date",
            ),
            (
                SHEET.replace("Beijing rejected the claim.,", ","),
                "row 3, column summary: empty",
            ),
            (
                SHEET.replace("the claim.,", "the claim.,,extra"),
                "row 3: has 7 cells, the header has 6",
            ),
            (
                "actor,issue,position,stated_on\nJPN,x,support,2019-12-23\n".to_owned(),
                "row 1: no summary column",
            ),
        ];
        for (i, (sheet, needle)) in cases.iter().enumerate() {
            let file = l.scratch(&format!("bad{i}.csv"));
            std::fs::write(&file, sheet).unwrap();
            let mut cmd = l.cmd();
            cmd.args(["import", "--format", "csv"]).arg(&file);
            if needle.is_empty() {
                run_ok(&mut cmd);
                continue;
            }
            let err = run_fails_with(&mut cmd, 1);
            assert!(err.contains(needle), "case {i}: {err}");
            assert!(
                err.contains(&format!("bad{i}.csv: row ")),
                "case {i}: {err}"
            );
        }
        // All or nothing: only the good sheet (case 2) was written.
        assert_eq!(l.head().split(':').next(), Some("2"));
    }
}

#[test]
fn the_article_imports_the_same_from_csv_as_from_json_lines() {
    let jsonl = article_ledger();
    // The article's statements as a sheet.
    let mut w = csv::Writer::from_writer(Vec::new());
    let fields = [
        "actor",
        "issue",
        "position",
        "stated_on",
        "summary",
        "quote",
        "speaker",
        "source_url",
        "source_title",
    ];
    w.write_record(fields).unwrap();
    for line in std::fs::read_to_string(article()).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        w.write_record(fields.iter().map(|f| v[f].as_str().unwrap_or("")))
            .unwrap();
    }
    let sheet = TestLedger::new();
    let file = sheet.scratch("article.csv");
    std::fs::write(&file, w.into_inner().unwrap()).unwrap();
    sheet.ok(&["import", "--format", "csv", file.to_str().unwrap()]);
    let a = jsonl.ok(&["stances", "--as-of", "2019-12-23", "--format", "csv"]);
    let b = sheet.ok(&["stances", "--as-of", "2019-12-23", "--format", "csv"]);
    assert_eq!(a, b, "content ids: the same statements, the same ids");
}

#[test]
fn progress_bars_go_to_a_terminal_only_with_a_total_and_fit_80_columns() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to give the binary a terminal");
        return;
    }
    let l = TestLedger::new();
    let file = l.scratch("many.jsonl");
    crate::support::write_usa_statements(&file, 5000, 50, |i| format!("s{i}"));
    let typescript = l.scratch("typescript");
    let line = format!(
        "{} --ledger {} import {}",
        env!("CARGO_BIN_EXE_stancelog"),
        l.path().display(),
        file.display()
    );
    let status = std::process::Command::new("script")
        .args(["-qec", &line])
        .arg(&typescript)
        .env_clear()
        .env("HOME", l.root())
        .env("TERM", "xterm")
        .env("STANCELOG_AUTHOR", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    let frames: Vec<String> = screen
        .split('\r')
        .map(|f| f.replace("\u{1b}[2K", ""))
        .filter(|f| f.starts_with("importing"))
        // A frame ends with its rate; what follows is padding and, after the
        // last, the next message.
        .map(|f| f[..=f.rfind(')').unwrap()].to_owned())
        .collect();
    assert!(
        frames.iter().any(|f| f.contains("/5000 events")),
        "a total from the first pass: {frames:?}"
    );
    for f in &frames {
        assert!(
            f.chars().count() <= 80,
            "{} columns: {f}",
            f.chars().count()
        );
        assert!(!f.contains('.'), "a rate with decimals: {f}");
    }
    // Not a terminal: no frames at all.
    let l2 = TestLedger::new();
    let out = l2.cmd().args(["import"]).arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("events ("), "{stderr}");
}
