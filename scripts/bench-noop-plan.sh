#!/usr/bin/env bash
# Benchmark: no-op plan of N ECR repositories on moto (default 300).
# Applies a generated stack once, then times `gantry plan` with --stats.
# Compare with ../shared/bench/ecr-read-loop.sh (boto3 loops) and
# moto-rate.sh (the emulator's ceiling) on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-300}"
./scripts/setup-emulators.sh
cargo build --quiet --release --bin gantry
G=target/release/gantry
DIR=$(mktemp -d)
on_exit() { rm -rf "$DIR"; }
# shellcheck source=scripts/moto-lib.sh
source scripts/moto-lib.sh
start_moto
python3 scripts/gen-stack.py "$DIR" "$N"
$G apply "$DIR" --auto-approve --parallelism 16 --stats >/dev/null
echo "no-op plan of $N repositories:"
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall" $G plan "$DIR" --detailed-exitcode --stats >/dev/null
done
