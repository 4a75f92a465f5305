//! The storage boundary: the one narrow interface through which the ledger
//! reaches a storage engine.
//!
//! An engine is an ordered map of byte keys to byte values with three
//! promises: a [`Batch`] applies atomically (all of it or none of it, even
//! across a crash), reads see every applied batch, and [`Engine::sync`] makes
//! everything applied so far durable. Everything above it (key layout, the
//! hash chain, the rules, the commit protocol) is engine-agnostic.
//!
//! Three engines implement it: [`sled`](self::sled) (the embedded ledger on
//! disk, with sled's workarounds kept in its own module), `postgres` (a
//! ledger a team shares, with feature `postgres`) and
//! [`memory`](self::memory) (in process, with fault injection, so tests can
//! fail or "crash" a write at every step of a commit deterministically).

#[cfg(test)]
pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod sled;

use std::fmt;

/// A key-value pair read from an engine.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// A double-ended stream of entries in key order.
pub(crate) type Entries<'a> = Box<dyn DoubleEndedIterator<Item = Result<Entry, StorageError>> + 'a>;

/// The narrow interface of a storage engine (see the module docs).
pub(crate) trait Engine: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every entry with `lo <= key <= hi`, in key order.
    fn range(&self, lo: &[u8], hi: &[u8]) -> Entries<'_>;
    /// Every entry whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Entries<'_>;
    /// Applies every operation of `batch` atomically.
    fn apply(&self, batch: Batch) -> Result<(), StorageError>;
    /// Makes every applied batch durable before returning.
    fn sync(&self) -> Result<(), StorageError>;
    /// Whether the engine holds no entry at all.
    fn is_empty(&self) -> Result<bool, StorageError>;
    /// Whether the engine's batches join the read model's transaction and
    /// become durable with its commit (PostgreSQL), so that a failed write
    /// is undone by that transaction's rollback and nothing is left past
    /// the head to discard.
    fn transactional(&self) -> bool {
        false
    }
}

/// A set of inserts and removals that an [`Engine`] applies atomically.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Adds an insert.
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.ops.push((key.to_vec(), Some(value.to_vec())));
    }
    /// Adds a removal.
    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.ops.push((key.to_vec(), None));
    }
    /// How many operations it holds.
    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }
}

/// A failure of the storage engine, opaque to callers: its text says what
/// failed; which engine and which of its error types is nobody else's
/// business (and may change with the engine).
#[derive(Debug)]
pub struct StorageError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    disk_full: bool,
}

impl StorageError {
    /// An error with a message and no underlying cause.
    pub(crate) fn msg(message: impl Into<String>) -> StorageError {
        StorageError {
            message: message.into(),
            source: None,
            disk_full: false,
        }
    }

    /// The disk holding the ledger has no room left.
    pub(crate) fn disk_full() -> StorageError {
        StorageError {
            message: "the disk is full".into(),
            source: None,
            disk_full: true,
        }
    }

    /// Whether the failure was a full disk (nothing was written: the
    /// write it interrupted is undone).
    pub fn is_disk_full(&self) -> bool {
        self.disk_full
    }

    /// An error caused by `source`.
    pub(crate) fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StorageError {
        StorageError {
            message: message.into(),
            source: Some(Box::new(source)),
            disk_full: false,
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) if !self.message.is_empty() => write!(f, "{}: {s}", self.message),
            Some(s) => write!(f, "{s}"),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StorageError {}
