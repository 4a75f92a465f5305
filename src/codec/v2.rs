//! Record format 2: format 1's mirror extended with the fields and kinds
//! added since (statement details, coarse dates of amendments, the naming
//! kinds and reinstatement). Written only for events format 1 cannot hold,
//! so every event format 1 can hold keeps its format-1 bytes. Field order
//! and variant order are the stored format; these types never change.
//! Enumerated values are stored by name (`not-yet`, `anonymous`...), the
//! names the JSON form and the hash chain use, and parsed back on decode.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::v1::PositionV1;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{
    validate_author, ActorDefinition, Alias, AliasRemoval, Amendment, Details, Fact,
    IssueDefinition, IssueMerge, IssueRewording, Reinstatement, Retraction, Source, Statement,
};

#[derive(Serialize, Deserialize)]
pub(super) struct EventV2 {
    seq: u64,
    id: Uuid,
    #[serde(with = "chrono::serde::ts_microseconds")]
    recorded_at: DateTime<Utc>,
    recorded_by: String,
    prev_hash: [u8; 32],
    hash: [u8; 32],
    payload: PayloadV2,
}

/// Variants in the order of `model::KINDS`.
#[derive(Serialize, Deserialize)]
enum PayloadV2 {
    Statement(StatementV2),
    Amendment(AmendmentV2),
    Retraction(TargetReasonV2),
    IssueDefinition(IssueDefinitionV2),
    IssueRewording(IssueRewordingV2),
    Alias(AliasV2),
    AliasRemoval(AliasRemovalV2),
    IssueMerge(IssueMergeV2),
    ActorDefinition(ActorDefinitionV2),
    Reinstatement(TargetReasonV2),
}

#[derive(Serialize, Deserialize)]
struct StatementV2 {
    actor: String,
    issue: String,
    position: PositionV1,
    stated_on: NaiveDate,
    summary: String,
    quote: Option<String>,
    speaker: Option<String>,
    source_url: Option<String>,
    source_title: Option<String>,
    stated_on_precision: Option<String>,
    qualifiers: Vec<String>,
    condition: Option<String>,
    attribution: Option<String>,
    reported_by: Option<String>,
    speaker_role: Option<String>,
    sources: Vec<SourceV2>,
    quote_lang: Option<String>,
    translation: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SourceV2 {
    url: Option<String>,
    title: Option<String>,
    publisher: Option<String>,
    published_on: Option<NaiveDate>,
}

#[derive(Serialize, Deserialize)]
struct AmendmentV2 {
    target: Uuid,
    reason: String,
    position: Option<PositionV1>,
    stated_on: Option<NaiveDate>,
    summary: Option<String>,
    quote: Option<String>,
    speaker: Option<String>,
    source_url: Option<String>,
    source_title: Option<String>,
    stated_on_precision: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TargetReasonV2 {
    target: Uuid,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct IssueDefinitionV2 {
    slug: String,
    title: String,
    proposition: String,
    description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct IssueRewordingV2 {
    slug: String,
    reason: String,
    title: Option<String>,
    proposition: Option<String>,
    description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct AliasV2 {
    slug: String,
    alias: String,
    lang: Option<String>,
    used_by: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct AliasRemovalV2 {
    slug: String,
    alias: String,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct IssueMergeV2 {
    from: String,
    into: String,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct ActorDefinitionV2 {
    code: String,
    name: String,
    kind: Option<String>,
}

impl From<&Event> for EventV2 {
    fn from(e: &Event) -> Self {
        let payload = match &e.payload {
            Fact::StatementRecorded(s) => {
                let d = &s.details;
                PayloadV2::Statement(StatementV2 {
                    actor: s.actor.as_str().to_owned(),
                    issue: s.issue.as_str().to_owned(),
                    position: s.position.into(),
                    stated_on: s.stated_on,
                    summary: s.summary.clone(),
                    quote: s.quote.clone(),
                    speaker: s.speaker.clone(),
                    source_url: s.source_url.clone(),
                    source_title: s.source_title.clone(),
                    stated_on_precision: d.stated_on_precision.map(|p| p.as_str().to_owned()),
                    qualifiers: d.qualifiers.iter().map(|q| q.as_str().to_owned()).collect(),
                    condition: d.condition.clone(),
                    attribution: d.attribution.map(|a| a.as_str().to_owned()),
                    reported_by: d.reported_by.clone(),
                    speaker_role: d.speaker_role.map(|r| r.as_str().to_owned()),
                    sources: d
                        .sources
                        .iter()
                        .map(|src| SourceV2 {
                            url: src.url.clone(),
                            title: src.title.clone(),
                            publisher: src.publisher.clone(),
                            published_on: src.published_on,
                        })
                        .collect(),
                    quote_lang: d.quote_lang.clone(),
                    translation: d.translation.clone(),
                })
            }
            Fact::StatementAmended(a) => PayloadV2::Amendment(AmendmentV2 {
                target: a.target,
                reason: a.reason.clone(),
                position: a.position.map(Into::into),
                stated_on: a.stated_on,
                summary: a.summary.clone(),
                quote: a.quote.clone(),
                speaker: a.speaker.clone(),
                source_url: a.source_url.clone(),
                source_title: a.source_title.clone(),
                stated_on_precision: a.stated_on_precision.map(|p| p.as_str().to_owned()),
            }),
            Fact::StatementRetracted(r) => PayloadV2::Retraction(TargetReasonV2 {
                target: r.target,
                reason: r.reason.clone(),
            }),
            Fact::StatementReinstated(r) => PayloadV2::Reinstatement(TargetReasonV2 {
                target: r.target,
                reason: r.reason.clone(),
            }),
            Fact::IssueDefined(d) => PayloadV2::IssueDefinition(IssueDefinitionV2 {
                slug: d.slug.as_str().to_owned(),
                title: d.title.clone(),
                proposition: d.proposition.clone(),
                description: d.description.clone(),
            }),
            Fact::IssueReworded(r) => PayloadV2::IssueRewording(IssueRewordingV2 {
                slug: r.slug.as_str().to_owned(),
                reason: r.reason.clone(),
                title: r.title.clone(),
                proposition: r.proposition.clone(),
                description: r.description.clone(),
            }),
            Fact::AliasAdded(a) => PayloadV2::Alias(AliasV2 {
                slug: a.slug.as_str().to_owned(),
                alias: a.alias.clone(),
                lang: a.lang.clone(),
                used_by: a.used_by.iter().map(|u| u.as_str().to_owned()).collect(),
            }),
            Fact::AliasRemoved(a) => PayloadV2::AliasRemoval(AliasRemovalV2 {
                slug: a.slug.as_str().to_owned(),
                alias: a.alias.clone(),
                reason: a.reason.clone(),
            }),
            Fact::IssuesMerged(m) => PayloadV2::IssueMerge(IssueMergeV2 {
                from: m.from.as_str().to_owned(),
                into: m.into.as_str().to_owned(),
                reason: m.reason.clone(),
            }),
            Fact::ActorDefined(d) => PayloadV2::ActorDefinition(ActorDefinitionV2 {
                code: d.code.as_str().to_owned(),
                name: d.name.clone(),
                kind: d.kind.map(|k| k.as_str().to_owned()),
            }),
        };
        EventV2 {
            seq: e.seq,
            id: e.id,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by.clone(),
            prev_hash: e.prev_hash,
            hash: e.hash,
            payload,
        }
    }
}

/// Parses an optional stored name into its domain value.
fn parsed<T: std::str::FromStr<Err = Error>>(v: Option<String>) -> Result<Option<T>> {
    v.as_deref().map(str::parse).transpose()
}

impl TryFrom<EventV2> for Event {
    type Error = Error;

    /// Upcasts a format-2 record into the domain, validating every value
    /// as an append would.
    fn try_from(e: EventV2) -> Result<Event> {
        let invalid = |err: Error| Error::Decode(err.to_string());
        let payload = (|| -> Result<Fact> {
            Ok(match e.payload {
                PayloadV2::Statement(s) => Fact::StatementRecorded(Statement {
                    actor: s.actor.parse()?,
                    issue: s.issue.parse()?,
                    position: s.position.into(),
                    stated_on: s.stated_on,
                    summary: s.summary,
                    quote: s.quote,
                    speaker: s.speaker,
                    source_url: s.source_url,
                    source_title: s.source_title,
                    details: Details {
                        stated_on_precision: parsed(s.stated_on_precision)?,
                        qualifiers: s
                            .qualifiers
                            .iter()
                            .map(|q| q.parse())
                            .collect::<Result<_>>()?,
                        condition: s.condition,
                        attribution: parsed(s.attribution)?,
                        reported_by: s.reported_by,
                        speaker_role: parsed(s.speaker_role)?,
                        sources: s
                            .sources
                            .into_iter()
                            .map(|src| Source {
                                url: src.url,
                                title: src.title,
                                publisher: src.publisher,
                                published_on: src.published_on,
                            })
                            .collect(),
                        quote_lang: s.quote_lang,
                        translation: s.translation,
                    },
                }),
                PayloadV2::Amendment(a) => Fact::StatementAmended(Amendment {
                    target: a.target,
                    reason: a.reason,
                    position: a.position.map(Into::into),
                    stated_on: a.stated_on,
                    summary: a.summary,
                    quote: a.quote,
                    speaker: a.speaker,
                    source_url: a.source_url,
                    source_title: a.source_title,
                    stated_on_precision: parsed(a.stated_on_precision)?,
                }),
                PayloadV2::Retraction(r) => Fact::StatementRetracted(Retraction {
                    target: r.target,
                    reason: r.reason,
                }),
                PayloadV2::Reinstatement(r) => Fact::StatementReinstated(Reinstatement {
                    target: r.target,
                    reason: r.reason,
                }),
                PayloadV2::IssueDefinition(d) => Fact::IssueDefined(IssueDefinition {
                    slug: d.slug.parse()?,
                    title: d.title,
                    proposition: d.proposition,
                    description: d.description,
                }),
                PayloadV2::IssueRewording(r) => Fact::IssueReworded(IssueRewording {
                    slug: r.slug.parse()?,
                    reason: r.reason,
                    title: r.title,
                    proposition: r.proposition,
                    description: r.description,
                }),
                PayloadV2::Alias(a) => Fact::AliasAdded(Alias {
                    slug: a.slug.parse()?,
                    alias: a.alias,
                    lang: a.lang,
                    used_by: a.used_by.iter().map(|u| u.parse()).collect::<Result<_>>()?,
                }),
                PayloadV2::AliasRemoval(a) => Fact::AliasRemoved(AliasRemoval {
                    slug: a.slug.parse()?,
                    alias: a.alias,
                    reason: a.reason,
                }),
                PayloadV2::IssueMerge(m) => Fact::IssuesMerged(IssueMerge {
                    from: m.from.parse()?,
                    into: m.into.parse()?,
                    reason: m.reason,
                }),
                PayloadV2::ActorDefinition(d) => Fact::ActorDefined(ActorDefinition {
                    code: d.code.parse()?,
                    name: d.name,
                    kind: parsed(d.kind)?,
                }),
            })
        })()
        .map_err(invalid)?;
        payload.validate().map_err(invalid)?;
        validate_author(&e.recorded_by).map_err(invalid)?;
        Ok(Event {
            seq: e.seq,
            id: e.id,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by,
            prev_hash: e.prev_hash,
            hash: e.hash,
            payload,
        })
    }
}
