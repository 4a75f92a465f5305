//! stancelog: an event-sourced, tamper-evident ledger of diplomatic positions.
//!
//! Every statement a country makes on an issue is appended as an immutable
//! event to a log in an embedded sled database; mistakes are fixed by
//! appending amendments and retractions. Indexes derived from the log answer
//! "what was X's stance on Y as of a date" (valid time) "as the ledger knew
//! it at a moment" (transaction time) with an index seek.
//!
//! ```
//! use stancelog::{Ledger, OpenOptions, Context, Request, Payload, Statement, Position};
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
//! };
//! let req = Request { id: None, payload: Payload::Statement(statement) };
//! ledger.append([Ok(req)], &mut ctx).unwrap();
//! let stance = ledger
//!     .stance(&"JPN".parse().unwrap(), &"north-korea-sanctions-relief".parse().unwrap(),
//!             "2020-01-01".parse().unwrap(), None)
//!     .unwrap()
//!     .unwrap();
//! assert_eq!(stance.position, Position::Oppose);
//! ```
//!
//! Modules in reading order: [`model`] (values and limits), [`event`]
//! (the envelope), [`chain`] (hashes and ids), [`codec`] (stored bytes),
//! [`index`] (key layout), [`decide`] (rules), [`projection`] (folding),
//! [`store`] (sled), [`append`] (the write path) with [`runs`] (sorting its
//! version entries), [`replay`], [`query`],
//! [`audit`] (verify), [`wire`] and [`import`] (JSON), [`restore`] (from an
//! export), [`ledger`] (front door).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod append;
pub mod audit;
pub mod chain;
pub mod codec;
pub mod decide;
pub mod error;
pub mod event;
pub mod import;
pub mod index;
pub mod ledger;
pub mod model;
pub mod projection;
pub mod query;
pub mod replay;
pub mod restore;
pub mod runs;
pub mod store;
pub mod wire;

pub use append::{Context, Outcome, Summary};
pub use decide::Request;
pub use error::{Error, Result};
pub use event::Event;
pub use ledger::Ledger;
pub use model::{Actor, Amendment, Issue, Payload, Position, Retraction, Statement};
pub use store::OpenOptions;
