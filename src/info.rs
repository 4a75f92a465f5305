//! What a ledger is, at a glance: where it lives, the formats this build
//! writes, how much it holds and over which dates, and its size on disk.
//! Everything but the size comes from one snapshot of the read model, so
//! `info` is a reader: it never opens the log or waits for a writer.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::Result;
use crate::readmodel::{self, Column, Query};
use crate::store::Head;

/// A summary of a ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The ledger directory.
    pub path: PathBuf,
    /// The read model's file (for PostgreSQL, the ledger's address).
    pub read_model: PathBuf,
    /// The log format this build writes and reads.
    pub log_format: u8,
    /// The newest record format this build writes (an event is written in
    /// the oldest format that holds it, so older kinds keep format 1).
    pub record_format: u8,
    /// The read model's schema version.
    pub read_model_schema: String,
    /// The committed head, as the read model witnessed it.
    pub head: Head,
    /// Events in the log (the head's seq: seqs are contiguous from 1).
    pub events: u64,
    /// Statements recorded (retracted ones included).
    pub statements: u64,
    /// Actors with at least one statement.
    pub actors: u64,
    /// Issues with at least one statement.
    pub issues: u64,
    /// The earliest `stated_on` of any statement version.
    pub first_stated_on: Option<NaiveDate>,
    /// The latest `stated_on` of any statement version.
    pub last_stated_on: Option<NaiveDate>,
    /// Bytes of every file in the ledger directory (log and read model);
    /// for PostgreSQL, of every table and index of the ledger's schema.
    pub bytes: u64,
}

/// The summary of the ledger at `path`, from the read model `q`.
pub(crate) fn info(path: &Path, q: &Query<'_>) -> Result<Info> {
    let head = q.watermark()?;
    let range = q.stated_on_range()?;
    let date = |s: &str| crate::model::parse_date(s).ok();
    // A PostgreSQL ledger's read model is in its database, beside the log.
    let (read_model, bytes) = match q.database_bytes()? {
        Some(bytes) => (path.to_owned(), bytes),
        None => (readmodel::path_in(path), size_on_disk(path)),
    };
    Ok(Info {
        path: path.to_owned(),
        read_model,
        log_format: crate::index::LOG_FORMAT,
        record_format: crate::codec::FORMAT_V2,
        read_model_schema: readmodel::SCHEMA_VERSION.to_owned(),
        events: head.seq,
        head,
        statements: q.statement_count()?,
        actors: q.distinct_statement_values(Column::Actor)?,
        issues: q.distinct_statement_values(Column::Issue)?,
        first_stated_on: range.as_ref().and_then(|(a, _)| date(a)),
        last_stated_on: range.as_ref().and_then(|(_, b)| date(b)),
        bytes,
    })
}

/// The total size of the regular files under `dir`, best effort: a file
/// that vanishes or cannot be read while it is walked counts as nothing
/// (a writer may be compacting), since the figure is for a person, not a check.
fn size_on_disk(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => size_on_disk(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
