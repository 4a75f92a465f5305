//! `verify`: replays the whole log from scratch and checks everything the
//! ledger promises: every record decodes, seqs are contiguous from 1,
//! `recorded_at` never decreases, every hash links and recomputes, ids are
//! unique, every edit targets an earlier live statement, the committed head
//! matches the last record, and the stored indexes equal a fresh replay.
//!
//! The index comparison is a multiset digest (a sum of 128-bit hashes of
//! every key/value pair, plus a count) taken over the replay's expected
//! entries and over a sequential scan of the stored ones; so memory stays
//! constant. Only when they differ does a slower pass find the first bad seq.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use xxhash_rust::xxh3::xxh3_128;

use crate::chain::{event_hash, hex_hash};
use crate::codec;
use crate::error::{Error, Result};
use crate::event::{Event, Hash, GENESIS};
use crate::index;
use crate::replay::Replay;
use crate::store::{Head, Store};

/// What a successful verify saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The verified head.
    pub head: Head,
    /// Events replayed.
    pub events: u64,
    /// Index entries compared.
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
    fn add(&mut self, k: &[u8], v: &[u8]) {
        let buf = &mut self.buf;
        buf.clear();
        buf.extend_from_slice(&(k.len() as u32).to_be_bytes());
        buf.extend_from_slice(k);
        buf.extend_from_slice(v);
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
/// Three threads share the work, so that verify runs at about the speed of
/// sled's own scans on two cores: one reads, decodes and hashes the log
/// (`read_log`), this one checks the chain in order and replays the events
/// (`replay_log`), and one takes the digest of the stored indexes. All three
/// only read a ledger this process holds locked.
pub fn verify(
    store: &Store,
    digest: Option<Digest>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let scan = s.spawn(|| stored_index_digest(store, &stop));
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
        s.spawn(|| read_log(store, tx, &stop));
        let replayed = replay_log(store, rx, digest, progress);
        if replayed.is_err() {
            // The reader stops too, as `rx` is gone.
            stop.store(true, Ordering::Relaxed);
        }
        let actual = scan.join().expect("the index scan does not panic");
        let (head, seq, expected) = replayed?;
        let actual = actual?;
        if actual.sum != expected.sum || actual.count != expected.count {
            return Err(locate_index_fault(store)?);
        }
        Ok(Report {
            head,
            events: seq,
            index_entries: expected.count,
        })
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
    for kv in store.scan_prefix(&[index::LOG]) {
        let (k, v) = match kv {
            Ok(kv) => kv,
            Err(e) => {
                let _ = tx.send(Ok(std::mem::take(&mut chunk)));
                let _ = tx.send(Err(e));
                return;
            }
        };
        let decoded = codec::decode(&v).map_err(|e| e.to_string()).map(|event| {
            let h = event_hash(
                &event.prev_hash,
                event.seq,
                &event.id,
                &event.recorded_at,
                &event.recorded_by,
                &event.payload,
            );
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

/// The multiset digest of every stored derived index entry; gives up early
/// (with an empty digest nobody reads) once `stop` is set.
fn stored_index_digest(store: &Store, stop: &AtomicBool) -> Result<Multiset> {
    let mut actual = Multiset::default();
    for prefix in index::DERIVED {
        for kv in store.scan_prefix(&[prefix]) {
            let (k, v) = kv?;
            actual.add(&k, &v);
            if actual.count % 4096 == 0 && stop.load(Ordering::Relaxed) {
                return Ok(actual);
            }
        }
    }
    Ok(actual)
}

/// Checks the log records [`read_log`] sends, in order, and replays them;
/// returns the head, the last seq and the digest of the index entries the
/// replay derives.
fn replay_log(
    store: &Store,
    records: Receiver<Result<Vec<ReadRecord>>>,
    digest: Option<Digest>,
    progress: &mut dyn FnMut(u64),
) -> Result<(Head, u64, Multiset)> {
    let head = store.head()?;
    // Sized by the log's length, a hint only (a malformed last key is
    // reported in order below; both numbers could be forged, so bounded).
    let last = store.last_log_seq().unwrap_or(0);
    let mut replay = Replay::with_capacity(head.seq.min(last).min(1 << 24));
    let mut expected = Multiset::default();
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
            let entries = replay
                .step(&event, |s| store.event_indexed(s))
                .map_err(|m| fault(want, m))?;
            for (k, v) in &entries {
                expected.add(k, v);
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
    if let Some((k, v)) = replay.finish() {
        expected.add(&k, &v);
    }
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
    Ok((head, seq, expected))
}

/// Finds the first seq whose index entries are missing or wrong, or an entry
/// no event derives. Runs only after the digests disagreed.
fn locate_index_fault(store: &Store) -> Result<Error> {
    let mut replay = Replay::default();
    let mut keys: HashSet<Vec<u8>> = HashSet::new();
    let mut events = store.events_from(1)?;
    loop {
        let (seq, entries) = match events.next() {
            Some(event) => {
                let event = event?;
                let entries = replay
                    .step(&event, |s| store.event_indexed(s))
                    .map_err(|m| fault(event.seq, m))?;
                (event.seq, entries)
            }
            None => match replay.finish() {
                Some(entry) => (0, vec![entry]),
                None => break,
            },
        };
        for (k, v) in entries {
            // A time entry belongs to the last seq of its run, named in its key.
            let seq = match k.first() {
                Some(&index::TIME) => index::time_or_edit_seq(&k).unwrap_or(seq),
                _ => seq,
            };
            match store.get(&k)? {
                Some(stored) if stored == v => {}
                Some(_) => {
                    return Ok(fault(
                        seq,
                        "an index entry of this event has a wrong value (run `stancelog rebuild`)",
                    ))
                }
                None => {
                    return Ok(fault(
                        seq,
                        "an index entry of this event is missing (run `stancelog rebuild`)",
                    ))
                }
            }
            keys.insert(k);
        }
    }
    for prefix in index::DERIVED {
        for kv in store.scan_prefix(&[prefix]) {
            let (k, v) = kv?;
            if !keys.contains(&k) {
                return Ok(fault(
                    stray_entry_seq(&k, &v),
                    format!(
                        "the index holds an entry no event derives ({}…; run `stancelog rebuild`)",
                        hex::encode(&k[..k.len().min(24)])
                    ),
                ));
            }
        }
    }
    Ok(fault(
        0,
        "index digests differ but no entry differs (run `stancelog rebuild`)",
    ))
}

/// The seq a derived index entry points at (0 if it names none), so that a
/// stray entry is reported at the event it pretends to describe.
fn stray_entry_seq(k: &[u8], v: &[u8]) -> u64 {
    let tail = |b: &[u8]| b.try_into().map(u64::from_be_bytes).unwrap_or(0);
    match k.first() {
        Some(&index::ID) => tail(v),
        Some(&index::TIME) | Some(&index::EDIT) => index::time_or_edit_seq(k).unwrap_or(0),
        Some(&index::VERSION) if k.len() >= 8 => tail(&k[k.len() - 8..]),
        _ => 0,
    }
}
