#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian, npm and PyPI packages, chart
# tools), then runs every test: unit, end-to-end against the real binary and real peers,
# the README's demo, the chart and manifest checks, and the release build the image uses.
#
# Every end-to-end test has its own hard time limit; the test run as a whole is bounded too
# (WSGATE_TEST_TIMEOUT, default 30 minutes), so a hang fails the run instead of stalling it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
bash scripts/install-test-deps.sh
# The busiest tests hold ~700 sockets per process: lift a low soft limit (1024 on many
# systems) to the hard one, capped.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ] && ulimit -Sn "$hard"
cargo build --workspace --bins --locked
# The controller tests record the API requests the real binary makes; the chart's RBAC is
# checked against exactly those (tests/chart/test_rbac.py), so start from none.
rm -rf "$TARGET/rbac-observed"
# `timeout` signals its whole process group: cargo, the test binaries and what they started.
timeout --kill-after=30s "${WSGATE_TEST_TIMEOUT:-30m}" cargo test --workspace --locked \
  || { status=$?; [ "$status" -ne 124 ] || echo "the tests did not finish within ${WSGATE_TEST_TIMEOUT:-30m}" >&2; exit "$status"; }
timeout --kill-after=10s 5m bash examples/demo.sh --once
WSGATE_BIN="$TARGET/debug/wsgate" bash scripts/check-chart.sh
# The container image's build step, without Docker: the same release build, then --version.
cargo build --release -p wsgate --locked
"$TARGET/release/wsgate" --version
echo "all checks passed"
