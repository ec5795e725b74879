#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian, npm and PyPI packages, chart
# tools), then runs every test: unit, end-to-end against the real binary and real peers,
# the README's demo, the chart and manifest checks, and the release build the image uses.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
bash scripts/install-test-deps.sh
cargo build --workspace --bins --locked
# The controller tests record the API requests the real binary makes; the chart's RBAC is
# checked against exactly those (tests/chart/test_rbac.py), so start from none.
rm -rf "$TARGET/rbac-observed"
cargo test --workspace --locked
bash examples/demo.sh --once
WSGATE_BIN="$TARGET/debug/wsgate" bash scripts/check-chart.sh
# The container image's build step, without Docker: the same release build, then --version.
cargo build --release -p wsgate --locked
"$TARGET/release/wsgate" --version
echo "all checks passed"
