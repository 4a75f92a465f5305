//! CSV (or TSV) input for `import --format csv`: a header row naming
//! statement fields, then one statement per row, turned into the JSON
//! Lines that `import` reads, one line per row, so the import's own rules,
//! its two passes and its all-or-nothing write apply unchanged. Line N of
//! the result is row N of the sheet (the header is row 1), so an error the
//! import finds later is mapped back to its row, and to its column where
//! the message names a field.

use std::io::{Read, Seek, Write};

use anyhow::{anyhow, Result};

use super::parse;
use super::records::STATEMENT_FIELDS;

/// The columns a sheet may have: a statement's fields, and its id.
fn is_field(name: &str) -> bool {
    name == "id" || STATEMENT_FIELDS.contains(&name)
}

/// The columns, as an error lists them.
fn fields() -> String {
    format!("{}, id", STATEMENT_FIELDS.join(", "))
}

/// The columns every sheet must have.
const REQUIRED: [&str; 5] = ["actor", "issue", "position", "stated_on", "summary"];

/// An error at a row (and column) of the sheet.
fn at(
    name: &str,
    row: u64,
    column: Option<&str>,
    message: impl std::fmt::Display,
) -> anyhow::Error {
    match column {
        Some(c) => anyhow!("{name}: row {row}, column {c}: {message}"),
        None => anyhow!("{name}: row {row}: {message}"),
    }
}

/// Checks the cell's value as its flag's parser would.
fn check(field: &str, value: &str) -> Result<(), String> {
    match field {
        "actor" => parse::actor(value).map(drop),
        "issue" => parse::issue(value).map(drop),
        "position" => parse::position(value).map(drop),
        "stated_on" => parse::date(value).map(drop),
        "id" => parse::uuid(value).map(drop),
        _ => Ok(()),
    }
}

/// Converts the sheet in `input` into JSON Lines in an unnamed temporary
/// file, rewound; refuses the whole sheet at its first bad row.
pub fn convert(input: impl Read, name: &str, delimiter: u8) -> Result<std::fs::File> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| at(name, 1, None, csv_message(&e)))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if !is_field(h) {
            return Err(at(
                name,
                1,
                Some(&format!("{} ({h:?})", i + 1)),
                format!("not a statement field (the columns may be {})", fields()),
            ));
        }
        if header[..i].contains(h) {
            return Err(at(name, 1, Some(h), "named twice"));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !header.iter().any(|h| h == *r)) {
        return Err(at(
            name,
            1,
            None,
            format!(
                "no {missing} column (every statement needs {})",
                REQUIRED.join(", ")
            ),
        ));
    }
    let mut out = std::io::BufWriter::new(
        tempfile::tempfile().map_err(|e| anyhow!("cannot create a temporary file: {e}"))?,
    );
    // Line 1 stands for the header row: blank, which import skips.
    writeln!(out)?;
    let mut record = csv::StringRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(at(name, row, None, csv_message(&e))),
        }
        let mut object = serde_json::Map::new();
        object.insert("type".into(), "statement".into());
        for (field, value) in header.iter().zip(record.iter()) {
            if value.is_empty() {
                continue;
            }
            check(field, value).map_err(|m| at(name, row, Some(field), m))?;
            object.insert(field.clone(), value.into());
        }
        for r in REQUIRED {
            if !object.contains_key(r) {
                return Err(at(name, row, Some(r), "empty (every statement needs one)"));
            }
        }
        serde_json::to_writer(&mut out, &object)?;
        writeln!(out)?;
    }
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.rewind()?;
    Ok(file)
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} cells, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

/// An error of the import on the converted lines, said of the sheet: its
/// row, and its column when the message begins with a field's name.
pub fn on_sheet(e: anyhow::Error, name: &str) -> anyhow::Error {
    let Some(stancelog::Error::Input { line, message, .. }) = e.downcast_ref::<stancelog::Error>()
    else {
        return e;
    };
    let column = STATEMENT_FIELDS
        .iter()
        .chain(&["id"])
        .find(|f| message.starts_with(&format!("{f} ")))
        .copied();
    at(name, *line, column, message)
}
