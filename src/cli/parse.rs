//! Value parsers for clap: each turns one argument into a domain value or a
//! usage error (exit 2) that says what was expected.

use chrono::NaiveDate;
use uuid::Uuid;

use stancelog::{
    is_id_prefix, parse_date, parse_hash, Actor, ActorKind, Attribution, Digest, Issue, KnownAt,
    Position, Qualifier, SpeakerRole, StatedOn, MIN_ID_PREFIX,
};

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

pub fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|_| format!("invalid id {s:?} (expected a UUID)"))
}

/// `--known-at`: `seq:N`, an RFC 3339 moment, or a date (the end of that day UTC).
pub fn known_at(s: &str) -> Result<KnownAt, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

/// A statement named by its id or by a short id (a prefix of it).
#[derive(Clone, Debug)]
pub enum StatementRef {
    /// A whole id.
    Id(Uuid),
    /// At least [`MIN_ID_PREFIX`] of its first hex digits.
    Prefix(String),
}

impl StatementRef {
    /// The id it names: a short id is looked up in the read model (no lock,
    /// so it never waits for a writer; ids never change once recorded).
    pub fn resolve(&self, g: &super::Global) -> anyhow::Result<Uuid> {
        match self {
            StatementRef::Id(id) => Ok(*id),
            StatementRef::Prefix(p) => Ok(super::open::open_read(g)?.statement_id(p)?),
        }
    }
}

pub fn statement_ref(s: &str) -> Result<StatementRef, String> {
    if let Ok(id) = Uuid::parse_str(s) {
        return Ok(StatementRef::Id(id));
    }
    if !is_id_prefix(s) {
        return Err(format!(
            "invalid id {s:?} (expected a UUID, or at least {MIN_ID_PREFIX} of its first hex digits as `stancelog history` shows them)"
        ));
    }
    Ok(StatementRef::Prefix(s.to_owned()))
}

/// An issue as a user names it (a slug or an alias): visible text without
/// control, bidirectional or invisible characters, which neither slugs nor
/// aliases can hold, so such a name is a usage error, not an unknown issue.
pub fn issue_name(s: &str) -> Result<String, String> {
    let s = visible_text(s)?;
    if s.chars()
        .any(|c| c.is_control() || stancelog::is_invisible(c))
    {
        return Err(format!(
            "invalid issue {s:?}: control, bidirectional and invisible characters are in no slug or alias"
        ));
    }
    Ok(s)
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

pub fn stated_on(s: &str) -> Result<StatedOn, String> {
    stancelog::parse_stated_on(s).map_err(|e| e.to_string())
}

pub fn qualifier(s: &str) -> Result<Qualifier, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn attribution(s: &str) -> Result<Attribution, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn speaker_role(s: &str) -> Result<SpeakerRole, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}

pub fn actor_kind(s: &str) -> Result<ActorKind, String> {
    s.parse().map_err(|e: stancelog::Error| e.to_string())
}
