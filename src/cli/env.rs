//! What a command takes from its environment besides its arguments: who
//! records, the clock, and progress bars on stderr.

use anyhow::{anyhow, Result};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::Global;

/// `--by`, for the commands that write.
#[derive(clap::Args, Debug)]
pub struct By {
    /// Who records the events this command adds [default: $STANCELOG_AUTHOR, else the OS user]
    // No `env` here: the top-level --by reads STANCELOG_AUTHOR, so that a
    // --by given before the command is not overridden by the environment.
    #[arg(
        long = "by",
        value_name = "NAME",
        value_parser = super::parse::visible_text
    )]
    pub by: Option<String>,
}

/// Who records: `--by` (after the command, or before it), or
/// `STANCELOG_AUTHOR`, else the OS user; refused when none names anyone,
/// rather than recording a made-up name.
pub fn author(global: &Global, by: &By) -> Result<String> {
    if let Some(by) = by.by.as_ref().or(global.by.as_ref()) {
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

/// A progress bar on stderr, drawn only when stderr is a terminal (a log
/// file gets no carriage-return frames). It fits 80 columns, with the total
/// when one is known and a whole-number rate.
pub fn progress_bar(what: &'static str, total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(bar_style(total.is_some()));
    bar.set_message(what);
    bar
}

/// Gives a bar its total, once known.
pub fn set_total(bar: &ProgressBar, total: u64) {
    bar.set_length(total);
    bar.set_style(bar_style(true));
}

fn bar_style(total: bool) -> ProgressStyle {
    let template = if total {
        "{msg} [{bar:20}] {pos}/{len} events ({rate}, eta {eta})"
    } else {
        "{msg} {spinner} {pos} events ({rate})"
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", rate(s.per_sec()));
        })
        .progress_chars("=> ")
}

/// Events a second, whole: `1234/s`, or `0.5/s` below one.
fn rate(per_sec: f64) -> String {
    if per_sec >= 1.0 || per_sec == 0.0 {
        format!("{per_sec:.0}/s")
    } else {
        format!("{per_sec:.1}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_no_long_decimals() {
        assert_eq!(rate(1234.5678), "1235/s");
        assert_eq!(rate(0.25), "0.2/s");
        assert_eq!(rate(0.0), "0/s");
    }

    /// A terminal of 200 columns that keeps what is drawn on it.
    #[derive(Debug, Default)]
    struct Screen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            200
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push(s.to_owned());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_bar_with_a_total_of_millions_fits_80_columns() {
        let screen = Screen::default();
        let drawn = screen.0.clone();
        let bar = ProgressBar::with_draw_target(
            Some(9_999_999),
            ProgressDrawTarget::term_like(Box::new(screen)),
        );
        bar.set_style(bar_style(true));
        bar.set_message("importing");
        bar.set_position(9_999_998);
        bar.tick();
        let drawn = drawn.lock().unwrap();
        let line = drawn.iter().rfind(|l| l.contains("events")).expect("drawn");
        assert!(line.contains("9999998/9999999 events"), "{line}");
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
        assert!(!line.contains('.'), "a rate with decimals: {line}");
    }
}
