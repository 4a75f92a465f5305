//! One integration-test binary (one link step) with a module per area.

mod support;

mod cli;
mod props;
mod roundtrip;
