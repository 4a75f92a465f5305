//! The one writer: every change to a ledger (append and import, restore,
//! rebuild and catch-up of the read model, repair, the discard of an
//! uncommitted tail) goes through a [`Writer`], which owns the log batch,
//! the head in progress, the read model's transaction, the commit of both,
//! and the undoing of whatever it did if it fails or is dropped first.
//!
//! One writer per ledger at a time, inside a process as well as across
//! processes: [`Writer::begin`] takes the store's writer lock (a mutex; the
//! inter-process lock is held by the engine for as long as the store is
//! open) and the read model's write connection.
//!
//! The commit order is what makes the read model a witness: the log is
//! committed and synced first, then the read model's rows and watermark in
//! one `synchronous=FULL` transaction; only then is the write acknowledged.
//! A crash between the two leaves the log ahead, which the next writer
//! catches up; a log behind the watermark has lost acknowledged events.

use std::sync::{Mutex, MutexGuard};

use crate::codec;
use crate::derive::Derived;
use crate::error::Result;
use crate::event::Event;
use crate::index;
use crate::readmodel::{self, Conn, Query};
use crate::store::{Head, Store, WriteBatch};

/// A write in progress; see the module docs.
pub(crate) struct Writer<'s> {
    store: &'s Store,
    _turn: MutexGuard<'s, ()>,
    model: MutexGuard<'s, Conn>,
    /// The head when the write began: what an undo returns to.
    committed: Head,
    /// The head including this write's events so far.
    head: Head,
    batch: WriteBatch,
    /// The `stances_latest` pairs this write has touched, settled before
    /// the watermark moves.
    latest: readmodel::PendingLatest,
    /// Whether some log batch went to the engine before the commit.
    applied_any: bool,
    /// Whether a failed commit may have moved the stored head.
    head_written: bool,
    finished: bool,
}

impl<'s> Writer<'s> {
    /// Waits for this process's other writers, then starts a write at the
    /// committed head of the log, with a read model transaction open.
    pub(crate) fn begin(store: &'s Store, model: &'s Mutex<Conn>) -> Result<Writer<'s>> {
        let turn = store.writer_turn();
        let model = model.lock().unwrap_or_else(|p| p.into_inner());
        readmodel::begin_write(&model)?;
        let head = match store.head() {
            Ok(h) => h,
            Err(e) => {
                let _ = readmodel::rollback(&model);
                return Err(e);
            }
        };
        Ok(Writer {
            store,
            _turn: turn,
            model,
            committed: head,
            head,
            batch: WriteBatch::default(),
            latest: readmodel::PendingLatest::default(),
            applied_any: false,
            head_written: false,
            finished: false,
        })
    }

    /// The log being written.
    pub(crate) fn store(&self) -> &'s Store {
        self.store
    }

    /// Queries of the read model, seeing this write's own rows.
    pub(crate) fn query(&self) -> Query<'_> {
        Query::new(&self.model)
    }

    /// The read model's connection, inside this write's transaction.
    pub(crate) fn model(&self) -> &Conn {
        &self.model
    }

    /// The head when the write began.
    pub(crate) fn committed(&self) -> &Head {
        &self.committed
    }

    /// The head including this write's events so far.
    pub(crate) fn head(&self) -> &Head {
        &self.head
    }

    /// Adds `event` (the next after [`Writer::head`]) to the log batch and
    /// its rows to the read model.
    pub(crate) fn push_event(&mut self, event: &Event, derived: &Derived) -> Result<()> {
        debug_assert_eq!(event.seq, self.head.seq + 1);
        self.push_model(event, derived)?;
        self.push_log_only(event);
        Ok(())
    }

    /// Whether any statement is on `issue`, this write's included (its
    /// `stances_latest` rows may not be written yet).
    pub(crate) fn has_statements(&self, issue: &crate::model::Issue) -> Result<bool> {
        Ok(self.latest.touches_issue(issue.as_str())
            || self.query().has_statements(issue, u64::MAX)?)
    }

    /// Adds an event's rows to the read model only (a catch-up of events
    /// the log already holds).
    pub(crate) fn push_model(&mut self, event: &Event, derived: &Derived) -> Result<()> {
        readmodel::insert(&self.model, event, derived)?;
        if let Some(v) = &derived.version {
            self.latest.note(&self.model, event, v)?;
        }
        Ok(())
    }

    /// Adds `event` to the log batch only (a repair: the read model has it).
    pub(crate) fn push_log_only(&mut self, event: &Event) {
        self.batch
            .insert(&index::log_key(event.seq), &codec::encode(event));
        self.head = Head {
            seq: event.seq,
            hash: event.hash,
            recorded_at: event.recorded_at,
        };
    }

    /// Events in the current log batch.
    pub(crate) fn batch_len(&self) -> usize {
        self.batch.len()
    }

    /// Applies the log batch so far, past the committed head: invisible to
    /// readers of a reopened log until the commit, undone on failure.
    pub(crate) fn apply(&mut self) -> Result<()> {
        if self.batch.len() > 0 {
            self.applied_any = true;
            self.store.apply(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }

    /// Commits the log (synced), then the read model's rows and watermark.
    /// A write that added no event commits nothing.
    pub(crate) fn commit(mut self) -> Result<Head> {
        if self.head.seq == self.committed.seq {
            // Nothing was added (every request was a repeat): there is
            // nothing to make durable, and the watermark stays as it is.
            readmodel::rollback(&self.model)?;
            self.finished = true;
            return Ok(self.head);
        }
        let batch = std::mem::take(&mut self.batch);
        // The head may reach the engine without being synced: an undo puts
        // the old one back.
        self.applied_any = true;
        self.head_written = true;
        self.latest.flush(&self.model)?;
        self.store.commit(batch, &self.head)?;
        readmodel::set_watermark(&self.model, &self.head)?;
        #[cfg(test)]
        if FAIL_MODEL_COMMIT.with(|f| f.replace(false)) {
            return Err(crate::Error::Storage(crate::storage::StorageError::msg(
                "injected fault: the read model's commit failed",
            )));
        }
        readmodel::commit(&self.model)?;
        self.finished = true;
        Ok(self.head)
    }

    /// Commits the read model's transaction with the watermark at `head`,
    /// without touching the log (a rebuild or catch-up of the read model).
    pub(crate) fn commit_model(mut self, head: &Head) -> Result<Head> {
        self.latest.flush(&self.model)?;
        readmodel::set_watermark(&self.model, head)?;
        readmodel::commit(&self.model)?;
        self.finished = true;
        Ok(*head)
    }
}

impl Drop for Writer<'_> {
    /// A write that did not finish leaves nothing: the read model's
    /// transaction is rolled back, and what went to the log is removed now
    /// or, if that fails too (or the process dies first), by the next open's
    /// recovery, since none of it is below the committed head.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let _ = readmodel::rollback(&self.model);
        if self.applied_any && !self.store.is_transactional() {
            let committed = self.committed;
            let head_back = || match self.head_written {
                true => self.store.reset_head(&committed),
                false => Ok(()),
            };
            let _ = head_back()
                .and_then(|()| self.store.discard_after(committed.seq))
                .and_then(|()| self.store.durable_flush());
        }
    }
}

#[cfg(test)]
thread_local! {
    static FAIL_MODEL_COMMIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes this thread's next [`Writer::commit`] fail after the log is
/// committed and before the read model is (a crash between the two).
#[cfg(test)]
pub(crate) fn fail_next_model_commit() {
    FAIL_MODEL_COMMIT.with(|f| f.set(true));
}
