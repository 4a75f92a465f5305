//! Errors of the library, split so callers can tell a user's mistake (bad input,
//! unknown ids, rule violations) from a broken or busy ledger.
//!
//! Messages are lower-case, single-line and say what to do where that helps:
//! the CLI prints them as they are.

use std::path::PathBuf;

use chrono::NaiveDate;
use uuid::Uuid;

pub use crate::storage::StorageError;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request or input breaks a rule of the data model; nothing was written.
    #[error(transparent)]
    Rule(#[from] RuleViolation),

    /// An input line could not be accepted; carries the source name and 1-based line.
    #[error("{source_name}:{line}: {message}")]
    Input {
        /// The file name as given by the user (or `-` / `<stdin>`).
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the line.
        message: String,
    },

    /// A read command was pointed at a ledger that does not exist.
    #[error("no ledger at {0} (record or import something first, or pass --ledger PATH)")]
    NoLedger(PathBuf),

    /// A PostgreSQL database (or schema) where `stancelog init` never ran.
    #[error("no stancelog ledger in {0} (run `stancelog init {0}` to create one there)")]
    NotInitialised(String),

    /// Another process holds the ledger for longer than the caller wanted to wait.
    #[error(
        "ledger is in use by another process: {0} (waited {1} s; try again or pass --wait SECONDS)"
    )]
    Busy(PathBuf, u64),

    /// `--known-at seq:N` names a seq past the head.
    #[error("there is no seq {seq} in this ledger: its head is seq {head} (`stancelog log` lists the seqs)")]
    NoSuchSeq {
        /// The seq asked for.
        seq: u64,
        /// The ledger's head.
        head: u64,
    },

    /// A short id (a prefix of a statement's id) that names no statement.
    #[error(
        "no statement id starts with {0} (`stancelog history` and `stancelog log` show the ids)"
    )]
    UnknownIdPrefix(String),

    /// A short id that is the prefix of several statements' ids.
    #[error("the id prefix {prefix} is ambiguous: it starts {}; give more of the id", candidates.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", "))]
    AmbiguousIdPrefix {
        /// The prefix given.
        prefix: String,
        /// Some of the ids it starts (at most ten).
        candidates: Vec<Uuid>,
    },

    /// A stored record or index entry does not match what the log says.
    #[error("corrupt ledger at seq {seq}: {message}")]
    Corrupt {
        /// The first log position at which the fault shows.
        seq: u64,
        /// What is wrong there.
        message: String,
    },

    /// The log holds fewer events than the read model witnessed as
    /// acknowledged: storage lost them (a damaged or truncated file).
    #[error("the log of the ledger at {} lost acknowledged events after seq {log_seq} (the read model witnessed seq {model_seq}); run `stancelog repair` to re-append them from the read model", path.display())]
    LogBehind {
        /// The ledger.
        path: PathBuf,
        /// The log's committed head.
        log_seq: u64,
        /// The read model's watermark.
        model_seq: u64,
    },

    /// The log's files are damaged or gone, but the read model witnessed
    /// what it held: `repair` rebuilds the log from the read model.
    #[error("the log of the ledger at {} is damaged ({cause}); the read model witnessed seq {model_seq}: run `stancelog repair` to rebuild the log from it (the damaged files are kept aside)", path.display())]
    LogDamaged {
        /// The ledger.
        path: PathBuf,
        /// The read model's watermark.
        model_seq: u64,
        /// What failed.
        cause: String,
    },

    /// The machine's clock is far behind the ledger's last write: stamping
    /// new writes with the head's time would hide how wrong it is.
    #[error("this machine's clock says {clock}, more than a day before the ledger's last write at {head}; set the clock right and try again (nothing was written)")]
    ClockBehind {
        /// The clock's time.
        clock: String,
        /// The head's recorded_at.
        head: String,
    },

    /// A write was asked of a ledger opened only for reading.
    #[error("the ledger at {} was opened for reading only", .0.display())]
    ReadOnly(PathBuf),

    /// The directory holds something other than a stancelog ledger.
    #[error("{0} is not a stancelog ledger")]
    NotALedger(PathBuf),

    /// The ledger's log is in a format this version cannot read.
    #[error("ledger log format version {0:?} is not supported by this stancelog (expects {1})")]
    UnsupportedFormat(Vec<u8>, u8),

    /// A stored record could not be decoded.
    #[error("cannot decode record: {0}")]
    Decode(String),

    /// The storage engine failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),

    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, and to which path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Shorthand for a malformed or out-of-limits value.
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::Rule(RuleViolation::InvalidValue(msg.into()))
    }

    /// Wraps an I/O error with a context that names the path or action.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// ` (did you mean a or b?)`, or nothing without suggestions.
fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        [rest @ .., last] => format!(" (did you mean {} or {last}?)", rest.join(", ")),
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A request the rules refuse, by kind, so that a caller can map each to its
/// own answer (an HTTP layer: 404 for an unknown target, 409 for a conflict
/// with what the ledger holds, 422 for a malformed request). The text of
/// each is the one-line message the CLI prints.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleViolation {
    /// A value is malformed or outside its limits (422).
    #[error("{0}")]
    InvalidValue(String),
    /// An amendment or retraction names no event of the ledger (404).
    #[error("cannot {verb} {target}: no such statement")]
    UnknownTarget {
        /// `amend` or `retract`.
        verb: &'static str,
        /// The id it names.
        target: Uuid,
    },
    /// An amendment or retraction names an event that is not a statement (422).
    #[error(
        "cannot {verb} {target}: it is an {kind}, not a statement (target the statement's id)"
    )]
    NotAStatement {
        /// `amend` or `retract`.
        verb: &'static str,
        /// The id it names.
        target: Uuid,
        /// The kind of event that id has.
        kind: &'static str,
    },
    /// The statement was retracted; nothing may change it any more (409).
    #[error("cannot {verb} {target}: the statement is already retracted (record a new statement instead)")]
    AlreadyRetracted {
        /// `amend` or `retract`.
        verb: &'static str,
        /// The statement's id.
        target: Uuid,
    },
    /// The id is taken by an event with other content (409).
    #[error("id {id} is already used by a different event (seq {seq})")]
    IdInUse {
        /// The id.
        id: Uuid,
        /// Where the other event is.
        seq: u64,
    },
    /// A statement dated more than a day after the day it is recorded (422).
    #[error("stated_on {stated_on} is after the recording date {recorded_on} (statements cannot come from the future; up to one day past the UTC date is accepted, for time zones up to UTC+14)")]
    FromTheFuture {
        /// The date given.
        stated_on: NaiveDate,
        /// The day of recording.
        recorded_on: NaiveDate,
    },
    /// A UUID v5 id (a content id) that is not the content id of the
    /// event it arrives with: altered content under a genuine id (422).
    #[error("id {id} is a content id (UUID v5) but not of this content (which would be {expected}): the line was altered, or the id comes from elsewhere (give your own ids as UUID v4 or v7)")]
    ContentIdMismatch {
        /// The id given.
        id: Uuid,
        /// The content id of the content given.
        expected: Uuid,
    },
    /// A repeat of a request that a later event undid (409): recording a
    /// statement again after its retraction, or re-applying a correction
    /// that a later amendment replaced.
    #[error("{kind} {id} is already at seq {seq}, but seq {superseded_by} has since {undone}; nothing was added ({hint})")]
    Superseded {
        /// `statement` or `amendment`.
        kind: &'static str,
        /// Its id.
        id: Uuid,
        /// Where it is.
        seq: u64,
        /// The event that undid it.
        superseded_by: u64,
        /// What that event did.
        undone: &'static str,
        /// How to apply it again.
        hint: &'static str,
    },
    /// An amendment whose every field already has the value it gives (422).
    #[error("the amendment changes nothing: every field it gives already has that value in statement {target}")]
    AmendsNothing {
        /// The statement.
        target: Uuid,
    },
    /// A naming request that conflicts with what the ledger holds (409): an
    /// alias that another issue's slug or alias already has, an issue
    /// defined twice, a slug merged away used again.
    #[error("{0}")]
    Conflict(String),
    /// A naming request about something the ledger does not hold (404):
    /// rewording an issue never defined, removing an alias it does not have.
    #[error("{0}")]
    NotFound(String),
    /// An actor code that is neither ISO 3166-1 alpha-3, built in, nor
    /// defined in the ledger (422); the message says what to use instead.
    #[error("{0}")]
    UnknownActor(String),
    /// A name that no issue of the ledger has (404), with the nearest names.
    #[error("no issue {name} in this ledger{}", did_you_mean(.suggestions))]
    UnknownIssue {
        /// The name asked for.
        name: String,
        /// The nearest names the ledger has.
        suggestions: Vec<String>,
    },
    /// A name that several issues answer to (422).
    #[error("{name} is ambiguous: it names {} (give the slug)", .candidates.join(", "))]
    AmbiguousIssue {
        /// The name asked for.
        name: String,
        /// The slugs it names.
        candidates: Vec<String>,
    },
    /// A reinstatement of a statement that is not retracted (409).
    #[error("cannot reinstate {target}: the statement is not retracted")]
    NotRetracted {
        /// The statement's id.
        target: Uuid,
    },
    /// A restore into a ledger that already holds events (409).
    #[error("the ledger at {} is not empty (head at seq {head_seq}); restore only into a new or empty ledger", path.display())]
    NotEmpty {
        /// The ledger.
        path: PathBuf,
        /// Its head.
        head_seq: u64,
    },
}
