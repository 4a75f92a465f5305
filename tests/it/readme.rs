//! The README's transcripts (its ```console blocks) run through the real
//! binary, in order, against one fresh ledger (the first block imports the
//! article fixture), with the clock pinned and author `analyst`; any
//! difference fails. `TRYCMD=overwrite cargo test --test it readme`
//! rewrites the outputs in README.md after a deliberate change.

use crate::support::BASE_TIME;

#[test]
fn readme_transcripts_match_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    // trycmd adds these to the inherited environment (it cannot clear it),
    // so every variable stancelog reads is set here.
    trycmd::TestCases::new()
        .register_bin(
            "stancelog",
            std::path::PathBuf::from(env!("CARGO_BIN_EXE_stancelog")),
        )
        .env("HOME", dir.path().join("home").to_str().unwrap())
        .env("STANCELOG_LEDGER", ledger.to_str().unwrap())
        .env("STANCELOG_AUTHOR", "analyst")
        .env("STANCELOG_TEST_NOW", BASE_TIME)
        .env("STANCELOG_WAIT", "30")
        .env("STANCELOG_CACHE_MIB", "16")
        // The width of a common terminal, and no colour, whatever the
        // environment running the tests says.
        .env("COLUMNS", "80")
        .env("NO_COLOR", "1")
        .case("README.md")
        .run();
}
