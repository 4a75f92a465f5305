//! The picture of `chart` (and of each issue in `report`): a timeline of
//! one issue with one lane per actor, coloured segments for the position in
//! force over time and a marker at each statement. Pure: a [`Chart`] built
//! from the library's answers ([`lane`], [`window`]) goes in, SVG text
//! comes out; the command around it reads the ledger and writes the file.
//! Text from the ledger enters through [`super::xml`], which escapes it.

use std::io;

use chrono::{Datelike, Duration, NaiveDate};
use quick_xml::events::BytesText;

use stancelog::{Position, Stance, StatementView};

use super::palette::{swatch, POSITIONS};
use super::xml::{document, el, text, W};

/// A chart: its title, a line saying what it shows, the dates it spans
/// (both included) and its lanes, top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    /// The heading: the issue's proposition.
    pub title: String,
    /// One line under the title: the issue, the dates, the moment known at.
    pub caption: String,
    /// The first day shown.
    pub from: NaiveDate,
    /// The last day shown.
    pub to: NaiveDate,
    /// One lane per actor.
    pub lanes: Vec<Lane>,
}

/// One actor's lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The actor as labelled on the left.
    pub label: String,
    /// The positions in force, in date order, not overlapping.
    pub segments: Vec<Segment>,
    /// One marker per statement.
    pub marks: Vec<Mark>,
}

/// A position in force from one day to another (both included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The first day it is in force.
    pub from: NaiveDate,
    /// The last day it is in force.
    pub until: NaiveDate,
    /// The position.
    pub position: Position,
    /// What the tooltip says.
    pub note: String,
}

/// What became of a statement, which its marker shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// Recorded and never edited: a filled circle.
    Stated,
    /// Amended at least once: a filled diamond.
    Amended,
    /// Retracted (it no longer counts): a hollow circle.
    Retracted,
}

impl MarkKind {
    fn class(self) -> &'static str {
        match self {
            MarkKind::Stated => "stated",
            MarkKind::Amended => "amended",
            MarkKind::Retracted => "retracted",
        }
    }
}

/// A statement's marker, at the date it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Its date (as amended).
    pub on: NaiveDate,
    /// Its position (as amended).
    pub position: Position,
    /// Whether it was amended or retracted.
    pub kind: MarkKind,
    /// What the tooltip says.
    pub note: String,
}

/// An actor's lane from the library's answers: `timeline` (the stances in
/// force, each from its `stated_on`) gives the segments, `history` (every
/// statement with its edits) the markers. Nothing stated after `as_of` is
/// drawn, and the last stance runs until `as_of`.
pub fn lane(label: &str, timeline: &[Stance], history: &[StatementView], as_of: NaiveDate) -> Lane {
    let shown: Vec<&Stance> = timeline.iter().filter(|s| s.stated_on <= as_of).collect();
    let segments = shown
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let until = shown
                .get(i + 1)
                .map_or(as_of, |next| next.stated_on - Duration::days(1));
            Segment {
                from: s.stated_on,
                until,
                position: s.position,
                note: format!(
                    "{label}: {} from {} to {until}: {}",
                    s.position, s.stated_on, s.summary
                ),
            }
        })
        .collect();
    let marks = history
        .iter()
        .filter(|v| v.statement.stated_on <= as_of)
        .map(|v| {
            let s = &v.statement;
            let (kind, fate) = match (&v.retraction, v.amendments.len()) {
                (Some(r), _) => (MarkKind::Retracted, format!(" (retracted: {})", r.reason)),
                (None, 0) => (MarkKind::Stated, String::new()),
                (None, 1) => (MarkKind::Amended, " (amended once)".to_owned()),
                (None, n) => (MarkKind::Amended, format!(" (amended {n} times)")),
            };
            Mark {
                on: s.stated_on,
                position: s.position,
                kind,
                note: format!(
                    "{label} {} {}: {}{fate}",
                    s.stated_on, s.position, s.summary
                ),
            }
        })
        .collect();
    Lane {
        label: label.to_owned(),
        segments,
        marks,
    }
}

/// The dates a chart spans: `from` and `to` where given, else from the
/// first thing drawn (or `as_of` when nothing is) to `as_of`.
pub fn window(
    lanes: &[Lane],
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate) {
    let first = lanes
        .iter()
        .flat_map(|l| {
            l.segments
                .iter()
                .map(|s| s.from)
                .chain(l.marks.iter().map(|m| m.on))
        })
        .min();
    let to = to.unwrap_or(as_of);
    let from = from.unwrap_or_else(|| first.unwrap_or(as_of).min(to));
    (from, to)
}

/// Width of the picture in SVG units (pixels at 100%): fits an A4 page's
/// text width and a 16:9 slide once scaled, as the SVG carries a viewBox.
const WIDTH: f64 = 960.0;
const MARGIN: f64 = 24.0;
const LABEL_WIDTH: f64 = 150.0;
const LANE_HEIGHT: f64 = 40.0;
const BAR_HEIGHT: f64 = 16.0;
/// Room at both ends of the plot, so a marker on the first or last day is
/// drawn whole.
const INSET: f64 = 10.0;
/// Characters per line of the title (20 px bold) and of the caption
/// (13 px) that fit the width.
const TITLE_CHARS: usize = 76;
const CAPTION_CHARS: usize = 120;
const FONT: &str = "DejaVu Sans, Helvetica, Arial, sans-serif";

/// Where days fall on the plot.
struct Scale {
    from: NaiveDate,
    days: f64,
    left: f64,
    width: f64,
}

impl Scale {
    /// The x of the start of day `d`.
    fn x(&self, d: NaiveDate) -> f64 {
        self.at((d - self.from).num_days() as f64)
    }
    /// The x of the end of day `d` (counted in days, so 9999-12-31 has one).
    fn end(&self, d: NaiveDate) -> f64 {
        self.at((d - self.from).num_days() as f64 + 1.0)
    }
    /// The x of the middle of day `d`.
    fn mid(&self, d: NaiveDate) -> f64 {
        self.at((d - self.from).num_days() as f64 + 0.5)
    }
    /// The x `days` after the start of the first day.
    fn at(&self, days: f64) -> f64 {
        self.left + INSET + days / self.days * (self.width - 2.0 * INSET)
    }
}

/// A number as SVG writes it: at most one decimal.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Words of `s` in lines of at most `max` characters (a longer word is cut).
fn wrap(s: &str, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let mut word: String = word.to_owned();
        while word.chars().count() > max {
            let cut: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(cut);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A unit of the axis's ticks.
#[derive(Clone, Copy)]
enum Unit {
    Day,
    Month,
    Year,
}

/// The ticks of the axis from `from` to `to`: the finest step among days,
/// months and years that gives at most `max` ticks, each with its label.
fn ticks(from: NaiveDate, to: NaiveDate, max: usize) -> Vec<(NaiveDate, String)> {
    const STEPS: [(Unit, u32); 15] = [
        (Unit::Day, 1),
        (Unit::Day, 2),
        (Unit::Day, 7),
        (Unit::Day, 14),
        (Unit::Month, 1),
        (Unit::Month, 2),
        (Unit::Month, 3),
        (Unit::Month, 6),
        (Unit::Year, 1),
        (Unit::Year, 2),
        (Unit::Year, 5),
        (Unit::Year, 10),
        (Unit::Year, 20),
        (Unit::Year, 50),
        (Unit::Year, 100),
    ];
    let mut last = Vec::new();
    for (unit, step) in STEPS {
        let ticks = ticks_of(from, to, unit, step, max + 1);
        if ticks.len() <= max {
            return ticks;
        }
        last = ticks;
    }
    last.truncate(max);
    last
}

/// Every tick of one step from `from` to `to` (at most `limit`).
fn ticks_of(
    from: NaiveDate,
    to: NaiveDate,
    unit: Unit,
    step: u32,
    limit: usize,
) -> Vec<(NaiveDate, String)> {
    let mut out = Vec::new();
    match unit {
        Unit::Day => {
            let mut d = from;
            while d <= to && out.len() < limit {
                out.push((d, d.format("%Y-%m-%d").to_string()));
                match d.checked_add_signed(Duration::days(i64::from(step))) {
                    Some(next) => d = next,
                    None => break,
                }
            }
        }
        Unit::Month | Unit::Year => {
            let months = if matches!(unit, Unit::Year) {
                12 * step
            } else {
                step
            };
            // Months counted from year 0, so steps align to calendar units.
            let index = |d: NaiveDate| d.year() as i64 * 12 + i64::from(d.month0());
            let mut m = index(from);
            if from.day() != 1 {
                m += 1;
            }
            let rem = m.rem_euclid(i64::from(months));
            if rem != 0 {
                m += i64::from(months) - rem;
            }
            while out.len() < limit {
                let Some(d) = i32::try_from(m.div_euclid(12))
                    .ok()
                    .and_then(|y| NaiveDate::from_ymd_opt(y, (m.rem_euclid(12) + 1) as u32, 1))
                else {
                    break;
                };
                if d > to {
                    break;
                }
                let label = match unit {
                    Unit::Year => d.format("%Y").to_string(),
                    _ => d.format("%Y-%m").to_string(),
                };
                out.push((d, label));
                m += i64::from(months);
            }
        }
    }
    out
}

/// The SVG of `chart`: a self-contained document (no scripts, fonts,
/// images or links), whose lanes, segments and markers carry classes and
/// `data-` attributes that say what they are.
pub fn svg(chart: &Chart) -> String {
    document(|w| draw(w, chart))
}

fn draw(w: &mut W, chart: &Chart) -> io::Result<()> {
    let title_lines = wrap(&text(&chart.title), TITLE_CHARS);
    let caption_lines = wrap(&text(&chart.caption), CAPTION_CHARS);
    let title_top = MARGIN + 20.0;
    let caption_y = title_top + 26.0 * (title_lines.len() as f64 - 1.0) + 22.0;
    let caption_bottom = caption_y + 18.0 * (caption_lines.len() as f64 - 1.0);
    // A tall chart repeats the axis above its lanes, so a date reads
    // without scrolling to the bottom.
    let top_axis = chart.lanes.len() > TOP_AXIS_LANES;
    let lanes_top = caption_bottom + if top_axis { 52.0 } else { 22.0 };
    let lanes_height = LANE_HEIGHT * chart.lanes.len().max(1) as f64;
    let axis_y = lanes_top + lanes_height;
    let legend_y = axis_y + 48.0;
    let height = legend_y + 8.0 + MARGIN;
    let scale = Scale {
        from: chart.from,
        days: ((chart.to - chart.from).num_days() + 1).max(1) as f64,
        left: MARGIN + LABEL_WIDTH,
        width: WIDTH - 2.0 * MARGIN - LABEL_WIDTH,
    };
    let (wt, ht) = (n(WIDTH), n(height));
    let view_box = format!("0 0 {wt} {ht}");
    w.create_element("svg")
        .with_attributes([
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("version", "1.1"),
            ("width", wt.as_str()),
            ("height", ht.as_str()),
            ("viewBox", view_box.as_str()),
            ("font-family", FONT),
            ("role", "img"),
            ("class", "stancelog-chart"),
        ])
        .write_inner_content(|w| {
            w.create_element("title")
                .write_text_content(BytesText::new(&text(&chart.title)))?;
            w.create_element("desc")
                .write_text_content(BytesText::new(&text(&chart.caption)))?;
            w.create_element("rect")
                .with_attributes([("width", "100%"), ("height", "100%"), ("fill", "#ffffff")])
                .write_empty()?;
            let title_style = [
                ("font-size", "20"),
                ("font-weight", "bold"),
                ("fill", "#111111"),
            ];
            lines_of(w, "title", &title_lines, title_top, 26.0, title_style)?;
            let caption_style = [
                ("font-size", "13"),
                ("font-weight", "normal"),
                ("fill", "#555555"),
            ];
            lines_of(w, "caption", &caption_lines, caption_y, 18.0, caption_style)?;
            for (i, lane) in chart.lanes.iter().enumerate() {
                draw_lane(w, lane, &scale, chart, lanes_top + LANE_HEIGHT * i as f64)?;
            }
            if chart.lanes.is_empty() {
                let y = n(lanes_top + LANE_HEIGHT / 2.0 + 5.0);
                let x = n(scale.left + INSET);
                el(
                    w,
                    "text",
                    &[
                        ("x", &x),
                        ("y", &y),
                        ("font-size", "14"),
                        ("fill", "#555555"),
                    ],
                    "no statements to show",
                )?;
            }
            if top_axis {
                axis(w, &scale, chart, lanes_top - 8.0, Side::Above)?;
            }
            axis(w, &scale, chart, axis_y, Side::Below)?;
            legend(w, legend_y)
        })?;
    Ok(())
}

/// Lines of text, one `text` element each, in a group of `class` (a
/// `tspan` per line would put the writer's indentation into the text).
/// The lines were made safe by [`text`] before they were wrapped.
fn lines_of(
    w: &mut W,
    class: &str,
    lines: &[String],
    top: f64,
    step: f64,
    style: [(&str, &str); 3],
) -> io::Result<()> {
    let x = n(MARGIN);
    w.create_element("g")
        .with_attribute(("class", class))
        .with_attributes(style)
        .write_inner_content(|w| {
            for (i, line) in lines.iter().enumerate() {
                let y = n(top + step * i as f64);
                w.create_element("text")
                    .with_attributes([("x", x.as_str()), ("y", y.as_str())])
                    .write_text_content(BytesText::new(line))?;
            }
            Ok(())
        })?;
    Ok(())
}

fn draw_lane(w: &mut W, lane: &Lane, scale: &Scale, chart: &Chart, top: f64) -> io::Result<()> {
    let mid = top + LANE_HEIGHT / 2.0;
    let label = text(&lane.label).into_owned();
    w.create_element("g")
        .with_attributes([("class", "lane"), ("data-actor", label.as_str())])
        .write_inner_content(|w| {
            let (y, h) = (n(top + 2.0), n(LANE_HEIGHT - 4.0));
            let (x, width) = (n(scale.left), n(scale.width));
            w.create_element("rect")
                .with_attributes([
                    ("x", x.as_str()),
                    ("y", y.as_str()),
                    ("width", width.as_str()),
                    ("height", h.as_str()),
                    ("fill", "#f3f3f3"),
                ])
                .write_empty()?;
            let (lx, ly) = (n(MARGIN), n(mid + 5.0));
            el(
                w,
                "text",
                &[
                    ("class", "label"),
                    ("x", &lx),
                    ("y", &ly),
                    ("font-size", "14"),
                    ("font-weight", "bold"),
                    ("fill", "#111111"),
                ],
                &lane.label,
            )?;
            for s in &lane.segments {
                segment(w, s, scale, chart, mid)?;
            }
            for m in &lane.marks {
                if (chart.from..=chart.to).contains(&m.on) {
                    mark(w, m, scale.mid(m.on), mid)?;
                }
            }
            Ok(())
        })?;
    Ok(())
}

fn segment(w: &mut W, s: &Segment, scale: &Scale, chart: &Chart, mid: f64) -> io::Result<()> {
    let from = s.from.max(chart.from);
    let until = s.until.min(chart.to);
    if from > until {
        return Ok(());
    }
    let x0 = scale.x(from);
    let x1 = scale.end(until).max(x0 + 1.0);
    let colour = swatch(s.position).rgb.hex();
    let (x, y, width, h) = (n(x0), n(mid - BAR_HEIGHT / 2.0), n(x1 - x0), n(BAR_HEIGHT));
    w.create_element("rect")
        .with_attributes([
            ("class", "segment"),
            ("data-position", s.position.as_str()),
            ("x", x.as_str()),
            ("y", y.as_str()),
            ("width", width.as_str()),
            ("height", h.as_str()),
            ("rx", "3"),
            ("fill", colour.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("title")
                .write_text_content(BytesText::new(&text(&s.note)))?;
            Ok(())
        })?;
    // The position in words where there is room, so the picture reads
    // without colour (printed in grey, or by a colour-blind reader).
    let word = s.position.as_str();
    if x1 - x0 > 9.0 * word.len() as f64 + 30.0 {
        let (tx, ty) = (n(x0 + 16.0), n(mid + 4.0));
        el(
            w,
            "text",
            &[
                ("x", &tx),
                ("y", &ty),
                ("font-size", "11"),
                ("fill", label_ink(s.position)),
                ("font-weight", "bold"),
            ],
            word,
        )?;
    }
    Ok(())
}

/// The colour of a word written on a segment: white on the dark hues,
/// black on the light ones.
fn label_ink(p: Position) -> &'static str {
    match p {
        Position::Support | Position::Oppose => "#ffffff",
        Position::Neutral | Position::Mixed => "#111111",
    }
}

/// A marker's shape, fill and outline for its kind and position.
fn mark(w: &mut W, m: &Mark, x: f64, y: f64) -> io::Result<()> {
    let colour = swatch(m.position).rgb.hex();
    let class = format!("mark {}", m.kind.class());
    let note = text(&m.note).into_owned();
    let date = m.on.to_string();
    let (name, attrs) = marker_shape(m.kind, x, y, &colour);
    let el = w
        .create_element(name)
        .with_attributes([
            ("class", class.as_str()),
            ("data-position", m.position.as_str()),
            ("data-date", date.as_str()),
        ])
        .with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str())));
    el.write_inner_content(|w| {
        w.create_element("title")
            .write_text_content(BytesText::new(&note))?;
        Ok(())
    })?;
    Ok(())
}

/// The element name and attributes of a marker of `kind` at (x, y).
fn marker_shape(
    kind: MarkKind,
    x: f64,
    y: f64,
    colour: &str,
) -> (&'static str, Vec<(&'static str, String)>) {
    match kind {
        MarkKind::Stated => (
            "circle",
            vec![
                ("cx", n(x)),
                ("cy", n(y)),
                ("r", "7".into()),
                ("fill", colour.into()),
                ("stroke", "#222222".into()),
                ("stroke-width", "1.5".into()),
            ],
        ),
        MarkKind::Amended => (
            "path",
            vec![
                (
                    "d",
                    format!(
                        "M {} {} L {} {} L {} {} L {} {} Z",
                        n(x),
                        n(y - 9.0),
                        n(x + 9.0),
                        n(y),
                        n(x),
                        n(y + 9.0),
                        n(x - 9.0),
                        n(y)
                    ),
                ),
                ("fill", colour.into()),
                ("stroke", "#222222".into()),
                ("stroke-width", "1.5".into()),
            ],
        ),
        MarkKind::Retracted => (
            "circle",
            vec![
                ("cx", n(x)),
                ("cy", n(y)),
                ("r", "6".into()),
                ("fill", "#ffffff".into()),
                ("stroke", colour.into()),
                ("stroke-width", "2.5".into()),
            ],
        ),
    }
}

/// Lanes past which the axis is drawn above them too.
const TOP_AXIS_LANES: usize = 8;

/// Which side of its line an axis writes its dates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Above,
    Below,
}

fn axis(w: &mut W, scale: &Scale, chart: &Chart, y: f64, side: Side) -> io::Result<()> {
    let max = (scale.width / 90.0).floor().max(2.0) as usize;
    // Ticks and labels hang below the line, or stand above it.
    let (tick_end, label_y) = match side {
        Side::Below => (y + 10.0, y + 26.0),
        Side::Above => (y - 2.0, y - 6.0),
    };
    w.create_element("g")
        .with_attributes([("class", "axis"), ("font-size", "12"), ("fill", "#333333")])
        .write_inner_content(|w| {
            let (x0, x1, yy) = (n(scale.left), n(scale.left + scale.width), n(y + 4.0));
            w.create_element("line")
                .with_attributes([
                    ("x1", x0.as_str()),
                    ("x2", x1.as_str()),
                    ("y1", yy.as_str()),
                    ("y2", yy.as_str()),
                    ("stroke", "#333333"),
                ])
                .write_empty()?;
            for (d, label) in ticks(chart.from, chart.to, max) {
                let x = n(scale.x(d));
                let (t0, t1, ty) = (n(y + 4.0), n(tick_end), n(label_y));
                w.create_element("line")
                    .with_attributes([
                        ("class", "tick"),
                        ("x1", x.as_str()),
                        ("x2", x.as_str()),
                        ("y1", t0.as_str()),
                        ("y2", t1.as_str()),
                        ("stroke", "#333333"),
                    ])
                    .write_empty()?;
                el(
                    w,
                    "text",
                    &[
                        ("class", "tick-label"),
                        ("x", &x),
                        ("y", &ty),
                        ("text-anchor", "middle"),
                    ],
                    &label,
                )?;
            }
            Ok(())
        })?;
    Ok(())
}

fn legend(w: &mut W, y: f64) -> io::Result<()> {
    w.create_element("g")
        .with_attributes([
            ("class", "legend"),
            ("font-size", "12"),
            ("fill", "#333333"),
        ])
        .write_inner_content(|w| {
            let mut x = MARGIN;
            for p in POSITIONS {
                let colour = swatch(p).rgb.hex();
                let (sx, sy) = (n(x), n(y - 10.0));
                w.create_element("rect")
                    .with_attributes([
                        ("class", "swatch"),
                        ("data-position", p.as_str()),
                        ("x", sx.as_str()),
                        ("y", sy.as_str()),
                        ("width", "22"),
                        ("height", "12"),
                        ("rx", "2"),
                        ("fill", colour.as_str()),
                    ])
                    .write_empty()?;
                let (tx, ty) = (n(x + 28.0), n(y));
                el(w, "text", &[("x", &tx), ("y", &ty)], p.as_str())?;
                x += 95.0;
            }
            let kinds = [
                (MarkKind::Stated, "statement"),
                (MarkKind::Amended, "amended"),
                (MarkKind::Retracted, "retracted (no longer counts)"),
            ];
            x += 10.0;
            for (kind, what) in kinds {
                let (name, attrs) = marker_shape(kind, x + 8.0, y - 4.0, "#8c8c8c");
                w.create_element(name)
                    .with_attributes([("class", format!("key {}", kind.class()).as_str())])
                    .with_attributes(attrs.iter().map(|(k, v)| (*k, v.as_str())))
                    .write_empty()?;
                let (tx, ty) = (n(x + 22.0), n(y));
                el(w, "text", &[("x", &tx), ("y", &ty)], what)?;
                x += 22.0 + 7.5 * what.len() as f64 + 26.0;
            }
            Ok(())
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sample() -> Chart {
        let seg = |from: &str, until: &str, position| Segment {
            from: d(from),
            until: d(until),
            position,
            note: "n".into(),
        };
        let mark = |on: &str, position, kind| Mark {
            on: d(on),
            position,
            kind,
            note: "n".into(),
        };
        Chart {
            title: "The Senkaku Islands are under Japanese sovereignty.".into(),
            caption: "senkaku-islands".into(),
            from: d("2019-01-01"),
            to: d("2020-12-31"),
            lanes: vec![
                Lane {
                    label: "CHN".into(),
                    segments: vec![seg("2019-03-01", "2020-12-31", Position::Oppose)],
                    marks: vec![
                        mark("2019-03-01", Position::Oppose, MarkKind::Stated),
                        mark("2019-02-01", Position::Support, MarkKind::Retracted),
                    ],
                },
                Lane {
                    label: "JPN".into(),
                    segments: vec![
                        seg("2019-01-01", "2019-06-30", Position::Mixed),
                        seg("2019-07-01", "2020-12-31", Position::Support),
                    ],
                    marks: vec![
                        mark("2019-01-01", Position::Mixed, MarkKind::Amended),
                        mark("2019-07-01", Position::Support, MarkKind::Stated),
                    ],
                },
            ],
        }
    }

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("invalid SVG ({e}):\n{svg}"))
    }

    fn with_class<'a>(
        doc: &'a roxmltree::Document<'a>,
        class: &str,
    ) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == class))
            })
            .collect()
    }

    #[test]
    fn a_chart_has_one_lane_per_actor_with_its_segments_and_markers() {
        let out = svg(&sample());
        let doc = parse(&out);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        let lanes: Vec<_> = with_class(&doc, "lane")
            .iter()
            .map(|l| l.attribute("data-actor").unwrap().to_owned())
            .collect();
        assert_eq!(lanes, ["CHN", "JPN"]);
        let jpn = with_class(&doc, "lane")[1];
        let fills: Vec<_> = jpn
            .descendants()
            .filter(|n| n.attribute("class") == Some("segment"))
            .map(|n| {
                (
                    n.attribute("data-position").unwrap(),
                    n.attribute("fill").unwrap(),
                )
            })
            .collect();
        assert_eq!(fills, [("mixed", "#e6b400"), ("support", "#009e73")]);
        assert_eq!(with_class(&doc, "mark").len(), 4);
        let retracted = &with_class(&doc, "retracted")
            .into_iter()
            .filter(|n| n.has_attribute("data-date"))
            .collect::<Vec<_>>();
        assert_eq!(retracted.len(), 1);
        assert_eq!(retracted[0].attribute("fill"), Some("#ffffff"), "hollow");
        assert_eq!(retracted[0].attribute("stroke"), Some("#009e73"));
        let amended = with_class(&doc, "amended");
        assert!(amended.iter().any(|n| n.tag_name().name() == "path"));
    }

    #[test]
    fn the_title_is_the_first_heading_and_the_legend_names_every_colour() {
        let out = svg(&sample());
        let doc = parse(&out);
        let title = with_class(&doc, "title")[0];
        let words: String = title
            .descendants()
            .filter(|n| n.is_text() && !n.text().unwrap().trim().is_empty())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(words, "The Senkaku Islands are under Japanese sovereignty.");
        let svg_title = doc
            .root_element()
            .children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text());
        assert_eq!(
            svg_title,
            Some("The Senkaku Islands are under Japanese sovereignty.")
        );
        let legend: Vec<_> = with_class(&doc, "swatch")
            .iter()
            .map(|n| {
                (
                    n.attribute("data-position").unwrap(),
                    n.attribute("fill").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            legend,
            POSITIONS
                .map(|p| (p.as_str(), swatch(p).rgb.hex()))
                .iter()
                .map(|(a, b)| (*a, b.as_str()))
                .collect::<Vec<_>>()
        );
        let legend_text: Vec<_> = with_class(&doc, "legend")[0]
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .filter(|t| !t.trim().is_empty())
            .collect();
        for word in [
            "support",
            "oppose",
            "neutral",
            "mixed",
            "amended",
            "retracted (no longer counts)",
        ] {
            assert!(
                legend_text.contains(&word),
                "{word} missing from {legend_text:?}"
            );
        }
    }

    #[test]
    fn markers_and_segments_outside_the_window_are_not_drawn() {
        let mut chart = sample();
        chart.from = d("2019-08-01");
        let doc_text = svg(&chart);
        let doc = parse(&doc_text);
        // Only JPN's second segment and CHN's segment reach into the window,
        // and no marker falls inside it.
        assert_eq!(with_class(&doc, "segment").len(), 2);
        assert!(with_class(&doc, "mark").is_empty());
        let x: f64 = with_class(&doc, "segment")[0]
            .attribute("x")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            x,
            MARGIN + LABEL_WIDTH + INSET,
            "clipped to the window's start"
        );
    }

    #[test]
    fn hostile_text_stays_text() {
        let mut chart = sample();
        let evil = "</title><script>alert(1)</script>\u{1b}[31m\u{202e}\u{ffff}&amp;\"'";
        chart.title = evil.into();
        chart.caption = evil.into();
        chart.lanes[0].label = evil.into();
        chart.lanes[0].marks[0].note = evil.into();
        chart.lanes[0].segments[0].note = evil.into();
        let out = svg(&chart);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}') && !out.contains('\u{ffff}'));
        let doc = parse(&out);
        assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
        let title = doc.root_element().first_element_child().unwrap();
        assert_eq!(
            title.text(),
            Some("</title><script>alert(1)</script>\\u{1b}[31m\\u{202e}\u{fffd}&amp;\"'")
        );
        assert_eq!(
            with_class(&doc, "lane")[0].attribute("data-actor"),
            title.text()
        );
    }

    #[test]
    fn a_lane_runs_each_stance_until_the_next_and_the_last_until_as_of() {
        let stance = |on: &str, p: Position, seq: u64| {
            crate::cli::testing::stance("JPN", "x", p, on, seq, "s")
        };
        let timeline = [
            stance("2019-01-01", Position::Support, 1),
            stance("2019-03-01", Position::Oppose, 2),
            stance("2021-01-01", Position::Mixed, 3),
        ];
        let lane = lane("JPN", &timeline, &[], d("2020-06-30"));
        let spans: Vec<_> = lane
            .segments
            .iter()
            .map(|s| (s.from.to_string(), s.until.to_string(), s.position))
            .collect();
        assert_eq!(
            spans,
            [
                ("2019-01-01".into(), "2019-02-28".into(), Position::Support),
                ("2019-03-01".into(), "2020-06-30".into(), Position::Oppose),
            ]
        );
    }

    #[test]
    fn ticks_are_calendar_aligned_and_few() {
        let t = ticks(d("2019-12-23"), d("2026-01-01"), 8);
        let labels: Vec<_> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["2020", "2021", "2022", "2023", "2024", "2025", "2026"]
        );
        let t = ticks(d("2019-12-20"), d("2019-12-26"), 8);
        assert_eq!(t.len(), 7);
        assert_eq!(t[0].1, "2019-12-20");
        let t = ticks(d("2019-01-15"), d("2019-06-10"), 8);
        let labels: Vec<_> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["2019-02", "2019-03", "2019-04", "2019-05", "2019-06"]
        );
        assert!(ticks(d("0001-01-01"), d("9999-12-31"), 8).len() <= 8);
    }

    #[test]
    fn a_tall_chart_has_the_axis_above_its_lanes_too() {
        let mut chart = sample();
        let axes = |c: &Chart| {
            let out = svg(c);
            let doc = parse(&out);
            with_class(&doc, "axis").len()
        };
        assert_eq!(axes(&chart), 1);
        let lane = chart.lanes[0].clone();
        chart.lanes = vec![lane; TOP_AXIS_LANES + 1];
        assert_eq!(axes(&chart), 2);
    }

    #[test]
    fn the_last_day_of_the_calendar_can_be_drawn() {
        let mut chart = sample();
        chart.to = d("9999-12-31");
        chart.lanes[0].segments[0].until = d("9999-12-31");
        chart.lanes[0].marks[0].on = d("9999-12-31");
        let doc_text = svg(&chart);
        let doc = parse(&doc_text);
        assert_eq!(with_class(&doc, "segment").len(), 3);
        let t = ticks(d("9999-12-25"), d("9999-12-31"), 8);
        assert_eq!(t.last().unwrap().1, "9999-12-31");
    }

    #[test]
    fn titles_wrap_on_words() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }
}
