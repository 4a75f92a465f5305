//! The transaction-time axis: where on it a query stands. "As known at" is
//! either a moment (the last event recorded at or before it) or a position
//! in the log (right after seq N), which is how an analyst names "the
//! ledger just before that correction" without copying a timestamp.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{excerpt, parse_moment};

/// A point on the transaction-time axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KnownAt {
    /// Everything the ledger holds (its head).
    #[default]
    Now,
    /// The events recorded at or before this moment.
    Time(DateTime<Utc>),
    /// The events up to and including this seq: the ledger right after it.
    Seq(u64),
}

impl From<DateTime<Utc>> for KnownAt {
    fn from(t: DateTime<Utc>) -> Self {
        KnownAt::Time(t)
    }
}

impl From<Option<DateTime<Utc>>> for KnownAt {
    fn from(t: Option<DateTime<Utc>>) -> Self {
        t.map_or(KnownAt::Now, KnownAt::Time)
    }
}

impl FromStr for KnownAt {
    type Err = Error;

    /// `seq:N`, or a moment as [`parse_moment`] reads it (RFC 3339, or a
    /// date meaning the end of that day UTC).
    fn from_str(s: &str) -> Result<KnownAt> {
        let Some(n) = s.strip_prefix("seq:") else {
            return parse_moment(s)
                .map(KnownAt::Time)
                .map_err(|_| {
                    Error::invalid(format!(
                        "invalid --known-at {} (expected seq:N, RFC 3339 such as 2020-01-01T12:00:00Z, or a date YYYY-MM-DD meaning the end of that day UTC)",
                        excerpt(s)
                    ))
                });
        };
        n.parse().map(KnownAt::Seq).map_err(|_| {
            Error::invalid(format!(
                "invalid --known-at {} (expected seq:N with N a whole number, as `stancelog log` shows)",
                excerpt(s)
            ))
        })
    }
}

impl fmt::Display for KnownAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnownAt::Now => f.write_str("now"),
            KnownAt::Time(t) => f.write_str(&crate::model::format_timestamp(t)),
            KnownAt::Seq(n) => write!(f, "seq:{n}"),
        }
    }
}

/// The last seq a query at `known` sees, given the head and a lookup of the
/// last seq recorded at or before a moment. A seq past the head is refused:
/// answering with the head would claim knowledge of events that do not exist.
pub(crate) fn resolve(
    known: KnownAt,
    head: u64,
    at_time: impl FnOnce(&DateTime<Utc>) -> Result<u64>,
) -> Result<u64> {
    match known {
        KnownAt::Now => Ok(head),
        KnownAt::Time(t) => at_time(&t),
        KnownAt::Seq(n) if n <= head => Ok(n),
        KnownAt::Seq(seq) => Err(Error::NoSuchSeq { seq, head }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positions_and_moments() {
        assert_eq!("seq:0".parse::<KnownAt>().unwrap(), KnownAt::Seq(0));
        assert_eq!("seq:42".parse::<KnownAt>().unwrap(), KnownAt::Seq(42));
        let t: KnownAt = "2020-01-01".parse().unwrap();
        assert_eq!(
            t,
            KnownAt::Time("2020-01-01T23:59:59.999999Z".parse().unwrap())
        );
        for bad in ["seq:", "seq:-1", "seq:1.5", "seq: 3", "yesterday"] {
            let e = bad.parse::<KnownAt>().unwrap_err().to_string();
            assert!(e.contains("--known-at"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_seq_past_the_head_is_refused_not_clamped() {
        let never = |_: &DateTime<Utc>| -> Result<u64> { unreachable!() };
        assert_eq!(resolve(KnownAt::Seq(3), 3, never).unwrap(), 3);
        assert_eq!(resolve(KnownAt::Seq(0), 3, never).unwrap(), 0);
        assert_eq!(resolve(KnownAt::Now, 3, never).unwrap(), 3);
        let e = resolve(KnownAt::Seq(4), 3, never).unwrap_err();
        assert!(matches!(e, Error::NoSuchSeq { seq: 4, head: 3 }), "{e}");
        assert_eq!(resolve(KnownAt::Time(Utc::now()), 3, |_| Ok(2)).unwrap(), 2);
    }
}
