//! Key layout of the sled log: the log records and the committed head, and
//! nothing else (every projection lives in the read model). The keyspaces
//! that earlier releases kept beside the log are listed so that opening such
//! a ledger can remove them.

/// `L seq` → encoded event: the log, the only source of truth.
pub const LOG: u8 = b'L';

/// Keyspaces of derived indexes that ledgers of derived layout 1 kept in
/// sled (id, time, edit and version indexes); removed when such a ledger is
/// first opened, as the read model replaces them.
pub const LEGACY_DERIVED: [u8; 4] = [b'I', b'T', b'E', b'S'];

/// Key of the committed head record.
pub const META_HEAD: &[u8] = b"Mhead";
/// Key of the log's format version: how the log and head are stored. A
/// ledger whose log format this code does not know is refused.
pub const META_FORMAT: &[u8] = b"Mformat";
/// Key of the derived layout version: what derived state sled holds
/// besides the log. A ledger of another layout is upgraded on open.
pub const META_LAYOUT: &[u8] = b"Mlayout";
/// Key of the marker of a rebuild in progress (derived layout 1 only).
pub const META_REBUILDING: &[u8] = b"Mrebuilding";
/// The log format version this code writes and reads.
pub const LOG_FORMAT: u8 = 1;
/// The derived layout version this code writes: 2, no derived state in
/// sled at all. Layout 1 kept the id, time, edit and version indexes there.
pub const LAYOUT_VERSION: u8 = 2;

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
