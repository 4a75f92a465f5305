//! What is particular to SQLite, kept in one place so that another SQL
//! engine (PostgreSQL, for a ledger a team shares) can give its own: how a
//! connection is opened and tuned, how transactions begin, how a row is
//! upserted. The schema (`schema.sql`) uses SQLite's `WITHOUT ROWID` and
//! `date('now')`; everything else in `readmodel` is portable SQL with
//! numbered parameters.

/// Tuning of a writer's connection: WAL (readers never wait for the writer),
/// a commit that is durable when it returns, and a 64 MiB page cache (the
/// default 2 MiB made a million-row insert 37% slower; docs/PERFORMANCE.md).
pub(super) const WRITER_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
     PRAGMA busy_timeout = 30000; PRAGMA cache_size = -65536;";

/// Starts the one writer's transaction, taking the write lock at once.
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Starts a reader's snapshot.
pub(super) const BEGIN_READ: &str = "BEGIN DEFERRED";

/// Ends a transaction, keeping what it did.
pub(super) const COMMIT: &str = "COMMIT";

/// Ends a transaction, undoing what it did.
pub(super) const ROLLBACK: &str = "ROLLBACK";

/// Sets one `meta` key.
pub(super) const UPSERT_META: &str = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)";

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
