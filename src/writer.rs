//! The one writer: every change to a ledger (append and import, restore,
//! rebuild, the discard of an uncommitted tail) goes through a [`Writer`],
//! which owns the batch, the head in progress, the commit, and the discard
//! of whatever it applied if it fails or is dropped before committing.
//!
//! One writer per ledger at a time, inside a process as well as across
//! processes: [`Writer::begin`] takes the store's writer lock (a mutex; the
//! inter-process lock is held by the engine for as long as the store is
//! open), so two threads sharing one `Ledger` take turns instead of
//! interleaving their batches.

use std::sync::MutexGuard;

use crate::codec;
use crate::error::Result;
use crate::event::Event;
use crate::index::{self, IndexEntry};
use crate::store::{Head, Store, WriteBatch};

/// A write in progress; see the module docs.
pub(crate) struct Writer<'s> {
    store: &'s Store,
    _turn: MutexGuard<'s, ()>,
    /// The head when the write began: what a discard returns to.
    committed: Head,
    /// The head including this write's events so far.
    head: Head,
    batch: WriteBatch,
    /// Whether some batch went to the engine before the commit.
    applied_any: bool,
    /// Whether a failed commit may have moved the stored head.
    head_written: bool,
    finished: bool,
}

impl<'s> Writer<'s> {
    /// Waits for this process's other writers, then starts a write at the
    /// committed head.
    pub(crate) fn begin(store: &'s Store) -> Result<Writer<'s>> {
        let turn = store.writer_turn();
        let head = store.head()?;
        Ok(Writer {
            store,
            _turn: turn,
            committed: head,
            head,
            batch: WriteBatch::default(),
            applied_any: false,
            head_written: false,
            finished: false,
        })
    }

    /// The store being written.
    pub(crate) fn store(&self) -> &'s Store {
        self.store
    }

    /// The head when the write began.
    pub(crate) fn committed(&self) -> &Head {
        &self.committed
    }

    /// The head including this write's events so far.
    pub(crate) fn head(&self) -> &Head {
        &self.head
    }

    /// Operations in the current batch.
    pub(crate) fn batch_len(&self) -> usize {
        self.batch.len()
    }

    /// Adds `event` (the next after [`Writer::head`]) to the batch.
    pub(crate) fn push_event(&mut self, event: &Event) {
        debug_assert_eq!(event.seq, self.head.seq + 1);
        self.batch
            .insert(&index::log_key(event.seq), &codec::encode(event));
        self.head = Head {
            seq: event.seq,
            hash: event.hash,
            recorded_at: event.recorded_at,
        };
    }

    /// Adds an index entry to the batch.
    pub(crate) fn insert(&mut self, (k, v): &IndexEntry) {
        self.batch.insert(k, v);
    }

    /// Adds a removal to the batch.
    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.batch.remove(key);
    }

    /// Applies the batch so far, past the committed head: invisible to
    /// readers of a reopened ledger until the commit, discarded on failure.
    pub(crate) fn apply(&mut self) -> Result<()> {
        if self.batch.len() > 0 {
            self.applied_any = true;
            self.store.apply(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }

    /// Applies the last batch with the new head and makes it durable. A
    /// write that added no event commits nothing.
    pub(crate) fn commit(mut self) -> Result<Head> {
        self.finished = true;
        if self.head.seq > self.committed.seq {
            let batch = std::mem::take(&mut self.batch);
            if let Err(e) = self.store.commit(batch, &self.head) {
                // The head may have reached the engine without being
                // synced: the drop puts the old one back.
                self.finished = false;
                self.applied_any = true;
                self.head_written = true;
                return Err(e);
            }
        } else {
            self.apply()?;
            if self.applied_any {
                self.store.durable_flush()?;
            }
        }
        Ok(self.head)
    }
}

impl Drop for Writer<'_> {
    /// A write that did not commit leaves nothing: what it applied is
    /// removed now, or, if that fails too (or the process dies first), by
    /// the next open's recovery, since none of it is below the committed
    /// head.
    fn drop(&mut self) {
        if !self.finished && self.applied_any {
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
