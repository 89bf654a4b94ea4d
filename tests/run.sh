#!/usr/bin/env bash
# The test command: installs what the suites need that cargo does not, then runs every
# suite. SQLite always; Postgres too when WINFACTOR_TEST_POSTGRES_URL is set (and then it
# must be reachable: the Postgres tests fail rather than skip).
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
