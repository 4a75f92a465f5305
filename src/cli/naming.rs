//! `issue define|reword|alias|unalias|merge|show`, `issues`, `actor define`
//! and `actors`: what issues propose and what they are called, and who the
//! actors are. Writes go through the same path as `record`.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use uuid::Uuid;

use stancelog::{
    Actor, ActorDefinition, ActorKind, Alias, AliasRemoval, Command as LedgerCommand,
    IssueDefinition, IssueInfo, IssueMerge, IssueRewording, KnownAt, Request,
};

use super::{env, open, parse, table, text, write, Global};

#[derive(Subcommand, Debug)]
pub enum IssueCommand {
    /// Define an issue: the proposition that support and oppose refer to
    Define(DefineArgs),
    /// Change a defined issue's wording (the old one stays on the known-at axis)
    Reword(RewordArgs),
    /// Add another name for an issue, in any script
    Alias(AliasArgs),
    /// Remove an alias
    Unalias(UnaliasArgs),
    /// Merge one issue into another: afterwards FROM names INTO everywhere
    Merge(MergeArgs),
    /// One issue, by slug or alias
    Show(ShowArgs),
}

#[derive(Args, Debug)]
pub struct DefineArgs {
    /// The slug, e.g. senkaku-islands
    #[arg(value_parser = parse::issue)]
    slug: stancelog::Issue,
    /// A short title
    #[arg(long, value_parser = parse::visible_text)]
    title: String,
    /// The full sentence support and oppose refer to
    #[arg(long, value_parser = parse::visible_text)]
    proposition: String,
    /// Background
    #[arg(long, value_parser = parse::visible_text)]
    description: Option<String>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

#[derive(Args, Debug)]
pub struct RewordArgs {
    /// The issue, by slug or alias
    #[arg(value_name = "SLUG")]
    slug: String,
    /// Why the wording changes
    #[arg(long, value_parser = parse::visible_text)]
    reason: String,
    /// New title
    #[arg(long, value_parser = parse::visible_text)]
    title: Option<String>,
    /// New proposition
    #[arg(long, value_parser = parse::visible_text)]
    proposition: Option<String>,
    /// New description
    #[arg(long, value_parser = parse::visible_text)]
    description: Option<String>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

#[derive(Args, Debug)]
pub struct AliasArgs {
    /// The issue, by slug or alias
    #[arg(value_name = "SLUG")]
    slug: String,
    /// The other name, e.g. "Diaoyu Islands" or 钓鱼岛
    #[arg(value_parser = parse::visible_text)]
    alias: String,
    /// Its language (a tag such as zh, ja, es)
    #[arg(long)]
    lang: Option<String>,
    /// An actor that uses this name (repeatable)
    #[arg(long = "used-by", value_parser = parse::actor, value_name = "ACTOR")]
    used_by: Vec<Actor>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

#[derive(Args, Debug)]
pub struct UnaliasArgs {
    /// The issue, by slug
    #[arg(value_name = "SLUG")]
    slug: String,
    /// The alias to remove
    #[arg(value_parser = parse::visible_text)]
    alias: String,
    /// Why
    #[arg(long, value_parser = parse::visible_text)]
    reason: String,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The issue merged away, by slug or alias
    from: String,
    /// The issue it now names, by slug or alias
    into: String,
    /// Why they are one issue
    #[arg(long, value_parser = parse::visible_text)]
    reason: String,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The issue, by slug or alias
    name: String,
    /// Only events recorded at or before this moment, or seq:N
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
}

#[derive(Args, Debug)]
pub struct IssuesArgs {
    /// Only events recorded at or before this moment, or seq:N
    #[arg(long, value_parser = parse::known_at, value_name = "TIME")]
    known_at: Option<KnownAt>,
}

#[derive(Subcommand, Debug)]
pub enum ActorCommand {
    /// Define an actor code that ISO 3166-1 and the built-in table lack
    Define(ActorDefineArgs),
}

#[derive(Args, Debug)]
pub struct ActorDefineArgs {
    /// The code: 2-16 characters of A-Z, 0-9, '-', '_'
    #[arg(value_parser = parse::actor)]
    code: Actor,
    /// Its name
    #[arg(long, value_parser = parse::visible_text)]
    name: String,
    /// state, organisation, party or other
    #[arg(long, value_parser = parse::actor_kind)]
    kind: Option<ActorKind>,
    /// Use this id instead of one derived from the content
    #[arg(long, value_parser = parse::uuid, value_name = "UUID")]
    id: Option<Uuid>,
    #[command(flatten)]
    by: env::By,
}

/// The slug a command's name gives, if a ledger exists to resolve it in
/// (a write to a new ledger takes the slug as given).
fn slug_of(g: &Global, name: &str) -> Result<stancelog::Issue> {
    match open::open_read(g) {
        Ok(l) => Ok(l.resolve_issue(name)?),
        Err(_) => Ok(name.parse()?),
    }
}

/// A slug as given (so that the rules can say a slug was merged away), or
/// the slug an alias names.
fn exact_slug(g: &Global, name: &str) -> Result<stancelog::Issue> {
    match name.parse() {
        Ok(slug) => Ok(slug),
        Err(_) => slug_of(g, name),
    }
}

pub fn issue(g: &Global, out: &mut impl Write, c: IssueCommand) -> Result<()> {
    let (id, by, command) = match c {
        IssueCommand::Define(a) => (
            a.id,
            a.by,
            LedgerCommand::DefineIssue(IssueDefinition {
                slug: a.slug,
                title: a.title,
                proposition: a.proposition,
                description: a.description,
            }),
        ),
        IssueCommand::Reword(a) => (
            a.id,
            a.by,
            LedgerCommand::RewordIssue(IssueRewording {
                slug: slug_of(g, &a.slug)?,
                reason: a.reason,
                title: a.title,
                proposition: a.proposition,
                description: a.description,
            }),
        ),
        IssueCommand::Alias(a) => {
            let mut used_by = a.used_by;
            used_by.sort();
            used_by.dedup();
            (
                a.id,
                a.by,
                LedgerCommand::AddAlias(Alias {
                    slug: slug_of(g, &a.slug)?,
                    alias: a.alias,
                    lang: a.lang,
                    used_by,
                }),
            )
        }
        IssueCommand::Unalias(a) => (
            a.id,
            a.by,
            LedgerCommand::RemoveAlias(AliasRemoval {
                slug: a.slug.parse()?,
                alias: a.alias,
                reason: a.reason,
            }),
        ),
        IssueCommand::Merge(a) => (
            a.id,
            a.by,
            LedgerCommand::MergeIssues(IssueMerge {
                from: exact_slug(g, &a.from)?,
                into: exact_slug(g, &a.into)?,
                reason: a.reason,
            }),
        ),
        IssueCommand::Show(a) => return show(g, out, a),
    };
    write::write_one(g, &by, out, Request { id, command })
}

pub fn actor(g: &Global, out: &mut impl Write, c: ActorCommand) -> Result<()> {
    let ActorCommand::Define(a) = c;
    let command = LedgerCommand::DefineActor(ActorDefinition {
        code: a.code,
        name: a.name,
        kind: a.kind,
    });
    write::write_one(g, &a.by, out, Request { id: a.id, command })
}

fn show(g: &Global, out: &mut impl Write, a: ShowArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let info = ledger.issue(&a.name, a.known_at.unwrap_or_default())?;
    if g.json {
        return super::json::line(out, &info);
    }
    print_issue(out, &info)
}

fn print_issue(out: &mut impl Write, i: &IssueInfo) -> Result<()> {
    writeln!(
        out,
        "{}{}",
        i.slug,
        i.title.as_ref().map_or_else(
            || " (not defined)".to_owned(),
            |t| format!(": {}", text::clean(t))
        )
    )?;
    text::opt(out, "proposition", &i.proposition)?;
    text::opt(out, "description", &i.description)?;
    if let Some(into) = &i.merged_into {
        writeln!(out, "  merged into: {into}")?;
    }
    for a in &i.aliases {
        writeln!(out, "  alias: {}", alias_text(a))?;
    }
    writeln!(
        out,
        "  {}, {}",
        text::plural(i.statements as usize, "statement", "statements"),
        text::plural(i.actors as usize, "actor", "actors")
    )?;
    Ok(())
}

fn alias_text(a: &stancelog::AliasInfo) -> String {
    let mut s = text::clean(&a.alias).into_owned();
    let mut extra = Vec::new();
    if let Some(l) = &a.lang {
        extra.push(text::clean(l).into_owned());
    }
    if !a.used_by.is_empty() {
        let by: Vec<&str> = a.used_by.iter().map(Actor::as_str).collect();
        extra.push(format!("used by {}", by.join(", ")));
    }
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join("; ")));
    }
    s
}

pub fn issues(g: &Global, out: &mut impl Write, a: IssuesArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let all = ledger.issues(a.known_at.unwrap_or_default())?;
    if let Some(done) = super::json::list(g, out, &all) {
        return done;
    }
    if all.is_empty() {
        writeln!(out, "no issues in this ledger")?;
        return Ok(());
    }
    let ui = &g.ui;
    let mut table = table::new(ui);
    table.set_header(
        [
            "issue",
            "title",
            "proposition",
            "aliases",
            "statements",
            "actors",
        ]
        .map(|h| table::header_cell(ui, h)),
    );
    // Slugs are not split; the title and proposition wrap instead.
    if let Some(col) = table.column_mut(0) {
        col.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
    }
    for i in &all {
        let slug = match &i.merged_into {
            Some(into) => format!("{} (merged into {into})", i.slug),
            None => i.slug.to_string(),
        };
        let aliases: Vec<String> = i.aliases.iter().map(alias_text).collect();
        table.add_row(vec![
            slug,
            i.title
                .as_deref()
                .map(|t| text::clean(t).into_owned())
                .unwrap_or_default(),
            i.proposition
                .as_deref()
                .map(|p| text::clean(p).into_owned())
                .unwrap_or_else(|| "(not defined)".into()),
            aliases.join("\n"),
            i.statements.to_string(),
            i.actors.to_string(),
        ]);
    }
    write!(out, "{}", table::render(ui, &mut table))?;
    writeln!(out, "{}", text::plural(all.len(), "issue", "issues"))?;
    Ok(())
}

pub fn actors(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_read(g)?;
    let all = ledger.actors()?;
    if let Some(done) = super::json::list(g, out, &all) {
        return done;
    }
    if all.is_empty() {
        writeln!(out, "no actors in this ledger")?;
        return Ok(());
    }
    let ui = &g.ui;
    let mut table = table::new(ui);
    table.set_header(["actor", "name", "kind", "statements"].map(|h| table::header_cell(ui, h)));
    for a in &all {
        table.add_row(vec![
            a.code.to_string(),
            a.name
                .as_deref()
                .map(|n| text::clean(n).into_owned())
                .unwrap_or_default(),
            a.kind.to_owned(),
            a.statements.to_string(),
        ]);
    }
    write!(out, "{}", table::render(ui, &mut table))?;
    writeln!(out, "{}", text::plural(all.len(), "actor", "actors"))?;
    Ok(())
}
