//! `import` and `restore`: whole files, all or nothing, read twice (a check
//! pass, then the write), so a pipe or stdin is spooled first.

use std::io::{self, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;

use stancelog::{hex_hash, validate_author, Context};

use super::ui::{self, Format};
use super::{csvin, env, json, open, text, Global};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// File to read, or - for standard input
    pub file: PathBuf,
    #[command(flatten)]
    pub by: env::By,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// Export file to read, or - for standard input
    pub file: PathBuf,
}

/// The input named on the command line: a file, opened at once so that a
/// missing file fails before any ledger is touched, or `-` for stdin.
enum Input {
    /// A regular file, read in place.
    File(std::fs::File),
    /// Something that cannot be reread (a pipe, `<(cmd)`, a FIFO, a
    /// device): spooled like stdin.
    Stream(std::fs::File, String),
    Stdin,
}

impl Input {
    fn open(file: &Path) -> Result<(Input, String)> {
        if file.as_os_str() == "-" {
            return Ok((Input::Stdin, "<stdin>".to_owned()));
        }
        let name = file.display().to_string();
        let f = std::fs::File::open(file).with_context(|| format!("cannot open {name}"))?;
        if f.metadata().is_ok_and(|m| m.is_file()) {
            Ok((Input::File(f), name))
        } else {
            Ok((Input::Stream(f, name.clone()), name))
        }
    }

    /// A rewindable reader. Stdin and other streams are spooled to an
    /// unnamed temporary file (an import reads its input twice); call this
    /// once the ledger is held, so a producer piping into `import -` keeps
    /// the ledger for the duration.
    fn reader(self) -> Result<BufReader<std::fs::File>> {
        let f = match self {
            Input::File(f) => f,
            Input::Stream(mut f, name) => spool(&mut f, &name)?,
            Input::Stdin => spool(&mut io::stdin().lock(), "stdin")?,
        };
        Ok(BufReader::with_capacity(1 << 16, f))
    }
}

/// Copies a stream to an unnamed temporary file, rewound.
fn spool(input: &mut impl io::Read, name: &str) -> Result<std::fs::File> {
    let mut spool = tempfile::tempfile()
        .with_context(|| format!("cannot create a temporary file for {name}"))?;
    io::copy(input, &mut spool).with_context(|| format!("cannot read {name}"))?;
    spool.seek(io::SeekFrom::Start(0))?;
    Ok(spool)
}

pub fn restore(g: &Global, out: &mut impl Write, RestoreArgs { file }: RestoreArgs) -> Result<()> {
    let (input, name) = Input::open(&file)?;
    let bar = env::progress_bar("restoring", None);
    let restored = open::bulk_write(g, |ledger| {
        let mut reader = input.reader()?;
        env::set_total(&bar, count_lines(&mut reader)?);
        Ok(ledger.restore(reader, &name, env::clock(), &mut |n| bar.set_position(n))?)
    })?;
    bar.finish_and_clear();
    let head = &restored.head;
    if g.json {
        let v = json::Restored {
            events: restored.events,
            file: &name,
            hash: hex_hash(&head.hash),
            seq: head.seq,
        };
        json::line(out, &v)
    } else {
        writeln!(
            out,
            "restored {} events from {}; the chain checks out",
            restored.events,
            text::clean(&name)
        )?;
        Ok(writeln!(out, "head {}:{}", head.seq, hex_hash(&head.hash))?)
    }
}

/// Counts the lines that hold something (the events of a JSON Lines
/// file), for the progress bar's total, and rewinds.
fn count_lines(reader: &mut BufReader<std::fs::File>) -> Result<u64> {
    use std::io::BufRead as _;
    let mut n = 0;
    let mut buf = Vec::new();
    while reader.read_until(b'\n', &mut buf)? > 0 {
        if buf.iter().any(|b| !b.is_ascii_whitespace()) {
            n += 1;
        }
        buf.clear();
    }
    reader.rewind()?;
    Ok(n)
}

pub fn import(g: &Global, out: &mut impl Write, ImportArgs { file, by }: ImportArgs) -> Result<()> {
    let (input, name) = Input::open(&file)?;
    let author = env::author(g, &by)?;
    validate_author(&author)?;
    let sheet = match g.format {
        Some(Format::Csv) => Some(b','),
        Some(Format::Tsv) => Some(b'\t'),
        _ => None,
    };
    let bar = env::progress_bar("importing", None);
    let mut tick = |n: u64| bar.set_position(n);
    let ctx_author = author.clone();
    let mut ctx = Context {
        author,
        clock: &env::clock,
        progress: Some(&mut tick),
    };
    let summary = open::bulk_write(g, |ledger| {
        let mut reader = input.reader()?;
        if let Some(delimiter) = sheet {
            let lines = csvin::convert(reader, &name, delimiter)?;
            reader = BufReader::with_capacity(1 << 16, lines);
        }
        env::set_total(&bar, count_lines(&mut reader)?);
        let imported = ledger.import(reader, &name, &mut ctx);
        let summary = match sheet {
            Some(_) => imported.map_err(|e| csvin::on_sheet(e.into(), &name))?,
            None => imported?,
        };
        let warning = super::write::undefined_warning(ledger, &summary.undefined_issues)?;
        Ok((summary, warning))
    })?;
    let (summary, warning) = summary;
    bar.finish_and_clear();
    if let Some(w) = warning {
        let _ = writeln!(std::io::stderr(), "{w}");
    }
    if summary.envelopes > 0 {
        let _ = writeln!(
            io::stderr(),
            "{} {} lines of {} carry an export's envelope (authors, times, hashes): they check out, and were recorded anew as by {} now; `stancelog restore` into a new ledger keeps them",
            ui::paint(g.ui.err_colour, ui::WARNING, "warning:"),
            summary.envelopes,
            text::clean(&name),
            text::clean(&ctx_author)
        );
    }
    let repeats = summary.skipped - summary.superseded;
    if g.json {
        let v = json::Imported {
            added: summary.added,
            file: &name,
            head_seq: summary.head_seq,
            skipped: repeats,
            superseded: summary.superseded,
        };
        json::line(out, &v)
    } else {
        let superseded = match summary.superseded {
            0 => String::new(),
            n => format!(", {n} not re-applied (already present but retracted or amended since; record them with new ids to apply them again)"),
        };
        let _ = writeln!(
            io::stderr(),
            "imported {}: {} added, {} skipped (already present){superseded}; head at seq {}",
            text::clean(&name),
            summary.added,
            repeats,
            summary.head_seq
        );
        Ok(())
    }
}
