//! The library's front door: a [`Ledger`] opened at a path, with one method
//! per user-facing operation. It wires the log (the [`Store`]), the read
//! model and the one writer together, and keeps them in step: on every open
//! for writing it compares the log's head with the read model's watermark,
//! catches the read model up after a crash, rebuilds it when it is missing
//! or of another schema, and refuses a log that lost acknowledged events.

use std::collections::VecDeque;
use std::io::{BufRead, Seek};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

use crate::append::{self, Context, Summary, WriteView};
use crate::audit::{self, Digest, Report};
use crate::axis::KnownAt;
use crate::chain::recomputed_hash;
use crate::decide::{decide, Decision, Request};
use crate::derive::derive;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{Actor, Issue};
use crate::projection::{Stance, StatementView};
use crate::query::{self, Change, Filter, Snapshot};
use crate::readmodel::{self, Conn, Query, Schema};
use crate::store::{Head, OpenOptions, Store};
use crate::writer::Writer;

/// An open ledger. Opened with [`Ledger::open`] it holds the inter-process
/// lock until dropped and can write; opened with [`Ledger::open_reader`] it
/// reads the read model only, takes no lock and never waits for a writer.
pub struct Ledger {
    path: PathBuf,
    // Fields drop in declaration order, and the order matters: the reader
    // closes before the writer, so that the writer is the read model's last
    // connection in this process and SQLite checkpoints the WAL into the
    // database and removes it. (A read-only connection closing last leaves
    // the WAL behind, and every later reader then rebuilds its index: a CLI
    // `stance` at a million events took 325 ms instead of 5 ms.)
    /// A read-only connection: every query's snapshot.
    model_reader: Mutex<Conn>,
    /// The read model's write connection; `None` for a reader.
    model_writer: Option<Mutex<Conn>>,
    /// The log; `None` for a reader.
    log: Option<Store>,
}

/// Events read per query when streaming the log out of the read model.
const PAGE: usize = 2048;

impl Ledger {
    /// The schema version of a PostgreSQL ledger this build reads and
    /// writes (its newest migration).
    #[cfg(feature = "postgres")]
    pub const POSTGRES_SCHEMA_VERSION: i32 = crate::storage::postgres::SCHEMA_VERSION;

    /// Opens the ledger at `path` for reading and writing (see
    /// [`OpenOptions`] for creating and waiting), bringing its read model up
    /// to the log first.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Ledger> {
        let model_path = readmodel::path_in(path);
        if !opts.create && !crate::storage::sled::exists(path) && !model_path.is_file() {
            return Err(Error::NoLedger(path.to_owned()));
        }
        let store = match Store::open(path, opts) {
            Ok(store) => store,
            Err(Error::Storage(s)) if s.is_disk_full() => return Err(Error::Storage(s)),
            Err(
                e @ (Error::Storage(_)
                | Error::Corrupt { .. }
                | Error::NotALedger(_)
                | Error::NoLedger(_)),
            ) => {
                let Some(model_seq) = witnessed(&model_path)?.filter(|&s| s > 0) else {
                    return Err(e);
                };
                if !opts.for_repair {
                    return Err(Error::LogDamaged {
                        path: path.to_owned(),
                        model_seq,
                        cause: e.to_string(),
                    });
                }
                // `repair`: keep the damaged files aside and start a new
                // log, which the repair refills from the read model.
                move_aside(path)?;
                Store::open(
                    path,
                    &OpenOptions {
                        create: true,
                        ..opts.clone()
                    },
                )?
            }
            Err(e) => return Err(e),
        };
        Ledger::with_store(store, path, &model_path, opts)
    }

    /// Opens the ledger at `path` for reading only: the read model alone,
    /// read-only, with no lock. A ledger without a usable read model (one of
    /// an earlier release, or whose read model was deleted) is first opened
    /// for writing once, which builds it.
    pub fn open_reader(path: &Path, opts: &OpenOptions) -> Result<Ledger> {
        let model_path = readmodel::path_in(path);
        if let Some(conn) = readmodel::open_reader(&model_path)? {
            if readmodel::schema(&conn)? == Schema::Current {
                let wm = readmodel::snapshot(&conn, |q| q.watermark())?;
                if wm.seq > 0 && !crate::storage::sled::looks_intact(path) {
                    return Err(Error::LogDamaged {
                        path: path.to_owned(),
                        model_seq: wm.seq,
                        cause: "its files are missing or empty".into(),
                    });
                }
                return Ok(Ledger {
                    path: path.to_owned(),
                    log: None,
                    model_writer: None,
                    model_reader: Mutex::new(conn),
                });
            }
        }
        if !crate::storage::sled::exists(path) {
            return Err(Error::NoLedger(path.to_owned()));
        }
        let opts = OpenOptions {
            create: false,
            ..opts.clone()
        };
        drop(Ledger::open(path, &opts)?);
        match readmodel::open_reader(&model_path)? {
            Some(conn) => Ok(Ledger {
                path: path.to_owned(),
                log: None,
                model_writer: None,
                model_reader: Mutex::new(conn),
            }),
            None => Err(Error::NoLedger(path.to_owned())),
        }
    }

    /// Opens the PostgreSQL ledger at `url` (`postgres://USER@HOST/DB`,
    /// optionally `?schema=NAME`) for reading and writing. The database
    /// must have been prepared by [`Ledger::init_postgres`]. Each write takes
    /// the ledger's lock for its transaction only, so any number of
    /// processes and machines may hold the ledger open for writing at once.
    #[cfg(feature = "postgres")]
    pub fn open_postgres(url: &str, opts: &OpenOptions) -> Result<Ledger> {
        let target = crate::storage::postgres::Target::parse(url)?;
        let wait = pg_wait(opts);
        let pg = target.connect(&wait)?;
        pg.check_schema()?;
        let path = PathBuf::from(target.shown());
        let store = Store::with_engine(
            Box::new(crate::storage::postgres::PgEngine::new(pg.clone())),
            &path,
            opts.on_notice,
        )?;
        let writer = Conn::Postgres(pg);
        let schema = readmodel::schema(&writer)?;
        let reader = Conn::Postgres(target.connect(&wait)?);
        let ledger = Ledger {
            path,
            log: Some(store),
            model_reader: Mutex::new(reader),
            model_writer: Some(Mutex::new(writer)),
        };
        ledger.reconcile(false, schema, opts)?;
        Ok(ledger)
    }

    /// Opens the PostgreSQL ledger at `url` for reading only: one session,
    /// whose every query reads one MVCC snapshot, never waiting for a writer.
    #[cfg(feature = "postgres")]
    pub fn open_postgres_reader(url: &str, opts: &OpenOptions) -> Result<Ledger> {
        let target = crate::storage::postgres::Target::parse(url)?;
        let pg = target.connect(&pg_wait(opts))?;
        pg.check_schema()?;
        let conn = Conn::Postgres(pg);
        if readmodel::schema(&conn)? != Schema::Current {
            // A ledger whose read model is not built yet (or of another
            // schema): a writer builds it once.
            drop(Ledger::open_postgres(url, opts)?);
        }
        Ok(Ledger {
            path: PathBuf::from(target.shown()),
            log: None,
            model_writer: None,
            model_reader: Mutex::new(conn),
        })
    }

    /// Prepares the database at `url` for a ledger: creates the schema
    /// named by `?schema=` (default `public`) and applies the log's
    /// migrations it lacks, in order, in one transaction; then opens the
    /// ledger, building its (empty) read model. Returns the ledger and the
    /// migrations applied (none when it was already up to date).
    #[cfg(feature = "postgres")]
    pub fn init_postgres(
        url: &str,
        opts: &OpenOptions,
    ) -> Result<(Ledger, Vec<(i32, &'static str)>)> {
        let target = crate::storage::postgres::Target::parse(url)?;
        let applied = target.connect(&pg_wait(opts))?.migrate()?;
        Ok((Ledger::open_postgres(url, opts)?, applied))
    }

    /// A ledger whose log is held by an in-memory engine whose faults a
    /// test controls, with its read model in `dir`.
    #[cfg(test)]
    pub(crate) fn in_memory(
        handle: &crate::storage::memory::MemoryHandle,
        dir: &Path,
    ) -> Result<Ledger> {
        let store = Store::with_engine(Box::new(handle.engine()), dir, None)?;
        Ledger::with_store(
            store,
            dir,
            &readmodel::path_in(dir),
            &OpenOptions::default(),
        )
    }

    fn with_store(
        store: Store,
        path: &Path,
        model_path: &Path,
        opts: &OpenOptions,
    ) -> Result<Ledger> {
        let existed = model_path.is_file();
        let writer = readmodel::open_writer(model_path)?;
        let schema = readmodel::schema(&writer)?;
        let mut ledger = Ledger {
            path: path.to_owned(),
            log: Some(store),
            // Replaced below, once the schema exists.
            model_reader: Mutex::new(readmodel::placeholder()?),
            model_writer: Some(Mutex::new(writer)),
        };
        ledger.reconcile(existed, schema, opts)?;
        let reader =
            readmodel::open_reader(model_path)?.ok_or_else(|| Error::NoLedger(path.to_owned()))?;
        ledger.model_reader = Mutex::new(reader);
        Ok(ledger)
    }

    /// Brings the read model to the log: builds or rebuilds it, catches it
    /// up, or refuses a log that lost what the read model witnessed.
    fn reconcile(&self, existed: bool, schema: Schema, opts: &OpenOptions) -> Result<()> {
        let log = self.log()?;
        let notice = |m: String| {
            if let Some(f) = opts.on_notice {
                f(&m);
            }
        };
        match schema {
            Schema::Missing => {
                let n = self.rebuild_model(&mut |_| {})?;
                if existed || n > 0 {
                    notice(format!(
                        "built the read model of {} from {n} events",
                        self.path.display()
                    ));
                }
                return Ok(());
            }
            Schema::Other(v) => {
                let n = self.rebuild_model(&mut |_| {})?;
                notice(format!(
                    "rebuilt the read model of {} (schema {v} -> {}) from {n} events",
                    self.path.display(),
                    readmodel::SCHEMA_VERSION
                ));
                return Ok(());
            }
            Schema::Current => {}
        }
        if log.is_transactional() {
            // The log and the read model commit in one transaction: neither
            // can be ahead of the other, and a failed write left nothing.
            return Ok(());
        }
        let wm = self.with_writer_conn(|q| q.watermark())?;
        if opts.for_repair {
            return Ok(());
        }
        let head = log.head()?;
        if head.seq < wm.seq {
            return Err(Error::LogBehind {
                path: self.path.clone(),
                log_seq: head.seq,
                model_seq: wm.seq,
            });
        }
        if head.seq > wm.seq {
            // A writer died between committing the log and the read model:
            // that write was never acknowledged, but the log holds it.
            if wm.seq > 0 && log.event_indexed(wm.seq)?.hash != wm.hash {
                return Err(diverged(wm.seq));
            }
            let mut writer = self.writer_unchecked()?;
            apply_logged(&mut writer, wm.seq + 1, &mut |_| {})?;
            writer.commit_model(&head)?;
        }
        Ok(())
    }

    fn log(&self) -> Result<&Store> {
        self.log
            .as_ref()
            .ok_or_else(|| Error::ReadOnly(self.path.clone()))
    }

    fn with_writer_conn<T>(&self, f: impl FnOnce(&Query<'_>) -> Result<T>) -> Result<T> {
        let conn = self
            .model_writer
            .as_ref()
            .ok_or_else(|| Error::ReadOnly(self.path.clone()))?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        readmodel::snapshot(&conn, f)
    }

    fn writer_unchecked(&self) -> Result<Writer<'_>> {
        let model = self
            .model_writer
            .as_ref()
            .ok_or_else(|| Error::ReadOnly(self.path.clone()))?;
        Writer::begin(self.log()?, model)
    }

    /// The one writer, for a write that appends to the log: refuses a
    /// ledger whose read model is not at the log's head.
    pub(crate) fn writer(&self) -> Result<Writer<'_>> {
        let w = self.writer_unchecked()?;
        if let Some((seq, message)) = w.query().fault()? {
            return Err(Error::Corrupt {
                seq,
                message: format!(
                    "verify found damage here ({message}); writes are refused until it is repaired (run `stancelog rebuild` or `stancelog repair` as the message says, or restore from an export, then `stancelog verify`)"
                ),
            });
        }
        let wm = w.query().watermark()?;
        if wm.seq != w.committed().seq || wm.hash != w.committed().hash {
            return Err(if wm.seq > w.committed().seq {
                Error::LogBehind {
                    path: self.path.clone(),
                    log_seq: w.committed().seq,
                    model_seq: wm.seq,
                }
            } else {
                diverged(wm.seq.min(w.committed().seq))
            });
        }
        Ok(w)
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on one consistent snapshot of the read model.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Query<'_>) -> Result<T>) -> Result<T> {
        let conn = self.model_reader.lock().unwrap_or_else(|p| p.into_inner());
        readmodel::snapshot(&conn, f)
    }

    /// Appends requests all or nothing; durable when it returns `Ok`.
    pub fn append(
        &self,
        requests: impl IntoIterator<Item = Result<Request>>,
        ctx: &mut Context<'_>,
    ) -> Result<Summary> {
        append::append(self, requests, ctx)
    }

    /// Imports JSON Lines, all or nothing, naming the line of any error.
    pub fn import(
        &self,
        reader: impl BufRead + Seek,
        source_name: &str,
        ctx: &mut Context<'_>,
    ) -> Result<Summary> {
        crate::import::import(self, reader, source_name, ctx)
    }

    /// Rebuilds this (empty) ledger from `stancelog export` output, checking
    /// the hash chain line by line and that no event was recorded after
    /// `now` (plus [`crate::RESTORE_SKEW`]); all or nothing.
    pub fn restore(
        &self,
        reader: impl BufRead,
        source_name: &str,
        now: DateTime<Utc>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<crate::restore::Restored> {
        crate::restore::restore(self, reader, source_name, now, progress)
    }

    /// The committed head, as the read model witnessed it.
    pub fn head(&self) -> Result<Head> {
        self.read(|q| q.watermark())
    }

    /// The last seq a query at `known_at` sees: the head for [`KnownAt::Now`],
    /// the last event recorded at or before a moment, or the seq named.
    pub fn known_seq(&self, known_at: impl Into<KnownAt>) -> Result<u64> {
        self.read(|q| known(q, known_at.into()))
    }

    /// A summary of the ledger: formats, counts, dates and size on disk.
    pub fn info(&self) -> Result<crate::info::Info> {
        self.read(|q| crate::info::info(&self.path, q))
    }

    /// The id of the one statement whose id starts with `prefix`: hex
    /// digits (hyphens optional), at least [`crate::MIN_ID_PREFIX`] of them. An
    /// ambiguous prefix is an error listing the candidates.
    pub fn statement_id(&self, prefix: &str) -> Result<uuid::Uuid> {
        self.read(|q| q.statement_id(prefix))
    }

    /// The stance in force for a pair as of a date, as known at a moment.
    pub fn stance(
        &self,
        actor: &Actor,
        issue: &Issue,
        as_of: NaiveDate,
        known_at: impl Into<KnownAt>,
    ) -> Result<Option<Stance>> {
        self.read(|q| query::stance(q, actor, issue, as_of, known(q, known_at.into())?))
    }

    /// Every stance in force, sorted by issue then actor.
    pub fn stances(
        &self,
        as_of: NaiveDate,
        known_at: impl Into<KnownAt>,
        filter: &Filter,
    ) -> Result<Vec<Stance>> {
        self.read(|q| query::stances(q, as_of, known(q, known_at.into())?, filter))
    }

    /// Calls `f` with every stance in force, in issue then actor order,
    /// without holding them all: what `stances` streams to its output. The
    /// outer result is the ledger's; the inner one is the first error `f`
    /// returned, which ends the scan.
    pub fn for_each_stance<E>(
        &self,
        as_of: NaiveDate,
        known_at: impl Into<KnownAt>,
        filter: &Filter,
        mut f: impl FnMut(Stance) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(), E>> {
        self.read(|q| query::for_each_stance(q, as_of, known(q, known_at.into())?, filter, &mut f))
    }

    /// Every statement on a pair, in `stated_on` order, with its edits.
    pub fn history(
        &self,
        actor: &Actor,
        issue: &Issue,
        known_at: impl Into<KnownAt>,
    ) -> Result<Vec<StatementView>> {
        self.read(|q| query::history(q, actor, issue, known(q, known_at.into())?))
    }

    /// Every pair whose stance in force differs between two dates.
    pub fn changes(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        known_at: impl Into<KnownAt>,
        filter: &Filter,
    ) -> Result<Vec<Change>> {
        self.read(|q| query::changes(q, from, to, known(q, known_at.into())?, filter))
    }

    /// Two actors' stances in force on the issues both have one on, with
    /// their agreement (see [`crate::agreement`]).
    pub fn compare(
        &self,
        a: &Actor,
        b: &Actor,
        as_of: NaiveDate,
        known_at: impl Into<KnownAt>,
    ) -> Result<crate::analysis::Comparison> {
        let filter = Filter {
            actors: vec![a.clone(), b.clone()],
            issues: Vec::new(),
        };
        let stances = self.stances(as_of, known_at, &filter)?;
        Ok(crate::analysis::compare(a, b, as_of, &stances))
    }

    /// Every change of a position in force with `stated_on` in
    /// `[from, to]` (either end open), in date order; retracted statements
    /// are not shifts.
    pub fn shifts(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        known_at: impl Into<KnownAt>,
        filter: &Filter,
    ) -> Result<Vec<crate::analysis::Shift>> {
        self.read(|q| crate::analysis::shifts(q, from, to, known(q, known_at.into())?, filter))
    }

    /// Runs `f` on the ledger as it stood at `known_at` (a moment, a seq, or now),
    /// all from one snapshot of the read model: what `f` reads through the
    /// [`Snapshot`] is one state, even while a writer appends, so a report
    /// that combines several answers (and the digest it prints) agree.
    pub fn snapshot<T>(
        &self,
        known_at: impl Into<KnownAt>,
        f: impl FnOnce(&Snapshot<'_>) -> Result<T>,
    ) -> Result<T> {
        self.read(|q| {
            let known = known(q, known_at.into())?;
            f(&Snapshot { q, known })
        })
    }

    /// The committed log from `from_seq` to the head at the time of the
    /// call, in order, streamed from the read model's copy in pages.
    pub fn events(&self, from_seq: u64) -> Result<impl Iterator<Item = Result<Event>> + '_> {
        let upto = self.head()?.seq;
        Ok(EventPages {
            ledger: self,
            next: from_seq.max(1),
            upto,
            page: VecDeque::new(),
            failed: false,
        })
    }

    /// Replays the log and checks everything, the read model included; see
    /// [`audit`].
    pub fn verify(&self, digest: Option<Digest>, progress: &mut dyn FnMut(u64)) -> Result<Report> {
        let log = self.log()?;
        let conn = self
            .model_writer
            .as_ref()
            .ok_or_else(|| Error::ReadOnly(self.path.clone()))?;
        // Hold the writers' turn: nothing changes under the audit.
        let _turn = log.writer_turn();
        let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        let report = if log.is_transactional() {
            // Other processes may write meanwhile: the log and the read
            // model are read in one snapshot instead.
            readmodel::snapshot(&conn, |_| {
                audit::verify(log, &conn, None, &self.path, digest, progress)
            })
        } else {
            audit::verify(
                log,
                &conn,
                Some(&self.model_reader),
                &self.path,
                digest,
                progress,
            )
        };
        // Damage found stops writes until a verify passes again; a digest
        // the log does not extend is not damage of this ledger.
        match &report {
            Ok(_) => readmodel::clear_fault(&conn)?,
            Err(Error::Corrupt { seq, message }) if !message.contains("digest") => {
                let _ = readmodel::set_fault(&conn, *seq, message);
            }
            Err(_) => {}
        }
        report
    }

    /// Regenerates the read model from the log; returns the events replayed.
    pub fn rebuild(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        self.rebuild_model(progress)
    }

    fn rebuild_model(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let mut writer = self.writer_unchecked()?;
        readmodel::reset(writer.model())?;
        let head = *writer.committed();
        let n = apply_logged(&mut writer, 1, progress)?;
        writer.commit_model(&head)?;
        Ok(n)
    }

    /// Re-appends to the log the events it lost that the read model still
    /// holds, after checking that they chain onto the log's head; returns
    /// how many. The ledger then has the head it had before the damage.
    pub fn repair(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let mut writer = self.writer_unchecked()?;
        let wm = writer.query().watermark()?;
        let head = *writer.committed();
        if wm.seq <= head.seq {
            return Ok(0);
        }
        let mut prev = head;
        let mut next = head.seq + 1;
        while next <= wm.seq {
            let rows = writer.query().events_range(next, wm.seq, PAGE)?;
            if rows.is_empty() {
                return Err(Error::Corrupt {
                    seq: next,
                    message: "the read model lacks this event too; restore from an export".into(),
                });
            }
            for row in rows {
                let e = row.event;
                let h = recomputed_hash(&e);
                if e.seq != next || e.prev_hash != prev.hash || h != e.hash {
                    return Err(Error::Corrupt {
                        seq: e.seq,
                        message: "the read model's copy does not chain onto the log; restore from an export".into(),
                    });
                }
                writer.push_log_only(&e);
                prev = *writer.head();
                next += 1;
                if writer.batch_len() >= append::BATCH_EVENTS {
                    writer.apply()?;
                    progress(next - 1);
                }
            }
        }
        if prev.hash != wm.hash {
            return Err(diverged(wm.seq));
        }
        writer.commit()?;
        Ok(wm.seq - head.seq)
    }
}

/// How a PostgreSQL writer waits for the ledger's lock.
#[cfg(feature = "postgres")]
fn pg_wait(opts: &OpenOptions) -> crate::storage::postgres::Wait {
    crate::storage::postgres::Wait {
        budget: opts.wait,
        notice_after: opts.notice_after,
        on_wait: opts.on_wait,
    }
}

/// The watermark of the read model at `model_path`, if there is one.
fn witnessed(model_path: &Path) -> Result<Option<u64>> {
    let Some(conn) = readmodel::open_reader(model_path)? else {
        return Ok(None);
    };
    if readmodel::schema(&conn)? != Schema::Current {
        return Ok(None);
    }
    Ok(Some(readmodel::snapshot(&conn, |q| q.watermark())?.seq))
}

/// Moves the files of a damaged log into `damaged-N/` inside the ledger
/// directory (N the first number free), so that nothing is deleted.
fn move_aside(path: &Path) -> Result<()> {
    let files = crate::storage::sled::files(path);
    let dir = (1..)
        .map(|n| path.join(format!("damaged-{n}")))
        .find(|d| !d.exists())
        .expect("a free name");
    std::fs::create_dir(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    for f in files {
        let to = dir.join(f.file_name().expect("a file name"));
        std::fs::rename(&f, &to)
            .map_err(|e| Error::io(format!("cannot move {} aside", f.display()), e))?;
    }
    Ok(())
}

/// The error of a log and read model that hold different events at `seq`.
fn diverged(seq: u64) -> Error {
    Error::Corrupt {
        seq,
        message: "the log and the read model hold different events here; neither is trusted (check the log with `stancelog verify --digest` against a published head, then `stancelog rebuild` to rebuild the read model from it, or restore from an export)".into(),
    }
}

/// The seq a `--known-at` moment means in a snapshot.
pub(crate) fn known(q: &Query<'_>, known_at: KnownAt) -> Result<u64> {
    let head = q.watermark()?.seq;
    crate::axis::resolve(known_at, head, |t| q.known_seq(t, head))
}

/// Adds to the read model (inside `writer`'s transaction) the rows of the
/// log's events from `from` to its head, each checked by the rules against
/// the read model as it stands and against the chain; returns how many.
fn apply_logged(writer: &mut Writer<'_>, from: u64, progress: &mut dyn FnMut(u64)) -> Result<u64> {
    let log = writer.store();
    let mut names = WriteView::load_names(writer)?;
    let mut n = 0;
    let mut prev_hash = match from {
        1 => crate::event::GENESIS,
        _ => log.event_indexed(from - 1)?.hash,
    };
    for event in log.events_from(from)? {
        let event = event?;
        let fault = |message: String| Error::Corrupt {
            seq: event.seq,
            message,
        };
        if event.prev_hash != prev_hash || recomputed_hash(&event) != event.hash {
            return Err(fault(
                "the chain does not link here (run `stancelog verify`)".into(),
            ));
        }
        let request = Request {
            id: Some(event.id),
            command: event.payload.clone().into_command(),
        };
        let target = match decide(
            request,
            &WriteView(writer, &names, &crate::append::Unused::default()),
            event.recorded_at.date_naive(),
        ) {
            Ok(Decision::Append { target, .. }) => target,
            Ok(Decision::AlreadyRecorded { id, .. }) => {
                return Err(fault(format!("duplicate id {id}")))
            }
            Err(e) => return Err(fault(e.to_string())),
        };
        let derived = derive(&event, target.as_ref())
            .ok_or_else(|| fault("an edit without a target".into()))?;
        writer.push_model(&event, &derived)?;
        names.apply(&event.payload);
        prev_hash = event.hash;
        n += 1;
        if n % 8192 == 0 {
            progress(n);
        }
    }
    progress(n);
    Ok(n)
}

/// The log streamed out of the read model, a page per query.
struct EventPages<'l> {
    ledger: &'l Ledger,
    next: u64,
    upto: u64,
    page: VecDeque<Event>,
    failed: bool,
}

impl Iterator for EventPages<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        if self.failed {
            return None;
        }
        if self.page.is_empty() && self.next <= self.upto {
            match self
                .ledger
                .read(|q| q.events_range(self.next, self.upto, PAGE))
            {
                Ok(rows) => {
                    if rows.is_empty() {
                        self.failed = true;
                        return Some(Err(Error::Corrupt {
                            seq: self.next,
                            message: "read model: no such event below the watermark (run `stancelog rebuild`)".into(),
                        }));
                    }
                    for r in rows {
                        self.page.push_back(r.event);
                    }
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let e = self.page.pop_front()?;
        if e.seq != self.next {
            self.failed = true;
            return Some(Err(Error::Corrupt {
                seq: self.next,
                message: "read model: an event is missing (run `stancelog rebuild`)".into(),
            }));
        }
        self.next += 1;
        Some(Ok(e))
    }
}
