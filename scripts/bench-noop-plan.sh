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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true
python3 scripts/gen-stack.py "$DIR" "$N"
$G apply "$DIR" --auto-approve --parallelism 16 --stats >/dev/null
echo "no-op plan of $N repositories:"
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall" $G plan "$DIR" --detailed-exitcode --stats >/dev/null
done
