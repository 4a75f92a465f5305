//! What the ledger says about names: its issues (wording, aliases, merges,
//! how many statements), its actors, and how a name a user types resolves
//! to a slug. Read from the read model's naming events (`names`) and
//! counts (`versions`), never by replaying the log.

use serde::Serialize;

use crate::actors::{self, Known};
use crate::axis::KnownAt;
use crate::error::{Result, RuleViolation};
use crate::ledger::{known, Ledger};
use crate::model::{Actor, ActorKind, Issue};
use crate::names::{nearest, Names, Resolved};
use crate::query::names_at;
use crate::readmodel::Query;

pub use crate::names::Wording;

/// An alias as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AliasInfo {
    /// The alias as written.
    pub alias: String,
    /// Its language.
    pub lang: Option<String>,
    /// The actors that use it.
    pub used_by: Vec<Actor>,
}

/// One issue as `issues` and `issue show` list it. JSON field names are a
/// public interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssueInfo {
    /// The slug.
    pub slug: Issue,
    /// Its title, `null` when not defined.
    pub title: Option<String>,
    /// Its proposition, `null` when not defined.
    pub proposition: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its aliases (with those of the slugs merged into it).
    pub aliases: Vec<AliasInfo>,
    /// Statements on it (and on the slugs merged into it), retracted ones included.
    pub statements: u64,
    /// Distinct actors of those statements.
    pub actors: u64,
    /// The slug it was merged into, if it was.
    pub merged_into: Option<Issue>,
}

/// One actor as `actors` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActorInfo {
    /// The code.
    pub code: Actor,
    /// Its name, `null` for a code of an old statement no table names.
    pub name: Option<String>,
    /// `state`, `organisation`, `party`, `other`, or `unlisted` (a code of
    /// a statement recorded before codes were checked, that no table names).
    pub kind: &'static str,
    /// Statements with this actor.
    pub statements: u64,
}

/// The name and kind of an actor code from the tables and the ledger.
fn describe(code: &Actor, names: &Names) -> Option<(String, &'static str)> {
    match actors::known(code) {
        Some(Known::Iso(n)) => Some((n.to_owned(), ActorKind::State.as_str())),
        Some(Known::BuiltIn(n, k)) => Some((n.to_owned(), k.as_str())),
        None => names
            .actors
            .get(code)
            .map(|e| (e.name.clone(), e.kind.unwrap_or(ActorKind::Other).as_str())),
    }
}

/// Resolves `name` against `names`, with the suggestions of an error.
fn resolve_in(q: &Query<'_>, names: &Names, name: &str, upto: u64) -> Result<Resolved> {
    let has = |s: &Issue| q.has_statements(s, upto).unwrap_or(false);
    Ok(names.resolve(name, &has))
}

fn unknown(q: &Query<'_>, names: &Names, name: &str, upto: u64) -> Result<RuleViolation> {
    let mut candidates: Vec<String> = names.all_names().into_iter().map(|(n, _)| n).collect();
    candidates.extend(q.issue_counts(upto)?.into_iter().map(|(s, _, _)| s));
    Ok(RuleViolation::UnknownIssue {
        name: name.to_owned(),
        suggestions: nearest(name, candidates.iter().map(String::as_str)),
    })
}

impl Ledger {
    /// The slug a name (slug or alias, any case or spacing) gives a new
    /// statement or naming event: an alias's issue, a merged slug's
    /// target, or the slug itself when new (a slug alone is a valid
    /// issue). Text that is neither a slug nor an alias is an unknown
    /// issue, with the nearest names.
    pub fn resolve_issue(&self, name: &str) -> Result<Issue> {
        self.read(|q| {
            let upto = q.watermark()?.seq;
            let names = names_at(q, upto)?;
            match resolve_in(q, &names, name, upto)? {
                Resolved::Issue(s) | Resolved::Unknown(Some(s)) => Ok(s),
                Resolved::Ambiguous(c) => Err(ambiguous(name, c)),
                Resolved::Unknown(None) => match unknown(q, &names, name, upto)? {
                    RuleViolation::UnknownIssue { suggestions, .. } if suggestions.is_empty() => {
                        // Say what a slug is.
                        name.parse::<Issue>()
                    }
                    v => Err(v.into()),
                },
            }
        })
    }

    /// The slug a query's name means, as known at `known_at` (a merge
    /// after that moment has not happened yet; an alias added since still
    /// resolves). A name that appears nowhere in the ledger (no definition,
    /// alias or statement) is an unknown issue, with the nearest names.
    pub fn find_issue(&self, name: &str, known_at: impl Into<KnownAt>) -> Result<Issue> {
        self.read(|q| {
            let k = known(q, known_at.into())?;
            let then = names_at(q, k)?;
            match resolve_in(q, &then, name, k)? {
                Resolved::Issue(s) => return Ok(s),
                Resolved::Ambiguous(c) => return Err(ambiguous(name, c)),
                Resolved::Unknown(_) => {}
            }
            let head = q.watermark()?.seq;
            let now = names_at(q, head)?;
            match resolve_in(q, &now, name, head)? {
                Resolved::Issue(s) => Ok(s),
                Resolved::Ambiguous(c) => Err(ambiguous(name, c)),
                Resolved::Unknown(_) => Err(unknown(q, &now, name, head)?.into()),
            }
        })
    }

    /// The wording (title, proposition, description) in force for `issue`
    /// as known at `known_at`, following merges; `None` when undefined.
    pub fn issue_wording(
        &self,
        issue: &Issue,
        known_at: impl Into<KnownAt>,
    ) -> Result<Option<Wording>> {
        self.read(|q| {
            Ok(names_at(q, known(q, known_at.into())?)?
                .wording(issue)
                .cloned())
        })
    }

    /// Every issue the ledger knows at `known_at` (defined, aliased,
    /// merged, or with statements), by slug.
    pub fn issues(&self, known_at: impl Into<KnownAt>) -> Result<Vec<IssueInfo>> {
        self.read(|q| {
            let k = known(q, known_at.into())?;
            let names = names_at(q, k)?;
            let mut slugs: Vec<Issue> = names.issues.keys().cloned().collect();
            for (s, _, _) in q.issue_counts(k)? {
                if let Ok(s) = s.parse() {
                    slugs.push(s);
                }
            }
            slugs.sort();
            slugs.dedup();
            slugs.iter().map(|s| info(q, &names, s, k)).collect()
        })
    }

    /// One issue, by slug or alias, as known at `known_at`.
    pub fn issue(&self, name: &str, known_at: impl Into<KnownAt>) -> Result<IssueInfo> {
        let known_at: KnownAt = known_at.into();
        let slug = self.find_issue(name, known_at)?;
        self.read(|q| {
            let k = known(q, known_at)?;
            info(q, &names_at(q, k)?, &slug, k)
        })
    }

    /// The defined issues nearest to any of `slugs`, each once, in the
    /// order of the slugs they are near (for the warning about statements
    /// on undefined ones). One read of the naming events for all of them:
    /// an import may name thousands.
    pub fn nearest_defined(&self, slugs: &[Issue]) -> Result<Vec<String>> {
        self.read(|q| {
            let names = names_at(q, q.watermark()?.seq)?;
            let defined: Vec<&str> = names
                .issues
                .iter()
                .filter(|(_, e)| e.wording.is_some())
                .map(|(s, _)| s.as_str())
                .collect();
            let mut out: Vec<String> = Vec::new();
            for slug in slugs {
                for n in nearest(slug.as_str(), defined.iter().copied()) {
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
            Ok(out)
        })
    }

    /// Every actor code of the ledger's statements and definitions, with
    /// the codes of the built-in table, by code.
    pub fn actors(&self) -> Result<Vec<ActorInfo>> {
        self.read(|q| {
            let head = q.watermark()?.seq;
            let names = names_at(q, head)?;
            let mut rows: std::collections::BTreeMap<Actor, u64> =
                std::collections::BTreeMap::new();
            for (code, n) in q.actor_counts(head)? {
                if let Ok(c) = code.parse() {
                    rows.insert(c, n);
                }
            }
            for code in names.actors.keys() {
                rows.entry(code.clone()).or_insert(0);
            }
            Ok(rows
                .into_iter()
                .map(|(code, statements)| {
                    let (name, kind) = match describe(&code, &names) {
                        Some((n, k)) => (Some(n), k),
                        None => (None, "unlisted"),
                    };
                    ActorInfo {
                        code,
                        name,
                        kind,
                        statements,
                    }
                })
                .collect())
        })
    }

    /// The name of an actor code (ISO 3166-1, the built-in table, or the
    /// ledger's definitions), if any names it.
    pub fn actor_name(&self, code: &Actor) -> Result<Option<String>> {
        if let Some(k) = actors::known(code) {
            return Ok(Some(match k {
                Known::Iso(n) | Known::BuiltIn(n, _) => n.to_owned(),
            }));
        }
        self.read(|q| {
            let names = names_at(q, q.watermark()?.seq)?;
            Ok(names.actors.get(code).map(|e| e.name.clone()))
        })
    }

    /// Checks that a query's actor is one the ledger can answer about: a
    /// code of ISO 3166-1, the built-in table or the ledger, or one its
    /// statements use. Otherwise the error hints at the right code.
    pub fn check_actor(&self, code: &Actor) -> Result<()> {
        if actors::known(code).is_some() {
            return Ok(());
        }
        self.read(|q| {
            let head = q.watermark()?.seq;
            let names = names_at(q, head)?;
            let used = q
                .actor_counts(head)?
                .iter()
                .any(|(c, _)| c == code.as_str());
            if used || names.actors.contains_key(code) {
                Ok(())
            } else {
                Err(RuleViolation::UnknownActor(actors::hint(code.as_str())).into())
            }
        })
    }
}

impl Ledger {
    /// The amendment at `seq` with what it changed and from what (the
    /// `changes` and `previous` of `history`), for `log`; `None` when that
    /// event is not an amendment.
    pub fn amendment(&self, seq: u64) -> Result<Option<crate::projection::Edit>> {
        self.read(|q| crate::query::amendment(q, seq))
    }
}

fn ambiguous(name: &str, candidates: Vec<Issue>) -> crate::Error {
    RuleViolation::AmbiguousIssue {
        name: name.to_owned(),
        candidates: candidates.iter().map(|c| c.as_str().to_owned()).collect(),
    }
    .into()
}

/// One issue's listing: its wording, its aliases and those of the slugs
/// merged into it, and the counts over all of them.
fn info(q: &Query<'_>, names: &Names, slug: &Issue, upto: u64) -> Result<IssueInfo> {
    let entry = names.issues.get(slug);
    let merged_into = entry.and_then(|e| e.merged_into.clone());
    let group = if merged_into.is_some() {
        vec![slug.clone()]
    } else {
        names.merged_group(slug)
    };
    let mut aliases = Vec::new();
    for s in &group {
        if let Some(e) = names.issues.get(s) {
            aliases.extend(e.aliases.iter().map(|a| AliasInfo {
                alias: a.alias.clone(),
                lang: a.lang.clone(),
                used_by: a.used_by.clone(),
            }));
        }
    }
    let (statements, actors) = q.group_counts(&group, upto)?;
    let wording = entry.and_then(|e| e.wording.as_ref());
    Ok(IssueInfo {
        slug: slug.clone(),
        title: wording.map(|w| w.title.clone()),
        proposition: wording.map(|w| w.proposition.clone()),
        description: wording.and_then(|w| w.description.clone()),
        aliases,
        statements,
        actors,
        merged_into,
    })
}
