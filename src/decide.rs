//! The rules, and the only place they live: whether a command may be
//! appended, and as which fact. Pure, given a read-only [`View`] of what the
//! ledger already holds. Every way in (append, import, restore) and every
//! replay of the log (rebuild, verify) runs [`decide`], so all five accept
//! exactly the same logs.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::chain::content_id;
use crate::derive::TargetState;
use crate::error::{Result, RuleViolation};
use crate::model::{Command, Fact, Issue};
use crate::names::{normalise as normalise_key, Names};

/// A command and, optionally, the id its fact must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The id given by the user; derived from the content when absent.
    pub id: Option<Uuid>,
    /// What to do.
    pub command: Command,
}

impl Request {
    /// Checks the rules that need no ledger (field limits, no statement
    /// dated after `recorded_on`), so that a caller can refuse a request
    /// before it opens or creates anything.
    pub fn precheck(&self, recorded_on: NaiveDate) -> Result<()> {
        precheck(&self.command, recorded_on)
    }
}

/// What the rules need to know about the ledger.
pub(crate) trait View {
    /// The seq and fact of the event with this id, if any.
    fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>>;
    /// The current state of the statement at `seq`.
    fn target_state(&self, seq: u64) -> Result<TargetState>;
    /// The seq of the latest edit of the statement at `seq`, if any (for
    /// telling a repeated request from one that history has superseded).
    fn latest_edit(&self, seq: u64) -> Result<Option<u64>>;
    /// What the naming events so far say.
    fn names(&self) -> &Names;
    /// Whether any statement is on this slug.
    fn has_statements(&self, issue: &Issue) -> Result<bool>;
}

/// The outcome of applying the rules to a request. Built once per request
/// and matched at once, so the size difference of its variants costs nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decision {
    /// Append this fact under this id; for an edit, `target` is the state
    /// of the statement it edits just before it.
    Append {
        /// The event's id.
        id: Uuid,
        /// What to append.
        fact: Fact,
        /// The state of the targeted statement, for edits.
        target: Option<TargetState>,
    },
    /// The same event (same id, same content) is already in the ledger.
    AlreadyRecorded {
        /// The id already present.
        id: Uuid,
        /// Where it is.
        seq: u64,
        /// The later event that undid it, if one did: the retraction of a
        /// statement, or a later amendment of the statement an amendment
        /// corrected. Appending it again would then not be a repeat but a
        /// new request, and is not skipped in silence.
        superseded_by: Option<u64>,
    },
}

/// The rules that need no ledger: field limits and no statement from the
/// future. Lets a command fail before it creates anything.
pub(crate) fn precheck(command: &Command, recorded_on: NaiveDate) -> Result<()> {
    command.validate()?;
    // Today is up to UTC+14 somewhere: a statement made today in its
    // speaker's time zone may be dated one day past the UTC date.
    match command.stated_on() {
        Some(d) if d > recorded_on + chrono::Days::new(1) => Err(RuleViolation::FromTheFuture {
            stated_on: d,
            recorded_on,
        }
        .into()),
        _ => Ok(()),
    }
}

/// A rule of new commands that does not bind the facts already in the log
/// (a replay never runs it): an id that claims to be a content id (a UUID
/// v5) must be the content id of the fact it arrives with, so that an
/// altered export line cannot pass off new content under a genuine id.
pub(crate) fn check_content_id(id: Uuid, fact: &Fact) -> Result<()> {
    if id.get_version_num() == 5 {
        let expected = content_id(fact);
        if expected != id {
            return Err(RuleViolation::ContentIdMismatch { id, expected }.into());
        }
    }
    Ok(())
}

/// Applies every rule to `req`, as it would be recorded on `recorded_on`.
pub(crate) fn decide(req: Request, view: &impl View, recorded_on: NaiveDate) -> Result<Decision> {
    precheck(&req.command, recorded_on)?;
    let fact = req.command.into_fact();
    let id = req.id.unwrap_or_else(|| content_id(&fact));
    if let Some((seq, existing)) = view.find(&id)? {
        if existing != fact {
            return Err(RuleViolation::IdInUse { id, seq }.into());
        }
        let superseded_by = match &fact {
            Fact::StatementRecorded(_) => view
                .latest_edit(seq)?
                .filter(|_| view.target_state(seq).is_ok_and(|t| t.retracted)),
            Fact::StatementAmended(a) => match view.find(&a.target)? {
                Some((t, _)) => view.latest_edit(t)?.filter(|&e| e > seq),
                None => None,
            },
            Fact::StatementRetracted(_)
            | Fact::StatementReinstated(_)
            | Fact::IssueDefined(_)
            | Fact::IssueReworded(_)
            | Fact::AliasAdded(_)
            | Fact::AliasRemoved(_)
            | Fact::IssuesMerged(_)
            | Fact::ActorDefined(_) => None,
        };
        return Ok(Decision::AlreadyRecorded {
            id,
            seq,
            superseded_by,
        });
    }
    let target = match &fact {
        Fact::StatementRecorded(s) => {
            usable_slug(view.names(), &s.issue, "record a statement on")?;
            None
        }
        Fact::StatementAmended(a) => Some(live_target(view, &a.target, "amend")?),
        Fact::StatementRetracted(r) => Some(live_target(view, &r.target, "retract")?),
        Fact::StatementReinstated(r) => Some(retracted_target(view, &r.target)?),
        Fact::IssueDefined(_)
        | Fact::IssueReworded(_)
        | Fact::AliasAdded(_)
        | Fact::AliasRemoved(_)
        | Fact::IssuesMerged(_)
        | Fact::ActorDefined(_) => {
            naming_rules(view, &fact)?;
            None
        }
    };
    Ok(Decision::Append { id, fact, target })
}

/// A slug a new event may use as an issue of its own: not merged away, and
/// not another issue's alias (either would split one issue in two).
fn usable_slug(names: &Names, slug: &Issue, verb: &str) -> Result<()> {
    if let Some(into) = names.issues.get(slug).and_then(|e| e.merged_into.as_ref()) {
        return Err(RuleViolation::Conflict(format!(
            "cannot {verb} {slug}: it was merged into {} (use {})",
            into,
            names.canonical(slug)
        ))
        .into());
    }
    if let Some(owner) = names.alias_owner(slug.as_str()) {
        if owner != slug {
            return Err(RuleViolation::Conflict(format!(
                "cannot {verb} {slug}: it is an alias of {} (use {})",
                owner,
                names.canonical(owner)
            ))
            .into());
        }
    }
    Ok(())
}

/// The rules of the naming kinds: definitions once, rewordings of defined
/// issues, aliases that collide with no other issue's slug or alias,
/// merges of known issues without cycles, actor codes that ISO 3166-1 and
/// the built-in table do not already name.
fn naming_rules(view: &impl View, fact: &Fact) -> Result<()> {
    let names = view.names();
    let known = |slug: &Issue| -> Result<bool> {
        Ok(names.issues.contains_key(slug) || view.has_statements(slug)?)
    };
    let conflict = |m: String| Err(RuleViolation::Conflict(m).into());
    let not_found = |m: String| Err(RuleViolation::NotFound(m).into());
    match fact {
        Fact::IssueDefined(d) => {
            usable_slug(names, &d.slug, "define")?;
            if names.is_defined(&d.slug) {
                return conflict(format!(
                    "issue {} is already defined (change its wording with `stancelog issue reword`)",
                    d.slug
                ));
            }
            Ok(())
        }
        Fact::IssueReworded(r) => {
            usable_slug(names, &r.slug, "reword")?;
            if !names.is_defined(&r.slug) {
                return not_found(format!(
                    "issue {} is not defined (define it first with `stancelog issue define`)",
                    r.slug
                ));
            }
            Ok(())
        }
        Fact::AliasAdded(a) => {
            usable_slug(names, &a.slug, "alias")?;
            let key = normalise_key(&a.alias);
            if key == a.slug.as_str() {
                return conflict(format!("{:?} is the slug {} itself", a.alias, a.slug));
            }
            if let Some(owner) = names.alias_owner(&key) {
                let whose = if owner == &a.slug {
                    "already an alias of it".to_owned()
                } else {
                    format!("already an alias of {owner}")
                };
                return conflict(format!(
                    "cannot add alias {:?} to {}: it is {whose}",
                    a.alias, a.slug
                ));
            }
            if let Ok(other) = key.parse::<Issue>() {
                if known(&other)? {
                    return conflict(format!(
                        "cannot add alias {:?} to {}: it is the slug of another issue, {other} (merge the two with `stancelog issue merge`)",
                        a.alias, a.slug
                    ));
                }
            }
            Ok(())
        }
        Fact::AliasRemoved(a) => {
            let key = normalise_key(&a.alias);
            match names.alias_owner(&key) {
                Some(owner) if names.canonical(owner) == names.canonical(&a.slug) => Ok(()),
                _ => not_found(format!("{} has no alias {:?}", a.slug, a.alias)),
            }
        }
        Fact::IssuesMerged(m) => {
            usable_slug(names, &m.from, "merge")?;
            if let Some(into) = names
                .issues
                .get(&m.into)
                .and_then(|e| e.merged_into.as_ref())
            {
                return conflict(format!(
                    "cannot merge into {}: it was merged into {into} (merge into {})",
                    m.into,
                    names.canonical(&m.into)
                ));
            }
            for slug in [&m.from, &m.into] {
                if !known(slug)? {
                    return not_found(format!(
                        "no issue {slug} in this ledger (nothing defines, aliases or records it)"
                    ));
                }
            }
            Ok(())
        }
        Fact::ActorDefined(d) => {
            if crate::actors::known(&d.code).is_some() {
                return conflict(format!(
                    "{} is already a code of ISO 3166-1 or of the built-in table (stancelog actors lists it)",
                    d.code
                ));
            }
            if names.actors.contains_key(&d.code) {
                return conflict(format!("actor {} is already defined", d.code));
            }
            Ok(())
        }
        Fact::StatementRecorded(_)
        | Fact::StatementAmended(_)
        | Fact::StatementRetracted(_)
        | Fact::StatementReinstated(_) => Ok(()),
    }
}

/// A rule of new commands (a replay never runs it, so statements recorded
/// before it keep their codes): a new statement's actor, and the actors
/// an alias is used by, are ISO 3166-1 alpha-3, built in, or defined.
pub(crate) fn check_actors(fact: &Fact, names: &Names) -> Result<()> {
    let ok =
        |a: &crate::model::Actor| crate::actors::known(a).is_some() || names.actors.contains_key(a);
    let codes: Vec<&crate::model::Actor> = match fact {
        Fact::StatementRecorded(s) => vec![&s.actor],
        Fact::AliasAdded(a) => a.used_by.iter().collect(),
        _ => Vec::new(),
    };
    for c in codes {
        if !ok(c) {
            return Err(RuleViolation::UnknownActor(crate::actors::hint(c.as_str())).into());
        }
    }
    Ok(())
}

/// Finds the statement a reinstatement targets and checks it is retracted.
fn retracted_target(view: &impl View, target: &Uuid) -> Result<TargetState> {
    let (seq, fact) = view.find(target)?.ok_or(RuleViolation::UnknownTarget {
        verb: "reinstate",
        target: *target,
    })?;
    if !matches!(fact, Fact::StatementRecorded(_)) {
        return Err(RuleViolation::NotAStatement {
            verb: "reinstate",
            target: *target,
            kind: fact.kind(),
        }
        .into());
    }
    let state = view.target_state(seq)?;
    if !state.retracted {
        return Err(RuleViolation::NotRetracted { target: *target }.into());
    }
    Ok(state)
}

/// Finds the statement an edit targets and checks it still counts.
fn live_target(view: &impl View, target: &Uuid, verb: &'static str) -> Result<TargetState> {
    let (seq, fact) = view.find(target)?.ok_or(RuleViolation::UnknownTarget {
        verb,
        target: *target,
    })?;
    if !matches!(fact, Fact::StatementRecorded(_)) {
        return Err(RuleViolation::NotAStatement {
            verb,
            target: *target,
            kind: fact.kind(),
        }
        .into());
    }
    let state = view.target_state(seq)?;
    if state.retracted {
        return Err(RuleViolation::AlreadyRetracted {
            verb,
            target: *target,
        }
        .into());
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    //! Given what the ledger holds, when a command arrives, then this is
    //! decided: the rules tested at the rules, with a plain map as the view.

    use std::collections::HashMap;

    use super::*;
    use crate::error::Error;
    use crate::model::{Amendment, Position, Retraction, Statement};

    #[derive(Default)]
    struct Given {
        events: HashMap<Uuid, (u64, Fact)>,
        states: HashMap<u64, TargetState>,
        edits: HashMap<u64, u64>,
        names: Names,
    }

    impl View for Given {
        fn find(&self, id: &Uuid) -> Result<Option<(u64, Fact)>> {
            Ok(self.events.get(id).cloned())
        }
        fn target_state(&self, seq: u64) -> Result<TargetState> {
            Ok(self.states[&seq].clone())
        }
        fn latest_edit(&self, seq: u64) -> Result<Option<u64>> {
            Ok(self.edits.get(&seq).copied())
        }
        fn names(&self) -> &Names {
            &self.names
        }
        fn has_statements(&self, issue: &Issue) -> Result<bool> {
            Ok(self
                .events
                .values()
                .any(|(_, f)| matches!(f, Fact::StatementRecorded(s) if &s.issue == issue)))
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn statement() -> Statement {
        Statement {
            actor: "JPN".parse().unwrap(),
            issue: "north-korea-sanctions-relief".parse().unwrap(),
            position: Position::Oppose,
            stated_on: day("2019-12-23"),
            summary: "Too soon to consider easing sanctions.".into(),
            quote: None,
            speaker: None,
            source_url: None,
            source_title: None,
            details: Default::default(),
        }
    }

    fn amendment(target: Uuid) -> Amendment {
        Amendment {
            target,
            reason: "misread".into(),
            position: Some(Position::Mixed),
            stated_on: None,
            summary: None,
            quote: None,
            speaker: None,
            source_url: None,
            source_title: None,
            stated_on_precision: None,
        }
    }

    fn request(command: Command) -> Request {
        Request { id: None, command }
    }

    /// A ledger holding the statement at seq 1 (retracted or not).
    fn given_a_statement(retracted: bool) -> (Given, Uuid) {
        let fact = Fact::StatementRecorded(statement());
        let id = content_id(&fact);
        let mut g = Given::default();
        g.events.insert(id, (1, fact));
        g.states.insert(
            1,
            TargetState {
                seq: 1,
                actor: "JPN".parse().unwrap(),
                issue: "north-korea-sanctions-relief".parse().unwrap(),
                stated_on: day("2019-12-23"),
                retracted,
            },
        );
        (g, id)
    }

    fn violation(r: Result<Decision>) -> RuleViolation {
        match r {
            Err(Error::Rule(v)) => v,
            other => panic!("expected a rule violation, got {other:?}"),
        }
    }

    #[test]
    fn a_new_statement_is_appended_under_its_content_id() {
        let d = decide(
            request(Command::Record(statement())),
            &Given::default(),
            day("2019-12-24"),
        )
        .unwrap();
        let fact = Fact::StatementRecorded(statement());
        assert_eq!(
            d,
            Decision::Append {
                id: content_id(&fact),
                fact,
                target: None
            }
        );
    }

    #[test]
    fn the_same_statement_again_is_already_recorded() {
        let (g, id) = given_a_statement(false);
        let d = decide(request(Command::Record(statement())), &g, day("2019-12-24")).unwrap();
        assert_eq!(
            d,
            Decision::AlreadyRecorded {
                id,
                seq: 1,
                superseded_by: None
            }
        );
    }

    #[test]
    fn the_same_statement_after_its_retraction_is_superseded_not_a_repeat() {
        let (mut g, id) = given_a_statement(true);
        g.edits.insert(1, 7);
        let d = decide(request(Command::Record(statement())), &g, day("2019-12-24")).unwrap();
        assert_eq!(
            d,
            Decision::AlreadyRecorded {
                id,
                seq: 1,
                superseded_by: Some(7)
            }
        );
    }

    #[test]
    fn a_correction_reverted_by_a_later_amendment_is_superseded() {
        let (mut g, id) = given_a_statement(false);
        let edit = Fact::StatementAmended(amendment(id));
        let edit_id = content_id(&edit);
        g.events.insert(edit_id, (2, edit));
        g.edits.insert(1, 3);
        let d = decide(
            request(Command::Amend(amendment(id))),
            &g,
            day("2020-01-01"),
        )
        .unwrap();
        assert_eq!(
            d,
            Decision::AlreadyRecorded {
                id: edit_id,
                seq: 2,
                superseded_by: Some(3)
            }
        );
    }

    #[test]
    fn an_id_that_claims_to_be_a_content_id_must_match_its_content() {
        let mut other = statement();
        other.position = Position::Support;
        let genuine = content_id(&Fact::StatementRecorded(statement()));
        let altered = Fact::StatementRecorded(other);
        assert!(matches!(
            check_content_id(genuine, &altered),
            Err(Error::Rule(RuleViolation::ContentIdMismatch { .. }))
        ));
        let own = Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef);
        assert!(check_content_id(own, &altered).is_ok());
        assert!(check_content_id(content_id(&altered), &altered).is_ok());
    }

    #[test]
    fn an_id_taken_by_other_content_is_a_conflict() {
        let (g, id) = given_a_statement(false);
        let mut other = statement();
        other.position = Position::Support;
        let req = Request {
            id: Some(id),
            command: Command::Record(other),
        };
        assert_eq!(
            violation(decide(req, &g, day("2019-12-24"))),
            RuleViolation::IdInUse { id, seq: 1 }
        );
    }

    #[test]
    fn an_amendment_of_a_live_statement_carries_its_state() {
        let (g, id) = given_a_statement(false);
        let d = decide(
            request(Command::Amend(amendment(id))),
            &g,
            day("2019-12-24"),
        )
        .unwrap();
        let Decision::Append { target, fact, .. } = d else {
            panic!("not appended: {d:?}")
        };
        assert_eq!(target, Some(g.states[&1].clone()));
        assert_eq!(fact, Fact::StatementAmended(amendment(id)));
    }

    #[test]
    fn edits_of_unknown_ids_are_not_found() {
        let target = Uuid::from_u128(9);
        let g = Given::default();
        assert_eq!(
            violation(decide(
                request(Command::Amend(amendment(target))),
                &g,
                day("2020-01-01")
            )),
            RuleViolation::UnknownTarget {
                verb: "amend",
                target
            }
        );
        let retract = Command::Retract(Retraction {
            target,
            reason: "r".into(),
        });
        assert_eq!(
            violation(decide(request(retract), &g, day("2020-01-01"))),
            RuleViolation::UnknownTarget {
                verb: "retract",
                target
            }
        );
    }

    #[test]
    fn an_edit_must_target_a_statement() {
        let (mut g, id) = given_a_statement(false);
        let edit = Fact::StatementAmended(amendment(id));
        let edit_id = content_id(&edit);
        g.events.insert(edit_id, (2, edit));
        assert_eq!(
            violation(decide(
                request(Command::Amend(amendment(edit_id))),
                &g,
                day("2020-01-01")
            )),
            RuleViolation::NotAStatement {
                verb: "amend",
                target: edit_id,
                kind: "amendment"
            }
        );
    }

    #[test]
    fn a_retracted_statement_cannot_be_edited() {
        let (g, id) = given_a_statement(true);
        assert_eq!(
            violation(decide(
                request(Command::Amend(amendment(id))),
                &g,
                day("2020-01-01")
            )),
            RuleViolation::AlreadyRetracted {
                verb: "amend",
                target: id
            }
        );
    }

    #[test]
    fn nothing_is_stated_after_the_day_it_is_recorded() {
        assert_eq!(
            violation(decide(
                request(Command::Record(statement())),
                &Given::default(),
                day("2019-12-21")
            )),
            RuleViolation::FromTheFuture {
                stated_on: day("2019-12-23"),
                recorded_on: day("2019-12-21")
            }
        );
        // The same day is not the future, nor is the next (UTC+14 is a day
        // ahead of UTC for part of every day).
        for recorded in ["2019-12-23", "2019-12-22"] {
            assert!(decide(
                request(Command::Record(statement())),
                &Given::default(),
                day(recorded)
            )
            .is_ok());
        }
    }

    #[test]
    fn field_limits_are_checked_before_the_ledger_is_asked() {
        let mut s = statement();
        s.summary = "x".repeat(crate::model::MAX_SUMMARY + 1);
        let v = violation(decide(
            request(Command::Record(s)),
            &Given::default(),
            day("2020-01-01"),
        ));
        assert_eq!(
            v,
            RuleViolation::InvalidValue("summary is 1001 characters long (at most 1000)".into())
        );
        let mut a = amendment(Uuid::from_u128(1));
        a.position = None;
        let v = violation(decide(
            request(Command::Amend(a)),
            &Given::default(),
            day("2020-01-01"),
        ));
        assert!(
            matches!(v, RuleViolation::InvalidValue(m) if m.starts_with("amendment changes nothing"))
        );
    }

    // The naming kinds and reinstatement.

    use crate::model::{
        ActorDefinition, Alias, AliasRemoval, IssueDefinition, IssueMerge, IssueRewording,
        Reinstatement,
    };

    fn slug(s: &str) -> Issue {
        s.parse().unwrap()
    }

    fn define(s: &str) -> Command {
        Command::DefineIssue(IssueDefinition {
            slug: slug(s),
            title: "t".into(),
            proposition: "p".into(),
            description: None,
        })
    }

    fn alias(s: &str, a: &str) -> Command {
        Command::AddAlias(Alias {
            slug: slug(s),
            alias: a.into(),
            lang: None,
            used_by: vec![],
        })
    }

    /// A ledger where `facts` were decided and applied in order.
    fn given_names(commands: Vec<Command>) -> Given {
        let mut g = Given::default();
        for (i, c) in commands.into_iter().enumerate() {
            let fact = c.into_fact();
            g.names.apply(&fact);
            g.events.insert(content_id(&fact), (100 + i as u64, fact));
        }
        g
    }

    fn refused(g: &Given, c: Command) -> RuleViolation {
        violation(decide(request(c), g, day("2020-01-01")))
    }

    #[test]
    fn an_issue_is_defined_once_and_reworded_only_when_defined() {
        let g = given_names(vec![define("senkaku-islands")]);
        // The same definition again is a repeat; another one is refused.
        let mut other = define("senkaku-islands");
        if let Command::DefineIssue(d) = &mut other {
            d.title = "another title".into();
        }
        assert!(
            matches!(refused(&g, other), RuleViolation::Conflict(m) if m.contains("already defined"))
        );
        let reword = |s: &str| {
            Command::RewordIssue(IssueRewording {
                slug: slug(s),
                reason: "r".into(),
                title: Some("new".into()),
                proposition: None,
                description: None,
            })
        };
        assert!(decide(request(reword("senkaku-islands")), &g, day("2020-01-01")).is_ok());
        assert!(matches!(
            refused(&g, reword("hong-kong-protests")),
            RuleViolation::NotFound(_)
        ));
    }

    #[test]
    fn an_alias_may_not_collide_with_another_issues_slug_or_alias() {
        let g = given_names(vec![
            define("senkaku-islands"),
            define("east-china-sea-restraint"),
            alias("senkaku-islands", "Diaoyu Islands"),
        ]);
        // Same normal form as an existing alias, in another case and spacing.
        assert!(matches!(
            refused(&g, alias("east-china-sea-restraint", "DIAOYU   islands")),
            RuleViolation::Conflict(m) if m.contains("already an alias of senkaku-islands")
        ));
        // Another issue's slug, written as a name.
        assert!(matches!(
            refused(&g, alias("senkaku-islands", "East China Sea Restraint")),
            RuleViolation::Conflict(m) if m.contains("slug of another issue")
        ));
        assert!(decide(
            request(alias("senkaku-islands", "尖閣諸島")),
            &g,
            day("2020-01-01")
        )
        .is_ok());
        // A statement may not take an alias's normal form as its slug.
        let mut s = statement();
        s.issue = slug("diaoyu-islands");
        assert!(
            matches!(refused(&g, Command::Record(s)), RuleViolation::Conflict(m) if m.contains("alias of senkaku-islands"))
        );
    }

    #[test]
    fn an_alias_is_removed_only_from_the_issue_that_has_it() {
        let g = given_names(vec![define("a"), define("b"), alias("a", "Alpha")]);
        let unalias = |s: &str, a: &str| {
            Command::RemoveAlias(AliasRemoval {
                slug: slug(s),
                alias: a.into(),
                reason: "r".into(),
            })
        };
        assert!(matches!(
            refused(&g, unalias("b", "alpha")),
            RuleViolation::NotFound(_)
        ));
        assert!(decide(request(unalias("a", "ALPHA")), &g, day("2020-01-01")).is_ok());
    }

    #[test]
    fn merges_join_known_issues_once_and_the_slug_merged_away_takes_no_new_statements() {
        let merge = |f: &str, i: &str| {
            Command::MergeIssues(IssueMerge {
                from: slug(f),
                into: slug(i),
                reason: "one dispute".into(),
            })
        };
        let g = given_names(vec![define("senkaku-islands"), define("diaoyu-islands")]);
        assert!(matches!(
            refused(&g, merge("diaoyu-islands", "nowhere")),
            RuleViolation::NotFound(_)
        ));
        let g = given_names(vec![
            define("senkaku-islands"),
            define("diaoyu-islands"),
            define("diaoyu"),
            merge("diaoyu-islands", "senkaku-islands"),
        ]);
        let mut again = merge("diaoyu-islands", "senkaku-islands");
        if let Command::MergeIssues(m) = &mut again {
            m.reason = "again".into();
        }
        assert!(matches!(refused(&g, again), RuleViolation::Conflict(_)));
        // Into a slug merged away: named, with where it went.
        assert!(matches!(
            refused(&g, merge("diaoyu", "diaoyu-islands")),
            RuleViolation::Conflict(m) if m.contains("merge into senkaku-islands")
        ));
        let mut s = statement();
        s.issue = slug("diaoyu-islands");
        assert!(
            matches!(refused(&g, Command::Record(s)), RuleViolation::Conflict(m) if m.contains("merged into senkaku-islands"))
        );
    }

    #[test]
    fn actor_codes_of_iso_or_the_built_in_table_are_not_redefined() {
        let def = |c: &str| {
            Command::DefineActor(ActorDefinition {
                code: c.parse().unwrap(),
                name: "n".into(),
                kind: None,
            })
        };
        let g = given_names(vec![Command::DefineActor(ActorDefinition {
            code: "QUAD".parse().unwrap(),
            name: "Quadrilateral Security Dialogue".into(),
            kind: None,
        })]);
        for c in ["JPN", "EU", "XKX", "QUAD"] {
            assert!(
                matches!(refused(&g, def(c)), RuleViolation::Conflict(_)),
                "{c}"
            );
        }
        assert!(decide(request(def("AUKUS")), &g, day("2020-01-01")).is_ok());
        // New statements need a known code; the rule is the command's.
        let mut s = statement();
        s.actor = "JP".parse().unwrap();
        let e = check_actors(&Fact::StatementRecorded(s.clone()), &g.names).unwrap_err();
        assert!(e.to_string().contains("JPN (Japan)"), "{e}");
        s.actor = "QUAD".parse().unwrap();
        assert!(check_actors(&Fact::StatementRecorded(s), &g.names).is_ok());
    }

    #[test]
    fn only_a_retracted_statement_is_reinstated() {
        let reinstate = |target| {
            Command::Reinstate(Reinstatement {
                target,
                reason: "retracted by mistake".into(),
            })
        };
        let (g, id) = given_a_statement(false);
        assert_eq!(
            refused(&g, reinstate(id)),
            RuleViolation::NotRetracted { target: id }
        );
        let (g, id) = given_a_statement(true);
        let d = decide(request(reinstate(id)), &g, day("2020-01-01")).unwrap();
        let Decision::Append {
            target: Some(t), ..
        } = d
        else {
            panic!("not appended: {d:?}")
        };
        assert!(t.retracted, "the state just before the reinstatement");
        assert!(!t.after(&reinstate(id).into_fact()).retracted);
    }
}
