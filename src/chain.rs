//! The hash chain and content-derived ids. The byte layout here is a public
//! contract (documented in `docs/FORMAT.md`) so that an auditor can recompute
//! every hash from `stancelog export` output without this code; it therefore
//! uses only text fields as they appear in the export, never bincode.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::event::Hash;
use crate::model::{format_timestamp, Fact};

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

/// Writes a date as `YYYY-MM-DD` into `out` without allocating (years 1-9999,
/// the only ones the model accepts).
fn date_text(d: NaiveDate, out: &mut [u8; 10]) -> &str {
    let (y, m, day) = (d.year().clamp(0, 9999) as u32, d.month(), d.day());
    let digits = [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        10,
        m / 10,
        m % 10,
        10,
        day / 10,
        day % 10,
    ];
    for (slot, n) in out.iter_mut().zip(digits) {
        *slot = if n == 10 { b'-' } else { b'0' + n as u8 };
    }
    std::str::from_utf8(out).expect("ASCII digits")
}

/// A payload field of the canonical form. An enum rather than a name, so a
/// new field is a compile error wherever fields are mapped (the JSON form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Actor,
    Issue,
    Target,
    Reason,
    Position,
    StatedOn,
    Summary,
    Quote,
    Speaker,
    SourceUrl,
    SourceTitle,
}

/// Calls `f` with each payload field in the fixed canonical order, as export
/// text (`None` when absent). The one place that order is defined.
pub(crate) fn visit_fields(p: &Fact, f: &mut dyn FnMut(Field, Option<&str>)) {
    let (mut date_buf, mut id_buf) = ([0u8; 10], Uuid::encode_buffer());
    match p {
        Fact::StatementRecorded(s) => {
            f(Field::Actor, Some(s.actor.as_str()));
            f(Field::Issue, Some(s.issue.as_str()));
            f(Field::Position, Some(s.position.as_str()));
            f(Field::StatedOn, Some(date_text(s.stated_on, &mut date_buf)));
            f(Field::Summary, Some(&s.summary));
            f(Field::Quote, s.quote.as_deref());
            f(Field::Speaker, s.speaker.as_deref());
            f(Field::SourceUrl, s.source_url.as_deref());
            f(Field::SourceTitle, s.source_title.as_deref());
        }
        Fact::StatementAmended(a) => {
            f(
                Field::Target,
                Some(a.target.hyphenated().encode_lower(&mut id_buf)),
            );
            f(Field::Reason, Some(&a.reason));
            f(Field::Position, a.position.map(|p| p.as_str()));
            f(
                Field::StatedOn,
                a.stated_on.map(|d| date_text(d, &mut date_buf)),
            );
            f(Field::Summary, a.summary.as_deref());
            f(Field::Quote, a.quote.as_deref());
            f(Field::Speaker, a.speaker.as_deref());
            f(Field::SourceUrl, a.source_url.as_deref());
            f(Field::SourceTitle, a.source_title.as_deref());
        }
        Fact::StatementRetracted(r) => {
            f(
                Field::Target,
                Some(r.target.hyphenated().encode_lower(&mut id_buf)),
            );
            f(Field::Reason, Some(&r.reason));
        }
    }
}

/// The payload's fields in their fixed canonical order, as owned export text.
pub(crate) fn payload_fields(p: &Fact) -> Vec<(Field, Option<String>)> {
    let mut out = Vec::with_capacity(9);
    visit_fields(p, &mut |name, v| out.push((name, v.map(str::to_owned))));
    out
}

fn put_payload(buf: &mut Vec<u8>, p: &Fact) {
    put(buf, Some(p.kind()));
    visit_fields(p, &mut |_, v| put(buf, v));
}

/// The canonical bytes of a payload: its type, then its fields in order.
pub fn canonical_payload(p: &Fact) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    put_payload(&mut buf, p);
    buf
}

/// The id an event gets when the input gives none: a UUID v5 over its
/// canonical payload, so importing the same line twice adds nothing.
pub fn content_id(p: &Fact) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, &canonical_payload(p))
}

/// The chain hash an event's own fields give (over its own `prev_hash`):
/// equal to its `hash` unless the record was altered.
pub(crate) fn recomputed_hash(e: &crate::event::Event) -> Hash {
    event_hash(
        &e.prev_hash,
        e.seq,
        &e.id,
        &e.recorded_at,
        &e.recorded_by,
        &e.payload,
    )
}

/// The chain hash of an event: SHA-256 of the previous hash followed by the
/// envelope fields (seq, id, recorded_at, recorded_by) and the canonical payload.
pub fn event_hash(
    prev_hash: &Hash,
    seq: u64,
    id: &Uuid,
    recorded_at: &DateTime<Utc>,
    recorded_by: &str,
    payload: &Fact,
) -> Hash {
    let mut buf = Vec::with_capacity(512);
    buf.extend_from_slice(prev_hash);
    put(&mut buf, Some(itoa::Buffer::new().format(seq)));
    put(
        &mut buf,
        Some(id.hyphenated().encode_lower(&mut Uuid::encode_buffer())),
    );
    put(&mut buf, Some(&format_timestamp(recorded_at)));
    put(&mut buf, Some(recorded_by));
    put_payload(&mut buf, payload);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_date, Amendment, Position, Retraction};

    #[test]
    fn dates_are_written_as_parsed() {
        for s in ["0001-01-01", "0999-12-31", "2019-12-23", "9999-12-31"] {
            let mut buf = [0u8; 10];
            assert_eq!(date_text(parse_date(s).unwrap(), &mut buf), s);
        }
    }

    #[test]
    fn fields_are_the_export_text() {
        let target = Uuid::from_u128(0xABCD_EF01_2345_4678_89AB_CDEF_0123_4567);
        let a = Fact::StatementAmended(Amendment {
            target,
            reason: "r".into(),
            position: Some(Position::Mixed),
            stated_on: Some(parse_date("2020-02-29").unwrap()),
            summary: None,
            quote: None,
            speaker: None,
            source_url: None,
            source_title: None,
        });
        let f = payload_fields(&a);
        assert_eq!(f[0], (Field::Target, Some(target.to_string())));
        assert_eq!(f[2], (Field::Position, Some("mixed".into())));
        assert_eq!(f[3], (Field::StatedOn, Some("2020-02-29".into())));
        assert_eq!(f.len(), 9);
        let r = Fact::StatementRetracted(Retraction {
            target,
            reason: "x".into(),
        });
        assert_eq!(
            payload_fields(&r),
            vec![
                (Field::Target, Some(target.to_string())),
                (Field::Reason, Some("x".into()))
            ]
        );
    }
}
