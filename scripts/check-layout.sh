#!/usr/bin/env bash
# Layout rules of the workspace: no module import cycle in any crate, no source file over
# 400 lines (except the reasoned entries of scripts/layout-allow.txt). Fails on any breach.
# Also lists functions over 60 lines as notes. See scripts/check_layout.py for the rules.
set -euo pipefail
exec python3 "$(dirname "$0")/check_layout.py" "$(cd "$(dirname "$0")/.." && pwd)"
