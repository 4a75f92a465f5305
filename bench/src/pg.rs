//! The PostgreSQL figures (`--postgres URL`, or `STANCELOG_BENCH_POSTGRES`):
//! a ledger in a schema of its own on that server, every figure next to a
//! floor measured in the same run with a raw `postgres` client on the same
//! server, against tables made by `stancelog init` (so the floors write the
//! same tables and indexes as the ledger).
//!
//! Every schema is `bench_<pid>_*`, dropped at the end (also on failure).
//!
//! - durable single append: the library (`Ledger::open_postgres`) and
//!   `stancelog record`, against a raw `BEGIN`, the event's log row and
//!   read-model rows, `COMMIT` (on an open connection; and with a connection
//!   of its own plus the spawn floor, for the process);
//! - import: `stancelog import FILE` against `COPY` of the same rows (log,
//!   `events`, `versions`) in one transaction;
//! - stance: the library's reader and `stancelog stance`, against the raw
//!   indexed `SELECT` that answers the same question (on an open connection;
//!   and connect + query + disconnect plus the spawn floor, for the process);
//! - appends per second with 1, 4 and 16 concurrent `stancelog record` loops
//!   against as many loops of spawn + connect + raw insert + `COMMIT`; then
//!   the ledger's head must equal the appends acknowledged and `verify`
//!   must pass.

use std::io::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::*;

/// The stored columns of the read model's `event_rows` (what its `events`
/// view shows), in the order of its schema (`src/readmodel/schema.sql`).
const EVENT_COLUMNS: &str = "seq, id, recorded_us, recorded_by, type_code, hash, target_seq, \
     actor, issue, reason, position_code, stated_on, summary, quote, speaker, source_url, \
     source_title, stated_on_precision, qualifiers, condition, attribution, reported_by, \
     speaker_role, sources, quote_lang, translation, slug, title, proposition, description, alias, \
     lang, used_by, from_issue, into_issue, code, name, kind";
const LOG_COLUMNS: &str =
    "seq, id, recorded_at, recorded_by, type, prev_hash, hash, record, payload";
const VERSION_COLUMNS: &str = "actor, issue, stated_on, statement_seq, version_seq, tombstone";

/// The raw query that answers `stance ACTOR ISSUE --as-of DATE` (known
/// now) from the read model's tables: among the latest versions of the
/// pair's statements, the unretracted one with the latest `stated_on` on or
/// before the date (a same-day tie to the later statement), with the
/// position of its latest amendment that sets one, else its own (as its
/// code). Every step is an index lookup: `versions`' primary key (the later
/// versions of a statement are among its pair's), `event_rows`' primary key
/// and `events_by_target`.
const STANCE_SQL: &str = "SELECT v.statement_seq, v.stated_on, \
       COALESCE((SELECT a.position_code FROM event_rows a WHERE a.target_seq = v.statement_seq \
                 AND a.type_code = 1 AND a.position_code IS NOT NULL ORDER BY a.seq DESC LIMIT 1), \
                s.position_code) \
     FROM versions v JOIN event_rows s ON s.seq = v.statement_seq \
     WHERE v.actor = $1 AND v.issue = $2 AND v.stated_on <= $3 AND v.tombstone = 0 \
       AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.actor = v.actor AND w.issue = v.issue \
                       AND w.statement_seq = v.statement_seq AND w.version_seq > v.version_seq) \
     ORDER BY v.stated_on DESC, v.statement_seq DESC LIMIT 1";

/// The rows one event makes: its `log` row and its read-model rows, as
/// `stancelog` writes them.
#[derive(Clone)]
struct PgEvent {
    seq: i64,
    kind: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    record: Vec<u8>,
    payload: String,
    /// The log row's `id`, `recorded_at` and `recorded_by`.
    envelope: [Option<String>; 3],
    /// `event_rows`' stored envelope: the id's bytes, the time in
    /// microseconds, the type's and the position's codes.
    id: Vec<u8>,
    recorded_us: i64,
    type_code: i64,
    position_code: Option<i64>,
    /// `event_rows`' text columns `actor`, `issue`, `reason`, then those
    /// from `stated_on` to the end, in order.
    text: Vec<Option<String>>,
    target_seq: Option<i64>,
    /// `versions`' row: actor, issue, stated_on, statement_seq,
    /// version_seq, tombstone.
    version: Option<(String, String, String, i64, i64, i64)>,
}

impl PgEvent {
    fn new(e: &Event, d: &Derived, record: &[u8]) -> Result<PgEvent> {
        let w = Wire::from_event(e);
        let payload = serde_json::to_string(&w)?;
        let qualifiers = w
            .qualifiers
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        let sources = w.sources.as_ref().map(serde_json::to_string).transpose()?;
        let used_by = w.used_by.as_ref().map(serde_json::to_string).transpose()?;
        let positions: Vec<&str> = stancelog::Position::ALL
            .iter()
            .map(|p| p.as_str())
            .collect();
        let code = |names: &[&str], n: &str| names.iter().position(|k| *k == n).unwrap_or(0) as i64;
        let type_code = code(stancelog::KINDS, &w.kind);
        let position_code = w.position.as_deref().map(|p| code(&positions, p));
        let text = vec![
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
        ];
        debug_assert_eq!(text.len(), 30);
        Ok(PgEvent {
            seq: e.seq as i64,
            kind: w.kind,
            prev_hash: e.prev_hash.to_vec(),
            hash: e.hash.to_vec(),
            record: record.to_vec(),
            payload,
            envelope: [w.id, w.recorded_at, w.recorded_by],
            id: e.id.as_bytes().to_vec(),
            recorded_us: e.recorded_at.timestamp_micros(),
            type_code,
            position_code,
            text,
            target_seq: d.target_seq.map(|s| s as i64),
            version: d.version.as_ref().map(|v| {
                (
                    v.actor.clone(),
                    v.issue.clone(),
                    v.stated_on.to_string(),
                    v.stmt_seq as i64,
                    v.version_seq as i64,
                    v.tombstone as i64,
                )
            }),
        })
    }

    /// The same rows at another seq and id (a statement's version moves
    /// with it; an edit's keeps its target).
    fn renumbered(&self, seq: i64) -> PgEvent {
        let mut r = self.clone();
        let id = uuid::Uuid::from_u128(0xBE7C_0000_0000_4000_8000_0000_0000_0000 | seq as u128);
        r.envelope[0] = Some(id.to_string());
        r.id = id.as_bytes().to_vec();
        if let Some(v) = &mut r.version {
            if v.3 == self.seq {
                v.3 = seq;
            }
            v.4 = seq;
        }
        r.seq = seq;
        r
    }

    fn log_params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        vec![
            (&self.seq, Type::INT8),
            (&self.envelope[0], Type::TEXT),
            (&self.envelope[1], Type::TEXT),
            (&self.envelope[2], Type::TEXT),
            (&self.kind, Type::TEXT),
            (&self.prev_hash, Type::BYTEA),
            (&self.hash, Type::BYTEA),
            (&self.record, Type::BYTEA),
            (&self.payload, Type::TEXT),
        ]
    }

    fn event_params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        let mut p: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&self.seq, Type::INT8),
            (&self.id, Type::BYTEA),
            (&self.recorded_us, Type::INT8),
            (&self.envelope[2], Type::TEXT),
            (&self.type_code, Type::INT8),
            (&self.hash, Type::BYTEA),
            (&self.target_seq, Type::INT8),
        ];
        for (i, t) in self.text.iter().enumerate() {
            if i == 3 {
                p.push((&self.position_code, Type::INT8));
            }
            p.push((t, Type::TEXT));
        }
        p
    }

    fn version_params(&self) -> Option<Vec<(&(dyn ToSql + Sync), Type)>> {
        self.version.as_ref().map(|v| {
            vec![
                (&v.0 as &(dyn ToSql + Sync), Type::TEXT),
                (&v.1, Type::TEXT),
                (&v.2, Type::TEXT),
                (&v.3, Type::INT8),
                (&v.4, Type::INT8),
                (&v.5, Type::INT8),
            ]
        })
    }

    /// Appends the three tables' COPY lines (text format).
    fn copy_lines(&self, log: &mut Vec<u8>, events: &mut Vec<u8>, versions: &mut Vec<u8>) {
        write!(log, "{}\t", self.seq).expect("in memory");
        for t in &self.envelope {
            copy_text(log, t.as_deref());
            log.push(b'\t');
        }
        copy_text(log, Some(&self.kind));
        for b in [&self.prev_hash, &self.hash, &self.record] {
            log.push(b'\t');
            copy_bytea(log, b);
        }
        log.push(b'\t');
        copy_text(log, Some(&self.payload));
        log.push(b'\n');

        let opt = |out: &mut Vec<u8>, v: Option<i64>| match v {
            Some(n) => write!(out, "\t{n}").expect("in memory"),
            None => out.extend_from_slice(b"\t\\N"),
        };
        write!(events, "{}\t", self.seq).expect("in memory");
        copy_bytea(events, &self.id);
        write!(events, "\t{}\t", self.recorded_us).expect("in memory");
        copy_text(events, self.envelope[2].as_deref());
        write!(events, "\t{}\t", self.type_code).expect("in memory");
        copy_bytea(events, &self.hash);
        opt(events, self.target_seq);
        for (i, t) in self.text.iter().enumerate() {
            if i == 3 {
                opt(events, self.position_code);
            }
            events.push(b'\t');
            copy_text(events, t.as_deref());
        }
        events.push(b'\n');

        if let Some(v) = &self.version {
            copy_text(versions, Some(&v.0));
            versions.push(b'\t');
            copy_text(versions, Some(&v.1));
            writeln!(versions, "\t{}\t{}\t{}\t{}", v.2, v.3, v.4, v.5).expect("in memory");
        }
    }
}

/// A text value in COPY's text format (`\N` for NULL).
fn copy_text(out: &mut Vec<u8>, v: Option<&str>) {
    let Some(s) = v else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
}

/// A bytea value in COPY's text format: `\\x` and hex.
fn copy_bytea(out: &mut Vec<u8>, v: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\\\x");
    for b in v {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

/// The floor's prepared inserts (on an open connection).
struct Prepared {
    log: Statement,
    events: Statement,
    versions: Statement,
}

fn insert_sql() -> [String; 3] {
    let events_params: Vec<String> = (1..=38).map(|i| format!("${i}")).collect();
    [
        format!(
            "INSERT INTO log ({LOG_COLUMNS}) VALUES ($1, $2::text::uuid, $3::text::timestamptz, $4, $5, $6, $7, $8, $9::text::jsonb)"
        ),
        format!(
            "INSERT INTO event_rows ({EVENT_COLUMNS}) VALUES ({})",
            events_params.join(", ")
        ),
        format!("INSERT INTO versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
    ]
}

fn prepare(c: &mut Client, r: &PgEvent) -> Result<Prepared> {
    let [log, events, versions] = insert_sql();
    let types =
        |p: Vec<(&(dyn ToSql + Sync), Type)>| p.into_iter().map(|x| x.1).collect::<Vec<_>>();
    Ok(Prepared {
        log: c.prepare_typed(&log, &types(r.log_params()))?,
        events: c.prepare_typed(&events, &types(r.event_params()))?,
        versions: c.prepare_typed(
            &versions,
            &[
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
                Type::INT8,
            ],
        )?,
    })
}

/// The values of typed parameters.
fn values<'a>(p: &[(&'a (dyn ToSql + Sync), Type)]) -> Vec<&'a (dyn ToSql + Sync)> {
    p.iter().map(|x| x.0).collect()
}

/// The floor of one durable append: `BEGIN`, the event's rows, `COMMIT`
/// (with prepared statements, or each insert one round trip of its own).
fn raw_append(c: &mut Client, prepared: Option<&Prepared>, r: &PgEvent) -> Result<()> {
    c.batch_execute("BEGIN")?;
    let versions = r.version_params();
    match prepared {
        Some(st) => {
            c.execute(&st.log, &values(&r.log_params()))?;
            c.execute(&st.events, &values(&r.event_params()))?;
            if let Some(v) = &versions {
                c.execute(&st.versions, &values(v))?;
            }
        }
        None => {
            let [log, events, vsql] = insert_sql();
            c.execute_typed(&log, &r.log_params())?;
            c.execute_typed(&events, &r.event_params())?;
            if let Some(v) = &versions {
                c.execute_typed(&vsql, v)?;
            }
        }
    }
    c.batch_execute("COMMIT")?;
    Ok(())
}

/// The server's address without any `schema=`, and the ledger address of
/// a schema on it.
struct Server {
    base: String,
}

impl Server {
    fn new(url: &str) -> Result<Server> {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            bail!("--postgres takes postgres://USER@HOST[:PORT]/DATABASE, not {url:?}");
        }
        let base = match url.split_once('?') {
            None => url.to_owned(),
            Some((b, q)) => {
                let rest: Vec<&str> = q
                    .split('&')
                    .filter(|kv| !kv.is_empty() && !kv.starts_with("schema="))
                    .collect();
                if rest.is_empty() {
                    b.to_owned()
                } else {
                    format!("{b}?{}", rest.join("&"))
                }
            }
        };
        Ok(Server { base })
    }

    fn url(&self, schema: &str) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={schema}", self.base)
    }

    /// A raw session whose `search_path` is `schema` (set at connection
    /// start, no extra round trip).
    fn connect(&self, schema: &str) -> Result<Client> {
        let mut cfg: postgres::Config = self
            .base
            .parse()
            .context("cannot parse the --postgres address")?;
        cfg.options(&format!("-c search_path={schema}"));
        cfg.connect(NoTls)
            .context("cannot connect to the --postgres server")
    }
}

/// The run's schemas, dropped when this is dropped.
struct Schemas<'s> {
    server: &'s Server,
    names: Vec<String>,
}

impl Schemas<'_> {
    /// A fresh schema `bench_<pid>_<suffix>` prepared by `stancelog init`.
    fn init(&mut self, b: &Bench, suffix: &str) -> Result<String> {
        let name = format!("bench_{}_{suffix}", std::process::id());
        let mut c = self.server.connect("public")?;
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))?;
        self.names.push(name.clone());
        let mut cmd = Command::new(b.stancelog());
        cmd.arg("init").arg(self.server.url(&name));
        timed(cmd)?;
        Ok(name)
    }
}

impl Drop for Schemas<'_> {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        match self.server.connect("public") {
            Ok(mut c) => {
                for n in &self.names {
                    if let Err(e) = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {n} CASCADE")) {
                        eprintln!("cannot drop schema {n}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("cannot drop the schemas {:?}: {e}", self.names),
        }
    }
}

fn pg_cli(b: &Bench, url: &str, args: &[&str]) -> Result<(Duration, Vec<u8>)> {
    let mut cmd = Command::new(b.stancelog());
    cmd.arg("--ledger").arg(url).args(args);
    timed(cmd)
}

/// `stancelog record` of a new statement (summary `summary`).
fn record(b: &Bench, url: &str, issue: &str, summary: &str) -> Result<Duration> {
    Ok(pg_cli(
        b,
        url,
        &[
            "record",
            "--actor",
            "JPN",
            "--issue",
            issue,
            "--position",
            "support",
            "--stated-on",
            "2020-01-01",
            "--summary",
            summary,
        ],
    )?
    .0)
}

fn spawn_floor(b: &Bench) -> Result<Duration> {
    let mut cmd = Command::new(b.stancelog());
    cmd.arg("--version");
    Ok(timed(cmd)?.0)
}

/// Runs `f(writer, k)` in `writers` parallel loops until `wall` has passed
/// (each loop finishes the call it started); returns the calls that
/// succeeded, those that failed (and the first failure), and the wall time
/// until every loop ended.
fn parallel_loops(
    writers: usize,
    wall: Duration,
    f: &(dyn Fn(usize, u64) -> Result<()> + Sync),
) -> (u64, u64, Option<String>, f64) {
    let (ok, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let first = Mutex::new(None);
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let (ok, failed, first) = (&ok, &failed, &first);
            s.spawn(move || {
                let mut k = 0;
                while start.elapsed() < wall {
                    match f(w, k) {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            first
                                .lock()
                                .expect("not poisoned")
                                .get_or_insert_with(|| format!("{e:#}"));
                        }
                    }
                    k += 1;
                }
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let first = first.into_inner().expect("not poisoned");
    (ok.into_inner(), failed.into_inner(), first, wall)
}

fn head_seq(b: &Bench, url: &str) -> Result<u64> {
    let (_, out) = pg_cli(b, url, &["head"])?;
    let text = String::from_utf8_lossy(&out);
    text.trim()
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("unexpected `stancelog head` output {text:?}"))
}

/// The PostgreSQL section of the run.
pub(crate) fn run(b: &mut Bench, url: &str, pg_size: u64, quick: bool, seed: u64) -> Result<()> {
    let server = Server::new(url)?;
    let mut schemas = Schemas {
        server: &server,
        names: Vec::new(),
    };
    {
        let mut c = server.connect("public")?;
        let show = |c: &mut Client, what: &str| -> Result<String> {
            Ok(c.query_one(&format!("SHOW {what}"), &[])?
                .get::<_, String>(0))
        };
        b.note("pg_server_version", json!(show(&mut c, "server_version")?));
        b.note("pg_fsync", json!(show(&mut c, "fsync")?));
        b.note(
            "pg_synchronous_commit",
            json!(show(&mut c, "synchronous_commit")?),
        );
        b.note("pg_shared_buffers", json!(show(&mut c, "shared_buffers")?));
    }
    b.note("pg_size", json!(pg_size));

    // The events: `pg_size` to import (and COPY), then `2 * n_app` more
    // for the single-append floors.
    let n_app = if quick { 10 } else { 50 };
    let total = pg_size + 2 * n_app as u64;
    let dir = b.work.join("pg");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    eprintln!("PostgreSQL: generating {pg_size} events ...");
    let gen = generate(total, seed ^ 0x0050_6751, &dir, &[pg_size])?;
    let input = gen.files[0].1.clone();
    let mut replay = Replay::default();
    let load = |seq: u64| -> stancelog::Result<Event> {
        let i = seq as usize - 1;
        codec::decode(&gen.encoded[gen.offsets[i]..gen.offsets[i + 1]])
    };
    let mut rows = Vec::with_capacity(total as usize);
    for i in 0..total as usize {
        let e = load(i as u64 + 1)?;
        let d = replay.step(&e, load).map_err(|m| anyhow!(m))?;
        rows.push(PgEvent::new(
            &e,
            &d,
            &gen.encoded[gen.offsets[i]..gen.offsets[i + 1]],
        )?);
    }
    drop(replay);
    let extra = rows.split_off(pg_size as usize);
    let (mut log_buf, mut ev_buf, mut ver_buf) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        r.copy_lines(&mut log_buf, &mut ev_buf, &mut ver_buf);
    }
    let n_versions = rows.iter().filter(|r| r.version.is_some()).count() as u64;
    drop(rows);

    let ledger_schema = schemas.init(b, "ledger")?;
    let floor_schema = schemas.init(b, "floor")?;
    let ledger = server.url(&ledger_schema);

    // 1. Import vs COPY of the same rows.
    eprintln!("PostgreSQL: import of {pg_size} events ...");
    let input_path = input.to_str().context("work path is not UTF-8")?;
    let (imp_t, _) = pg_cli(b, &ledger, &["import", input_path])?;
    let imp_rate = pg_size as f64 / imp_t.as_secs_f64();
    eprintln!("PostgreSQL: COPY floor ...");
    let mut fc = server.connect(&floor_schema)?;
    let copy_rows = 2 * pg_size + n_versions;
    let mut split = Vec::new();
    let t = Instant::now();
    {
        let mut tx = fc.transaction()?;
        for (table, cols, buf) in [
            ("log", LOG_COLUMNS, &log_buf),
            ("event_rows", EVENT_COLUMNS, &ev_buf),
            ("versions", VERSION_COLUMNS, &ver_buf),
        ] {
            let p = Instant::now();
            let mut w = tx.copy_in(&format!("COPY {table} ({cols}) FROM STDIN"))?;
            w.write_all(buf)?;
            w.finish()?;
            split.push((table, p.elapsed().as_secs_f64()));
        }
        let p = Instant::now();
        tx.commit()?;
        split.push(("commit", p.elapsed().as_secs_f64()));
    }
    let copy_s = t.elapsed().as_secs_f64();
    drop((log_buf, ev_buf, ver_buf));
    let copy_rate = pg_size as f64 / copy_s;
    for (what, s) in split {
        b.note(&format!("pg_copy_{what}_s"), json!(s));
    }
    b.note("pg_import_s", json!(imp_t.as_secs_f64()));
    b.note("pg_copy_s", json!(copy_s));
    b.note("pg_copy_rows", json!(copy_rows));
    b.note("pg_copy_rows_per_s", json!(copy_rows as f64 / copy_s));
    b.push(fig(
        "pg_import_events_per_s",
        &format!("PostgreSQL: `stancelog import FILE` of {pg_size} events (whole process)"),
        "events/s",
        imp_rate,
        Some((
            copy_rate,
            "COPY of the same log, events and versions rows into tables made by `stancelog init`, one transaction",
        )),
        Some(imp_rate / copy_rate),
        "",
        None,
    ));

    // 2. stance: the library's reader and the raw indexed SELECT, on open
    // connections, on the same ledger (analysed first, as autovacuum would
    // soon after the import).
    {
        let mut c = server.connect(&ledger_schema)?;
        c.batch_execute("ANALYZE log; ANALYZE events; ANALYZE versions")?;
    }
    eprintln!("PostgreSQL: stance queries ...");
    let mut rng = Rng(seed ^ 0x0057_A1CE);
    let qs = queries(&gen, pg_size, if quick { 200 } else { 1000 }, &mut rng);
    let mut raw = server.connect(&ledger_schema)?;
    let st = raw.prepare_typed(STANCE_SQL, &[Type::TEXT, Type::TEXT, Type::TEXT])?;
    let raw_stance =
        |c: &mut Client, q: &Query, st: Option<&Statement>| -> Result<Option<(String, String)>> {
            let (a, i, d) = (q.actor.as_str(), q.issue.as_str(), q.as_of.to_string());
            let rows = match st {
                Some(st) => c.query(st, &[&a, &i, &d])?,
                None => c.query_typed(
                    STANCE_SQL,
                    &[(&a, Type::TEXT), (&i, Type::TEXT), (&d, Type::TEXT)],
                )?,
            };
            // The position as its name (`event_rows` stores its code).
            let name = |code: i64| {
                stancelog::Position::ALL
                    .get(code as usize)
                    .map_or("", |p| p.as_str())
                    .to_owned()
            };
            Ok(rows
                .first()
                .map(|r| (r.get::<_, String>(1), name(r.get::<_, i64>(2)))))
        };
    let lib = Ledger::open_postgres_reader(&ledger, &OpenOptions::default())?;
    let warm = qs.len().min(50);
    for q in &qs[..warm] {
        lib.stance(&q.actor, &q.issue, q.as_of, None)?;
        raw_stance(&mut raw, q, Some(&st))?;
    }
    let (mut t_lib, mut t_raw) = (Vec::new(), Vec::new());
    let (mut found, mut disagree) = (0, 0);
    for q in &qs {
        let t = Instant::now();
        let s = lib.stance(&q.actor, &q.issue, q.as_of, None)?;
        t_lib.push(us(t.elapsed()));
        let t = Instant::now();
        let r = raw_stance(&mut raw, q, Some(&st))?;
        t_raw.push(us(t.elapsed()));
        let ours = s.map(|s| (s.stated_on.to_string(), s.position.as_str().to_owned()));
        found += ours.is_some() as u32;
        disagree += (ours != r) as u32;
    }
    drop(lib);
    if disagree > 0 {
        eprintln!(
            "PostgreSQL: the raw stance SELECT disagreed with `stance` on {disagree} of {} queries",
            qs.len()
        );
    }
    b.note("pg_stance_found", json!(found));
    b.note("pg_stance_raw_select_disagreements", json!(disagree));
    let t_raw = sorted(t_raw);
    let (raw50, raw99) = (pct(&t_raw, 0.5), pct(&t_raw, 0.99));
    b.push_p50_p99(
        "pg_stance",
        &format!(
            "PostgreSQL: stance as of a date, library reader, in process, at {pg_size} events ({found} of {} found)",
            qs.len()
        ),
        "us",
        &sorted(t_lib),
        [
            (raw50, "the raw indexed SELECT of the same stance on an open connection (prepared), p50"),
            (raw99, "the raw indexed SELECT of the same stance on an open connection (prepared), p99"),
        ],
    );

    // 3. stance as a process, interleaved with the spawn floor and a raw
    // connect + query + disconnect.
    eprintln!("PostgreSQL: CLI stance ...");
    let runs = if quick { 9 } else { 31 };
    let (mut t_cli, mut t_spawn, mut t_conn) = (Vec::new(), Vec::new(), Vec::new());
    for q in qs.iter().take(runs) {
        t_spawn.push(ms(spawn_floor(b)?));
        let t = Instant::now();
        let mut c = server.connect(&ledger_schema)?;
        raw_stance(&mut c, q, None)?;
        drop(c);
        t_conn.push(ms(t.elapsed()));
        t_cli.push(ms(pg_cli(b, &ledger, &strs(&stance_args(q)))?.0));
    }
    let (cli_ms, spawn_ms, conn_ms) = (median(t_cli), median(t_spawn), median(t_conn));
    b.note("pg_spawn_floor_ms", json!(spawn_ms));
    b.note("pg_raw_connect_select_disconnect_ms", json!(conn_ms));
    b.note("pg_raw_select_ms", json!(raw50 / 1000.0));
    b.push(fig(
        "pg_cli_stance_ms",
        &format!("PostgreSQL: `stancelog stance` at {pg_size} events, median wall per process"),
        "ms",
        cli_ms,
        Some((
            spawn_ms + conn_ms,
            "spawn floor (`stancelog --version`) + raw connect, the same SELECT, disconnect; medians",
        )),
        Some(cli_ms / (spawn_ms + conn_ms)),
        "",
        None,
    ));

    // 4. Durable single appends: raw BEGIN + rows + COMMIT on an open
    // connection (the floor of the library's append), and with a
    // connection of its own (with the spawn floor: the floor of `record`).
    eprintln!("PostgreSQL: durable single appends ...");
    let (open_rows, conn_rows) = extra.split_at(n_app);
    let prepared = prepare(&mut fc, &open_rows[0])?;
    let mut t_open = Vec::new();
    for r in open_rows {
        let t = Instant::now();
        raw_append(&mut fc, Some(&prepared), r)?;
        t_open.push(us(t.elapsed()));
    }
    drop(fc);
    let mut t_fresh = Vec::new();
    for r in conn_rows {
        let t = Instant::now();
        let mut c = server.connect(&floor_schema)?;
        raw_append(&mut c, None, r)?;
        drop(c);
        t_fresh.push(ms(t.elapsed()));
    }
    let (t_open, t_fresh) = (sorted(t_open), sorted(t_fresh));
    let t_lib = timed_appends(
        &Ledger::open_postgres(&ledger, &open_opts())?,
        n_app,
        "In-process PostgreSQL append",
    )?;
    b.push_p50_p99(
        "pg_append_lib",
        "PostgreSQL: durable single append, library (`Ledger::open_postgres`), in process",
        "us",
        &sorted(t_lib),
        [
            (
                pct(&t_open, 0.5),
                "raw BEGIN, the event's log + events + versions rows, COMMIT, open connection, p50",
            ),
            (
                pct(&t_open, 0.99),
                "raw BEGIN, the event's log + events + versions rows, COMMIT, open connection, p99",
            ),
        ],
    );
    let mut t_rec = Vec::new();
    let mut t_spawn = Vec::new();
    for i in 0..n_app {
        t_spawn.push(ms(spawn_floor(b)?));
        t_rec.push(ms(record(
            b,
            &ledger,
            "bench-record",
            &format!("PostgreSQL CLI record number {i} of the benchmark."),
        )?));
    }
    let t_spawn = sorted(t_spawn);
    b.note("pg_raw_append_open_p50_us", json!(pct(&t_open, 0.5)));
    b.note("pg_raw_append_connect_p50_ms", json!(pct(&t_fresh, 0.5)));
    b.note("pg_raw_append_connect_p99_ms", json!(pct(&t_fresh, 0.99)));
    b.push_p50_p99(
        "pg_record_cli",
        "PostgreSQL: durable single append, `stancelog record` process wall",
        "ms",
        &sorted(t_rec),
        [
            (
                pct(&t_spawn, 0.5) + pct(&t_fresh, 0.5),
                "spawn floor + raw connect, BEGIN, the rows, COMMIT, disconnect; p50s",
            ),
            (
                pct(&t_spawn, 0.99) + pct(&t_fresh, 0.99),
                "spawn floor + raw connect, BEGIN, the rows, COMMIT, disconnect; p99s",
            ),
        ],
    );

    // 5. Appends per second with 1, 4 and 16 concurrent writer processes,
    // against as many loops of spawn + connect + raw append (no lock: seqs
    // from a counter).
    let wall = Duration::from_secs(if quick { 2 } else { 10 });
    let conc_schema = schemas.init(b, "writers")?;
    let conc = server.url(&conc_schema);
    let cfloor_schema = schemas.init(b, "writers_floor")?;
    let next_seq = AtomicI64::new(1);
    let mut acknowledged = 0u64;
    let mut inputs = serde_json::Map::new();
    for writers in [1usize, 4, 16] {
        eprintln!(
            "PostgreSQL: {writers} concurrent writers for {} s ...",
            wall.as_secs()
        );
        let (ok, failed, first, secs) = parallel_loops(writers, wall, &|w, k| {
            record(
                b,
                &conc,
                &format!("bench-writers-{w}"),
                &format!("Concurrent append {k} of writer {w} of {writers}."),
            )
            .map(|_| ())
        });
        acknowledged += ok;
        let head = head_seq(b, &conc)?;
        if head != acknowledged {
            bail!(
                "PostgreSQL: after {writers} concurrent writers the head is {head}, but {acknowledged} appends were acknowledged"
            );
        }
        let t = Instant::now();
        pg_cli(b, &conc, &["verify"])
            .with_context(|| format!("verify after {writers} concurrent writers"))?;
        b.note(
            &format!("pg_writers_{writers}_verify_s"),
            json!(t.elapsed().as_secs_f64()),
        );
        let (f_ok, f_failed, f_first, f_secs) = parallel_loops(writers, wall, &|_, _| {
            spawn_floor(b)?;
            let seq = next_seq.fetch_add(1, Ordering::SeqCst);
            let r = extra[seq as usize % extra.len()].renumbered(seq);
            let mut c = server.connect(&cfloor_schema)?;
            raw_append(&mut c, None, &r)
        });
        if let Some(e) = f_first {
            bail!("PostgreSQL: the {writers}-writer floor failed {f_failed} times: {e}");
        }
        let (rate, floor) = (ok as f64 / secs, f_ok as f64 / f_secs);
        b.note(&format!("pg_writers_{writers}_acknowledged"), json!(ok));
        b.note(&format!("pg_writers_{writers}_failed"), json!(failed));
        if let Some(e) = first {
            b.note(&format!("pg_writers_{writers}_first_failure"), json!(e));
        }
        inputs.insert(format!("appends_per_s_{writers}_writers"), json!(rate));
        b.push(fig(
            &format!("pg_appends_per_s_{writers}w"),
            &format!(
                "PostgreSQL: acknowledged appends per second, {writers} concurrent `stancelog record` loops for {} s (head checked, verify passes)",
                wall.as_secs()
            ),
            "appends/s",
            rate,
            Some((
                floor,
                "as many loops of spawn (`stancelog --version`) + raw connect, BEGIN, the rows, COMMIT, disconnect",
            )),
            Some(rate / floor),
            "",
            None,
        ));
    }
    b.note("pg_writers_head", json!(acknowledged));
    inputs.insert("import_events_per_s".into(), json!(imp_rate));
    inputs.insert("copy_events_per_s".into(), json!(copy_rate));
    inputs.insert("copy_rows_per_s".into(), json!(copy_rows as f64 / copy_s));
    inputs.insert("cli_stance_ms".into(), json!(cli_ms));
    inputs.insert("raw_select_ms".into(), json!(raw50 / 1000.0));
    inputs.insert("raw_connect_select_ms".into(), json!(conn_ms));
    b.note("pg_scaling_inputs", Value::Object(inputs));
    drop(schemas);
    Ok(())
}
