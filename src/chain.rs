//! The hash chain and content-derived ids. The byte layout here is a public
//! contract (documented in `docs/FORMAT.md`) so that an auditor can recompute
//! every hash from `stancelog export` output without this code; it therefore
//! uses only text fields as they appear in the export, never bincode.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::event::Hash;
use crate::model::{format_timestamp, Payload};

/// Namespace for content-derived (v5) event ids.
pub const ID_NAMESPACE: Uuid = Uuid::from_bytes([
    0x5e, 0x6b, 0x1c, 0x2a, 0x7d, 0x3f, 0x4e, 0x11, 0x9a, 0x42, 0x0c, 0x8e, 0x51, 0x73, 0x6c, 0x6f,
]);

/// Appends one field: `0x00` when absent, else `0x01`, its UTF-8 length as a
/// big-endian u32, and its bytes. Lengths make the encoding unambiguous.
fn put(buf: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => buf.push(0),
        Some(v) => {
            buf.push(1);
            buf.extend_from_slice(&(v.len() as u32).to_be_bytes());
            buf.extend_from_slice(v.as_bytes());
        }
    }
}

/// The payload's fields in their fixed canonical order, as export text.
pub fn payload_fields(p: &Payload) -> Vec<(&'static str, Option<String>)> {
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    match p {
        Payload::Statement(s) => vec![
            ("actor", Some(s.actor.to_string())),
            ("issue", Some(s.issue.to_string())),
            ("position", Some(s.position.to_string())),
            ("stated_on", Some(date(s.stated_on))),
            ("summary", Some(s.summary.clone())),
            ("quote", s.quote.clone()),
            ("speaker", s.speaker.clone()),
            ("source_url", s.source_url.clone()),
            ("source_title", s.source_title.clone()),
        ],
        Payload::Amendment(a) => vec![
            ("target", Some(a.target.to_string())),
            ("reason", Some(a.reason.clone())),
            ("position", a.position.map(|p| p.to_string())),
            ("stated_on", a.stated_on.map(date)),
            ("summary", a.summary.clone()),
            ("quote", a.quote.clone()),
            ("speaker", a.speaker.clone()),
            ("source_url", a.source_url.clone()),
            ("source_title", a.source_title.clone()),
        ],
        Payload::Retraction(r) => vec![
            ("target", Some(r.target.to_string())),
            ("reason", Some(r.reason.clone())),
        ],
    }
}

/// The canonical bytes of a payload: its type, then its fields in order.
pub fn canonical_payload(p: &Payload) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    put(&mut buf, Some(p.kind()));
    for (_, v) in payload_fields(p) {
        put(&mut buf, v.as_deref());
    }
    buf
}

/// The id an event gets when the input gives none: a UUID v5 over its
/// canonical payload, so importing the same line twice adds nothing.
pub fn content_id(p: &Payload) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, &canonical_payload(p))
}

/// The chain hash of an event: SHA-256 of the previous hash followed by the
/// envelope fields (seq, id, recorded_at, recorded_by) and the canonical payload.
pub fn event_hash(
    prev_hash: &Hash,
    seq: u64,
    id: &Uuid,
    recorded_at: &DateTime<Utc>,
    recorded_by: &str,
    payload: &Payload,
) -> Hash {
    let mut buf = Vec::with_capacity(384);
    buf.extend_from_slice(prev_hash);
    put(&mut buf, Some(&seq.to_string()));
    put(&mut buf, Some(&id.to_string()));
    put(&mut buf, Some(&format_timestamp(recorded_at)));
    put(&mut buf, Some(recorded_by));
    buf.extend_from_slice(&canonical_payload(payload));
    Sha256::digest(&buf).into()
}

/// Hex form of a hash, as printed and exported.
pub fn hex_hash(h: &Hash) -> String {
    hex::encode(h)
}

/// Parses a 64-digit hex hash.
pub fn parse_hash(s: &str) -> Option<Hash> {
    let bytes = hex::decode(s).ok()?;
    bytes.try_into().ok()
}
