//! Records as rows: the CSV and TSV forms of every command that prints
//! records, each with one header row (RFC 4180 quoting, by the `csv`
//! crate), and the columns of each kind of record in one place.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;

use stancelog::{format_timestamp, Change, Stance, StatementView, Wire};

use super::text;
use super::ui::{Format, Ui};

/// A CSV or TSV writer (by `ui.format`) that has written its header row.
/// On a terminal, cells are escaped like all text shown there.
pub struct Sheet<W: Write> {
    w: csv::Writer<W>,
    clean: bool,
}

impl<W: Write> Sheet<W> {
    pub fn new(ui: &Ui, out: W, header: &[String]) -> Result<Self> {
        let delimiter = if ui.format == Format::Tsv {
            b'\t'
        } else {
            b','
        };
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(header).map_err(io_error)?;
        Ok(Sheet {
            w,
            clean: ui.terminal,
        })
    }

    pub fn row(&mut self, row: Vec<String>) -> Result<()> {
        let clean = self.clean;
        self.w
            .write_record(row.into_iter().map(|c| {
                if clean {
                    text::clean(&c).into_owned()
                } else {
                    c
                }
            }))
            .map_err(io_error)
    }

    pub fn finish(mut self) -> Result<()> {
        Ok(self.w.flush()?)
    }
}

/// Writes `header` and `rows` as CSV or TSV.
pub fn write(
    ui: &Ui,
    out: &mut impl Write,
    header: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    let mut sheet = Sheet::new(ui, out, header)?;
    for row in rows {
        sheet.row(row)?;
    }
    sheet.finish()
}

/// A csv error as the io::Error it wraps, so a closed pipe is seen as one.
fn io_error(e: csv::Error) -> anyhow::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io.into(),
        other => anyhow::anyhow!("cannot write CSV: {other:?}"),
    }
}

fn names(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|c| (*c).to_owned()).collect()
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The issue's title in force (empty for an issue no definition names):
/// the one place that fills the `title` column.
pub fn issue_title(s: &Stance) -> String {
    s.title.clone().unwrap_or_default()
}

/// The stance's qualifiers, `;`-separated (a qualifier never holds one):
/// the one place that fills the `qualifiers` column.
pub fn qualifiers(s: &Stance) -> String {
    s.qualifiers
        .iter()
        .map(|q| q.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// The tidy long form of stances: one row per stance; `actor_name` gives
/// each actor's name (empty for a code no table or definition names).
pub fn stances(
    ui: &Ui,
    out: &mut impl Write,
    stances: &[Stance],
    actor_name: &dyn Fn(&stancelog::Actor) -> String,
) -> Result<()> {
    let header = names(&[
        "actor",
        "actor_name",
        "issue",
        "title",
        "position",
        "qualifiers",
        "stated_on",
        "statement_id",
    ]);
    let rows = stances.iter().map(|s| {
        vec![
            s.actor.to_string(),
            actor_name(&s.actor),
            s.issue.to_string(),
            issue_title(s),
            s.position.to_string(),
            qualifiers(s),
            s.stated_on.to_string(),
            s.statement_id.to_string(),
        ]
    });
    write(ui, out, &header, rows)
}

/// The issues × actors grid: a row per issue, a column per actor, each cell
/// the position in force (empty for none).
pub fn matrix(ui: &Ui, out: &mut impl Write, stances: &[Stance]) -> Result<()> {
    let actors: BTreeSet<String> = stances.iter().map(|s| s.actor.to_string()).collect();
    let mut rows: BTreeMap<String, (String, BTreeMap<String, String>)> = BTreeMap::new();
    for s in stances {
        let row = rows
            .entry(s.issue.to_string())
            .or_insert_with(|| (issue_title(s), BTreeMap::new()));
        row.1.insert(s.actor.to_string(), s.position.to_string());
    }
    let mut header = names(&["issue", "title"]);
    header.extend(actors.iter().cloned());
    let rows = rows.into_iter().map(|(issue, (title, by_actor))| {
        let mut row = vec![issue, title];
        row.extend(
            actors
                .iter()
                .map(|a| by_actor.get(a).cloned().unwrap_or_default()),
        );
        row
    });
    write(ui, out, &header, rows)
}

/// A statement's fields, in the order of its JSON form: the columns of a
/// statement in `history`'s CSV and in a sheet `import --format csv` reads.
pub const STATEMENT_FIELDS: [&str; 9] = [
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

/// One row per statement of `history`.
pub fn history(ui: &Ui, out: &mut impl Write, views: &[StatementView]) -> Result<()> {
    let mut header = names(&["statement_id", "seq"]);
    header.extend(names(&STATEMENT_FIELDS));
    header.extend(names(&[
        "recorded_at",
        "recorded_by",
        "retracted",
        "amendments",
    ]));
    let rows = views.iter().map(|v| {
        let s = &v.statement;
        vec![
            v.id.to_string(),
            v.seq.to_string(),
            s.actor.to_string(),
            s.issue.to_string(),
            s.position.to_string(),
            s.stated_on.to_string(),
            s.summary.clone(),
            opt(&s.quote),
            opt(&s.speaker),
            opt(&s.source_url),
            opt(&s.source_title),
            format_timestamp(&v.recorded_at),
            v.recorded_by.clone(),
            v.retraction.is_some().to_string(),
            v.amendments.len().to_string(),
        ]
    });
    write(ui, out, &header, rows)
}

/// One row per change, both sides flattened.
pub fn changes(ui: &Ui, out: &mut impl Write, changes: &[Change]) -> Result<()> {
    let header = names(&[
        "actor",
        "issue",
        "position_changed",
        "from_position",
        "from_stated_on",
        "from_statement_id",
        "to_position",
        "to_stated_on",
        "to_statement_id",
    ]);
    let side = |s: &Option<Stance>| match s {
        None => [String::new(), String::new(), String::new()],
        Some(s) => [
            s.position.to_string(),
            s.stated_on.to_string(),
            s.statement_id.to_string(),
        ],
    };
    let rows = changes.iter().map(|c| {
        let mut row = vec![
            c.actor.to_string(),
            c.issue.to_string(),
            c.position_changed.to_string(),
        ];
        row.extend(side(&c.from));
        row.extend(side(&c.to));
        row
    });
    write(ui, out, &header, rows)
}

/// The columns of `log` as CSV: the envelope, every payload field, the hashes.
pub fn log_columns() -> Vec<&'static str> {
    let mut cols = vec!["seq", "id", "recorded_at", "recorded_by", "type"];
    cols.extend(STATEMENT_FIELDS);
    cols.extend(["target", "reason", "prev_hash", "hash"]);
    cols
}

/// One event as a `log` row, read from its JSON form so that every field
/// the export carries has its column.
pub fn log_row(w: &Wire) -> Result<Vec<String>> {
    let value = serde_json::to_value(w)?;
    Ok(log_columns()
        .iter()
        .map(|c| match value.get(*c) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
        .collect())
}
