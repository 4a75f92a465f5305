//! The published test vector: `fixtures/chain-vector.jsonl` (an export) and
//! `fixtures/chain-vector.head` (its head). The chain is recomputed here from
//! the documented encoding (docs/FORMAT.md, section 2) with `sha2` and
//! `serde_json` only, never through `stancelog::chain`, so a change to the
//! ledger's hashing that breaks the published contract fails this test.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{fixture, TestLedger};

/// `0x00` for an absent field, else `0x01`, u32 BE byte length, UTF-8 bytes.
fn field(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
    }
}

fn payload_order(kind: &str) -> &'static [&'static str] {
    match kind {
        "statement" => &[
            "actor",
            "issue",
            "position",
            "stated_on",
            "summary",
            "quote",
            "speaker",
            "source_url",
            "source_title",
        ],
        "amendment" => &[
            "target",
            "reason",
            "position",
            "stated_on",
            "summary",
            "quote",
            "speaker",
            "source_url",
            "source_title",
        ],
        "retraction" | "reinstatement" => &["target", "reason"],
        "issue_definition" => &["slug", "title", "proposition", "description"],
        "issue_rewording" => &["slug", "reason", "title", "proposition", "description"],
        "alias" => &["slug", "alias", "lang", "used_by"],
        "alias_removal" => &["slug", "alias", "reason"],
        "issue_merge" => &["from", "into", "reason"],
        "actor_definition" => &["code", "name", "kind"],
        other => panic!("unknown type {other}"),
    }
}

/// The tagged fields of record format 2, in order: written only when
/// present, each as its name then its value (FORMAT.md, section 2).
fn tagged_order(kind: &str) -> &'static [&'static str] {
    match kind {
        "statement" => &[
            "stated_on_precision",
            "qualifiers",
            "condition",
            "attribution",
            "reported_by",
            "speaker_role",
            "sources",
            "quote_lang",
            "translation",
        ],
        "amendment" => &["stated_on_precision"],
        _ => &[],
    }
}

/// A field's value: text as itself; a list as its length in decimal, then
/// each item's sub-fields (a source's url, title, publisher, published_on;
/// a qualifier or actor code alone).
fn value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => field(buf, Some(s)),
        Value::Array(items) => {
            field(buf, Some(&items.len().to_string()));
            for item in items {
                match item {
                    Value::Object(o) => {
                        for k in ["url", "title", "publisher", "published_on"] {
                            field(buf, o.get(k).map(|v| v.as_str().unwrap()));
                        }
                    }
                    other => field(buf, Some(other.as_str().unwrap())),
                }
            }
        }
        other => panic!("unexpected value {other}"),
    }
}

fn text<'a>(e: &'a Value, k: &str) -> Option<&'a str> {
    e.get(k).map(|v| v.as_str().expect("string field"))
}

/// The canonical payload bytes: type, then the payload fields in order.
fn canonical_payload(e: &Value) -> Vec<u8> {
    let kind = text(e, "type").unwrap();
    let mut buf = Vec::new();
    field(&mut buf, Some(kind));
    for k in payload_order(kind) {
        match e.get(*k) {
            None => field(&mut buf, None),
            Some(v) => value(&mut buf, v),
        }
    }
    for k in tagged_order(kind) {
        if let Some(v) = e.get(*k) {
            field(&mut buf, Some(k));
            value(&mut buf, v);
        }
    }
    buf
}

/// Walks an export and returns its head as `SEQ:HASH`, checking every link.
fn recompute(export: &str) -> String {
    let mut prev = [0u8; 32];
    let mut seq = 0u64;
    for line in export.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        seq += 1;
        assert_eq!(e["seq"].as_u64(), Some(seq), "seqs run 1, 2, 3...");
        assert_eq!(text(&e, "prev_hash"), Some(hex::encode(prev).as_str()));
        let mut pre = prev.to_vec();
        field(&mut pre, Some(&seq.to_string()));
        for k in ["id", "recorded_at", "recorded_by"] {
            field(&mut pre, Some(text(&e, k).unwrap()));
        }
        pre.extend_from_slice(&canonical_payload(&e));
        prev = Sha256::digest(&pre).into();
        assert_eq!(
            text(&e, "hash"),
            Some(hex::encode(prev).as_str()),
            "hash of seq {seq}"
        );
    }
    format!("{seq}:{}", hex::encode(prev))
}

fn vector() -> (String, String) {
    vector_named("chain-vector")
}

fn vector_named(name: &str) -> (String, String) {
    let export = std::fs::read_to_string(fixture(&format!("{name}.jsonl"))).unwrap();
    let head = std::fs::read_to_string(fixture(&format!("{name}.head"))).unwrap();
    (export, head.trim().to_owned())
}

/// The second vector: every kind and field of record format 2.
#[test]
fn the_format_2_vector_recomputes_from_the_documented_encoding() {
    let (export, head) = vector_named("chain-vector-v2");
    assert_eq!(recompute(&export), head);
    let ns = uuid::Uuid::parse_str("5e6b1c2a-7d3f-4e11-9a42-0c8e51736c6f").unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for line in export.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        kinds.insert(e["type"].as_str().unwrap().to_owned());
        let id = uuid::Uuid::new_v5(&ns, &canonical_payload(&e));
        assert_eq!(Some(id.to_string().as_str()), text(&e, "id"), "{line}");
    }
    for k in stancelog::KINDS {
        assert!(kinds.contains(*k), "no {k} in the format 2 vector");
    }
    for k in tagged_order("statement") {
        assert!(
            export.contains(&format!("\"{k}\"")),
            "no {k} in the format 2 vector"
        );
    }
    let l = TestLedger::new();
    l.ok(&[
        "restore",
        fixture("chain-vector-v2.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(l.head(), head);
    assert_eq!(l.ok(&["export"]), export);
}

#[test]
fn the_vector_covers_every_kind_of_event_and_non_ascii_text() {
    let (export, _) = vector();
    let kinds: Vec<String> = export
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for k in ["statement", "amendment", "retraction"] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in the vector");
    }
    assert!(!export.is_ascii(), "the vector must exercise UTF-8 lengths");
}

#[test]
fn chain_recomputed_from_the_documented_encoding_matches_the_published_head() {
    let (export, head) = vector();
    assert_eq!(recompute(&export), head);
}

#[test]
fn content_derived_ids_follow_the_documented_uuid_v5() {
    let ns = uuid::Uuid::parse_str("5e6b1c2a-7d3f-4e11-9a42-0c8e51736c6f").unwrap();
    let (export, _) = vector();
    for line in export.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let id = uuid::Uuid::new_v5(&ns, &canonical_payload(&e));
        assert_eq!(Some(id.to_string().as_str()), text(&e, "id"), "{line}");
    }
}

#[test]
fn a_changed_byte_in_the_vector_changes_the_head() {
    let (export, head) = vector();
    // One character of one summary: the recomputed hashes no longer match.
    let tampered = export.replacen("Pyongyang", "Pyongyanh", 1);
    assert_ne!(tampered, export);
    let r = std::panic::catch_unwind(|| recompute(&tampered));
    assert!(r.is_err() || r.unwrap() != head);
}

#[test]
fn restoring_the_vector_gives_the_published_head() {
    let (_, head) = vector();
    let l = TestLedger::new();
    let out = l.ok(&["restore", fixture("chain-vector.jsonl").to_str().unwrap()]);
    assert!(out.contains(&head), "{out}");
    assert_eq!(l.head(), head);
    let verified = l.ok(&["verify", "--digest", &head]);
    assert!(verified.starts_with("ok: 6 events"), "{verified}");
    // And the export of the restored ledger is the vector, byte for byte.
    let (export, _) = vector();
    assert_eq!(l.ok(&["export"]), export);
}
