//! Key layout of the single sled tree, and the index entries each event
//! derives. Pure: given an event (and, for edits, the state of its target
//! before it), the entries are fixed, which is what lets `verify` compare the
//! stored indexes with a fresh replay and `rebuild` regenerate them.
//!
//! Every key starts with a one-byte prefix naming its keyspace. One tree, so
//! that an event and all its index entries land in one atomic `apply_batch`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::event::Event;
use crate::model::{Actor, Fact, Issue};

/// `L seq` → encoded event: the log, the only source of truth.
pub const LOG: u8 = b'L';
/// `I id` → seq: finds an event by id.
pub const ID: u8 = b'I';
/// `T recorded_at seq` → empty: maps a moment to the last seq known then.
/// One entry per run of events sharing a `recorded_at` (in practice, one per
/// write command, which stamps all its events with one time), keyed by the
/// run's last seq: a moment never falls inside a transaction.
pub const TIME: u8 = b'T';
/// `E target_seq edit_seq` → kind: the amendments and retraction of a statement.
pub const EDIT: u8 = b'E';
/// `S actor 0 issue 0 stated_on stmt_seq version_seq` → tombstone flag: every
/// version of every statement, ordered for as-of seeks.
pub const VERSION: u8 = b'S';
/// `M name` → metadata (committed head, format version).
pub const META: u8 = b'M';

/// The derived keyspaces, which `rebuild` drops and regenerates.
pub const DERIVED: [u8; 4] = [ID, TIME, EDIT, VERSION];

/// Edit kind stored under [`EDIT`] for an amendment.
pub const EDIT_AMEND: u8 = 1;
/// Edit kind stored under [`EDIT`] for a retraction.
pub const EDIT_RETRACT: u8 = 2;

/// Key of the committed head record.
pub const META_HEAD: &[u8] = b"Mhead";
/// Key of the log's format version: how the log and head are stored. A
/// ledger whose log format this code does not know is refused.
pub const META_FORMAT: &[u8] = b"Mformat";
/// Key of the derived layout version: how the indexes are keyed. Derived
/// state is disposable, so a ledger of another layout is rebuilt on open.
pub const META_LAYOUT: &[u8] = b"Mlayout";
/// The log format version this code writes and reads.
pub const LOG_FORMAT: u8 = 1;
/// The derived layout version this code writes and reads.
pub const LAYOUT_VERSION: u8 = 1;

/// Key of a log record.
pub fn log_key(seq: u64) -> [u8; 9] {
    let mut k = [LOG; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The seq in a log key, if it is one.
pub fn log_key_seq(key: &[u8]) -> Option<u64> {
    match key {
        [LOG, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

/// Key of the id index.
pub fn id_key(id: &uuid::Uuid) -> [u8; 17] {
    let mut k = [ID; 17];
    k[1..].copy_from_slice(id.as_bytes());
    k
}

/// Orders signed microseconds as unsigned big-endian bytes.
fn micros_bytes(t: &DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Key of the time index.
pub fn time_key(t: &DateTime<Utc>, seq: u64) -> [u8; 17] {
    let mut k = [TIME; 17];
    k[1..9].copy_from_slice(&micros_bytes(t));
    k[9..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Upper bound (inclusive) of time keys at or before `t`.
pub fn time_key_upto(t: &DateTime<Utc>) -> [u8; 17] {
    time_key(t, u64::MAX)
}

/// The seq in the last 8 bytes of a 17-byte time or edit key (the run's
/// last seq, or the edit's seq); `None` for a key of another shape.
pub fn time_or_edit_seq(key: &[u8]) -> Option<u64> {
    match key {
        [TIME | EDIT, _, _, _, _, _, _, _, _, rest @ ..] => {
            Some(u64::from_be_bytes(rest.try_into().ok()?))
        }
        _ => None,
    }
}

/// Key of an edit (amendment or retraction) of a statement.
pub fn edit_key(target_seq: u64, edit_seq: u64) -> [u8; 17] {
    let mut k = [EDIT; 17];
    k[1..9].copy_from_slice(&target_seq.to_be_bytes());
    k[9..].copy_from_slice(&edit_seq.to_be_bytes());
    k
}

/// Prefix of all edits of one statement.
pub fn edit_prefix(target_seq: u64) -> [u8; 9] {
    let mut k = [EDIT; 9];
    k[1..].copy_from_slice(&target_seq.to_be_bytes());
    k
}

/// Prefix of every version entry of one actor, or of one (actor, issue) pair.
pub fn pair_prefix(actor: &str, issue: Option<&str>) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + actor.len() + issue.map_or(0, str::len) + 1);
    k.push(VERSION);
    k.extend_from_slice(actor.as_bytes());
    k.push(0);
    if let Some(issue) = issue {
        k.extend_from_slice(issue.as_bytes());
        k.push(0);
    }
    k
}

/// Days since the Common Era, big-endian: sorts like the date (years 1-9999).
fn date_bytes(d: NaiveDate) -> [u8; 4] {
    (d.num_days_from_ce() as u32).to_be_bytes()
}

/// Key of one version of a statement.
pub fn version_key(
    actor: &Actor,
    issue: &Issue,
    stated_on: NaiveDate,
    stmt_seq: u64,
    version_seq: u64,
) -> Vec<u8> {
    let mut k = pair_prefix(actor.as_str(), Some(issue.as_str()));
    k.extend_from_slice(&date_bytes(stated_on));
    k.extend_from_slice(&stmt_seq.to_be_bytes());
    k.extend_from_slice(&version_seq.to_be_bytes());
    k
}

/// Upper bound (inclusive) of the version keys of a pair stated on or before `as_of`.
pub fn version_key_upto(actor: &str, issue: &str, as_of: NaiveDate) -> Vec<u8> {
    let mut k = pair_prefix(actor, Some(issue));
    k.extend_from_slice(&date_bytes(as_of));
    k.extend_from_slice(&[0xff; 16]);
    k
}

/// One version entry, decoded from its key and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// The actor of the statement.
    pub actor: String,
    /// The issue of the statement.
    pub issue: String,
    /// The statement's date as of this version.
    pub stated_on: NaiveDate,
    /// The statement's own seq.
    pub stmt_seq: u64,
    /// The seq of the event that made this version (the statement or an edit).
    pub version_seq: u64,
    /// This version is a retraction.
    pub tombstone: bool,
}

/// The parts of a version entry after its pair prefix, for seeks within one
/// pair that need not allocate its actor and issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionTail {
    /// The statement's date as of this version.
    pub stated_on: NaiveDate,
    /// The statement's own seq.
    pub stmt_seq: u64,
    /// The seq of the event that made this version.
    pub version_seq: u64,
    /// This version is a retraction.
    pub tombstone: bool,
}

/// Decodes the 20-byte tail of a version key (after the pair prefix) and its value.
pub fn parse_version_tail(tail: &[u8], value: &[u8]) -> Option<VersionTail> {
    let tail: &[u8; 20] = tail.try_into().ok()?;
    let days = u32::from_be_bytes(tail[..4].try_into().ok()?);
    Some(VersionTail {
        stated_on: NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)?,
        stmt_seq: u64::from_be_bytes(tail[4..12].try_into().ok()?),
        version_seq: u64::from_be_bytes(tail[12..].try_into().ok()?),
        tombstone: match value {
            [0] => false,
            [1] => true,
            _ => return None,
        },
    })
}

/// Decodes a version entry; `None` if the key or value is not one.
pub fn parse_version(key: &[u8], value: &[u8]) -> Option<Version> {
    let rest = key.strip_prefix(&[VERSION])?;
    let a_end = rest.iter().position(|&b| b == 0)?;
    let actor = std::str::from_utf8(&rest[..a_end]).ok()?;
    let rest = &rest[a_end + 1..];
    let i_end = rest.iter().position(|&b| b == 0)?;
    let issue = std::str::from_utf8(&rest[..i_end]).ok()?;
    let t = parse_version_tail(&rest[i_end + 1..], value)?;
    Some(Version {
        actor: actor.to_owned(),
        issue: issue.to_owned(),
        stated_on: t.stated_on,
        stmt_seq: t.stmt_seq,
        version_seq: t.version_seq,
        tombstone: t.tombstone,
    })
}

/// What an edit needs to know about the statement it targets, as of just
/// before the edit: where its versions live and whether it still counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetState {
    /// The statement's seq.
    pub seq: u64,
    /// Its actor (never changes).
    pub actor: Actor,
    /// Its issue (never changes).
    pub issue: Issue,
    /// Its date after all earlier amendments.
    pub stated_on: NaiveDate,
    /// Whether an earlier retraction withdrew it.
    pub retracted: bool,
}

impl TargetState {
    /// The state after `event` (an edit of this statement) is applied.
    pub fn after(&self, payload: &Fact) -> TargetState {
        let mut next = self.clone();
        match payload {
            Fact::StatementAmended(a) => {
                if let Some(d) = a.stated_on {
                    next.stated_on = d;
                }
            }
            Fact::StatementRetracted(_) => next.retracted = true,
            Fact::StatementRecorded(_) => {}
        }
        next
    }
}

/// The time-index entry that closes a run of events recorded at `t` whose
/// last event is `seq` (see [`TIME`]). Not part of [`derived_entries`]: it
/// depends on the next event, so writers and the replay add it themselves.
pub fn time_entry(t: &DateTime<Utc>, seq: u64) -> IndexEntry {
    (time_key(t, seq).to_vec(), Vec::new())
}

/// One index entry: key and value.
pub type IndexEntry = (Vec<u8>, Vec<u8>);

/// The index entries an event derives on its own (all but the time index). `target` is the state of the targeted
/// statement just before the event; it must be given for edits.
pub fn derived_entries(event: &Event, target: Option<&TargetState>) -> Vec<IndexEntry> {
    let seq = event.seq;
    let mut out = vec![(id_key(&event.id).to_vec(), seq.to_be_bytes().to_vec())];
    match (&event.payload, target) {
        (Fact::StatementRecorded(s), _) => {
            out.push((
                version_key(&s.actor, &s.issue, s.stated_on, seq, seq),
                vec![0],
            ));
        }
        (Fact::StatementAmended(a), Some(t)) => {
            out.push((edit_key(t.seq, seq).to_vec(), vec![EDIT_AMEND]));
            let d = a.stated_on.unwrap_or(t.stated_on);
            out.push((version_key(&t.actor, &t.issue, d, t.seq, seq), vec![0]));
        }
        (Fact::StatementRetracted(_), Some(t)) => {
            out.push((edit_key(t.seq, seq).to_vec(), vec![EDIT_RETRACT]));
            out.push((
                version_key(&t.actor, &t.issue, t.stated_on, t.seq, seq),
                vec![1],
            ));
        }
        (_, None) => unreachable!("an edit's entries need its target's state"),
    }
    out
}
