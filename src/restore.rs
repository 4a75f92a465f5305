//! `restore`: rebuilds an empty ledger from `stancelog export` output,
//! keeping every `seq`, `id`, `recorded_at`, `recorded_by` and hash.
//!
//! Nothing in the export is taken on trust: each line's hash is recomputed
//! with [`event_hash`] and compared with its `hash`, its `prev_hash` must be
//! the previous line's hash (zeros for the first), seqs must run 1, 2, 3...
//! without gaps, `recorded_at` must never decrease, and every event must obey
//! the rules an append enforces (field limits, edits of earlier live
//! statements, unique ids, no statement dated after its recording). Each line
//! must also be exactly in the export's canonical form, so that what is
//! restored is byte-for-byte what an auditor recomputes from the file.
//!
//! Like `import`, it is all or nothing: events are written in batches that do
//! not move the committed head, and only the last batch commits it; on any
//! error everything written is discarded and the ledger stays empty.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{DateTime, Utc};

use crate::append::BATCH_EVENTS;
use crate::chain::{event_hash, hex_hash, parse_hash};
use crate::codec;
use crate::error::{Error, Result};
use crate::event::{Event, Hash};
use crate::import::Lines;
use crate::index;
use crate::model::{format_timestamp, validate_author, Payload};
use crate::replay::Replay;
use crate::store::{Head, Store, WriteBatch};
use crate::wire::Wire;

/// What a successful restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// Events restored.
    pub events: u64,
    /// The committed head afterwards (equal to the exported ledger's head).
    pub head: Head,
}

/// Fails unless the ledger holds no event and no index entry.
fn ensure_empty(store: &Store) -> Result<()> {
    let head = store.head()?;
    let last = store.last_log_seq()?;
    let mut derived = false;
    for prefix in index::DERIVED {
        if store.scan_prefix(&[prefix]).next().is_some() {
            derived = true;
        }
    }
    if head.seq > 0 || last > 0 || derived {
        return Err(Error::invalid(format!(
            "the ledger at {} is not empty (head at seq {}); restore only into a new or empty ledger",
            store.path().display(),
            head.seq
        )));
    }
    Ok(())
}

/// The line's envelope field, which an export always has.
fn envelope<'a>(field: &str, v: &'a Option<String>) -> std::result::Result<&'a str, String> {
    v.as_deref().ok_or_else(|| {
        format!("the line has no {field:?} (restore reads `stancelog export` output; use `import` for new events)")
    })
}

/// Turns one export line into the event it records, checking it against the
/// chain so far. Errors are messages for the caller to tag with the line.
fn check_line(
    wire: &Wire,
    want_seq: u64,
    prev_hash: &Hash,
    prev_time: Option<DateTime<Utc>>,
) -> std::result::Result<Event, String> {
    let seq = wire
        .seq
        .ok_or_else(|| format!("seq {want_seq}: the line has no \"seq\" (restore reads `stancelog export` output; use `import` for new events)"))?;
    if seq != want_seq {
        return Err(if seq > want_seq {
            format!("seq {want_seq}: missing (this line has seq {seq}; the export was cut or reordered)")
        } else {
            format!("seq {want_seq}: this line has seq {seq} (a seq repeated or out of order)")
        });
    }
    let at = |m: String| format!("seq {seq}: {m}");
    let id_text = envelope("id", &wire.id).map_err(at)?;
    let recorded_at_text = envelope("recorded_at", &wire.recorded_at).map_err(at)?;
    let recorded_by = envelope("recorded_by", &wire.recorded_by).map_err(at)?;
    let prev_hash_text = envelope("prev_hash", &wire.prev_hash).map_err(at)?;
    let hash_text = envelope("hash", &wire.hash).map_err(at)?;

    let req = wire.to_request().map_err(|e| at(e.to_string()))?;
    let id = req
        .id
        .ok_or_else(|| at(format!("invalid id {id_text:?}")))?;
    let recorded_at = DateTime::parse_from_rfc3339(recorded_at_text)
        .map_err(|_| at(format!("invalid recorded_at {recorded_at_text:?}")))?
        .with_timezone(&Utc);
    validate_author(recorded_by).map_err(|e| at(e.to_string()))?;
    let line_prev = parse_hash(prev_hash_text)
        .ok_or_else(|| at(format!("invalid prev_hash {prev_hash_text:?}")))?;
    let line_hash =
        parse_hash(hash_text).ok_or_else(|| at(format!("invalid hash {hash_text:?}")))?;

    if &line_prev != prev_hash {
        return Err(at(format!(
            "prev_hash {} does not link to the previous line's hash {} (a line was removed, reordered or altered)",
            hex_hash(&line_prev),
            hex_hash(prev_hash)
        )));
    }
    let payload = req.payload;
    let h = event_hash(prev_hash, seq, &id, &recorded_at, recorded_by, &payload);
    if h != line_hash {
        return Err(at(format!(
            "hash does not match the line's content (recomputed {}; the line was altered)",
            hex_hash(&h)
        )));
    }
    if prev_time.is_some_and(|t| recorded_at < t) {
        return Err(at("recorded_at goes backwards".into()));
    }
    payload.validate().map_err(|e| at(e.to_string()))?;
    check_not_future(&payload, recorded_at).map_err(at)?;

    let event = Event {
        seq,
        id,
        recorded_at,
        recorded_by: recorded_by.to_owned(),
        prev_hash: *prev_hash,
        hash: h,
        payload,
    };
    // The hash covers the parsed values; insist the text is exactly what
    // export writes too (lowercase ids, 6-digit UTC timestamps...), so the
    // file and the ledger agree byte for byte.
    let canonical = Wire::from_event(&event);
    if &canonical != wire {
        let differs = differing_fields(&canonical, wire);
        return Err(at(format!(
            "the line is not in the canonical export form (field {differs}); recorded_at must read {:?}",
            format_timestamp(&recorded_at)
        )));
    }
    Ok(event)
}

/// The names of the fields that differ between two JSON forms.
fn differing_fields(a: &Wire, b: &Wire) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return "?".into();
    };
    let mut names: Vec<&str> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// The rule an append applies with its own clock: nothing stated after the
/// day it was recorded.
fn check_not_future(
    payload: &Payload,
    recorded_at: DateTime<Utc>,
) -> std::result::Result<(), String> {
    let day = recorded_at.date_naive();
    let stated_on = match payload {
        Payload::Statement(s) => Some(s.stated_on),
        Payload::Amendment(a) => a.stated_on,
        Payload::Retraction(_) => None,
    };
    match stated_on {
        Some(d) if d > day => Err(format!(
            "stated_on {d} is after the recording date {day} (statements cannot come from the future)"
        )),
        _ => Ok(()),
    }
}

/// Restores the export read from `reader` into `store`, which must be empty.
/// Errors name `source_name`, the line and the first bad seq; on error
/// nothing remains written. `progress` is called with the events read so far.
pub fn restore<R: BufRead>(
    store: &Store,
    reader: R,
    source_name: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<Restored> {
    ensure_empty(store)?;
    let mut applied_any = false;
    let mut head = Head::empty();
    let mut batch = WriteBatch::default();
    let mut pending: HashMap<u64, Event> = HashMap::new();
    let mut replay = Replay::default();
    let mut prev_time = None;

    let result: Result<()> = (|| {
        for item in Lines::new(reader, source_name) {
            let (line, wire) = item?;
            let tag = |message: String| Error::Input {
                source_name: source_name.to_owned(),
                line,
                message,
            };
            let want = head.seq + 1;
            let event = check_line(&wire, want, &head.hash, prev_time).map_err(tag)?;
            let load = |seq: u64| match pending.get(&seq) {
                Some(e) => Ok(e.clone()),
                None => store.event_indexed(seq),
            };
            let entries = replay
                .step(&event, load)
                .map_err(|m| tag(format!("seq {want}: {m}")))?;
            batch.insert(&index::log_key(event.seq), &codec::encode(&event));
            for (k, v) in entries {
                batch.insert(&k, &v);
            }
            head = Head {
                seq: event.seq,
                hash: event.hash,
                recorded_at: event.recorded_at,
            };
            prev_time = Some(event.recorded_at);
            pending.insert(event.seq, event);
            if pending.len() >= BATCH_EVENTS {
                store.apply(std::mem::take(&mut batch))?;
                applied_any = true;
                pending.clear();
                progress(head.seq);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            if head.seq > 0 {
                if let Some((k, v)) = replay.finish() {
                    batch.insert(&k, &v);
                }
                store.commit(batch, &head)?;
            }
            progress(head.seq);
            Ok(Restored {
                events: head.seq,
                head,
            })
        }
        Err(e) => {
            if applied_any {
                store.discard_after(0)?;
                store.durable_flush()?;
            }
            Err(e)
        }
    }
}
