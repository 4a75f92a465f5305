//! Values for the CLI's unit tests: one place that builds a `Stance` with
//! every field, so a field added to it is added here once.

use stancelog::{Attribution, Position, Precision, Stance};

/// A stance of `actor` on `issue`, stated on `stated_on`, recorded at
/// `seq` by `analyst`, with nothing but a summary.
pub fn stance(
    actor: &str,
    issue: &str,
    position: Position,
    stated_on: &str,
    seq: u64,
    summary: &str,
) -> Stance {
    Stance {
        actor: actor.parse().unwrap(),
        issue: issue.parse().unwrap(),
        title: None,
        proposition: None,
        position,
        stated_on: stated_on.parse().unwrap(),
        stated_on_precision: Precision::Day,
        qualifiers: Vec::new(),
        condition: None,
        attribution: Attribution::OnRecord,
        reported_by: None,
        speaker_role: None,
        quote_lang: None,
        translation: None,
        summary: summary.into(),
        quote: None,
        speaker: None,
        source_url: None,
        source_title: None,
        sources: Vec::new(),
        statement_id: uuid::Uuid::nil(),
        seq,
        recorded_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        recorded_by: "analyst".into(),
        amendments: 0,
    }
}
