//! Value parsers for clap: each turns one argument into a domain value or a
//! usage error (exit 2) that says what was expected.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use stancelog::{parse_date, parse_hash, parse_moment, Actor, Digest, Issue, Position};

pub fn actor(s: &str) -> Result<Actor, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn issue(s: &str) -> Result<Issue, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn position(s: &str) -> Result<Position, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn date(s: &str) -> Result<NaiveDate, String> {
    parse_date(s).map_err(|e| e.to_string())
}

pub fn moment(s: &str) -> Result<DateTime<Utc>, String> {
    parse_moment(s).map_err(|e| e.to_string())
}

pub fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|_| format!("invalid id {s:?} (expected a UUID)"))
}

/// A required text flag: refused (a usage error) when it shows nothing,
/// being empty or only whitespace and invisible characters.
pub fn visible_text(s: &str) -> Result<String, String> {
    if s.chars()
        .all(|c| c.is_whitespace() || stancelog::is_invisible(c))
    {
        Err("must not be empty or blank; give some text".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

pub fn digest(s: &str) -> Result<Digest, String> {
    let s = s.trim();
    let bad = || format!("invalid digest {s:?} (expected SEQ:HASH as printed by `stancelog head`)");
    let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
    Ok(Digest {
        seq: seq.parse().map_err(|_| bad())?,
        hash: parse_hash(hash).ok_or_else(bad)?,
    })
}
