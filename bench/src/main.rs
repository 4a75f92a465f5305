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
//! ```
//!
//! Hidden helpers, run as child processes by the harness itself:
//! `floor PATH` (open the sled database and do one lookup: the floor of any
//! sled-based CLI) and `rss REPORT -- CMD...` (runs CMD and writes its peak
//! RSS in KiB to REPORT).
//!
//! See docs/PERFORMANCE.md for what each figure means.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use stancelog::internals::{
    codec, fold_stances, fold_statements, index, Derived, Replay, BATCH_EVENTS,
};
use stancelog::{content_id, Actor, Context, Event, Filter, Issue, Ledger, OpenOptions, Wire};

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
    #[command(subcommand)]
    helper: Option<Helper>,
}

#[derive(Subcommand, Debug)]
enum Helper {
    /// Opens a sled database and does one lookup (the CLI floor)
    #[command(hide = true)]
    Floor { path: PathBuf },
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
        Some(Helper::Floor { path }) => floor(&path),
        Some(Helper::Rss { report, cmd }) => rss_wrap(&report, &cmd),
        None => {
            let size_given = std::env::args().any(|a| a == "--size" || a.starts_with("--size="));
            if cli.quick && !size_given {
                cli.size = 10_000;
            }
            if cli.size < 100 {
                bail!("--size must be at least 100");
            }
            run(&cli)
        }
    }
}

// ---------------------------------------------------------------- helpers

/// The floor any sled-based CLI pays: open the database, one lookup, close.
fn floor(path: &Path) -> Result<()> {
    let db = sled::Config::new().path(path).open()?;
    let v = db.get(index::META_HEAD)?;
    println!("{}", v.map_or(0, |v| v.len()));
    drop(db);
    Ok(())
}

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

fn actor_code(i: usize) -> String {
    let a = b'A' + (i / 26 % 26) as u8;
    let b = b'A' + (i % 26) as u8;
    let c = b'A' + (i / 676 % 26) as u8 + 2;
    String::from_utf8(vec![c, a, b]).expect("ascii")
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
            if rng.chance(0.3) {
                w.summary = Some(sentence(&mut rng, 14));
            }
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
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                total += m.blocks() * 512;
            }
            #[cfg(not(unix))]
            {
                total += m.len();
            }
        }
    }
    Ok(total)
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

fn import_in_process(file: &Path, ledger: &Path) -> Result<()> {
    let l = Ledger::open(
        ledger,
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )?;
    let mut ctx = Context {
        author: "bench".into(),
        clock: &ctx_clock,
        progress: None,
    };
    l.import(
        BufReader::with_capacity(1 << 16, File::open(file)?),
        "bench",
        &mut ctx,
    )?;
    Ok(())
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
    let mut rng = Rng(cli.seed ^ 0xA5A5);
    let stance_sizes: Vec<u64> = [1_000u64, 100_000]
        .into_iter()
        .filter(|&s| s < size)
        .collect();
    for s in &stance_sizes {
        let _ = std::fs::remove_dir_all(work.join(format!("ledger-{s}")));
    }
    for d in ["ledger", "raw-batch", "raw-append"] {
        let _ = std::fs::remove_dir_all(work.join(d));
    }

    eprintln!("generating {size} events in {} ...", work.display());
    let t = Instant::now();
    let gen = generate(size, cli.seed, &work, &stance_sizes)?;
    let encoded_mean = gen.encoded.len() as f64 / size as f64;
    b.note("generate_s", json!(t.elapsed().as_secs_f64()));
    b.note("encoded_mean_bytes", json!(encoded_mean));
    let big_input = gen.files.last().expect("big file").1.clone();
    b.note("input_bytes", json!(std::fs::metadata(&big_input)?.len()));

    // 1. Bulk import: raw sled apply_batch baseline, then the real CLI import.
    eprintln!("import baseline (raw sled apply_batch) ...");
    let raw_dir = work.join("raw-batch");
    let t = Instant::now();
    {
        let db = sled::Config::new()
            .path(&raw_dir)
            .cache_capacity(64 * 1024 * 1024)
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
    let raw_import = t.elapsed();
    let raw_rate = size as f64 / raw_import.as_secs_f64();
    let _ = std::fs::remove_dir_all(&raw_dir);

    // The floor of this design: raw sled writing the log records in
    // batches, plus a raw SQLite insert of the same read-model rows in one
    // transaction (rows derived before the clock starts).
    eprintln!("import floor (raw sled log + raw SQLite rows) ...");
    let mut replay = Replay::default();
    let load = |seq: u64| -> stancelog::Result<Event> {
        let i = seq as usize - 1;
        codec::decode(&gen.encoded[gen.offsets[i]..gen.offsets[i + 1]])
    };
    let mut rows: Vec<(Wire, Derived)> = Vec::with_capacity(size as usize);
    for i in 0..size {
        let e = load(i + 1)?;
        let d = replay.step(&e, load).map_err(|m| anyhow!(m))?;
        rows.push((Wire::from_event(&e), d));
    }
    drop(replay);
    std::fs::create_dir_all(&raw_dir)?;
    let t = Instant::now();
    {
        let db = sled::Config::new()
            .path(&raw_dir)
            .cache_capacity(64 * 1024 * 1024)
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
        raw_sqlite_insert(&raw_dir.join("floor.sqlite3"), &rows)?;
    }
    let layout_rate = size as f64 / t.elapsed().as_secs_f64();
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
            raw_rate,
            "raw sled apply_batch of the encoded events + flush",
        )),
        Some(imp_rate / raw_rate),
        ">= 0.60 x baseline and >= 100,000/s",
        Some(imp_rate / raw_rate >= 0.6 && imp_rate >= 100_000.0),
    ));
    b.push(fig(
        "import_vs_layout_limit",
        "bulk import vs raw sled writing the log + raw SQLite inserting the same rows",
        "events/s",
        imp_rate,
        Some((
            layout_rate,
            "raw sled apply_batch of the log + one SQLite transaction of the rows",
        )),
        Some(imp_rate / layout_rate),
        "",
        None,
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
    // The same import with the page cache that read commands use: what the
    // bulk default (`store::BULK_CACHE_BYTES`) trades for its memory bound.
    let fast_ledger = work.join("ledger-cache64");
    let (fast_t, fast_rss) = b.import_with_rss(&["--cache-mib", "64"], &fast_ledger, &big_input)?;
    let _ = std::fs::remove_dir_all(&fast_ledger);
    let fast_rate = size as f64 / fast_t.as_secs_f64();
    b.push(fig(
        "import_cache64_events_per_s",
        "bulk import with `--cache-mib 64` (the default is 16 for bulk writes)",
        "events/s",
        fast_rate,
        Some((
            raw_rate,
            "raw sled apply_batch of the encoded events + flush",
        )),
        Some(fast_rate / raw_rate),
        "",
        None,
    ));
    b.push(fig(
        "import_cache64_peak_rss_mib",
        "peak RSS of the import process with `--cache-mib 64`",
        "MiB",
        fast_rss / 1024.0,
        None,
        None,
        "",
        None,
    ));
    // Disk footprint right after the import.
    let disk = disk_bytes(&ledger)? as f64;

    // First command after the import: pays whatever recovery sled left.
    let q0 = queries(&gen, size, 1, &mut rng).pop().expect("one query");
    let stance_args = |q: &Query| -> Vec<String> {
        vec![
            "stance".into(),
            q.actor.to_string(),
            q.issue.to_string(),
            "--as-of".into(),
            q.as_of.to_string(),
        ]
    };
    let a0 = stance_args(&q0);
    let a0: Vec<&str> = a0.iter().map(String::as_str).collect();
    let (first_t, _) = b.cli(&ledger, &a0)?;

    // 6. verify vs a raw scan.
    eprintln!("verify ...");
    let (mut scan_best, mut verify_best) = (f64::MAX, f64::MAX);
    let mut scanned_bytes = 0u64;
    let rounds = if quick { 3 } else { 2 };
    {
        for _ in 0..rounds {
            // The floor: sled itself scanning the log keyspace (opened
            // directly, as no ledger API exposes the engine).
            let db = sled::Config::new()
                .path(&ledger)
                .cache_capacity(64 * 1024 * 1024)
                .open()?;
            let t = Instant::now();
            let mut n = 0u64;
            let mut bytes = 0u64;
            for kv in db.scan_prefix([index::LOG]) {
                let (_, v) = kv?;
                bytes += v.len() as u64;
                n += 1;
            }
            scan_best = scan_best.min(t.elapsed().as_secs_f64());
            assert_eq!(n, size, "log records");
            scanned_bytes = bytes;
            drop(db);
            let l = Ledger::open(&ledger, &open_opts())?;
            let t = Instant::now();
            let r = l.verify(None, &mut |_| {})?;
            verify_best = verify_best.min(t.elapsed().as_secs_f64());
            assert_eq!(r.events, size);
        }
    }
    let enc_per_event = scanned_bytes as f64 / size as f64;
    let (verify_rate, scan_rate) = (size as f64 / verify_best, size as f64 / scan_best);
    b.push(fig(
        "verify_events_per_s",
        "verify (full replay with hash checks), in process",
        "events/s",
        verify_rate,
        Some((scan_rate, "raw sled scan of the log keyspace")),
        Some(verify_rate / scan_rate),
        ">= 400,000/s",
        Some(verify_rate >= 400_000.0),
    ));
    b.push(fig(
        "disk_bytes_per_event",
        "bytes on disk per event, right after the import",
        "bytes",
        disk / size as f64,
        Some((enc_per_event, "mean encoded event (stored log value)")),
        Some(disk / size as f64 / enc_per_event),
        "<= 3 x encoded",
        Some(disk / size as f64 <= 3.0 * enc_per_event),
    ));

    // 3. Stance in process at each size, vs the naive fold.
    let mut stance_p50 = Vec::new();
    let mut stance_warm_p50 = Vec::new();
    let all_sizes: Vec<u64> = stance_sizes.iter().copied().chain([size]).collect();
    let mut naive_full = f64::NAN;
    let mut events_full: Vec<Event> = Vec::new();
    for (k, &s) in all_sizes.iter().enumerate() {
        eprintln!("stance queries at {s} events ...");
        let path = if s == size {
            ledger.clone()
        } else {
            let p = work.join(format!("ledger-{s}"));
            import_in_process(&gen.files[k].1, &p)?;
            p
        };
        let l = Ledger::open(&path, &open_opts())?;
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
        // The same queries again, on a set small enough that the pages they
        // touch stay in sled's cache: the seek itself, without page reads.
        let warm_set = &qs[..qs.len().min(1000)];
        for q in warm_set {
            l.stance(&q.actor, &q.issue, q.as_of, None)?;
        }
        let mut warm = Vec::with_capacity(warm_set.len());
        for q in warm_set {
            let t = Instant::now();
            l.stance(&q.actor, &q.issue, q.as_of, None)?;
            warm.push(us(t.elapsed()));
        }
        let warm_p50 = pct(&sorted(warm), 0.5);
        stance_warm_p50.push(warm_p50);
        // Naive: fold the whole log (already in memory) for the same query.
        let events = load_events(&l)?;
        let known = l.head()?.seq;
        let reps = match s {
            s if s <= 10_000 => 20,
            s if s <= 100_000 => 5,
            _ => 3,
        };
        let mut naive = Vec::new();
        for q in qs.iter().take(reps) {
            let t = Instant::now();
            let m = fold_stances(&events, q.as_of, known);
            let _ = m.get(&(q.issue.clone(), q.actor.clone()));
            naive.push(us(t.elapsed()));
        }
        let naive = pct(&sorted(naive), 0.5);
        stance_p50.push(p50);
        b.push(fig(
            &format!("stance_p50_us_{s}"),
            &format!(
                "stance as of a date, in process, p50 at {s} events ({found} of {} found)",
                qs.len()
            ),
            "us",
            p50,
            Some((naive, "naive fold of the whole log (in memory), same query")),
            Some(naive / p50),
            if s == size { "<= 20 us" } else { "" },
            (s == size).then_some(p50 <= 20.0),
        ));
        b.push(fig(
            &format!("stance_warm_p50_us_{s}"),
            &format!(
                "stance, in process, p50 of {} queries repeated with their pages in cache",
                warm_set.len()
            ),
            "us",
            warm_p50,
            Some((naive, "naive fold of the whole log (in memory), same query")),
            Some(naive / warm_p50),
            "",
            None,
        ));
        b.push(fig(
            &format!("stance_p99_us_{s}"),
            &format!("stance as of a date, in process, p99 at {s} events"),
            "us",
            p99,
            Some((naive, "naive fold of the whole log (in memory), same query")),
            Some(naive / p99),
            "",
            None,
        ));
        if s == size {
            naive_full = naive;
            events_full = events;
        }
    }
    let flat = stance_p50.last().unwrap() / stance_p50[0];
    b.push(fig(
        "stance_p50_growth",
        &format!("stance p50 at {size} / p50 at {}", all_sizes[0]),
        "x",
        flat,
        None,
        None,
        "<= 3",
        Some(flat <= 3.0),
    ));
    let flat_warm = stance_warm_p50.last().unwrap() / stance_warm_p50[0];
    b.push(fig(
        "stance_warm_p50_growth",
        &format!(
            "stance p50 at {size} / p50 at {}, pages in cache (the seek alone)",
            all_sizes[0]
        ),
        "x",
        flat_warm,
        None,
        None,
        "",
        None,
    ));

    // 5. stances and history on the big ledger, in process, vs the naive fold.
    eprintln!("stances and history ...");
    let as_of = day(SPAN_DAYS as u32);
    let hist_qs = queries(&gen, size, 50, &mut rng);
    {
        let l = Ledger::open(&ledger, &open_opts())?;
        let reps = 3;
        let mut t_stances = Vec::new();
        let mut rows = 0;
        for _ in 0..reps {
            let t = Instant::now();
            rows = l.stances(as_of, None, &Filter::default())?.len();
            t_stances.push(ms(t.elapsed()));
        }
        let st = pct(&sorted(t_stances), 0.5);
        b.push(fig(
            "stances_ms",
            &format!("stances (whole table, {rows} pairs), in process, median"),
            "ms",
            st,
            Some((
                naive_full / 1000.0,
                "naive fold of the whole log (in memory)",
            )),
            Some(naive_full / 1000.0 / st),
            "",
            None,
        ));
        let mut t_hist = Vec::new();
        let mut items = 0;
        for q in &hist_qs {
            let t = Instant::now();
            items += l.history(&q.actor, &q.issue, None)?.len();
            t_hist.push(us(t.elapsed()));
        }
        let ht = pct(&sorted(t_hist), 0.5);
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
        let hn = pct(&sorted(t_naive), 0.5);
        b.push(fig(
            "history_p50_us",
            &format!(
                "history of a pair, in process, p50 ({:.1} statements per pair on average)",
                items as f64 / hist_qs.len() as f64
            ),
            "us",
            ht,
            Some((hn, "naive fold of the whole log (in memory)")),
            Some(hn / ht),
            "",
            None,
        ));
    }
    drop(events_full);

    // 4. CLI stance end to end vs the floor; stances and history via the CLI.
    eprintln!("CLI stance vs floor ...");
    let runs = if quick { 9 } else { 31 };
    let cli_qs = queries(&gen, size, runs, &mut rng);
    let (mut ours, mut fl) = (Vec::new(), Vec::new());
    for q in &cli_qs {
        let mut cmd = Command::new(b.me());
        cmd.arg("floor").arg(&ledger);
        fl.push(ms(timed(cmd)?.0));
        let a = stance_args(q);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        ours.push(ms(b.cli(&ledger, &a)?.0));
    }
    let (ours, fl) = (pct(&sorted(ours), 0.5), pct(&sorted(fl), 0.5));
    b.push(fig(
        "cli_stance_ms",
        "`stancelog stance` end to end, median wall per process",
        "ms",
        ours,
        Some((
            fl,
            "open the sled database + one get, median wall per process",
        )),
        Some(ours / fl),
        "<= 1.25 x floor",
        Some(ours / fl <= 1.25),
    ));
    b.push(fig(
        "cli_stance_first_after_import_ms",
        "`stancelog stance`, the first command after the import",
        "ms",
        ms(first_t),
        Some((fl, "open + one get floor (median, later runs)")),
        Some(ms(first_t) / fl),
        "",
        None,
    ));
    let (_, q_rss) = b.with_rss(
        &b.stancelog(),
        &[
            "--ledger".as_ref(),
            ledger.as_os_str(),
            "stance".as_ref(),
            a0[1].as_ref(),
            a0[2].as_ref(),
        ],
    )?;
    let (_, f_rss) = b.with_rss(&b.me(), &["floor".as_ref(), ledger.as_os_str()])?;
    b.push(fig(
        "query_peak_rss_mib",
        "peak RSS of a `stancelog stance` process",
        "MiB",
        q_rss / 1024.0,
        Some((f_rss / 1024.0, "peak RSS of the open + one get floor")),
        Some(q_rss / f_rss),
        "",
        None,
    ));
    let asof = as_of.to_string();
    let mut t = Vec::new();
    for _ in 0..3 {
        t.push(ms(b.cli(&ledger, &["stances", "--as-of", &asof])?.0));
    }
    let st = pct(&sorted(t), 0.5);
    b.push(fig(
        "cli_stances_ms",
        "`stancelog stances` (table render) end to end, median",
        "ms",
        st,
        Some((fl, "open + one get floor")),
        Some(st / fl),
        "",
        None,
    ));
    let mut t = Vec::new();
    for q in hist_qs.iter().take(if quick { 5 } else { 11 }) {
        t.push(ms(b
            .cli(&ledger, &["history", q.actor.as_str(), q.issue.as_str()])?
            .0));
    }
    let ht = pct(&sorted(t), 0.5);
    b.push(fig(
        "cli_history_ms",
        "`stancelog history` end to end, median",
        "ms",
        ht,
        Some((fl, "open + one get floor")),
        Some(ht / fl),
        "",
        None,
    ));

    // 2. Durable single append: CLI record, library append, raw sled.
    eprintln!("durable single appends ...");
    let n_app = if quick { 20 } else { 50 };
    let mut raw = Vec::new();
    {
        let dir = work.join("raw-append");
        let db = sled::Config::new()
            .path(&dir)
            .cache_capacity(64 * 1024 * 1024)
            .open()?;
        let v = &gen.encoded[gen.offsets[0]..gen.offsets[1]];
        for i in 0..n_app {
            let t = Instant::now();
            db.insert(index::log_key(i as u64 + 1), v)?;
            db.flush()?;
            raw.push(us(t.elapsed()));
        }
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let raw = sorted(raw);
    let (raw50, raw99) = (pct(&raw, 0.5), pct(&raw, 0.99));
    let mut lib = Vec::new();
    {
        let l = Ledger::open(&ledger, &open_opts())?;
        let mut ctx = Context {
            author: "bench".into(),
            clock: &ctx_clock,
            progress: None,
        };
        for i in 0..n_app {
            let w = Wire {
                kind: "statement".into(),
                actor: Some("JPN".into()),
                issue: Some("bench-append".into()),
                position: Some("support".into()),
                stated_on: Some("2020-01-01".into()),
                summary: Some(format!("In-process append number {i} of the benchmark.")),
                ..Wire::default()
            };
            let req = w.to_request()?;
            let t = Instant::now();
            l.append([Ok(req)], &mut ctx)?;
            lib.push(us(t.elapsed()));
        }
    }
    b.push_p50_p99(
        "append_lib",
        "durable single append, library, in process",
        "us",
        &sorted(lib),
        [
            (raw50, "raw sled insert + flush, p50"),
            (raw99, "raw sled insert + flush, p99"),
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
    let floor_is = "open + one get floor (median)";
    b.push_p50_p99(
        "record_cli",
        "durable single append, `stancelog record` process wall",
        "ms",
        &sorted(rec),
        [(fl, floor_is), (fl, floor_is)],
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
            raw_rate,
            "raw sled apply_batch of the encoded events + flush",
        )),
        Some(extra_rate / raw_rate),
        "",
        None,
    ));
    b.note("disk_bytes_after_all", json!(disk_bytes(&ledger)?));

    // Report.
    let mut notes = serde_json::Map::new();
    for (k, v) in std::mem::take(&mut b.notes) {
        notes.insert(k, v);
    }
    let result = json!({
        "version": 1,
        "size": size,
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

/// The floor's SQLite half: the read model's two tables (as in the
/// ledger's schema, with their indexes), filled with `rows` in one
/// transaction, WAL and `synchronous=FULL` as the ledger runs it.
fn raw_sqlite_insert(path: &Path, rows: &[(Wire, Derived)]) -> Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL,
           recorded_by TEXT NOT NULL, type TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
           target TEXT, target_seq INTEGER, actor TEXT, issue TEXT, reason TEXT, position TEXT,
           stated_on TEXT, summary TEXT, quote TEXT, speaker TEXT, source_url TEXT, source_title TEXT);
         CREATE INDEX events_by_time ON events (recorded_at, seq);
         CREATE INDEX events_by_target ON events (target_seq, seq) WHERE target_seq IS NOT NULL;
         CREATE TABLE versions (actor TEXT NOT NULL, issue TEXT NOT NULL, stated_on TEXT NOT NULL,
           statement_seq INTEGER NOT NULL, version_seq INTEGER NOT NULL, tombstone INTEGER NOT NULL,
           PRIMARY KEY (actor, issue, stated_on, statement_seq, version_seq)) WITHOUT ROWID;
         CREATE INDEX versions_by_statement ON versions (statement_seq, version_seq);",
    )?;
    let tx = conn.transaction()?;
    {
        let mut ev = tx.prepare(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        let mut ve = tx.prepare("INSERT INTO versions VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        for (w, d) in rows {
            ev.execute(rusqlite::params![
                w.seq.map(|s| s as i64),
                w.id,
                w.recorded_at,
                w.recorded_by,
                w.kind,
                w.prev_hash,
                w.hash,
                w.target,
                d.target_seq.map(|s| s as i64),
                w.actor,
                w.issue,
                w.reason,
                w.position,
                w.stated_on,
                w.summary,
                w.quote,
                w.speaker,
                w.source_url,
                w.source_title
            ])?;
            let v = &d.version;
            ve.execute(rusqlite::params![
                v.actor,
                v.issue,
                v.stated_on.to_string(),
                v.stmt_seq as i64,
                v.version_seq as i64,
                v.tombstone as i64
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
