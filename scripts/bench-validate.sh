#!/usr/bin/env bash
# Benchmark: parse + validate a generated 1,000-resource stack (release build).
# Prints wall time and peak RSS from /usr/bin/time. Targets: < 50 ms, < 50 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
cargo build --quiet --release --bin gantry
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
python3 scripts/gen-stack.py "$DIR" "$N"
target/release/gantry validate "$DIR" >/dev/null
for i in 1 2 3 4 5; do
  /usr/bin/time -f "run $i: %e s wall, %M KB max RSS" target/release/gantry validate "$DIR" >/dev/null
done
