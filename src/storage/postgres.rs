//! PostgreSQL, a ledger's second home: the log and the read model in one
//! database (one schema of it), which a team shares.
//!
//! - **The log** is the table `log`, one row per event with a column per
//!   envelope field, the canonical record bytes (`record`: exactly what a
//!   sled log holds) and the event as JSON (`payload`) for SQL users. The
//!   committed head and the format records are rows of `log_meta`. Its
//!   schema is made by numbered migrations (`migrations/postgres/`), which
//!   `stancelog init` applies in order and records in `stancelog_migrations`.
//! - **One transaction per write.** A writer's transaction takes the
//!   ledger's transaction-scoped advisory lock first ([`Pg::begin_write`]),
//!   then reads the head, appends seq = head + 1 onward and writes the read
//!   model's rows in the same transaction, and commits once. So seqs have no
//!   gaps, commit order is seq order, and a write that fails or dies leaves
//!   nothing: the lock linearises appends, where a `bigserial` position
//!   would let concurrent writers commit out of order.
//! - **Readers** use `REPEATABLE READ READ ONLY` snapshots and never wait.
//!
//! [`PgEngine`] presents the log to [`crate::store::Store`] through the
//! storage boundary ([`Engine`]): log keys map to `log` rows, other keys to
//! `log_meta`; an applied batch joins the open transaction, whose commit
//! (by the read model's connection, the same session) makes it durable.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::error::{Severity, SqlState};
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::{Batch, Engine, Entries, Entry, StorageError};
use crate::error::{Error, Result};
use crate::index;
use crate::readmodel::{postgres_params, Arg, Row};

/// The numbered migrations of the log's schema, applied in order.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "the log",
    include_str!("../../migrations/postgres/0001_log.sql"),
)];

/// The schema version this code writes and reads.
pub(crate) const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Whether `s` names a PostgreSQL ledger rather than a directory.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// How messages name the PostgreSQL ledger at `url`: without its password.
pub fn shown_address(url: &str) -> String {
    Target::parse(url).map_or_else(|_| "a PostgreSQL ledger".to_owned(), |t| t.shown)
}

/// A PostgreSQL ledger's address: the connection settings, the schema the
/// ledger lives in, and how to name it in messages (never with a password).
#[derive(Clone, Debug)]
pub(crate) struct Target {
    config: postgres::Config,
    schema: String,
    shown: String,
}

impl Target {
    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?schema=NAME&...]`
    /// (or `postgresql://`). `schema` defaults to `public`; other
    /// parameters are libpq's.
    pub(crate) fn parse(url: &str) -> Result<Target> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut schema = None;
        let mut rest = Vec::new();
        let mut shown_params = Vec::new();
        for kv in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|s| !s.is_empty())
        {
            match kv.split_once('=') {
                Some(("schema", v)) => schema = Some(v.to_owned()),
                Some(("password", _)) => rest.push(kv),
                _ => {
                    rest.push(kv);
                    shown_params.push(kv);
                }
            }
        }
        let schema = schema.unwrap_or_else(|| "public".into());
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::invalid(format!(
                "invalid schema name {schema:?} in the PostgreSQL ledger address (lower-case letters, digits and _, starting with a letter, at most 63)"
            )));
        }
        let mut libpq = base.to_owned();
        if !rest.is_empty() {
            libpq.push('?');
            libpq.push_str(&rest.join("&"));
        }
        let shown = {
            let mut s = redact(base);
            let mut params: Vec<String> = shown_params.iter().map(|p| p.to_string()).collect();
            if schema != "public" {
                params.push(format!("schema={schema}"));
            }
            if !params.is_empty() {
                s.push('?');
                s.push_str(&params.join("&"));
            }
            s
        };
        let mut config = postgres::Config::from_str(&libpq).map_err(|_| {
            Error::invalid(format!(
                "invalid PostgreSQL ledger address {shown} (expected postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME])"
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("stancelog");
        Ok(Target {
            config,
            schema,
            shown,
        })
    }

    /// The address as messages show it: no password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// The schema the ledger lives in.
    #[cfg(test)]
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Opens a session in the ledger's schema, in UTC.
    pub(crate) fn connect(&self, wait: &Wait) -> Result<Pg> {
        let mut client = self.config.connect(NoTls).map_err(|e| {
            Error::Storage(StorageError::msg(format!(
                "cannot connect to the PostgreSQL ledger {}: {}",
                self.shown,
                describe(&e)
            )))
        })?;
        client
            .batch_execute(&format!(
                "SET search_path TO \"{}\"; SET TIME ZONE 'UTC'",
                self.schema
            ))
            .map_err(|e| self.error(e))?;
        Ok(Pg {
            inner: Arc::new(Shared {
                session: Mutex::new(Session {
                    client,
                    cache: HashMap::new(),
                    deferred: Vec::new(),
                }),
                in_tx: AtomicBool::new(false),
                writing: AtomicBool::new(false),
                shown: self.shown.clone(),
                schema: self.schema.clone(),
                wait: wait.clone(),
            }),
        })
    }

    fn error(&self, e: postgres::Error) -> Error {
        error(&self.shown, 0, e, false)
    }
}

/// Removes a password from `user:password@` in a URL.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

/// A client error's cause, in the server's words when it gave some, else
/// the client's with its own causes (`error connecting to server:
/// Connection refused (os error 111)`).
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_owned();
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Whether the server's error ended the session: one of severity FATAL
/// or PANIC (after which the server closes the connection: it was shut
/// down, restarted or crashed, or the session was terminated or timed
/// out), or one whose code says so (class 08, connection exception;
/// 57P01-57P03, the server shutting down, crashed or starting).
fn ends_session(code: &SqlState, severity: Option<Severity>, shown_severity: &str) -> bool {
    let fatal = match severity {
        Some(s) => matches!(s, Severity::Fatal | Severity::Panic),
        None => matches!(shown_severity, "FATAL" | "PANIC"),
    };
    fatal
        || code.code().starts_with("08")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code)
}

/// Why a client error means that the connection is gone, or `None` when
/// it does not: the server's words when it ended the session, else the
/// client's (the socket closed or failed).
fn lost_because(e: &postgres::Error) -> Option<String> {
    match e.as_db_error() {
        Some(db) => ends_session(db.code(), db.parsed_severity(), db.severity())
            .then(|| format!("the server ended the session: {}", db.message())),
        None => {
            let io = std::error::Error::source(e).is_some_and(|c| c.is::<std::io::Error>());
            (e.is_closed() || io).then(|| describe(e))
        }
    }
}

/// The error of a command whose connection to the ledger at `shown` was
/// lost for `cause`. Before the commit was sent nothing of the command was
/// written; while it was awaited, the commit may have happened.
fn lost_connection(shown: &str, cause: &str, committing: bool) -> Error {
    let outcome = if committing {
        "it was lost while committing, so what the command wrote may have been committed: see `stancelog head` before running it again"
    } else {
        "nothing of this command was committed, so it can be run again"
    };
    Error::Storage(StorageError::msg(format!(
        "lost the connection to the PostgreSQL ledger {shown} ({cause}); {outcome}"
    )))
}

/// A client error as the ledger's error, naming the ledger (never its
/// password): a lock not had in time is [`Error::Busy`], a full disk is
/// that, and a dropped connection (the server shut down, restarted or
/// crashed, the network failed) says so and whether the command may be run
/// again (`committing`: the error answered a COMMIT).
fn error(shown: &str, wait_secs: u64, e: postgres::Error, committing: bool) -> Error {
    if let Some(db) = e.as_db_error() {
        if *db.code() == SqlState::LOCK_NOT_AVAILABLE {
            return Error::Busy(PathBuf::from(shown), wait_secs);
        }
        if *db.code() == SqlState::DISK_FULL {
            return Error::Storage(StorageError::disk_full());
        }
    }
    if let Some(cause) = lost_because(&e) {
        return lost_connection(shown, &cause, committing);
    }
    Error::Storage(StorageError::msg(format!(
        "the PostgreSQL ledger {shown}: {}",
        describe(&e)
    )))
}

/// How long a writer waits for the ledger's lock, and whom it tells.
#[derive(Clone, Debug)]
pub(crate) struct Wait {
    pub(crate) budget: Duration,
    pub(crate) notice_after: Duration,
    pub(crate) on_wait: Option<fn(&Path)>,
}

/// One session with the server, shared by the log engine and the read
/// model's connection of one [`crate::Ledger`] (so both write in one
/// transaction). Cheap to clone.
#[derive(Clone)]
pub(crate) struct Pg {
    inner: Arc<Shared>,
}

struct Shared {
    session: Mutex<Session>,
    in_tx: AtomicBool,
    /// Whether the open transaction is a writer's (so that a connection
    /// lost at its COMMIT may have committed it).
    writing: AtomicBool,
    shown: String,
    schema: String,
    wait: Wait,
}

struct Session {
    client: Client,
    /// Prepared statements by their SQL text (in `?N` form).
    cache: HashMap<String, Statement>,
    /// Inserts held back inside the open transaction (see [`Pg::defer`]),
    /// one group per statement, in the order the statements first came.
    deferred: Vec<Deferred>,
}

/// An owned statement parameter, held until its insert is sent.
type Owned = Box<dyn ToSql + Sync + Send>;

/// Owned parameters as the client takes them.
fn borrowed(args: &[Owned]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter()
        .map(|a| -> &(dyn ToSql + Sync) { a.as_ref() })
        .collect()
}

/// The rows of one `INSERT ... VALUES (?1, ..., ?n)` not sent yet.
struct Deferred {
    sql: String,
    rows: Vec<Vec<Owned>>,
}

/// Rows sent in one multi-row `INSERT` at most: a round trip per row was
/// most of an import's time; PostgreSQL takes at most 65,535 parameters.
const ROWS_PER_INSERT: usize = 1000;

/// `sql`, an `INSERT ... VALUES (tuple) [suffix]` with parameters
/// `?1..?width`, made to insert `rows` rows: the tuple repeated with its
/// parameters numbered on (`?1..?width`, then `?width+1..`), casts and all,
/// and the suffix (an `ON CONFLICT` clause, which then holds for every row)
/// once, after the last. The suffix must not use parameters.
fn multi_row(sql: &str, width: usize, rows: usize) -> String {
    let at = sql.rfind("VALUES").expect("an INSERT ... VALUES") + "VALUES".len();
    let (head, rest) = sql.split_at(at);
    let rest = rest.trim_start();
    let end = tuple_end(rest);
    let (tuple, suffix) = rest.split_at(end);
    let mut out = String::with_capacity(sql.len() + rows * (tuple.len() + 16));
    out.push_str(head);
    for r in 0..rows {
        out.push_str(if r == 0 { " " } else { ", " });
        let mut rest = tuple;
        while let Some(q) = rest.find('?') {
            out.push_str(&rest[..q]);
            let digits = rest[q + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - q - 1, |n| n);
            let n: usize = rest[q + 1..q + 1 + digits]
                .parse()
                .expect("a numbered parameter");
            out.push_str(&format!("?{}", r * width + n));
            rest = &rest[q + 1 + digits..];
        }
        out.push_str(rest);
    }
    out.push_str(suffix);
    out
}

/// The length of the parenthesised tuple `s` starts with (through its
/// closing parenthesis; parentheses nest, as in a cast's type).
fn tuple_end(s: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

impl Session {
    /// Sends the held-back inserts, a multi-row statement per
    /// [`ROWS_PER_INSERT`] rows of each.
    fn flush(&mut self) -> std::result::Result<(), postgres::Error> {
        let deferred = std::mem::take(&mut self.deferred);
        for group in deferred {
            let width = group.rows[0].len();
            let per = ROWS_PER_INSERT.min(65_535 / width.max(1));
            for chunk in group.rows.chunks(per) {
                let sql = multi_row(&group.sql, width, chunk.len());
                let args: Vec<&(dyn ToSql + Sync)> = chunk
                    .iter()
                    .flatten()
                    .map(|a| -> &(dyn ToSql + Sync) { a.as_ref() })
                    .collect();
                if chunk.len() == per || chunk.len() == 1 {
                    // The shapes that recur (a full chunk, and a single
                    // row, as a `record` sends) are prepared once.
                    let st = self.prepared(&sql)?;
                    self.client.execute(&st, &args)?;
                } else {
                    // A last, shorter chunk: its statement is not kept.
                    self.client.execute(&postgres_params(&sql), &args)?;
                }
            }
        }
        Ok(())
    }

    fn prepared(&mut self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(st) = self.cache.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(&postgres_params(sql))?;
        self.cache.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter()
        .map(|a| -> &(dyn ToSql + Sync) {
            match a {
                Arg::Int(i) => i,
                Arg::OptInt(o) => o,
                Arg::Text(s) => s,
                Arg::OptText(o) => o,
                Arg::Blob(b) => b,
            }
        })
        .collect()
}

struct PgRow(postgres::Row);

impl PgRow {
    fn get<'a, T: postgres::types::FromSql<'a>>(&'a self, i: usize) -> Result<T> {
        self.0
            .try_get(i)
            .map_err(|e| Error::Storage(StorageError::with_source("read model", e)))
    }
}

impl Row for PgRow {
    fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| {
            Error::Storage(StorageError::msg(format!("read model: column {i} is NULL")))
        })
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match *self.0.columns()[i].type_() {
            Type::INT4 => Ok(self.get::<Option<i32>>(i)?.map(i64::from)),
            Type::INT2 => Ok(self.get::<Option<i16>>(i)?.map(i64::from)),
            Type::BOOL => Ok(self.get::<Option<bool>>(i)?.map(i64::from)),
            _ => self.get(i),
        }
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.get(i)
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        self.get(i)
    }
    fn flag(&self, i: usize) -> Result<bool> {
        match *self.0.columns()[i].type_() {
            Type::BOOL => self.get(i),
            _ => Ok(self.int(i)? != 0),
        }
    }
}

impl Pg {
    fn session(&self) -> MutexGuard<'_, Session> {
        self.inner.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, e: postgres::Error) -> Error {
        error(
            &self.inner.shown,
            self.inner.wait.budget.as_secs(),
            e,
            false,
        )
    }

    /// The rows of `sql` (read whole, then handed to `f` with the session
    /// free again, so that `f` may query too).
    pub(crate) fn each(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        let rows = self.query(sql, &params(args))?;
        for r in rows {
            f(&PgRow(r))?;
        }
        Ok(())
    }

    /// The session, with every held-back insert sent first, so that each
    /// other statement sees them.
    fn flushed(&self) -> Result<MutexGuard<'_, Session>> {
        let mut s = self.session();
        s.flush().map_err(|e| self.err(e))?;
        Ok(s)
    }

    fn query(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        let mut s = self.flushed()?;
        let st = s.prepared(sql).map_err(|e| self.err(e))?;
        s.client.query(&st, args).map_err(|e| self.err(e))
    }

    fn exec(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let mut s = self.flushed()?;
        let st = s.prepared(sql).map_err(|e| self.err(e))?;
        s.client.execute(&st, args).map_err(|e| self.err(e))
    }

    /// Runs an `INSERT ... VALUES (?1, ..., ?n)` of one row, or, inside a
    /// transaction, holds it back to send with the rows that follow it in
    /// one multi-row statement (before the session's next other statement,
    /// at the latest before COMMIT; a ROLLBACK drops them). A write's rows
    /// are so sent in a round trip per thousand rather than one each; what
    /// it reads in between still sees them.
    pub(crate) fn defer(&self, sql: &str, args: Vec<Owned>) -> Result<()> {
        if !self.in_transaction() {
            return self.exec(sql, &borrowed(&args)).map(drop);
        }
        let mut s = self.session();
        let full = {
            let group = match s.deferred.iter().position(|d| d.sql == sql) {
                Some(i) => &mut s.deferred[i],
                None => {
                    s.deferred.push(Deferred {
                        sql: sql.to_owned(),
                        rows: Vec::new(),
                    });
                    s.deferred.last_mut().expect("just pushed")
                }
            };
            group.rows.push(args);
            group.rows.len() >= ROWS_PER_INSERT
        };
        if full {
            s.flush().map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Sends the held-back inserts now (see [`Pg::defer`]).
    pub(crate) fn send_deferred(&self) -> Result<()> {
        self.flushed().map(drop)
    }

    /// Holds back an insert of read-model values (see [`Pg::defer`]).
    pub(crate) fn defer_args(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        let owned = args
            .iter()
            .map(|a| -> Owned {
                match *a {
                    Arg::Int(i) => Box::new(i),
                    Arg::OptInt(o) => Box::new(o),
                    Arg::Text(t) => Box::new(t.to_owned()),
                    Arg::OptText(o) => Box::new(o.map(str::to_owned)),
                    Arg::Blob(b) => Box::new(b.to_vec()),
                }
            })
            .collect();
        self.defer(sql, owned)
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        self.exec(sql, &params(args))
    }

    /// Runs statements without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        let mut s = self.session();
        if sql == "ROLLBACK" {
            s.deferred.clear();
        } else {
            s.flush().map_err(|e| self.err(e))?;
        }
        s.client.batch_execute(sql).map_err(|e| {
            let committing = sql == "COMMIT" && self.inner.writing.load(Ordering::SeqCst);
            error(
                &self.inner.shown,
                self.inner.wait.budget.as_secs(),
                e,
                committing,
            )
        })
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.inner.in_tx.load(Ordering::SeqCst)
    }

    pub(crate) fn set_in_transaction(&self, open: bool) {
        self.inner.in_tx.store(open, Ordering::SeqCst);
        if !open {
            // Whatever was not sent by the end is not the transaction's.
            self.session().deferred.clear();
            self.inner.writing.store(false, Ordering::SeqCst);
        }
    }

    /// The ledger's advisory lock key: one per schema, so that ledgers in
    /// one database do not wait for each other.
    fn lock_key(&self) -> i64 {
        xxhash_rust::xxh3::xxh3_64(format!("stancelog ledger {}", self.inner.schema).as_bytes())
            as i64
    }

    /// Starts the one writer's transaction: takes the ledger's
    /// transaction-scoped advisory lock, waiting at most the caller's
    /// budget (then [`Error::Busy`]), announcing a wait once. The lock is
    /// released by the commit or rollback, or by the server when the
    /// session dies.
    pub(crate) fn begin_write(&self) -> Result<()> {
        self.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        self.set_in_transaction(true);
        self.inner.writing.store(true, Ordering::SeqCst);
        let locked = self.take_lock();
        if locked.is_err() {
            let _ = self.batch("ROLLBACK");
            self.set_in_transaction(false);
        }
        locked
    }

    fn take_lock(&self) -> Result<()> {
        let key = self.lock_key();
        let got = |pg: &Pg| -> Result<bool> {
            let rows = pg.query("SELECT pg_try_advisory_xact_lock(?1)", &[&key])?;
            Ok(rows.first().is_some_and(|r| r.get::<_, bool>(0)))
        };
        if got(self)? {
            return Ok(());
        }
        let wait = &self.inner.wait;
        let start = Instant::now();
        let quiet = wait.notice_after.min(wait.budget);
        // Wait quietly, blocked in the server (so the lock passes on the
        // moment it is free, not at the next poll), for at most `quiet`. A
        // timed-out statement aborts its transaction, so the attempt runs
        // in a savepoint that the timeout rolls back.
        if !quiet.is_zero() {
            self.batch(&format!(
                "SAVEPOINT stancelog_lock; SET LOCAL lock_timeout = {}",
                quiet.as_millis().max(1)
            ))?;
            match self.exec("SELECT pg_advisory_xact_lock(?1)", &[&key]) {
                Ok(_) => {
                    return self
                        .batch("RELEASE SAVEPOINT stancelog_lock; SET LOCAL lock_timeout = 0")
                }
                Err(Error::Busy(..)) => self.batch("ROLLBACK TO SAVEPOINT stancelog_lock")?,
                Err(e) => return Err(e),
            }
        }
        if let Some(f) = wait.on_wait {
            f(Path::new(&self.inner.shown));
        }
        let left = wait.budget.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(Error::Busy(
                PathBuf::from(&self.inner.shown),
                wait.budget.as_secs(),
            ));
        }
        self.batch(&format!(
            "SET LOCAL lock_timeout = {}",
            left.as_millis().max(1)
        ))?;
        self.exec("SELECT pg_advisory_xact_lock(?1)", &[&key])?;
        self.batch("SET LOCAL lock_timeout = 0")
    }

    /// The schema version of the ledger here: `None` if `init` never ran.
    pub(crate) fn schema_version(&self) -> Result<Option<i32>> {
        let rows = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'stancelog_migrations'",
            &[],
        )?;
        if rows.first().is_none_or(|r| r.get::<_, i64>(0) == 0) {
            return Ok(None);
        }
        let rows = self.query("SELECT max(version) FROM stancelog_migrations", &[])?;
        Ok(rows.first().and_then(|r| r.get::<_, Option<i32>>(0)))
    }

    /// Refuses a database where `init` never ran, or ran a newer
    /// stancelog's migrations, or an older one's.
    pub(crate) fn check_schema(&self) -> Result<()> {
        let shown = &self.inner.shown;
        match self.schema_version()? {
            None => Err(Error::NotInitialised(shown.clone())),
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(v) if v > SCHEMA_VERSION => Err(Error::invalid(format!(
                "the PostgreSQL ledger {shown} has schema version {v}, newer than this stancelog's {SCHEMA_VERSION}; upgrade stancelog"
            ))),
            Some(v) => Err(Error::invalid(format!(
                "the PostgreSQL ledger {shown} has schema version {v}; run `stancelog init {shown}` to migrate it to {SCHEMA_VERSION}"
            ))),
        }
    }

    /// Creates the schema and applies the migrations it lacks, in order, in
    /// one transaction under the ledger's lock; returns those applied.
    pub(crate) fn migrate(&self) -> Result<Vec<(i32, &'static str)>> {
        let schema = &self.inner.schema;
        self.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))?;
        self.begin_write()?;
        let out = (|| {
            self.batch(
                "CREATE TABLE IF NOT EXISTS stancelog_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )?;
            let current = self.schema_version()?.unwrap_or(0);
            if current > SCHEMA_VERSION {
                return Err(Error::invalid(format!(
                    "the PostgreSQL ledger {} has schema version {current}, newer than this stancelog's {SCHEMA_VERSION}; upgrade stancelog",
                    self.inner.shown
                )));
            }
            let mut applied = Vec::new();
            for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
                self.batch(sql)?;
                self.exec(
                    "INSERT INTO stancelog_migrations (version, name) VALUES (?1, ?2)",
                    &[&version, &name],
                )?;
                applied.push((version, name));
            }
            Ok(applied)
        })();
        match out {
            Ok(applied) => {
                self.batch("COMMIT")?;
                self.set_in_transaction(false);
                Ok(applied)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                self.set_in_transaction(false);
                Err(e)
            }
        }
    }

    /// Runs `f` in a transaction of its own unless one is open.
    fn atomically<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.in_transaction() {
            return f();
        }
        self.batch("BEGIN")?;
        self.inner.writing.store(true, Ordering::SeqCst);
        let out = match f() {
            Ok(v) => self.batch("COMMIT").map(|()| v),
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        };
        self.inner.writing.store(false, Ordering::SeqCst);
        out
    }
}

/// The log of a PostgreSQL ledger behind the storage boundary.
pub(crate) struct PgEngine {
    pg: Pg,
}

impl PgEngine {
    pub(crate) fn new(pg: Pg) -> PgEngine {
        PgEngine { pg }
    }
}

fn storage(e: Error) -> StorageError {
    match e {
        Error::Storage(s) => s,
        other => StorageError::msg(other.to_string()),
    }
}

const INSERT_LOG: &str =
    "INSERT INTO log (seq, id, recorded_at, recorded_by, type, prev_hash, hash, record, payload) \
     VALUES (?1, ?2::text::uuid, ?3::text::timestamptz, ?4, ?5, ?6, ?7, ?8, ?9::text::jsonb)";

/// Log records fetched per query when streaming the log.
const PAGE: i64 = 4096;

impl PgEngine {
    fn insert_log(&self, seq: u64, record: &[u8]) -> Result<()> {
        let event = crate::codec::decode(record).map_err(|e| Error::Corrupt {
            seq,
            message: e.to_string(),
        })?;
        let wire = crate::wire::Wire::from_event(&event);
        let payload = serde_json::to_string(&wire).expect("an event serialises");
        self.pg.defer(
            INSERT_LOG,
            vec![
                Box::new(seq as i64),
                Box::new(event.id.to_string()),
                Box::new(crate::model::format_timestamp(&event.recorded_at)),
                Box::new(event.recorded_by),
                Box::new(wire.kind),
                Box::new(event.prev_hash.to_vec()),
                Box::new(event.hash.to_vec()),
                Box::new(record.to_vec()),
                Box::new(payload),
            ],
        )
    }

    fn pages(&self, lo: u64, hi: u64) -> Entries<'_> {
        Box::new(LogPages {
            pg: &self.pg,
            lo,
            hi,
            front: VecDeque::new(),
            back: VecDeque::new(),
        })
    }
}

impl Engine for PgEngine {
    fn get(&self, key: &[u8]) -> std::result::Result<Option<Vec<u8>>, StorageError> {
        let rows = match index::log_key_seq(key) {
            Some(seq) => self
                .pg
                .query("SELECT record FROM log WHERE seq = ?1", &[&(seq as i64)]),
            None => self
                .pg
                .query("SELECT value FROM log_meta WHERE key = ?1", &[&key]),
        }
        .map_err(storage)?;
        Ok(rows.first().map(|r| r.get::<_, Vec<u8>>(0)))
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Entries<'_> {
        match (index::log_key_seq(lo), index::log_key_seq(hi)) {
            (Some(lo), Some(hi)) => self.pages(lo, hi),
            _ => Box::new(std::iter::once(Err(StorageError::msg(
                "a range over keys other than the log's",
            )))),
        }
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_> {
        if prefix == [index::LOG] {
            return self.pages(1, i64::MAX as u64);
        }
        let rows = self
            .pg
            .query("SELECT key, value FROM log_meta ORDER BY key", &[])
            .map_err(storage);
        match rows {
            Err(e) => Box::new(std::iter::once(Err(e))),
            Ok(rows) => Box::new(
                rows.into_iter()
                    .map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1)))
                    .filter(|(k, _)| k.starts_with(prefix))
                    .map(Ok)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
        }
    }

    fn apply(&self, batch: Batch) -> std::result::Result<(), StorageError> {
        self.pg
            .atomically(|| {
                for (key, value) in &batch.ops {
                    match (index::log_key_seq(key), value) {
                        (Some(seq), Some(v)) => self.insert_log(seq, v)?,
                        (Some(seq), None) => {
                            self.pg
                                .exec("DELETE FROM log WHERE seq = ?1", &[&(seq as i64)])?;
                        }
                        (None, Some(v)) => {
                            self.pg.exec(
                                "INSERT INTO log_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                &[&key.as_slice(), &v.as_slice()],
                            )?;
                        }
                        (None, None) => {
                            self.pg
                                .exec("DELETE FROM log_meta WHERE key = ?1", &[&key.as_slice()])?;
                        }
                    }
                }
                Ok(())
            })
            .map_err(storage)
    }

    /// Durability is the transaction's commit (`synchronous_commit`), which
    /// the writer makes once the read model's rows are in it too.
    fn sync(&self) -> std::result::Result<(), StorageError> {
        Ok(())
    }

    fn is_empty(&self) -> std::result::Result<bool, StorageError> {
        let rows = self
            .pg
            .query(
                "SELECT NOT EXISTS (SELECT 1 FROM log_meta) AND NOT EXISTS (SELECT 1 FROM log)",
                &[],
            )
            .map_err(storage)?;
        Ok(rows.first().is_some_and(|r| r.get::<_, bool>(0)))
    }

    fn transactional(&self) -> bool {
        true
    }
}

/// The log rows with `lo <= seq <= hi`, fetched a page at a time from
/// either end.
struct LogPages<'p> {
    pg: &'p Pg,
    lo: u64,
    hi: u64,
    /// Fetched from the low end, ascending.
    front: VecDeque<Entry>,
    /// Fetched from the high end, descending.
    back: VecDeque<Entry>,
}

impl LogPages<'_> {
    fn fetch(&mut self, ascending: bool) -> std::result::Result<(), StorageError> {
        let sql = if ascending {
            "SELECT seq, record FROM log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"
        } else {
            "SELECT seq, record FROM log WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT ?3"
        };
        let (lo, hi) = (
            self.lo.min(i64::MAX as u64) as i64,
            self.hi.min(i64::MAX as u64) as i64,
        );
        let rows = self.pg.query(sql, &[&lo, &hi, &PAGE]).map_err(storage)?;
        if rows.is_empty() {
            self.lo = self.hi.saturating_add(1);
            return Ok(());
        }
        for r in rows {
            let seq = r.get::<_, i64>(0) as u64;
            let entry = (index::log_key(seq).to_vec(), r.get::<_, Vec<u8>>(1));
            if ascending {
                self.lo = seq + 1;
                self.front.push_back(entry);
            } else {
                self.hi = seq.saturating_sub(1);
                self.back.push_back(entry);
            }
        }
        if !ascending && self.hi == 0 {
            self.lo = 1;
            self.hi = 0;
        }
        Ok(())
    }
}

impl Iterator for LogPages<'_> {
    type Item = std::result::Result<Entry, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.front.is_empty() && self.lo <= self.hi {
            if let Err(e) = self.fetch(true) {
                self.lo = 1;
                self.hi = 0;
                return Some(Err(e));
            }
        }
        self.front
            .pop_front()
            .or_else(|| self.back.pop_back())
            .map(Ok)
    }
}

impl DoubleEndedIterator for LogPages<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.back.is_empty() && self.lo <= self.hi {
            if let Err(e) = self.fetch(false) {
                self.lo = 1;
                self.hi = 0;
                return Some(Err(e));
            }
        }
        self.back
            .pop_front()
            .or_else(|| self.front.pop_back())
            .map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_numbers_each_tuple_on_and_keeps_its_casts() {
        let sql = "INSERT INTO log (seq, id) VALUES (?1, ?2::text::uuid)";
        assert_eq!(multi_row(sql, 2, 1), sql);
        assert_eq!(
            multi_row(sql, 2, 3),
            "INSERT INTO log (seq, id) VALUES (?1, ?2::text::uuid), (?3, ?4::text::uuid), (?5, ?6::text::uuid)"
        );
        let upsert =
            "INSERT INTO t (a, b) VALUES (?1, ?2) ON CONFLICT (a) DO UPDATE SET b = excluded.b";
        assert_eq!(
            multi_row(upsert, 2, 2),
            "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
        let wide = multi_row("INSERT INTO t (a) VALUES (?10)", 10, 2);
        assert_eq!(wide, "INSERT INTO t (a) VALUES (?10), (?20)");
    }

    #[test]
    fn addresses_never_show_a_password() {
        let t = Target::parse(
            "postgres://ana:s3cret@db.example:5433/news?schema=desk_1&sslmode=disable",
        )
        .unwrap();
        assert_eq!(
            t.shown(),
            "postgres://ana@db.example:5433/news?sslmode=disable&schema=desk_1"
        );
        assert_eq!(t.schema(), "desk_1");
        let t = Target::parse("postgresql://ana@localhost/news?password=s3cret").unwrap();
        assert_eq!(t.shown(), "postgresql://ana@localhost/news");
        assert_eq!(t.schema(), "public");
        let e = Target::parse("postgres://ana:s3cret@h/db?schema=Bad-Name").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }

    #[test]
    fn a_session_the_server_ended_is_a_lost_connection_naming_the_ledger() {
        // `pg_ctl restart -m fast` or `stop`: FATAL 57P01; `-m immediate`
        // or a crashed backend: 57P01 or 57P02; a terminated or timed-out
        // session: FATAL with another code.
        for (code, severity) in [
            (SqlState::ADMIN_SHUTDOWN, Some(Severity::Fatal)),
            (SqlState::CRASH_SHUTDOWN, Some(Severity::Fatal)),
            (SqlState::CANNOT_CONNECT_NOW, Some(Severity::Fatal)),
            (SqlState::IDLE_SESSION_TIMEOUT, Some(Severity::Fatal)),
            (SqlState::CONNECTION_FAILURE, Some(Severity::Error)),
            (SqlState::INTERNAL_ERROR, Some(Severity::Panic)),
        ] {
            assert!(ends_session(&code, severity, "?"), "{code:?}");
        }
        // Before PostgreSQL 9.6 only the (maybe localised) severity is sent.
        assert!(ends_session(&SqlState::INTERNAL_ERROR, None, "FATAL"));
        for code in [
            SqlState::UNIQUE_VIOLATION,
            SqlState::QUERY_CANCELED,
            SqlState::LOCK_NOT_AVAILABLE,
        ] {
            assert!(!ends_session(&code, Some(Severity::Error), "ERROR"));
        }
        let shown = "postgres://ana@db.example:5433/news?schema=desk_1";
        let cause =
            "the server ended the session: terminating connection due to administrator command";
        assert_eq!(
            lost_connection(shown, cause, false).to_string(),
            "storage: lost the connection to the PostgreSQL ledger postgres://ana@db.example:5433/news?schema=desk_1 (the server ended the session: terminating connection due to administrator command); nothing of this command was committed, so it can be run again"
        );
        let e = lost_connection(shown, cause, true).to_string();
        assert!(
            e.contains("while committing")
                && e.contains("see `stancelog head` before running it again"),
            "{e}"
        );
    }

    #[test]
    fn a_client_error_says_why_with_its_causes() {
        // Nothing listens on port 1 of the loopback address.
        let e = postgres::Config::from_str("host=127.0.0.1 port=1 user=x connect_timeout=5")
            .unwrap()
            .connect(NoTls)
            .err()
            .expect("nothing listens there");
        let why = describe(&e);
        assert!(why.starts_with("error connecting to server: "), "{why}");
        assert!(why.len() > "error connecting to server: ".len(), "{why}");
        assert_eq!(lost_because(&e), Some(why), "a socket that failed");
    }
}
