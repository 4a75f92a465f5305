//! One integration-test binary (one link step) with a module per area.

mod support;

mod chain_vector;
mod cli;
mod concurrency;
mod crash;
mod golden_ledger;
mod hostile;
mod props;
mod readme;
mod restore;
mod roundtrip;
mod snapshots;
mod tamper;
mod tidy;
mod trust_cli;
