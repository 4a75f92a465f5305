//! `chart` and `report` through the real binary: the files they write are
//! parsed (SVG with roxmltree; the report, which quick-xml writes
//! well-formed, too) and checked for lanes, markers, colours, titles, the
//! matrix, the changes, the audit summary and the digest; failures write
//! nothing; hostile statement text stays text.

use std::path::Path;

use serde_json::Value;

use crate::support::{run_fails, TestLedger};

const SUPPORT: &str = "#009e73";
const OPPOSE: &str = "#d55e00";
const MIXED: &str = "#e6b400";

/// The clock of `at` commands, late enough for every statement below.
const LATER: &str = "2026-03-01T00:00:00Z";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Elements whose `class` has the word `class`.
fn with_class<'a>(doc: &'a roxmltree::Document<'a>, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|w| w == class))
        })
        .collect()
}

/// The markers (not the legend's keys) of one lane, as (kind, position, fill).
fn marks(lane: roxmltree::Node<'_, '_>) -> Vec<(String, String, String)> {
    lane.descendants()
        .filter(|n| n.has_attribute("data-date"))
        .map(|n| {
            let class = n.attribute("class").unwrap();
            let kind = class.strip_prefix("mark ").unwrap().to_owned();
            let attr = |k: &str| n.attribute(k).unwrap().to_owned();
            (kind, attr("data-position"), attr("fill"))
        })
        .collect()
}

fn segments(lane: roxmltree::Node<'_, '_>) -> Vec<(String, String)> {
    lane.descendants()
        .filter(|n| n.attribute("class") == Some("segment"))
        .map(|n| {
            let attr = |k: &str| n.attribute(k).unwrap().to_owned();
            (attr("data-position"), attr("fill"))
        })
        .collect()
}

fn title_of(doc: &roxmltree::Document<'_>) -> String {
    with_class(doc, "title")[0]
        .descendants()
        .filter(|n| n.is_text() && !n.text().unwrap().trim().is_empty())
        .map(|n| n.text().unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn chart(l: &TestLedger, args: &[&str]) -> String {
    let out = l.scratch("chart.svg");
    let mut all = vec!["chart"];
    all.extend_from_slice(args);
    all.extend(["-o", out.to_str().unwrap()]);
    l.ok(&all);
    read(&out)
}

fn id_of(l: &TestLedger, actor: &str, issue: &str) -> String {
    let v = l.json(&["history", actor, issue]);
    v[0]["statement_id"].as_str().unwrap().to_owned()
}

#[test]
fn the_fixture_chart_has_a_lane_per_actor_coloured_by_position_and_the_issue_as_title() {
    for l in TestLedger::each() {
        l.import_article();
        let svg = chart(
            &l,
            &["north-korea-sanctions-relief", "--as-of", "2020-06-30"],
        );
        let doc = roxmltree::Document::parse(&svg).expect("valid SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert_eq!(title_of(&doc), "north-korea-sanctions-relief");
        let lanes = with_class(&doc, "lane");
        let actors: Vec<_> = lanes
            .iter()
            .map(|l| l.attribute("data-actor").unwrap())
            .collect();
        assert_eq!(actors, ["CHN", "JPN", "RUS"]);
        let colour = |p: &str, c: &str| vec![(p.to_owned(), c.to_owned())];
        assert_eq!(segments(lanes[0]), colour("support", SUPPORT));
        assert_eq!(segments(lanes[1]), colour("oppose", OPPOSE));
        assert_eq!(segments(lanes[2]), colour("support", SUPPORT));
        assert_eq!(
            marks(lanes[1]),
            [("stated".to_owned(), "oppose".to_owned(), OPPOSE.to_owned())]
        );
        let dates: Vec<_> = with_class(&doc, "tick-label")
            .iter()
            .map(|n| n.text().unwrap().to_owned())
            .collect();
        assert_eq!(dates.first().map(String::as_str), Some("2020-01"));
        assert_eq!(dates.last().map(String::as_str), Some("2020-06"));
    }
}

#[test]
fn amended_and_retracted_statements_have_their_own_markers_and_known_at_shows_the_past() {
    for l in TestLedger::each() {
        l.import_article();
        let jpn = id_of(&l, "JPN", "senkaku-islands");
        let before = l.json(&["head"])["recorded_at"]
            .as_str()
            .unwrap()
            .to_owned();
        l.ok(&[
            "amend",
            &jpn,
            "--reason",
            "a test correction",
            "--position",
            "mixed",
        ]);
        l.ok(&[
            "record",
            "--actor",
            "CHN",
            "--issue",
            "senkaku-islands",
            "--position",
            "neutral",
            "--stated-on",
            "2019-06-01",
            "--summary",
            "An earlier statement, withdrawn.",
        ]);
        let early = l.json(&["history", "CHN", "senkaku-islands"])[0]["statement_id"]
            .as_str()
            .unwrap()
            .to_owned();
        l.ok(&["retract", &early, "--reason", "wrong source"]);

        let svg = chart(&l, &["senkaku-islands", "--as-of", "2020-01-31"]);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lanes = with_class(&doc, "lane");
        let m = |k: &str, p: &str, c: &str| (k.to_owned(), p.to_owned(), c.to_owned());
        assert_eq!(
            marks(lanes[0]),
            [
                m("retracted", "neutral", "#ffffff"),
                m("stated", "oppose", OPPOSE)
            ],
            "the retracted statement is hollow"
        );
        assert_eq!(marks(lanes[1]), [m("amended", "mixed", MIXED)]);
        // The retracted statement puts nothing in force: CHN's only segment is
        // the opposition of 2019-12-23.
        assert_eq!(
            segments(lanes[0]),
            [("oppose".to_owned(), OPPOSE.to_owned())]
        );
        assert_eq!(segments(lanes[1]), [("mixed".to_owned(), MIXED.to_owned())]);

        // As the ledger stood before the correction.
        let svg = chart(
            &l,
            &[
                "senkaku-islands",
                "--as-of",
                "2020-01-31",
                "--known-at",
                &before,
            ],
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lanes = with_class(&doc, "lane");
        assert_eq!(marks(lanes[0]), [m("stated", "oppose", OPPOSE)]);
        assert_eq!(marks(lanes[1]), [m("stated", "support", SUPPORT)]);
        let caption = with_class(&doc, "caption")[0]
            .descendants()
            .filter_map(|n| n.text())
            .collect::<String>();
        assert!(caption.contains("seq 25"), "{caption}");
        // The same moment named by its seq.
        let by_seq = chart(
            &l,
            &[
                "senkaku-islands",
                "--as-of",
                "2020-01-31",
                "--known-at",
                "seq:25",
            ],
        );
        assert_eq!(by_seq, svg);
    }
}

#[test]
fn actor_and_window_flags_choose_lanes_and_dates() {
    for l in TestLedger::each() {
        l.import_article();
        let svg = chart(
            &l,
            &[
                "north-korea-sanctions-relief",
                "--actor",
                "RUS",
                "--actor",
                "JPN",
                "--from",
                "2019-12-20",
                "--to",
                "2019-12-26",
            ],
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let actors: Vec<_> = with_class(&doc, "lane")
            .iter()
            .map(|l| l.attribute("data-actor").unwrap().to_owned())
            .collect();
        assert_eq!(actors, ["RUS", "JPN"], "in the order given");
        let dates: Vec<_> = with_class(&doc, "tick-label")
            .iter()
            .map(|n| n.text().unwrap().to_owned())
            .collect();
        assert_eq!(dates.first().map(String::as_str), Some("2019-12-20"));
        assert_eq!(dates.last().map(String::as_str), Some("2019-12-26"));
        // Standard output, with `-o -`.
        let out = l.ok(&["chart", "senkaku-islands", "-o", "-"]);
        assert!(roxmltree::Document::parse(&out).is_ok());
    }
}

#[test]
fn a_chart_that_cannot_be_drawn_fails_in_one_line_and_writes_nothing() {
    for l in TestLedger::each() {
        l.import_article();
        let out = l.scratch("x.svg");
        let o = out.to_str().unwrap();
        let err = l.fails(&["chart", "no-such-issue", "-o", o]);
        assert!(
            err.contains("no issue no-such-issue in this ledger"),
            "{err}"
        );
        let err = l.fails(&[
            "chart",
            "senkaku-islands",
            "--from",
            "2020-01-02",
            "--to",
            "2020-01-01",
            "-o",
            o,
        ]);
        assert!(
            err.contains("--from 2020-01-02 is after --to 2020-01-01"),
            "{err}"
        );
        // --json (like any --format) is a usage error for commands that write a
        // file, refused before any work.
        let usage = |args: &[&str]| crate::support::run_fails_with(l.cmd().args(args), 2);
        let err = usage(&["--json", "chart", "senkaku-islands", "-o", o]);
        assert!(err.contains("`chart` has no --json form"), "{err}");
        let err = usage(&["--json", "report", "-o", o]);
        assert!(err.contains("`report` has no --json form"), "{err}");
        let missing = l.scratch("no/such/dir/x.svg");
        let err = l.fails(&["chart", "senkaku-islands", "-o", missing.to_str().unwrap()]);
        assert!(err.starts_with("error: cannot write"), "{err}");
        assert!(!out.exists());
        let leftovers: Vec<_> = std::fs::read_dir(l.root())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".stancelog-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn hostile_statement_text_stays_text_in_the_chart_and_the_report() {
    for l in TestLedger::each() {
        let evil = "</title></text><script>alert(1)</script>\u{1b}[2J\u{202e}&amp;";
        l.ok(&[
            "record",
            "--actor",
            "JPN",
            "--issue",
            "hostile",
            "--position",
            "support",
            "--stated-on",
            "2019-12-23",
            "--summary",
            evil,
        ]);
        let svg = chart(&l, &["hostile"]);
        assert!(!svg.contains('\u{1b}') && !svg.contains('\u{202e}') && !svg.contains("<script"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let note = doc
            .descendants()
            .find(|n| n.attribute("data-date").is_some())
            .and_then(|n| n.children().find(|c| c.has_tag_name("title")))
            .and_then(|t| t.text())
            .unwrap();
        assert!(
            note.contains("</title></text><script>alert(1)</script>\\u{1b}[2J\\u{202e}&amp;"),
            "{note}"
        );

        let page = l.scratch("r.html");
        l.ok(&["report", "-o", page.to_str().unwrap()]);
        let html = read(&page);
        assert!(
            !html.contains('\u{1b}') && !html.contains('\u{202e}') && !html.contains("<script")
        );
        assert!(roxmltree::Document::parse(html.trim_start_matches("<!DOCTYPE html>")).is_ok());
    }
}

/// The report of the fixture with one later statement, parsed.
fn fixture_report(l: &TestLedger, extra: &[&str]) -> String {
    let page = l.scratch("report.html");
    let mut args = vec!["report", "-o", page.to_str().unwrap()];
    args.extend_from_slice(extra);
    l.ok(&args);
    read(&page)
}

fn by_id<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no #{id}"))
}

fn html_doc(html: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(html.trim_start_matches("<!DOCTYPE html>")).expect("well-formed")
}

#[test]
fn the_report_has_the_matrix_a_chart_per_issue_the_changes_the_audit_and_a_digest_that_verifies() {
    for l in TestLedger::each() {
        l.import_article();
        let mut c = l.at(LATER);
        c.args([
            "record",
            "--actor",
            "RUS",
            "--issue",
            "senkaku-islands",
            "--position",
            "neutral",
            "--stated-on",
            "2026-02-20",
            "--summary",
            "Russia takes no side.",
        ]);
        crate::support::run_ok(&mut c);
        let html = fixture_report(&l, &["--as-of", "2026-03-01"]);
        let doc = html_doc(&html);

        let stances = l.json(&["stances", "--as-of", "2026-03-01"]);
        let stances = stances.as_array().unwrap();
        let matrix = by_id(&doc, "matrix");
        let rows: Vec<_> = matrix
            .descendants()
            .filter(|n| n.has_attribute("data-issue"))
            .collect();
        assert_eq!(rows.len(), 15, "one row per issue");
        let filled = matrix
            .descendants()
            .filter(|n| {
                n.has_tag_name("td") && n.attribute("class").is_some_and(|c| c.starts_with("pos "))
            })
            .count();
        assert_eq!(filled, stances.len());
        let senkaku = rows
            .iter()
            .find(|r| r.attribute("data-issue") == Some("senkaku-islands"))
            .unwrap();
        let cells: Vec<_> = senkaku
            .children()
            .filter(|n| n.has_tag_name("td"))
            .map(|n| n.attribute("class").unwrap().to_owned())
            .collect();
        assert_eq!(
            cells,
            ["pos oppose", "pos support", "pos neutral"],
            "CHN, JPN, RUS"
        );

        let charts = with_class(&doc, "chart");
        assert_eq!(charts.len(), 15, "one chart per issue");
        assert!(charts
            .iter()
            .all(|c| c.descendants().any(|n| n.has_tag_name("svg"))));

        let changes = by_id(&doc, "changes");
        let changed: Vec<_> = changes
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            changed,
            [
                "senkaku-islands",
                "RUS",
                "none",
                "neutral (stated 2026-02-20)"
            ],
            "the last 30 days' changes"
        );
        let heading = changes
            .children()
            .find(|n| n.has_tag_name("h2"))
            .and_then(|n| n.text());
        assert_eq!(heading, Some("Changes from 2026-01-30 to 2026-03-01"));

        let audit: Vec<_> = by_id(&doc, "audit")
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            audit,
            [
                "tester",
                "statement",
                "26",
                "2026-01-01T00:00:00.000000Z",
                "2026-03-01T00:00:00.000000Z",
            ]
        );

        let command = with_class(&doc, "verify-command")[0].text().unwrap();
        let head = l.head();
        assert_eq!(command, format!("stancelog verify --digest {head}"));
        let digest = command.strip_prefix("stancelog verify --digest ").unwrap();
        l.ok(&["verify", "--digest", digest]);
    }
}

#[test]
fn the_report_before_a_write_prints_the_digest_of_then_and_filters_choose_rows() {
    for l in TestLedger::each() {
        l.import_article();
        let then = l.head();
        let at = l.json(&["head"])["recorded_at"]
            .as_str()
            .unwrap()
            .to_owned();
        let jpn = id_of(&l, "JPN", "senkaku-islands");
        l.ok(&["amend", &jpn, "--reason", "test", "--position", "mixed"]);
        let html = fixture_report(
            &l,
            &[
                "--known-at",
                &at,
                "--issue",
                "senkaku-islands",
                "--issue",
                "hong-kong-protests",
                "--actor",
                "JPN",
            ],
        );
        let doc = html_doc(&html);
        let command = with_class(&doc, "verify-command")[0].text().unwrap();
        assert_eq!(command, format!("stancelog verify --digest {then}"));
        let digest = command.strip_prefix("stancelog verify --digest ").unwrap();
        l.ok(&["verify", "--digest", digest]);
        let rows: Vec<_> = by_id(&doc, "matrix")
            .descendants()
            .filter_map(|n| n.attribute("data-issue"))
            .collect();
        assert_eq!(rows, ["hong-kong-protests", "senkaku-islands"]);
        let cells: Vec<_> = by_id(&doc, "matrix")
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .map(|n| n.attribute("class").unwrap())
            .collect();
        assert_eq!(
            cells,
            ["pos support", "pos support"],
            "JPN only, before the amendment"
        );
        assert_eq!(with_class(&doc, "chart").len(), 2);
    }
}

#[test]
fn a_report_of_an_empty_selection_says_so() {
    for l in TestLedger::each() {
        l.import_article();
        let html = fixture_report(&l, &["--actor", "USA"]);
        let doc = html_doc(&html);
        let text: String = by_id(&doc, "matrix")
            .descendants()
            .filter_map(|n| n.text())
            .collect();
        assert!(text.contains("No statements recorded."), "{text}");
        let err = run_fails(l.cmd().args(["report", "-o", l.root().to_str().unwrap()]));
        assert!(err.contains("is a directory"), "{err}");
    }
}

/// The measurements the issue asks for, printed for the docs: the size of
/// the chart and of the report for the fixture.
#[test]
fn chart_and_report_sizes_for_the_fixture() {
    for l in TestLedger::each() {
        l.import_article();
        let svg = chart(&l, &["senkaku-islands"]);
        let html = fixture_report(&l, &[]);
        let v: Value = l.json(&["head"]);
        eprintln!(
            "fixture ({} events): chart senkaku-islands {} bytes, report {} bytes",
            v["seq"],
            svg.len(),
            html.len()
        );
        assert!(svg.len() < 20_000 && html.len() < 200_000);
    }
}

/// The chart the README shows, `docs/chart-sanctions-relief.svg`, is what
/// the command draws for the fixture (imported at the pinned clock, as the
/// README's tour does). After a deliberate change to the picture,
/// `STANCELOG_UPDATE_DOCS=1 cargo test --test it viz::the_readme` redraws it.
#[test]
fn the_readme_chart_is_what_the_command_draws() {
    for l in TestLedger::each() {
        l.import_article();
        let svg = chart(
            &l,
            &["north-korea-sanctions-relief", "--as-of", "2020-06-30"],
        );
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/chart-sanctions-relief.svg");
        if std::env::var_os("STANCELOG_UPDATE_DOCS").is_some() {
            std::fs::write(&doc, &svg).unwrap();
        }
        assert!(
            read(&doc) == svg,
            "{} differs from what `stancelog chart` draws now; if the change is meant, run STANCELOG_UPDATE_DOCS=1 cargo test --test it viz::the_readme",
            doc.display()
        );
    }
}
