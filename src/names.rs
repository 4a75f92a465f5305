//! What the ledger's naming events say: which issues are defined (with the
//! wording in force), their aliases, which slugs were merged into which,
//! and the actor codes the ledger defines. A pure fold of those events (no
//! I/O, no rules): the rules (`decide`), the replay and the queries all
//! build it the same way, so a name resolves alike everywhere.
//!
//! Aliases are matched by a normal form ([`normalise`]): Unicode NFKC,
//! lowercased, with every run of spaces, hyphens and underscores one `-`.
//! So `Diaoyu Islands`, `diaoyu-islands` and `ＤＩＡＯＹＵ　ＩＳＬＡＮＤＳ`
//! (full width) are one name, and a slug is its own normal form.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::event::Event;
use crate::model::{Actor, ActorKind, Fact, Issue};

/// The normal form names are compared in: NFKC, lowercase (full Unicode
/// lowercasing, which covers every script with case), every run of
/// whitespace, hyphens (any dash punctuation) and underscores made one `-`,
/// none at either end.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.nfkc().flat_map(char::to_lowercase) {
        let is_gap = c.is_whitespace() || c == '_' || is_dash(c);
        if is_gap {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push('-');
                gap = false;
            }
            out.push(c);
        }
    }
    out
}

/// Hyphens and dashes that NFKC leaves apart from `-`.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// The wording of a defined issue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wording {
    /// Short title.
    pub title: String,
    /// The proposition support and oppose refer to.
    pub proposition: String,
    /// Background.
    pub description: Option<String>,
}

/// An alias in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasEntry {
    /// As written.
    pub alias: String,
    /// Its language.
    pub lang: Option<String>,
    /// Who uses it.
    pub used_by: Vec<Actor>,
}

/// What the naming events say about one slug.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueEntry {
    /// The wording in force, if it was defined.
    pub wording: Option<Wording>,
    /// Its aliases in force, in the order added.
    pub aliases: Vec<AliasEntry>,
    /// The slug it was merged into (directly), if it was.
    pub merged_into: Option<Issue>,
}

/// An actor code the ledger defines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorEntry {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: Option<ActorKind>,
}

/// The fold of the naming events up to some seq.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Every slug a naming event mentions.
    pub issues: BTreeMap<Issue, IssueEntry>,
    /// Every actor code defined.
    pub actors: BTreeMap<Actor, ActorEntry>,
    /// Alias normal form -> the slug it was added to.
    keys: BTreeMap<String, Issue>,
}

/// How a name resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// To this slug (after following merges).
    Issue(Issue),
    /// To several slugs: the caller must say which.
    Ambiguous(Vec<Issue>),
    /// To nothing the ledger knows; `Some` when the name is itself a valid
    /// slug, written as one (a new issue).
    Unknown(Option<Issue>),
}

impl Names {
    /// Builds the fold from naming events (others are ignored).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Names {
        let mut n = Names::default();
        for e in events {
            n.apply(&e.payload);
        }
        n
    }

    /// Applies one fact; facts that name nothing change nothing. No rules:
    /// those are `decide`'s, which runs before a fact is applied.
    pub fn apply(&mut self, fact: &Fact) {
        match fact {
            Fact::IssueDefined(d) => {
                self.issues.entry(d.slug.clone()).or_default().wording = Some(Wording {
                    title: d.title.clone(),
                    proposition: d.proposition.clone(),
                    description: d.description.clone(),
                });
            }
            Fact::IssueReworded(r) => {
                let w = self
                    .issues
                    .entry(r.slug.clone())
                    .or_default()
                    .wording
                    .get_or_insert_with(Wording::default);
                if let Some(t) = &r.title {
                    w.title.clone_from(t);
                }
                if let Some(p) = &r.proposition {
                    w.proposition.clone_from(p);
                }
                if let Some(d) = &r.description {
                    w.description = Some(d.clone());
                }
            }
            Fact::AliasAdded(a) => {
                self.keys.insert(normalise(&a.alias), a.slug.clone());
                self.issues
                    .entry(a.slug.clone())
                    .or_default()
                    .aliases
                    .push(AliasEntry {
                        alias: a.alias.clone(),
                        lang: a.lang.clone(),
                        used_by: a.used_by.clone(),
                    });
            }
            Fact::AliasRemoved(a) => {
                let key = normalise(&a.alias);
                self.keys.remove(&key);
                if let Some(e) = self.issues.get_mut(&a.slug) {
                    e.aliases.retain(|x| normalise(&x.alias) != key);
                }
            }
            Fact::IssuesMerged(m) => {
                self.issues.entry(m.into.clone()).or_default();
                self.issues.entry(m.from.clone()).or_default().merged_into = Some(m.into.clone());
            }
            Fact::ActorDefined(d) => {
                self.actors.insert(
                    d.code.clone(),
                    ActorEntry {
                        name: d.name.clone(),
                        kind: d.kind,
                    },
                );
            }
            Fact::StatementRecorded(_)
            | Fact::StatementAmended(_)
            | Fact::StatementRetracted(_)
            | Fact::StatementReinstated(_) => {}
        }
    }

    /// The slug `slug` names after every merge (itself if never merged).
    /// Merges never form a cycle (the rules refuse one), but a bound keeps
    /// a damaged read model from looping.
    pub fn canonical(&self, slug: &Issue) -> Issue {
        let mut at = slug;
        for _ in 0..=self.issues.len() {
            match self.issues.get(at).and_then(|e| e.merged_into.as_ref()) {
                Some(next) => at = next,
                None => break,
            }
        }
        at.clone()
    }

    /// The slugs merged (directly or not) into `slug`, itself included.
    pub fn merged_group(&self, slug: &Issue) -> Vec<Issue> {
        let target = self.canonical(slug);
        let mut out: Vec<Issue> = self
            .issues
            .keys()
            .filter(|s| self.canonical(s) == target)
            .cloned()
            .collect();
        if !out.contains(&target) {
            out.push(target);
        }
        out.sort();
        out
    }

    /// The slug whose alias has this normal form, if any.
    pub fn alias_owner(&self, key: &str) -> Option<&Issue> {
        self.keys.get(key)
    }

    /// Whether the issue is defined (has a wording).
    pub fn is_defined(&self, slug: &Issue) -> bool {
        self.issues.get(slug).is_some_and(|e| e.wording.is_some())
    }

    /// The wording in force for `slug` (following merges).
    pub fn wording(&self, slug: &Issue) -> Option<&Wording> {
        let c = self.canonical(slug);
        self.issues.get(&c).and_then(|e| e.wording.as_ref())
    }

    /// Resolves a name (a slug or an alias, in any case or spacing) to the
    /// slug it names now. `has_statements` tells whether a slug has
    /// statements (a slug alone is a valid issue).
    pub fn resolve(&self, name: &str, has_statements: &dyn Fn(&Issue) -> bool) -> Resolved {
        let key = normalise(name);
        let mut found: Vec<Issue> = Vec::new();
        let as_slug = key.parse::<Issue>().ok();
        if let Some(s) = &as_slug {
            if self.issues.contains_key(s) || has_statements(s) {
                found.push(self.canonical(s));
            }
        }
        if let Some(owner) = self.keys.get(&key) {
            found.push(self.canonical(owner));
        }
        found.sort();
        found.dedup();
        match found.len() {
            // A new slug only as written: "Senkaku Islands" names an
            // existing issue, but does not coin one.
            0 => Resolved::Unknown(name.parse().ok()),
            1 => Resolved::Issue(found.remove(0)),
            _ => Resolved::Ambiguous(found),
        }
    }

    /// Every name a user may mean by a slug: slugs and aliases, with the
    /// slug each names, for suggestions.
    pub fn all_names(&self) -> Vec<(String, Issue)> {
        let mut out: Vec<(String, Issue)> = self
            .issues
            .keys()
            .map(|s| (s.as_str().to_owned(), self.canonical(s)))
            .collect();
        for (slug, e) in &self.issues {
            for a in &e.aliases {
                out.push((a.alias.clone(), self.canonical(slug)));
            }
        }
        out
    }
}

/// The names among `candidates` nearest to `name` (by normalised
/// Jaro-Winkler similarity, at least 0.8, or one containing the other),
/// best first, at most three.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let key = normalise(name);
    let mut scored: Vec<(f64, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let ck = normalise(c);
            if ck == key || ck.is_empty() || key.is_empty() {
                return None;
            }
            let mut score = strsim::jaro_winkler(&key, &ck);
            if ck.contains(&key) || key.contains(&ck) {
                score = score.max(0.85);
            }
            (score >= 0.8).then(|| (score, c.to_owned()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Alias, IssueDefinition, IssueMerge};

    fn slug(s: &str) -> Issue {
        s.parse().unwrap()
    }

    fn alias(slug_: &str, a: &str) -> Fact {
        Fact::AliasAdded(Alias {
            slug: slug(slug_),
            alias: a.into(),
            lang: None,
            used_by: vec![],
        })
    }

    #[test]
    fn normal_forms_ignore_case_width_spacing_and_hyphens() {
        assert_eq!(normalise("Diaoyu Islands"), "diaoyu-islands");
        assert_eq!(normalise("  diaoyu--islands "), "diaoyu-islands");
        assert_eq!(normalise("DIAOYU_ISLANDS"), "diaoyu-islands");
        // Full-width letters and the ideographic space (NFKC).
        assert_eq!(
            normalise("ＤＩＡＯＹＵ\u{3000}Ｉｓｌａｎｄｓ"),
            "diaoyu-islands"
        );
        assert_eq!(normalise("Islas   Malvinas"), "islas-malvinas");
        assert_eq!(normalise("尖閣諸島"), "尖閣諸島");
        // Composed and decomposed accents are one name.
        assert_eq!(normalise("Cafe\u{301}"), normalise("Café"));
        assert_eq!(normalise("- -"), "");
    }

    #[test]
    fn names_resolve_by_slug_or_alias_in_any_script() {
        let mut n = Names::default();
        n.apply(&Fact::IssueDefined(IssueDefinition {
            slug: slug("senkaku-islands"),
            title: "Senkaku".into(),
            proposition: "p".into(),
            description: None,
        }));
        for a in ["Diaoyu Islands", "钓鱼岛", "尖閣諸島"] {
            n.apply(&alias("senkaku-islands", a));
        }
        let none = |_: &Issue| false;
        for name in [
            "senkaku-islands",
            "diaoyu islands",
            "DIAOYU-ISLANDS",
            "钓鱼岛",
            "尖閣諸島",
        ] {
            assert_eq!(
                n.resolve(name, &none),
                Resolved::Issue(slug("senkaku-islands")),
                "{name}"
            );
        }
        assert_eq!(
            n.resolve("senkaku-island", &none),
            Resolved::Unknown(Some(slug("senkaku-island")))
        );
        assert_eq!(n.resolve("釣魚台", &none), Resolved::Unknown(None));
        let has = |s: &Issue| s.as_str() == "hong-kong-protests";
        assert_eq!(
            n.resolve("Hong Kong Protests", &has),
            Resolved::Issue(slug("hong-kong-protests"))
        );
    }

    #[test]
    fn a_name_that_is_one_slug_and_another_issues_alias_is_ambiguous() {
        let mut n = Names::default();
        n.apply(&alias("senkaku-islands", "Diaoyu"));
        let has = |s: &Issue| s.as_str() == "diaoyu";
        assert_eq!(
            n.resolve("diaoyu", &has),
            Resolved::Ambiguous(vec![slug("diaoyu"), slug("senkaku-islands")])
        );
    }

    #[test]
    fn a_merged_slug_and_its_aliases_name_the_issue_it_was_merged_into() {
        let mut n = Names::default();
        n.apply(&alias("diaoyu-islands", "钓鱼岛"));
        for (from, into) in [
            ("diaoyu-islands", "senkaku"),
            ("senkaku", "senkaku-islands"),
        ] {
            n.apply(&Fact::IssuesMerged(IssueMerge {
                from: slug(from),
                into: slug(into),
                reason: "same dispute".into(),
            }));
        }
        let none = |_: &Issue| false;
        for name in ["diaoyu-islands", "钓鱼岛", "senkaku"] {
            assert_eq!(
                n.resolve(name, &none),
                Resolved::Issue(slug("senkaku-islands"))
            );
        }
        assert_eq!(
            n.merged_group(&slug("senkaku-islands")),
            vec![
                slug("diaoyu-islands"),
                slug("senkaku"),
                slug("senkaku-islands")
            ]
        );
    }

    #[test]
    fn typos_are_matched_to_the_nearest_names() {
        let names = ["hong-kong-protests", "senkaku-islands", "xinjiang-uighurs"];
        assert_eq!(
            nearest("hong-kong-protest", names),
            vec!["hong-kong-protests".to_owned()]
        );
        assert_eq!(
            nearest("senkaku-island", names),
            vec!["senkaku-islands".to_owned()]
        );
        assert!(nearest("zzz", names).is_empty());
    }
}
