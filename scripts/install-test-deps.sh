#!/usr/bin/env bash
# Installs what wsgate's tests and benchmarks need: Debian packages (real peers), npm packages
# (Socket.IO server and client, JWT minting) and PyPI packages (manifest validation).
# Idempotent and quiet: a second run installs nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

need_apt=()
# linux-perf: syscall counts and profiles in scripts/bench.sh. prometheus: promtool (metric
# conventions, alert rule tests) and the server the dashboard test scrapes with.
for pkg in nginx haproxy redis-server chromium chromium-driver openssl curl libnss3-tools python3-venv linux-perf prometheus; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Tests start their own Prometheus on loopback; the packaged service would listen on
  # 0.0.0.0:9090 (the admin port) where systemd started it.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# Node packages for the Socket.IO and ticket tests, pinned by tests/node/package-lock.json.
if [ ! -d "$ROOT/tests/node/node_modules/socket.io" ] || [ "$ROOT/tests/node/package.json" -nt "$ROOT/tests/node/node_modules/.installed" ]; then
  echo "installing npm packages for tests/node"
  (cd "$ROOT/tests/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.installed)
fi

# Chart tooling (helm, schema validation) has its own pinned, hash-checked installer.
if [ -x "$ROOT/scripts/install-chart-tools.sh" ]; then
  "$ROOT/scripts/install-chart-tools.sh"
fi
