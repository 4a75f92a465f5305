//! `verify`: replays the whole log from scratch and checks everything the
//! ledger promises: every record decodes, seqs are contiguous from 1,
//! `recorded_at` never decreases, every hash links and recomputes, ids are
//! unique, every event obeys the rules, the committed head matches the last
//! record, and the read model equals the replay (each event's row, every
//! version row, the watermark), naming the first seq that differs.
//!
//! The versions comparison is a multiset digest (a sum of 128-bit hashes of
//! every row, plus a count) over the replay's rows and a scan of the stored
//! ones, so memory stays constant. Only when they differ does a slower pass
//! find the first bad seq.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Mutex;

use xxhash_rust::xxh3::xxh3_128;

use crate::chain::{hex_hash, recomputed_hash};
use crate::codec;
use crate::derive::Version;
use crate::error::{Error, Result};
use crate::event::{Event, Hash, GENESIS};
use crate::index;
use crate::readmodel::{self, Conn, Query};
use crate::replay::Replay;
use crate::store::{Head, Store};

/// What a successful verify saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The verified head.
    pub head: Head,
    /// Events replayed.
    pub events: u64,
    /// Rows of the read model compared with the replay.
    pub index_entries: u64,
}

/// A prefix of the log a user published: the hash the log had at `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    /// The seq of the published head.
    pub seq: u64,
    /// Its hash.
    pub hash: Hash,
}

#[derive(Default)]
struct Multiset {
    sum: u128,
    count: u64,
    buf: Vec<u8>,
}

impl Multiset {
    fn add_version(&mut self, v: &Version) {
        let buf = &mut self.buf;
        buf.clear();
        for part in [v.actor.as_bytes(), &[0], v.issue.as_bytes(), &[0]] {
            buf.extend_from_slice(part);
        }
        buf.extend_from_slice(v.stated_on.to_string().as_bytes());
        buf.extend_from_slice(&v.stmt_seq.to_be_bytes());
        buf.extend_from_slice(&v.version_seq.to_be_bytes());
        buf.push(v.tombstone as u8);
        self.sum = self.sum.wrapping_add(xxh3_128(buf));
        self.count += 1;
    }
}

fn fault(seq: u64, message: impl Into<String>) -> Error {
    Error::Corrupt {
        seq,
        message: message.into(),
    }
}

/// Verifies the whole ledger; with `digest`, also that the log still extends
/// that published prefix. `progress` is called with the events seen so far.
///
/// Two threads share the work: one reads, decodes and hashes the log
/// (`read_log`); this one checks the chain in order, replays the events
/// through the rules (`replay_log`) and compares each event's row in the
/// read model with the log, then the read model's versions with the
/// replay's by a multiset digest, and its watermark with the log's head.
/// The caller holds the writers' turn, so nothing changes meanwhile.
///
/// `beside`, when given, is a second connection to the same read model at
/// the same state (the caller holds the only writer): the check of
/// `stances_latest`'s fields, which reads the statement of every pair, runs
/// on it in a third thread while the log is replayed. Without it (a
/// PostgreSQL snapshot, which only `model` sees) that check runs after.
pub(crate) fn verify(
    store: &Store,
    model: &Conn,
    beside: Option<&Mutex<Conn>>,
    path: &Path,
    digest: Option<Digest>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report> {
    let stop = AtomicBool::new(false);
    let q = Query::new(model);
    let (replayed, fields) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
        s.spawn(|| read_log(store, tx, &stop));
        let fields = beside.map(|conn| {
            s.spawn(move || {
                let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                readmodel::snapshot(&conn, |q| q.latest_fields_fault())
            })
        });
        let replayed = replay_log(store, &q, rx, digest, progress);
        if replayed.is_err() {
            // The reader stops too, as `rx` is gone.
            stop.store(true, Ordering::Relaxed);
        }
        let fields = fields.map(|h| h.join().expect("the stances_latest check does not panic"));
        (replayed, fields)
    });
    let (head, seq, expected, rows) = replayed?;
    let mut actual = Multiset::default();
    let mut latest = readmodel::ExpectedLatest::default();
    q.for_each_version(&[], |v| {
        actual.add_version(&v);
        latest.add(v);
        Ok(())
    })?;
    if actual.sum != expected.sum || actual.count != expected.count {
        return Err(locate_version_fault(store, &q)?);
    }
    // The versions equal the replay's, so the rows they give are the rows
    // a replay gives.
    let latest = latest.finish();
    let latest_rows = latest.len() as u64;
    if let Some((seq, message)) = readmodel::latest_difference(&latest, &q.latest_rows()?) {
        return Err(fault(
            seq.max(1),
            format!("{message} (run `stancelog rebuild`)"),
        ));
    }
    let fields = match fields {
        Some(checked) => checked?,
        None => q.latest_fields_fault()?,
    };
    if let Some(seq) = fields {
        return Err(fault(
            seq,
            "the read model's stances_latest row of this statement does not hold it as amended now (run `stancelog rebuild`)",
        ));
    }
    if let Some(object) = readmodel::schema_difference(model)? {
        return Err(fault(
            head.seq.max(1),
            format!(
                "the read model's {object} is not the one this release defines (run `stancelog rebuild`)"
            ),
        ));
    }
    let wm = q.watermark()?;
    if wm.seq != head.seq || wm.hash != head.hash {
        return Err(fault(
            wm.seq.min(head.seq).max(1),
            format!(
                "the read model's watermark (seq {}) is not the log's head (seq {}) in {} (run `stancelog rebuild`)",
                wm.seq,
                head.seq,
                path.display()
            ),
        ));
    }
    Ok(Report {
        head,
        events: seq,
        index_entries: rows + expected.count + latest_rows,
    })
}

/// Log records per message from [`read_log`] to [`replay_log`], and messages
/// in flight: enough to keep both threads busy, little memory.
const READ_CHUNK: usize = 512;
const READ_AHEAD: usize = 8;

/// One log record as [`read_log`] hands it on: its key's seq, and either the
/// decoded event with the hash of its content (computed from the record's
/// own `prev_hash`; [`replay_log`] checks that it links) or why it does not
/// decode.
struct ReadRecord {
    key_seq: Option<u64>,
    decoded: std::result::Result<(Event, Hash), String>,
}

/// Scans the log in key order, decoding and hashing each record, and sends
/// the records on in chunks; a scan error ends the stream.
fn read_log(store: &Store, tx: SyncSender<Result<Vec<ReadRecord>>>, stop: &AtomicBool) {
    let mut chunk = Vec::with_capacity(READ_CHUNK);
    for kv in store.scan_log() {
        let (k, v) = match kv {
            Ok(kv) => kv,
            Err(e) => {
                let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                let _ = tx.send(Err(e));
                return;
            }
        };
        let decoded = codec::decode(&v).map_err(|e| e.to_string()).map(|event| {
            let h = recomputed_hash(&event);
            (event, h)
        });
        chunk.push(ReadRecord {
            key_seq: index::log_key_seq(&k),
            decoded,
        });
        if chunk.len() == READ_CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(READ_CHUNK));
            if tx.send(Ok(full)).is_err() || stop.load(Ordering::Relaxed) {
                return;
            }
        }
    }
    let _ = tx.send(Ok(chunk));
}

/// Checks the log records [`read_log`] sends, in order, replays them, and
/// compares each event's row in the read model with it; returns the head,
/// the last seq, the digest of the version rows the replay derives and the
/// number of event rows compared.
fn replay_log(
    store: &Store,
    model: &Query<'_>,
    records: Receiver<Result<Vec<ReadRecord>>>,
    digest: Option<Digest>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Head, u64, Multiset, u64)> {
    let head = store.head()?;
    // Sized by the log's length, a hint only (a malformed last key is
    // reported in order below; both numbers could be forged, so bounded).
    let last = store.last_log_seq().unwrap_or(0);
    let mut replay = Replay::with_capacity(head.seq.min(last).min(1 << 24));
    let mut expected = Multiset::default();
    let mut rows = ModelRows {
        model,
        page: std::collections::VecDeque::new(),
        next: 1,
    };
    let mut compared = 0u64;
    let mut prev_hash = GENESIS;
    let mut prev_time = None;
    let mut seq = 0u64;
    for record in records.iter().map(|chunk| chunk.map(Vec::into_iter)) {
        for ReadRecord { key_seq, decoded } in record? {
            let want = seq + 1;
            let Some(key_seq) = key_seq else {
                return Err(fault(want, "malformed log key"));
            };
            if key_seq != want {
                return Err(fault(
                    want,
                    format!("record missing (next record is seq {key_seq})"),
                ));
            }
            let (event, h) = decoded.map_err(|e| fault(want, e))?;
            if event.seq != want {
                return Err(fault(want, format!("record claims seq {}", event.seq)));
            }
            if prev_time.is_some_and(|t| event.recorded_at < t) {
                return Err(fault(want, "recorded_at goes backwards"));
            }
            // With the link checked, `h` (hashed over the record's own
            // prev_hash) is the hash over the chain's previous hash.
            if event.prev_hash != prev_hash {
                return Err(fault(
                    want,
                    "prev_hash does not link to the previous record",
                ));
            }
            if h != event.hash {
                return Err(fault(want, "hash does not match the record's content"));
            }
            if let Some(d) = digest.filter(|d| d.seq == want) {
                if d.hash != h {
                    return Err(fault(
                        want,
                        format!(
                            "the log no longer extends the digest: hash at seq {want} is {}, the digest says {}",
                            hex_hash(&h),
                            hex_hash(&d.hash)
                        ),
                    ));
                }
            }
            let derived = replay
                .step(&event, |s| store.event_indexed(s))
                .map_err(|m| fault(want, m))?;
            if let Some(v) = &derived.version {
                expected.add_version(v);
            }
            match rows.next_row()? {
                Some(row) if row == readmodel::StoredRow::of(&event, &derived)? => {
                    compared += 1;
                }
                Some(_) => {
                    return Err(fault(
                        want,
                        "the read model's row of this event differs from the log (run `stancelog rebuild` if the log is right)",
                    ))
                }
                None => {
                    return Err(fault(
                        want,
                        "the read model lacks this event (run `stancelog rebuild`)",
                    ))
                }
            }
            prev_hash = h;
            prev_time = Some(event.recorded_at);
            seq = want;
            if seq.is_multiple_of(8192) {
                progress(seq);
            }
        }
    }
    progress(seq);
    if seq != head.seq {
        return Err(fault(
            head.seq.min(seq) + 1,
            format!(
                "committed head is seq {} but the log ends at seq {seq}",
                head.seq
            ),
        ));
    }
    if prev_hash != head.hash {
        return Err(fault(
            seq,
            "the committed head's hash is not the hash of the last record",
        ));
    }
    // `0:000…0` is the empty ledger's head, a prefix of every log.
    if let Some(d) = digest.filter(|d| d.seq == 0 && d.hash != GENESIS) {
        return Err(fault(
            1,
            format!(
                "the digest names seq 0 with hash {}, but seq 0 can only have the all-zero hash",
                hex_hash(&d.hash)
            ),
        ));
    }
    if let Some(d) = digest.filter(|d| d.seq > seq) {
        return Err(fault(
            seq + 1,
            format!(
                "the digest names seq {} but the log ends at seq {seq}",
                d.seq
            ),
        ));
    }
    if let Some(row) = rows.next_row()? {
        return Err(fault(
            row.seq as u64,
            "the read model holds an event the log does not (run `stancelog repair` if the log lost it, else `stancelog rebuild`)",
        ));
    }
    Ok((head, seq, expected, compared))
}

/// The read model's event rows in seq order, a page per query.
struct ModelRows<'q, 'c> {
    model: &'q Query<'c>,
    page: std::collections::VecDeque<readmodel::StoredRow>,
    next: u64,
}

impl ModelRows<'_, '_> {
    fn next_row(&mut self) -> Result<Option<readmodel::StoredRow>> {
        if self.page.is_empty() {
            // Rows compare in their stored form: bytes, codes and text.
            for row in self.model.stored_from(self.next, 2048)? {
                self.next = row.seq as u64 + 1;
                self.page.push_back(row);
            }
        }
        Ok(self.page.pop_front())
    }
}

/// Finds the first seq whose version row is missing or wrong, or a row no
/// event derives. Runs only after the digests disagreed.
fn locate_version_fault(store: &Store, model: &Query<'_>) -> Result<Error> {
    let mut replay = Replay::default();
    let mut expected = std::collections::HashSet::new();
    for event in store.events_from(1)? {
        let event = event?;
        let derived = replay
            .step(&event, |s| store.event_indexed(s))
            .map_err(|m| fault(event.seq, m))?;
        let Some(version) = derived.version else {
            continue;
        };
        if !model.has_version(&version)? {
            return Ok(fault(
                event.seq,
                "the read model's version row of this event is missing or wrong (run `stancelog rebuild`)",
            ));
        }
        expected.insert(version);
    }
    let mut stray = None;
    model.scan_versions(|v| {
        if stray.is_none() && !expected.contains(&v) {
            stray = Some(v.version_seq);
        }
        Ok(())
    })?;
    Ok(fault(
        stray.unwrap_or(0),
        "the read model holds a version row no event derives (run `stancelog rebuild`)",
    ))
}
