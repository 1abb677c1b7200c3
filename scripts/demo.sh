#!/usr/bin/env bash
# The demo: starts a local AWS emulator (moto), then validates, plans and
# applies stacks/demo against it, and shows that a re-plan is empty.
# Everything it starts is stopped on exit. Needs: cargo, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-emulators.sh
echo "==> building gantry" >&2
cargo build --quiet --bin gantry
GANTRY=target/debug/gantry

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" >/tmp/gantry-demo-moto.log 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true; wait $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.1
done

# Test credentials for the emulator only; nothing leaves 127.0.0.1.
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true

step() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }
step "gantry validate stacks/demo"
$GANTRY validate stacks/demo
step "gantry plan stacks/demo -out demo.plan"
$GANTRY plan stacks/demo -out /tmp/gantry-demo.plan --stats
step "gantry apply /tmp/gantry-demo.plan"
$GANTRY apply /tmp/gantry-demo.plan --stats
step "gantry plan stacks/demo (after apply: nothing to do)"
$GANTRY plan stacks/demo --detailed-exitcode --stats
step "what exists now"
$GANTRY plan stacks/demo --json | python3 -c 'import json,sys; p=json.load(sys.stdin); print("\n".join("  " + a for a in p["unchanged"]))'
rm -f /tmp/gantry-demo.plan
