//! `init` and `migrate`: where a ledger lives. `init` prepares a ledger (a
//! directory, or a PostgreSQL database by its numbered migrations);
//! `migrate --to` copies a ledger into an empty PostgreSQL one, keeping
//! every seq, time, author and hash.

use std::io::{self, BufReader, Read, Write};

use anyhow::{anyhow, Result};
use clap::Args;
use serde::Serialize;

use stancelog::{hex_hash, Event, Ledger, Wire};

use super::{env, json, open, text, Global};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The ledger to prepare: a directory, or postgres://USER@HOST/DB[?schema=NAME] [default: --ledger]
    #[arg(value_name = "LEDGER")]
    pub target: Option<String>,
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The PostgreSQL ledger to copy into (prepared by `init` if it is not
    /// yet); it must hold no event
    #[arg(long, value_name = "postgres://...")]
    pub to: String,
}

#[derive(Serialize)]
struct Initialised<'a> {
    ledger: &'a str,
    backend: &'static str,
    schema_version: Option<i32>,
    applied: Vec<i32>,
    head_seq: u64,
}

pub fn init(g: &Global, out: &mut impl Write, InitArgs { target }: InitArgs) -> Result<()> {
    let target = match target {
        Some(t) => t,
        None => match open::postgres_url(g) {
            Some(url) => url,
            None => open::ledger_path(g)?.to_string_lossy().into_owned(),
        },
    };
    if stancelog::is_postgres_url(&target) {
        let (ledger, applied) = Ledger::init_postgres(&target, &open::options(g))?;
        let shown = ledger.path().display().to_string();
        let head = ledger.head()?;
        let version = Ledger::POSTGRES_SCHEMA_VERSION;
        if g.json {
            return json::line(
                out,
                &Initialised {
                    ledger: &shown,
                    backend: "postgres",
                    schema_version: Some(version),
                    applied: applied.iter().map(|m| m.0).collect(),
                    head_seq: head.seq,
                },
            );
        }
        if applied.is_empty() {
            writeln!(
                out,
                "the PostgreSQL ledger {shown} is ready (schema version {version}, nothing to migrate; {} events)",
                head.seq
            )?;
        } else {
            let list: Vec<String> = applied.iter().map(|(v, n)| format!("{v} ({n})")).collect();
            writeln!(
                out,
                "prepared the PostgreSQL ledger {shown}: applied migration {}; schema version {version}",
                list.join(", ")
            )?;
        }
        return Ok(());
    }
    let ledger = open::open_at(g, std::path::Path::new(&target), true)?;
    let shown = text::path(ledger.path());
    let head = ledger.head()?;
    if g.json {
        return json::line(
            out,
            &Initialised {
                ledger: &ledger.path().display().to_string(),
                backend: "sled",
                schema_version: None,
                applied: Vec::new(),
                head_seq: head.seq,
            },
        );
    }
    Ok(writeln!(
        out,
        "the ledger at {shown} is ready ({} events)",
        head.seq
    )?)
}

#[derive(Serialize)]
struct Migrated<'a> {
    from: &'a str,
    to: &'a str,
    events: u64,
    seq: u64,
    hash: String,
}

pub fn migrate(g: &Global, out: &mut impl Write, MigrateArgs { to }: MigrateArgs) -> Result<()> {
    if !stancelog::is_postgres_url(&to) {
        return Err(anyhow!(
            "--to takes a PostgreSQL ledger (postgres://USER@HOST/DB); to copy into a directory, use `stancelog export` and `stancelog --ledger DIR restore`"
        ));
    }
    let source = open::open_read(g)?;
    let from = source.path().display().to_string();
    let opts = open::options(g);
    let (target, _) = Ledger::init_postgres(&to, &opts)?;
    let shown = target.path().display().to_string();
    if shown == from {
        return Err(anyhow!("cannot migrate {from} into itself"));
    }
    let total = source.head()?.seq;
    let bar = env::progress_bar("migrating", Some(total));
    let lines = ExportLines {
        events: Box::new(source.events(1)?),
        buf: Vec::new(),
        at: 0,
    };
    let reader = BufReader::with_capacity(1 << 16, lines);
    let restored = target.restore(reader, &from, env::clock(), &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    let head = restored.head;
    if g.json {
        return json::line(
            out,
            &Migrated {
                from: &from,
                to: &shown,
                events: restored.events,
                seq: head.seq,
                hash: hex_hash(&head.hash),
            },
        );
    }
    writeln!(
        out,
        "migrated {} events from {} to {shown}; the chain checks out",
        restored.events,
        text::clean(&from)
    )?;
    Ok(writeln!(out, "head {}:{}", head.seq, hex_hash(&head.hash))?)
}

/// A ledger's events as the lines of its export, read as a stream.
struct ExportLines<'l> {
    events: Box<dyn Iterator<Item = stancelog::Result<Event>> + 'l>,
    buf: Vec<u8>,
    at: usize,
}

impl Read for ExportLines<'_> {
    fn read(&mut self, into: &mut [u8]) -> io::Result<usize> {
        while self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            match self.events.next() {
                None => return Ok(0),
                Some(Err(e)) => return Err(io::Error::other(e)),
                Some(Ok(event)) => {
                    serde_json::to_writer(&mut self.buf, &Wire::from_event(&event))?;
                    self.buf.push(b'\n');
                }
            }
        }
        let n = into.len().min(self.buf.len() - self.at);
        into[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
