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
# subprocesses), not on the CPU: on 2 cores, four at a time ran the
# integration tests in 86 s, six in 66 s, eight in 67 s.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-6}"
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
if [ $# -gt 0 ]; then
  phase "test run" cargo test --workspace --locked "$@"
  exit
fi
# The scaler's tests spend their time waiting (its end-to-end tests run the
# real bootstrap through poll intervals): their executables run beside the
# rest of the suite instead of after it (a second cargo would wait on the
# first's lock), from the scaler's directory as cargo runs them.
scaler_tests() {
  # From the workspace's build (as built above): `-p gantry-scaler` alone
  # would unify features differently and build it all again.
  cargo test --workspace --locked --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"] \
            and m["manifest_path"].endswith("/lambda/Cargo.toml"):
        print(m["executable"])'
}
run_scaler_tests() {
  local exe failed=0
  for exe in "$@"; do
    (cd lambda && "$exe") || failed=1
  done
  return $failed
}
run_all() {
  local scaler_log scaler_pid failed=0 bins
  # Listed before the rest starts: cargo's lock is free now.
  mapfile -t bins < <(scaler_tests)
  if [ ${#bins[@]} -eq 0 ]; then
    echo "error: no test executables found for gantry-scaler" >&2
    return 1
  fi
  scaler_log=$(mktemp)
  run_scaler_tests "${bins[@]}" >"$scaler_log" 2>&1 &
  scaler_pid=$!
  cargo test --workspace --exclude gantry-scaler --locked --lib --bins --tests || failed=1
  wait "$scaler_pid" || failed=1
  echo "==> the scaler's tests (run beside the rest):" >&2
  cat "$scaler_log"
  rm -f "$scaler_log"
  # Every crate's doc tests, the scaler's included (the same selection as
  # the build, so nothing is built again).
  cargo test --workspace --locked --doc || failed=1
  return $failed
}
phase "test run" run_all
