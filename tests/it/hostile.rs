//! Hostile and broken input. Each case of the corpus says what must happen:
//! a clear error (exit 1, one line naming the file and line) after which the
//! ledger is exactly as before, or acceptance with a known number of events.
//! Plus: terminal escapes stored as given but never emitted raw, dates at the
//! edges, `--known-at` offsets, field limits, a million-line import that
//! fails on its last line in bounded memory, and decoding arbitrary bytes.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{run_ok, statement_line, TestLedger};

const ESC: u8 = 0x1b;

/// A ledger holding one event, so that "nothing written" means "same head".
fn seeded() -> TestLedger {
    let l = TestLedger::new();
    l.ok(&[
        "record",
        "--actor",
        "JPN",
        "--issue",
        "seed",
        "--position",
        "support",
        "--stated-on",
        "2019-12-23",
        "--summary",
        "seed",
    ]);
    l
}

enum Expect {
    /// Exit 1 with an error containing `input.jsonl:LINE: ` and each string.
    Reject(u64, &'static [&'static str]),
    /// Success, adding this many events.
    Accept(u64),
}

fn stmt(summary: &str) -> String {
    statement_line("JPN", "hostile", "support", "2019-12-23", summary)
}

fn obj(v: Value) -> String {
    v.to_string()
}

/// The corpus: (name, file bytes, expectation).
fn corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let ok = |s: &str| format!("{}\n", stmt(s)).into_bytes();
    let base = json!({"type": "statement", "actor": "JPN", "issue": "hostile",
        "position": "support", "stated_on": "2019-12-23", "summary": "s"});
    let with = |k: &str, v: Value| {
        let mut o = base.clone();
        o[k] = v;
        format!("{}\n", obj(o)).into_bytes()
    };
    let mut invalid_utf8 = ok("fine");
    invalid_utf8.extend_from_slice(b"{\"type\":\"statement\",\"summary\":\"\xff\xfe\"}\n");
    let mut overlong_utf8 = ok("fine");
    overlong_utf8.extend_from_slice(b"{\"type\":\"statement\",\"summary\":\"\xc0\xaf\"}\n");
    let mut surrogate_utf8 = ok("fine");
    surrogate_utf8.extend_from_slice(b"{\"type\":\"statement\",\"summary\":\"\xed\xa0\x80\"}\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(ok("after a byte order mark"));
    let mut bom_later = ok("first");
    bom_later.extend_from_slice(b"\xEF\xBB\xBF");
    bom_later.extend(ok("second"));
    let crlf = format!("{}\r\n{}\r\n", stmt("one"), stmt("two")).into_bytes();
    let mixed = format!("\r\n{}\n   \n\t\n{}\r\n\n", stmt("one"), stmt("two")).into_bytes();
    let no_final_newline = stmt("last line without newline").into_bytes();
    let big = {
        let mut v = b"{\"type\":\"statement\",\"summary\":\"".to_vec();
        v.resize(10 * 1024 * 1024, b'a');
        v.extend_from_slice(b"\"}\n");
        v
    };
    let mut raw_nul = ok("fine");
    raw_nul.extend_from_slice(b"{\"type\":\"statement\",\"summary\":\"a\0b\"}\n");
    let mut raw_esc = b"{\"type\":\"statement\",\"summary\":\"a".to_vec();
    raw_esc.push(ESC);
    raw_esc.extend_from_slice(b"b\"}\n");
    vec![
        ("empty file", Vec::new(), Accept(0)),
        ("only blank lines", b"\n\r\n  \n".to_vec(), Accept(0)),
        ("only a byte order mark", b"\xEF\xBB\xBF".to_vec(), Accept(0)),
        ("invalid UTF-8", invalid_utf8, Reject(2, &["not valid UTF-8"])),
        ("overlong UTF-8", overlong_utf8, Reject(2, &["not valid UTF-8"])),
        ("UTF-8 surrogate", surrogate_utf8, Reject(2, &["not valid UTF-8"])),
        ("UTF-8 byte order mark", bom, Accept(1)),
        ("byte order mark on line 2", bom_later, Reject(2, &["invalid JSON"])),
        ("CRLF line endings", crlf, Accept(2)),
        ("mixed endings and blank lines", mixed, Accept(2)),
        ("no final newline", no_final_newline, Accept(1)),
        ("10 MB line", big, Reject(1, &["line is longer than 1048576 bytes"])),
        ("typo postion", {
            let mut o = base.clone();
            o.as_object_mut().unwrap().remove("position");
            o["postion"] = "support".into();
            format!("{}\n", obj(o)).into_bytes()
        }, Reject(1, &["unknown field `postion`"])),
        ("unknown field", with("sentiment", "warm".into()), Reject(1, &["unknown field `sentiment`"])),
        ("duplicate key", format!("{}\n", r#"{"type":"statement","actor":"JPN","actor":"CHN","issue":"x","position":"support","stated_on":"2019-12-23","summary":"s"}"#).into_bytes(), Reject(1, &["duplicate field `actor`"])),
        ("duplicate key, same value", format!("{}\n", r#"{"type":"statement","actor":"JPN","issue":"x","position":"support","position":"support","stated_on":"2019-12-23","summary":"s"}"#).into_bytes(), Reject(1, &["duplicate field `position`"])),
        ("position is a number", with("position", 1.into()), Reject(1, &["invalid type: integer `1`, expected a string"])),
        ("summary is an array", with("summary", json!(["s"])), Reject(1, &["invalid type: sequence"])),
        ("summary is null", with("summary", Value::Null), Reject(1, &["missing required field \"summary\""])),
        ("type is an object", with("type", json!({})), Reject(1, &["invalid type: map"])),
        ("seq is a string", with("seq", "1".into()), Reject(1, &["invalid type: string"])),
        ("seq is negative", with("seq", (-1).into()), Reject(1, &["invalid value: integer `-1`"])),
        ("line is an array", b"[1,2]\n".to_vec(), Reject(1, &["expected an object"])),
        ("event as a positional array", format!("{}\n", r#"[null,null,null,null,"statement","JPN","x",null,null,"support","2019-12-23","s"]"#).into_bytes(), Reject(1, &["expected an object"])),
        ("line is a string", b"\"statement\"\n".to_vec(), Reject(1, &["expected an object"])),
        ("line is a number", b"  42\n".to_vec(), Reject(1, &["expected an object"])),
        ("truncated JSON", b"{\"type\":\"statement\"\n".to_vec(), Reject(1, &["invalid JSON"])),
        ("two objects on a line", format!("{}{}\n", stmt("a"), stmt("b")).into_bytes(), Reject(1, &["trailing characters"])),
        ("deeply nested", format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(), Reject(1, &["invalid JSON"])),
        ("deeply nested value", format!("{{\"type\":{}{}}}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(), Reject(1, &["invalid JSON"])),
        ("huge number", with("seq", json!(1e300)), Reject(1, &["invalid type: floating point"])),
        ("unknown type", with("type", "declaration".into()), Reject(1, &["unknown type \"declaration\""])),
        ("escaped NUL in summary", with("summary", "a\u{0}b".into()), Reject(1, &["summary contains a NUL character"])),
        ("escaped NUL in quote", with("quote", "\u{0}".into()), Reject(1, &["quote contains a NUL character"])),
        ("escaped NUL in speaker", with("speaker", "x\u{0}".into()), Reject(1, &["speaker contains a NUL character"])),
        ("NUL in actor", with("actor", "JP\u{0}N".into()), Reject(1, &["invalid actor"])),
        ("raw NUL byte", raw_nul, Reject(2, &["control character"])),
        ("raw ESC byte in a string", raw_esc, Reject(1, &["control character"])),
        ("control characters", with("quote", "bell\u{7} tab\t del\u{7f} nel\u{85} esc\u{1b} cr\r".into()), Accept(1)),
        ("ANSI escapes", with("quote", "\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}".into()), Accept(1)),
        ("control character in a URL", with("source_url", "https://a.example/\u{1b}[2J".into()), Reject(1, &["invalid source_url"])),
        ("javascript URL", with("source_url", "javascript:alert(1)".into()), Reject(1, &["invalid source_url"])),
        ("earliest date", with("stated_on", "0001-01-01".into()), Accept(1)),
        ("latest date, in the future", with("stated_on", "9999-12-31".into()), Reject(1, &["stated_on 9999-12-31 is after the recording date"])),
        ("no 29 February 2019", with("stated_on", "2019-02-29".into()), Reject(1, &["invalid date \"2019-02-29\""])),
        ("29 February 2020", with("stated_on", "2020-02-29".into()), Accept(1)),
        ("year 0", with("stated_on", "0000-12-31".into()), Reject(1, &["invalid date"])),
        ("year 10000", with("stated_on", "10000-01-01".into()), Reject(1, &["invalid date"])),
        ("negative year", with("stated_on", "-001-01-01".into()), Reject(1, &["invalid date"])),
        ("short date", with("stated_on", "2019-1-5".into()), Reject(1, &["invalid date"])),
        ("date with a time", with("stated_on", "2019-12-23T00:00:00Z".into()), Reject(1, &["invalid date"])),
        ("summary of 1000 characters", with("summary", "あ".repeat(1000).into()), Accept(1)),
        ("summary of 1001 characters", with("summary", "a".repeat(1001).into()), Reject(1, &["summary is 1001 characters long (at most 1000)"])),
        ("blank summary", with("summary", " \t ".into()), Reject(1, &["summary must not be empty"])),
        ("quote of 10001 characters", with("quote", "q".repeat(10_001).into()), Reject(1, &["quote is 10001 characters long (at most 10000)"])),
        ("speaker of 501 characters", with("speaker", "s".repeat(501).into()), Reject(1, &["speaker is 501 characters long (at most 500)"])),
        ("source title of 501 characters", with("source_title", "t".repeat(501).into()), Reject(1, &["source_title is 501 characters long (at most 500)"])),
        ("URL of 2049 bytes", with("source_url", format!("https://a.example/{}", "u".repeat(2049 - 18)).into()), Reject(1, &["invalid source_url"])),
        ("URL of 2048 bytes", with("source_url", format!("https://a.example/{}", "u".repeat(2048 - 18)).into()), Accept(1)),
        ("actor of 17 characters", with("actor", "A".repeat(17).into()), Reject(1, &["invalid actor"])),
        ("lowercase actor", with("actor", "jpn".into()), Reject(1, &["invalid actor"])),
        ("issue of 65 characters", with("issue", "a".repeat(65).into()), Reject(1, &["invalid issue"])),
        ("issue with a slash", with("issue", "../etc".into()), Reject(1, &["invalid issue"])),
        ("id is not a UUID", with("id", "1; DROP TABLE".into()), Reject(1, &["invalid id"])),
        ("huge unknown field name", format!("{{\"{}\":1}}\n", "k".repeat(500_000)).into_bytes(), Reject(1, &["unknown field `kkkk", "..."])),
        ("huge invalid actor", with("actor", "a".repeat(500_000).into()), Reject(1, &["invalid actor \"aaaa", "... (500000 bytes)"])),
        ("huge value of the wrong type", with("seq", "9".repeat(500_000).into()), Reject(1, &["invalid type: string \"999", "..."])),
    ]
}

#[test]
fn the_corpus_is_rejected_clearly_or_accepted_and_rejection_writes_nothing() {
    let mut tried = 0;
    for (name, bytes, expect) in corpus() {
        let l = seeded();
        let before = l.head();
        let file = l.scratch("input.jsonl");
        std::fs::write(&file, &bytes).unwrap();
        let out = l
            .cmd()
            .args(["import", file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.stderr.contains(&ESC) && !out.stdout.contains(&ESC),
            "{name}: raw ESC in the output"
        );
        match expect {
            Expect::Reject(line, wants) => {
                assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
                let prefix = format!("error: {}:{line}: ", file.display());
                assert!(stderr.starts_with(&prefix), "{name}: {stderr}");
                assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
                assert!(
                    stderr.len() < 1000,
                    "{name}: error too long: {} bytes",
                    stderr.len()
                );
                for w in wants {
                    assert!(stderr.contains(w), "{name}: expected {w:?} in {stderr}");
                }
                assert_eq!(l.head(), before, "{name}: the ledger changed");
                l.ok(&["verify"]);
            }
            Expect::Accept(n) => {
                assert!(out.status.success(), "{name}: {stderr}");
                let seq: u64 = l.head().split(':').next().unwrap().parse().unwrap();
                assert_eq!(seq, 1 + n, "{name}: {stderr}");
            }
        }
        tried += 1;
    }
    eprintln!("hostile corpus: {tried} inputs tried");
    assert!(tried >= 60, "{tried}");
}

#[test]
fn an_empty_file_into_a_new_ledger_succeeds_and_adds_nothing() {
    for l in TestLedger::each() {
        let file = l.scratch("empty.jsonl");
        std::fs::write(&file, "").unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        assert_eq!(l.head(), format!("0:{}", "0".repeat(64)));
        // From standard input too.
        run_ok(l.cmd().args(["import", "-"]).write_stdin(""));
        assert_eq!(l.head(), format!("0:{}", "0".repeat(64)));
    }
}

#[test]
fn an_error_on_standard_input_names_stdin_and_the_line() {
    let l = seeded();
    let before = l.head();
    let input = format!("{}\n{{\"type\":\"statement\",\"postion\":1}}\n", stmt("a"));
    let err = crate::support::run_fails(l.cmd().args(["import", "-"]).write_stdin(input));
    assert!(err.starts_with("error: <stdin>:2: "), "{err}");
    assert_eq!(l.head(), before);
}

/// Quote, summary and speaker full of terminal escapes.
const NASTY: &str = "\u{1b}[2J\u{1b}[31mred\u{1b}[0m \u{1b}]0;pwned\u{7} \u{9b}31m \r overwritten";

#[test]
fn ansi_escapes_are_stored_as_given_but_never_printed_raw() {
    for l in TestLedger::each() {
        let line = obj(
            json!({"type": "statement", "actor": "JPN", "issue": "hostile",
            "position": "support", "stated_on": "2019-12-23",
            "summary": format!("summary {NASTY}"), "quote": NASTY, "speaker": format!("speaker {NASTY}"),
            "source_title": NASTY}),
        );
        let file = l.scratch("nasty.jsonl");
        std::fs::write(&file, format!("{line}\n")).unwrap();
        l.ok(&["import", file.to_str().unwrap()]);
        let id = l.json(&["log", "--json"])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        l.ok(&[
            "amend",
            &id,
            "--reason",
            &format!("reason {NASTY}"),
            "--source-title",
            &format!("title {NASTY}"),
        ]);

        // Stored exactly: JSON output gives the very string back.
        let s = l.json(&["stance", "JPN", "hostile", "--as-of", "2020-01-01"]);
        assert_eq!(s["quote"], NASTY);
        assert_eq!(s["summary"], format!("summary {NASTY}"));
        assert_eq!(s["speaker"], format!("speaker {NASTY}"));
        let export = l.ok(&["export"]);
        let first: Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
        assert_eq!(first["quote"], NASTY);
        assert!(
            !export.as_bytes().contains(&ESC),
            "JSON escapes control characters"
        );

        // Human output shows them escaped.
        for args in [
            vec!["stance", "JPN", "hostile", "--as-of", "2020-01-01"],
            vec!["stances", "--as-of", "2020-01-01"],
            vec!["history", "JPN", "hostile"],
            vec!["log"],
            vec!["changes", "--from", "2019-01-01", "--to", "2020-01-01"],
        ] {
            let out = l.cmd().args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}");
            for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(!bytes.contains(&ESC), "{args:?} {stream} has a raw ESC");
                assert!(!bytes.contains(&0x07), "{args:?} {stream} has a raw BEL");
                assert!(!bytes.contains(&b'\r'), "{args:?} {stream} has a raw CR");
                let text = String::from_utf8_lossy(bytes);
                assert!(!text.contains('\u{9b}'), "{args:?} {stream} has a raw CSI");
            }
        }
        let human = l.ok(&["stance", "JPN", "hostile", "--as-of", "2020-01-01"]);
        assert!(human.contains("\\u{1b}[31mred"), "{human}");
        let history = l.ok(&["history", "JPN", "hostile"]);
        assert!(history.contains("reason \\u{1b}[2J"), "{history}");

        // Errors quoting hostile input do not emit it raw either.
        let out = l
            .cmd()
            .args(["stance", "\u{1b}[2JJPN", "hostile"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            !out.stderr.contains(&ESC),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bad = l.scratch("bad.jsonl");
        std::fs::write(&bad, obj(json!({"type": NASTY})) + "\n").unwrap();
        let err = l.fails(&["import", bad.to_str().unwrap()]);
        assert!(!err.as_bytes().contains(&ESC), "{err}");
    }
}

#[test]
fn recorded_by_must_be_one_clean_line() {
    for l in TestLedger::each() {
        let rec = |by: &str| {
            l.cmd()
                .args([
                    "--by",
                    by,
                    "record",
                    "--actor",
                    "JPN",
                    "--issue",
                    "x",
                    "--position",
                    "support",
                    "--stated-on",
                    "2019-12-23",
                    "--summary",
                    "s",
                ])
                .output()
                .unwrap()
        };
        for by in ["evil\u{1b}[2J", "two\nlines", &"n".repeat(501)] {
            let out = rec(by);
            assert_eq!(out.status.code(), Some(1), "{by:?}");
            assert!(!out.stderr.contains(&ESC));
        }
        assert!(!l.path().join("db").exists() || l.head().starts_with("0:"));
        assert!(rec(&"n".repeat(500)).status.success());
    }
}

#[test]
fn dates_at_the_edges_of_the_calendar_query_correctly() {
    for l in TestLedger::each() {
        let at = "2020-06-01T00:00:00Z";
        let rec = |date: &str, pos: &str| {
            run_ok(l.at(at).args([
                "record",
                "--actor",
                "JPN",
                "--issue",
                "edge",
                "--position",
                pos,
                "--stated-on",
                date,
                "--summary",
                date,
            ]));
        };
        rec("0001-01-01", "oppose");
        rec("2020-02-29", "support");
        let stance =
            |as_of: &str| l.json(&["stance", "JPN", "edge", "--as-of", as_of])["position"].clone();
        assert_eq!(stance("0001-01-01"), "oppose");
        assert_eq!(stance("2020-02-28"), "oppose");
        assert_eq!(stance("2020-02-29"), "support");
        assert_eq!(stance("9999-12-31"), "support");
        // Bad dates on the command line are usage errors (exit 2) naming the value.
        for bad in ["2019-02-29", "0000-01-01", "10000-01-01", "2019-13-01"] {
            let out = l
                .cmd()
                .args(["stance", "JPN", "edge", "--as-of", bad])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{bad}");
            assert!(String::from_utf8_lossy(&out.stderr).contains(bad));
        }
        let out = l
            .at(at)
            .args([
                "record",
                "--actor",
                "JPN",
                "--issue",
                "edge",
                "--position",
                "support",
                "--stated-on",
                "9999-12-31",
                "--summary",
                "future",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("after the recording date 2020-06-01")
        );
    }
}

#[test]
fn known_at_with_offsets_is_the_same_instant_in_utc() {
    for l in TestLedger::each() {
        let rec = |now: &str, pos: &str| {
            run_ok(l.at(now).args([
                "record",
                "--actor",
                "JPN",
                "--issue",
                "tz",
                "--position",
                pos,
                "--stated-on",
                "2019-12-01",
                "--summary",
                pos,
            ]));
        };
        rec("2020-01-01T00:00:00Z", "support");
        // An amendment-free change of mind: a later statement on the same day.
        rec("2020-01-02T12:00:00Z", "oppose");
        let known = |k: &str| {
            l.json(&[
                "stance",
                "JPN",
                "tz",
                "--as-of",
                "2019-12-31",
                "--known-at",
                k,
            ])["position"]
                .clone()
        };
        // 09:00 in Tokyo is midnight UTC: the first event is known, the second not.
        assert_eq!(known("2020-01-01T09:00:00+09:00"), "support");
        assert_eq!(known("2020-01-01T00:00:00Z"), "support");
        assert_eq!(known("2020-01-01T08:59:59.999999+09:00"), Value::Null);
        assert_eq!(known("2019-12-31T23:59:59.999999Z"), Value::Null);
        // 07:00 in New York on the 2nd is noon UTC.
        assert_eq!(known("2020-01-02T07:00:00-05:00"), "oppose");
        assert_eq!(known("2020-01-02T06:59:59-05:00"), "support");
        assert_eq!(known("2020-01-02T12:00:00+00:00"), "oppose");
        // A bare date is the end of that day in UTC.
        assert_eq!(known("2020-01-01"), "support");
        assert_eq!(known("2020-01-02"), "oppose");
        for bad in [
            "2020-01-01T25:00:00Z",
            "2020-01-01 09:00",
            "yesterday",
            "2020-01-01T09:00:00+25:00",
        ] {
            let out = l
                .cmd()
                .args(["stance", "JPN", "tz", "--known-at", bad])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{bad}");
        }
    }
}

/// Peak resident memory of a running child, in KiB, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `import -` on generated input (`lines` lines; `line(i)` for 1-based
/// line i) against a ledger holding one event, watching the child's peak
/// memory; returns (stderr, peak RSS in MiB, seconds). The input is
/// generated while it is read, so the test itself holds none of it.
fn import_generated(
    lines: u64,
    line: impl Fn(u64) -> String + Send + 'static,
) -> (String, u64, f64) {
    let l = seeded();
    let before = l.head();
    let start = Instant::now();
    let mut child = crate::support::process(&l.path(), "tester")
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut stdin);
        for i in 1..=lines {
            writeln!(w, "{}", line(i)).unwrap();
        }
    });
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    writer.join().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(peak > 0, "could not read the child's memory");
    // Nothing written: the head and the whole ledger are as before.
    assert_eq!(l.head(), before, "{stderr}");
    let v = l.json(&["verify"]);
    assert_eq!(v["events"], 1);
    assert_eq!(l.ok(&["export"]).lines().count(), 1);
    (stderr, peak / 1024, start.elapsed().as_secs_f64())
}

fn compact_statement(i: u64) -> String {
    format!(
        r#"{{"type":"statement","actor":"JPN","issue":"i{i}","position":"support","stated_on":"2019-12-23","summary":"s"}}"#
    )
}

#[test]
fn a_million_line_import_with_a_bad_last_line_writes_nothing_in_bounded_memory() {
    const LINES: u64 = 1_000_000;
    let (stderr, peak_mib, secs) = import_generated(LINES, |i| {
        if i < LINES {
            compact_statement(i)
        } else {
            r#"{"type":"statement","actor":"JP","issue":"last","postion":"support"}"#.into()
        }
    });
    eprintln!("1M-line import, bad last line: {secs:.1} s, peak RSS {peak_mib} MiB");
    assert!(
        stderr.starts_with(&format!("error: <stdin>:{LINES}: ")) && stderr.contains("postion"),
        "{stderr}"
    );
    assert!(peak_mib < 400, "peak RSS {peak_mib} MiB");
}

#[test]
fn a_large_import_failing_on_a_rule_of_its_last_line_discards_everything_in_bounded_memory() {
    // The last line is well-formed but retracts a statement that does not
    // exist: only the appending pass can tell, after writing every line
    // before it (many write batches) -- which must then all be discarded.
    const LINES: u64 = 120_000;
    let (stderr, peak_mib, secs) = import_generated(LINES, |i| {
        if i < LINES {
            compact_statement(i)
        } else {
            r#"{"type":"retraction","target":"00000000-0000-4000-8000-000000000000","reason":"x"}"#
                .into()
        }
    });
    eprintln!(
        "120k-line import, rule broken on the last line: {secs:.1} s, peak RSS {peak_mib} MiB"
    );
    assert!(
        stderr.starts_with(&format!("error: <stdin>:{LINES}: "))
            && stderr.contains("no such statement"),
        "{stderr}"
    );
    assert!(peak_mib < 400, "peak RSS {peak_mib} MiB");
}

fn valid_record() -> Vec<u8> {
    use stancelog::{Event, Fact, Position, Statement};
    let event = Event {
        seq: 7,
        id: uuid::Uuid::from_u128(0x1234),
        recorded_at: "2020-01-01T00:00:00.123456Z".parse().unwrap(),
        recorded_by: "tester".into(),
        prev_hash: [1; 32],
        hash: [2; 32],
        payload: Fact::StatementRecorded(Statement {
            actor: "JPN".parse().unwrap(),
            issue: "senkaku-islands".parse().unwrap(),
            position: Position::Support,
            stated_on: "2019-12-23".parse().unwrap(),
            summary: "s".into(),
            quote: Some("新時代".into()),
            speaker: None,
            source_url: Some("https://a.example/".into()),
            source_title: None,
            details: Default::default(),
        }),
    };
    stancelog::internals::codec::encode(&event)
}

/// What the fuzz target `fuzz/fuzz_targets/import_line.rs` checks, run on
/// stable as a property test: whatever the bytes, the import parser never
/// panics, and every error names the input and a line.
fn parse_all(bytes: &[u8]) {
    use stancelog::internals::Lines;
    let mut last = 0;
    for item in Lines::new(bytes, "prop") {
        match item {
            Ok((line, wire)) => {
                assert!(line > last);
                last = line;
                if let Ok(req) = wire.to_request() {
                    let _ = req.command.validate();
                }
            }
            Err(stancelog::Error::Input {
                source_name, line, ..
            }) => {
                assert_eq!(source_name, "prop");
                assert!(line >= 1);
            }
            Err(other) => panic!("an input error naming no line: {other}"),
        }
    }
}

/// Fragments that make random input look like JSONL events.
fn jsonl_fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"{\"type\":\"statement\",".to_vec()),
        Just(b"\"actor\":\"JPN\",\"issue\":\"a-b\",".to_vec()),
        Just(b"\"position\":\"support\",\"stated_on\":\"2019-12-23\",".to_vec()),
        Just(b"\"summary\":\"s\"}".to_vec()),
        Just(b"\"target\":\"00000000-0000-0000-0000-000000000000\",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\\u0000".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_import_parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        parse_all(&bytes);
    }

    #[test]
    fn the_import_parser_never_panics_on_near_jsonl(parts in proptest::collection::vec(jsonl_fragment(), 0..24)) {
        parse_all(&parts.concat());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = stancelog::internals::codec::decode(&bytes);
    }

    #[test]
    fn decoding_arbitrary_v1_bodies_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = vec![stancelog::internals::codec::FORMAT_V1];
        bytes.extend(body);
        let _ = stancelog::internals::codec::decode(&bytes);
    }

    #[test]
    fn decoding_damaged_records_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        huge_len in any::<bool>(),
    ) {
        let mut bytes = valid_record();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if huge_len {
            // A varint announcing a u64 length: must be bounded, not allocated.
            let i = cut.index(bytes.len() - 9) + 1;
            bytes[i] = 0xfd;
            bytes[i + 1..i + 9].copy_from_slice(&u64::MAX.to_le_bytes());
        } else {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let _ = stancelog::internals::codec::decode(&bytes);
    }
}

#[test]
fn the_valid_record_used_above_decodes() {
    let e = stancelog::internals::codec::decode(&valid_record()).unwrap();
    assert_eq!(e.seq, 7);
}
