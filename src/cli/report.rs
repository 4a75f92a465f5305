//! `stancelog report`: one self-contained HTML page for a briefing. The
//! edge around [`super::html`]: flags, one snapshot of the ledger (so the
//! matrix, the charts, the changes, the audit summary and the digest all
//! show the same state), the file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Result;
use chrono::Duration;
use clap::Args;

use stancelog::{Actor, Filter, Issue};

use super::chart::{self, issue_heading, write_output};
use super::html::{self, Page, PERIOD_DAYS};
use super::query::{FilterArgs, TimeArgs};
use super::{env, open, svg, Global};

/// The flags of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Where to write the HTML, or - for standard output
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    pub output: PathBuf,
}

/// Runs `report`.
pub fn report(g: &Global, args: ReportArgs) -> Result<()> {
    let ledger = open::open_read(g)?;
    let as_of = args.time.as_of.unwrap_or_else(env::today);
    let known_at = args.time.known_at;
    let filter: Filter = args.filter.resolve(&ledger, known_at.unwrap_or_default())?;
    let period = (as_of - Duration::days(PERIOD_DAYS), as_of);
    let page = ledger.snapshot(known_at.unwrap_or_default(), |snap| {
        let pairs = snap.pairs(&filter)?;
        let issues: BTreeSet<&Issue> = pairs.iter().map(|(_, i)| i).collect();
        let actors: BTreeSet<&Actor> = pairs.iter().map(|(a, _)| a).collect();
        let mut headings = Vec::with_capacity(issues.len());
        let mut charts = Vec::with_capacity(issues.len());
        for issue in &issues {
            let on_issue: Vec<Actor> = pairs
                .iter()
                .filter(|(_, i)| i == *issue)
                .map(|(a, _)| a.clone())
                .collect();
            let chart = chart::build(snap, issue, &on_issue, as_of, None, None)?;
            charts.push(((*issue).clone(), svg::svg(&chart)));
            headings.push(((*issue).clone(), issue_heading(snap, issue)?));
        }
        Ok(Page {
            as_of,
            known_at: known_at.map(|t| t.to_string()),
            head: snap.head()?,
            issues: headings,
            actors: actors.into_iter().cloned().collect(),
            stances: snap.stances(as_of, &filter)?,
            charts,
            period,
            changes: snap.changes(period.0, period.1, &filter)?,
            authorship: snap.authorship()?,
        })
    })?;
    write_output(&args.output, html::html(&page).as_bytes())
}
