//! Lookups that help a person name things: a statement by a short id, and
//! the counts `info` shows. Plain indexed reads of the read model.

use uuid::Uuid;

use super::{Arg, Query};
use crate::error::{Error, Result};

/// The fewest hex digits a short id may have: with fewer, a ledger of a few
/// thousand statements would already have ambiguous ones.
pub const MIN_ID_PREFIX: usize = 6;

/// Most candidates an ambiguity error lists.
const MAX_CANDIDATES: usize = 10;

/// `prefix` as the start of a hyphenated lower-case UUID (the form ids are
/// stored in), or `None` when it is not hex digits and hyphens, has too few
/// digits, or more than a UUID has.
fn hyphenated_prefix(prefix: &str) -> Option<String> {
    let digits: String = prefix.chars().filter(|&c| c != '-').collect();
    if digits.len() < MIN_ID_PREFIX
        || digits.len() > 32
        || !digits.chars().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let mut out = String::with_capacity(36);
    for (i, c) in digits.chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    Some(out)
}

/// Whether `s` is a short id: at least [`MIN_ID_PREFIX`] hex digits from
/// the start of an id, hyphens optional. A complete UUID is not one: it is
/// used as it is, even when the ledger does not hold it, so that the rules
/// give their own message.
pub fn is_id_prefix(s: &str) -> bool {
    Uuid::parse_str(s).is_err() && hyphenated_prefix(s).is_some()
}

impl Query<'_> {
    /// The one statement whose id starts with `prefix`.
    pub(crate) fn statement_id(&self, prefix: &str) -> Result<Uuid> {
        if let Ok(id) = Uuid::parse_str(prefix) {
            return Ok(id);
        }
        let Some(start) = hyphenated_prefix(prefix) else {
            return Err(Error::invalid(format!(
                "invalid id {} (expected a UUID, or at least {MIN_ID_PREFIX} of its first hex digits)",
                crate::model::excerpt(prefix)
            )));
        };
        // Every id starting with these digits lies between the id that
        // continues them with zeros and the one that continues them with
        // f's: a range on the unique index of the ids' bytes, not a scan.
        let digits: String = start.chars().filter(|&c| c != '-').collect();
        let free = 4 * (32 - digits.len() as u32);
        let given = u128::from_str_radix(&digits, 16).expect("hyphenated_prefix gives hex digits");
        let lo = Uuid::from_u128(given.checked_shl(free).unwrap_or(0));
        let hi = Uuid::from_u128(lo.as_u128() | u128::MAX.checked_shr(128 - free).unwrap_or(0));
        let ids = self
            .conn
            .rows(
                "SELECT id FROM event_rows WHERE id >= ?1 AND id <= ?2 AND type_code = ?3 ORDER BY id LIMIT ?4",
                &[
                    Arg::Blob(lo.as_bytes()),
                    Arg::Blob(hi.as_bytes()),
                    Arg::Int(super::dialect::STATEMENT_CODE),
                    Arg::Int(MAX_CANDIDATES as i64 + 1),
                ],
                |r| r.blob(0),
            )?
            .into_iter()
            .map(|b| {
                Uuid::from_slice(&b)
                    .map_err(|_| super::corrupt(0, format!("unreadable statement id {b:02x?}")))
            })
            .collect::<Result<Vec<Uuid>>>()?;
        match ids.as_slice() {
            [] => Err(Error::UnknownIdPrefix(prefix.to_owned())),
            [id] => Ok(*id),
            many => Err(Error::AmbiguousIdPrefix {
                prefix: prefix.to_owned(),
                candidates: many.iter().take(MAX_CANDIDATES).copied().collect(),
            }),
        }
    }

    /// How many statements the read model holds.
    pub(crate) fn statement_count(&self) -> Result<u64> {
        let n = self.conn.one(
            "SELECT count(*) FROM event_rows WHERE type_code = ?1",
            &[Arg::Int(super::dialect::STATEMENT_CODE)],
            |r| r.int(0),
        )?;
        Ok(n as u64)
    }

    /// How many distinct values `column` of the statements takes.
    pub(crate) fn distinct_statement_values(&self, column: Column) -> Result<u64> {
        let sql = match column {
            Column::Actor => "SELECT count(DISTINCT actor) FROM event_rows WHERE type_code = ?1",
            Column::Issue => "SELECT count(DISTINCT issue) FROM event_rows WHERE type_code = ?1",
        };
        Ok(self
            .conn
            .one(sql, &[Arg::Int(super::dialect::STATEMENT_CODE)], |r| {
                r.int(0)
            })? as u64)
    }

    /// The bytes the ledger's tables and indexes take, when the read model
    /// is in a database server (PostgreSQL); `None` for a SQLite file.
    pub(crate) fn database_bytes(&self) -> Result<Option<u64>> {
        match self.conn.engine() {
            super::SqlEngine::Sqlite => Ok(None),
            #[cfg(feature = "postgres")]
            super::SqlEngine::Postgres => self
                .conn
                .one(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                    &[],
                    |r| r.int(0),
                )
                .map(|b| Some(b as u64)),
        }
    }

    /// The earliest and latest `stated_on` of any statement version.
    pub(crate) fn stated_on_range(&self) -> Result<Option<(String, String)>> {
        self.conn.one(
            "SELECT min(stated_on), max(stated_on) FROM versions",
            &[],
            |r| {
                Ok(match (r.opt_text(0)?, r.opt_text(1)?) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                })
            },
        )
    }
}

/// A column of the statements that `info` counts values of.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Column {
    Actor,
    Issue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_become_hyphenated_starts() {
        assert_eq!(hyphenated_prefix("7871159f").as_deref(), Some("7871159f"));
        assert_eq!(
            hyphenated_prefix("7871159F3A").as_deref(),
            Some("7871159f-3a")
        );
        assert_eq!(
            hyphenated_prefix("7871159f-3a").as_deref(),
            Some("7871159f-3a")
        );
        assert_eq!(hyphenated_prefix("78711"), None, "too short");
        assert_eq!(hyphenated_prefix("7871159g"), None, "not hex");
        assert_eq!(hyphenated_prefix(&"a".repeat(33)), None, "too long");
        assert!(!is_id_prefix("7871159f-3a4b-4c5d-8e6f-0123456789ab"));
        assert!(is_id_prefix("7871159f"));
        assert!(!is_id_prefix("78711"));
    }
}
