#!/usr/bin/env bash
# The test command: installs what the suites need that cargo does not, then runs every
# suite. SQLite always; Postgres too when WINFACTOR_TEST_POSTGRES_URL is set (and then it
# must be reachable: the Postgres tests fail rather than skip).
set -euo pipefail
cd "$(dirname "$0")/.."

# Python helpers the suites run: the published Standard Webhooks verifier, an independent
# PDF parser, and a real SMTP server.
if ! python3 -c "import standardwebhooks, pypdf, aiosmtpd" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check standardwebhooks pypdf aiosmtpd
fi

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
