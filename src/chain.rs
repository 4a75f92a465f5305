//! The hash chain and content-derived ids. The byte layout here is a public
//! contract (documented in `docs/FORMAT.md`) so that an auditor can recompute
//! every hash from `stancelog export` output without this code; it therefore
//! uses only text fields as they appear in the export, never bincode.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::event::Hash;
use crate::model::{format_timestamp, Fact, Reinstatement, Retraction};

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
    // Record format 2: tagged fields of statements and amendments.
    StatedOnPrecision,
    Qualifiers,
    Condition,
    Attribution,
    ReportedBy,
    SpeakerRole,
    Sources,
    QuoteLang,
    Translation,
    // Fields of the naming kinds and reinstatement.
    Slug,
    Title,
    Proposition,
    Description,
    Alias,
    Lang,
    UsedBy,
    From,
    Into,
    Code,
    Name,
    Kind,
}

impl Field {
    /// The field's key in JSON, which is also its tag in the hash chain.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Actor => "actor",
            Field::Issue => "issue",
            Field::Target => "target",
            Field::Reason => "reason",
            Field::Position => "position",
            Field::StatedOn => "stated_on",
            Field::Summary => "summary",
            Field::Quote => "quote",
            Field::Speaker => "speaker",
            Field::SourceUrl => "source_url",
            Field::SourceTitle => "source_title",
            Field::StatedOnPrecision => "stated_on_precision",
            Field::Qualifiers => "qualifiers",
            Field::Condition => "condition",
            Field::Attribution => "attribution",
            Field::ReportedBy => "reported_by",
            Field::SpeakerRole => "speaker_role",
            Field::Sources => "sources",
            Field::QuoteLang => "quote_lang",
            Field::Translation => "translation",
            Field::Slug => "slug",
            Field::Title => "title",
            Field::Proposition => "proposition",
            Field::Description => "description",
            Field::Alias => "alias",
            Field::Lang => "lang",
            Field::UsedBy => "used_by",
            Field::From => "from",
            Field::Into => "into",
            Field::Code => "code",
            Field::Name => "name",
            Field::Kind => "kind",
        }
    }
}

/// One item of a list field: its sub-fields as export text, in order.
pub(crate) type Item = Vec<Option<String>>;

/// How a field enters the canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot<'a> {
    /// At a fixed position, present or not: `F(text)` or `F(absent)`.
    Fixed(Option<&'a str>),
    /// A list at a fixed position: `F(count)` then each item's sub-fields.
    List(&'a [Item]),
    /// A field of record format 2, written only when present, after the
    /// fixed ones and tagged with its name: `F(name) ‖ F(text)`. So an
    /// event that uses none of them hashes exactly as before they existed.
    Tagged(&'a str),
    /// A tagged list, written only when not empty: `F(name) ‖ F(count) ‖`
    /// each item's sub-fields.
    TaggedList(&'a [Item]),
}

fn item(fields: &[Option<&str>]) -> Item {
    fields.iter().map(|f| f.map(str::to_owned)).collect()
}

/// Calls `f` with each payload field in the fixed canonical order (tagged
/// fields only when present), as export text. The one place that order is
/// defined.
pub(crate) fn visit_fields(p: &Fact, f: &mut dyn FnMut(Field, Slot<'_>)) {
    let (mut date_buf, mut id_buf) = ([0u8; 10], Uuid::encode_buffer());
    match p {
        Fact::StatementRecorded(s) => {
            f(Field::Actor, Slot::Fixed(Some(s.actor.as_str())));
            f(Field::Issue, Slot::Fixed(Some(s.issue.as_str())));
            f(Field::Position, Slot::Fixed(Some(s.position.as_str())));
            f(
                Field::StatedOn,
                Slot::Fixed(Some(date_text(s.stated_on, &mut date_buf))),
            );
            f(Field::Summary, Slot::Fixed(Some(&s.summary)));
            f(Field::Quote, Slot::Fixed(s.quote.as_deref()));
            f(Field::Speaker, Slot::Fixed(s.speaker.as_deref()));
            f(Field::SourceUrl, Slot::Fixed(s.source_url.as_deref()));
            f(Field::SourceTitle, Slot::Fixed(s.source_title.as_deref()));
            let d = &s.details;
            if d.is_empty() {
                return;
            }
            if let Some(p) = d.stated_on_precision {
                f(Field::StatedOnPrecision, Slot::Tagged(p.as_str()));
            }
            if !d.qualifiers.is_empty() {
                let items: Vec<Item> = d
                    .qualifiers
                    .iter()
                    .map(|q| item(&[Some(q.as_str())]))
                    .collect();
                f(Field::Qualifiers, Slot::TaggedList(&items));
            }
            if let Some(c) = &d.condition {
                f(Field::Condition, Slot::Tagged(c));
            }
            if let Some(a) = d.attribution {
                f(Field::Attribution, Slot::Tagged(a.as_str()));
            }
            if let Some(r) = &d.reported_by {
                f(Field::ReportedBy, Slot::Tagged(r));
            }
            if let Some(r) = d.speaker_role {
                f(Field::SpeakerRole, Slot::Tagged(r.as_str()));
            }
            if !d.sources.is_empty() {
                let items: Vec<Item> = d
                    .sources
                    .iter()
                    .map(|src| {
                        let mut buf = [0u8; 10];
                        let on = src.published_on.map(|d| date_text(d, &mut buf).to_owned());
                        vec![
                            src.url.clone(),
                            src.title.clone(),
                            src.publisher.clone(),
                            on,
                        ]
                    })
                    .collect();
                f(Field::Sources, Slot::TaggedList(&items));
            }
            if let Some(l) = &d.quote_lang {
                f(Field::QuoteLang, Slot::Tagged(l));
            }
            if let Some(t) = &d.translation {
                f(Field::Translation, Slot::Tagged(t));
            }
        }
        Fact::StatementAmended(a) => {
            f(
                Field::Target,
                Slot::Fixed(Some(a.target.hyphenated().encode_lower(&mut id_buf))),
            );
            f(Field::Reason, Slot::Fixed(Some(&a.reason)));
            f(Field::Position, Slot::Fixed(a.position.map(|p| p.as_str())));
            f(
                Field::StatedOn,
                Slot::Fixed(a.stated_on.map(|d| date_text(d, &mut date_buf))),
            );
            f(Field::Summary, Slot::Fixed(a.summary.as_deref()));
            f(Field::Quote, Slot::Fixed(a.quote.as_deref()));
            f(Field::Speaker, Slot::Fixed(a.speaker.as_deref()));
            f(Field::SourceUrl, Slot::Fixed(a.source_url.as_deref()));
            f(Field::SourceTitle, Slot::Fixed(a.source_title.as_deref()));
            if let Some(p) = a.stated_on_precision {
                f(Field::StatedOnPrecision, Slot::Tagged(p.as_str()));
            }
        }
        Fact::StatementRetracted(Retraction { target, reason })
        | Fact::StatementReinstated(Reinstatement { target, reason }) => {
            f(
                Field::Target,
                Slot::Fixed(Some(target.hyphenated().encode_lower(&mut id_buf))),
            );
            f(Field::Reason, Slot::Fixed(Some(reason)));
        }
        Fact::IssueDefined(d) => {
            f(Field::Slug, Slot::Fixed(Some(d.slug.as_str())));
            f(Field::Title, Slot::Fixed(Some(&d.title)));
            f(Field::Proposition, Slot::Fixed(Some(&d.proposition)));
            f(Field::Description, Slot::Fixed(d.description.as_deref()));
        }
        Fact::IssueReworded(r) => {
            f(Field::Slug, Slot::Fixed(Some(r.slug.as_str())));
            f(Field::Reason, Slot::Fixed(Some(&r.reason)));
            f(Field::Title, Slot::Fixed(r.title.as_deref()));
            f(Field::Proposition, Slot::Fixed(r.proposition.as_deref()));
            f(Field::Description, Slot::Fixed(r.description.as_deref()));
        }
        Fact::AliasAdded(a) => {
            f(Field::Slug, Slot::Fixed(Some(a.slug.as_str())));
            f(Field::Alias, Slot::Fixed(Some(&a.alias)));
            f(Field::Lang, Slot::Fixed(a.lang.as_deref()));
            let items: Vec<Item> = a
                .used_by
                .iter()
                .map(|u| item(&[Some(u.as_str())]))
                .collect();
            f(Field::UsedBy, Slot::List(&items));
        }
        Fact::AliasRemoved(a) => {
            f(Field::Slug, Slot::Fixed(Some(a.slug.as_str())));
            f(Field::Alias, Slot::Fixed(Some(&a.alias)));
            f(Field::Reason, Slot::Fixed(Some(&a.reason)));
        }
        Fact::IssuesMerged(m) => {
            f(Field::From, Slot::Fixed(Some(m.from.as_str())));
            f(Field::Into, Slot::Fixed(Some(m.into.as_str())));
            f(Field::Reason, Slot::Fixed(Some(&m.reason)));
        }
        Fact::ActorDefined(d) => {
            f(Field::Code, Slot::Fixed(Some(d.code.as_str())));
            f(Field::Name, Slot::Fixed(Some(&d.name)));
            f(Field::Kind, Slot::Fixed(d.kind.map(|k| k.as_str())));
        }
    }
}

/// An owned copy of a field's value, for the JSON form and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A text field (fixed or tagged), `None` when absent.
    Text(Option<String>),
    /// A list field.
    List(Vec<Item>),
}

/// The payload's fields in their canonical order, as owned export text.
pub(crate) fn payload_fields(p: &Fact) -> Vec<(Field, Value)> {
    let mut out = Vec::with_capacity(9);
    visit_fields(p, &mut |name, v| {
        out.push((
            name,
            match v {
                Slot::Fixed(t) => Value::Text(t.map(str::to_owned)),
                Slot::Tagged(t) => Value::Text(Some(t.to_owned())),
                Slot::List(items) | Slot::TaggedList(items) => Value::List(items.to_vec()),
            },
        ))
    });
    out
}

fn put_list(buf: &mut Vec<u8>, items: &[Item]) {
    put(buf, Some(itoa::Buffer::new().format(items.len())));
    for it in items {
        for v in it {
            put(buf, v.as_deref());
        }
    }
}

fn put_payload(buf: &mut Vec<u8>, p: &Fact) {
    put(buf, Some(p.kind()));
    visit_fields(p, &mut |field, slot| match slot {
        Slot::Fixed(v) => put(buf, v),
        Slot::List(items) => put_list(buf, items),
        Slot::Tagged(v) => {
            put(buf, Some(field.name()));
            put(buf, Some(v));
        }
        Slot::TaggedList(items) => {
            put(buf, Some(field.name()));
            put_list(buf, items);
        }
    });
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
    use crate::model::{parse_date, Amendment, Position};

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
            stated_on_precision: None,
        });
        let f = payload_fields(&a);
        let text = |s: &str| Value::Text(Some(s.into()));
        assert_eq!(f[0], (Field::Target, text(&target.to_string())));
        assert_eq!(f[2], (Field::Position, text("mixed")));
        assert_eq!(f[3], (Field::StatedOn, text("2020-02-29")));
        assert_eq!(f.len(), 9);
        let r = Fact::StatementRetracted(Retraction {
            target,
            reason: "x".into(),
        });
        assert_eq!(
            payload_fields(&r),
            vec![
                (Field::Target, text(&target.to_string())),
                (Field::Reason, text("x"))
            ]
        );
    }
}
