//! One connection to a read model, whichever SQL engine holds it: SQLite
//! (the file beside a sled log) or, with the `postgres` feature, PostgreSQL
//! (the tables beside a PostgreSQL log). The read model's queries are
//! written once, against this: numbered parameters (`?1`), [`Arg`]s for
//! their values and [`Row`] for their results. What differs between the
//! engines (how a transaction begins, how the schema is found and dropped)
//! is in [`super::dialect`].

use rusqlite::types::{ToSqlOutput, Value};

use crate::error::Result;

use super::{dialect, Sql as _};

/// A value bound to a numbered parameter.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    Blob(&'a [u8]),
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(i) | Arg::OptInt(Some(i)) => ToSqlOutput::Owned(Value::Integer(i)),
            Arg::Text(s) | Arg::OptText(Some(s)) => ToSqlOutput::from(s),
            Arg::OptInt(None) | Arg::OptText(None) => ToSqlOutput::Owned(Value::Null),
            Arg::Blob(b) => ToSqlOutput::from(b),
        })
    }
}

/// A seq as a parameter (seqs are below 2^63; larger bounds are clamped).
pub(crate) fn seq(s: u64) -> Arg<'static> {
    Arg::Int(s.min(i64::MAX as u64) as i64)
}

/// A row of a result, read by column index.
pub(crate) trait Row {
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn flag(&self, i: usize) -> Result<bool>;
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>>;
    fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| super::corrupt(0, format!("column {i} is NULL")))
    }
    fn blob(&self, i: usize) -> Result<Vec<u8>> {
        self.opt_blob(i)?
            .ok_or_else(|| super::corrupt(0, format!("column {i} is NULL")))
    }
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>);

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<i64> {
        self.0.get(i).sql()
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.0.get(i).sql()
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.0.get(i).sql()
    }
    fn flag(&self, i: usize) -> Result<bool> {
        self.0.get(i).sql()
    }
    fn opt_blob(&self, i: usize) -> Result<Option<Vec<u8>>> {
        self.0.get(i).sql()
    }
}

/// Which SQL engine a connection talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A connection to the read model.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(crate::storage::postgres::Pg),
}

impl Conn {
    /// Which engine this is.
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// Calls `f` with every row of `sql`.
    pub(crate) fn each(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: &mut dyn FnMut(&dyn Row) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).sql()?;
                let mut rows = st.query(rusqlite::params_from_iter(args.iter())).sql()?;
                while let Some(r) = rows.next().sql()? {
                    f(&SqliteRow(r))?;
                }
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.each(sql, args, f),
        }
    }

    /// The rows of `sql`, each read by `f`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        mut f: impl FnMut(&dyn Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, args, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of `sql` read by `f`, if there is one.
    pub(crate) fn opt<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, args, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The one row of `sql` (an aggregate), read by `f`.
    pub(crate) fn one<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        f: impl FnOnce(&dyn Row) -> Result<T>,
    ) -> Result<T> {
        self.opt(sql, args, f)?
            .ok_or_else(|| super::corrupt(0, "a query returned no row"))
    }

    /// Runs one statement; returns the rows it changed.
    pub(crate) fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => c
                .prepare_cached(sql)
                .sql()?
                .execute(rusqlite::params_from_iter(args.iter()))
                .map(|n| n as u64)
                .sql(),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.execute(sql, args),
        }
    }

    /// Runs an `INSERT ... VALUES (?1, ..., ?n)` of one row. On PostgreSQL,
    /// inside a transaction, the row may be sent later with the rows that
    /// follow it, in one statement, but before anything else runs on the
    /// connection, so every later statement sees it.
    pub(crate) fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        match self {
            Conn::Sqlite(_) => self.execute(sql, args).map(drop),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.defer_args(sql, args),
        }
    }

    /// Sends the inserts [`Conn::insert`] held back, if any: an insert
    /// that must not share a multi-row statement with a later one of the
    /// same key (an upsert) is sent before that one is made.
    pub(crate) fn send_inserts(&self) -> Result<()> {
        match self {
            Conn::Sqlite(_) => Ok(()),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.send_deferred(),
        }
    }

    /// Runs statements without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).sql(),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        match self {
            Conn::Sqlite(c) => !c.is_autocommit(),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.in_transaction(),
        }
    }

    /// Starts a reader's snapshot.
    pub(crate) fn begin_read(&self) -> Result<()> {
        self.begin(dialect::begin_read(self.engine()))
    }

    /// Starts the one writer's transaction (on PostgreSQL, taking the
    /// ledger's lock: see [`dialect::begin_write`]).
    pub(crate) fn begin_write(&self) -> Result<()> {
        match self {
            Conn::Sqlite(_) => self.begin(dialect::BEGIN_WRITE_SQLITE),
            #[cfg(feature = "postgres")]
            Conn::Postgres(pg) => pg.begin_write(),
        }
    }

    fn begin(&self, sql: &str) -> Result<()> {
        self.batch(sql)?;
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(pg) = self {
            pg.set_in_transaction(true);
        }
        Ok(())
    }

    /// Ends the transaction, keeping what it did.
    pub(crate) fn commit(&self) -> Result<()> {
        self.end("COMMIT")
    }

    /// Ends the transaction, undoing what it did.
    pub(crate) fn rollback(&self) -> Result<()> {
        self.end("ROLLBACK")
    }

    fn end(&self, sql: &str) -> Result<()> {
        let out = self.batch(sql);
        #[cfg(feature = "postgres")]
        if let Conn::Postgres(pg) = self {
            pg.set_in_transaction(false);
        }
        out
    }
}
