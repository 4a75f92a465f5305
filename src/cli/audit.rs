//! `log`, `export`, `head`, `verify`, `rebuild` and `repair`: the audit
//! trail, the published digest, and the checks and repairs of the store.

use std::io::{self, Write};

use anyhow::{anyhow, Result};
use clap::Args;

use stancelog::{hex_hash, Digest, Edit, Event, Fact, Wire};

use super::ui::{self, Format, Ui};
use super::{env, json, open, parse, records, text, Failed, Global, EXIT_FAULT};

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Start after this seq
    #[arg(long, default_value_t = 0, value_name = "N")]
    after_seq: u64,
    /// Show at most this many events
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Also check that the log still extends a published head (SEQ:HASH from `stancelog head`)
    #[arg(long, value_parser = parse::digest, value_name = "SEQ:HASH")]
    digest: Option<Digest>,
}

pub fn log(g: &Global, out: &mut impl Write, a: LogArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let limit = a.limit.unwrap_or(u64::MAX);
    let events = ledger
        .events(a.after_seq.saturating_add(1))?
        .take(usize::try_from(limit).unwrap_or(usize::MAX));
    let ui = &g.ui;
    if matches!(ui.format, Format::Csv | Format::Tsv) {
        let header: Vec<String> = records::log_columns()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        let mut sheet = records::Sheet::new(ui, &mut *out, &header)?;
        for event in events {
            sheet.row(records::log_row(&Wire::from_event(&event?))?)?;
        }
        return sheet.finish();
    }
    // `log --json` has always been JSON Lines, as `--format jsonl` is.
    for event in events {
        let event = event?;
        // An amendment shows what it changed from (the export's line plus
        // `previous`, the values before it).
        let edit = match event.payload {
            Fact::StatementAmended(_) => ledger.amendment(event.seq)?,
            _ => None,
        };
        if g.json {
            let mut v = serde_json::to_value(Wire::from_event(&event))?;
            if let (Some(e), Some(o)) = (&edit, v.as_object_mut()) {
                o.insert("previous".into(), serde_json::to_value(&e.previous)?);
            }
            json::line(out, &v)?;
        } else {
            log_line(out, ui, &event, edit.as_ref())?;
        }
    }
    Ok(out.flush()?)
}

pub fn export(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_read(g)?;
    let mut out = io::BufWriter::new(out);
    for event in ledger.events(1)? {
        json::line(&mut out, &Wire::from_event(&event?))?;
    }
    Ok(out.flush()?)
}

/// A fault `verify` found (exit 3): a corrupt store, lost or damaged log,
/// or a log that does not extend the digest. Anything else (a busy or
/// missing ledger) keeps its own exit code.
fn fault(e: anyhow::Error) -> anyhow::Error {
    let is_fault = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<stancelog::Error>(),
            Some(
                stancelog::Error::Corrupt { .. }
                    | stancelog::Error::LogBehind { .. }
                    | stancelog::Error::LogDamaged { .. }
                    | stancelog::Error::Decode(_)
            )
        ) || c.downcast_ref::<VerifyFailed>().is_some()
    });
    if !is_fault {
        return e;
    }
    anyhow::Error::new(Failed {
        code: EXIT_FAULT,
        message: super::one_line(&e),
        hint: None,
    })
}

/// A verify that failed, as `verify_failed` words it.
#[derive(Debug)]
struct VerifyFailed(String);

impl std::fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerifyFailed {}

pub fn verify(g: &Global, out: &mut impl Write, VerifyArgs { digest }: VerifyArgs) -> Result<()> {
    let ledger = open::open(g, false).map_err(fault)?;
    let bar = env::progress_bar("verifying", Some(ledger.head()?.seq));
    let report = ledger
        .verify(digest, &mut |n| bar.set_position(n))
        .map_err(|e| fault(verify_failed(e, digest)))?;
    bar.finish_and_clear();
    let head = format!("{}:{}", report.head.seq, hex_hash(&report.head.hash));
    if g.json {
        let v = json::Verified {
            events: report.events,
            hash: hex_hash(&report.head.hash),
            index_entries: report.index_entries,
            ok: true,
            seq: report.head.seq,
        };
        json::line(out, &v)
    } else {
        writeln!(
            out,
            "ok: {} events and {} index entries verified{}",
            report.events,
            report.index_entries,
            digest.map_or(String::new(), |d| format!(
                "; the log extends digest {}:{}",
                d.seq,
                hex_hash(&d.hash)
            ))
        )?;
        writeln!(out, "head {head}")?;
        Ok(())
    }
}

pub fn head(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_read(g)?;
    let head = ledger.head()?;
    if g.json {
        json::line(out, &json::HeadJson::from(&head))
    } else {
        Ok(writeln!(out, "{}:{}", head.seq, hex_hash(&head.hash))?)
    }
}

pub fn repair(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_for_repair(g)?;
    let n = ledger.repair(&mut |_| {})?;
    let report = ledger
        .verify(None, &mut |_| {})
        .map_err(|e| anyhow!("verify failed after the repair: {e}"))?;
    let head = format!("{}:{}", report.head.seq, hex_hash(&report.head.hash));
    if g.json {
        let v = json::Repaired {
            hash: hex_hash(&report.head.hash),
            repaired: n,
            seq: report.head.seq,
        };
        json::line(out, &v)
    } else if n == 0 {
        Ok(writeln!(
            out,
            "nothing to repair: the log holds every event the read model witnessed; head {head}"
        )?)
    } else {
        Ok(writeln!(out, "repaired: re-appended {n} events to the log from the read model; verified, head {head}")?)
    }
}

pub fn rebuild(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_for_rebuild(g)?;
    let bar = env::progress_bar("rebuilding", Some(ledger.head()?.seq));
    let n = ledger.rebuild(&mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    if g.json {
        json::line(
            out,
            &json::Rebuilt {
                events: n,
                rebuilt: true,
            },
        )
    } else {
        Ok(writeln!(out, "rebuilt the indexes from {n} events")?)
    }
}

/// A failed verify. A digest the log does not extend is not corruption the
/// log shows by itself: say that either the digest or the history is wrong.
fn verify_failed(e: stancelog::Error, digest: Option<Digest>) -> anyhow::Error {
    anyhow::Error::new(VerifyFailed(verify_message(e, digest).to_string()))
}

fn verify_message(e: stancelog::Error, digest: Option<Digest>) -> anyhow::Error {
    if let (stancelog::Error::Corrupt { seq, message }, Some(d)) = (&e, digest) {
        let shown = format!("{}:{}", d.seq, hex_hash(&d.hash));
        let check = "check it against the digest as published";
        if message.starts_with("the log no longer extends the digest") {
            // "...: hash at seq N is HASH, the digest says ..."
            let logged = message
                .split_once(" is ")
                .and_then(|(_, rest)| rest.split_once(','))
                .map_or(String::new(), |(hash, _)| {
                    format!(" (the log has {}:{hash})", d.seq)
                });
            return anyhow!(
                "verify failed: the log does not extend digest {shown}{logged}: either the digest is wrong ({check}) or history was rewritten at or before seq {}",
                d.seq
            );
        }
        if message.starts_with("the digest names seq") {
            if d.seq == 0 {
                return anyhow!(
                    "verify failed: the log does not extend digest {shown}: seq 0 only ever has the all-zero hash, so the digest is wrong ({check})"
                );
            }
            return anyhow!(
                "verify failed: the log does not extend digest {shown}: the log ends at seq {}; either the digest is wrong ({check}) or history was rewritten at or before seq {}",
                seq.saturating_sub(1),
                d.seq
            );
        }
    }
    anyhow!("verify failed: {e}")
}

/// One entry of `log`: seq, time to the second, kind, short id, author
/// and what happened (an amendment with its old → new values), wrapped
/// under itself.
fn log_line(out: &mut impl Write, ui: &Ui, e: &Event, edit: Option<&Edit>) -> Result<()> {
    let short = |id| ui::dim(ui.colour, &text::short_id(id));
    let what = match &e.payload {
        Fact::StatementRecorded(s) => format!(
            "{} {} {} {}: {}",
            s.actor,
            s.issue,
            ui::position(ui.colour, s.position),
            s.stated_on,
            text::clean(&s.summary)
        ),
        Fact::StatementAmended(a) => {
            let changes = edit.map(super::query::changes_text).unwrap_or_default();
            format!(
                "amends {}: {}{}",
                short(&a.target),
                text::clean(&a.reason),
                if changes.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", changes.join(", "))
                }
            )
        }
        Fact::StatementRetracted(r) => {
            format!("retracts {}: {}", short(&r.target), text::clean(&r.reason))
        }
        Fact::StatementReinstated(r) => {
            format!(
                "reinstates {}: {}",
                short(&r.target),
                text::clean(&r.reason)
            )
        }
        Fact::IssueDefined(d) => format!("{}: {}", d.slug, text::clean(&d.proposition)),
        Fact::IssueReworded(r) => format!("rewords {}: {}", r.slug, text::clean(&r.reason)),
        Fact::AliasAdded(a) => format!("{} also named {}", a.slug, text::clean(&a.alias)),
        Fact::AliasRemoved(a) => format!(
            "{} no longer named {}: {}",
            a.slug,
            text::clean(&a.alias),
            text::clean(&a.reason)
        ),
        Fact::IssuesMerged(m) => format!(
            "{} merged into {}: {}",
            m.from,
            m.into,
            text::clean(&m.reason)
        ),
        Fact::ActorDefined(d) => format!("{} is {}", d.code, text::clean(&d.name)),
    };
    let line = format!(
        "{}  {:<10} {}  by {}  {what}",
        text::when(&e.recorded_at),
        e.kind(),
        short(&e.id),
        text::clean(&e.recorded_by),
    );
    let first = format!("{:>6}  ", e.seq);
    writeln!(out, "{}", ui::wrap(&line, ui.width, &first, &" ".repeat(8)))?;
    Ok(())
}
