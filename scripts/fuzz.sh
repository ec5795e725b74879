#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60) and prints, per target, the
# inputs executed, the corpus size and the crashes found. Needs the nightly toolchain;
# installs cargo-fuzz when missing. The corpus grows in fuzz/corpus/<target> (seeded from
# fuzz/seeds/<target>), crashes land in fuzz/artifacts/<target>; both are ignored by git.
# Add a crash's input to fuzz/seeds/<target> once fixed: tests/tests/fuzz_seeds.rs replays it.
# Exits 1 if any target crashed.
#
#   bash scripts/fuzz.sh 60                 # every target
#   TARGETS="ticket cookie" bash scripts/fuzz.sh 30
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz.sh: the nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 2
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    (cd / && cargo install cargo-fuzz --locked --quiet)
fi

# Safe Rust: no sanitizer (faster runs), but overflow checks and debug assertions on, so a
# wrapping length is a crash.
flags=(--sanitizer none --debug-assertions)
all="$(cargo +nightly fuzz list)"
targets="${TARGETS:-$all}"
cargo +nightly fuzz build "${flags[@]}" >/dev/null

status=0
printf '%-15s %12s %8s %8s\n' target executions corpus crashes
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="$(mktemp)"
    before="$(find "artifacts/$t" -type f | wc -l)"
    set +e
    cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    set -e
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    corpus="$(find "corpus/$t" -type f | wc -l)"
    crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
    printf '%-15s %12s %8s %8s\n' "$t" "${execs:-?}" "$corpus" "$crashes"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        status=1
        echo "  $t failed (exit $rc); the end of its log:" >&2
        tail -n 30 "$log" | sed 's/^/    /' >&2
    fi
    rm -f "$log"
done
exit "$status"
