//! A fresh replay of the log, one event at a time: checks the rules that every
//! stored event must obey and yields the index entries it derives. Shared by
//! `rebuild` (which writes the entries) and `verify` (which compares them with
//! what is stored), so both agree on what the indexes should be.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::event::Event;
use crate::index::{self, IndexEntry, TargetState};
use crate::model::Payload;

/// What the replay remembers of each id seen so far.
#[derive(Clone, Copy, Debug)]
enum Seen {
    /// A statement: its seq, current date, and whether it is retracted.
    Statement(u64, NaiveDate, bool),
    /// An amendment or retraction.
    Edit,
}

/// Replay state: one small entry per event id (about 40 bytes), so a replay of
/// millions of events stays within a few hundred MiB.
#[derive(Default)]
pub struct Replay {
    seen: HashMap<Uuid, Seen>,
    /// The recorded_at and seq of the last event stepped: the open run of
    /// the time index.
    run: Option<(DateTime<Utc>, u64)>,
}

impl Replay {
    /// A replay with room for `events` ids, so that a replay of a known
    /// length never rehashes (at a million events, rehashing the growing
    /// map was a few percent of `verify`).
    pub fn with_capacity(events: u64) -> Replay {
        Replay {
            seen: HashMap::with_capacity(usize::try_from(events).unwrap_or(0)),
            run: None,
        }
    }

    /// Checks `event` against the events before it and returns its index
    /// entries. `load` fetches an earlier event by seq (for an edit's actor
    /// and issue). A rule violation comes back as its description, for the
    /// caller to attach to the event's seq.
    pub fn step(
        &mut self,
        event: &Event,
        load: impl Fn(u64) -> Result<Event>,
    ) -> std::result::Result<Vec<IndexEntry>, String> {
        if self.seen.contains_key(&event.id) {
            return Err(format!("duplicate id {}", event.id));
        }
        // A new recorded_at closes the previous run: its time entry is due.
        let closed = match self.run.replace((event.recorded_at, event.seq)) {
            Some((t, seq)) if t != event.recorded_at => Some(index::time_entry(&t, seq)),
            _ => None,
        };
        let target = match &event.payload {
            Payload::Statement(s) => {
                self.seen
                    .insert(event.id, Seen::Statement(event.seq, s.stated_on, false));
                None
            }
            p => {
                let t = p.target().expect("edits have targets");
                let Some(&Seen::Statement(tseq, stated_on, retracted)) = self.seen.get(&t) else {
                    return Err(format!(
                        "{} targets {t}, which is not an earlier statement",
                        p.kind()
                    ));
                };
                if retracted {
                    return Err(format!(
                        "{} targets {t}, which is already retracted",
                        p.kind()
                    ));
                }
                let stmt = load(tseq).map_err(|e| e.to_string())?;
                let Payload::Statement(s) = stmt.payload else {
                    return Err(format!("target {t} at seq {tseq} is not a statement"));
                };
                let before = TargetState {
                    seq: tseq,
                    actor: s.actor,
                    issue: s.issue,
                    stated_on,
                    retracted,
                };
                let after = before.after(p);
                self.seen
                    .insert(t, Seen::Statement(tseq, after.stated_on, after.retracted));
                self.seen.insert(event.id, Seen::Edit);
                Some(before)
            }
        };
        let mut entries = index::derived_entries(event, target.as_ref());
        entries.extend(closed);
        Ok(entries)
    }

    /// The time entry of the last run, due once the log has been stepped
    /// through; `None` on a second call.
    pub fn finish(&mut self) -> Option<IndexEntry> {
        self.run.take().map(|(t, seq)| index::time_entry(&t, seq))
    }
}
