//! The page of `report`: one self-contained HTML file (no scripts, no
//! fonts, no images, no links to fetch; a Content-Security-Policy that
//! forbids loading anything) with the stance matrix, a chart per issue, the
//! changes of the last period, the audit trail's summary and the digest
//! with the command that checks it. Pure: a [`Page`] goes in, HTML comes
//! out.
//!
//! Text from the ledger goes through [`super::xml`], as in the charts; the only markup not built element by
//! element is the constant style sheet and the charts' SVG, which
//! [`super::svg`] escaped already.

use std::collections::HashMap;
use std::io;

use chrono::NaiveDate;
use quick_xml::events::{BytesText, Event};

use stancelog::{format_timestamp, hex_hash, Actor, Authorship, Change, Head, Issue, Stance};

use super::palette::{swatch, POSITIONS};
use super::xml::{document, el, text, W};

/// Everything a report shows, read from one snapshot of the ledger.
#[derive(Clone, Debug)]
pub struct Page {
    /// The date whose stances the matrix shows.
    pub as_of: NaiveDate,
    /// The `--known-at` moment, as given, if one was.
    pub known_at: Option<String>,
    /// The last event the report covers: its digest is printed.
    pub head: Head,
    /// The matrix's rows: each issue with its heading.
    pub issues: Vec<(Issue, String)>,
    /// The matrix's columns.
    pub actors: Vec<Actor>,
    /// The stances in force as of `as_of`.
    pub stances: Vec<Stance>,
    /// Each issue's chart, as SVG.
    pub charts: Vec<(Issue, String)>,
    /// The period whose changes are listed (both dates included).
    pub period: (NaiveDate, NaiveDate),
    /// The stances that changed in that period.
    pub changes: Vec<Change>,
    /// The audit trail's summary.
    pub authorship: Vec<Authorship>,
}

/// How many days before `--as-of` the "changes" section looks back.
pub const PERIOD_DAYS: i64 = 30;

/// The style sheet: a constant, so it is written as it is.
const STYLE: &str = "
body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px; padding: 0 1em; color: #111111; background: #ffffff; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #cccccc; padding-bottom: 0.2em; }
p.meta { color: #555555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #cccccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.matrix { display: block; overflow-x: auto; max-width: 100%; }
td.pos { font-weight: bold; white-space: nowrap; }
td.pos small { display: block; font-weight: normal; }
td.none { color: #999999; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eeeeee; }
code, pre { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; }
pre { background: #f3f3f3; padding: 0.6em; overflow-x: auto; }
.legend span { display: inline-block; margin-right: 1em; }
.legend b { display: inline-block; width: 1.4em; height: 0.8em; margin-right: 0.3em; vertical-align: middle; }
@media print { figure { break-inside: avoid; } }
";

/// Forbids the page from loading anything: a report read offline, or on a
/// machine that must not call out, behaves the same.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The HTML of `page`.
pub fn html(page: &Page) -> String {
    document(|w| write_page(w, page))
}

/// A section of the page: its id (which the browser test looks for), its
/// heading, and what `f` writes under it.
fn section(
    w: &mut W,
    id: &str,
    heading: &str,
    f: impl FnOnce(&mut W) -> io::Result<()>,
) -> io::Result<()> {
    w.create_element("section")
        .with_attribute(("id", id))
        .write_inner_content(|w| {
            el(w, "h2", &[], heading)?;
            f(w)
        })?;
    Ok(())
}

/// A table row of header cells.
fn header_row(w: &mut W, headers: &[&str]) -> io::Result<()> {
    w.create_element("tr").write_inner_content(|w| {
        for h in headers {
            el(w, "th", &[("scope", "col")], h)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// A table row of plain cells.
fn plain_row(w: &mut W, cells: &[&str]) -> io::Result<()> {
    w.create_element("tr").write_inner_content(|w| {
        for c in cells {
            el(w, "td", &[], c)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_page(w: &mut W, page: &Page) -> io::Result<()> {
    w.write_event(Event::DocType(BytesText::from_escaped("html")))?;
    let title = format!("stancelog report as of {}", page.as_of);
    w.create_element("html")
        .with_attribute(("lang", "en"))
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                w.create_element("meta")
                    .with_attribute(("charset", "utf-8"))
                    .write_empty()?;
                w.create_element("meta")
                    .with_attributes([("http-equiv", "Content-Security-Policy"), ("content", CSP)])
                    .write_empty()?;
                w.create_element("meta")
                    .with_attributes([
                        ("name", "viewport"),
                        ("content", "width=device-width, initial-scale=1"),
                    ])
                    .write_empty()?;
                el(w, "title", &[], &title)?;
                w.create_element("style")
                    .write_text_content(BytesText::from_escaped(STYLE))?;
                Ok(())
            })?;
            w.create_element("body").write_inner_content(|w| {
                el(w, "h1", &[], &title)?;
                el(w, "p", &[("class", "meta")], &describe(page))?;
                matrix(w, page)?;
                charts(w, page)?;
                changes(w, page)?;
                audit(w, page)?;
                digest(w, page)
            })?;
            Ok(())
        })?;
    Ok(())
}

/// What the page covers, in one sentence.
fn describe(page: &Page) -> String {
    let known = match &page.known_at {
        Some(t) => format!("as the ledger stood at {t}"),
        None => "as the ledger stands".to_owned(),
    };
    if page.head.seq == 0 {
        return format!("Stances in force on {}, {known}: no events.", page.as_of);
    }
    format!(
        "Stances in force on {}, {known}: {} events, the last recorded at {}.",
        page.as_of,
        page.head.seq,
        format_timestamp(&page.head.recorded_at)
    )
}

fn legend(w: &mut W) -> io::Result<()> {
    w.create_element("p")
        .with_attribute(("class", "legend"))
        .write_inner_content(|w| {
            for p in POSITIONS {
                let style = format!("background: {}", swatch(p).rgb.hex());
                w.create_element("span").write_inner_content(|w| {
                    el(w, "b", &[("style", &style)], "")?;
                    w.write_event(Event::Text(BytesText::new(p.as_str())))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(())
}

fn matrix(w: &mut W, page: &Page) -> io::Result<()> {
    section(w, "matrix", &format!("Stances as of {}", page.as_of), |w| {
        if page.issues.is_empty() {
            return el(w, "p", &[], "No statements recorded.").map(|_| ());
        }
        legend(w)?;
        w.create_element("table")
            .with_attribute(("class", "matrix"))
            .write_inner_content(|w| {
                w.create_element("thead").write_inner_content(|w| {
                    w.create_element("tr").write_inner_content(|w| {
                        el(w, "th", &[("scope", "col")], "issue")?;
                        for a in &page.actors {
                            el(w, "th", &[("scope", "col")], a.as_str())?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
                let cells: Cells<'_> = page
                    .stances
                    .iter()
                    .map(|s| ((&s.issue, &s.actor), s))
                    .collect();
                w.create_element("tbody").write_inner_content(|w| {
                    for (issue, heading) in &page.issues {
                        row(w, &page.actors, &cells, issue, heading)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

/// The cells of the matrix: the stance in force per (issue, actor).
type Cells<'a> = HashMap<(&'a Issue, &'a Actor), &'a Stance>;

fn row(
    w: &mut W,
    actors: &[Actor],
    cells: &Cells<'_>,
    issue: &Issue,
    heading: &str,
) -> io::Result<()> {
    w.create_element("tr")
        .with_attribute(("data-issue", text(issue.as_str()).as_ref()))
        .write_inner_content(|w| {
            w.create_element("th")
                .with_attribute(("scope", "row"))
                .write_inner_content(|w| {
                    w.write_event(Event::Text(BytesText::new(&text(heading))))?;
                    if heading != issue.as_str() {
                        el(w, "small", &[], &format!(" ({issue})"))?;
                    }
                    Ok(())
                })?;
            for a in actors {
                match cells.get(&(issue, a)) {
                    None => {
                        el(w, "td", &[("class", "none")], "")?;
                    }
                    Some(s) => {
                        let sw = swatch(s.position).rgb.hex();
                        let ink = match s.position {
                            stancelog::Position::Support | stancelog::Position::Oppose => "#ffffff",
                            _ => "#111111",
                        };
                        let style = format!("background: {sw}; color: {ink}");
                        let class = format!("pos {}", s.position);
                        w.create_element("td")
                            .with_attributes([
                                ("class", class.as_str()),
                                ("style", style.as_str()),
                                ("title", text(&s.summary).as_ref()),
                            ])
                            .write_inner_content(|w| {
                                w.write_event(Event::Text(BytesText::new(s.position.as_str())))?;
                                el(w, "small", &[], &s.stated_on.to_string())?;
                                Ok(())
                            })?;
                    }
                }
            }
            Ok(())
        })?;
    Ok(())
}

fn charts(w: &mut W, page: &Page) -> io::Result<()> {
    section(w, "charts", "Positions over time", |w| {
        for (issue, svg) in &page.charts {
            let id = format!("chart-{issue}");
            w.create_element("figure")
                .with_attributes([("class", "chart"), ("id", text(&id).as_ref())])
                .write_inner_content(|w| {
                    // Built and escaped by `svg::svg`; its title is
                    // the issue's heading.
                    w.write_event(Event::Text(BytesText::from_escaped(svg.as_str())))?;
                    Ok(())
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn side(s: &Option<Stance>) -> String {
    match s {
        None => "none".into(),
        Some(s) => format!("{} (stated {})", s.position, s.stated_on),
    }
}

fn changes(w: &mut W, page: &Page) -> io::Result<()> {
    let (from, to) = page.period;
    section(w, "changes", &format!("Changes from {from} to {to}"), |w| {
        if page.changes.is_empty() {
            return el(
                w,
                "p",
                &[],
                &format!("No stance changed between {from} and {to}."),
            )
            .map(|_| ());
        }
        w.create_element("table").write_inner_content(|w| {
            header_row(
                w,
                &["issue", "actor", &format!("on {from}"), &format!("on {to}")],
            )?;
            for c in &page.changes {
                w.create_element("tr").write_inner_content(|w| {
                    el(w, "td", &[], c.issue.as_str())?;
                    el(w, "td", &[], c.actor.as_str())?;
                    el(w, "td", &[], &side(&c.from))?;
                    let summary = c.to.as_ref().map_or("", |s| s.summary.as_str());
                    el(w, "td", &[("title", &text(summary))], &side(&c.to))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

fn audit(w: &mut W, page: &Page) -> io::Result<()> {
    section(w, "audit", "Audit trail", |w| {
        let total: u64 = page.authorship.iter().map(|a| a.events).sum();
        let mut authors: Vec<&str> = page
            .authorship
            .iter()
            .map(|a| a.recorded_by.as_str())
            .collect();
        authors.dedup();
        let first = page.authorship.iter().map(|a| a.first_recorded_at).min();
        let last = page.authorship.iter().map(|a| a.last_recorded_at).max();
        let span = match (first, last) {
            (Some(f), Some(l)) => format!(
                ", recorded from {} to {}",
                format_timestamp(&f),
                format_timestamp(&l)
            ),
            _ => String::new(),
        };
        let who = if authors.len() == 1 {
            "author"
        } else {
            "authors"
        };
        el(
                w,
                "p",
                &[],
                &format!(
                    "{total} events by {} {who}{span}. Every edit is an event of its own, and stancelog log lists them all.",
                    authors.len()
                ),
            )?;
        if page.authorship.is_empty() {
            return Ok(());
        }
        w.create_element("table").write_inner_content(|w| {
            header_row(
                w,
                &[
                    "recorded by",
                    "type",
                    "events",
                    "first recorded",
                    "last recorded",
                ],
            )?;
            for a in &page.authorship {
                plain_row(
                    w,
                    &[
                        &a.recorded_by,
                        &a.kind,
                        &a.events.to_string(),
                        &format_timestamp(&a.first_recorded_at),
                        &format_timestamp(&a.last_recorded_at),
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

/// The digest of the last event covered, and the command that checks a
/// ledger still extends it.
pub fn verify_command(head: &Head) -> String {
    format!(
        "stancelog verify --digest {}:{}",
        head.seq,
        hex_hash(&head.hash)
    )
}

fn digest(w: &mut W, page: &Page) -> io::Result<()> {
    let digest = format!("{}:{}", page.head.seq, hex_hash(&page.head.hash));
    section(w, "digest", "Digest", |w| {
        w.create_element("p").write_inner_content(|w| {
                w.write_event(Event::Text(BytesText::new(
                    "This report covers the ledger up to the event whose seq and hash are ",
                )))?;
                el(w, "code", &[("class", "digest")], &digest)?;
                w.write_event(Event::Text(BytesText::new(
                    ". Anyone with a copy of the ledger checks that its history still extends this digest (nothing covered here was changed or removed) with:",
                )))?;
                Ok(())
            })?;
        // Text straight inside `pre`: a child element would get the
        // writer's indentation, which `pre` shows and a copy would keep.
        el(
            w,
            "pre",
            &[("class", "verify-command")],
            &verify_command(&page.head),
        )?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stancelog::Position;

    fn stance(actor: &str, issue: &str, position: Position, summary: &str) -> Stance {
        crate::cli::testing::stance(actor, issue, position, "2019-12-23", 1, summary)
    }

    fn page(summary: &str, author: &str) -> Page {
        let when = "2026-01-01T00:00:00Z".parse().unwrap();
        Page {
            as_of: "2020-01-01".parse().unwrap(),
            known_at: None,
            head: Head {
                seq: 3,
                hash: [0xab; 32],
                recorded_at: when,
            },
            issues: vec![("senkaku-islands".parse().unwrap(), "senkaku-islands".into())],
            actors: vec![
                "CHN".parse().unwrap(),
                "JPN".parse().unwrap(),
                "RUS".parse().unwrap(),
            ],
            stances: vec![
                stance("CHN", "senkaku-islands", Position::Oppose, summary),
                stance("JPN", "senkaku-islands", Position::Support, "s"),
            ],
            charts: vec![(
                "senkaku-islands".parse().unwrap(),
                "<svg xmlns=\"http://www.w3.org/2000/svg\"><title>t</title></svg>".into(),
            )],
            period: ("2019-12-02".parse().unwrap(), "2020-01-01".parse().unwrap()),
            changes: vec![Change {
                actor: "CHN".parse().unwrap(),
                issue: "senkaku-islands".parse().unwrap(),
                position_changed: true,
                from: None,
                to: Some(stance("CHN", "senkaku-islands", Position::Oppose, summary)),
            }],
            authorship: vec![Authorship {
                recorded_by: author.into(),
                kind: "statement".into(),
                events: 3,
                first_recorded_at: when,
                last_recorded_at: when,
            }],
        }
    }

    /// The page parsed as XML: quick-xml writes well-formed markup, so a
    /// test can read it with roxmltree (the browser test reads it as HTML).
    fn parse(html: &str) -> roxmltree::Document<'_> {
        let body = html.trim_start_matches("<!DOCTYPE html>");
        roxmltree::Document::parse(body)
            .unwrap_or_else(|e| panic!("not well-formed ({e}):\n{html}"))
    }

    fn by_id<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no #{id}"))
    }

    #[test]
    fn the_page_has_the_matrix_the_charts_the_changes_the_audit_and_the_digest() {
        let out = html(&page("s", "analyst"));
        assert!(out.starts_with("<!DOCTYPE html>"));
        let doc = parse(&out);
        let matrix = by_id(&doc, "matrix");
        let cells: Vec<_> = matrix
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .map(|n| n.attribute("class").unwrap())
            .collect();
        assert_eq!(cells, ["pos oppose", "pos support", "none"]);
        let oppose = matrix
            .descendants()
            .find(|n| n.attribute("class") == Some("pos oppose"))
            .unwrap();
        assert!(oppose
            .attribute("style")
            .unwrap()
            .contains(&swatch(Position::Oppose).rgb.hex()));
        let charts = by_id(&doc, "chart-senkaku-islands");
        assert!(charts.descendants().any(|n| n.has_tag_name("svg")));
        let changes = by_id(&doc, "changes");
        assert_eq!(
            changes
                .descendants()
                .filter(|n| n.has_tag_name("tr"))
                .count(),
            2
        );
        let audit = by_id(&doc, "audit");
        let tds: Vec<_> = audit
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(
            tds,
            [
                "analyst",
                "statement",
                "3",
                "2026-01-01T00:00:00.000000Z",
                "2026-01-01T00:00:00.000000Z"
            ]
        );
        let hash = "ab".repeat(32);
        let command = by_id(&doc, "digest")
            .descendants()
            .find(|n| n.attribute("class") == Some("verify-command"))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(command, format!("stancelog verify --digest 3:{hash}"));
    }

    #[test]
    fn the_page_loads_nothing_and_runs_nothing() {
        let out = html(&page("s", "analyst"));
        let doc = parse(&out);
        for n in doc.descendants().filter(|n| n.is_element()) {
            let name = n.tag_name().name();
            assert!(
                !["script", "link", "img", "iframe", "object", "embed"].contains(&name),
                "{name}"
            );
            for a in n.attributes() {
                assert!(!a.name().starts_with("on"), "event handler {}", a.name());
                assert!(a.name() != "src" && a.name() != "href", "{}", a.name());
            }
        }
        let csp = doc
            .descendants()
            .find(|n| n.attribute("http-equiv") == Some("Content-Security-Policy"))
            .and_then(|n| n.attribute("content"));
        assert_eq!(csp, Some(CSP));
    }

    #[test]
    fn hostile_text_in_the_page_stays_text() {
        let evil = "</td></table><script>alert(1)</script><img src=x onerror=alert(2)>\u{1b}[2J\u{202e}\"'";
        let out = html(&page(evil, evil));
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
        assert!(!out.contains("<script") && !out.contains("<img"));
        let doc = parse(&out);
        let author = by_id(&doc, "audit")
            .descendants()
            .find(|n| n.has_tag_name("td"))
            .and_then(|n| n.text())
            .unwrap();
        assert!(author.starts_with("</td></table><script>"), "{author}");
        assert!(author.contains("\\u{1b}[2J\\u{202e}"), "{author}");
        let title = by_id(&doc, "matrix")
            .descendants()
            .find(|n| n.attribute("class") == Some("pos oppose"))
            .and_then(|n| n.attribute("title"))
            .unwrap();
        assert!(title.contains("onerror=alert(2)>"));
    }
}
