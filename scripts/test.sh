#!/usr/bin/env bash
# The whole test suite: installs the AWS emulator into .venv if needed, then
# builds and runs every test (unit, engine, moto integration, CLI
# snapshots), printing how long each phase took.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "==> $name: $((SECONDS - start)) s" >&2
}
# Most integration tests wait on emulators (moto, the fake clouds, gantry
# subprocesses), not on the CPU: four at a time on 2 cores ran the suite in
# 135 s instead of 220 s.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"
phase "emulators" ./scripts/setup-emulators.sh
phase "test build" cargo test --workspace --locked --no-run "$@"
phase "test run" cargo test --workspace --locked "$@"
