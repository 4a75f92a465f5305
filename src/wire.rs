//! The JSON form of an event, one struct for both directions: `import` reads
//! it (unknown fields rejected, so a typo such as `postion` is caught), and
//! `log --json` / `export` write it with the envelope added. An ordinary
//! import ignores the envelope fields other than `id`; `restore` uses them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chain::{hex_hash, Field, Value};
use crate::decide::Request;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::{
    excerpt, format_timestamp, parse_date, parse_stated_on, Actor, ActorDefinition, Alias,
    AliasRemoval, Amendment, Attribution, Command, Details, IssueDefinition, IssueMerge,
    IssueRewording, Precision, Qualifier, Reinstatement, Retraction, Source, StatedOn, Statement,
    KINDS,
};

/// Sources as the model keeps them: one with only a url and title stays
/// in `source_url`/`source_title` (as before sources were lists);
/// anything more is the list.
pub fn split_sources(mut all: Vec<Source>) -> (Option<String>, Option<String>, Vec<Source>) {
    match all.as_slice() {
        [] => (None, None, Vec::new()),
        [one] if one.publisher.is_none() && one.published_on.is_none() => {
            let one = all.remove(0);
            (one.url, one.title, Vec::new())
        }
        _ => (None, None, all),
    }
}

/// The fields of a statement (beside the envelope), which are also the
/// columns of `events` and `stances_latest` that hold them.
pub(crate) const STATEMENT_FIELDS: &[&str] = &[
    "actor",
    "issue",
    "position",
    "stated_on",
    "summary",
    "quote",
    "speaker",
    "source_url",
    "source_title",
    "stated_on_precision",
    "qualifiers",
    "condition",
    "attribution",
    "reported_by",
    "speaker_role",
    "sources",
    "quote_lang",
    "translation",
];

/// One event as a JSON object. Field names are a public interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wire {
    /// Envelope: log position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The event's id; derived from the content when absent on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Envelope: when it was recorded (RFC 3339, microseconds, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
    /// Envelope: who recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// `statement`, `amendment` or `retraction`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Statement: who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Statement: on what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// Edits: the statement's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Edits: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Date stated (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_on: Option<String>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Source URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Source title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_title: Option<String>,
    /// Statement, amendment: `month` or `year` for a coarse date (absent: `day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_on_precision: Option<String>,
    /// Statement: hedges (`not-yet`, `conditional`, `in-principle`, `reiterated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifiers: Option<Vec<String>>,
    /// Statement: the condition of a `conditional` position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Statement: `anonymous`, `reported` or `inferred` (absent: `on-record`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Statement: who reported it (with `reported`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    /// Statement: the speaker's office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_role: Option<String>,
    /// Statement: every source, when more than `source_url`/`source_title` can say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<WireSource>>,
    /// Statement: the language of the quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_lang: Option<String>,
    /// Statement: a translation of the quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<String>,
    /// Naming kinds: the issue's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Issue definition, rewording: the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Issue definition, rewording: the proposition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposition: Option<String>,
    /// Issue definition, rewording: the description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Alias, alias removal: the alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Alias: its language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Alias: the actors that use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<Vec<String>>,
    /// Issue merge: the slug merged away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Issue merge: the slug it now names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into: Option<String>,
    /// Actor definition: the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Actor definition: the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Actor definition: `state`, `organisation`, `party` or `other`.
    #[serde(default, rename = "kind", skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<String>,
    /// Envelope: the previous event's hash (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// Envelope: this event's hash (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// One source of a statement in JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireSource {
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Publication date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_on: Option<String>,
}

fn required<'a>(kind: &str, field: &str, v: &'a Option<String>) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| Error::invalid(format!("{kind} is missing required field {field:?}")))
}

fn forbid(kind: &str, field: &str, present: bool, hint: &str) -> Result<()> {
    if present {
        Err(Error::invalid(format!(
            "{kind} cannot have field {field:?}{hint}"
        )))
    } else {
        Ok(())
    }
}

fn parse_uuid(field: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s)
        .map_err(|_| Error::invalid(format!("invalid {field} {} (expected a UUID)", excerpt(s))))
}

/// `None` for a day: the default precision is left out of every form.
fn coarse(p: Precision) -> Option<Precision> {
    (p != Precision::Day).then_some(p)
}

impl Wire {
    /// Every payload field this object gives, by name.
    fn given(&self) -> [(&'static str, bool); 30] {
        [
            ("actor", self.actor.is_some()),
            ("issue", self.issue.is_some()),
            ("target", self.target.is_some()),
            ("reason", self.reason.is_some()),
            ("position", self.position.is_some()),
            ("stated_on", self.stated_on.is_some()),
            ("summary", self.summary.is_some()),
            ("quote", self.quote.is_some()),
            ("speaker", self.speaker.is_some()),
            ("source_url", self.source_url.is_some()),
            ("source_title", self.source_title.is_some()),
            ("stated_on_precision", self.stated_on_precision.is_some()),
            ("qualifiers", self.qualifiers.is_some()),
            ("condition", self.condition.is_some()),
            ("attribution", self.attribution.is_some()),
            ("reported_by", self.reported_by.is_some()),
            ("speaker_role", self.speaker_role.is_some()),
            ("sources", self.sources.is_some()),
            ("quote_lang", self.quote_lang.is_some()),
            ("translation", self.translation.is_some()),
            ("slug", self.slug.is_some()),
            ("title", self.title.is_some()),
            ("proposition", self.proposition.is_some()),
            ("description", self.description.is_some()),
            ("alias", self.alias.is_some()),
            ("lang", self.lang.is_some()),
            ("used_by", self.used_by.is_some()),
            ("from", self.from.is_some()),
            ("into", self.into.is_some()),
            ("code", self.code.is_some()),
        ]
    }

    /// Refuses any field the kind `k` does not have.
    fn forbid_others(&self, k: &str) -> Result<()> {
        let allowed: &[&str] = match k {
            "statement" => STATEMENT_FIELDS,
            "amendment" => &[
                "target",
                "reason",
                "position",
                "stated_on",
                "summary",
                "quote",
                "speaker",
                "source_url",
                "source_title",
                "stated_on_precision",
            ],
            "retraction" | "reinstatement" => &["target", "reason"],
            "issue_definition" => &["slug", "title", "proposition", "description"],
            "issue_rewording" => &["slug", "reason", "title", "proposition", "description"],
            "alias" => &["slug", "alias", "lang", "used_by"],
            "alias_removal" => &["slug", "alias", "reason"],
            "issue_merge" => &["from", "into", "reason"],
            "actor_definition" => &["code", "name"],
            _ => return Ok(()),
        };
        for (f, present) in self.given() {
            let hint = if k == "amendment" && (f == "actor" || f == "issue") {
                " (actor and issue cannot be amended: retract the statement and record a new one)"
            } else {
                ""
            };
            forbid(k, f, present && !allowed.contains(&f), hint)?;
        }
        forbid(
            k,
            "kind",
            self.actor_kind.is_some() && k != "actor_definition",
            "",
        )?;
        forbid(
            k,
            "name",
            self.name.is_some() && k != "actor_definition",
            "",
        )
    }

    /// `stated_on` as given (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`), or as the
    /// export writes it (the last day, with `stated_on_precision`).
    fn stated_on(&self) -> Result<Option<StatedOn>> {
        let Some(given) = self.stated_on.as_deref() else {
            if self.stated_on_precision.is_some() {
                return Err(Error::invalid(
                    "stated_on_precision is given only with stated_on",
                ));
            }
            return Ok(None);
        };
        let parsed = parse_stated_on(given)?;
        match self.stated_on_precision.as_deref() {
            None => Ok(Some(parsed)),
            Some(p) => {
                let p: Precision = p.parse()?;
                if parsed.precision != Precision::Day && parsed.precision != p {
                    return Err(Error::invalid(format!(
                        "stated_on {given} is a {} but stated_on_precision says {p}",
                        parsed.precision
                    )));
                }
                Ok(Some(StatedOn {
                    date: parsed.date,
                    precision: p,
                }))
            }
        }
    }

    /// A statement's sources: `source_url`/`source_title` as the first,
    /// then `sources`; as the model keeps them (the two legacy fields when
    /// they say everything, else the list).
    fn sources(&self) -> Result<(Option<String>, Option<String>, Vec<Source>)> {
        let mut all = Vec::new();
        if self.source_url.is_some() || self.source_title.is_some() {
            all.push(Source {
                url: self.source_url.clone(),
                title: self.source_title.clone(),
                ..Source::default()
            });
        }
        for s in self.sources.iter().flatten() {
            all.push(Source {
                url: s.url.clone(),
                title: s.title.clone(),
                publisher: s.publisher.clone(),
                published_on: s.published_on.as_deref().map(parse_date).transpose()?,
            });
        }
        Ok(split_sources(all))
    }

    /// The event's full JSON form, envelope included.
    pub fn from_event(e: &Event) -> Wire {
        let mut w = Wire {
            seq: Some(e.seq),
            id: Some(e.id.to_string()),
            recorded_at: Some(format_timestamp(&e.recorded_at)),
            recorded_by: Some(e.recorded_by.clone()),
            kind: e.kind().to_owned(),
            prev_hash: Some(hex_hash(&e.prev_hash)),
            hash: Some(hex_hash(&e.hash)),
            ..Wire::default()
        };
        for (name, value) in crate::chain::payload_fields(&e.payload) {
            let text = match value {
                Value::Text(t) => t,
                Value::List(items) => {
                    let firsts = || items.iter().filter_map(|i| i.first().cloned().flatten());
                    match name {
                        Field::Qualifiers => w.qualifiers = Some(firsts().collect()),
                        Field::UsedBy => w.used_by = Some(firsts().collect()),
                        Field::Sources => {
                            w.sources = Some(
                                items
                                    .iter()
                                    .map(|i| {
                                        let at = |n: usize| i.get(n).cloned().flatten();
                                        WireSource {
                                            url: at(0),
                                            title: at(1),
                                            publisher: at(2),
                                            published_on: at(3),
                                        }
                                    })
                                    .collect(),
                            )
                        }
                        _ => {}
                    }
                    continue;
                }
            };
            let slot = match name {
                Field::Actor => &mut w.actor,
                Field::Issue => &mut w.issue,
                Field::Target => &mut w.target,
                Field::Reason => &mut w.reason,
                Field::Position => &mut w.position,
                Field::StatedOn => &mut w.stated_on,
                Field::Summary => &mut w.summary,
                Field::Quote => &mut w.quote,
                Field::Speaker => &mut w.speaker,
                Field::SourceUrl => &mut w.source_url,
                Field::SourceTitle => &mut w.source_title,
                Field::StatedOnPrecision => &mut w.stated_on_precision,
                Field::Condition => &mut w.condition,
                Field::Attribution => &mut w.attribution,
                Field::ReportedBy => &mut w.reported_by,
                Field::SpeakerRole => &mut w.speaker_role,
                Field::QuoteLang => &mut w.quote_lang,
                Field::Translation => &mut w.translation,
                Field::Slug => &mut w.slug,
                Field::Title => &mut w.title,
                Field::Proposition => &mut w.proposition,
                Field::Description => &mut w.description,
                Field::Alias => &mut w.alias,
                Field::Lang => &mut w.lang,
                Field::From => &mut w.from,
                Field::Into => &mut w.into,
                Field::Code => &mut w.code,
                Field::Name => &mut w.name,
                Field::Kind => &mut w.actor_kind,
                // Lists are handled above; a list field as text is empty.
                Field::Qualifiers | Field::Sources | Field::UsedBy => continue,
            };
            *slot = text;
        }
        w
    }

    /// The whole event this object describes, envelope included, as read
    /// back from the read model (which stores this form). Checks syntax, not
    /// the hash: the caller compares it with the log where that matters.
    pub(crate) fn to_event(&self) -> std::result::Result<Event, String> {
        let req = self.to_request().map_err(|e| e.to_string())?;
        let missing = |f: &str| format!("event row without {f}");
        let recorded_at = self
            .recorded_at
            .as_deref()
            .ok_or_else(|| missing("recorded_at"))?;
        let recorded_at = chrono::DateTime::parse_from_rfc3339(recorded_at)
            .map_err(|_| format!("invalid recorded_at {recorded_at:?}"))?
            .with_timezone(&chrono::Utc);
        let hash = |f: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(crate::chain::parse_hash)
                .ok_or_else(|| format!("invalid {f}"))
        };
        Ok(Event {
            seq: self.seq.ok_or_else(|| missing("seq"))?,
            id: req.id.ok_or_else(|| missing("id"))?,
            recorded_at,
            recorded_by: self
                .recorded_by
                .clone()
                .ok_or_else(|| missing("recorded_by"))?,
            prev_hash: hash("prev_hash", &self.prev_hash)?,
            hash: hash("hash", &self.hash)?,
            payload: req.command.into_fact(),
        })
    }

    /// The append request this object asks for (envelope fields other than
    /// `id` are ignored). Checks field presence and syntax; the rules that
    /// need the ledger are checked by [`crate::decide`].
    pub fn to_request(&self) -> Result<Request> {
        let id = self
            .id
            .as_deref()
            .map(|s| parse_uuid("id", s))
            .transpose()?;
        let k = self.kind.as_str();
        self.forbid_others(k)?;
        let position = self.position.as_deref().map(str::parse).transpose()?;
        let stated_on = self.stated_on()?;
        let command = match k {
            "statement" => {
                let stated_on = stated_on.ok_or_else(|| {
                    Error::invalid("statement is missing required field \"stated_on\"")
                })?;
                let (source_url, source_title, sources) = self.sources()?;
                Command::Record(Statement {
                    actor: required(k, "actor", &self.actor)?.parse()?,
                    issue: required(k, "issue", &self.issue)?.parse()?,
                    position: position.ok_or_else(|| {
                        Error::invalid("statement is missing required field \"position\"")
                    })?,
                    stated_on: stated_on.date,
                    summary: required(k, "summary", &self.summary)?.to_owned(),
                    quote: self.quote.clone(),
                    speaker: self.speaker.clone(),
                    source_url,
                    source_title,
                    details: Details {
                        stated_on_precision: coarse(stated_on.precision),
                        qualifiers: {
                            let mut q = self
                                .qualifiers
                                .iter()
                                .flatten()
                                .map(|q| q.parse())
                                .collect::<Result<Vec<Qualifier>>>()?;
                            q.sort_unstable();
                            q.dedup();
                            q
                        },
                        condition: self.condition.clone(),
                        attribution: self
                            .attribution
                            .as_deref()
                            .map(str::parse)
                            .transpose()?
                            .filter(|a| *a != Attribution::OnRecord),
                        reported_by: self.reported_by.clone(),
                        speaker_role: self.speaker_role.as_deref().map(str::parse).transpose()?,
                        sources,
                        quote_lang: self.quote_lang.clone(),
                        translation: self.translation.clone(),
                    },
                })
            }
            "amendment" => Command::Amend(Amendment {
                target: parse_uuid("target", required(k, "target", &self.target)?)?,
                reason: required(k, "reason", &self.reason)?.to_owned(),
                position,
                stated_on: stated_on.map(|s| s.date),
                summary: self.summary.clone(),
                quote: self.quote.clone(),
                speaker: self.speaker.clone(),
                source_url: self.source_url.clone(),
                source_title: self.source_title.clone(),
                stated_on_precision: stated_on.and_then(|s| coarse(s.precision)),
            }),
            "retraction" => Command::Retract(Retraction {
                target: parse_uuid("target", required(k, "target", &self.target)?)?,
                reason: required(k, "reason", &self.reason)?.to_owned(),
            }),
            "reinstatement" => Command::Reinstate(Reinstatement {
                target: parse_uuid("target", required(k, "target", &self.target)?)?,
                reason: required(k, "reason", &self.reason)?.to_owned(),
            }),
            "issue_definition" => Command::DefineIssue(IssueDefinition {
                slug: required(k, "slug", &self.slug)?.parse()?,
                title: required(k, "title", &self.title)?.to_owned(),
                proposition: required(k, "proposition", &self.proposition)?.to_owned(),
                description: self.description.clone(),
            }),
            "issue_rewording" => Command::RewordIssue(IssueRewording {
                slug: required(k, "slug", &self.slug)?.parse()?,
                reason: required(k, "reason", &self.reason)?.to_owned(),
                title: self.title.clone(),
                proposition: self.proposition.clone(),
                description: self.description.clone(),
            }),
            "alias" => Command::AddAlias(Alias {
                slug: required(k, "slug", &self.slug)?.parse()?,
                alias: required(k, "alias", &self.alias)?.to_owned(),
                lang: self.lang.clone(),
                used_by: {
                    let mut u = self
                        .used_by
                        .iter()
                        .flatten()
                        .map(|a| a.parse())
                        .collect::<Result<Vec<Actor>>>()?;
                    u.sort();
                    u.dedup();
                    u
                },
            }),
            "alias_removal" => Command::RemoveAlias(AliasRemoval {
                slug: required(k, "slug", &self.slug)?.parse()?,
                alias: required(k, "alias", &self.alias)?.to_owned(),
                reason: required(k, "reason", &self.reason)?.to_owned(),
            }),
            "issue_merge" => Command::MergeIssues(IssueMerge {
                from: required(k, "from", &self.from)?.parse()?,
                into: required(k, "into", &self.into)?.parse()?,
                reason: required(k, "reason", &self.reason)?.to_owned(),
            }),
            "actor_definition" => Command::DefineActor(ActorDefinition {
                code: required(k, "code", &self.code)?.parse()?,
                name: required(k, "name", &self.name)?.to_owned(),
                kind: self.actor_kind.as_deref().map(str::parse).transpose()?,
            }),
            other => {
                return Err(Error::invalid(format!(
                    "unknown type {} (expected one of {})",
                    excerpt(other),
                    KINDS.join(", ")
                )))
            }
        };
        Ok(Request { id, command })
    }
}
