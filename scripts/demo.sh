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

source scripts/moto-lib.sh
start_moto


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
