#!/usr/bin/env bash
# Benchmark: `gantry simulate` of a day-long trace of about 10,000 jobs on
# one of vLLM's GPU queues (terminate_after_job: one machine per job, so
# about 10,000 machines), the stack loaded as validate loads it.
# Target (issue 27): under a second in a release build.
# PROFILE=dev measures the debug build instead (no release build needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --bin gantry
  BIN=target/release/gantry
else
  cargo build --quiet --bin gantry
  BIN=target/debug/gantry
fi
ARGS=(simulate gpu_1_queue -d stacks/vllm-ci --profile "poisson:rate=417,duration=20m,hours=24,seed=5")
"$BIN" "${ARGS[@]}" | sed -n 1,4p
for i in 1 2 3 4 5; do
  /usr/bin/time -f "run $i: %e s wall, %M KB max RSS" "$BIN" "${ARGS[@]}" >/dev/null
done
