//! How output is shaped for where it goes: the format (`--format`, `--json`),
//! colour (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`), the width to fit
//! (`COLUMNS`, else the terminal's) and whether stdout is a terminal at all.
//! Decided once per run, from the arguments and the environment, so every
//! command answers the same question the same way.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Color, Style};
use clap::ValueEnum;

use stancelog::Position;

use super::palette::swatch;

/// What `--format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables with box drawing, for a terminal (the default there)
    Table,
    /// The same without box drawing (the default when stdout is not a terminal)
    Plain,
    /// Comma-separated values with one header row (RFC 4180)
    Csv,
    /// Tab-separated values with one header row
    Tsv,
    /// One JSON document (what --json gives)
    Json,
    /// JSON Lines: one record per line
    Jsonl,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Plain => "plain",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }
}

/// What `--color` accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when the stream is a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it)
    #[default]
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// The shape of this run's output.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// The format asked for, or the default for where stdout goes.
    pub format: Format,
    /// Whether `--format` (or `--json`) was given.
    pub explicit: bool,
    /// Colour on stdout.
    pub colour: bool,
    /// Colour on stderr (decided for stderr's own terminal).
    pub err_colour: bool,
    /// Columns to fit: `COLUMNS`, else the terminal's; `None` when neither
    /// says (a pipe), and then nothing is wrapped.
    pub width: Option<usize>,
    /// Whether stdout is a terminal.
    pub terminal: bool,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            format: Format::Plain,
            explicit: false,
            colour: false,
            err_colour: false,
            width: None,
            terminal: false,
        }
    }
}

impl Ui {
    /// The shape for this process's stdout and stderr.
    pub fn detect(format: Option<Format>, json: bool, color: ColorWhen) -> Result<Ui, String> {
        let format = match (format, json) {
            (Some(f), true) if f != Format::Json => {
                return Err(format!(
                    "--json means --format json; it cannot be given with --format {}",
                    f.name()
                ))
            }
            (_, true) => Some(Format::Json),
            (f, false) => f,
        };
        let stdout = std::io::stdout();
        let terminal = stdout.is_terminal();
        let resolve = |auto: anstream::ColorChoice| match color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => auto != anstream::ColorChoice::Never,
        };
        let colour = resolve(anstream::AutoStream::choice(&stdout));
        let err_colour = resolve(anstream::AutoStream::choice(&std::io::stderr()));
        let width = columns().or_else(|| {
            terminal
                .then(|| terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0)))
                .flatten()
        });
        Ok(Ui {
            format: format.unwrap_or(if terminal {
                Format::Table
            } else {
                Format::Plain
            }),
            explicit: format.is_some(),
            colour,
            err_colour,
            width,
            terminal,
        })
    }
}

/// `COLUMNS`, when it holds a usable width.
pub fn columns() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w >= 20)
}

/// The number (0-15) of a position's terminal colour, from its SGR code
/// in the one palette (30-37 the basic colours, 90-97 their bright forms).
fn ansi_number(p: Position) -> u8 {
    match swatch(p).ansi {
        code @ 30..=37 => code - 30,
        code @ 90..=97 => code - 90 + 8,
        _ => 7,
    }
}

/// The terminal colour of a position, from the one palette.
pub fn position_style(p: Position) -> Style {
    let n = ansi_number(p);
    let base = match n & 7 {
        0 => AnsiColor::Black,
        1 => AnsiColor::Red,
        2 => AnsiColor::Green,
        3 => AnsiColor::Yellow,
        4 => AnsiColor::Blue,
        5 => AnsiColor::Magenta,
        6 => AnsiColor::Cyan,
        _ => AnsiColor::White,
    };
    let colour = if n >= 8 { base.bright(true) } else { base };
    Style::new().fg_color(Some(Color::Ansi(colour)))
}

/// The comfy-table colour of a position, from the same palette (its ANSI
/// colour number, which comfy-table writes as `38;5;N`).
pub fn position_cell_colour(p: Position) -> comfy_table::Color {
    comfy_table::Color::AnsiValue(ansi_number(p))
}

/// `text` in `style` when colour is on.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if on {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

/// A position's name, coloured when colour is on.
pub fn position(on: bool, p: Position) -> String {
    paint(on, position_style(p), p.as_str())
}

/// A position's name padded to `width` columns, coloured when colour is
/// on (the padding is counted on the name, not its escapes).
pub fn position_padded(on: bool, p: Position, width: usize) -> String {
    let pad = width.saturating_sub(p.as_str().len());
    format!("{}{}", position(on, p), " ".repeat(pad))
}

/// Dim text (dates, ids), when colour is on.
pub fn dim(on: bool, text: &str) -> String {
    paint(on, Style::new().dimmed(), text)
}

pub const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Red)));
pub const HINT: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Cyan)));
pub const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Yellow)));

/// Wraps `text` to `width` on word boundaries (a word longer than a line
/// is cut), the first line after `first` and the rest after `rest`: a
/// hanging indent. With no width, one line.
pub fn wrap(text: &str, width: Option<usize>, first: &str, rest: &str) -> String {
    let Some(width) = width else {
        return format!("{first}{text}");
    };
    let opts = textwrap::Options::new(width.max(20))
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::fill(text, opts)
}

/// Wraps a slug (an issue) to `width` at its hyphens, for a table cell.
pub fn wrap_slug(slug: &str, width: Option<usize>) -> String {
    match width {
        None => slug.to_owned(),
        Some(w) => textwrap::fill(slug, textwrap::Options::new(w.max(8))),
    }
}
