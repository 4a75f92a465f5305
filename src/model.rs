//! Value types of the domain, each with a validating constructor, so that a
//! value that exists is a value that is allowed. Limits are enforced here and
//! nowhere else; `docs/FORMAT.md` lists them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::error::{Error, Result};

/// Longest `summary`, in characters.
pub const MAX_SUMMARY: usize = 1_000;
/// Longest `quote`, in characters.
pub const MAX_QUOTE: usize = 10_000;
/// Longest `speaker`, `source_title` and `recorded_by`, in characters.
pub const MAX_NAME: usize = 500;
/// Longest `source_url`, in bytes.
pub const MAX_URL: usize = 2_048;
/// Longest `reason` of an amendment or retraction, in characters.
pub const MAX_REASON: usize = 1_000;

/// Who made a statement: 2-16 characters of `A-Z 0-9 - _`, by convention an
/// ISO 3166-1 alpha-3 code (CHN, JPN, USA).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Actor(String);

impl Actor {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A code that skips validation, for tests that forge stored records.
    #[cfg(test)]
    pub(crate) fn unchecked(s: &str) -> Actor {
        Actor(s.to_owned())
    }
}

impl FromStr for Actor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let ok_len = (2..=16).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok_len && ok_chars {
            Ok(Actor(s.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "invalid actor {} (expected 2-16 characters of A-Z, 0-9, '-', '_', such as CHN or JPN)",
                excerpt(s)
            )))
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The subject of a statement, named as a proposition: a lowercase slug such
/// as `north-korea-sanctions-relief`, at most 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Issue(String);

impl Issue {
    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Issue {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let words_ok = s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !s.is_empty() && s.len() <= 64 && words_ok {
            Ok(Issue(s.to_owned()))
        } else {
            Err(Error::invalid(format!(
                "invalid issue {} (expected a lowercase slug like hong-kong-protests: a-z, 0-9 and single '-' between words, at most 64 characters)",
                excerpt(s)
            )))
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An actor's position on the proposition an issue names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// For the proposition.
    Support,
    /// Against the proposition.
    Oppose,
    /// Explicitly takes no side.
    Neutral,
    /// Parts for and parts against.
    Mixed,
}

impl Position {
    /// The lowercase name used in input, output and the hash chain.
    pub fn as_str(self) -> &'static str {
        match self {
            Position::Support => "support",
            Position::Oppose => "oppose",
            Position::Neutral => "neutral",
            Position::Mixed => "mixed",
        }
    }
}

impl FromStr for Position {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "support" => Ok(Position::Support),
            "oppose" => Ok(Position::Oppose),
            "neutral" => Ok(Position::Neutral),
            "mixed" => Ok(Position::Mixed),
            _ => Err(Error::invalid(format!(
                "unknown position {} (expected support, oppose, neutral or mixed)",
                excerpt(s)
            ))),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an error message quotes a value from the input: debug-escaped, so
/// control characters show as escapes, and cut to 64 characters, so that a
/// megabyte of garbage still gives a short one-line error.
pub fn excerpt(s: &str) -> String {
    const MAX_CHARS: usize = 64;
    match s.char_indices().nth(MAX_CHARS) {
        None => format!("{s:?}"),
        Some((end, _)) => format!("{:?}... ({} bytes)", &s[..end], s.len()),
    }
}

/// Parses a calendar date written `YYYY-MM-DD` (years 0001 to 9999), the only
/// form accepted so that dates sort and compare as written.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    // Exactly `DDDD-DD-DD`: no sign, so year 0 and negative years (which
    // chrono accepts, and which the index's day count cannot order) are out.
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if shape_ok && d.year() >= 1 => Ok(d),
        _ => Err(Error::invalid(format!(
            "invalid date {} (expected a real calendar date YYYY-MM-DD)",
            excerpt(s)
        ))),
    }
}

/// Parses a `--known-at` moment: RFC 3339 (any offset), or a bare date meaning
/// the end of that day in UTC, so `--known-at 2020-01-01` includes all of that day.
pub fn parse_moment(s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    match parse_date(s) {
        Ok(d) => {
            let end = NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).expect("valid time");
            Ok(d.and_time(end).and_utc())
        }
        Err(_) => Err(Error::invalid(format!(
            "invalid time {} (expected RFC 3339 such as 2020-01-01T12:00:00Z, or a date YYYY-MM-DD meaning the end of that day UTC)",
            excerpt(s)
        ))),
    }
}

/// Formats a ledger timestamp the one way it is shown and hashed: RFC 3339,
/// UTC, always six fractional digits.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Truncates a timestamp to whole microseconds, the ledger's precision.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("in range")
}

/// A statement as recorded: what an actor said about an issue, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Who said it.
    pub actor: Actor,
    /// The proposition it is about.
    pub issue: Issue,
    /// The actor's position on that proposition.
    pub position: Position,
    /// When it was said (valid time).
    pub stated_on: NaiveDate,
    /// A one-sentence account, required so every entry is readable on its own.
    pub summary: String,
    /// The words as quoted by the source, if any.
    pub quote: Option<String>,
    /// Who spoke for the actor.
    pub speaker: Option<String>,
    /// Where it was reported (http or https).
    pub source_url: Option<String>,
    /// The title of the report.
    pub source_title: Option<String>,
}

/// A correction of a recorded statement. Only the fields present change;
/// actor and issue never do (retract and record anew instead).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amendment {
    /// The id of the statement being corrected.
    pub target: uuid::Uuid,
    /// Why the correction was made, for the audit trail.
    pub reason: String,
    /// New position, if it changes.
    pub position: Option<Position>,
    /// New date, if it changes.
    pub stated_on: Option<NaiveDate>,
    /// New summary, if it changes.
    pub summary: Option<String>,
    /// New quote, if it changes.
    pub quote: Option<String>,
    /// New speaker, if it changes.
    pub speaker: Option<String>,
    /// New source URL, if it changes.
    pub source_url: Option<String>,
    /// New source title, if it changes.
    pub source_title: Option<String>,
}

/// The withdrawal of a statement: from then on it no longer counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retraction {
    /// The id of the statement withdrawn.
    pub target: uuid::Uuid,
    /// Why, for the audit trail.
    pub reason: String,
}

/// What the log holds: a fact, named in the past tense, that a command made
/// true. The stored form lives in the codec (`codec::v1`), so renaming a
/// variant here changes nothing on disk; the `type` strings of JSON and of
/// the hash chain are [`Fact::kind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// A statement was recorded (`statement`).
    StatementRecorded(Statement),
    /// A statement was amended (`amendment`).
    StatementAmended(Amendment),
    /// A statement was retracted (`retraction`).
    StatementRetracted(Retraction),
}

/// What a user asks the ledger to do. [`crate::decide`] turns a command
/// into the facts to append, or refuses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Record a statement.
    Record(Statement),
    /// Amend a recorded statement.
    Amend(Amendment),
    /// Retract a recorded statement.
    Retract(Retraction),
}

impl Command {
    /// The fact this command records if the rules allow it.
    pub fn into_fact(self) -> Fact {
        match self {
            Command::Record(s) => Fact::StatementRecorded(s),
            Command::Amend(a) => Fact::StatementAmended(a),
            Command::Retract(r) => Fact::StatementRetracted(r),
        }
    }
}

impl Fact {
    /// The command that records this fact: what a replay of the log asks
    /// the rules about each event.
    pub fn into_command(self) -> Command {
        match self {
            Fact::StatementRecorded(s) => Command::Record(s),
            Fact::StatementAmended(a) => Command::Amend(a),
            Fact::StatementRetracted(r) => Command::Retract(r),
        }
    }

    /// The event type as named in JSON and in the hash chain.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::StatementRecorded(_) => "statement",
            Fact::StatementAmended(_) => "amendment",
            Fact::StatementRetracted(_) => "retraction",
        }
    }

    /// The statement an amendment or retraction refers to.
    pub fn target(&self) -> Option<uuid::Uuid> {
        match self {
            Fact::StatementRecorded(_) => None,
            Fact::StatementAmended(a) => Some(a.target),
            Fact::StatementRetracted(r) => Some(r.target),
        }
    }

    /// Checks every field against the model's limits. Called on every payload
    /// before it is appended, whatever its origin (CLI flags, import, restore).
    pub fn validate(&self) -> Result<()> {
        match self {
            Fact::StatementRecorded(s) => s.validate(),
            Fact::StatementAmended(a) => a.validate(),
            Fact::StatementRetracted(r) => r.validate(),
        }
    }
}

impl Command {
    /// Checks every field against the model's limits; see [`Fact::validate`].
    pub fn validate(&self) -> Result<()> {
        match self {
            Command::Record(s) => s.validate(),
            Command::Amend(a) => a.validate(),
            Command::Retract(r) => r.validate(),
        }
    }

    /// The `type` of the fact this command records.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Record(_) => "statement",
            Command::Amend(_) => "amendment",
            Command::Retract(_) => "retraction",
        }
    }

    /// The date the command gives a statement, if it gives one.
    pub fn stated_on(&self) -> Option<NaiveDate> {
        match self {
            Command::Record(s) => Some(s.stated_on),
            Command::Amend(a) => a.stated_on,
            Command::Retract(_) => None,
        }
    }
}

impl Statement {
    fn validate(&self) -> Result<()> {
        let s = self;
        text("summary", &s.summary, MAX_SUMMARY, true)?;
        opt_text("quote", &s.quote, MAX_QUOTE)?;
        opt_text("speaker", &s.speaker, MAX_NAME)?;
        opt_text("source_title", &s.source_title, MAX_NAME)?;
        opt_url(&s.source_url)
    }
}

impl Amendment {
    fn validate(&self) -> Result<()> {
        let a = self;
        text("reason", &a.reason, MAX_REASON, true)?;
        if let Some(s) = &a.summary {
            text("summary", s, MAX_SUMMARY, true)?;
        }
        opt_text("quote", &a.quote, MAX_QUOTE)?;
        opt_text("speaker", &a.speaker, MAX_NAME)?;
        opt_text("source_title", &a.source_title, MAX_NAME)?;
        opt_url(&a.source_url)?;
        let changes_something = a.position.is_some()
            || a.stated_on.is_some()
            || a.summary.is_some()
            || a.quote.is_some()
            || a.speaker.is_some()
            || a.source_url.is_some()
            || a.source_title.is_some();
        if changes_something {
            Ok(())
        } else {
            Err(Error::invalid(
                "amendment changes nothing (give at least one of position, stated_on, summary, quote, speaker, source_url, source_title)",
            ))
        }
    }
}

impl Retraction {
    fn validate(&self) -> Result<()> {
        text("reason", &self.reason, MAX_REASON, true)
    }
}

/// Whether `c` is a bidirectional control or an invisible character
/// (zero-width spaces and joiners, directional marks, embeddings, overrides
/// and isolates, word joiners, invisible operators, the byte-order mark, the
/// line and paragraph separators): text made of them displays other than it
/// reads.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Whether `value` shows nothing: only whitespace and invisible characters.
pub(crate) fn is_blank(value: &str) -> bool {
    value.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// Checks a free-text field: no NUL (it breaks downstream tools), within its
/// length, and not blank (nothing but whitespace and invisible characters)
/// where it is required.
fn text(field: &str, value: &str, max_chars: usize, required: bool) -> Result<()> {
    if required && is_blank(value) {
        return Err(Error::invalid(format!("{field} must not be empty")));
    }
    if value.contains('\0') {
        return Err(Error::invalid(format!("{field} contains a NUL character")));
    }
    let n = value.chars().count();
    if n > max_chars {
        return Err(Error::invalid(format!(
            "{field} is {n} characters long (at most {max_chars})"
        )));
    }
    Ok(())
}

fn opt_text(field: &str, value: &Option<String>, max_chars: usize) -> Result<()> {
    match value {
        Some(v) => text(field, v, max_chars, false),
        None => Ok(()),
    }
}

fn opt_url(value: &Option<String>) -> Result<()> {
    let Some(url) = value else { return Ok(()) };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty()
    });
    let clean = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c));
    if !host_ok || !clean || url.len() > MAX_URL {
        return Err(Error::invalid(format!(
            "invalid source_url {} (expected an http:// or https:// URL without spaces, control or invisible characters, at most {MAX_URL} bytes)",
            excerpt(url)
        )));
    }
    Ok(())
}

/// Checks the name of whoever records an event: required, one line, bounded.
pub fn validate_author(name: &str) -> Result<()> {
    text("recorded_by", name, MAX_NAME, true)?;
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "recorded_by must not contain control characters",
        ));
    }
    if name.chars().any(is_invisible) {
        return Err(Error::invalid(
            "recorded_by must not contain bidirectional controls or invisible characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_codes_follow_the_convention() {
        assert!("CHN".parse::<Actor>().is_ok());
        assert!("EU-27".parse::<Actor>().is_ok());
        assert!("chn".parse::<Actor>().is_err());
        assert!("C".parse::<Actor>().is_err());
        assert!("ABCDEFGHIJKLMNOPQ".parse::<Actor>().is_err());
    }

    #[test]
    fn issue_slugs_are_lowercase_words() {
        assert!("hong-kong-protests".parse::<Issue>().is_ok());
        for bad in ["", "-a", "a-", "a--b", "Hong-kong", "a b", &"a".repeat(65)] {
            assert!(bad.parse::<Issue>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dates_must_be_real_and_full_width() {
        assert!(parse_date("2019-02-29").is_err());
        assert!(parse_date("2020-02-29").is_ok());
        assert!(parse_date("0001-01-01").is_ok());
        assert!(parse_date("9999-12-31").is_ok());
        assert!(parse_date("2019-1-5").is_err());
        for bad in [
            "0000-01-01",
            "0000-12-31",
            "-001-01-01",
            "+001-01-01",
            "2019-+1-05",
            "2019-01-+5",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn known_at_accepts_offsets_and_bare_dates() {
        let a = parse_moment("2020-01-01T09:00:00+09:00").unwrap();
        assert_eq!(format_timestamp(&a), "2020-01-01T00:00:00.000000Z");
        let b = parse_moment("2020-01-01").unwrap();
        assert_eq!(format_timestamp(&b), "2020-01-01T23:59:59.999999Z");
        assert!(parse_moment("yesterday").is_err());
    }

    #[test]
    fn urls_must_be_http() {
        let p = |u: &str| opt_url(&Some(u.to_owned()));
        assert!(p("https://asia.nikkei.com/x").is_ok());
        assert!(p("ftp://x").is_err());
        assert!(p("https://").is_err());
        assert!(p("https://a b").is_err());
    }
}
