//! Errors of the library, split so callers can tell a user's mistake (bad input,
//! unknown ids, rule violations) from a broken or busy ledger.
//!
//! Messages are lower-case, single-line and say what to do where that helps:
//! the CLI prints them as they are.

use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or input breaks a rule of the data model; nothing was written.
    #[error("{0}")]
    Invalid(String),

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

    /// Another process holds the ledger for longer than the caller wanted to wait.
    #[error(
        "ledger is in use by another process: {0} (waited {1} s; try again or pass --wait SECONDS)"
    )]
    Busy(PathBuf, u64),

    /// A stored record or index entry does not match what the log says.
    #[error("corrupt ledger at seq {seq}: {message}")]
    Corrupt {
        /// The first log position at which the fault shows.
        seq: u64,
        /// What is wrong there.
        message: String,
    },

    /// A stored record could not be decoded.
    #[error("cannot decode record: {0}")]
    Decode(String),

    /// The storage engine failed.
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),

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
    /// Shorthand for a rule violation.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    /// Wraps an I/O error with a context that names the path or action.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
