//! Human tables: box-drawn on a terminal (`table`), bare columns elsewhere
//! (`plain`), fitted to the width in `Ui`, and the stance matrix with its
//! compact one-glyph-per-cell fallback for grids too wide to spell out.

use std::collections::{BTreeMap, BTreeSet};

use comfy_table::{presets, Attribute, Cell, ContentArrangement, Table};

use stancelog::{Actor, Issue, Position, Stance};

use super::ui::{self, Format, Ui};

/// Only the header's underline, in ASCII: no box drawing.
const PLAIN: &str = "     -              ";

/// A table in the style of `ui`'s format, fitted to its width.
pub fn new(ui: &Ui) -> Table {
    let mut t = Table::new();
    if ui.format == Format::Table {
        t.load_preset(presets::UTF8_FULL_CONDENSED);
    } else {
        t.load_preset(PLAIN);
    }
    if ui.colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    match ui.width {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(u16::try_from(w).unwrap_or(u16::MAX));
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// The table's text. Bare columns (`plain`) start at the margin, two
/// spaces apart, without trailing blanks.
pub fn render(ui: &Ui, t: &mut Table) -> String {
    if ui.format != Format::Table {
        for c in t.column_iter_mut() {
            c.set_padding((0, 2));
        }
    }
    let mut s = String::new();
    for line in t.lines() {
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// A position cell, coloured from the palette when colour is on.
pub fn position_cell(ui: &Ui, p: Position, extra: &str) -> Cell {
    let c = Cell::new(format!("{}{extra}", p.as_str()));
    if ui.colour {
        c.fg(ui::position_cell_colour(p))
    } else {
        c
    }
}

/// A header cell.
pub fn header_cell(ui: &Ui, s: &str) -> Cell {
    let c = Cell::new(s);
    if ui.colour {
        c.add_attribute(Attribute::Bold)
    } else {
        c
    }
}

/// Width of an actor column in the full matrix: "support" / "2019-12-23".
const CELL: usize = 10;
/// Narrowest issue column the full matrix may squeeze slugs into.
const MIN_ISSUE: usize = 16;

/// The stance matrix: issues as rows, actors as columns, each cell the
/// position in force and, below it, the date it was stated. When that
/// cannot fit the width, the compact grid.
pub fn matrix(ui: &Ui, as_of: chrono::NaiveDate, stances: &[Stance]) -> String {
    let actors: BTreeSet<&Actor> = stances.iter().map(|s| &s.actor).collect();
    let mut rows: BTreeMap<&Issue, BTreeMap<&Actor, &Stance>> = BTreeMap::new();
    for s in stances {
        rows.entry(&s.issue).or_default().insert(&s.actor, s);
    }
    let actor_cols: usize = actors.iter().map(|a| a.as_str().len().max(CELL) + 3).sum();
    let issue_width = match ui.width {
        None => None,
        Some(w) => {
            let room = w.saturating_sub(actor_cols + 4);
            if room < MIN_ISSUE {
                return compact(ui, as_of, &actors, &rows);
            }
            Some(room)
        }
    };
    let mut t = new(ui);
    // The layout is computed here (slugs wrapped at their hyphens), so
    // comfy-table is not asked to split words.
    t.set_content_arrangement(ContentArrangement::Disabled);
    let mut title = format!("issue (as of {as_of})");
    if issue_width.is_some_and(|w| w < title.len()) {
        title = format!("issue\nas of {as_of}");
    }
    let mut header = vec![header_cell(ui, &title)];
    header.extend(actors.iter().map(|a| header_cell(ui, a.as_str())));
    t.set_header(header);
    for (issue, by_actor) in &rows {
        let mut row = vec![Cell::new(ui::wrap_slug(issue.as_str(), issue_width))];
        row.extend(actors.iter().map(|a| match by_actor.get(a) {
            None => Cell::new(""),
            Some(s) => position_cell(ui, s.position, &format!("\n{}", s.stated_on)),
        }));
        t.add_row(row);
    }
    render(ui, &mut t)
}

/// One glyph per position, for the compact grid.
pub fn glyph(p: Position) -> char {
    match p {
        Position::Support => '+',
        Position::Oppose => '-',
        Position::Neutral => '0',
        Position::Mixed => '~',
    }
}

/// The compact grid: one glyph per cell, actor codes written downwards
/// above their columns, issue slugs cut to fit, and a legend. Fifty actors
/// and thirty issues fit in about ninety columns.
fn compact(
    ui: &Ui,
    as_of: chrono::NaiveDate,
    actors: &BTreeSet<&Actor>,
    rows: &BTreeMap<&Issue, BTreeMap<&Actor, &Stance>>,
) -> String {
    let width = ui.width.unwrap_or(usize::MAX);
    let longest = rows.keys().map(|i| i.as_str().len()).max().unwrap_or(0);
    let issue_w = longest.min(width.saturating_sub(actors.len() + 1)).max(12);
    let tall = actors.iter().map(|a| a.as_str().len()).max().unwrap_or(0);
    let mut out = String::new();
    for line in 0..tall {
        let mut s = " ".repeat(issue_w + 1);
        for a in actors {
            s.push(a.as_str().chars().nth(line).unwrap_or(' '));
        }
        out.push_str(s.trim_end());
        out.push('\n');
    }
    for (issue, by_actor) in rows {
        let name = issue.as_str();
        let shown: String = if name.chars().count() > issue_w {
            let mut cut: String = name.chars().take(issue_w - 1).collect();
            cut.push('…');
            cut
        } else {
            name.to_owned()
        };
        let mut s = format!("{shown:<issue_w$} ");
        for a in actors {
            match by_actor.get(a) {
                None => s.push('.'),
                Some(st) => s.push_str(&ui::paint(
                    ui.colour,
                    ui::position_style(st.position),
                    &glyph(st.position).to_string(),
                )),
            }
        }
        out.push_str(&s);
        out.push('\n');
    }
    let legend: Vec<String> = [
        Position::Support,
        Position::Oppose,
        Position::Neutral,
        Position::Mixed,
    ]
    .iter()
    .map(|p| {
        format!(
            "{} {}",
            ui::paint(ui.colour, ui::position_style(*p), &glyph(*p).to_string()),
            p.as_str()
        )
    })
    .collect();
    let note = format!(
        "as of {as_of}: {}, . none (one glyph a cell, as full cells would not fit {width} columns; --format csv --matrix gives the grid in full)",
        legend.join(", "),
    );
    out.push_str(&ui::wrap(&note, ui.width, "", ""));
    out.push('\n');
    out
}
