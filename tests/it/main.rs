//! One integration-test binary (one link step) with a module per area.

mod support;

mod analysis;
mod browser;
mod chain_vector;
mod cli;
mod concurrency;
mod crash;
mod damage;
mod domain;
mod durability;
mod golden_ledger;
mod hostile;
mod postgres;
mod props;
mod readme;
mod readmodel;
mod restore;
mod roundtrip;
mod snapshots;
mod tamper;
mod tidy;
mod trust;
mod trust_cli;
mod ux;
mod viz;
