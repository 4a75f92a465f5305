//! One integration-test binary (one link step) with a module per area.

mod support;

mod bench_smoke;
mod chain_vector;
mod cli;
mod concurrency;
mod crash;
mod hostile;
mod props;
mod readme;
mod restore;
mod roundtrip;
mod snapshots;
mod tamper;
mod tidy;
