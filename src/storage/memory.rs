//! An in-process engine with fault injection, for deterministic crash tests.
//!
//! It keeps two maps: what was applied (what readers see) and what was last
//! synced (what would survive a power cut). A [`Faults`] plan makes the Nth
//! `apply` or `sync` fail; [`MemoryHandle::crash`] gives a new engine holding
//! only the synced state, as a machine restarting after a crash would. So a
//! test can stop a write at every step of its commit and check what the
//! ledger then says.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Batch, Engine, Entries, Entry, StorageError};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// Which operation to fail, counted from 1 since the plan was armed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Faults {
    /// Fail the Nth `apply` (it applies nothing); later ones work.
    pub(crate) fail_apply: Option<u64>,
    /// Fail the Nth `sync` (it syncs nothing); later ones work.
    pub(crate) fail_sync: Option<u64>,
    /// From the Nth operation (`apply` or `sync`) on, fail every one: the
    /// process or the machine died there, and nothing it did afterwards
    /// (cleanup included) reached the disk.
    pub(crate) die_at: Option<u64>,
}

#[derive(Default)]
struct State {
    applied: Map,
    synced: Map,
    faults: Faults,
    applies: u64,
    syncs: u64,
}

impl State {
    /// Counts an operation; `true` if the plan says it fails.
    fn fails(&mut self, apply: bool) -> bool {
        if apply {
            self.applies += 1;
        } else {
            self.syncs += 1;
        }
        let n = self.applies + self.syncs;
        self.faults.die_at.is_some_and(|d| n >= d)
            || (apply && self.faults.fail_apply == Some(self.applies))
            || (!apply && self.faults.fail_sync == Some(self.syncs))
    }
}

/// A handle on a memory engine's state that outlives the engine given to a
/// ledger: arms faults, counts operations, and simulates a crash.
#[derive(Clone, Default)]
pub(crate) struct MemoryHandle(Arc<Mutex<State>>);

impl MemoryHandle {
    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves the state as it
        // was; the maps are never left half-updated.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An engine over this state.
    pub(crate) fn engine(&self) -> MemoryEngine {
        MemoryEngine(self.clone())
    }

    /// Arms `faults`, counting operations from now.
    pub(crate) fn arm(&self, faults: Faults) {
        let mut s = self.state();
        s.faults = faults;
        s.applies = 0;
        s.syncs = 0;
    }

    /// `(applies, syncs)` since the plan was last armed.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let s = self.state();
        (s.applies, s.syncs)
    }

    /// What a restart after a crash now would find: a new state holding
    /// only what was synced, with no faults armed.
    pub(crate) fn crash(&self) -> MemoryHandle {
        let synced = self.state().synced.clone();
        MemoryHandle(Arc::new(Mutex::new(State {
            applied: synced.clone(),
            synced,
            ..State::default()
        })))
    }

    /// Every applied entry, for tests that compare states.
    pub(crate) fn applied(&self) -> Map {
        self.state().applied.clone()
    }

    /// Writes `value` under `key` (or removes it) past every rule, as
    /// damage to the storage would, applied and synced.
    pub(crate) fn poke(&self, key: &[u8], value: Option<&[u8]>) {
        let mut s = self.state();
        match value {
            Some(v) => s.applied.insert(key.to_vec(), v.to_vec()),
            None => s.applied.remove(key),
        };
        s.synced = s.applied.clone();
    }
}

/// The engine a ledger uses; see [`MemoryHandle`].
pub(crate) struct MemoryEngine(MemoryHandle);

fn collect<'a>(entries: Vec<Entry>) -> Entries<'a> {
    Box::new(entries.into_iter().map(Ok))
}

impl Engine for MemoryEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.state().applied.get(key).cloned())
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Entries<'_> {
        if lo > hi {
            return collect(Vec::new());
        }
        let s = self.0.state();
        let found = s
            .applied
            .range(lo.to_vec()..=hi.to_vec())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        collect(found)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_> {
        let s = self.0.state();
        let found = s
            .applied
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        collect(found)
    }

    fn apply(&self, batch: Batch) -> Result<(), StorageError> {
        let mut s = self.0.state();
        if s.fails(true) {
            return Err(StorageError::msg(format!(
                "injected fault: write {} failed",
                s.applies
            )));
        }
        for (k, v) in batch.ops {
            match v {
                Some(v) => s.applied.insert(k, v),
                None => s.applied.remove(&k),
            };
        }
        Ok(())
    }

    fn sync(&self) -> Result<(), StorageError> {
        let mut s = self.0.state();
        if s.fails(false) {
            return Err(StorageError::msg(format!(
                "injected fault: sync {} failed",
                s.syncs
            )));
        }
        s.synced = s.applied.clone();
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.0.state().applied.is_empty())
    }
}
