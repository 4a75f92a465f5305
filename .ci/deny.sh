#!/usr/bin/env bash
# Supply-chain check: cargo-deny against deny.toml (licences, bans -- bincode
# 3.x and sled >= 0.35 are banned --, sources: crates.io only). Advisories
# need the RustSec database from the network and are not run here; run
# `cargo deny check advisories` by hand.
#
# Installs cargo-deny when it is missing: `cargo install --locked` of the
# pinned version took 4m21s wall (3m05s of CPU) on this project's 2-core
# machine while other builds ran. Set STANCELOG_DENY_INSTALL=0 to skip the
# install (the check is then skipped with a message unless cargo-deny is
# already on PATH); an install that fails or exceeds DENY_INSTALL_TIMEOUT
# seconds (default 600) also skips with a message rather than failing CI.
set -euo pipefail
cd "$(dirname "$0")/.."

DENY_VERSION=0.20.2
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cargo-deny >/dev/null 2>&1; then
    if [ "${STANCELOG_DENY_INSTALL:-1}" != 1 ]; then
        echo "deny.sh: SKIPPED: cargo-deny is not installed (STANCELOG_DENY_INSTALL=0)." >&2
        echo "deny.sh: install it with: cargo install cargo-deny --locked --version $DENY_VERSION" >&2
        exit 0
    fi
    echo "deny.sh: installing cargo-deny $DENY_VERSION (about 3-5 minutes on 2 cores)..." >&2
    start=$(date +%s)
    if ! timeout "${DENY_INSTALL_TIMEOUT:-600}" \
        cargo install cargo-deny --locked --version "$DENY_VERSION" --quiet; then
        echo "deny.sh: SKIPPED: could not install cargo-deny within ${DENY_INSTALL_TIMEOUT:-600} s." >&2
        exit 0
    fi
    echo "deny.sh: installed cargo-deny in $(( $(date +%s) - start )) s" >&2
fi

cargo fetch --locked
cargo deny --offline check --hide-inclusion-graph bans licenses sources
