//! The read model: every projection of the log in a SQLite database beside
//! it (`read-model.sqlite3`), which any number of readers open at once and
//! analysts can open with their own tools. All SQL of the ledger is in this
//! module; `schema.sql` is the schema (docs/READ-MODEL.md documents it).
//!
//! It is derived: each event adds its row to `events` (the event in the
//! export's JSON form, so the read model is a second, independent copy of the
//! log) and one row to `versions` ([`crate::derive`]); `meta` holds the
//! schema version and the **watermark**, the seq and hash of the last event
//! applied, which moves in the same transaction as the rows. A write is
//! acknowledged only once both the log and the read model hold it, so the
//! watermark witnesses what was acknowledged: a log that falls behind it has
//! lost acknowledged events.
//!
//! Writers open it read-write in WAL mode with `synchronous=FULL` (a commit
//! is durable when it returns); readers open it read-only and never wait for
//! a writer (WAL readers see the last committed state). On read-only media a
//! reader falls back to SQLite's `immutable` mode.

mod conn;
mod dialect;
mod latest;
mod lookup;

pub(crate) use conn::{Arg, Conn, Engine as SqlEngine, Row};
#[cfg(feature = "postgres")]
pub(crate) use dialect::postgres_params;
pub(crate) use latest::Pending as PendingLatest;
pub(crate) use latest::{
    first_difference as latest_difference, Expected as ExpectedLatest, LatestStatement,
};
pub(crate) use lookup::Column;
pub use lookup::{is_id_prefix, MIN_ID_PREFIX};

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use crate::chain::{hex_hash, parse_hash};
use crate::derive::{Derived, TargetState, Version};
use crate::error::{Error, Result};
use crate::event::{Event, GENESIS};
use crate::model::{format_timestamp, parse_date, Actor, Issue, Position};
use crate::store::Head;
use crate::wire::Wire;

use conn::seq as seq_arg;

/// A connection to nothing, held until the real one is opened.
pub(crate) fn placeholder() -> Result<Conn> {
    Ok(Conn::Sqlite(Connection::open_in_memory().sql()?))
}

/// The file name of the read model in a ledger directory.
pub const FILE_NAME: &str = "read-model.sqlite3";

/// The schema this code writes; a read model of another is rebuilt.
pub(crate) const SCHEMA_VERSION: &str = "4";

const SCHEMA: &str = include_str!("schema.sql");

/// What the read model's own reads select of an event: its stored row `e`
/// of `event_rows`, in [`event_row`]'s order, decoded from bytes and codes
/// rather than read as the `events` view's text. The target's id and
/// `prev_hash` come from other rows ([`fill_derived`]), not from a join of
/// `event_rows` to itself: beside that join SQLite prepared each lookup
/// again at every binding (a third of an import's time).
const EVENT_SELECT: &str = "SELECT e.seq, e.id, e.recorded_us, e.recorded_by, e.type_code, \
     e.hash, e.target_seq, e.actor, e.issue, e.reason, e.position_code, e.stated_on, \
     e.summary, e.quote, e.speaker, e.source_url, e.source_title, e.stated_on_precision, \
     e.qualifiers, e.condition, e.attribution, e.reported_by, e.speaker_role, e.sources, \
     e.quote_lang, e.translation, e.slug, e.title, e.proposition, e.description, e.alias, e.lang, \
     e.used_by, e.from_issue, e.into_issue, e.code, e.name, e.kind FROM event_rows e";

/// A list field as its column's JSON text.
fn json_list<T: serde::Serialize>(v: &Option<Vec<T>>) -> Option<String> {
    v.as_ref()
        .map(|v| serde_json::to_string(v).expect("a list of strings serialises"))
}

/// A list column's JSON text back as the list (an unreadable one is damage).
fn from_json_list<T: serde::de::DeserializeOwned>(
    seq: u64,
    text: Option<String>,
) -> Result<Option<Vec<T>>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| corrupt(seq, format!("unreadable list column: {e}")))
    })
    .transpose()
}

/// A failure of SQLite, as a storage error naming the read model.
pub(crate) fn sql_error(e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        return Error::Storage(crate::storage::StorageError::disk_full());
    }
    Error::Storage(crate::storage::StorageError::with_source("read model", e))
}

trait Sql<T> {
    fn sql(self) -> Result<T>;
}

impl<T> Sql<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T> {
        self.map_err(sql_error)
    }
}

/// The read model's path in the ledger directory `dir`.
pub(crate) fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Prepared statements a connection keeps. A write cycles through about
/// twenty distinct statements, more than rusqlite's default 16: with 128,
/// an import of 200,000 events took 15.4 s against 15.9 s (two alternated
/// runs each).
const STATEMENT_CACHE: usize = 128;

/// Opens (creating if missing) the read model for writing.
pub(crate) fn open_writer(path: &Path) -> Result<Conn> {
    let conn = Connection::open(path).sql()?;
    conn.execute_batch(dialect::WRITER_PRAGMAS).sql()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(Conn::Sqlite(conn))
}

/// Opens the read model read-only; `None` if there is none. On media where
/// SQLite cannot keep its shared-memory file (read-only mounts, a copy an
/// auditor may not write), falls back to `immutable` mode, which assumes
/// that nothing changes the file, as nothing can there.
pub(crate) fn open_reader(path: &Path) -> Result<Option<Conn>> {
    if !path.is_file() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).sql()?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .sql()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(Some(Conn::Sqlite(conn))),
        Err(_) => {
            let conn = Connection::open_with_flags(dialect::immutable_uri(path), flags).sql()?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            Ok(Some(Conn::Sqlite(conn)))
        }
    }
}

/// What the database holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Schema {
    /// No schema yet (a new or emptied file).
    Missing,
    /// The schema of this version.
    Current,
    /// Another version, or something else.
    Other(String),
}

/// Reads which schema `conn` holds.
pub(crate) fn schema(conn: &Conn) -> Result<Schema> {
    let has_meta = conn.one(
        dialect::table_exists(conn.engine()),
        &[Arg::Text("meta")],
        |r| r.int(0),
    )? > 0;
    if !has_meta {
        return Ok(Schema::Missing);
    }
    let v = conn.opt(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        &[],
        |r| r.text(0),
    )?;
    Ok(match v {
        Some(v) if v == SCHEMA_VERSION => Schema::Current,
        Some(v) => Schema::Other(v),
        None => Schema::Other("none".into()),
    })
}

/// The first of the read model's tables, indexes and views whose
/// definition is not this release's, if any (SQLite only: a PostgreSQL
/// read model's objects are the server's to guard). The definitions are
/// compared as SQLite stores them, with those a fresh in-memory database
/// stores for the same schema: the `events` view is what analysts read, so
/// a view rewritten in the file is damage like a rewritten row.
pub(crate) fn schema_difference(conn: &Conn) -> Result<Option<String>> {
    let Conn::Sqlite(_) = conn else {
        return Ok(None);
    };
    const OBJECTS: &str =
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'";
    type Objects = std::collections::BTreeMap<(String, String), Option<String>>;
    let read = |c: &Conn| -> Result<Objects> {
        let rows = c.rows(OBJECTS, &[], |r| {
            Ok(((r.text(0)?, r.text(1)?), r.opt_text(2)?))
        })?;
        Ok(rows.into_iter().collect())
    };
    let fresh = Conn::Sqlite(Connection::open_in_memory().sql()?);
    fresh.batch(&dialect::schema(SqlEngine::Sqlite, SCHEMA))?;
    let (want, got) = (read(&fresh)?, read(conn)?);
    // The first object, in (type, name) order, missing, extra or different.
    Ok(want
        .keys()
        .chain(got.keys())
        .filter(|k| want.get(*k) != got.get(*k))
        .min()
        .map(|(kind, name)| format!("{kind} {name}")))
}

/// Inside the caller's transaction: empties the read model, creating the
/// schema afresh unless it is this version's, unaltered, with the
/// watermark at the empty log. (Emptying a current schema deletes rows rather than dropping
/// tables, so that PostgreSQL readers are not locked out meanwhile.)
pub(crate) fn reset(conn: &Conn) -> Result<()> {
    if schema(conn)? == Schema::Current && schema_difference(conn)?.is_none() {
        conn.batch(
            "DELETE FROM event_rows; DELETE FROM versions; DELETE FROM stances_latest; DELETE FROM meta",
        )?;
    } else {
        let objects = conn.rows(dialect::objects(conn.engine()), &[], |r| {
            Ok((r.text(0)?, r.text(1)?))
        })?;
        // Views first: they depend on the tables.
        let (views, tables): (Vec<_>, Vec<_>) = objects.into_iter().partition(|(k, _)| k == "view");
        for (kind, name) in views.into_iter().chain(tables) {
            let kind = if kind == "view" { "VIEW" } else { "TABLE" };
            conn.batch(&format!(
                "DROP {kind} IF EXISTS \"{}\"{}",
                name.replace('"', "\"\""),
                dialect::drop_suffix(conn.engine())
            ))?;
        }
        conn.batch(&dialect::schema(conn.engine(), SCHEMA))?;
    }
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
        &[Arg::Text(SCHEMA_VERSION)],
    )?;
    set_watermark(conn, &Head::empty())
}

/// Sets `meta` keys (inside the caller's transaction, or on their own).
fn set_meta(conn: &Conn, pairs: &[(&str, &str)]) -> Result<()> {
    for (k, v) in pairs {
        conn.execute(dialect::UPSERT_META, &[Arg::Text(k), Arg::Text(v)])?;
    }
    Ok(())
}

/// Moves the watermark (inside the caller's transaction).
pub(crate) fn set_watermark(conn: &Conn, head: &Head) -> Result<()> {
    set_meta(
        conn,
        &[
            ("watermark_seq", &head.seq.to_string()),
            ("watermark_hash", &hex_hash(&head.hash)),
            (
                "watermark_recorded_at",
                &format_timestamp(&head.recorded_at),
            ),
        ],
    )
}

/// Records that `verify` found damage at `seq`, so that writes are refused
/// until a verify passes again (autocommit: outside any write).
pub(crate) fn set_fault(conn: &Conn, seq: u64, message: &str) -> Result<()> {
    set_meta(conn, &[("fault_seq", &seq.to_string()), ("fault", message)])
}

/// Forgets a recorded fault (a verify passed).
pub(crate) fn clear_fault(conn: &Conn) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key IN ('fault_seq', 'fault')", &[])?;
    Ok(())
}

/// The stored columns of `event_rows`, in the order [`insert`] binds them.
macro_rules! stored_columns {
    () => {
        "seq, id, recorded_us, recorded_by, type_code, hash, target_seq, actor, issue, reason, \
     position_code, stated_on, summary, quote, speaker, source_url, source_title, \
     stated_on_precision, qualifiers, condition, attribution, reported_by, speaker_role, sources, \
     quote_lang, translation, slug, title, proposition, description, alias, lang, used_by, \
     from_issue, into_issue, code, name, kind"
    };
}

const INSERT_EVENT: &str = concat!("INSERT INTO event_rows (", stored_columns!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38)");

const INSERT_VERSION: &str = "INSERT INTO versions (actor, issue, stated_on, statement_seq, version_seq, tombstone) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// The code of a position's name in `event_rows.position_code`.
fn position_code_of(seq: u64, name: &str) -> Result<i64> {
    let p: Position = name
        .parse()
        .map_err(|_| corrupt(seq, format!("unknown position {name:?}")))?;
    Ok(dialect::position_code(p))
}

/// The text forms of `event_rows`' stored values, as `export` writes them
/// (`None` for a value that names nothing: a wrong length, an unknown
/// code, a time out of range).
pub(crate) mod text {
    use crate::model::format_timestamp;

    /// A UUID's 16 bytes as its hyphenated text.
    pub(crate) fn id(bytes: &[u8]) -> Option<String> {
        uuid::Uuid::from_slice(bytes).ok().map(|u| u.to_string())
    }

    /// Microseconds since 1970 as `recorded_at`'s text.
    pub(crate) fn time(us: i64) -> Option<String> {
        chrono::DateTime::from_timestamp_micros(us).map(|t| format_timestamp(&t))
    }

    /// A `position_code` as the position's name.
    pub(crate) fn position(code: i64) -> Option<String> {
        super::dialect::position_of_code(code).map(|p| p.as_str().to_owned())
    }

    /// A hash's 32 bytes as 64 hex digits.
    pub(crate) fn hash(bytes: &[u8]) -> Option<String> {
        <[u8; 32]>::try_from(bytes)
            .ok()
            .map(|h| crate::chain::hex_hash(&h))
    }
}

/// An event's row of `event_rows` as stored: what [`insert`] writes and
/// what `verify` compares with the log's event (a replay derives it
/// afresh), with neither side formatting bytes as text. The row keeps
/// neither `prev_hash` (the previous row's `hash`, which the log's chain
/// check and the previous row's comparison cover) nor `target` (the id at
/// `target_seq`): the `events` view derives both.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StoredRow {
    pub(crate) seq: i64,
    id: Vec<u8>,
    recorded_us: i64,
    recorded_by: String,
    type_code: i64,
    hash: Vec<u8>,
    target_seq: Option<i64>,
    position_code: Option<i64>,
    /// The text columns in [`stored_columns`] order: `actor`, `issue`,
    /// `reason`, then `stated_on` to `kind`.
    text: Vec<Option<String>>,
}

/// Of [`StoredRow::text`], the columns before `position_code`.
const TEXT_BEFORE_POSITION: usize = 3;

impl StoredRow {
    /// The row `event` makes, given what the replay derived of it.
    pub(crate) fn of(event: &Event, derived: &Derived) -> Result<StoredRow> {
        let w = Wire::from_event(event);
        let type_code = dialect::type_code(&w.kind)
            .ok_or_else(|| corrupt(event.seq, format!("unknown event type {:?}", w.kind)))?;
        let position_code = w
            .position
            .as_deref()
            .map(|p| position_code_of(event.seq, p))
            .transpose()?;
        let (qualifiers, sources, used_by) = (
            json_list(&w.qualifiers),
            json_list(&w.sources),
            json_list(&w.used_by),
        );
        Ok(StoredRow {
            seq: event.seq.min(i64::MAX as u64) as i64,
            id: event.id.as_bytes().to_vec(),
            recorded_us: event.recorded_at.timestamp_micros(),
            recorded_by: event.recorded_by.clone(),
            type_code,
            hash: event.hash.to_vec(),
            target_seq: derived.target_seq.map(|s| s as i64),
            position_code,
            text: vec![
                w.actor,
                w.issue,
                w.reason,
                w.stated_on,
                w.summary,
                w.quote,
                w.speaker,
                w.source_url,
                w.source_title,
                w.stated_on_precision,
                qualifiers,
                w.condition,
                w.attribution,
                w.reported_by,
                w.speaker_role,
                sources,
                w.quote_lang,
                w.translation,
                w.slug,
                w.title,
                w.proposition,
                w.description,
                w.alias,
                w.lang,
                used_by,
                w.from,
                w.into,
                w.code,
                w.name,
                w.actor_kind,
            ],
        })
    }

    /// Its values, bound in [`stored_columns`] order.
    fn args(&self) -> Vec<Arg<'_>> {
        let mut args = vec![
            Arg::Int(self.seq),
            Arg::Blob(&self.id),
            Arg::Int(self.recorded_us),
            Arg::Text(&self.recorded_by),
            Arg::Int(self.type_code),
            Arg::Blob(&self.hash),
            Arg::OptInt(self.target_seq),
        ];
        for (i, t) in self.text.iter().enumerate() {
            if i == TEXT_BEFORE_POSITION {
                args.push(Arg::OptInt(self.position_code));
            }
            args.push(Arg::OptText(t.as_deref()));
        }
        args
    }

    /// Reads a row selected in [`stored_columns`] order.
    fn read(r: &dyn Row) -> Result<StoredRow> {
        let mut text = Vec::with_capacity(30);
        for i in 7..38 {
            if i != 7 + TEXT_BEFORE_POSITION {
                text.push(r.opt_text(i)?);
            }
        }
        Ok(StoredRow {
            seq: r.int(0)?,
            id: r.blob(1)?,
            recorded_us: r.int(2)?,
            recorded_by: r.text(3)?,
            type_code: r.int(4)?,
            hash: r.blob(5)?,
            target_seq: r.opt_int(6)?,
            position_code: r.opt_int(7 + TEXT_BEFORE_POSITION)?,
            text,
        })
    }
}

/// Adds an event's rows (inside the caller's transaction).
pub(crate) fn insert(conn: &Conn, event: &Event, derived: &Derived) -> Result<()> {
    let row = StoredRow::of(event, derived)?;
    conn.insert(INSERT_EVENT, &row.args())?;
    let Some(v) = &derived.version else {
        return Ok(());
    };
    let stated_on = v.stated_on.to_string();
    conn.insert(
        INSERT_VERSION,
        &[
            Arg::Text(&v.actor),
            Arg::Text(&v.issue),
            Arg::Text(&stated_on),
            seq_arg(v.stmt_seq),
            seq_arg(v.version_seq),
            Arg::Int(v.tombstone as i64),
        ],
    )?;
    Ok(())
}

/// An event row read back: the event and its `target_seq` column.
pub(crate) struct EventRow {
    /// The event.
    pub(crate) event: Event,
    /// The `target_seq` column (edits only).
    pub(crate) target_seq: Option<u64>,
}

fn corrupt(seq: u64, message: impl Into<String>) -> Error {
    Error::Corrupt {
        seq,
        message: format!("read model: {}", message.into()),
    }
}

/// Reads an event row of [`EVENT_SELECT`]: its wire form, without
/// `prev_hash` and `target` (see [`fill_derived`]), and `target_seq`. A
/// stored value that names nothing (an unknown code, bytes of the wrong
/// length, a time out of range) is damage at the row's seq, named.
fn event_row(r: &dyn Row) -> Result<(Wire, Option<u64>)> {
    let s = |i: usize| r.opt_text(i);
    let seq = r.int(0)? as u64;
    let damaged = |what: String| corrupt(seq, format!("event_rows: {what}"));
    let code = r.int(4)?;
    let kind =
        dialect::type_of_code(code).ok_or_else(|| damaged(format!("unknown type code {code}")))?;
    let position = match r.opt_int(10)? {
        Some(c) => {
            Some(text::position(c).ok_or_else(|| damaged(format!("unknown position code {c}")))?)
        }
        None => None,
    };
    let wire = Wire {
        seq: Some(seq),
        id: Some(text::id(&r.blob(1)?).ok_or_else(|| damaged("an id not of 16 bytes".into()))?),
        recorded_at: Some(
            text::time(r.int(2)?).ok_or_else(|| damaged("a time out of range".into()))?,
        ),
        recorded_by: s(3)?,
        kind: kind.to_owned(),
        prev_hash: None,
        hash: Some(
            text::hash(&r.blob(5)?).ok_or_else(|| damaged("a hash not of 32 bytes".into()))?,
        ),
        target: None,
        actor: s(7)?,
        issue: s(8)?,
        reason: s(9)?,
        position,
        stated_on: s(11)?,
        summary: s(12)?,
        quote: s(13)?,
        speaker: s(14)?,
        source_url: s(15)?,
        source_title: s(16)?,
        stated_on_precision: s(17)?,
        qualifiers: from_json_list(seq, s(18)?)?,
        condition: s(19)?,
        attribution: s(20)?,
        reported_by: s(21)?,
        speaker_role: s(22)?,
        sources: from_json_list(seq, s(23)?)?,
        quote_lang: s(24)?,
        translation: s(25)?,
        slug: s(26)?,
        title: s(27)?,
        proposition: s(28)?,
        description: s(29)?,
        alias: s(30)?,
        lang: s(31)?,
        used_by: from_json_list(seq, s(32)?)?,
        from: s(33)?,
        into: s(34)?,
        code: s(35)?,
        name: s(36)?,
        actor_kind: s(37)?,
    };
    Ok((wire, r.opt_int(6)?.map(|t| t as u64)))
}

/// Gives each row what `event_rows` does not store: its `prev_hash`, the
/// `hash` of the row before it, and an edit's `target`, the id of the row
/// at its `target_seq`: from among the rows themselves where they are
/// there (a page of a scan needs one lookup, not one per row), else read
/// by seq. A row whose predecessor or target is missing keeps none, so
/// that it differs from the log's event.
fn fill_derived(conn: &Conn, rows: &mut [(Wire, Option<u64>)]) -> Result<()> {
    let genesis = hex_hash(&GENESIS);
    let by_seq: std::collections::HashMap<u64, usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (w, _))| Some((w.seq?, i)))
        .collect();
    // One prepared (and cached) lookup of the one column by seq.
    let read = |sql: &str, seq: u64| conn.opt(sql, &[seq_arg(seq)], |r| r.blob(0));
    for i in 0..rows.len() {
        let Some(seq) = rows[i].0.seq else { continue };
        rows[i].0.prev_hash = if seq == 1 {
            Some(genesis.clone())
        } else if let Some(&j) = by_seq.get(&(seq - 1)) {
            rows[j].0.hash.clone()
        } else {
            read("SELECT hash FROM event_rows WHERE seq = ?1", seq - 1)?
                .and_then(|b| text::hash(&b))
        };
        if let Some(t) = rows[i].1 {
            rows[i].0.target = match by_seq.get(&t) {
                Some(&j) => rows[j].0.id.clone(),
                None => {
                    read("SELECT id FROM event_rows WHERE seq = ?1", t)?.and_then(|b| text::id(&b))
                }
            };
        }
    }
    Ok(())
}

fn to_event_row((wire, target_seq): (Wire, Option<u64>)) -> Result<EventRow> {
    let seq = wire.seq.unwrap_or(0);
    let event = wire.to_event().map_err(|m| corrupt(seq, m))?;
    Ok(EventRow { event, target_seq })
}

/// Seqs per `IN (...)` list: well below SQLite's limit on a statement's length.
const IN_CHUNK: usize = 500;

/// A list of integers for `IN (...)`: only numbers, so nothing to escape.
fn in_list(seqs: &[u64]) -> String {
    let mut s = String::with_capacity(seqs.len() * 8);
    for (i, n) in seqs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(itoa::Buffer::new().format(*n));
    }
    s
}

/// The columns of a `versions` row, in [`version_row`] order.
const VERSION_COLUMNS: &str = "actor, issue, stated_on, statement_seq, version_seq, tombstone";

fn version_row(r: &dyn Row) -> Result<Version> {
    let stmt_seq = r.int(3)? as u64;
    let stated_on = r.text(2)?;
    Ok(Version {
        actor: r.text(0)?,
        issue: r.text(1)?,
        stated_on: parse_date(&stated_on).map_err(|e| corrupt(stmt_seq, e.to_string()))?,
        stmt_seq,
        version_seq: r.int(4)? as u64,
        tombstone: r.int(5)? != 0,
    })
}

/// Queries over one connection: a reader's snapshot or a writer's open
/// transaction (which sees its own uncommitted rows).
pub(crate) struct Query<'c> {
    conn: &'c Conn,
}

impl<'c> Query<'c> {
    pub(crate) fn new(conn: &'c Conn) -> Query<'c> {
        Query { conn }
    }

    /// The watermark: the last event applied.
    pub(crate) fn watermark(&self) -> Result<Head> {
        // One query for the three keys: every snapshot starts here, and on
        // PostgreSQL each query is a round trip.
        let (seq, hash, recorded_at) = self.conn.one(
            "SELECT (SELECT value FROM meta WHERE key = 'watermark_seq'), \
                    (SELECT value FROM meta WHERE key = 'watermark_hash'), \
                    (SELECT value FROM meta WHERE key = 'watermark_recorded_at')",
            &[],
            |r| Ok((r.opt_text(0)?, r.opt_text(1)?, r.opt_text(2)?)),
        )?;
        let bad = || corrupt(0, "unreadable watermark");
        let seq = match seq {
            None => return Ok(Head::empty()),
            Some(s) => s.parse::<u64>().map_err(|_| bad())?,
        };
        let hash = parse_hash(&hash.ok_or_else(bad)?).ok_or_else(bad)?;
        let recorded_at = DateTime::parse_from_rfc3339(&recorded_at.ok_or_else(bad)?)
            .map_err(|_| bad())?
            .with_timezone(&Utc);
        if seq == 0 && hash != GENESIS {
            return Err(bad());
        }
        Ok(Head {
            seq,
            hash,
            recorded_at,
        })
    }

    /// The value of a `meta` key.
    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn.opt(
            "SELECT value FROM meta WHERE key = ?1",
            &[Arg::Text(key)],
            |r| r.text(0),
        )
    }

    /// The damage the last `verify` found, if it found any: seq and message.
    pub(crate) fn fault(&self) -> Result<Option<(u64, String)>> {
        Ok(match (self.meta("fault_seq")?, self.meta("fault")?) {
            (Some(seq), Some(m)) => Some((seq.parse().unwrap_or(0), m)),
            _ => None,
        })
    }

    /// The event rows `clause` selects (its columns named as `e.`), each
    /// with its `prev_hash`.
    fn wires_where(&self, clause: &str, args: &[Arg<'_>]) -> Result<Vec<(Wire, Option<u64>)>> {
        let sql = format!("{EVENT_SELECT} {clause}");
        let mut rows = self.conn.rows(&sql, args, event_row)?;
        fill_derived(self.conn, &mut rows)?;
        Ok(rows)
    }

    fn events_where(&self, clause: &str, args: &[Arg<'_>]) -> Result<Vec<EventRow>> {
        self.wires_where(clause, args)?
            .into_iter()
            .map(to_event_row)
            .collect()
    }

    /// The event at `seq`.
    pub(crate) fn event(&self, seq: u64) -> Result<Option<Event>> {
        Ok(self
            .events_where("WHERE e.seq = ?1", &[seq_arg(seq)])?
            .pop()
            .map(|r| r.event))
    }

    /// The event at `seq`, which another row says exists.
    pub(crate) fn event_indexed(&self, seq: u64) -> Result<Event> {
        self.event(seq)?
            .ok_or_else(|| corrupt(seq, "a row refers to this seq but there is no such event"))
    }

    /// The event with this id.
    pub(crate) fn event_by_id(&self, id: &Uuid) -> Result<Option<Event>> {
        // By the unique index of the stored bytes (the view's `id` is text
        // made from them, which no index holds).
        Ok(self
            .events_where("WHERE e.id = ?1", &[Arg::Blob(id.as_bytes())])?
            .pop()
            .map(|r| r.event))
    }

    /// The stored rows of the events from `from` on, at most `limit`, in
    /// order (for comparing with the log).
    pub(crate) fn stored_from(&self, from: u64, limit: usize) -> Result<Vec<StoredRow>> {
        self.conn.rows(
            concat!(
                "SELECT ",
                stored_columns!(),
                " FROM event_rows WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
            ),
            &[seq_arg(from), Arg::Int(limit as i64)],
            StoredRow::read,
        )
    }

    /// The events from `from` to `to` (inclusive), at most `limit`, in order.
    pub(crate) fn events_range(&self, from: u64, to: u64, limit: usize) -> Result<Vec<EventRow>> {
        self.events_where(
            "WHERE e.seq >= ?1 AND e.seq <= ?2 ORDER BY e.seq LIMIT ?3",
            &[seq_arg(from), seq_arg(to), Arg::Int(limit as i64)],
        )
    }

    /// The edits of the statement at `stmt_seq` up to seq `upto`, in order.
    pub(crate) fn edits(&self, stmt_seq: u64, upto: u64) -> Result<Vec<Event>> {
        Ok(self
            .events_where(
                "WHERE e.target_seq = ?1 AND e.seq <= ?2 ORDER BY e.seq",
                &[seq_arg(stmt_seq), seq_arg(upto)],
            )?
            .into_iter()
            .map(|r| r.event)
            .collect())
    }

    /// The events at `seqs`, by seq (in chunks, one query each).
    pub(crate) fn events_at(&self, seqs: &[u64]) -> Result<std::collections::HashMap<u64, Event>> {
        let mut out = std::collections::HashMap::with_capacity(seqs.len());
        for chunk in seqs.chunks(IN_CHUNK) {
            let list = in_list(chunk);
            for r in self.events_where(&format!("WHERE e.seq IN ({list})"), &[])? {
                out.insert(r.event.seq, r.event);
            }
        }
        Ok(out)
    }

    /// The edits up to seq `upto` of the statements at `seqs`, by statement,
    /// each list in log order.
    pub(crate) fn edits_of(
        &self,
        seqs: &[u64],
        upto: u64,
    ) -> Result<std::collections::HashMap<u64, Vec<Event>>> {
        let mut out: std::collections::HashMap<u64, Vec<Event>> = std::collections::HashMap::new();
        for chunk in seqs.chunks(IN_CHUNK) {
            let list = in_list(chunk);
            let rows = self.events_where(
                &format!("WHERE e.target_seq IN ({list}) AND e.seq <= ?1 ORDER BY e.seq"),
                &[seq_arg(upto)],
            )?;
            for r in rows {
                if let Some(t) = r.target_seq {
                    out.entry(t).or_default().push(r.event);
                }
            }
        }
        Ok(out)
    }

    /// The seq of the latest edit of the statement at `stmt_seq`.
    pub(crate) fn latest_edit(&self, stmt_seq: u64) -> Result<Option<u64>> {
        let seq = self.conn.one(
            "SELECT max(seq) FROM events WHERE target_seq = ?1",
            &[seq_arg(stmt_seq)],
            |r| r.opt_int(0),
        )?;
        Ok(seq.map(|s| s as u64))
    }

    /// The current state of the statement at `seq` (all its edits applied).
    pub(crate) fn target_state(&self, seq: u64) -> Result<TargetState> {
        let event = self.event_indexed(seq)?;
        let Some(mut state) = TargetState::recorded(seq, &event.payload) else {
            return Err(corrupt(
                seq,
                "an edit targets this event but it is not a statement",
            ));
        };
        let latest = self.conn.opt(
            "SELECT stated_on, tombstone FROM versions WHERE actor = ?1 AND issue = ?2 AND statement_seq = ?3 ORDER BY version_seq DESC LIMIT 1",
            &[
                Arg::Text(state.actor.as_str()),
                Arg::Text(state.issue.as_str()),
                seq_arg(seq),
            ],
            |r| Ok((r.text(0)?, r.int(1)?)),
        )?;
        let (stated_on, tombstone) =
            latest.ok_or_else(|| corrupt(seq, "a statement without versions"))?;
        state.stated_on = parse_date(&stated_on).map_err(|e| corrupt(seq, e.to_string()))?;
        state.retracted = tombstone != 0;
        Ok(state)
    }

    /// The last seq recorded at or before `t` (0 if none), at most `upto`:
    /// a bisection of `seq`, as `recorded_at` never decreases along the
    /// log (`verify` checks it of the log, and the read model against it).
    pub(crate) fn known_seq(&self, t: &DateTime<Utc>, upto: u64) -> Result<u64> {
        let t = t.timestamp_micros();
        // Seqs up to `lo` were recorded by `t`; none from `hi` on was.
        let (mut lo, mut hi) = (0u64, upto.saturating_add(1));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let at = self.conn.opt(
                "SELECT recorded_us FROM event_rows WHERE seq = ?1",
                &[seq_arg(mid)],
                |r| r.int(0),
            )?;
            match at {
                Some(at) if at <= t => lo = mid,
                Some(_) => hi = mid,
                // Past the last event.
                None => hi = mid,
            }
        }
        Ok(lo)
    }

    /// Every version of one pair.
    pub(crate) fn pair_versions(&self, actor: &Actor, issue: &Issue) -> Result<Vec<Version>> {
        self.versions_of_pair(actor.as_str(), issue.as_str())
    }

    /// Every version of one pair, named as its rows name it.
    pub(crate) fn versions_of_pair(&self, actor: &str, issue: &str) -> Result<Vec<Version>> {
        self.conn.rows(
            &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE actor = ?1 AND issue = ?2"),
            &[Arg::Text(actor), Arg::Text(issue)],
            version_row,
        )
    }

    /// Every version of the given actors (all when empty), in
    /// (actor, issue, stated_on, statement, version) order.
    pub(crate) fn for_each_version(
        &self,
        actors: &[Actor],
        mut f: impl FnMut(Version) -> Result<()>,
    ) -> Result<()> {
        const ORDER: &str = "ORDER BY actor, issue, stated_on, statement_seq, version_seq";
        if actors.is_empty() {
            return self.versions_where(ORDER, &[], f);
        }
        let mut actors: Vec<&str> = actors.iter().map(Actor::as_str).collect();
        actors.sort_unstable();
        actors.dedup();
        for a in actors {
            self.versions_where(
                &format!("WHERE actor = ?1 {ORDER}"),
                &[Arg::Text(a)],
                &mut f,
            )?;
        }
        Ok(())
    }

    fn versions_where(
        &self,
        clause: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(Version) -> Result<()>,
    ) -> Result<()> {
        self.conn.each(
            &format!("SELECT {VERSION_COLUMNS} FROM versions {clause}"),
            args,
            &mut |r| f(version_row(r)?),
        )
    }

    /// Whether `versions` holds exactly this row.
    pub(crate) fn has_version(&self, v: &Version) -> Result<bool> {
        let stated_on = v.stated_on.to_string();
        let n = self.conn.one(
            "SELECT count(*) FROM versions WHERE actor = ?1 AND issue = ?2 AND stated_on = ?3 AND statement_seq = ?4 AND version_seq = ?5 AND tombstone = ?6",
            &[
                Arg::Text(&v.actor),
                Arg::Text(&v.issue),
                Arg::Text(&stated_on),
                seq_arg(v.stmt_seq),
                seq_arg(v.version_seq),
                Arg::Int(v.tombstone as i64),
            ],
            |r| r.int(0),
        )?;
        Ok(n == 1)
    }

    /// Calls `f` with every version row, in storage order (for digests).
    pub(crate) fn scan_versions(&self, f: impl FnMut(Version) -> Result<()>) -> Result<()> {
        self.versions_where("", &[], f)
    }

    /// The naming events (definitions, rewordings, aliases, merges, actor
    /// definitions) up to seq `upto`, in order: few, read whole.
    pub(crate) fn naming_events(&self, upto: u64) -> Result<Vec<Event>> {
        let clause = format!(
            "WHERE {} AND e.seq <= ?1 ORDER BY e.seq",
            dialect::naming_types("e.type_code")
        );
        Ok(self
            .events_where(&clause, &[seq_arg(upto)])?
            .into_iter()
            .map(|r| r.event)
            .collect())
    }

    /// Whether any statement up to seq `upto` is on this slug.
    pub(crate) fn has_statements(&self, issue: &Issue, upto: u64) -> Result<bool> {
        self.conn.one(
            "SELECT EXISTS (SELECT 1 FROM stances_latest WHERE issue = ?1 AND first_seq <= ?2)",
            &[Arg::Text(issue.as_str()), seq_arg(upto)],
            |r| r.flag(0),
        )
    }

    /// Which of `ids` some event has (one query).
    pub(crate) fn ids_in_use(&self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT id FROM event_rows WHERE id IN ({})",
            marks.join(", ")
        );
        let args: Vec<Arg<'_>> = ids.iter().map(|id| Arg::Blob(id.as_bytes())).collect();
        let found = self.conn.rows(&sql, &args, |r| r.blob(0))?;
        found
            .iter()
            .map(|b| {
                Uuid::from_slice(b).map_err(|e| corrupt(0, format!("event_rows: id {b:02x?}: {e}")))
            })
            .collect()
    }

    /// Every slug with statements on it.
    pub(crate) fn issues_with_statements(&self) -> Result<HashSet<Issue>> {
        let slugs = self
            .conn
            .rows("SELECT DISTINCT issue FROM stances_latest", &[], |r| {
                r.text(0)
            })?;
        slugs
            .into_iter()
            .map(|s| {
                s.parse::<Issue>()
                    .map_err(|e| corrupt(0, format!("stances_latest: {e}")))
            })
            .collect()
    }

    /// Per slug with statements up to `upto`: statements and distinct actors.
    pub(crate) fn issue_counts(&self, upto: u64) -> Result<Vec<(String, u64, u64)>> {
        // Grouped by pair, in `versions`' key order (a scan, no sort), then
        // summed per issue: a statement belongs to one pair, so the pairs'
        // counts add up, and each pair is one actor.
        let mut per_issue: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        self.conn.each(
            "SELECT issue, count(DISTINCT statement_seq) FROM versions WHERE statement_seq <= ?1 GROUP BY actor, issue",
            &[seq_arg(upto)],
            &mut |r| {
                let e = per_issue.entry(r.text(0)?).or_default();
                e.0 += r.int(1)? as u64;
                e.1 += 1;
                Ok(())
            },
        )?;
        Ok(per_issue
            .into_iter()
            .map(|(issue, (statements, actors))| (issue, statements, actors))
            .collect())
    }

    /// Per actor with statements up to `upto`: the number of statements.
    pub(crate) fn actor_counts(&self, upto: u64) -> Result<Vec<(String, u64)>> {
        self.conn.rows(
            "SELECT actor, count(DISTINCT statement_seq) FROM versions WHERE statement_seq <= ?1 GROUP BY actor ORDER BY actor",
            &[seq_arg(upto)],
            |r| Ok((r.text(0)?, r.int(1)? as u64)),
        )
    }

    /// Statements up to `upto` on any of `issues`, and their distinct actors.
    pub(crate) fn group_counts(&self, issues: &[Issue], upto: u64) -> Result<(u64, u64)> {
        let mut seqs = std::collections::HashSet::new();
        let mut actors = std::collections::HashSet::new();
        for issue in issues {
            self.conn.each(
                "SELECT DISTINCT v.statement_seq, v.actor FROM stances_latest l \
                 JOIN versions v ON v.actor = l.actor AND v.issue = l.issue \
                 WHERE l.issue = ?1 AND v.statement_seq <= ?2",
                &[Arg::Text(issue.as_str()), seq_arg(upto)],
                &mut |r| {
                    seqs.insert(r.int(0)?);
                    actors.insert(r.text(1)?);
                    Ok(())
                },
            )?;
        }
        Ok((seqs.len() as u64, actors.len() as u64))
    }

    /// The statement seqs of a pair up to seq `upto`.
    pub(crate) fn pair_statements(
        &self,
        actor: &Actor,
        issue: &Issue,
        upto: u64,
    ) -> Result<Vec<u64>> {
        self.conn.rows(
            "SELECT DISTINCT statement_seq FROM versions WHERE actor = ?1 AND issue = ?2 AND statement_seq <= ?3 ORDER BY statement_seq",
            &[Arg::Text(actor.as_str()), Arg::Text(issue.as_str()), seq_arg(upto)],
            |r| Ok(r.int(0)? as u64),
        )
    }

    /// Per author and event type, up to seq `upto`: how many events, and
    /// the first and last `recorded_at` (RFC 3339 text, which sorts as
    /// time), in (author, type) order. One pass over `events`.
    pub(crate) fn authorship(&self, upto: u64) -> Result<Vec<AuthorshipRow>> {
        let mut rows = self.conn.rows(
            "SELECT recorded_by, type_code, count(*), min(recorded_us), max(recorded_us), min(seq) FROM event_rows WHERE seq <= ?1 GROUP BY recorded_by, type_code",
            &[seq_arg(upto)],
            |r| {
                // A stored value that names nothing is damage at the
                // group's first seq.
                let (code, seq) = (r.int(1)?, r.int(5)? as u64);
                let damaged = |what: &str| corrupt(seq, format!("event_rows: {what}"));
                let kind = dialect::type_of_code(code)
                    .ok_or_else(|| damaged(&format!("unknown type code {code}")))?;
                let time = |us: i64| text::time(us).ok_or_else(|| damaged("a time out of range"));
                Ok((
                    r.text(0)?,
                    kind.to_owned(),
                    r.int(2)? as u64,
                    time(r.int(3)?)?,
                    time(r.int(4)?)?,
                ))
            },
        )?;
        rows.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        Ok(rows)
    }
}

/// A row of [`Query::authorship`]: author, type, events, first and last
/// `recorded_at`.
pub(crate) type AuthorshipRow = (String, String, u64, String, String);

/// Runs `f` in one read transaction of `conn`, so every query it makes sees
/// the same committed state.
pub(crate) fn snapshot<T>(conn: &Conn, f: impl FnOnce(&Query<'_>) -> Result<T>) -> Result<T> {
    if conn.in_transaction() {
        return f(&Query::new(conn));
    }
    conn.begin_read()?;
    let out = f(&Query::new(conn));
    let end = conn.commit();
    let out = out?;
    end?;
    Ok(out)
}

/// Starts the one writer's transaction on `conn`, rolling back first one
/// that a writer which panicked left open.
pub(crate) fn begin_write(conn: &Conn) -> Result<()> {
    if conn.in_transaction() {
        conn.rollback()?;
    }
    conn.begin_write()
}

/// Commits the writer's transaction.
pub(crate) fn commit(conn: &Conn) -> Result<()> {
    conn.commit()
}

/// Rolls back the writer's transaction, if one is open.
pub(crate) fn rollback(conn: &Conn) -> Result<()> {
    if !conn.in_transaction() {
        return Ok(());
    }
    conn.rollback()
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    /// `verify` compares the file's definitions with this release's text
    /// (`schema_difference`), so a change to `schema.sql`, even to a
    /// comment inside a statement, needs a new `SCHEMA_VERSION`: then a
    /// read model of the old text is rebuilt on first open instead of
    /// failing verify. Update the digest with the version.
    #[test]
    fn a_changed_schema_comes_with_a_new_version() {
        let digest = hex::encode(Sha256::digest(super::SCHEMA.as_bytes()));
        assert_eq!(
            (super::SCHEMA_VERSION, digest.as_str()),
            (
                "4",
                "9bc10b8b8b89573c1675f9f3cde6a45d226c0d48a8f160482b0384844d7436a5"
            ),
            "schema.sql changed: bump SCHEMA_VERSION and this digest"
        );
    }
}
