//! stancelog-bench: the performance harness (a workspace member of its
//! own, so that `cargo install --path .` installs only `stancelog`).
//!
//! Generates a synthetic ledger (about 200 actors, 5,000 issues, `stated_on`
//! over 30 years, ~300-byte encoded events, ~5% amendments and retractions,
//! in random `stated_on` order), then measures every figure next to a
//! baseline taken in the same run, prints a table and writes a JSON file.
//!
//! ```text
//! stancelog-bench [--size N | --quick] [--out FILE] [--work DIR] [--seed S]
//!                 [--postgres URL [--pg-size N]]
//! ```
//!
//! With `--postgres postgres://USER@HOST/DB` (or `STANCELOG_BENCH_POSTGRES`)
//! it also measures a PostgreSQL ledger on that server against raw-client
//! floors (module `pg`); without it that section is skipped with one note.
//!
//! Hidden helper, run as a child process by the harness itself:
//! `rss REPORT -- CMD...` (runs CMD and writes its peak RSS in KiB to
//! REPORT). The floor of every CLI figure is the spawn floor, `stancelog
//! --version`.
//!
//! See docs/PERFORMANCE.md for what each figure means.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use sha2::{Digest as _, Sha256};
use stancelog::internals::{
    codec, fold_stances, fold_statements, index, sled_config, Derived, Replay, BATCH_EVENTS,
};
use stancelog::{
    content_id, Actor, Context, Event, Filter, Issue, Ledger, OpenOptions, Wire, READ_MODEL_FILE,
};

mod pg;

/// The same allocator as the `stancelog` binary, so that the in-process
/// figures and their raw-sled baselines run under what users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "stancelog-bench", about = "stancelog performance harness")]
struct Cli {
    /// Events in the big ledger
    #[arg(long, default_value_t = 1_000_000)]
    size: u64,
    /// Smoke mode: 10,000 events (unless --size is given) and fewer repetitions
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON results
    #[arg(long, default_value = "bench-out/results.json")]
    out: PathBuf,
    /// Working directory for the generated input and ledgers (kept);
    /// default: a temporary directory removed at the end
    #[arg(long)]
    work: Option<PathBuf>,
    /// Random seed of the generator
    #[arg(long, default_value_t = 20191223)]
    seed: u64,
    /// Also measure a PostgreSQL ledger on this server
    /// (postgres://USER@HOST[:PORT]/DB), in schemas bench_<pid>_* that the
    /// run creates and drops
    #[arg(long, env = "STANCELOG_BENCH_POSTGRES", value_name = "URL")]
    postgres: Option<String>,
    /// Events in the PostgreSQL ledger (2,000 with --quick unless given)
    #[arg(long, default_value_t = 100_000)]
    pg_size: u64,
    #[command(subcommand)]
    helper: Option<Helper>,
}

#[derive(Subcommand, Debug)]
enum Helper {
    /// Runs a command and writes its peak RSS (KiB) to REPORT
    #[command(hide = true)]
    Rss {
        report: PathBuf,
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
}

fn main() -> Result<()> {
    let mut cli = Cli::parse();
    match cli.helper.take() {
        Some(Helper::Rss { report, cmd }) => rss_wrap(&report, &cmd),
        None => {
            let size_given = std::env::args().any(|a| a == "--size" || a.starts_with("--size="));
            if cli.quick && !size_given {
                cli.size = 10_000;
            }
            if cli.size < 100 {
                bail!("--size must be at least 100");
            }
            let pg_size_given =
                std::env::args().any(|a| a == "--pg-size" || a.starts_with("--pg-size="));
            if cli.quick && !pg_size_given {
                cli.pg_size = 2_000;
            }
            if cli.pg_size < 100 {
                bail!("--pg-size must be at least 100");
            }
            run(&cli)
        }
    }
}

// ---------------------------------------------------------------- helpers

#[cfg(unix)]
fn rss_wrap(report: &Path, cmd: &[String]) -> Result<()> {
    use nix::sys::resource::{getrusage, UsageWho};
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .with_context(|| format!("cannot run {}", cmd[0]))?;
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    std::fs::write(report, usage.max_rss().to_string())?;
    std::process::exit(status.code().unwrap_or(1));
}

#[cfg(not(unix))]
fn rss_wrap(_report: &Path, _cmd: &[String]) -> Result<()> {
    bail!("peak RSS is measured on unix only")
}

// ---------------------------------------------------------------- numbers

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A small deterministic generator (SplitMix64): no dependency, same data
/// on every machine for a given seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Skewed pick in 0..n: low indexes are much more frequent (a few
    /// actors and issues dominate, as in real news).
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * n as f64) as usize).min(n - 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------- generator

const ACTORS: usize = 200;
const ISSUES: usize = 5000;
const REGIONS: [&str; 20] = [
    "korea",
    "taiwan",
    "ukraine",
    "sahel",
    "balkans",
    "arctic",
    "gulf",
    "andes",
    "caspian",
    "mekong",
    "horn-of-africa",
    "levant",
    "pacific",
    "baltic",
    "kashmir",
    "sudan",
    "caucasus",
    "amazon",
    "red-sea",
    "south-china-sea",
];
const TOPICS: [&str; 25] = [
    "sanctions",
    "ceasefire",
    "peacekeeping",
    "trade",
    "nuclear",
    "refugees",
    "fisheries",
    "border",
    "elections",
    "aid",
    "arms",
    "climate",
    "shipping",
    "energy",
    "debt",
    "water",
    "minerals",
    "cyber",
    "tariffs",
    "visas",
    "treaty",
    "mission",
    "tribunal",
    "embargo",
    "summit",
];
const KINDS: [&str; 10] = [
    "relief",
    "extension",
    "talks",
    "monitoring",
    "resolution",
    "framework",
    "review",
    "accord",
    "inquiry",
    "guarantees",
];
const WORDS: [&str; 40] = [
    "the",
    "minister",
    "said",
    "government",
    "would",
    "support",
    "oppose",
    "continued",
    "dialogue",
    "talks",
    "region",
    "security",
    "council",
    "resolution",
    "partners",
    "urged",
    "restraint",
    "cooperation",
    "agreement",
    "concerns",
    "sovereignty",
    "stability",
    "called",
    "for",
    "an",
    "immediate",
    "review",
    "of",
    "measures",
    "and",
    "welcomed",
    "progress",
    "toward",
    "lasting",
    "settlement",
    "between",
    "parties",
    "at",
    "summit",
    "meeting",
];
const NAMES: [&str; 12] = [
    "Foreign Minister",
    "Prime Minister",
    "President",
    "Ambassador",
    "Spokesperson",
    "Deputy Minister",
    "Envoy",
    "Chancellor",
    "Secretary of State",
    "Permanent Representative",
    "Defence Minister",
    "Trade Minister",
];
const OUTLETS: [&str; 8] = [
    "Nikkei Asia",
    "Reuters",
    "Associated Press",
    "Agence France-Presse",
    "Kyodo News",
    "Al Jazeera",
    "BBC News",
    "Deutsche Welle",
];
const POSITIONS: [&str; 4] = ["support", "oppose", "neutral", "mixed"];

/// The i-th ISO 3166-1 alpha-3 code: new statements must use a code the
/// ledger knows, and ISO has more than `ACTORS` of them.
fn actor_code(i: usize) -> String {
    let codes = stancelog::internals::iso_codes();
    codes[i % codes.len()].to_owned()
}

fn issue_slug(i: usize) -> String {
    format!(
        "{}-{}-{}",
        REGIONS[i % 20],
        TOPICS[i / 20 % 25],
        KINDS[i / 500 % 10]
    )
}

/// A sentence of `lo` to `lo + spread - 1` words.
fn sentence_between(rng: &mut Rng, lo: usize, spread: u64) -> String {
    let n = lo + rng.below(spread) as usize;
    sentence(rng, n)
}

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(&WORDS));
    }
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s
}

/// First `stated_on` of the synthetic data, and the span in days (30 years).
fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1995, 1, 1).expect("date")
}
const SPAN_DAYS: u64 = 30 * 365 + 7;

fn day(d: u32) -> NaiveDate {
    epoch() + chrono::Days::new(d as u64)
}

/// What the generator remembers of each statement (for edits and queries).
#[derive(Clone, Copy)]
struct Stmt {
    actor: u16,
    issue: u16,
    day: u32,
}

struct Generated {
    /// The JSONL input of the big ledger, and of each smaller ledger.
    files: Vec<(u64, PathBuf)>,
    /// Every statement, by line order (for query sampling).
    stmts: Vec<(u64, Stmt)>,
    /// Every event encoded as stored, concatenated, with offsets.
    encoded: Vec<u8>,
    offsets: Vec<usize>,
}

fn generate(size: u64, seed: u64, work: &Path, small_sizes: &[u64]) -> Result<Generated> {
    let mut rng = Rng(seed);
    let actors: Vec<String> = (0..ACTORS).map(actor_code).collect();
    let issues: Vec<String> = (0..ISSUES).map(issue_slug).collect();
    let mut files = Vec::new();
    let mut writers = Vec::new();
    for &s in small_sizes.iter().chain(std::iter::once(&size)) {
        let p = work.join(format!("input-{s}.jsonl"));
        writers.push((s, BufWriter::with_capacity(1 << 20, File::create(&p)?)));
        files.push((s, p));
    }
    // Live statements that an edit may target: (id, index into stmts).
    let mut live: Vec<(uuid::Uuid, usize)> = Vec::new();
    let mut stmts: Vec<(u64, Stmt)> = Vec::new();
    let mut encoded = Vec::with_capacity(size as usize * 310);
    let mut offsets = Vec::with_capacity(size as usize + 1);
    let now = Utc::now();
    let mut line = Vec::with_capacity(1024);
    for n in 0..size {
        let r = rng.unit();
        let wire = if r < 0.03 && !live.is_empty() {
            let (target, si) = live[rng.below(live.len() as u64) as usize];
            let mut w = Wire {
                kind: "amendment".into(),
                target: Some(target.to_string()),
                reason: Some(format!(
                    "{} (correction {n})",
                    sentence_between(&mut rng, 6, 4)
                )),
                ..Wire::default()
            };
            w.position = Some(rng.pick(&POSITIONS).to_owned());
            // Every amendment changes something (the ledger refuses one that
            // changes nothing): its summary names the correction.
            w.summary = Some(format!("{} (as corrected {n})", sentence(&mut rng, 14)));
            if rng.chance(0.2) {
                let d = rng.below(SPAN_DAYS) as u32;
                w.stated_on = Some(day(d).to_string());
                stmts[si].1.day = d;
            }
            w
        } else if r < 0.05 && !live.is_empty() {
            let k = rng.below(live.len() as u64) as usize;
            let (target, _) = live.swap_remove(k);
            Wire {
                kind: "retraction".into(),
                target: Some(target.to_string()),
                reason: Some(format!(
                    "{} (retraction {n})",
                    sentence_between(&mut rng, 6, 4)
                )),
                ..Wire::default()
            }
        } else {
            let a = rng.skewed(ACTORS);
            let i = rng.skewed(ISSUES);
            let d = rng.below(SPAN_DAYS) as u32;
            let date = day(d);
            let outlet = rng.pick(&OUTLETS);
            let w = Wire {
                kind: "statement".into(),
                actor: Some(actors[a].clone()),
                issue: Some(issues[i].clone()),
                position: Some(rng.pick(&POSITIONS).to_owned()),
                stated_on: Some(date.to_string()),
                summary: Some(format!("{} [{n}]", sentence_between(&mut rng, 7, 5))),
                quote: rng.chance(0.35).then(|| sentence_between(&mut rng, 5, 6)),
                speaker: rng
                    .chance(0.7)
                    .then(|| format!("{} {}", rng.pick(&NAMES), actors[a])),
                source_url: rng.chance(0.8).then(|| {
                    format!(
                        "https://news.example.org/{}/{}-{}",
                        date.format("%Y/%m/%d"),
                        issues[i],
                        rng.below(1_000_000)
                    )
                }),
                source_title: rng
                    .chance(0.5)
                    .then(|| format!("{} ({outlet}, {date})", sentence(&mut rng, 4))),
                ..Wire::default()
            };
            w
        };
        let req = wire
            .to_request()
            .map_err(|e| anyhow!("generator made an invalid line {n}: {e}"))?;
        let fact = req.command.into_fact();
        let id = content_id(&fact);
        if wire.kind == "statement" {
            let stmt = Stmt {
                actor: actors
                    .iter()
                    .position(|x| Some(x) == wire.actor.as_ref())
                    .expect("actor") as u16,
                issue: 0,
                day: 0,
            };
            let issue = wire.issue.as_deref().expect("issue");
            let ii = issues.iter().position(|x| x == issue).expect("issue") as u16;
            let d = (NaiveDate::parse_from_str(wire.stated_on.as_deref().unwrap(), "%Y-%m-%d")?
                - epoch())
            .num_days() as u32;
            stmts.push((
                n,
                Stmt {
                    issue: ii,
                    day: d,
                    ..stmt
                },
            ));
            live.push((id, stmts.len() - 1));
        }
        // The stored record this event becomes (hashes are placeholders of
        // the real length), for the raw-sled baseline.
        let event = Event {
            seq: n + 1,
            id,
            recorded_at: now,
            recorded_by: "bench".into(),
            prev_hash: [7; 32],
            hash: [9; 32],
            payload: fact,
        };
        offsets.push(encoded.len());
        encoded.extend_from_slice(&codec::encode(&event));
        line.clear();
        serde_json::to_writer(&mut line, &wire)?;
        line.push(b'\n');
        for (s, w) in writers.iter_mut() {
            if n < *s {
                w.write_all(&line)?;
            }
        }
    }
    offsets.push(encoded.len());
    for (_, mut w) in writers {
        w.flush()?;
    }
    Ok(Generated {
        files,
        stmts,
        encoded,
        offsets,
    })
}

// ---------------------------------------------------------------- running

struct Bench {
    exe_dir: PathBuf,
    work: PathBuf,
    figures: Vec<Value>,
    notes: Vec<(String, Value)>,
}

#[allow(clippy::too_many_arguments)]
fn fig(
    id: &str,
    label: &str,
    unit: &str,
    ours: f64,
    baseline: Option<(f64, &str)>,
    ratio: Option<f64>,
    target: &str,
    met: Option<bool>,
) -> Value {
    json!({
        "id": id,
        "figure": label,
        "unit": unit,
        "ours": ours,
        "baseline": baseline.map(|b| b.0),
        "baseline_is": baseline.map(|b| b.1),
        "ratio": ratio,
        "target": target,
        "met": met,
    })
}

impl Bench {
    fn stancelog(&self) -> PathBuf {
        self.exe_dir
            .join(format!("stancelog{}", std::env::consts::EXE_SUFFIX))
    }
    fn me(&self) -> PathBuf {
        std::env::current_exe().expect("own path")
    }
    fn push(&mut self, v: Value) {
        self.figures.push(v);
    }
    /// Pushes `{id}_p50_{unit}` and `{id}_p99_{unit}` of `samples` (sorted),
    /// each against its baseline (p50's and p99's).
    fn push_p50_p99(
        &mut self,
        id: &str,
        what: &str,
        unit: &str,
        samples: &[f64],
        baselines: [(f64, &str); 2],
    ) {
        for ((p, q), (base, base_is)) in [(50, 0.5), (99, 0.99)].into_iter().zip(baselines) {
            let ours = pct(samples, q);
            self.push(fig(
                &format!("{id}_p{p}_{unit}"),
                &format!("{what}, p{p}"),
                unit,
                ours,
                Some((base, base_is)),
                Some(ours / base),
                "",
                None,
            ));
        }
    }
    fn note(&mut self, k: &str, v: Value) {
        self.notes.push((k.to_owned(), v));
    }

    /// Runs the stancelog binary; returns wall time and stdout.
    fn cli(&self, ledger: &Path, args: &[&str]) -> Result<(Duration, Vec<u8>)> {
        let mut cmd = Command::new(self.stancelog());
        cmd.arg("--ledger").arg(ledger).args(args);
        timed(cmd)
    }

    /// `stancelog [FLAGS] --ledger LEDGER import FILE` under the `rss`
    /// helper; returns wall time and peak RSS in KiB.
    fn import_with_rss(
        &self,
        flags: &[&str],
        ledger: &Path,
        file: &Path,
    ) -> Result<(Duration, f64)> {
        let mut args: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_ref()).collect();
        args.extend([
            "--ledger".as_ref(),
            ledger.as_os_str(),
            "import".as_ref(),
            file.as_os_str(),
        ]);
        self.with_rss(&self.stancelog(), &args)
    }

    /// Runs a command under the `rss` helper; returns wall time and peak RSS in KiB.
    fn with_rss(&self, prog: &Path, args: &[&std::ffi::OsStr]) -> Result<(Duration, f64)> {
        let report = self.work.join("rss.txt");
        let mut cmd = Command::new(self.me());
        cmd.arg("rss").arg(&report).arg("--").arg(prog).args(args);
        let (t, _) = timed(cmd)?;
        let kib: f64 = std::fs::read_to_string(&report)?.trim().parse()?;
        Ok((t, kib))
    }
}

fn timed(mut cmd: Command) -> Result<(Duration, Vec<u8>)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("STANCELOG_AUTHOR", "bench");
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let t = start.elapsed();
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok((t, out.stdout))
}

/// Bytes allocated on disk under `dir`.
fn disk_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        if m.is_dir() {
            total += disk_bytes(&e.path())?;
        } else {
            total += file_bytes(&m);
        }
    }
    Ok(total)
}

/// Bytes a file takes on disk (its length where blocks are not known).
fn file_bytes(m: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        m.blocks() * 512
    }
    #[cfg(not(unix))]
    {
        m.len()
    }
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    json!({ "cores": cores, "mem_gib": mem_kib as f64 / 1048576.0, "cpu": cpu,
            "os": std::env::consts::OS })
}

fn ctx_clock() -> DateTime<Utc> {
    Utc::now()
}

fn open_opts() -> OpenOptions {
    OpenOptions {
        create: false,
        ..OpenOptions::default()
    }
}

struct Query {
    actor: Actor,
    issue: Issue,
    as_of: NaiveDate,
}

fn queries(gen: &Generated, size: u64, n: usize, rng: &mut Rng) -> Vec<Query> {
    let within: Vec<&Stmt> = gen
        .stmts
        .iter()
        .take_while(|(line, _)| *line < size)
        .map(|(_, s)| s)
        .collect();
    (0..n)
        .map(|_| {
            let s = within[rng.below(within.len() as u64) as usize];
            Query {
                actor: actor_code(s.actor as usize).parse().expect("actor"),
                issue: issue_slug(s.issue as usize).parse().expect("issue"),
                as_of: day(s.day + rng.below(3 * 365) as u32),
            }
        })
        .collect()
}

fn load_events(l: &Ledger) -> Result<Vec<Event>> {
    Ok(l.events(1)?.collect::<stancelog::Result<Vec<_>>>()?)
}

/// The arguments of a `stancelog stance` command for `q`.
fn stance_args(q: &Query) -> Vec<String> {
    vec![
        "stance".into(),
        q.actor.to_string(),
        q.issue.to_string(),
        "--as-of".into(),
        q.as_of.to_string(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn median(v: Vec<f64>) -> f64 {
    pct(&sorted(v), 0.5)
}

/// Whether some process holds an flock on `file` (Linux: /proc/locks).
/// `None` where that cannot be told.
fn lock_held(file: &Path) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(file).ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        let suffix = format!(":{ino}");
        Some(locks.lines().any(|l| {
            l.split_whitespace()
                .nth(5)
                .is_some_and(|dev_ino| dev_ino.ends_with(&suffix))
        }))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

/// Bytes on disk under the ledger directory, split into sled's files, the
/// read model's main file, and its -wal and -shm files.
fn disk_split(dir: &Path) -> Result<(u64, u64, u64)> {
    let (mut sled, mut model, mut wal) = (0, 0, 0);
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = if e.metadata()?.is_dir() {
            disk_bytes(&e.path())?
        } else {
            file_bytes(&e.metadata()?)
        };
        if name == READ_MODEL_FILE {
            model += bytes;
        } else if name.starts_with(READ_MODEL_FILE) {
            wal += bytes;
        } else {
            sled += bytes;
        }
    }
    Ok((sled, model, wal))
}

fn run(cli: &Cli) -> Result<()> {
    let size = cli.size;
    let quick = cli.quick;
    let exe_dir = std::env::current_exe()?
        .parent()
        .ok_or_else(|| anyhow!("no exe dir"))?
        .to_owned();
    let _tmp;
    let work = match &cli.work {
        Some(w) => {
            std::fs::create_dir_all(w)?;
            w.clone()
        }
        None => {
            _tmp = tempfile::Builder::new()
                .prefix("stancelog-bench")
                .tempdir()?;
            _tmp.path().to_owned()
        }
    };
    let mut b = Bench {
        exe_dir,
        work: work.clone(),
        figures: Vec::new(),
        notes: Vec::new(),
    };
    if !b.stancelog().is_file() {
        bail!(
            "the stancelog binary is not at {} (build it into the same target dir)",
            b.stancelog().display()
        );
    }
    if let Ok(out) = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
    {
        if out.status.success() {
            b.note(
                "commit",
                json!(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
            );
        }
    }
    let mut rng = Rng(cli.seed ^ 0xA5A5);
    // The small ledger of the growth figures: 10,000 events, or a tenth of
    // a smaller size.
    let small = if size > 10_000 {
        10_000
    } else {
        (size / 10).max(100)
    };
    for d in [
        "ledger",
        "ledger-small",
        "raw-batch",
        "raw-append",
        "extra",
        "during",
    ] {
        let _ = std::fs::remove_dir_all(work.join(d));
    }

    eprintln!("generating {size} events in {} ...", work.display());
    let t = Instant::now();
    let gen = generate(size, cli.seed, &work, &[small])?;
    let encoded_mean = gen.encoded.len() as f64 / size as f64;
    b.note("generate_s", json!(t.elapsed().as_secs_f64()));
    b.note("encoded_mean_bytes", json!(encoded_mean));
    let big_input = gen.files.last().expect("big file").1.clone();
    let small_input = gen.files[0].1.clone();
    b.note("input_bytes", json!(std::fs::metadata(&big_input)?.len()));

    // 1. The import floor of this design: raw sled writing the log records
    // in batches (flushed and fsynced), then a raw SQLite insert of the same
    // read-model rows in one transaction (rows derived before the clock
    // starts). Every raw-sled floor opens sled as the ledger does
    // (`sled_config`: zstd compression at the ledger's factor for a new
    // directory), so the floor is the engine as the ledger configures it.
    eprintln!("import floor (raw sled log + raw SQLite rows) ...");
    let raw_dir = work.join("raw-batch");
    let mut replay = Replay::default();
    let load = |seq: u64| -> stancelog::Result<Event> {
        let i = seq as usize - 1;
        codec::decode(&gen.encoded[gen.offsets[i]..gen.offsets[i + 1]])
    };
    let mut rows: Vec<FloorRow> = Vec::with_capacity(size as usize);
    for i in 0..size {
        let e = load(i + 1)?;
        let d = replay.step(&e, load).map_err(|m| anyhow!(m))?;
        rows.push(FloorRow::new(&e, d));
    }
    drop(replay);
    std::fs::create_dir_all(&raw_dir)?;
    let t = Instant::now();
    {
        let db = sled_config(&raw_dir)
            .cache_capacity(16 * 1024 * 1024)
            .open()?;
        let mut batch = sled::Batch::default();
        for i in 0..size as usize {
            let v = &gen.encoded[gen.offsets[i]..gen.offsets[i + 1]];
            batch.insert(&index::log_key(i as u64 + 1), v);
            if (i + 1) % BATCH_EVENTS == 0 {
                db.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        db.apply_batch(batch)?;
        db.flush()?;
        File::open(raw_dir.join("db"))?.sync_all()?;
    }
    let floor_sled = t.elapsed().as_secs_f64();
    let t = Instant::now();
    raw_sqlite_insert(&raw_dir.join("floor.sqlite3"), &rows)?;
    let floor_sql = t.elapsed().as_secs_f64();
    let floor_rate = size as f64 / (floor_sled + floor_sql);
    b.note("import_floor_sled_s", json!(floor_sled));
    b.note("import_floor_sqlite_s", json!(floor_sql));
    b.note(
        "import_floor_disk_bytes_per_event",
        json!(disk_bytes(&raw_dir)? as f64 / size as f64),
    );
    // A few rows kept for the durable-append floor.
    let append_rows: Vec<FloorRow> = rows.iter().take(64).cloned().collect();
    drop(rows);
    let _ = std::fs::remove_dir_all(&raw_dir);

    eprintln!("import through `stancelog import` ...");
    let ledger = work.join("ledger");
    let (imp_t, imp_rss) = b.import_with_rss(&[], &ledger, &big_input)?;
    let imp_rate = size as f64 / imp_t.as_secs_f64();
    b.push(fig(
        "import_events_per_s",
        "bulk import (`stancelog import FILE`, whole process)",
        "events/s",
        imp_rate,
        Some((
            floor_rate,
            "raw sled apply_batch of the log records + fsync, then one raw SQLite transaction of the same rows",
        )),
        Some(imp_rate / floor_rate),
        ">= 0.5 x floor",
        Some(imp_rate / floor_rate >= 0.5),
    ));
    b.push(fig(
        "import_peak_rss_mib",
        "peak RSS of the import process",
        "MiB",
        imp_rss / 1024.0,
        None,
        None,
        "<= 300 MiB",
        Some(imp_rss / 1024.0 <= 300.0),
    ));
    // Disk footprint right after the import, every file of the directory
    // counted (the read model's -wal included).
    let (d_sled, d_model, d_wal) = disk_split(&ledger)?;
    let disk = (d_sled + d_model + d_wal) as f64;
    b.note("disk_sled_bytes", json!(d_sled));
    b.note("disk_read_model_bytes", json!(d_model));
    b.note("disk_read_model_wal_shm_bytes", json!(d_wal));

    // The first command after the import.
    let q0 = queries(&gen, size, 1, &mut rng).pop().expect("one query");
    let a0 = stance_args(&q0);
    let (first_t, _) = b.cli(&ledger, &strs(&a0))?;

    // 2. verify vs its floor: a raw scan of the log with SHA-256 of every
    // record (sled opened with the ledger's own settings), plus a scan of
    // every read-model row.
    eprintln!("verify ...");
    let (mut floor_best, mut verify_best) = (f64::MAX, f64::MAX);
    let mut floor_parts = (0.0, 0.0, 0.0);
    let mut scanned_bytes = 0u64;
    let rounds = if quick { 3 } else { 2 };
    for _ in 0..rounds {
        let db = sled_config(&ledger)
            .cache_capacity(64 * 1024 * 1024)
            .open()?;
        let t = Instant::now();
        let (mut n, mut bytes, mut acc) = (0u64, 0u64, 0u8);
        let mut hashing = Duration::ZERO;
        for kv in db.scan_prefix([index::LOG]) {
            let (_, v) = kv?;
            let h = Instant::now();
            acc ^= Sha256::digest(&v)[0];
            hashing += h.elapsed();
            bytes += v.len() as u64;
            n += 1;
        }
        let t_log = t.elapsed().as_secs_f64();
        assert_eq!(n, size, "log records");
        scanned_bytes = bytes;
        drop(db);
        let conn = rusqlite::Connection::open_with_flags(
            ledger.join(READ_MODEL_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let t = Instant::now();
        let mut cells = 0u64;
        // The stored tables (not the `events` view over `event_rows`).
        for table in ["event_rows", "versions", "stances_latest"] {
            let mut st = conn.prepare(&format!("SELECT * FROM {table}"))?;
            let cols = st.column_count();
            let mut rs = st.query([])?;
            while let Some(r) = rs.next()? {
                for c in 0..cols {
                    cells += match r.get_ref(c)? {
                        rusqlite::types::ValueRef::Text(t) => t.len() as u64,
                        rusqlite::types::ValueRef::Blob(b) => b.len() as u64,
                        rusqlite::types::ValueRef::Integer(i) => (i & 1) as u64,
                        _ => 0,
                    };
                }
            }
        }
        let t_model = t.elapsed().as_secs_f64();
        std::hint::black_box((acc, cells));
        drop(conn);
        if t_log + t_model < floor_best {
            floor_best = t_log + t_model;
            floor_parts = (
                t_log - hashing.as_secs_f64(),
                hashing.as_secs_f64(),
                t_model,
            );
        }
        let l = Ledger::open(&ledger, &open_opts())?;
        let t = Instant::now();
        let r = l.verify(None, &mut |_| {})?;
        verify_best = verify_best.min(t.elapsed().as_secs_f64());
        assert_eq!(r.events, size);
    }
    b.note("verify_floor_log_scan_s", json!(floor_parts.0));
    b.note("verify_floor_sha256_s", json!(floor_parts.1));
    b.note("verify_floor_model_scan_s", json!(floor_parts.2));
    b.note("verify_s", json!(verify_best));
    let (verify_rate, floor_v_rate) = (size as f64 / verify_best, size as f64 / floor_best);
    b.push(fig(
        "verify_events_per_s",
        "verify (full replay with hash checks, read model checked), in process",
        "events/s",
        verify_rate,
        Some((
            floor_v_rate,
            "raw sled scan of the log + SHA-256 of every record + scan of every read-model row",
        )),
        Some(verify_rate / floor_v_rate),
        ">= 0.5 x floor",
        Some(verify_rate / floor_v_rate >= 0.5),
    ));
    let enc_per_event = scanned_bytes as f64 / size as f64;
    b.push(fig(
        "disk_bytes_per_event",
        "bytes on disk per event right after the import (sled + read model + its -wal)",
        "bytes",
        disk / size as f64,
        Some((enc_per_event, "mean encoded event (stored log value)")),
        Some(disk / size as f64 / enc_per_event),
        "<= 3 x encoded",
        Some(disk / size as f64 <= 3.0 * enc_per_event),
    ));

    // 3. The small ledger, for the growth figures.
    eprintln!("import of the {small}-event ledger ...");
    let small_ledger = work.join("ledger-small");
    let small_path = small_input.to_str().context("work path is not UTF-8")?;
    b.cli(&small_ledger, &["import", small_path])?;

    // 4. stance in process (the reader the CLI opens), vs the naive fold.
    let as_of = day(SPAN_DAYS as u32);
    let mut events_full: Vec<Event> = Vec::new();
    let mut naive_stances = f64::NAN;
    for (s, path) in [(small, &small_ledger), (size, &ledger)] {
        eprintln!("stance queries at {s} events ...");
        let l = Ledger::open_reader(path, &OpenOptions::default())?;
        let qs = queries(&gen, s, if quick { 1000 } else { 5000 }, &mut rng);
        for q in qs.iter().take(200) {
            l.stance(&q.actor, &q.issue, q.as_of, None)?;
        }
        let mut times = Vec::with_capacity(qs.len());
        let mut found = 0;
        for q in &qs {
            let t = Instant::now();
            let r = l.stance(&q.actor, &q.issue, q.as_of, None)?;
            times.push(us(t.elapsed()));
            found += r.is_some() as u32;
        }
        let times = sorted(times);
        let (p50, p99) = (pct(&times, 0.5), pct(&times, 0.99));
        let events = load_events(&l)?;
        let known = l.head()?.seq;
        let reps = if s <= 10_000 { 20 } else { 3 };
        let mut naive = Vec::new();
        for q in qs.iter().take(reps) {
            let t = Instant::now();
            let m = fold_stances(&events, q.as_of, known);
            let _ = m.get(&(q.issue.clone(), q.actor.clone()));
            naive.push(us(t.elapsed()));
        }
        let naive = median(naive);
        let base = Some((naive, "naive fold of the whole log (in memory), same query"));
        if s == size {
            b.push(fig(
                "stance_p50_us",
                &format!(
                    "stance as of a date, in process, p50 at {s} events ({found} of {} found)",
                    qs.len()
                ),
                "us",
                p50,
                base,
                Some(p50 / naive),
                "",
                None,
            ));
            b.push(fig(
                "stance_p99_us",
                &format!("stance as of a date, in process, p99 at {s} events"),
                "us",
                p99,
                base,
                Some(p99 / naive),
                "",
                None,
            ));
            let mut t_naive = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                std::hint::black_box(fold_stances(&events, as_of, known).len());
                t_naive.push(ms(t.elapsed()));
            }
            naive_stances = median(t_naive);
            events_full = events;
        } else {
            b.push(fig(
                "stance_p50_us_small",
                &format!("stance as of a date, in process, p50 at {s} events"),
                "us",
                p50,
                base,
                Some(p50 / naive),
                "",
                None,
            ));
        }
    }

    // 5. stances and history on the big ledger, in process, vs the naive fold.
    eprintln!("stances and history ...");
    let hist_qs = queries(&gen, size, 50, &mut rng);
    {
        let l = Ledger::open_reader(&ledger, &OpenOptions::default())?;
        let mut t_stances = Vec::new();
        let mut pairs = 0;
        for _ in 0..3 {
            let t = Instant::now();
            pairs = l.stances(as_of, None, &Filter::default())?.len();
            t_stances.push(ms(t.elapsed()));
        }
        let st = median(t_stances);
        b.note("stances_pairs", json!(pairs));
        b.push(fig(
            "stances_ms",
            &format!("stances (all {pairs} pairs), in process, median"),
            "ms",
            st,
            Some((
                naive_stances,
                "naive fold of the whole log (in memory), fold_stances",
            )),
            Some(st / naive_stances),
            "<= 0.5 x naive fold",
            Some(st / naive_stances <= 0.5),
        ));
        let mut t_hist = Vec::new();
        let mut items = 0;
        for q in &hist_qs {
            let t = Instant::now();
            items += l.history(&q.actor, &q.issue, None)?.len();
            t_hist.push(us(t.elapsed()));
        }
        let ht = median(t_hist);
        let known = l.head()?.seq;
        let mut t_naive = Vec::new();
        for q in hist_qs.iter().take(3) {
            let t = Instant::now();
            let v = fold_statements(&events_full, known);
            let _n = v
                .values()
                .filter(|s| s.statement.actor == q.actor && s.statement.issue == q.issue)
                .count();
            t_naive.push(us(t.elapsed()));
        }
        let hn = median(t_naive);
        b.push(fig(
            "history_p50_us",
            &format!(
                "history of a pair, in process, p50 ({:.1} statements per pair on average)",
                items as f64 / hist_qs.len() as f64
            ),
            "us",
            ht,
            Some((hn, "naive fold of the whole log (in memory)")),
            Some(ht / hn),
            "",
            None,
        ));
    }
    drop(events_full);

    // 6. CLI stance end to end vs the spawn floor, at both sizes, the
    // three interleaved so that the machine's load hits them alike.
    eprintln!("CLI stance vs the spawn floor ...");
    let runs = if quick { 9 } else { 31 };
    let big_qs = queries(&gen, size, runs, &mut rng);
    let small_qs = queries(&gen, small, runs, &mut rng);
    let (mut big_t, mut small_t, mut fl) = (Vec::new(), Vec::new(), Vec::new());
    for (qb, qs) in big_qs.iter().zip(&small_qs) {
        let mut cmd = Command::new(b.stancelog());
        cmd.arg("--version");
        fl.push(ms(timed(cmd)?.0));
        big_t.push(ms(b.cli(&ledger, &strs(&stance_args(qb)))?.0));
        small_t.push(ms(b.cli(&small_ledger, &strs(&stance_args(qs)))?.0));
    }
    let (ours, ours_small, fl) = (median(big_t), median(small_t), median(fl));
    let floor_is = "spawn floor: `stancelog --version`, median wall per process";
    b.push(fig(
        "cli_stance_ms",
        &format!("`stancelog stance` at {size} events, median wall per process"),
        "ms",
        ours,
        Some((fl, floor_is)),
        Some(ours / fl),
        "<= 3 x floor and <= 10 ms",
        Some(ours / fl <= 3.0 && ours <= 10.0),
    ));
    b.push(fig(
        "cli_stance_small_ms",
        &format!("`stancelog stance` at {small} events, median wall per process"),
        "ms",
        ours_small,
        Some((fl, floor_is)),
        Some(ours_small / fl),
        "",
        None,
    ));
    b.push(fig(
        "cli_stance_growth",
        &format!("CLI stance median at {size} / at {small} events"),
        "x",
        ours / ours_small,
        None,
        None,
        "<= 1.3",
        Some(ours / ours_small <= 1.3),
    ));
    b.push(fig(
        "cli_stance_first_after_import_ms",
        "`stancelog stance`, the first command after the import",
        "ms",
        ms(first_t),
        Some((fl, floor_is)),
        Some(ms(first_t) / fl),
        "",
        None,
    ));
    let mut rss_args: Vec<&std::ffi::OsStr> = vec!["--ledger".as_ref(), ledger.as_os_str()];
    rss_args.extend(a0.iter().map(|a| std::ffi::OsStr::new(a.as_str())));
    let (_, q_rss) = b.with_rss(&b.stancelog(), &rss_args)?;
    let (_, f_rss) = b.with_rss(&b.stancelog(), &["--version".as_ref()])?;
    b.push(fig(
        "query_peak_rss_mib",
        "peak RSS of a `stancelog stance` process",
        "MiB",
        q_rss / 1024.0,
        Some((f_rss / 1024.0, "peak RSS of `stancelog --version`")),
        Some(q_rss / f_rss),
        "<= 30 MiB",
        Some(q_rss / 1024.0 <= 30.0),
    ));
    let asof = as_of.to_string();
    let mut t = Vec::new();
    let mut json_bytes = 0;
    for _ in 0..3 {
        let (d, out) = b.cli(&ledger, &["--json", "stances", "--as-of", &asof])?;
        json_bytes = out.len();
        t.push(ms(d));
    }
    let st = median(t);
    b.note("cli_stances_json_bytes", json!(json_bytes));
    b.push(fig(
        "cli_stances_json_ms",
        "`stancelog stances --json` (all pairs) end to end, median",
        "ms",
        st,
        Some((
            naive_stances,
            "naive fold of the whole log (in memory, in process), fold_stances",
        )),
        Some(st / naive_stances),
        "<= 0.5 x naive fold",
        Some(st / naive_stances <= 0.5),
    ));
    let mut t = Vec::new();
    for q in hist_qs.iter().take(if quick { 5 } else { 11 }) {
        t.push(ms(b
            .cli(&ledger, &["history", q.actor.as_str(), q.issue.as_str()])?
            .0));
    }
    let ht = median(t);
    b.push(fig(
        "cli_history_ms",
        "`stancelog history` end to end, median",
        "ms",
        ht,
        Some((fl, floor_is)),
        Some(ht / fl),
        "",
        None,
    ));

    // 7. Durable single append: the floor is a raw sled insert + flush +
    // fsync of `db` (sled configured as for a new ledger), then one SQLite
    // transaction of the event's two rows (WAL, synchronous=FULL).
    eprintln!("durable single appends ...");
    let n_app = if quick { 20 } else { 50 };
    let mut raw = Vec::new();
    {
        let dir = work.join("raw-append");
        std::fs::create_dir_all(&dir)?;
        let db = sled_config(&dir).cache_capacity(64 * 1024 * 1024).open()?;
        let dbf = File::open(dir.join("db"))?;
        let mut conn = rusqlite::Connection::open(dir.join("floor.sqlite3"))?;
        raw_sqlite_schema(&conn)?;
        for i in 0..n_app {
            let v = &gen.encoded[gen.offsets[i]..gen.offsets[i + 1]];
            let t = Instant::now();
            db.insert(index::log_key(i as u64 + 1), v)?;
            db.flush()?;
            dbf.sync_all()?;
            let tx = conn.transaction()?;
            raw_sqlite_rows(&tx, &append_rows[i..i + 1])?;
            tx.commit()?;
            raw.push(us(t.elapsed()));
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let raw = sorted(raw);
    let (raw50, raw99) = (pct(&raw, 0.5), pct(&raw, 0.99));
    let lib = timed_appends(
        &Ledger::open(&ledger, &open_opts())?,
        n_app,
        "In-process append",
    )?;
    b.push_p50_p99(
        "append_lib",
        "durable single append, library, in process",
        "us",
        &sorted(lib),
        [
            (
                raw50,
                "raw sled insert + flush + fsync, then a one-event SQLite transaction, p50",
            ),
            (
                raw99,
                "raw sled insert + flush + fsync, then a one-event SQLite transaction, p99",
            ),
        ],
    );
    let mut rec = Vec::new();
    for i in 0..n_app {
        let summary = format!("CLI record number {i} of the benchmark.");
        let (t, _) = b.cli(
            &ledger,
            &[
                "record",
                "--actor",
                "JPN",
                "--issue",
                "bench-record",
                "--position",
                "oppose",
                "--stated-on",
                "2020-01-01",
                "--summary",
                &summary,
            ],
        )?;
        rec.push(ms(t));
    }
    b.push_p50_p99(
        "record_cli",
        "durable single append, `stancelog record` process wall",
        "ms",
        &sorted(rec),
        [
            (
                fl + raw50 / 1000.0,
                "spawn floor + the durable-append floor p50",
            ),
            (
                fl + raw99 / 1000.0,
                "spawn floor + the durable-append floor p99",
            ),
        ],
    );

    // 8. A further import into the big ledger: what a routine import costs
    // once the ledger is large (a new, self-contained generation: its edits
    // target its own statements).
    eprintln!("import into the {size}-event ledger ...");
    let extra_n = if quick { 1_000 } else { 20_000 };
    let extra_dir = work.join("extra");
    std::fs::create_dir_all(&extra_dir)?;
    let extra = generate(extra_n, cli.seed ^ 0x00E7_7A5E, &extra_dir, &[])?;
    let extra_file = extra.files.last().expect("one file").1.clone();
    drop(extra);
    let extra_path = extra_file.to_str().context("work path is not UTF-8")?;
    let (extra_t, _) = b.cli(&ledger, &["import", extra_path])?;
    let extra_rate = extra_n as f64 / extra_t.as_secs_f64();
    b.push(fig(
        "import_incremental_events_per_s",
        &format!("import of {extra_n} new events into the {size}-event ledger (whole process)"),
        "events/s",
        extra_rate,
        Some((
            floor_rate,
            "the bulk-import floor (raw sled log + raw SQLite rows)",
        )),
        Some(extra_rate / floor_rate),
        "",
        None,
    ));

    // 9. stance while an import into the same ledger runs and holds its
    // lock: the reader must answer from the last committed state at once.
    let during_n = if quick { 5_000 } else { 200_000 };
    eprintln!("CLI stance during an import of {during_n} events ...");
    let during_dir = work.join("during");
    std::fs::create_dir_all(&during_dir)?;
    let during = generate(during_n, cli.seed ^ 0xD0_41E6, &during_dir, &[])?;
    let during_file = during.files.last().expect("one file").1.clone();
    drop(during);
    let lock_file = ledger.join("stancelog.lock");
    let mut child = Command::new(b.stancelog())
        .arg("--ledger")
        .arg(&ledger)
        .arg("import")
        .arg(&during_file)
        .env("STANCELOG_AUTHOR", "bench")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(during_dir.join("import.stderr"))?)
        .spawn()?;
    let started = Instant::now();
    let (mut locked_samples, mut other_samples, mut failures) = (Vec::new(), Vec::new(), 0u32);
    let mut lock_seen_after = f64::NAN;
    let mut k = 0;
    while child.try_wait()?.is_none() {
        let held = lock_held(&lock_file);
        if held == Some(false) {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        if lock_seen_after.is_nan() {
            lock_seen_after = started.elapsed().as_secs_f64();
        }
        let q = &big_qs[k % big_qs.len()];
        k += 1;
        let mut cmd = Command::new(b.stancelog());
        cmd.arg("--ledger").arg(&ledger).args(stance_args(q));
        match timed(cmd) {
            Ok((d, _)) => {
                let still = child.try_wait()?.is_none() && lock_held(&lock_file) != Some(false);
                if still {
                    locked_samples.push(ms(d));
                } else {
                    other_samples.push(ms(d));
                }
            }
            Err(_) => failures += 1,
        }
    }
    let status = child.wait()?;
    let during_t = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!(
            "the concurrent import failed: {}",
            std::fs::read_to_string(during_dir.join("import.stderr")).unwrap_or_default()
        );
    }
    if locked_samples.is_empty() {
        // The import ended before any query could run beside it (a tiny
        // --size): one query after it, so the figure is still a number.
        let mut cmd = Command::new(b.stancelog());
        cmd.arg("--ledger")
            .arg(&ledger)
            .args(stance_args(&big_qs[0]));
        other_samples.push(ms(timed(cmd)?.0));
    }
    let during_med = if locked_samples.is_empty() {
        median(other_samples.clone())
    } else {
        median(locked_samples.clone())
    };
    b.note(
        "during_import_samples_with_lock_held",
        json!(locked_samples.len()),
    );
    b.note("during_import_other_samples", json!(other_samples.len()));
    b.note("during_import_failures", json!(failures));
    b.note(
        "during_import_max_ms",
        json!(locked_samples.iter().copied().fold(0.0, f64::max)),
    );
    b.note("during_import_lock_seen_after_s", json!(lock_seen_after));
    b.note(
        "during_import_events_per_s",
        json!(during_n as f64 / during_t),
    );
    b.push(fig(
        "cli_stance_during_import_ms",
        &format!(
            "`stancelog stance` while an import of {during_n} events into the same ledger holds its lock, median"
        ),
        "ms",
        during_med,
        Some((ours, "the same command idle (cli_stance_ms)")),
        Some(during_med / ours),
        "<= 3 x idle, no failure",
        Some(during_med / ours <= 3.0 && failures == 0 && !locked_samples.is_empty()),
    ));
    b.note("disk_bytes_after_all", json!(disk_bytes(&ledger)?));

    // 10. PostgreSQL, when a server is given.
    match &cli.postgres {
        Some(url) => pg::run(&mut b, url, cli.pg_size, quick, cli.seed)?,
        None => b.note(
            "postgres",
            json!("skipped: no --postgres URL (or STANCELOG_BENCH_POSTGRES)"),
        ),
    }

    // Report.
    let mut notes = serde_json::Map::new();
    for (k, v) in std::mem::take(&mut b.notes) {
        notes.insert(k, v);
    }
    let result = json!({
        "version": 2,
        "size": size,
        "small_size": small,
        "quick": quick,
        "seed": cli.seed,
        "when": Utc::now().to_rfc3339(),
        "machine": machine(),
        "notes": notes,
        "figures": b.figures,
    });
    print_table(&result);
    if let Some(dir) = cli.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&cli.out, serde_json::to_string_pretty(&result)? + "\n")
        .with_context(|| format!("cannot write {}", cli.out.display()))?;
    eprintln!("results written to {}", cli.out.display());
    Ok(())
}

/// `n` durable single appends through the library on an open ledger, each
/// a new statement; their times in µs.
fn timed_appends(l: &Ledger, n: usize, what: &str) -> Result<Vec<f64>> {
    let mut ctx = Context {
        author: "bench".into(),
        clock: &ctx_clock,
        progress: None,
    };
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let w = Wire {
            kind: "statement".into(),
            actor: Some("JPN".into()),
            issue: Some("bench-append".into()),
            position: Some("support".into()),
            stated_on: Some("2020-01-01".into()),
            summary: Some(format!("{what} number {i} of the benchmark.")),
            ..Wire::default()
        };
        let req = w.to_request()?;
        let t = Instant::now();
        l.append([Ok(req)], &mut ctx)?;
        times.push(us(t.elapsed()));
    }
    Ok(times)
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        None => "-".into(),
        Some(x) if x.abs() >= 10_000.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 100.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    }
}

fn print_table(r: &Value) {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::ASCII_MARKDOWN);
    t.set_header([
        "figure", "unit", "ours", "baseline", "ratio", "target", "met",
    ]);
    for f in r["figures"].as_array().into_iter().flatten() {
        t.add_row([
            f["id"].as_str().unwrap_or("").to_owned(),
            f["unit"].as_str().unwrap_or("").to_owned(),
            num(&f["ours"]),
            num(&f["baseline"]),
            num(&f["ratio"]),
            f["target"].as_str().unwrap_or("").to_owned(),
            match f["met"].as_bool() {
                Some(true) => "yes".into(),
                Some(false) => "NO".into(),
                None => "".into(),
            },
        ]);
    }
    println!(
        "stancelog-bench: {} events, machine {}",
        r["size"], r["machine"]
    );
    println!("{t}");
    if let Some(n) = r["notes"].as_object() {
        for (k, v) in n {
            println!("{k}: {v}");
        }
    }
}

/// An event as the floor writes it: its export form, what the replay
/// derived, and the stored forms of its envelope (as `event_rows` keeps
/// them), computed before the floor's clock starts.
#[derive(Clone)]
struct FloorRow {
    wire: Wire,
    derived: Derived,
    id: [u8; 16],
    recorded_us: i64,
    hash: [u8; 32],
}

impl FloorRow {
    fn new(e: &Event, derived: Derived) -> FloorRow {
        FloorRow {
            wire: Wire::from_event(e),
            derived,
            id: *e.id.as_bytes(),
            recorded_us: e.recorded_at.timestamp_micros(),
            hash: e.hash,
        }
    }
}

/// The codes of `event_rows` (the order of the record format's variants
/// and of the positions), looked up by name as the ledger's writer does.
fn floor_code(names: &[&str], name: &str) -> i64 {
    names.iter().position(|n| *n == name).unwrap_or(0) as i64
}

/// The floor's SQLite half: the read model's three tables (as in the
/// ledger's schema, with their indexes), WAL and `synchronous=FULL` as the
/// ledger runs it.
fn raw_sqlite_schema(conn: &rusqlite::Connection) -> Result<()> {
    // The tables and indexes of the read model's schema 4, narrowed to the
    // columns the generator fills.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE event_rows (seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, recorded_us INTEGER NOT NULL,
           recorded_by TEXT NOT NULL, type_code INTEGER NOT NULL, hash BLOB NOT NULL,
           target_seq INTEGER, actor TEXT, issue TEXT, reason TEXT, position_code INTEGER,
           stated_on TEXT, summary TEXT, quote TEXT, speaker TEXT, source_url TEXT, source_title TEXT);
         CREATE INDEX events_by_target ON event_rows (target_seq, seq) WHERE target_seq IS NOT NULL;
         CREATE TABLE versions (actor TEXT NOT NULL, issue TEXT NOT NULL, stated_on TEXT NOT NULL,
           statement_seq INTEGER NOT NULL, version_seq INTEGER NOT NULL, tombstone INTEGER NOT NULL,
           PRIMARY KEY (actor, issue, stated_on, statement_seq, version_seq)) WITHOUT ROWID;
         CREATE TABLE stances_latest (issue TEXT NOT NULL, actor TEXT NOT NULL, statement_seq INTEGER,
           statement_id TEXT, recorded_at TEXT, recorded_by TEXT, position TEXT, stated_on TEXT,
           summary TEXT, quote TEXT, speaker TEXT, source_url TEXT, source_title TEXT,
           amendments INTEGER, first_seq INTEGER NOT NULL,
           PRIMARY KEY (issue, actor)) WITHOUT ROWID;",
    )?;
    Ok(())
}

/// Inserts `rows` (inside the caller's transaction).
fn raw_sqlite_rows(tx: &rusqlite::Connection, rows: &[FloorRow]) -> Result<()> {
    let mut ev = tx.prepare_cached(
        "INSERT INTO event_rows VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut ve = tx.prepare_cached("INSERT INTO versions VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let positions: Vec<&str> = stancelog::Position::ALL
        .iter()
        .map(|p| p.as_str())
        .collect();
    for r in rows {
        let (w, d) = (&r.wire, &r.derived);
        ev.execute(rusqlite::params![
            w.seq.map(|s| s as i64),
            &r.id[..],
            r.recorded_us,
            w.recorded_by,
            floor_code(stancelog::KINDS, &w.kind),
            &r.hash[..],
            d.target_seq.map(|s| s as i64),
            w.actor,
            w.issue,
            w.reason,
            w.position.as_deref().map(|p| floor_code(&positions, p)),
            w.stated_on,
            w.summary,
            w.quote,
            w.speaker,
            w.source_url,
            w.source_title
        ])?;
        let Some(v) = &d.version else {
            continue;
        };
        ve.execute(rusqlite::params![
            v.actor,
            v.issue,
            v.stated_on.to_string(),
            v.stmt_seq as i64,
            v.version_seq as i64,
            v.tombstone as i64
        ])?;
    }
    // One `stances_latest` row per pair, written once: its latest statement
    // as recorded (the floor skips what edits change, not the row's size).
    let mut latest: std::collections::BTreeMap<(&str, &str), (&str, u64, &Wire, u64)> =
        Default::default();
    for r in rows {
        let (w, d) = (&r.wire, &r.derived);
        let (Some(v), None) = (&d.version, d.target_seq) else {
            continue;
        };
        let stated_on = w.stated_on.as_deref().unwrap_or("");
        let e = latest
            .entry((v.issue.as_str(), v.actor.as_str()))
            .or_insert((stated_on, v.stmt_seq, w, v.stmt_seq));
        if (stated_on, v.stmt_seq) > (e.0, e.1) {
            (e.0, e.1, e.2) = (stated_on, v.stmt_seq, w);
        }
    }
    let mut la = tx.prepare_cached(
        "INSERT OR REPLACE INTO stances_latest VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, ?14)",
    )?;
    for ((issue, actor), (_, seq, w, first)) in latest {
        la.execute(rusqlite::params![
            issue,
            actor,
            seq as i64,
            w.id,
            w.recorded_at,
            w.recorded_by,
            w.position,
            w.stated_on,
            w.summary,
            w.quote,
            w.speaker,
            w.source_url,
            w.source_title,
            first as i64
        ])?;
    }
    Ok(())
}

/// The floor's SQLite half of a bulk import: `rows` in one transaction.
fn raw_sqlite_insert(path: &Path, rows: &[FloorRow]) -> Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    raw_sqlite_schema(&conn)?;
    let tx = conn.transaction()?;
    raw_sqlite_rows(&tx, rows)?;
    tx.commit()?;
    Ok(())
}
