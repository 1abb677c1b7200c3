#!/usr/bin/env bash
# Benchmark: apply of N agent queues (default 20) on moto, then a no-op plan
# (API calls per queue), then destroy. Compare with
# ../shared/bench/cfn-deploy-loop.sh (a sequential `aws cloudformation deploy` loop).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"
./scripts/setup-emulators.sh
cargo build --quiet --release --bin gantry
G=target/release/gantry
DIR=$(mktemp -d)
on_exit() { rm -rf "$DIR"; }
# shellcheck source=scripts/moto-lib.sh
source scripts/moto-lib.sh
start_moto
.venv/bin/python - <<PY
import boto3
boto3.client("ssm", endpoint_url="http://127.0.0.1:$MOTO_PORT", region_name="us-west-2").put_parameter(Name="/bk/token", Value="t", Type="SecureString")
PY
{
  printf 'stack "bench-queues" {\n  aws { region = "us-west-2" }\n}\n'
  for i in $(seq 1 "$N"); do
    printf 'agent_queue "queue_%02d" {\n  instance_types = ["c7i.2xlarge"]\n  max_size = 10\n  image_ssm_parameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"\n  agent_token_parameter = "/bk/token"\n  scaler {\n    zip = "%s"\n  }\n}\n' "$i" "$PWD/tests/fixtures/scaler-fixture.zip"
  done
} > "$DIR/main.gantry.hcl"
s=$(date +%s.%N); $G apply "$DIR" --auto-approve --parallelism 20 --stats >/dev/null; e=$(date +%s.%N)
apply_s=$(python3 -c "print(round($e-$s,2))")
s=$(date +%s.%N); $G plan "$DIR" --detailed-exitcode --stats >/dev/null 2>"$DIR/plan.err"; e=$(date +%s.%N)
plan_s=$(python3 -c "print(round($e-$s,2))")
calls=$(grep -o 'API calls: [0-9]*' "$DIR/plan.err" | grep -o '[0-9]*')
s=$(date +%s.%N); $G destroy "$DIR" --auto-approve --parallelism 20 >/dev/null; e=$(date +%s.%N)
destroy_s=$(python3 -c "print(round($e-$s,2))")
cat "$DIR/plan.err"
echo "n=$N apply_s=$apply_s noop_plan_s=$plan_s noop_plan_calls=$calls calls_per_queue=$(python3 -c "print(round($calls/$N,2))") destroy_s=$destroy_s"
