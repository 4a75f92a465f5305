//! The only user of bincode: how an [`Event`] becomes stored bytes and back.
//! Every record starts with a format-version byte so the encoding can evolve;
//! old versions are upcast here, and nowhere else needs to know.

mod v1;
mod v2;

use crate::error::{Error, Result};
use crate::event::Event;

/// Record format 1: bincode 2 (standard config) of [`v1`]'s mirror of [`Event`] via serde.
pub const FORMAT_V1: u8 = 1;
/// Record format 2: the same encoding of [`v2`]'s mirror, which adds the
/// fields and kinds format 1 cannot hold.
pub const FORMAT_V2: u8 = 2;

/// Largest record decoded: a bound so that a corrupt length prefix cannot ask
/// for gigabytes (the model's limits keep real records far below it).
const MAX_RECORD: usize = 1 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD>()
}

/// Encodes an event as a stored record, in the oldest format that holds
/// it: an event format 1 can hold keeps exactly its format-1 bytes, so
/// adding a format changed no existing record and no record of an old kind.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::with_capacity(320);
    let written = match v1::EventV1::of(event) {
        Some(v1) => {
            out.push(FORMAT_V1);
            bincode::serde::encode_into_std_write(v1, &mut out, config())
        }
        None => {
            out.push(FORMAT_V2);
            bincode::serde::encode_into_std_write(v2::EventV2::from(event), &mut out, config())
        }
    };
    written.expect("encoding into a Vec cannot fail");
    out
}

/// Decodes a body of one format, refusing trailing bytes.
fn decode_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let (value, used): (T, usize) = bincode::serde::decode_from_slice(body, config())
        .map_err(|e| Error::Decode(e.to_string()))?;
    if used != body.len() {
        return Err(Error::Decode(format!(
            "{} trailing bytes after the event",
            body.len() - used
        )));
    }
    Ok(value)
}

/// Decodes a stored record; never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Event> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => Event::try_from(decode_body::<v1::EventV1>(body)?),
        Some((&FORMAT_V2, body)) => Event::try_from(decode_body::<v2::EventV2>(body)?),
        Some((v, _)) => Err(Error::Decode(format!("unknown record format version {v}"))),
        None => Err(Error::Decode("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Amendment, Fact, Position, Statement};

    /// The events whose encodings are frozen in `fixtures/golden/`.
    fn golden_events() -> Vec<Event> {
        let statement = Fact::StatementRecorded(Statement {
            actor: "JPN".parse().unwrap(),
            issue: "senkaku-islands".parse().unwrap(),
            position: Position::Support,
            stated_on: "2019-12-23".parse().unwrap(),
            summary: "Japan administers the Senkaku Islands (釣魚島 / Diaoyu to China).".into(),
            quote: Some("\u{1b}[1mquoted\u{1b}[0m".into()),
            speaker: Some("Shinzo Abe".into()),
            source_url: Some("https://example.org/a?b=c".into()),
            source_title: None,
            details: Default::default(),
        });
        let amendment = Fact::StatementAmended(Amendment {
            target: uuid::Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef),
            reason: "date misread".into(),
            position: Some(Position::Mixed),
            stated_on: Some("2019-12-24".parse().unwrap()),
            summary: None,
            quote: None,
            speaker: None,
            source_url: None,
            source_title: Some("t".into()),
            stated_on_precision: None,
        });
        [statement, amendment]
            .into_iter()
            .enumerate()
            .map(|(i, payload)| Event {
                seq: 41 + i as u64,
                id: uuid::Uuid::from_u128(0xfeed_0000_0000_4000_8000_0000_0000_0001 + i as u128),
                recorded_at: "2020-01-02T03:04:05.678901Z".parse().unwrap(),
                recorded_by: "golden".into(),
                prev_hash: [7; 32],
                hash: [9; 32],
                payload,
            })
            .collect()
    }

    /// The events whose encodings are frozen in `fixtures/golden/records-v2.hex`:
    /// a statement using every field of format 2, an amendment with a
    /// coarse date, and one event of each kind format 2 added.
    fn golden_v2_events() -> Vec<Event> {
        use crate::model::{
            ActorDefinition, ActorKind, Alias, AliasRemoval, Attribution, Details, IssueDefinition,
            IssueMerge, IssueRewording, Precision, Qualifier, Reinstatement, Source, SpeakerRole,
        };
        let target = uuid::Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef);
        let payloads = vec![
            Fact::StatementRecorded(Statement {
                actor: "JPN".parse().unwrap(),
                issue: "north-korea-sanctions-relief".parse().unwrap(),
                position: Position::Oppose,
                stated_on: "2019-12-31".parse().unwrap(),
                summary: "Too soon to consider easing sanctions.".into(),
                quote: Some("時期尚早".into()),
                speaker: Some("Japanese government source".into()),
                source_url: None,
                source_title: None,
                details: Details {
                    stated_on_precision: Some(Precision::Month),
                    qualifiers: vec![Qualifier::NotYet, Qualifier::Conditional],
                    condition: Some("until denuclearisation steps".into()),
                    attribution: Some(Attribution::Reported),
                    reported_by: Some("Nikkei Asian Review".into()),
                    speaker_role: Some(SpeakerRole::Official),
                    sources: vec![
                        Source {
                            url: Some("https://asia.nikkei.com/x".into()),
                            title: Some("Xi touts 'new era'".into()),
                            publisher: Some("Nikkei Asian Review".into()),
                            published_on: Some("2019-12-23".parse().unwrap()),
                        },
                        Source {
                            url: None,
                            title: None,
                            publisher: Some("Kyodo".into()),
                            published_on: None,
                        },
                    ],
                    quote_lang: Some("ja".into()),
                    translation: Some("premature".into()),
                },
            }),
            Fact::StatementAmended(Amendment {
                target,
                reason: "only the year is known".into(),
                position: None,
                stated_on: Some("1994-12-31".parse().unwrap()),
                summary: None,
                quote: None,
                speaker: None,
                source_url: None,
                source_title: None,
                stated_on_precision: Some(Precision::Year),
            }),
            Fact::StatementReinstated(Reinstatement {
                target,
                reason: "retracted by mistake".into(),
            }),
            Fact::IssueDefined(IssueDefinition {
                slug: "senkaku-islands".parse().unwrap(),
                title: "Senkaku Islands".into(),
                proposition: "The Senkaku Islands are under Japanese sovereignty.".into(),
                description: Some("Called the Diaoyu by China.".into()),
            }),
            Fact::IssueReworded(IssueRewording {
                slug: "senkaku-islands".parse().unwrap(),
                reason: "clearer".into(),
                title: None,
                proposition: Some("Japan holds sovereignty over the Senkaku Islands.".into()),
                description: None,
            }),
            Fact::AliasAdded(Alias {
                slug: "senkaku-islands".parse().unwrap(),
                alias: "钓鱼岛".into(),
                lang: Some("zh".into()),
                used_by: vec!["CHN".parse().unwrap(), "TWN".parse().unwrap()],
            }),
            Fact::AliasRemoved(AliasRemoval {
                slug: "senkaku-islands".parse().unwrap(),
                alias: "钓鱼岛".into(),
                reason: "duplicate".into(),
            }),
            Fact::IssuesMerged(IssueMerge {
                from: "diaoyu-islands".parse().unwrap(),
                into: "senkaku-islands".parse().unwrap(),
                reason: "one dispute".into(),
            }),
            Fact::ActorDefined(ActorDefinition {
                code: "QUAD".parse().unwrap(),
                name: "Quadrilateral Security Dialogue".into(),
                kind: Some(ActorKind::Organisation),
            }),
        ];
        payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| Event {
                seq: 100 + i as u64,
                id: uuid::Uuid::from_u128(0xfeed_0000_0000_4000_8000_0000_0000_0100 + i as u128),
                recorded_at: "2020-01-02T03:04:05.678901Z".parse().unwrap(),
                recorded_by: "golden".into(),
                prev_hash: [7; 32],
                hash: [9; 32],
                payload,
            })
            .collect()
    }

    /// Records of format 2 must decode forever too: these bytes are never
    /// regenerated.
    #[test]
    fn golden_v2_records_still_decode() {
        let golden = include_str!("../../fixtures/golden/records-v2.hex");
        let lines: Vec<&str> = golden.lines().filter(|l| !l.starts_with('#')).collect();
        let events = golden_v2_events();
        assert_eq!(lines.len(), events.len());
        for (hex_line, event) in lines.iter().zip(&events) {
            let bytes = hex::decode(hex_line.trim()).unwrap();
            assert_eq!(bytes[0], FORMAT_V2);
            assert_eq!(&decode(&bytes).unwrap(), event);
            assert_eq!(encode(event), bytes, "encoding drifted from format v2");
        }
    }

    /// An event format 1 can hold is written in format 1, byte for byte as
    /// before format 2 existed.
    #[test]
    fn events_format_1_can_hold_keep_format_1() {
        for e in golden_events() {
            assert_eq!(encode(&e)[0], FORMAT_V1);
        }
    }

    /// Records written by format version 1 must decode forever: these bytes
    /// are never regenerated. A change that breaks this test breaks every
    /// existing ledger.
    #[test]
    fn golden_v1_records_still_decode() {
        let golden = include_str!("../../fixtures/golden/records-v1.hex");
        let lines: Vec<&str> = golden.lines().filter(|l| !l.starts_with('#')).collect();
        let events = golden_events();
        assert_eq!(lines.len(), events.len());
        for (hex_line, event) in lines.iter().zip(&events) {
            let bytes = hex::decode(hex_line.trim()).unwrap();
            assert_eq!(&decode(&bytes).unwrap(), event);
            assert_eq!(encode(event), bytes, "encoding drifted from format v1");
        }
    }

    #[test]
    fn decode_rejects_unknown_versions_and_trailing_bytes() {
        let mut bytes = encode(&golden_events()[0]);
        bytes.push(0);
        assert!(matches!(decode(&bytes), Err(Error::Decode(_))));
        bytes[0] = 3;
        assert!(matches!(decode(&bytes), Err(Error::Decode(m)) if m.contains("version 3")));
        assert!(matches!(decode(&[]), Err(Error::Decode(_))));
    }

    #[test]
    #[ignore = "prints the golden encodings; run once when a new format version is added"]
    fn print_golden() {
        for e in golden_events().into_iter().chain(golden_v2_events()) {
            println!("{}", hex::encode(encode(&e)));
        }
    }
}
