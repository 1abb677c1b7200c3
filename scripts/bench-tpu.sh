#!/usr/bin/env bash
# Benchmark: TPU nodes on the fake GCP API.
#   1. apply of N1 nodes (default 20) with 2 s per long-running operation
#      (each node: a data-disk operation, then a node operation);
#   2. no-op plan of N2 nodes (default 100): API calls (lists per zone, not a GET per node).
set -euo pipefail
cd "$(dirname "$0")/.."
N1="${1:-20}"
N2="${2:-100}"
cargo build --quiet --release --bin gantry -p gantry
cargo build --quiet --release --bin fake-gcp -p gantry-emulators
DIR=$(mktemp -d)
run_fake() {
  target/release/fake-gcp --port 0 --latency-ms "$1" > "$DIR/fake.url" &
  FAKE_PID=$!
  for _ in $(seq 1 50); do [ -s "$DIR/fake.url" ] && break; sleep 0.1; done
  GANTRY_GCP_ENDPOINT=$(cat "$DIR/fake.url")
  export GANTRY_GCP_ENDPOINT
}
trap 'kill ${FAKE_PID:-0} 2>/dev/null || true; rm -rf "$DIR"' EXIT
stack() {
  printf 'stack "bench-tpu" {\n  gcp { project = "bench" }\n}\n'
  # shellcheck disable=SC2016 # ${count.index} is HCL, not shell
  printf 'tpu_node "v6e" {\n  count = %s\n  name = "tpu-v6e-${count.index}"\n  zone = "us-east5-b"\n  accelerator_type = "v6e-1"\n  runtime_version = "v2-alpha-tpuv6e"\n  data_disk {\n    size_gb = 512\n  }\n  agent {\n    queue = "tpu_v6e_queue"\n    token_secret = "bk-agent-token"\n  }\n}\n' "$1"
}
run_fake 2000
stack "$N1" > "$DIR/main.gantry.hcl"
s=$(date +%s.%N); target/release/gantry apply "$DIR" --auto-approve --parallelism 20 >/dev/null; e=$(date +%s.%N)
apply_s=$(python3 -c "print(round($e-$s,2))")
kill $FAKE_PID; wait $FAKE_PID 2>/dev/null || true
run_fake 0
stack "$N2" > "$DIR/main.gantry.hcl"
target/release/gantry apply "$DIR" --auto-approve --parallelism 32 >/dev/null
s=$(date +%s.%N); target/release/gantry plan "$DIR" --detailed-exitcode --stats >/dev/null 2>"$DIR/plan.err"; e=$(date +%s.%N)
cat "$DIR/plan.err"
echo "apply_nodes=$N1 op_latency_s=2 apply_s=$apply_s sequential_floor_s=$((N1 * 4)) noop_plan_nodes=$N2 noop_plan_s=$(python3 -c "print(round($e-$s,2))")"
