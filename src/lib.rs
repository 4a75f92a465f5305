//! stancelog: an event-sourced, tamper-evident ledger of diplomatic positions.
//!
//! Every statement a country makes on an issue is appended as an immutable
//! event to a log in an embedded sled database; mistakes are fixed by
//! appending amendments and retractions. Indexes derived from the log answer
//! "what was X's stance on Y as of a date" (valid time) "as the ledger knew
//! it at a moment" (transaction time) with an index seek.
//!
//! ```
//! use stancelog::{Command, Context, Ledger, OpenOptions, Position, Request, Statement};
//! let dir = tempfile::tempdir().unwrap();
//! let ledger = Ledger::open(dir.path(), &OpenOptions { create: true, ..Default::default() }).unwrap();
//! let clock = || "2019-12-24T00:00:00Z".parse().unwrap();
//! let mut ctx = Context { author: "analyst".into(), clock: &clock, progress: None };
//! let statement = Statement {
//!     actor: "JPN".parse().unwrap(),
//!     issue: "north-korea-sanctions-relief".parse().unwrap(),
//!     position: Position::Oppose,
//!     stated_on: "2019-12-23".parse().unwrap(),
//!     summary: "Too soon to consider easing sanctions on Pyongyang.".into(),
//!     quote: None, speaker: None, source_url: None, source_title: None,
//!     details: Default::default(),
//! };
//! let req = Request { id: None, command: Command::Record(statement) };
//! ledger.append([Ok(req)], &mut ctx).unwrap();
//! let stance = ledger
//!     .stance(&"JPN".parse().unwrap(), &"north-korea-sanctions-relief".parse().unwrap(),
//!             "2020-01-01".parse().unwrap(), None)
//!     .unwrap()
//!     .unwrap();
//! assert_eq!(stance.position, Position::Oppose);
//! ```
//!
//! # The API
//!
//! A [`Ledger`] opened at a path takes [`Request`]s (a [`Command`] and,
//! optionally, the id its fact must have), decides them by the rules and
//! appends the [`Fact`]s they produce inside an [`Event`] envelope; queries
//! return [`Stance`]s, [`StatementView`]s and [`Change`]s, one at a time or
//! several from one [`Snapshot`] of the same moment ([`Ledger::snapshot`],
//! which pictures and reports use); [`Wire`] is the
//! JSON form of an event that `import`, `export` and `restore` use. Every
//! write goes through the rules and the hash chain: nothing here writes past
//! them. Errors are an [`Error`], whose [`RuleViolation`]s say which rule a
//! request broke, and whose [`StorageError`] is opaque.
//!
//! The modules are private; docs/ARCHITECTURE.md maps them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actors;
mod analysis;
mod append;
mod audit;
mod axis;
mod catalogue;
mod chain;
mod codec;
mod decide;
mod derive;
mod error;
mod event;
#[cfg(test)]
mod fault_tests;
mod import;
mod info;
// Public only to the project's own tests and bench (see `internals`).
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod index;
#[cfg(not(feature = "internals"))]
mod index;
mod ledger;
mod model;
mod names;
mod projection;
mod query;
mod readmodel;
mod replay;
mod restore;
mod storage;
mod store;
mod wire;
mod writer;

pub use analysis::{agreement, Comparison, Shared, Shift, ShiftKind};
pub use append::{Context, Outcome, Summary};
pub use audit::{Digest, Report};
pub use axis::KnownAt;
pub use catalogue::{ActorInfo, AliasInfo, IssueInfo, Wording};
pub use chain::{content_id, hex_hash, parse_hash};
pub use decide::Request;
pub use error::{Error, Result, RuleViolation, StorageError};
pub use event::{Event, Hash, GENESIS};
pub use import::MAX_LINE;
pub use info::Info;
pub use ledger::Ledger;
pub use model::{
    format_timestamp, is_invisible, parse_date, parse_moment, parse_stated_on, validate_author,
    Actor, ActorDefinition, ActorKind, Alias, AliasRemoval, Amendment, Attribution, Command,
    Details, Fact, Issue, IssueDefinition, IssueMerge, IssueRewording, Position, Precision,
    Qualifier, Reinstatement, Retraction, Source, SpeakerRole, StatedOn, Statement, KINDS,
    MAX_NAME, MAX_QUOTE, MAX_REASON, MAX_SOURCES, MAX_SUMMARY, MAX_URL, MAX_USED_BY,
};
pub use names::normalise as normalise_name;
pub use projection::{Edit, Stance, StatementView};
pub use query::{Authorship, Change, Filter, Snapshot};
pub use readmodel::{is_id_prefix, FILE_NAME as READ_MODEL_FILE, MIN_ID_PREFIX};
pub use restore::{Restored, RESTORE_SKEW};
#[cfg(feature = "postgres")]
pub use storage::postgres::{is_url as is_postgres_url, shown_address as shown_postgres_address};
pub use store::{Head, OpenOptions, BULK_CACHE_BYTES};
pub use wire::{split_sources, Wire, WireSource};

/// Internals for this project's own tests and benchmark harness only:
/// pure functions of the stored format and sizes of the write path. No
/// stability promise, and nothing here writes to a ledger. Enabled by the
/// `internals` feature, which the test suite turns on.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::actors::iso_codes;
    pub use crate::append::BATCH_EVENTS;
    pub use crate::chain::event_hash;
    pub use crate::derive::{Derived, Version};
    pub use crate::import::Lines;
    pub use crate::index;
    pub use crate::projection::{fold_stances, fold_statements};
    pub use crate::replay::Replay;
    pub use crate::storage::sled::REOPEN_AFTER_WRITES;
    /// The sled settings of a ledger directory (compression on for a new
    /// one, as stored for an existing one): the bench's raw-sled floors
    /// and the tests that edit sled directly open it this way.
    pub use crate::storage::sled::{
        config as sled_config, COMPRESSION_FACTOR as SLED_COMPRESSION_FACTOR,
    };

    /// The stored record format.
    pub mod codec {
        pub use crate::codec::{decode, encode, FORMAT_V1, FORMAT_V2};
    }
}
