//! What a command takes from its environment besides its arguments: who
//! records, the clock, and progress bars on stderr.

use anyhow::{anyhow, Result};
use chrono::{DateTime, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::Global;

/// Who records: `--by` (or `STANCELOG_AUTHOR`), else the OS user; refused
/// when neither names anyone, rather than recording a made-up name.
pub fn author(global: &Global) -> Result<String> {
    if let Some(by) = &global.by {
        return Ok(by.clone());
    }
    match whoami::fallible::username() {
        Ok(name) if !name.trim().is_empty() => Ok(name),
        _ => Err(anyhow!(
            "cannot tell who records this: the OS user is unknown; pass --by NAME or set STANCELOG_AUTHOR"
        )),
    }
}

/// The ledger's clock: the system's; the ledger still never lets time go
/// backwards. Only a build with the cargo feature `test-clock` (which the
/// test suite enables for itself, never a default) lets `STANCELOG_TEST_NOW`
/// (RFC 3339) pin it, so a binary users install cannot forge `recorded_at`.
pub fn clock() -> DateTime<Utc> {
    #[cfg(feature = "test-clock")]
    if let Some(t) = std::env::var("STANCELOG_TEST_NOW")
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
    {
        return t.with_timezone(&Utc);
    }
    Utc::now()
}

pub fn today() -> NaiveDate {
    clock().date_naive()
}

pub fn progress_bar(what: &'static str, total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})"
    } else {
        "{msg} {spinner} {pos} events ({per_sec})"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}
