//! What is particular to each SQL engine, kept in one place: how a
//! connection is tuned, how transactions begin, how the schema is found,
//! created and emptied. The schema (`schema.sql`) is written for SQLite;
//! [`postgres_schema`] gives PostgreSQL's spelling of the same tables and
//! views. Every query elsewhere in `readmodel` is portable SQL with
//! numbered parameters (`?1`, which PostgreSQL spells `$1`).

use super::conn::Engine;

/// Tuning of a writer's connection: WAL (readers never wait for the writer),
/// a commit that is durable when it returns, and a 64 MiB page cache (the
/// default 2 MiB made a million-row insert 37% slower; docs/PERFORMANCE.md).
pub(super) const WRITER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA busy_timeout = 30000; PRAGMA cache_size = -65536;";

/// Starts the one writer's transaction on SQLite, taking the write lock at
/// once. (PostgreSQL's writer takes the ledger's advisory lock instead:
/// `storage::postgres::Pg::begin_write`.)
pub(super) const BEGIN_WRITE_SQLITE: &str = "BEGIN IMMEDIATE";

/// Starts a reader's snapshot: every query until the commit sees one state.
pub(super) fn begin_read(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "BEGIN DEFERRED",
        #[cfg(feature = "postgres")]
        Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    }
}

/// Sets one `meta` key (an upsert both engines spell alike).
pub(super) const UPSERT_META: &str = "INSERT INTO meta (key, value) VALUES (?1, ?2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// How many read-model tables named `?1` exist where the connection looks.
pub(super) fn table_exists(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        #[cfg(feature = "postgres")]
        Engine::Postgres => "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?1",
    }
}

/// The read model's own tables and views, to drop before creating the
/// schema afresh: everything in a SQLite file (it holds nothing else); on
/// PostgreSQL only the read model's, never the log beside it.
pub(super) fn objects(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
        #[cfg(feature = "postgres")]
        Engine::Postgres => "SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END, table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('meta', 'events', 'versions', 'stances_latest', 'statements_current', 'stances_now', 'issues_current')",
    }
}

/// `DROP ... CASCADE` on PostgreSQL (a view depends on the tables).
pub(super) fn drop_suffix(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "",
        #[cfg(feature = "postgres")]
        Engine::Postgres => " CASCADE",
    }
}

/// The schema for `engine`.
pub(super) fn schema(engine: Engine, sqlite: &str) -> std::borrow::Cow<'_, str> {
    match engine {
        Engine::Sqlite => sqlite.into(),
        #[cfg(feature = "postgres")]
        Engine::Postgres => postgres_schema(sqlite).into(),
    }
}

/// PostgreSQL's spelling of `schema.sql`: 64-bit integers, byte-order
/// (`"C"`) collation for text so that every `ORDER BY` and range sorts as
/// in SQLite, no `WITHOUT ROWID`, and today's UTC date.
#[cfg(feature = "postgres")]
pub(super) fn postgres_schema(sqlite: &str) -> String {
    sqlite
        .replace(" WITHOUT ROWID", "")
        .replace("INTEGER", "BIGINT")
        .replace("TEXT", "TEXT COLLATE \"C\"")
        .replace(
            "date('now')",
            "to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')",
        )
}

/// The SQL text `engine` takes: PostgreSQL numbers parameters `$1`, not `?1`.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The URI that opens `path` read-only on media where SQLite cannot keep
/// its shared-memory file, promising it that nothing changes the file.
pub(super) fn immutable_uri(path: &std::path::Path) -> String {
    let mut out = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out.push_str("?immutable=1");
    out
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    #[test]
    fn parameters_are_renumbered_for_postgres() {
        assert_eq!(
            super::postgres_params("SELECT a FROM t WHERE a = ?1 AND b IN (?2, ?10) AND c = '?'"),
            "SELECT a FROM t WHERE a = $1 AND b IN ($2, $10) AND c = '?'"
        );
    }
}
