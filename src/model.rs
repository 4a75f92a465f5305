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
    /// Every position, in declaration order (the read model's codes).
    pub const ALL: [Position; 4] = [
        Position::Support,
        Position::Oppose,
        Position::Neutral,
        Position::Mixed,
    ];

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
    /// Everything added by record format 2 (qualifiers, attribution,
    /// sources, coarse dates...): all optional, and a statement that uses
    /// none of it is stored and hashed exactly as before.
    pub details: Details,
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
    /// How precise the new `stated_on` is (only with `stated_on`; `None`
    /// means a day).
    pub stated_on_precision: Option<Precision>,
}

/// The withdrawal of a statement: from then on it no longer counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retraction {
    /// The id of the statement withdrawn.
    pub target: uuid::Uuid,
    /// Why, for the audit trail.
    pub reason: String,
}

/// A string-named enum: its names in input, output and the hash chain.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v),+
        }

        impl $name {
            /// Every value, in canonical order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The name used in input, output and the hash chain.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s),+
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(Error::invalid(format!(
                        concat!("unknown ", $what, " {} (expected {})"),
                        excerpt(s),
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// How precisely a statement's date is known. A coarse date counts from
    /// the last day of its period, so the ledger never claims a position
    /// earlier than it can show.
    Precision, "stated_on precision", {
        /// `YYYY-MM-DD`.
        Day = "day",
        /// `YYYY-MM`: in force from the month's last day.
        Month = "month",
        /// `YYYY`: in force from 31 December.
        Year = "year",
    }
);

named_enum!(
    /// A hedge on a position.
    Qualifier, "qualifier", {
        /// "Too soon": against it for now, not in principle.
        NotYet = "not-yet",
        /// Only under a condition (the statement's `condition`).
        Conditional = "conditional",
        /// In principle, without commitment to act.
        InPrinciple = "in-principle",
        /// A restatement of a standing position.
        Reiterated = "reiterated",
    }
);

named_enum!(
    /// Whose words a statement reports.
    Attribution, "attribution", {
        /// Said on the record by the actor (the default).
        OnRecord = "on-record",
        /// An unnamed source of the actor's.
        Anonymous = "anonymous",
        /// Reported by a third party (`reported_by`).
        Reported = "reported",
        /// The analyst's inference (from a co-sponsorship, a vote...).
        Inferred = "inferred",
    }
);

named_enum!(
    /// The office of whoever spoke for the actor.
    SpeakerRole, "speaker_role", {
        /// Head of state.
        HeadOfState = "head-of-state",
        /// Head of government.
        HeadOfGovernment = "head-of-government",
        /// Foreign minister.
        ForeignMinister = "foreign-minister",
        /// Spokesperson.
        Spokesperson = "spokesperson",
        /// Another official.
        Official = "official",
        /// A legislature or its members.
        Legislature = "legislature",
        /// An envoy or ambassador.
        Envoy = "envoy",
        /// State media.
        StateMedia = "state-media",
        /// Anything else.
        Other = "other",
    }
);

named_enum!(
    /// What kind of actor a ledger-defined code names.
    ActorKind, "actor kind", {
        /// A state.
        State = "state",
        /// An international organisation.
        Organisation = "organisation",
        /// A party.
        Party = "party",
        /// Anything else.
        Other = "other",
    }
);

/// A dated statement's date as given: the day it counts from (the last day
/// of a coarse period) and how precise it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatedOn {
    /// The day the statement counts from.
    pub date: NaiveDate,
    /// How precise the date given was.
    pub precision: Precision,
}

impl StatedOn {
    /// The date as the user gave it (`1994`, `2019-12`, `2019-12-23`).
    pub fn as_given(date: NaiveDate, precision: Precision) -> String {
        match precision {
            Precision::Day => date.format("%Y-%m-%d").to_string(),
            Precision::Month => date.format("%Y-%m").to_string(),
            Precision::Year => date.format("%Y").to_string(),
        }
    }

    /// Whether `date` is a day a coarse date of this precision can mean
    /// (the last day of its period).
    pub fn fits(date: NaiveDate, precision: Precision) -> bool {
        match precision {
            Precision::Day => true,
            Precision::Month => (date + chrono::Days::new(1)).month() != date.month(),
            Precision::Year => date.month() == 12 && date.day() == 31,
        }
    }
}

/// Parses `stated_on` as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a coarse date
/// becomes the last day of its period.
pub fn parse_stated_on(s: &str) -> Result<StatedOn> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let bad = || {
        Error::invalid(format!(
            "invalid date {} (expected YYYY-MM-DD, or YYYY-MM or YYYY for a date known only to the month or year)",
            excerpt(s)
        ))
    };
    match s.len() {
        4 if digits(s) => {
            let y: i32 = s.parse().map_err(|_| bad())?;
            let d = NaiveDate::from_ymd_opt(y, 12, 31)
                .filter(|_| y >= 1)
                .ok_or_else(bad)?;
            Ok(StatedOn {
                date: d,
                precision: Precision::Year,
            })
        }
        7 if digits(&s[..4]) && &s[4..5] == "-" && digits(&s[5..]) => {
            let y: i32 = s[..4].parse().map_err(|_| bad())?;
            let m: u32 = s[5..].parse().map_err(|_| bad())?;
            let first = NaiveDate::from_ymd_opt(y, m, 1)
                .filter(|_| y >= 1)
                .ok_or_else(bad)?;
            let last = first
                .checked_add_months(chrono::Months::new(1))
                .map(|n| n - chrono::Days::new(1))
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid"));
            Ok(StatedOn {
                date: last,
                precision: Precision::Month,
            })
        }
        _ => parse_date(s)
            .map(|date| StatedOn {
                date,
                precision: Precision::Day,
            })
            .map_err(|_| bad()),
    }
}

/// One source of a statement. At least one of the four is given.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Source {
    /// Where (http or https).
    pub url: Option<String>,
    /// The report's title.
    pub title: Option<String>,
    /// Who published it.
    pub publisher: Option<String>,
    /// When it was published.
    pub published_on: Option<NaiveDate>,
}

impl Source {
    fn validate(&self) -> Result<()> {
        opt_url(&self.url)?;
        opt_text("source title", &self.title, MAX_NAME)?;
        opt_text("source publisher", &self.publisher, MAX_NAME)?;
        if self.url.is_none() && self.title.is_none() && self.publisher.is_none() {
            return Err(Error::invalid(
                "a source needs at least one of url, title and publisher",
            ));
        }
        Ok(())
    }
}

/// The optional fields of a statement added in record format 2. The
/// default is a statement of format 1: dated to the day, on the record,
/// unqualified, with at most the one source of `source_url`/`source_title`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// How precise `stated_on` is; `None` means a day.
    pub stated_on_precision: Option<Precision>,
    /// Hedges, in canonical order, without repeats.
    pub qualifiers: Vec<Qualifier>,
    /// The condition of a `conditional` position (required with it).
    pub condition: Option<String>,
    /// Whose words; `None` means on the record.
    pub attribution: Option<Attribution>,
    /// Who reported it (required with `reported`).
    pub reported_by: Option<String>,
    /// The speaker's office.
    pub speaker_role: Option<SpeakerRole>,
    /// Every source, when more than `source_url`/`source_title` can say
    /// (then those two are absent and the first source here is the first).
    pub sources: Vec<Source>,
    /// The language of `quote` (a BCP 47 tag such as `ja` or `zh-Hans`).
    pub quote_lang: Option<String>,
    /// An English translation of `quote`.
    pub translation: Option<String>,
}

impl Details {
    fn validate(&self, s: &Statement) -> Result<()> {
        if let Some(p) = self.stated_on_precision {
            if p == Precision::Day {
                return Err(Error::invalid(
                    "stated_on_precision day is the default and is left out",
                ));
            }
            if !StatedOn::fits(s.stated_on, p) {
                return Err(Error::invalid(format!(
                    "stated_on {} is not the last day of its {p} (a coarse date counts from the last day of its period)",
                    s.stated_on
                )));
            }
        }
        let mut sorted = self.qualifiers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted != self.qualifiers {
            return Err(Error::invalid(
                "qualifiers must be given once each, in the order not-yet, conditional, in-principle, reiterated",
            ));
        }
        let conditional = self.qualifiers.contains(&Qualifier::Conditional);
        match (&self.condition, conditional) {
            (None, true) => {
                return Err(Error::invalid(
                    "qualifier conditional needs a condition (--condition TEXT)",
                ))
            }
            (Some(_), false) => {
                return Err(Error::invalid(
                    "a condition is given only with the qualifier conditional",
                ))
            }
            _ => {}
        }
        if let Some(c) = &self.condition {
            text("condition", c, MAX_SUMMARY, true)?;
        }
        if self.attribution == Some(Attribution::OnRecord) {
            return Err(Error::invalid(
                "attribution on-record is the default and is left out",
            ));
        }
        let reported = self.attribution == Some(Attribution::Reported);
        match (&self.reported_by, reported) {
            (None, true) => {
                return Err(Error::invalid(
                    "attribution reported needs reported_by (who reported it)",
                ))
            }
            (Some(_), false) => {
                return Err(Error::invalid(
                    "reported_by is given only with attribution reported",
                ))
            }
            _ => {}
        }
        if let Some(r) = &self.reported_by {
            text("reported_by", r, MAX_NAME, true)?;
        }
        if !self.sources.is_empty() {
            if s.source_url.is_some() || s.source_title.is_some() {
                return Err(Error::invalid(
                    "give sources either as source_url/source_title or as sources, not both",
                ));
            }
            if self.sources.len() > MAX_SOURCES {
                return Err(Error::invalid(format!(
                    "{} sources (at most {MAX_SOURCES})",
                    self.sources.len()
                )));
            }
            if self.sources.len() == 1
                && self.sources[0].publisher.is_none()
                && self.sources[0].published_on.is_none()
            {
                return Err(Error::invalid(
                    "a single source with only a url and title is given as source_url/source_title",
                ));
            }
            for src in &self.sources {
                src.validate()?;
            }
        }
        if let Some(l) = &self.quote_lang {
            validate_lang("quote_lang", l)?;
            if s.quote.is_none() {
                return Err(Error::invalid("quote_lang is given only with a quote"));
            }
        }
        if let Some(t) = &self.translation {
            text("translation", t, MAX_QUOTE, true)?;
            if s.quote.is_none() {
                return Err(Error::invalid("a translation is given only with a quote"));
            }
        }
        Ok(())
    }

    /// Whether nothing of format 2 is used.
    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// Most sources one statement cites.
pub const MAX_SOURCES: usize = 64;
/// Most actors one alias is attributed to.
pub const MAX_USED_BY: usize = 64;

/// Checks a language tag: 1-35 characters of `A-Z a-z 0-9 -`, as BCP 47 tags are.
fn validate_lang(field: &str, l: &str) -> Result<()> {
    let ok = (1..=35).contains(&l.len())
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid {field} {} (expected a language tag such as ja, zh-Hans or en)",
            excerpt(l)
        )))
    }
}

/// An issue's proposition, as defined (`issue_definition`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueDefinition {
    /// The slug defined.
    pub slug: Issue,
    /// A short title.
    pub title: String,
    /// The full sentence support and oppose refer to.
    pub proposition: String,
    /// Background, if any.
    pub description: Option<String>,
}

/// A new wording of a defined issue (`issue_rewording`): only the fields given change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRewording {
    /// The issue reworded.
    pub slug: Issue,
    /// Why, for the audit trail.
    pub reason: String,
    /// New title.
    pub title: Option<String>,
    /// New proposition.
    pub proposition: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Another name of an issue (`alias`), in any script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    /// The issue named.
    pub slug: Issue,
    /// The name, as written.
    pub alias: String,
    /// Its language (a BCP 47 tag), if known.
    pub lang: Option<String>,
    /// The actors that use it, in code order.
    pub used_by: Vec<Actor>,
}

/// The withdrawal of an alias (`alias_removal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasRemoval {
    /// The issue it named.
    pub slug: Issue,
    /// The alias, as written when it was added (or any text with the same normal form).
    pub alias: String,
    /// Why.
    pub reason: String,
}

/// Two slugs found to name one issue (`issue_merge`): afterwards `from`
/// names `into` everywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueMerge {
    /// The slug merged away.
    pub from: Issue,
    /// The slug it now names.
    pub into: Issue,
    /// Why.
    pub reason: String,
}

/// An actor code defined in the ledger (`actor_definition`), for actors
/// neither ISO 3166-1 nor the built-in table names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorDefinition {
    /// The code.
    pub code: Actor,
    /// Its name.
    pub name: String,
    /// What kind of actor, if given.
    pub kind: Option<ActorKind>,
}

/// The undoing of a retraction (`reinstatement`): the statement counts again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reinstatement {
    /// The statement reinstated.
    pub target: uuid::Uuid,
    /// Why.
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
    /// An issue was defined (`issue_definition`).
    IssueDefined(IssueDefinition),
    /// An issue was reworded (`issue_rewording`).
    IssueReworded(IssueRewording),
    /// An alias was added (`alias`).
    AliasAdded(Alias),
    /// An alias was removed (`alias_removal`).
    AliasRemoved(AliasRemoval),
    /// One issue was merged into another (`issue_merge`).
    IssuesMerged(IssueMerge),
    /// An actor code was defined (`actor_definition`).
    ActorDefined(ActorDefinition),
    /// A retracted statement was reinstated (`reinstatement`).
    StatementReinstated(Reinstatement),
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
    /// Define an issue's proposition.
    DefineIssue(IssueDefinition),
    /// Reword a defined issue.
    RewordIssue(IssueRewording),
    /// Add an alias.
    AddAlias(Alias),
    /// Remove an alias.
    RemoveAlias(AliasRemoval),
    /// Merge one issue into another.
    MergeIssues(IssueMerge),
    /// Define an actor code.
    DefineActor(ActorDefinition),
    /// Reinstate a retracted statement.
    Reinstate(Reinstatement),
}

/// Pairs each `Command` variant with its `Fact` and kind name, so the
/// conversions are written once.
macro_rules! command_fact {
    ($($c:ident <=> $f:ident : $k:literal),+ $(,)?) => {
        impl Command {
            /// The fact this command records if the rules allow it.
            pub fn into_fact(self) -> Fact {
                match self { $(Command::$c(x) => Fact::$f(x)),+ }
            }
            /// The `type` of the fact this command records.
            pub fn kind(&self) -> &'static str {
                match self { $(Command::$c(_) => $k),+ }
            }
        }
        impl Fact {
            /// The command that records this fact: what a replay of the log
            /// asks the rules about each event.
            pub fn into_command(self) -> Command {
                match self { $(Fact::$f(x) => Command::$c(x)),+ }
            }
            /// The event type as named in JSON and in the hash chain.
            pub fn kind(&self) -> &'static str {
                match self { $(Fact::$f(_) => $k),+ }
            }
        }
    };
}

command_fact!(
    Record <=> StatementRecorded: "statement",
    Amend <=> StatementAmended: "amendment",
    Retract <=> StatementRetracted: "retraction",
    DefineIssue <=> IssueDefined: "issue_definition",
    RewordIssue <=> IssueReworded: "issue_rewording",
    AddAlias <=> AliasAdded: "alias",
    RemoveAlias <=> AliasRemoved: "alias_removal",
    MergeIssues <=> IssuesMerged: "issue_merge",
    DefineActor <=> ActorDefined: "actor_definition",
    Reinstate <=> StatementReinstated: "reinstatement",
);

/// Every event type, in the order of the record format's variants.
pub const KINDS: &[&str] = &[
    "statement",
    "amendment",
    "retraction",
    "issue_definition",
    "issue_rewording",
    "alias",
    "alias_removal",
    "issue_merge",
    "actor_definition",
    "reinstatement",
];

impl Fact {
    /// The statement an amendment, retraction or reinstatement refers to.
    pub fn target(&self) -> Option<uuid::Uuid> {
        match self {
            Fact::StatementAmended(a) => Some(a.target),
            Fact::StatementRetracted(r) => Some(r.target),
            Fact::StatementReinstated(r) => Some(r.target),
            Fact::StatementRecorded(_)
            | Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_) => None,
        }
    }

    /// Whether this fact names things (issues, aliases, merges, actors)
    /// rather than recording or editing a statement.
    pub fn is_naming(&self) -> bool {
        matches!(
            self,
            Fact::IssueDefined(_)
                | Fact::IssueReworded(_)
                | Fact::AliasAdded(_)
                | Fact::AliasRemoved(_)
                | Fact::IssuesMerged(_)
                | Fact::ActorDefined(_)
        )
    }

    /// Checks every field against the model's limits. Called on every payload
    /// before it is appended, whatever its origin (CLI flags, import, restore).
    pub fn validate(&self) -> Result<()> {
        match self {
            Fact::StatementRecorded(s) => s.validate(),
            Fact::StatementAmended(a) => a.validate(),
            Fact::StatementRetracted(r) => r.validate(),
            Fact::IssueDefined(d) => d.validate(),
            Fact::IssueReworded(r) => r.validate(),
            Fact::AliasAdded(a) => a.validate(),
            Fact::AliasRemoved(a) => a.validate(),
            Fact::IssuesMerged(m) => m.validate(),
            Fact::ActorDefined(d) => d.validate(),
            Fact::StatementReinstated(r) => text("reason", &r.reason, MAX_REASON, true),
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
            Command::DefineIssue(d) => d.validate(),
            Command::RewordIssue(r) => r.validate(),
            Command::AddAlias(a) => a.validate(),
            Command::RemoveAlias(a) => a.validate(),
            Command::MergeIssues(m) => m.validate(),
            Command::DefineActor(d) => d.validate(),
            Command::Reinstate(r) => text("reason", &r.reason, MAX_REASON, true),
        }
    }

    /// The date the command gives a statement, if it gives one.
    pub fn stated_on(&self) -> Option<NaiveDate> {
        match self {
            Command::Record(s) => Some(s.stated_on),
            Command::Amend(a) => a.stated_on,
            Command::Retract(_)
            | Command::DefineIssue(_)
            | Command::RewordIssue(_)
            | Command::AddAlias(_)
            | Command::RemoveAlias(_)
            | Command::MergeIssues(_)
            | Command::DefineActor(_)
            | Command::Reinstate(_) => None,
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
        opt_url(&s.source_url)?;
        s.details.validate(s)
    }
}

impl IssueDefinition {
    fn validate(&self) -> Result<()> {
        text("title", &self.title, MAX_NAME, true)?;
        text("proposition", &self.proposition, MAX_SUMMARY, true)?;
        opt_text("description", &self.description, MAX_QUOTE)
    }
}

impl IssueRewording {
    fn validate(&self) -> Result<()> {
        text("reason", &self.reason, MAX_REASON, true)?;
        if let Some(t) = &self.title {
            text("title", t, MAX_NAME, true)?;
        }
        if let Some(p) = &self.proposition {
            text("proposition", p, MAX_SUMMARY, true)?;
        }
        opt_text("description", &self.description, MAX_QUOTE)?;
        if self.title.is_none() && self.proposition.is_none() && self.description.is_none() {
            return Err(Error::invalid(
                "issue rewording changes nothing (give at least one of title, proposition, description)",
            ));
        }
        Ok(())
    }
}

/// Checks an alias as text: a name, on one line, that shows something.
fn alias_text(a: &str) -> Result<()> {
    text("alias", a, MAX_NAME, true)?;
    if a.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(Error::invalid(
            "alias must not contain control characters, bidirectional controls or invisible characters",
        ));
    }
    if crate::names::normalise(a).is_empty() {
        return Err(Error::invalid(
            "alias must have a letter or digit (spaces and hyphens alone name nothing)",
        ));
    }
    Ok(())
}

impl Alias {
    fn validate(&self) -> Result<()> {
        alias_text(&self.alias)?;
        if let Some(l) = &self.lang {
            validate_lang("lang", l)?;
        }
        let mut sorted = self.used_by.clone();
        sorted.sort();
        sorted.dedup();
        if sorted != self.used_by {
            return Err(Error::invalid(
                "used_by must list each actor once, in code order",
            ));
        }
        if self.used_by.len() > MAX_USED_BY {
            return Err(Error::invalid(format!(
                "used_by lists {} actors (at most {MAX_USED_BY})",
                self.used_by.len()
            )));
        }
        Ok(())
    }
}

impl AliasRemoval {
    fn validate(&self) -> Result<()> {
        alias_text(&self.alias)?;
        text("reason", &self.reason, MAX_REASON, true)
    }
}

impl IssueMerge {
    fn validate(&self) -> Result<()> {
        text("reason", &self.reason, MAX_REASON, true)?;
        if self.from == self.into {
            return Err(Error::invalid(format!(
                "cannot merge {} into itself",
                self.from
            )));
        }
        Ok(())
    }
}

impl ActorDefinition {
    fn validate(&self) -> Result<()> {
        text("name", &self.name, MAX_NAME, true)?;
        if self.name.chars().any(|c| c.is_control() || is_invisible(c)) {
            return Err(Error::invalid(
                "name must not contain control characters or invisible characters",
            ));
        }
        Ok(())
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
        match (a.stated_on, a.stated_on_precision) {
            (_, Some(Precision::Day)) => {
                return Err(Error::invalid(
                    "stated_on_precision day is the default and is left out",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "stated_on_precision is given only with stated_on",
                ))
            }
            (Some(d), Some(p)) if !StatedOn::fits(d, p) => {
                return Err(Error::invalid(format!(
                    "stated_on {d} is not the last day of its {p} (a coarse date counts from the last day of its period)"
                )))
            }
            _ => {}
        }
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
