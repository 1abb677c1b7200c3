#!/usr/bin/env bash
# The whole test suite: installs the AWS emulator into .venv if needed while
# it builds every test, then runs them all (unit, engine, moto integration, CLI
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
# The emulators install (mostly downloads) while the tests compile: the
# build does not need them, only the run does.
setup_log=$(mktemp)
phase "emulators" ./scripts/setup-emulators.sh >"$setup_log" 2>&1 &
setup_pid=$!
trap 'kill "$setup_pid" 2>/dev/null || true; rm -f "$setup_log"' EXIT
phase "test build" cargo test --workspace --locked --no-run "$@"
if ! wait "$setup_pid"; then
  cat "$setup_log" >&2
  echo "error: installing the emulators failed (scripts/setup-emulators.sh)" >&2
  exit 1
fi
cat "$setup_log" >&2
phase "test run" cargo test --workspace --locked "$@"
