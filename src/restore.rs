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

use std::io::BufRead;

use chrono::{DateTime, Utc};

use crate::append::BATCH_EVENTS;
use crate::chain::{event_hash, hex_hash, parse_hash};
use crate::error::{Error, Result, RuleViolation};
use crate::event::{Event, Hash};
use crate::import::Lines;
use crate::ledger::Ledger;
use crate::model::{format_timestamp, validate_author};
use crate::replay::Replay;
use crate::store::Head;
use crate::wire::Wire;
use crate::writer::Writer;

/// How far past the restoring machine's clock an exported `recorded_at` may
/// be: clocks of two machines differ by some seconds, rarely by minutes.
pub const RESTORE_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// What a successful restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// Events restored.
    pub events: u64,
    /// The committed head afterwards (equal to the exported ledger's head).
    pub head: Head,
}

/// Fails unless the ledger holds no event, in its log or its read model.
fn ensure_empty(writer: &Writer<'_>, path: &std::path::Path) -> Result<()> {
    let head = writer.committed().seq;
    let last = writer.store().last_log_seq()?;
    let witnessed = writer.query().watermark()?.seq;
    if head > 0 || last > 0 || witnessed > 0 {
        return Err(RuleViolation::NotEmpty {
            path: path.to_owned(),
            head_seq: head.max(witnessed),
        }
        .into());
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
    let payload = req.command.into_fact();
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
    // The rules (field limits, no date after the recording day, edits of
    // earlier live statements, unique ids) are the replay's: see `restore`.

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

/// Restores the export read from `reader` into `store`, which must be empty.
/// Errors name `source_name`, the line and the first bad seq; on error
/// nothing remains written. `progress` is called with the events read so far.
pub(crate) fn restore<R: BufRead>(
    ledger: &Ledger,
    reader: R,
    source_name: &str,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(u64),
) -> Result<Restored> {
    let latest = now + RESTORE_SKEW;
    let mut writer = ledger.writer()?;
    ensure_empty(&writer, ledger.path())?;
    let mut replay = Replay::default();
    let mut prev_time = None;
    for item in Lines::new(reader, source_name) {
        let (line, wire) = item?;
        let tag = |message: String| Error::Input {
            source_name: source_name.to_owned(),
            line,
            message,
        };
        let head = *writer.head();
        let want = head.seq + 1;
        let event = check_line(&wire, want, &head.hash, prev_time).map_err(tag)?;
        if event.recorded_at > latest {
            return Err(tag(format!(
                "seq {want}: recorded_at {} is after this machine's clock ({}, with {} minutes of skew allowed): an export cannot come from the future",
                format_timestamp(&event.recorded_at),
                format_timestamp(&now),
                RESTORE_SKEW.num_minutes()
            )));
        }
        let derived = {
            let q = writer.query();
            replay
                .step(&event, |seq| q.event_indexed(seq))
                .map_err(|m| tag(format!("seq {want}: {m}")))?
        };
        writer.push_event(&event, &derived)?;
        prev_time = Some(event.recorded_at);
        if writer.batch_len() >= BATCH_EVENTS {
            writer.apply()?;
            progress(writer.head().seq);
        }
    }
    let head = writer.commit()?;
    progress(head.seq);
    Ok(Restored {
        events: head.seq,
        head,
    })
}
