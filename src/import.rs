//! Reading JSON Lines input as a stream of append requests, with errors that
//! name the file and line. Lines are read one at a time with a length cap, so
//! memory stays bounded whatever the file's size or shape.

use std::io::{BufRead, Read, Seek, SeekFrom};

use crate::chain::{event_hash, parse_hash};
use crate::decide::precheck;
use crate::model::to_micros;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::decide::Request;
use crate::error::{Error, Result, RuleViolation};
use crate::model::{Fact, Issue};
use crate::names::{Names, Resolved};
use crate::wire::Wire;

/// Longest accepted input line, in bytes.
pub const MAX_LINE: usize = 1 << 20;

/// A streaming reader of JSONL append requests.
pub struct Lines<R> {
    reader: R,
    source_name: String,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// Reads from `reader`; `source_name` is how errors name the input.
    pub fn new(reader: R, source_name: impl Into<String>) -> Self {
        Lines {
            reader,
            source_name: source_name.into(),
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Input {
            source_name: self.source_name.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// Reads the next non-blank line; `Ok(None)` at the end.
    fn next_line(&mut self) -> Result<Option<Wire>> {
        loop {
            self.buf.clear();
            self.line += 1;
            let n = (&mut self.reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::io(format!("cannot read {}", self.source_name), e))?;
            if n == 0 {
                return Ok(None);
            }
            if self.buf.len() > MAX_LINE {
                return Err(self.error(format!("line is longer than {MAX_LINE} bytes")));
            }
            let mut bytes = self.buf.as_slice();
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let text = std::str::from_utf8(bytes).map_err(|e| {
                self.error(format!("not valid UTF-8 (at byte {})", e.valid_up_to()))
            })?;
            if text.trim().is_empty() {
                continue;
            }
            // serde would also read a JSON array positionally into the
            // struct; only an object, with its field names, is an event.
            if !text.trim_start().starts_with('{') {
                return Err(self.error("invalid JSON: expected an object ({...}) on each line"));
            }
            return serde_json::from_str::<Wire>(text)
                .map(Some)
                .map_err(|e| self.error(json_message(&e)));
        }
    }
}

/// serde_json's message without its "at line 1" part: each input line is
/// parsed on its own, so only the column means anything.
fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    };
    // serde quotes unknown field names and bad values whole: keep it short.
    const MAX_CHARS: usize = 300;
    if let Some((end, _)) = msg.char_indices().nth(MAX_CHARS) {
        msg.truncate(end);
        msg.push_str("...");
    }
    format!("invalid JSON: {msg} (column {})", e.column())
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<(u64, Wire)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_line() {
            Ok(Some(w)) => Some(Ok((self.line, w))),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Resolves the issue names of statement lines (a slug or an alias) to
/// slugs, as the ledger's naming events and the file's own earlier lines
/// say, the same way in both passes of an import.
struct LineNames<'l> {
    names: Names,
    /// Slugs the file's earlier statements are on.
    file_issues: HashSet<Issue>,
    /// What the ledger said of the slugs looked up so far: whether it has
    /// statements on them.
    looked_up: RefCell<HashMap<Issue, bool>>,
    /// Every slug the ledger has statements on, read in one query once
    /// [`LOOKUPS_BEFORE_LOADING`] slugs were looked up one by one: a file
    /// of many issues then costs one query, not one read per issue (each
    /// a round trip or several on PostgreSQL), and a small file still
    /// reads only what it names.
    ledger_issues: RefCell<Option<HashSet<Issue>>>,
    ledger: &'l crate::ledger::Ledger,
}

/// Lines remembered for naming the line of an error: more than the write
/// reads ahead.
const LINES_KEPT: usize = 2 * crate::append::PREFETCH;

/// See [`LineNames::ledger_issues`].
const LOOKUPS_BEFORE_LOADING: usize = 64;

impl<'l> LineNames<'l> {
    fn new(ledger: &'l crate::ledger::Ledger) -> Result<Self> {
        let names = ledger.read(|q| crate::query::names_at(q, q.watermark()?.seq))?;
        Ok(LineNames {
            names,
            file_issues: HashSet::new(),
            looked_up: RefCell::default(),
            ledger_issues: RefCell::default(),
            ledger,
        })
    }

    /// Whether the ledger has statements on `slug`.
    fn ledger_has(&self, slug: &Issue) -> bool {
        if let Some(all) = &*self.ledger_issues.borrow() {
            return all.contains(slug);
        }
        if let Some(&has) = self.looked_up.borrow().get(slug) {
            return has;
        }
        if self.looked_up.borrow().len() >= LOOKUPS_BEFORE_LOADING {
            if let Ok(all) = self.ledger.read(|q| q.issues_with_statements()) {
                let has = all.contains(slug);
                *self.ledger_issues.borrow_mut() = Some(all);
                return has;
            }
        }
        let has = self
            .ledger
            .read(|q| q.has_statements(slug, u64::MAX))
            .unwrap_or(false);
        self.looked_up.borrow_mut().insert(slug.clone(), has);
        has
    }

    /// The line's request, its statement's issue name resolved (lines with
    /// an export's envelope are kept as they are: their hash covers the slug).
    fn request(&mut self, wire: &mut Wire) -> Result<Request> {
        if wire.kind == "statement" && !has_envelope(wire) {
            if let Some(name) = wire.issue.clone() {
                let has = |s: &Issue| self.file_issues.contains(s) || self.ledger_has(s);
                let slug = match self.names.resolve(&name, &has) {
                    Resolved::Issue(s) | Resolved::Unknown(Some(s)) => s,
                    // Neither a slug nor an alias: the slug's own error says
                    // what a slug is, unless a name is near.
                    Resolved::Unknown(None) if self.names.all_names().is_empty() => {
                        return wire.to_request()
                    }
                    Resolved::Ambiguous(c) => {
                        return Err(RuleViolation::AmbiguousIssue {
                            name,
                            candidates: c.iter().map(|i| i.as_str().to_owned()).collect(),
                        }
                        .into())
                    }
                    Resolved::Unknown(None) => {
                        let all: Vec<String> =
                            self.names.all_names().into_iter().map(|(n, _)| n).collect();
                        return Err(RuleViolation::UnknownIssue {
                            suggestions: crate::names::nearest(
                                &name,
                                all.iter().map(String::as_str),
                            ),
                            name,
                        }
                        .into());
                    }
                };
                wire.issue = Some(slug.as_str().to_owned());
            }
        }
        let req = wire.to_request()?;
        let fact = req.command.clone().into_fact();
        match &fact {
            Fact::StatementRecorded(s) => {
                self.file_issues.insert(s.issue.clone());
            }
            f if f.is_naming() => self.names.apply(f),
            _ => {}
        }
        Ok(req)
    }
}

/// Attaches a file and line to a rule violation found while appending it.
pub fn tag_line(e: Error, source_name: &str, line: u64) -> Error {
    match e {
        Error::Rule(v) => Error::Input {
            source_name: source_name.to_owned(),
            line,
            message: v.to_string(),
        },
        other => other,
    }
}

/// Imports a JSONL stream into the ledger, all or nothing; a rule violation
/// is reported with the line that caused it.
///
/// Two passes: the first checks every line on its own (JSON, fields, limits,
/// no date in the future) without touching the ledger, so a bad line anywhere
/// in a large file is reported before anything is written; the second
/// appends. Rules that need the ledger (unknown or retracted targets, ids in
/// use) are checked in the second pass, and a failure there discards what the
/// pass wrote.
pub(crate) fn import<R: BufRead + Seek>(
    ledger: &crate::ledger::Ledger,
    mut reader: R,
    source_name: &str,
    ctx: &mut crate::append::Context<'_>,
) -> Result<crate::append::Summary> {
    let recorded_on = to_micros((ctx.clock)())
        .max(ledger.head()?.recorded_at)
        .date_naive();
    let mut envelopes = 0u64;
    let mut previous: Option<(u64, crate::event::Hash)> = None;
    let mut names = LineNames::new(ledger)?;
    for item in Lines::new(&mut reader, source_name) {
        let (line, mut wire) = item?;
        let req = names
            .request(&mut wire)
            .map_err(|e| tag_line(e, source_name, line))?;
        precheck(&req.command, recorded_on).map_err(|e| tag_line(e, source_name, line))?;
        if has_envelope(&wire) {
            let hash = check_envelope(&wire, &req, previous).map_err(|message| Error::Input {
                source_name: source_name.to_owned(),
                line,
                message,
            })?;
            previous = Some((wire.seq.unwrap_or(0), hash));
            envelopes += 1;
        } else {
            previous = None;
        }
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(format!("cannot reread {source_name}"), e))?;
    // The line of each of the last LINES_KEPT requests, by ordinal: the
    // write reads ahead of the request it decides (see `append_counting`).
    let lines = RefCell::new(vec![0u64; LINES_KEPT]);
    let produced = std::cell::Cell::new(0usize);
    let mut names = LineNames::new(ledger)?;
    let reqs = Lines::new(reader, source_name).map(|item| {
        let (l, mut wire) = item?;
        lines.borrow_mut()[produced.get() % LINES_KEPT] = l;
        produced.set(produced.get() + 1);
        names
            .request(&mut wire)
            .map_err(|e| tag_line(e, source_name, l))
    });
    let at = std::cell::Cell::new(0);
    let mut summary = crate::append::append_counting(ledger, reqs, ctx, &at).map_err(|e| {
        let line = lines.borrow()[at.get() as usize % LINES_KEPT];
        tag_line(e, source_name, line)
    })?;
    summary.envelopes = envelopes;
    Ok(summary)
}

/// Whether a line carries any field of an export's envelope (beyond `id`).
fn has_envelope(w: &Wire) -> bool {
    w.seq.is_some()
        || w.recorded_at.is_some()
        || w.recorded_by.is_some()
        || w.prev_hash.is_some()
        || w.hash.is_some()
}

/// Checks a line that carries an export's envelope the way `restore` would:
/// complete, its hash recomputed from its content and its `prev_hash`, and
/// linked to the line before when that one is its predecessor. An altered
/// export line fails here instead of passing its new content off under the
/// genuine statement's id. Returns the line's hash.
fn check_envelope(
    w: &Wire,
    req: &crate::decide::Request,
    previous: Option<(u64, crate::event::Hash)>,
) -> std::result::Result<crate::event::Hash, String> {
    let refuse = |what: &str| {
        format!("the line carries an export's envelope but {what}; restore the original export with `stancelog restore`, or remove the envelope fields (seq, recorded_at, recorded_by, prev_hash, hash) to import its content as new")
    };
    let (Some(seq), Some(id), Some(at), Some(by), Some(prev), Some(hash)) = (
        w.seq,
        req.id,
        w.recorded_at.as_deref(),
        w.recorded_by.as_deref(),
        w.prev_hash.as_deref().and_then(parse_hash),
        w.hash.as_deref().and_then(parse_hash),
    ) else {
        return Err(refuse("it is incomplete or malformed"));
    };
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map_err(|_| refuse("its recorded_at is not a time"))?
        .with_timezone(&chrono::Utc);
    let fact = req.command.clone().into_fact();
    if event_hash(&prev, seq, &id, &at, by, &fact) != hash {
        return Err(refuse(
            "its hash does not match its content (the line was altered)",
        ));
    }
    if let Some((p_seq, p_hash)) = previous {
        if p_seq + 1 == seq && p_hash != prev {
            return Err(refuse("its prev_hash does not link to the line before"));
        }
    }
    Ok(hash)
}
