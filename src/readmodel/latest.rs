//! `stances_latest`: per (actor, issue) pair, the statement in force from
//! its `stated_on` onward as known now. The writer keeps it, so that a
//! whole-table query at the head reads one row per pair (and the statement
//! it names) instead of every version of every statement.
//!
//! A write notes the version each of its events makes ([`Pending::note`])
//! and settles the touched pairs before it commits ([`Pending::flush`]): a
//! pair that only gained statements takes the best of them if it beats the
//! row's (one conditional upsert); a pair with an edit has its winner
//! recomputed from its versions by the same rule the queries use
//! ([`in_force`]). `verify` recomputes every row from the versions it has
//! checked against the replay ([`expected`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Arg, Conn, Query};
use crate::derive::Version;
use crate::error::Result;
use crate::event::{Event, GENESIS};
use crate::model::Fact;
use crate::projection::{in_force, Stance, StatementView};
use crate::wire::Wire;

/// What a write has done to one pair so far.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Touch {
    /// Only new statements: the best of them, as (stated_on, seq), its
    /// event, and the first of them (the pair's first if it is new).
    Recorded(NaiveDate, u64, Box<Event>, u64),
    /// An edit of one of its statements: the winner is recomputed.
    Edited,
}

/// Pairs touched at most before [`Pending::note`] settles them: bounds the
/// memory of a million-line import, whose pairs would otherwise wait for
/// the commit.
const FLUSH_AT: usize = 4096;

/// The pairs a write in progress has touched and not yet settled, keyed by
/// (issue, actor).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    touched: BTreeMap<(String, String), Touch>,
}

/// The columns of a `stances_latest` row, in the order rows are written
/// and read. The statement's fields have the text forms of `events`.
const COLUMNS: &str = "issue, actor, statement_seq, statement_id, recorded_at, recorded_by, position, \
     stated_on, summary, quote, speaker, source_url, source_title, stated_on_precision, qualifiers, \
     condition, attribution, reported_by, speaker_role, sources, quote_lang, translation, amendments, \
     first_seq";

/// The columns of a row that `events` also has, under the same names:
/// the statement's fields but its pair, and who recorded it when.
fn same_as_events() -> impl Iterator<Item = &'static str> {
    ["recorded_at", "recorded_by"].into_iter().chain(
        crate::wire::STATEMENT_FIELDS
            .iter()
            .copied()
            .filter(|c| !matches!(*c, "actor" | "issue")),
    )
}

/// How many columns a row has.
const WIDTH: usize = 24;

fn upsert(condition: &str) -> String {
    let marks: Vec<String> = (1..=WIDTH).map(|i| format!("?{i}")).collect();
    // Not the pair, nor its first statement, which an update keeps.
    let set: Vec<String> = COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| !matches!(*c, "issue" | "actor" | "first_seq"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO stances_latest ({COLUMNS}) VALUES ({}) ON CONFLICT (issue, actor) DO UPDATE SET {}{condition}",
        marks.join(", "),
        set.join(", ")
    )
}

/// A pair gains a statement: it wins if it is later than the row's (a
/// same-day tie goes to the later statement), or if the row has none.
fn upsert_recorded() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        upsert(
            " WHERE stances_latest.statement_seq IS NULL OR excluded.stated_on > stances_latest.stated_on \
             OR (excluded.stated_on = stances_latest.stated_on AND excluded.statement_seq > stances_latest.statement_seq)",
        )
    })
}

/// A pair's winner, recomputed (NULLs when none is in force).
fn upsert_settled() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| upsert(""))
}

/// The values of a row: the pair, its winner as amended (`None`: no
/// statement in force), and its first statement.
fn row_values(
    issue: &str,
    actor: &str,
    view: Option<&StatementView>,
    first: u64,
) -> Vec<Option<String>> {
    let mut out = vec![Some(issue.to_owned()), Some(actor.to_owned())];
    let Some(v) = view else {
        out.resize(WIDTH - 1, None);
        out.push(Some(first.to_string()));
        return out;
    };
    let w = Wire::from_event(&Event {
        seq: v.seq,
        id: v.id,
        recorded_at: v.recorded_at,
        recorded_by: v.recorded_by.clone(),
        prev_hash: GENESIS,
        hash: GENESIS,
        payload: Fact::StatementRecorded(v.statement.clone()),
    });
    out.extend([
        Some(v.seq.to_string()),
        w.id,
        w.recorded_at,
        w.recorded_by,
        w.position,
        w.stated_on,
        w.summary,
        w.quote,
        w.speaker,
        w.source_url,
        w.source_title,
        w.stated_on_precision,
        super::json_list(&w.qualifiers),
        w.condition,
        w.attribution,
        w.reported_by,
        w.speaker_role,
        super::json_list(&w.sources),
        w.quote_lang,
        w.translation,
        Some(v.amendments.len().to_string()),
        Some(first.to_string()),
    ]);
    out
}

/// Writes one row (deferred on PostgreSQL, like every insert of a write).
fn write_row(conn: &Conn, sql: &str, values: &[Option<String>]) -> Result<()> {
    let args: Vec<Arg<'_>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| match (i, v) {
            // statement_seq, amendments and first_seq are integers.
            (2 | 22 | 23, Some(n)) => Arg::Int(n.parse().expect("written as a number")),
            (2 | 22 | 23, None) => Arg::OptInt(None),
            (_, v) => Arg::OptText(v.as_deref()),
        })
        .collect();
    conn.insert(sql, &args)
}

impl Pending {
    /// Notes the event a write adds and the version it made (inside the
    /// write's transaction).
    pub(crate) fn note(&mut self, conn: &Conn, event: &Event, v: &Version) -> Result<()> {
        let recorded = v.version_seq == v.stmt_seq;
        let key = (v.issue.clone(), v.actor.clone());
        match self.touched.get_mut(&key) {
            None => {
                let touch = if recorded {
                    Touch::Recorded(v.stated_on, v.stmt_seq, Box::new(event.clone()), v.stmt_seq)
                } else {
                    Touch::Edited
                };
                self.touched.insert(key, touch);
            }
            Some(Touch::Edited) => {}
            Some(Touch::Recorded(d, s, e, _)) if recorded => {
                if (v.stated_on, v.stmt_seq) > (*d, *s) {
                    (*d, *s) = (v.stated_on, v.stmt_seq);
                    **e = event.clone();
                }
            }
            Some(t) => *t = Touch::Edited,
        }
        if self.touched.len() >= FLUSH_AT {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Whether this write has touched a pair on `issue` not yet settled.
    pub(crate) fn touches_issue(&self, issue: &str) -> bool {
        self.touched
            .range((issue.to_owned(), String::new())..)
            .next()
            .is_some_and(|((i, _), _)| i == issue)
    }

    /// Writes the touched pairs' rows (inside the write's transaction,
    /// before its watermark moves).
    pub(crate) fn flush(&mut self, conn: &Conn) -> Result<()> {
        let q = Query::new(conn);
        for ((issue, actor), touch) in std::mem::take(&mut self.touched) {
            match touch {
                Touch::Recorded(_, _, event, first) => {
                    let view = StatementView::from_event(&event).ok_or_else(|| {
                        super::corrupt(event.seq, "a version of an event that is not a statement")
                    })?;
                    let row = row_values(&issue, &actor, Some(&view), first);
                    write_row(conn, upsert_recorded(), &row)?;
                }
                Touch::Edited => {
                    let versions = q.versions_of_pair(&actor, &issue)?;
                    let view = match winner(&versions) {
                        Some((seq, _)) => Some(q.view_now(seq)?),
                        None => None,
                    };
                    let first = versions.iter().map(|v| v.stmt_seq).min().unwrap_or(0);
                    let row = row_values(&issue, &actor, view.as_ref(), first);
                    write_row(conn, upsert_settled(), &row)?;
                }
            }
        }
        // Each pair once per flush, so the next flush's rows of the same
        // pairs must go in statements of their own.
        conn.send_inserts()
    }
}

/// The statement in force from its date onward among one pair's versions,
/// with that date: [`in_force`] on the last day there is, at the last seq.
fn winner(versions: &[Version]) -> Option<(u64, NaiveDate)> {
    let (stmt, version) = in_force(versions, NaiveDate::MAX, u64::MAX)?;
    versions
        .iter()
        .find(|v| v.version_seq == version && v.stmt_seq == stmt)
        .map(|v| (stmt, v.stated_on))
}

/// One row of `stances_latest`: (issue, actor, statement seq, stated_on).
pub(crate) type LatestRow = (String, String, Option<u64>, Option<NaiveDate>, u64);

/// The rows `stances_latest` should hold, from every version in
/// (actor, issue, ...) order, as `verify` recomputes them: one per pair.
#[derive(Debug, Default)]
pub(crate) struct Expected {
    group: Vec<Version>,
    rows: Vec<LatestRow>,
}

impl Expected {
    /// Adds the next version (in (actor, issue) order).
    pub(crate) fn add(&mut self, v: Version) {
        let same = self
            .group
            .first()
            .is_some_and(|g| g.actor == v.actor && g.issue == v.issue);
        if !same {
            self.settle();
        }
        self.group.push(v);
    }

    fn settle(&mut self) {
        let Some(first) = self.group.first() else {
            return;
        };
        let w = winner(&self.group);
        let first_seq = self.group.iter().map(|v| v.stmt_seq).min().unwrap_or(0);
        self.rows.push((
            first.issue.clone(),
            first.actor.clone(),
            w.map(|(s, _)| s),
            w.map(|(_, d)| d),
            first_seq,
        ));
        self.group.clear();
    }

    /// The rows, sorted by (issue, actor) as the table is.
    pub(crate) fn finish(mut self) -> Vec<LatestRow> {
        self.settle();
        self.rows
            .sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        self.rows
    }
}

/// The first difference between the table's rows and the expected ones,
/// both in (issue, actor) order: the seq to name and what is wrong.
pub(crate) fn first_difference(
    expected: &[LatestRow],
    actual: &[LatestRow],
) -> Option<(u64, String)> {
    let name = |r: &LatestRow| format!("{} on {}", r.1, r.0);
    let seq = |r: &LatestRow| r.2.unwrap_or(0);
    for i in 0..expected.len().max(actual.len()) {
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) if e == a => continue,
            (Some(e), Some(a)) if (&e.0, &e.1) == (&a.0, &a.1) => {
                let show = |r: &LatestRow| {
                    format!(
                        "statement {}, first {}",
                        r.2.map_or("none".into(), |s| s.to_string()),
                        r.4
                    )
                };
                return Some((
                    seq(e).max(seq(a)),
                    format!(
                        "the read model's stances_latest row for {} says {} where the versions say {}",
                        name(e),
                        show(a),
                        show(e),
                    ),
                ));
            }
            (Some(e), Some(a)) if (&e.0, &e.1) < (&a.0, &a.1) => {
                return Some((
                    seq(e),
                    format!("the read model's stances_latest has no row for {}", name(e)),
                ))
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                return Some((
                    seq(a),
                    format!(
                        "the read model's stances_latest has a row for {}, which has no statement",
                        name(a)
                    ),
                ))
            }
            (Some(e), None) => {
                return Some((
                    seq(e),
                    format!("the read model's stances_latest has no row for {}", name(e)),
                ))
            }
            (None, None) => break,
        }
    }
    None
}

impl Query<'_> {
    /// The statement at `seq` with every edit applied.
    fn view_now(&self, seq: u64) -> Result<StatementView> {
        let event = self.event_indexed(seq)?;
        let mut view = StatementView::from_event(&event)
            .ok_or_else(|| super::corrupt(seq, "a version of an event that is not a statement"))?;
        for e in self.edits(seq, u64::MAX)? {
            view.apply(&e);
        }
        Ok(view)
    }

    /// Every row of `stances_latest` as (issue, actor, statement seq,
    /// stated_on), in (issue, actor) order.
    pub(crate) fn latest_rows(&self) -> Result<Vec<LatestRow>> {
        self.conn.rows(
            "SELECT issue, actor, statement_seq, stated_on, first_seq FROM stances_latest ORDER BY issue, actor",
            &[],
            |r| {
                let seq = r.opt_int(2)?.map(|s| s as u64);
                let stated_on = match r.opt_text(3)? {
                    Some(d) => Some(
                        super::parse_date(&d)
                            .map_err(|e| super::corrupt(seq.unwrap_or(0), e.to_string()))?,
                    ),
                    None => None,
                };
                Ok((r.text(0)?, r.text(1)?, seq, stated_on, r.int(4)? as u64))
            },
        )
    }

    /// The first statement seq whose `stances_latest` fields are not those
    /// of the statement as amended now, if any (`verify`, after the rows
    /// were found to name the right statements). Unamended statements are
    /// compared with their `events` row in SQL; amended ones are folded.
    pub(crate) fn latest_fields_fault(&self) -> Result<Option<u64>> {
        // The text columns both tables hold alike are compared in SQL; the
        // ones `event_rows` keeps as bytes and codes (id, time, position,
        // type) are compared here, formatted from the stored row, which
        // costs less than formatting them in SQL (the view's way).
        let differs: Vec<String> = same_as_events()
            .filter(|c| !matches!(*c, "recorded_at" | "position"))
            .map(|c| format!("l.{c} IS DISTINCT FROM e.{c}"))
            .chain(std::iter::once(format!(
                "EXISTS (SELECT 1 FROM event_rows a WHERE a.target_seq = l.statement_seq AND a.type_code = {})",
                super::dialect::AMENDMENT_CODE
            )))
            .collect();
        let mut first_fault: Option<u64> = None;
        self.conn.each(
            &format!(
                "SELECT l.statement_seq, l.statement_id, l.recorded_at, l.position, \
                        e.type_code, e.id, e.recorded_us, e.position_code, ({}) \
                 FROM stances_latest l JOIN event_rows e ON e.seq = l.statement_seq \
                 WHERE l.amendments = 0",
                differs.join(" OR ")
            ),
            &[],
            &mut |r| {
                let seq = r.int(0)? as u64;
                let same = !r.flag(8)?
                    && r.int(4)? == super::dialect::STATEMENT_CODE
                    && r.opt_text(1)? == super::text::id(&r.blob(5)?)
                    && r.opt_text(2)? == super::text::time(r.int(6)?)
                    && r.opt_text(3)? == r.opt_int(7)?.and_then(super::text::position);
                if !same && first_fault.is_none_or(|f| seq < f) {
                    first_fault = Some(seq);
                }
                Ok(())
            },
        )?;
        if first_fault.is_some() {
            return Ok(first_fault);
        }
        let amended = self.conn.rows(
            &format!(
                "SELECT {COLUMNS} FROM stances_latest WHERE amendments > 0 ORDER BY statement_seq"
            ),
            &[],
            |r| {
                (0..WIDTH)
                    .map(|i| match i {
                        2 | 22 | 23 => Ok(r.opt_int(i)?.map(|n| n.to_string())),
                        _ => r.opt_text(i),
                    })
                    .collect::<Result<Vec<Option<String>>>>()
            },
        )?;
        for row in amended {
            let seq: u64 = row[2].as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
            let issue = row[0].clone().unwrap_or_default();
            let actor = row[1].clone().unwrap_or_default();
            let view = self.view_now(seq)?;
            let first = row[23].as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
            if row_values(&issue, &actor, Some(&view), first) != row {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// How many pairs have a row, and how many of those rows are dated
    /// after `as_of` (their stance as of `as_of` is an earlier statement,
    /// or none).
    pub(crate) fn latest_after(&self, as_of: NaiveDate) -> Result<(u64, u64)> {
        let d = as_of.to_string();
        self.conn.one(
            "SELECT count(*), coalesce(sum(CASE WHEN stated_on > ?1 THEN 1 ELSE 0 END), 0) FROM stances_latest",
            &[Arg::Text(&d)],
            |r| Ok((r.int(0)? as u64, r.int(1)? as u64)),
        )
    }

    /// Calls `f` with each pair's latest statement as a stance, in (issue,
    /// actor) order, restricted to `issues` and `actors` when they are not
    /// empty.
    pub(crate) fn for_each_latest(
        &self,
        issues: &[&str],
        actors: &[&str],
        mut f: impl FnMut(LatestStatement) -> Result<()>,
    ) -> Result<()> {
        let mut args: Vec<Arg<'_>> = Vec::new();
        let mut clause = String::new();
        for (column, values) in [("issue", issues), ("actor", actors)] {
            if values.is_empty() {
                continue;
            }
            let first = args.len() + 1;
            let marks: Vec<String> = (first..first + values.len())
                .map(|i| format!("?{i}"))
                .collect();
            clause.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
            args.extend(values.iter().map(|v| Arg::Text(v)));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM stances_latest WHERE statement_seq IS NOT NULL{clause} ORDER BY issue, actor"
        );
        self.conn
            .each(&sql, &args, &mut |r| f(latest_statement(r)?))
    }
}

/// A row of `stances_latest` read back.
fn latest_statement(r: &dyn super::Row) -> Result<LatestStatement> {
    let seq = r.int(2)? as u64;
    let bad = |m: String| super::corrupt(seq, format!("stances_latest: {m}"));
    let s = |i: usize| r.opt_text(i);
    let wire = Wire {
        kind: "statement".into(),
        id: s(3)?,
        issue: s(0)?,
        actor: s(1)?,
        position: s(6)?,
        stated_on: s(7)?,
        summary: s(8)?,
        quote: s(9)?,
        speaker: s(10)?,
        source_url: s(11)?,
        source_title: s(12)?,
        stated_on_precision: s(13)?,
        qualifiers: super::from_json_list(seq, s(14)?)?,
        condition: s(15)?,
        attribution: s(16)?,
        reported_by: s(17)?,
        speaker_role: s(18)?,
        sources: super::from_json_list(seq, s(19)?)?,
        quote_lang: s(20)?,
        translation: s(21)?,
        ..Wire::default()
    };
    let request = wire.to_request().map_err(|e| bad(e.to_string()))?;
    let recorded_at = r.text(4)?;
    let event = Event {
        seq,
        id: request.id.ok_or_else(|| bad("no statement_id".into()))?,
        recorded_at: crate::model::parse_moment(&recorded_at).map_err(|e| bad(e.to_string()))?,
        recorded_by: r.text(5)?,
        // Not the statement's own: a row holds no hashes, and a stance shows none.
        prev_hash: GENESIS,
        hash: GENESIS,
        payload: request.command.into_fact(),
    };
    let view = StatementView::from_event(&event).ok_or_else(|| bad("not a statement".into()))?;
    let stated_on = view.statement.stated_on;
    let mut stance = view.into_stance();
    stance.amendments = r.int(22)? as usize;
    Ok(LatestStatement {
        issue: r.text(0)?,
        actor: r.text(1)?,
        stated_on,
        stance,
    })
}

/// A pair's latest statement, as [`Query::for_each_latest`] reads it.
pub(crate) struct LatestStatement {
    /// The pair's issue, as recorded.
    pub(crate) issue: String,
    /// The pair's actor.
    pub(crate) actor: String,
    /// The statement's date as amended now.
    pub(crate) stated_on: NaiveDate,
    /// The stance it gives (the issue as recorded, no wording yet).
    pub(crate) stance: Stance,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(stated_on: &str, stmt: u64, version: u64, tombstone: bool) -> Version {
        Version {
            actor: "CHN".into(),
            issue: "taiwan".into(),
            stated_on: stated_on.parse().unwrap(),
            stmt_seq: stmt,
            version_seq: version,
            tombstone,
        }
    }

    #[test]
    fn the_winner_is_the_latest_date_then_the_later_statement_and_never_a_retracted_one() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            winner(&[v("2019-01-01", 1, 1, false), v("2018-01-01", 2, 2, false)]),
            Some((1, d("2019-01-01")))
        );
        assert_eq!(
            winner(&[v("2019-01-01", 1, 1, false), v("2019-01-01", 2, 2, false)]),
            Some((2, d("2019-01-01")))
        );
        // Retracted: the other one wins.
        assert_eq!(
            winner(&[
                v("2019-01-01", 1, 1, false),
                v("2018-01-01", 2, 2, false),
                v("2019-01-01", 1, 3, true)
            ]),
            Some((2, d("2018-01-01")))
        );
        // Amended to an earlier date: its latest version counts.
        assert_eq!(
            winner(&[
                v("2019-01-01", 1, 1, false),
                v("2018-06-01", 2, 2, false),
                v("2017-01-01", 1, 3, false)
            ]),
            Some((2, d("2018-06-01")))
        );
        assert_eq!(
            winner(&[v("2019-01-01", 1, 1, false), v("2019-01-01", 1, 2, true)]),
            None
        );
    }

    #[test]
    fn a_pending_pair_keeps_the_best_new_statement_until_an_edit_makes_it_recomputed() {
        let conn = super::super::placeholder().unwrap();
        let mut p = Pending::default();
        let event = |seq: u64| Event {
            seq,
            id: uuid::Uuid::nil(),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            recorded_by: "t".into(),
            prev_hash: GENESIS,
            hash: GENESIS,
            payload: Fact::StatementRetracted(crate::model::Retraction {
                target: uuid::Uuid::nil(),
                reason: String::new(),
            }),
        };
        let best = |p: &Pending| match &p.touched[&("taiwan".to_owned(), "CHN".to_owned())] {
            Touch::Recorded(d, s, e, _) => Some((d.to_string(), *s, e.seq)),
            Touch::Edited => None,
        };
        p.note(&conn, &event(1), &v("2019-01-01", 1, 1, false))
            .unwrap();
        p.note(&conn, &event(2), &v("2018-01-01", 2, 2, false))
            .unwrap();
        assert_eq!(best(&p), Some(("2019-01-01".into(), 1, 1)));
        p.note(&conn, &event(3), &v("2019-01-01", 3, 3, false))
            .unwrap();
        assert_eq!(best(&p), Some(("2019-01-01".into(), 3, 3)));
        p.note(&conn, &event(4), &v("2019-01-01", 3, 4, true))
            .unwrap();
        assert_eq!(best(&p), None);
        p.note(&conn, &event(5), &v("2020-01-01", 5, 5, false))
            .unwrap();
        assert_eq!(best(&p), None);
    }

    #[test]
    fn the_first_difference_names_the_pair_and_the_seqs() {
        let d = Some("2019-01-01".parse().unwrap());
        let row = |a: &str, s: Option<u64>| ("taiwan".to_owned(), a.to_owned(), s, s.and(d), 1);
        assert_eq!(
            first_difference(&[row("CHN", Some(3))], &[row("CHN", Some(3))]),
            None
        );
        let (seq, m) = first_difference(&[row("CHN", Some(3))], &[row("CHN", Some(5))]).unwrap();
        assert_eq!(seq, 5);
        assert!(
            m.contains(
                "CHN on taiwan says statement 5, first 1 where the versions say statement 3, first 1"
            ),
            "{m}"
        );
        let (seq, m) = first_difference(
            &[row("CHN", Some(3)), row("JPN", Some(4))],
            &[row("CHN", Some(3))],
        )
        .unwrap();
        assert_eq!(seq, 4);
        assert!(m.contains("no row for JPN on taiwan"), "{m}");
        let (seq, m) = first_difference(
            &[row("CHN", Some(3))],
            &[row("CHN", Some(3)), row("USA", None)],
        )
        .unwrap();
        assert_eq!(seq, 0);
        assert!(
            m.contains("a row for USA on taiwan, which has no statement"),
            "{m}"
        );
    }
}
