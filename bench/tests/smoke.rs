//! Smoke test of the performance harness (`stancelog-bench`, issue 3): it
//! runs on a small ledger and reports every figure. No timing is asserted:
//! the machines are shared and noisy; docs/PERFORMANCE.md holds the numbers.
//!
//! With `STANCELOG_TEST_POSTGRES=postgres://USER@HOST/DB` set, the run also
//! gets `--postgres` and the PostgreSQL figures must be there too; without
//! it the harness must say, in one note, that it skipped them.

use std::process::Command;

/// Every figure the harness must report (see docs/PERFORMANCE.md), and
/// whether it carries a same-run baseline.
const FIGURES: &[(&str, bool)] = &[
    ("import_events_per_s", true),
    ("import_peak_rss_mib", false),
    ("verify_events_per_s", true),
    ("disk_bytes_per_event", true),
    ("stance_p50_us", true),
    ("stance_p99_us", true),
    ("stance_p50_us_small", true),
    ("stances_ms", true),
    ("history_p50_us", true),
    ("cli_stance_ms", true),
    ("cli_stance_small_ms", true),
    ("cli_stance_growth", false),
    ("cli_stance_first_after_import_ms", true),
    ("query_peak_rss_mib", true),
    ("cli_stances_json_ms", true),
    ("cli_history_ms", true),
    ("append_lib_p50_us", true),
    ("append_lib_p99_us", true),
    ("record_cli_p50_ms", true),
    ("record_cli_p99_ms", true),
    ("import_incremental_events_per_s", true),
    ("cli_stance_during_import_ms", true),
];

/// The figures of the PostgreSQL section (`--postgres`), each with its
/// same-run floor.
const PG_FIGURES: &[(&str, bool)] = &[
    ("pg_import_events_per_s", true),
    ("pg_stance_p50_us", true),
    ("pg_stance_p99_us", true),
    ("pg_cli_stance_ms", true),
    ("pg_append_lib_p50_us", true),
    ("pg_append_lib_p99_us", true),
    ("pg_record_cli_p50_ms", true),
    ("pg_record_cli_p99_ms", true),
    ("pg_appends_per_s_1w", true),
    ("pg_appends_per_s_4w", true),
    ("pg_appends_per_s_16w", true),
];

#[test]
fn the_harness_reports_every_figure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("results.json");
    let postgres = std::env::var("STANCELOG_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stancelog-bench"));
    cmd.args(["--quick", "--size", "2000", "--out"])
        .arg(&out)
        .arg("--work")
        .arg(dir.path().join("work"))
        .env_remove("STANCELOG_BENCH_POSTGRES");
    match &postgres {
        Some(url) => {
            cmd.args(["--postgres", url]);
        }
        None => eprintln!(
            "PostgreSQL figures not checked: set STANCELOG_TEST_POSTGRES=postgres://USER@HOST/DB to check them"
        ),
    }
    let run = cmd.output().expect("run stancelog-bench");
    assert!(
        run.status.success(),
        "stancelog-bench failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = String::from_utf8_lossy(&run.stdout);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("results file")).expect("JSON");
    assert_eq!(json["size"], 2000);
    assert!(json["machine"]["cores"].as_u64().is_some_and(|c| c > 0));
    let figures = json["figures"].as_array().expect("figures");
    let expected: Vec<&(&str, bool)> = match &postgres {
        Some(_) => FIGURES.iter().chain(PG_FIGURES).collect(),
        None => {
            assert!(
                json["notes"]["postgres"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("skipped")),
                "no note of the skipped PostgreSQL section: {:#}",
                json["notes"]
            );
            assert!(
                !figures
                    .iter()
                    .any(|f| f["id"].as_str().is_some_and(|id| id.starts_with("pg_"))),
                "PostgreSQL figures without --postgres"
            );
            FIGURES.iter().collect()
        }
    };
    if postgres.is_some() {
        assert_eq!(
            json["notes"]["pg_stance_raw_select_disagreements"], 0,
            "the raw stance SELECT must answer as `stance` does"
        );
    }
    for (id, has_baseline) in expected {
        let f = figures
            .iter()
            .find(|f| f["id"] == *id)
            .unwrap_or_else(|| panic!("figure {id} missing from {json:#}"));
        let ours = f["ours"]
            .as_f64()
            .unwrap_or_else(|| panic!("{id}: no number"));
        assert!(ours.is_finite() && ours >= 0.0, "{id}: {ours}");
        if *has_baseline {
            let base = f["baseline"]
                .as_f64()
                .unwrap_or_else(|| panic!("{id}: no baseline"));
            assert!(base.is_finite() && base > 0.0, "{id}: baseline {base}");
            assert!(f["ratio"].as_f64().is_some(), "{id}: no ratio");
        }
        assert!(table.contains(id), "{id} missing from the printed table");
    }
}
