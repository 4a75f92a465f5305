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

mod dialect;
mod lookup;

pub(crate) use lookup::Column;
pub use lookup::{is_id_prefix, MIN_ID_PREFIX};

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

use crate::chain::{hex_hash, parse_hash};
use crate::derive::{Derived, TargetState, Version};
use crate::error::{Error, Result};
use crate::event::{Event, GENESIS};
use crate::model::{format_timestamp, parse_date, Actor, Issue};
use crate::store::Head;
use crate::wire::Wire;

/// A connection to the read model. Only this module names the SQLite crate.
pub(crate) type Conn = Connection;

/// A connection to nothing, held until the real one is opened.
pub(crate) fn placeholder() -> Result<Conn> {
    Connection::open_in_memory().sql()
}

/// The file name of the read model in a ledger directory.
pub const FILE_NAME: &str = "read-model.sqlite3";

/// The schema this code writes; a read model of another is rebuilt.
pub(crate) const SCHEMA_VERSION: &str = "2";

const SCHEMA: &str = include_str!("schema.sql");

/// The columns of `events`, in the order rows are written and read.
const EVENT_COLUMNS: &str = "seq, id, recorded_at, recorded_by, type, prev_hash, hash, target, \
     target_seq, actor, issue, reason, position, stated_on, summary, quote, speaker, source_url, \
     source_title, stated_on_precision, qualifiers, condition, attribution, reported_by, \
     speaker_role, sources, quote_lang, translation, slug, title, proposition, description, alias, \
     lang, used_by, from_issue, into_issue, code, name, kind";

/// A list field as its column's JSON text.
fn json_list<T: serde::Serialize>(v: &Option<Vec<T>>) -> Option<String> {
    v.as_ref()
        .map(|v| serde_json::to_string(v).expect("a list of strings serialises"))
}

/// A list column's JSON text back as the list (an unreadable one is damage,
/// caught as corruption when the row is read back as an event).
fn from_json_list<T: serde::de::DeserializeOwned>(
    text: Option<String>,
) -> rusqlite::Result<Option<Vec<T>>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
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

/// Opens (creating if missing) the read model for writing.
pub(crate) fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).sql()?;
    conn.execute_batch(dialect::WRITER_PRAGMAS).sql()?;
    Ok(conn)
}

/// Opens the read model read-only; `None` if there is none. On media where
/// SQLite cannot keep its shared-memory file (read-only mounts, a copy an
/// auditor may not write), falls back to `immutable` mode, which assumes
/// that nothing changes the file, as nothing can there.
pub(crate) fn open_reader(path: &Path) -> Result<Option<Connection>> {
    if !path.is_file() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).sql()?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .sql()?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(Some(conn)),
        Err(_) => {
            let conn = Connection::open_with_flags(dialect::immutable_uri(path), flags).sql()?;
            Ok(Some(conn))
        }
    }
}

/// What the file holds.
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
pub(crate) fn schema(conn: &Connection) -> Result<Schema> {
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .sql()?
        > 0;
    if !has_meta {
        return Ok(Schema::Missing);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .sql()?;
    Ok(match v {
        Some(v) if v == SCHEMA_VERSION => Schema::Current,
        Some(v) => Schema::Other(v),
        None => Schema::Other("none".into()),
    })
}

/// Inside the caller's transaction: drops whatever the file holds and
/// creates the empty schema, with the watermark at the empty log.
pub(crate) fn reset(conn: &Connection) -> Result<()> {
    let objects: Vec<(String, String)> = {
        let mut st = conn
            .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
            .sql()?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .sql()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .sql()?;
        rows
    };
    for (kind, name) in objects {
        let kind = if kind == "view" { "VIEW" } else { "TABLE" };
        conn.execute_batch(&format!(
            "DROP {kind} IF EXISTS \"{}\"",
            name.replace('"', "\"\"")
        ))
        .sql()?;
    }
    conn.execute_batch(SCHEMA).sql()?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
        [SCHEMA_VERSION],
    )
    .sql()?;
    set_watermark(conn, &Head::empty())
}

/// Moves the watermark (inside the caller's transaction).
pub(crate) fn set_watermark(conn: &Connection, head: &Head) -> Result<()> {
    let mut st = conn.prepare_cached(dialect::UPSERT_META).sql()?;
    st.execute(params!["watermark_seq", head.seq.to_string()])
        .sql()?;
    st.execute(params!["watermark_hash", hex_hash(&head.hash)])
        .sql()?;
    st.execute(params![
        "watermark_recorded_at",
        format_timestamp(&head.recorded_at)
    ])
    .sql()?;
    Ok(())
}

/// Records that `verify` found damage at `seq`, so that writes are refused
/// until a verify passes again (autocommit: outside any write).
pub(crate) fn set_fault(conn: &Connection, seq: u64, message: &str) -> Result<()> {
    let mut st = conn.prepare_cached(dialect::UPSERT_META).sql()?;
    st.execute(params!["fault_seq", seq.to_string()]).sql()?;
    st.execute(params!["fault", message]).sql()?;
    Ok(())
}

/// Forgets a recorded fault (a verify passed).
pub(crate) fn clear_fault(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM meta WHERE key IN ('fault_seq', 'fault')", [])
        .sql()?;
    Ok(())
}

/// Adds an event's rows (inside the caller's transaction).
pub(crate) fn insert(conn: &Connection, event: &Event, derived: &Derived) -> Result<()> {
    let w = Wire::from_event(event);
    conn.prepare_cached(&format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40)"
    ))
    .sql()?
    .execute(params![
        event.seq as i64,
        w.id,
        w.recorded_at,
        w.recorded_by,
        w.kind,
        w.prev_hash,
        w.hash,
        w.target,
        derived.target_seq.map(|s| s as i64),
        w.actor,
        w.issue,
        w.reason,
        w.position,
        w.stated_on,
        w.summary,
        w.quote,
        w.speaker,
        w.source_url,
        w.source_title,
        w.stated_on_precision,
        json_list(&w.qualifiers),
        w.condition,
        w.attribution,
        w.reported_by,
        w.speaker_role,
        json_list(&w.sources),
        w.quote_lang,
        w.translation,
        w.slug,
        w.title,
        w.proposition,
        w.description,
        w.alias,
        w.lang,
        json_list(&w.used_by),
        w.from,
        w.into,
        w.code,
        w.name,
        w.actor_kind,
    ])
    .sql()?;
    let Some(v) = &derived.version else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT INTO versions (actor, issue, stated_on, statement_seq, version_seq, tombstone) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .sql()?
    .execute(params![
        v.actor,
        v.issue,
        v.stated_on.to_string(),
        v.stmt_seq as i64,
        v.version_seq as i64,
        v.tombstone as i64,
    ])
    .sql()?;
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

/// Reads an event row in [`EVENT_COLUMNS`] order.
fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Wire, Option<i64>)> {
    let s = |i: usize| r.get::<_, Option<String>>(i);
    let seq: i64 = r.get(0)?;
    let wire = Wire {
        seq: Some(seq as u64),
        id: s(1)?,
        recorded_at: s(2)?,
        recorded_by: s(3)?,
        kind: r.get(4)?,
        prev_hash: s(5)?,
        hash: s(6)?,
        target: s(7)?,
        actor: s(9)?,
        issue: s(10)?,
        reason: s(11)?,
        position: s(12)?,
        stated_on: s(13)?,
        summary: s(14)?,
        quote: s(15)?,
        speaker: s(16)?,
        source_url: s(17)?,
        source_title: s(18)?,
        stated_on_precision: s(19)?,
        qualifiers: from_json_list(s(20)?)?,
        condition: s(21)?,
        attribution: s(22)?,
        reported_by: s(23)?,
        speaker_role: s(24)?,
        sources: from_json_list(s(25)?)?,
        quote_lang: s(26)?,
        translation: s(27)?,
        slug: s(28)?,
        title: s(29)?,
        proposition: s(30)?,
        description: s(31)?,
        alias: s(32)?,
        lang: s(33)?,
        used_by: from_json_list(s(34)?)?,
        from: s(35)?,
        into: s(36)?,
        code: s(37)?,
        name: s(38)?,
        actor_kind: s(39)?,
    };
    Ok((seq, wire, r.get(8)?))
}

fn to_event_row((seq, wire, target_seq): (i64, Wire, Option<i64>)) -> Result<EventRow> {
    let seq = seq as u64;
    let event = wire.to_event().map_err(|m| corrupt(seq, m))?;
    Ok(EventRow {
        event,
        target_seq: target_seq.map(|t| t as u64),
    })
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

/// Queries over one connection: a reader's snapshot or a writer's open
/// transaction (which sees its own uncommitted rows).
pub(crate) struct Query<'c> {
    conn: &'c Connection,
}

impl<'c> Query<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Query<'c> {
        Query { conn }
    }

    /// The watermark: the last event applied.
    pub(crate) fn watermark(&self) -> Result<Head> {
        let get = |key: &str| self.meta(key);
        let bad = || corrupt(0, "unreadable watermark");
        let seq = match get("watermark_seq")? {
            None => return Ok(Head::empty()),
            Some(s) => s.parse::<u64>().map_err(|_| bad())?,
        };
        let hash = parse_hash(&get("watermark_hash")?.ok_or_else(bad)?).ok_or_else(bad)?;
        let recorded_at =
            DateTime::parse_from_rfc3339(&get("watermark_recorded_at")?.ok_or_else(bad)?)
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
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .sql()?
            .query_row([key], |r| r.get(0))
            .optional()
            .sql()
    }

    /// The damage the last `verify` found, if it found any: seq and message.
    pub(crate) fn fault(&self) -> Result<Option<(u64, String)>> {
        Ok(match (self.meta("fault_seq")?, self.meta("fault")?) {
            (Some(seq), Some(m)) => Some((seq.parse().unwrap_or(0), m)),
            _ => None,
        })
    }

    fn events_where(&self, clause: &str, args: impl rusqlite::Params) -> Result<Vec<EventRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {EVENT_COLUMNS} FROM events {clause}"))
            .sql()?;
        let rows = st.query_map(args, event_row).sql()?;
        rows.map(|r| to_event_row(r.sql()?)).collect()
    }

    /// The event at `seq`.
    pub(crate) fn event(&self, seq: u64) -> Result<Option<Event>> {
        Ok(self
            .events_where("WHERE seq = ?1", [seq as i64])?
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
        Ok(self
            .events_where("WHERE id = ?1", [id.to_string()])?
            .pop()
            .map(|r| r.event))
    }

    /// The rows of the events from `from` on, at most `limit`, in order, in
    /// their JSON form with their `target_seq` (for comparing with the log).
    pub(crate) fn wires_from(&self, from: u64, limit: usize) -> Result<Vec<(Wire, Option<u64>)>> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
            ))
            .sql()?;
        let rows = st
            .query_map(
                params![from.min(i64::MAX as u64) as i64, limit as i64],
                event_row,
            )
            .sql()?;
        rows.map(|r| {
            let (_, w, t) = r.sql()?;
            Ok((w, t.map(|t| t as u64)))
        })
        .collect()
    }

    /// The events from `from` to `to` (inclusive), at most `limit`, in order.
    pub(crate) fn events_range(&self, from: u64, to: u64, limit: usize) -> Result<Vec<EventRow>> {
        self.events_where(
            "WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
            params![from as i64, to.min(i64::MAX as u64) as i64, limit as i64],
        )
    }

    /// The edits of the statement at `stmt_seq` up to seq `upto`, in order.
    pub(crate) fn edits(&self, stmt_seq: u64, upto: u64) -> Result<Vec<Event>> {
        Ok(self
            .events_where(
                "WHERE target_seq = ?1 AND seq <= ?2 ORDER BY seq",
                params![stmt_seq as i64, upto.min(i64::MAX as u64) as i64],
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
            for r in self.events_where(&format!("WHERE seq IN ({list})"), [])? {
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
                &format!("WHERE target_seq IN ({list}) AND seq <= ?1 ORDER BY seq"),
                [upto.min(i64::MAX as u64) as i64],
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
        let seq: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(seq) FROM events WHERE target_seq = ?1")
            .sql()?
            .query_row([stmt_seq as i64], |r| r.get(0))
            .sql()?;
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
        let latest: Option<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT stated_on, tombstone FROM versions WHERE statement_seq = ?1 ORDER BY version_seq DESC LIMIT 1",
            )
            .sql()?
            .query_row([seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .sql()?;
        let (stated_on, tombstone) =
            latest.ok_or_else(|| corrupt(seq, "a statement without versions"))?;
        state.stated_on = parse_date(&stated_on).map_err(|e| corrupt(seq, e.to_string()))?;
        state.retracted = tombstone != 0;
        Ok(state)
    }

    /// The last seq recorded at or before `t` (0 if none), at most `upto`.
    pub(crate) fn known_seq(&self, t: &DateTime<Utc>, upto: u64) -> Result<u64> {
        let seq: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT seq FROM events WHERE recorded_at <= ?1 ORDER BY recorded_at DESC, seq DESC LIMIT 1",
            )
            .sql()?
            .query_row([format_timestamp(t)], |r| r.get(0))
            .optional()
            .sql()?;
        Ok(seq.map_or(0, |s| (s as u64).min(upto)))
    }

    /// Every version of one pair.
    pub(crate) fn pair_versions(&self, actor: &Actor, issue: &Issue) -> Result<Vec<Version>> {
        let mut out = Vec::new();
        self.versions_where(
            "WHERE actor = ?1 AND issue = ?2",
            params![actor.as_str(), issue.as_str()],
            |v| {
                out.push(v);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Every version of the given actors (all when empty), in
    /// (actor, issue, stated_on, statement, version) order.
    pub(crate) fn for_each_version(
        &self,
        actors: &[Actor],
        mut f: impl FnMut(Version) -> Result<()>,
    ) -> Result<()> {
        if actors.is_empty() {
            return self.versions_where(
                "ORDER BY actor, issue, stated_on, statement_seq, version_seq",
                [],
                f,
            );
        }
        let mut actors: Vec<&str> = actors.iter().map(Actor::as_str).collect();
        actors.sort_unstable();
        actors.dedup();
        for a in actors {
            self.versions_where(
                "WHERE actor = ?1 ORDER BY actor, issue, stated_on, statement_seq, version_seq",
                [a],
                &mut f,
            )?;
        }
        Ok(())
    }

    fn versions_where(
        &self,
        clause: &str,
        args: impl rusqlite::Params,
        mut f: impl FnMut(Version) -> Result<()>,
    ) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT actor, issue, stated_on, statement_seq, version_seq, tombstone FROM versions {clause}"
            ))
            .sql()?;
        let mut rows = st.query(args).sql()?;
        while let Some(r) = rows.next().sql()? {
            let stmt_seq: i64 = r.get(3).sql()?;
            let stated_on: String = r.get(2).sql()?;
            let v = Version {
                actor: r.get(0).sql()?,
                issue: r.get(1).sql()?,
                stated_on: parse_date(&stated_on)
                    .map_err(|e| corrupt(stmt_seq as u64, e.to_string()))?,
                stmt_seq: stmt_seq as u64,
                version_seq: r.get::<_, i64>(4).sql()? as u64,
                tombstone: r.get::<_, i64>(5).sql()? != 0,
            };
            f(v)?;
        }
        Ok(())
    }

    /// Whether `versions` holds exactly this row.
    pub(crate) fn has_version(&self, v: &Version) -> Result<bool> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM versions WHERE actor = ?1 AND issue = ?2 AND stated_on = ?3 AND statement_seq = ?4 AND version_seq = ?5 AND tombstone = ?6",
            )
            .sql()?
            .query_row(
                params![
                    v.actor,
                    v.issue,
                    v.stated_on.to_string(),
                    v.stmt_seq as i64,
                    v.version_seq as i64,
                    v.tombstone as i64
                ],
                |r| r.get(0),
            )
            .sql()?;
        Ok(n == 1)
    }

    /// Calls `f` with every version row, in storage order (for digests).
    pub(crate) fn scan_versions(&self, f: impl FnMut(Version) -> Result<()>) -> Result<()> {
        self.versions_where("", [], f)
    }

    /// The naming events (definitions, rewordings, aliases, merges, actor
    /// definitions) up to seq `upto`, in order: few, read whole.
    pub(crate) fn naming_events(&self, upto: u64) -> Result<Vec<Event>> {
        Ok(self
            .events_where(
                "WHERE type IN ('issue_definition', 'issue_rewording', 'alias', 'alias_removal', 'issue_merge', 'actor_definition') AND seq <= ?1 ORDER BY seq",
                [upto.min(i64::MAX as u64) as i64],
            )?
            .into_iter()
            .map(|r| r.event)
            .collect())
    }

    /// Whether any statement up to seq `upto` is on this slug.
    pub(crate) fn has_statements(&self, issue: &Issue, upto: u64) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM versions WHERE issue = ?1 AND statement_seq <= ?2)",
            )
            .sql()?
            .query_row(
                params![issue.as_str(), upto.min(i64::MAX as u64) as i64],
                |r| r.get::<_, bool>(0),
            )
            .sql()
    }

    /// Per slug with statements up to `upto`: statements and distinct actors.
    pub(crate) fn issue_counts(&self, upto: u64) -> Result<Vec<(String, u64, u64)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT issue, count(DISTINCT statement_seq), count(DISTINCT actor) FROM versions WHERE statement_seq <= ?1 GROUP BY issue ORDER BY issue",
            )
            .sql()?;
        let rows = st
            .query_map([upto.min(i64::MAX as u64) as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .sql()?;
        rows.map(|r| r.sql()).collect()
    }

    /// Per actor with statements up to `upto`: the number of statements.
    pub(crate) fn actor_counts(&self, upto: u64) -> Result<Vec<(String, u64)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT actor, count(DISTINCT statement_seq) FROM versions WHERE statement_seq <= ?1 GROUP BY actor ORDER BY actor",
            )
            .sql()?;
        let rows = st
            .query_map([upto.min(i64::MAX as u64) as i64], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })
            .sql()?;
        rows.map(|r| r.sql()).collect()
    }

    /// Statements up to `upto` on any of `issues`, and their distinct actors.
    pub(crate) fn group_counts(&self, issues: &[Issue], upto: u64) -> Result<(u64, u64)> {
        let mut seqs = std::collections::HashSet::new();
        let mut actors = std::collections::HashSet::new();
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT statement_seq, actor FROM versions WHERE issue = ?1 AND statement_seq <= ?2",
            )
            .sql()?;
        for issue in issues {
            let rows = st
                .query_map(
                    params![issue.as_str(), upto.min(i64::MAX as u64) as i64],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .sql()?;
            for r in rows {
                let (seq, actor) = r.sql()?;
                seqs.insert(seq);
                actors.insert(actor);
            }
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
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT statement_seq FROM versions WHERE actor = ?1 AND issue = ?2 AND statement_seq <= ?3 ORDER BY statement_seq",
            )
            .sql()?;
        let rows = st
            .query_map(
                params![
                    actor.as_str(),
                    issue.as_str(),
                    upto.min(i64::MAX as u64) as i64
                ],
                |r| r.get::<_, i64>(0),
            )
            .sql()?;
        rows.map(|r| Ok(r.sql()? as u64)).collect()
    }

    /// Per author and event type, up to seq `upto`: how many events, and
    /// the first and last `recorded_at` (RFC 3339 text, which sorts as
    /// time), in (author, type) order. One pass over `events`.
    pub(crate) fn authorship(&self, upto: u64) -> Result<Vec<AuthorshipRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT recorded_by, type, count(*), min(recorded_at), max(recorded_at) FROM events WHERE seq <= ?1 GROUP BY recorded_by, type ORDER BY recorded_by, type",
            )
            .sql()?;
        let rows = st
            .query_map([upto.min(i64::MAX as u64) as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .sql()?;
        rows.map(|r| r.sql()).collect()
    }
}

/// A row of [`Query::authorship`]: author, type, events, first and last
/// `recorded_at`.
pub(crate) type AuthorshipRow = (String, String, u64, String, String);

/// Runs `f` in one read transaction of `conn`, so every query it makes sees
/// the same committed state.
pub(crate) fn snapshot<T>(conn: &Connection, f: impl FnOnce(&Query<'_>) -> Result<T>) -> Result<T> {
    if !conn.is_autocommit() {
        return f(&Query::new(conn));
    }
    conn.execute_batch(dialect::BEGIN_READ).sql()?;
    let out = f(&Query::new(conn));
    let end = conn.execute_batch(dialect::COMMIT).sql();
    let out = out?;
    end?;
    Ok(out)
}

/// Starts the one writer's transaction on `conn`, rolling back first one
/// that a writer which panicked left open.
pub(crate) fn begin_write(conn: &Connection) -> Result<()> {
    if !conn.is_autocommit() {
        conn.execute_batch(dialect::ROLLBACK).sql()?;
    }
    conn.execute_batch(dialect::BEGIN_WRITE).sql()
}

/// Commits the writer's transaction.
pub(crate) fn commit(conn: &Connection) -> Result<()> {
    conn.execute_batch(dialect::COMMIT).sql()
}

/// Rolls back the writer's transaction, if one is open.
pub(crate) fn rollback(conn: &Connection) -> Result<()> {
    if conn.is_autocommit() {
        return Ok(());
    }
    conn.execute_batch(dialect::ROLLBACK).sql()
}
