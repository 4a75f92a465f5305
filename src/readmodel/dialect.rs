//! What is particular to each SQL engine, kept in one place: how a
//! connection is tuned, how transactions begin, how the schema is found,
//! created and emptied. The schema (`schema.sql`) is written for SQLite;
//! [`postgres_schema`] gives PostgreSQL's spelling of the same tables and
//! views. Every query elsewhere in `readmodel` is portable SQL with
//! numbered parameters (`?1`, which PostgreSQL spells `$1`).

use super::conn::Engine;
use crate::model::{Position, KINDS};

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
        Engine::Postgres => "SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END, table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('meta', 'event_rows', 'events', 'versions', 'stances_latest', 'statements_current', 'stances_now', 'issues_current')",
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

/// The schema for `engine`: `schema.sql` with its functions of the
/// compact `event_rows` spelled for the engine ([`expand`]).
pub(super) fn schema(engine: Engine, sqlite: &str) -> String {
    let expanded = expand(sqlite, engine);
    match engine {
        Engine::Sqlite => expanded,
        #[cfg(feature = "postgres")]
        Engine::Postgres => postgres_schema(&expanded),
    }
}

/// PostgreSQL's spelling of `schema.sql`: 64-bit integers, `bytea` for
/// blobs, byte-order (`"C"`) collation for text so that every `ORDER BY`
/// and range sorts as in SQLite, no `WITHOUT ROWID`, and today's UTC date.
#[cfg(feature = "postgres")]
pub(super) fn postgres_schema(sqlite: &str) -> String {
    sqlite
        .replace(" WITHOUT ROWID", "")
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
        .replace("TEXT", "TEXT COLLATE \"C\"")
        .replace(
            "date('now')",
            "to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')",
        )
}

/// The code of event type `kind` in `event_rows.type_code`: its index in
/// [`KINDS`] (the record format's order, which never changes).
pub(crate) fn type_code(kind: &str) -> Option<i64> {
    KINDS.iter().position(|k| *k == kind).map(|i| i as i64)
}

/// The event type of a `type_code`.
pub(crate) fn type_of_code(code: i64) -> Option<&'static str> {
    usize::try_from(code)
        .ok()
        .and_then(|i| KINDS.get(i).copied())
}

/// The `type_code` of a statement and of an amendment, which queries name.
pub(crate) const STATEMENT_CODE: i64 = 0;
pub(crate) const AMENDMENT_CODE: i64 = 1;

/// The naming kinds (definitions, rewordings, aliases, merges, actor
/// definitions): the contiguous codes `first..=last` of [`KINDS`], which
/// the partial index `events_naming` covers.
pub(crate) const NAMING_TYPES: (i64, i64) = (3, 8);

/// The code of a position in `event_rows.position_code`: its index in
/// [`Position::ALL`].
pub(crate) fn position_code(p: Position) -> i64 {
    Position::ALL
        .iter()
        .position(|q| *q == p)
        .expect("every position is in ALL") as i64
}

/// The position of a `position_code`.
pub(crate) fn position_of_code(code: i64) -> Option<Position> {
    usize::try_from(code)
        .ok()
        .and_then(|i| Position::ALL.get(i).copied())
}

/// The SQL condition that a `type_code` is a naming kind, in the exact
/// words of `events_naming`'s `WHERE` (SQLite uses a partial index only
/// for a query that repeats them).
pub(crate) fn naming_types(column: &str) -> String {
    format!("{column} BETWEEN {} AND {}", NAMING_TYPES.0, NAMING_TYPES.1)
}

/// Expands the functions `schema.sql` writes over `event_rows` into
/// `engine`'s SQL: `uuid_text(x)`, `hash_text(x)` and `time_text(x)` (the
/// text forms of a UUID's bytes, a hash's bytes and microseconds since
/// 1970, as `export` writes them), `type_text(x)` and `position_text(x)`
/// (a code's name), `type_code(name)`, `naming_types(x)` and
/// `genesis_text()` (the first event's `prev_hash`). SQLite has no
/// functions of its own for these that a third-party reader would also
/// have, so they are spelled out in each view.
pub(super) fn expand(sql: &str, engine: Engine) -> String {
    const NAMES: [&str; 8] = [
        "uuid_text(",
        "hash_text(",
        "time_text(",
        "type_text(",
        "position_text(",
        "type_code(",
        "naming_types(",
        "genesis_text(",
    ];
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    loop {
        let next = NAMES
            .iter()
            .filter_map(|n| {
                let at = rest.match_indices(n).map(|(i, _)| i).find(|&i| {
                    !rest[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                })?;
                Some((at, *n))
            })
            .min();
        let Some((at, name)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        let args_start = at + name.len();
        let close = rest[args_start..]
            .find(')')
            .expect("schema.sql: a template function without its closing parenthesis");
        let arg = rest[args_start..args_start + close].trim();
        out.push_str(&function(engine, &name[..name.len() - 1], arg));
        rest = &rest[args_start + close + 1..];
    }
}

/// One expanded function of [`expand`].
fn function(engine: Engine, name: &str, x: &str) -> String {
    // Floor division and remainder, so a time before 1970 prints as chrono does.
    let secs = format!("(({x}) - ((({x}) % 1000000) + 1000000) % 1000000) / 1000000");
    let micros = format!("((({x}) % 1000000) + 1000000) % 1000000");
    match (name, engine) {
        ("type_text", _) => case(x, KINDS.iter().copied()),
        ("position_text", _) => case(x, Position::ALL.iter().map(|p| p.as_str())),
        ("type_code", _) => type_code(x)
            .unwrap_or_else(|| panic!("schema.sql: type_code({x}): no such event type"))
            .to_string(),
        ("naming_types", _) => format!("({})", naming_types(x)),
        ("genesis_text", _) => format!("'{}'", crate::chain::hex_hash(&crate::event::GENESIS)),
        ("uuid_text", Engine::Sqlite) => {
            let h = format!("hex({x})");
            format!(
                "lower(substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-' || substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || substr({h}, 21))"
            )
        }
        ("hash_text", Engine::Sqlite) => format!("lower(hex({x}))"),
        ("time_text", Engine::Sqlite) => format!(
            "(strftime('%Y-%m-%dT%H:%M:%S', {secs}, 'unixepoch') || printf('.%06dZ', {micros}))"
        ),
        #[cfg(feature = "postgres")]
        ("uuid_text", Engine::Postgres) => format!("CAST(encode({x}, 'hex') AS uuid)::text"),
        #[cfg(feature = "postgres")]
        ("hash_text", Engine::Postgres) => format!("encode({x}, 'hex')"),
        #[cfg(feature = "postgres")]
        ("time_text", Engine::Postgres) => format!(
            "(to_char(to_timestamp({secs}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad(({micros})::text, 6, '0') || 'Z')"
        ),
        _ => unreachable!("schema.sql: unknown template function {name}"),
    }
}

/// `CASE x WHEN 0 THEN 'a' WHEN 1 THEN 'b' ... END`: code to name.
fn case<'a>(x: &str, names: impl Iterator<Item = &'a str>) -> String {
    let mut out = format!("CASE {x}");
    for (i, n) in names.enumerate() {
        out.push_str(&format!(" WHEN {i} THEN '{n}'"));
    }
    out.push_str(" END");
    out
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

#[cfg(test)]
mod codes {
    use super::*;

    #[test]
    fn codes_name_their_kinds() {
        assert_eq!(type_code("statement"), Some(STATEMENT_CODE));
        assert_eq!(type_code("amendment"), Some(AMENDMENT_CODE));
        assert_eq!(type_code("nonsense"), None);
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(type_of_code(i as i64), Some(*k));
        }
        assert_eq!(type_of_code(-1), None);
        assert_eq!(type_of_code(KINDS.len() as i64), None);
    }

    #[test]
    fn the_naming_kinds_are_one_range_of_codes() {
        // The kinds of `Fact::is_naming`.
        let naming = [
            "issue_definition",
            "issue_rewording",
            "alias",
            "alias_removal",
            "issue_merge",
            "actor_definition",
        ];
        let range = &KINDS[NAMING_TYPES.0 as usize..=NAMING_TYPES.1 as usize];
        assert_eq!(naming, range);
    }

    #[test]
    fn templates_expand_and_leave_the_rest() {
        let sql = "SELECT uuid_text(e.id), x.my_hash_text(y) FROM t WHERE naming_types(e.type_code) AND k = type_code(issue_merge) AND p = genesis_text()";
        let out = expand(sql, Engine::Sqlite);
        assert!(
            out.starts_with("SELECT lower(substr(hex(e.id), 1, 8) || '-'"),
            "{out}"
        );
        assert!(out.contains("x.my_hash_text(y)"), "{out}");
        assert!(
            out.contains("(e.type_code BETWEEN 3 AND 8) AND k = 7"),
            "{out}"
        );
        assert!(out.ends_with(&format!("p = '{}'", "0".repeat(64))), "{out}");
    }
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
