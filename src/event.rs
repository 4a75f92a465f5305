//! The event envelope: what the ledger adds to a payload when it appends it
//! (position, identity, time, author, and the links of the hash chain).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::Fact;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev_hash` of the first event.
pub const GENESIS: Hash = [0; 32];

/// One immutable entry of the log. Its stored form is the codec's
/// (`codec::v1`), not this type's: fields may be renamed or reordered here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Position in the log, contiguous from 1.
    pub seq: u64,
    /// Stable identity, given by the user or derived from the content.
    pub id: Uuid,
    /// When the ledger appended it (transaction time), microsecond precision,
    /// never decreasing along the log.
    pub recorded_at: DateTime<Utc>,
    /// Who entered it.
    pub recorded_by: String,
    /// The `hash` of the previous event, or [`GENESIS`].
    pub prev_hash: Hash,
    /// SHA-256 over `prev_hash` and the canonical bytes of everything above and the payload.
    pub hash: Hash,
    /// What was recorded.
    pub payload: Fact,
}

impl Event {
    /// The type name used in JSON and in the hash chain.
    pub fn kind(&self) -> &'static str {
        self.payload.kind()
    }
}
