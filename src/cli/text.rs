//! Text shown to a human. Free text from the ledger is passed through
//! [`clean`] before it reaches a terminal, so control characters and ANSI
//! escapes stored in a quote are shown, never obeyed.

use std::borrow::Cow;

pub use stancelog::is_invisible;

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// Escapes control characters (ESC included), bidirectional controls and
/// invisible characters, so text cannot drive the terminal or display other
/// than it reads.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else if is_invisible(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A path as shown to a human: its lossy text, escaped like [`clean`].
pub fn path(p: &std::path::Path) -> String {
    clean(&p.display().to_string()).into_owned()
}

/// `n thing` or `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An id as shown to a human: its first 8 hex digits, as git shortens
/// hashes. JSON, CSV and `export` keep the whole id.
pub fn short_id(id: &uuid::Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

/// A moment as shown to a human: to the second (the log keeps
/// microseconds, which JSON, CSV and `export` print).
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes `  label: value` when there is a value.
pub fn opt(out: &mut impl std::io::Write, label: &str, v: &Option<String>) -> anyhow::Result<()> {
    if let Some(v) = v {
        writeln!(out, "  {label}: {}", clean(v))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_the_first_eight_hex_digits() {
        let id: uuid::Uuid = "1fdd54d6-0e30-5dcb-bc39-11b2f34ddf3e".parse().unwrap();
        assert_eq!(short_id(&id), "1fdd54d6");
    }
}
