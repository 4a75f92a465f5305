//! The library's front door: a [`Ledger`] opened at a path, with one method
//! per user-facing operation. It only wires the modules together; the rules,
//! folding, storage and audit live in their own modules.

use std::io::{BufRead, Seek};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::append::{self, Context, Summary};
use crate::audit::{self, Digest, Report};
use crate::decide::Request;
use crate::error::Result;
use crate::event::Event;
use crate::model::{Actor, Issue};
use crate::projection::{Stance, StatementView};
use crate::query::{self, Change, Filter};
use crate::store::{Head, OpenOptions, Store};

/// An open ledger; holds the inter-process lock until dropped.
pub struct Ledger {
    store: Store,
}

impl Ledger {
    /// Opens the ledger at `path` (see [`OpenOptions`] for creating and waiting).
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Ledger> {
        Ok(Ledger {
            store: Store::open(path, opts)?,
        })
    }

    /// A ledger held by an in-memory engine whose faults a test controls.
    #[cfg(test)]
    pub(crate) fn in_memory(handle: &crate::storage::memory::MemoryHandle) -> Result<Ledger> {
        Ok(Ledger {
            store: Store::with_engine(Box::new(handle.engine()), Path::new("<memory>"), None)?,
        })
    }

    /// Where the ledger lives.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Appends requests all or nothing; durable when it returns `Ok`.
    pub fn append(
        &self,
        requests: impl IntoIterator<Item = Result<Request>>,
        ctx: &mut Context<'_>,
    ) -> Result<Summary> {
        append::append(&self.store, requests, ctx)
    }

    /// Imports JSON Lines, all or nothing, naming the line of any error.
    pub fn import(
        &self,
        reader: impl BufRead + Seek,
        source_name: &str,
        ctx: &mut Context<'_>,
    ) -> Result<Summary> {
        crate::import::import(&self.store, reader, source_name, ctx)
    }

    /// Rebuilds this (empty) ledger from `stancelog export` output, checking
    /// the hash chain line by line; all or nothing. See [`crate::restore`].
    pub fn restore(
        &self,
        reader: impl BufRead,
        source_name: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<crate::restore::Restored> {
        crate::restore::restore(&self.store, reader, source_name, progress)
    }

    /// The committed head.
    pub fn head(&self) -> Result<Head> {
        self.store.head()
    }

    /// The last seq recorded at or before `known_at` (the head when `None`).
    pub fn known_seq(&self, known_at: Option<DateTime<Utc>>) -> Result<u64> {
        match known_at {
            None => Ok(self.store.head()?.seq),
            Some(t) => self.store.known_seq(&t),
        }
    }

    /// The stance in force for a pair as of a date, as known at a moment.
    pub fn stance(
        &self,
        actor: &Actor,
        issue: &Issue,
        as_of: NaiveDate,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Stance>> {
        query::stance(&self.store, actor, issue, as_of, self.known_seq(known_at)?)
    }

    /// Every stance in force, sorted by issue then actor.
    pub fn stances(
        &self,
        as_of: NaiveDate,
        known_at: Option<DateTime<Utc>>,
        filter: &Filter,
    ) -> Result<Vec<Stance>> {
        query::stances(&self.store, as_of, self.known_seq(known_at)?, filter)
    }

    /// Every statement on a pair, in `stated_on` order, with its edits.
    pub fn history(
        &self,
        actor: &Actor,
        issue: &Issue,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Vec<StatementView>> {
        query::history(&self.store, actor, issue, self.known_seq(known_at)?)
    }

    /// Every pair whose stance in force differs between two dates.
    pub fn changes(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        known_at: Option<DateTime<Utc>>,
        filter: &Filter,
    ) -> Result<Vec<Change>> {
        query::changes(&self.store, from, to, self.known_seq(known_at)?, filter)
    }

    /// The committed log from `from_seq`, in order.
    pub fn events(&self, from_seq: u64) -> Result<impl Iterator<Item = Result<Event>> + '_> {
        self.store.events_from(from_seq)
    }

    /// Replays and checks everything; see [`audit`].
    pub fn verify(&self, digest: Option<Digest>, progress: &mut dyn FnMut(u64)) -> Result<Report> {
        audit::verify(&self.store, digest, progress)
    }

    /// Drops and regenerates the derived indexes; returns the events replayed.
    pub fn rebuild(&self, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        self.store.rebuild_indexes(progress)
    }
}
