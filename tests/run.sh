#!/usr/bin/env bash
# The test command: installs what the suites need that cargo does not, then runs every
# suite. SQLite always; Postgres too when WINFACTOR_TEST_POSTGRES_URL is set (and then it
# must be reachable: the Postgres tests fail rather than skip).
set -euo pipefail
cd "$(dirname "$0")/.."

# Python helpers the suites run: the published Standard Webhooks verifier, an independent
# PDF parser, a real SMTP server, and an independent JSON Schema validator (the event catalog).
if ! python3 -c "import standardwebhooks, pypdf, aiosmtpd, jsonschema" 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check standardwebhooks pypdf aiosmtpd jsonschema
fi
# The spec suite's independent checkers (tests/spec): the OpenAPI validator, schemathesis
# (pinned: its fixed seed reproduces a run) and the client generator.
spec_tools="schemathesis==4.32.5 openapi-spec-validator==0.9.0 openapi-python-client==0.29.1"
for tool in $spec_tools; do
    if ! python3 -m pip show "${tool%%==*}" 2>/dev/null | grep -qx "Version: ${tool##*==}"; then
        # shellcheck disable=SC2086
        python3 -m pip install --quiet --disable-pip-version-check $spec_tools
        break
    fi
done

# The configurator's browser test drives Debian's Chromium through playwright-core (no
# browser download) and checks the page with axe-core; the quote PDF test renders page
# images with poppler's pdftoppm. Install what is missing.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
# Replicas are tested behind a real nginx (Debian's package; the test starts its own).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
    (cd tests/browser && npm ci --silent --no-audit --no-fund)
fi

# Pricing plugins (first-party and hostile test components) are real wasm32-wasip2
# components, built from plugins/ with the SDK in sdk/; the suites read them from here.
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml \
    --target-dir "$target_dir/guest"
export WINFACTOR_PLUGIN_DIR="$target_dir/guest/wasm32-wasip2/release"
# The same plugins in Python and JavaScript, built beside them (only what changed) with
# componentize-py from PyPI and componentize-js from npm (locked in sdk/js).
if ! python3 -c "import pytest" 2>/dev/null ||
    ! python3 -m pip show componentize-py 2>/dev/null | grep -qx "Version: 0.25.1"; then
    python3 -m pip install --quiet --disable-pip-version-check componentize-py==0.25.1 pytest
fi
if [ ! -d sdk/js/node_modules/@bytecodealliance/componentize-js ] ||
    [ ! -d sdk/js/node_modules/@bytecodealliance/preview2-shim ]; then
    (cd sdk/js && npm ci --silent --no-audit --no-fund)
fi
plugins/build-components.sh "$WINFACTOR_PLUGIN_DIR"
# Plugin authors test natively: the SDK's and the first-party plugins' own unit tests.
cargo test --quiet --manifest-path sdk/Cargo.toml --target-dir "$target_dir/guest"
cargo test --quiet --manifest-path plugins/Cargo.toml --target-dir "$target_dir/guest" \
    -p margin -p glass-area -p imperial
(cd sdk/python && python3 -m pytest -q -p no:cacheprovider)
(cd plugins/python && PYTHONPATH=../../sdk/python python3 -m pytest -q -p no:cacheprovider)
node --test sdk/js/test/ plugins/js/

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
