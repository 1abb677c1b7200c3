#!/usr/bin/env bash
# Fault-injection bench: apply, re-plan and destroy of a stack with every
# AWS kind (ECR repository, OIDC provider, CI role, agent queue with its
# scaler; S3 lock) on moto behind the proxy's seeded fault schedule (5xx,
# throttling, connection resets, delays, lost responses). Each seed must
# converge within 2 applies to an empty re-plan with nothing orphaned or
# duplicated, and destroy (also under faults) must leave nothing.
#   scripts/bench-faults.sh [SEEDS] [PER_MILLE] [FIRST_SEED]
#   (default: 30 seeds at 300‰ starting at seed 1000; CI runs 3 at 150‰)
# Prints one line per seed (how many applies/destroys it took, the faults
# injected, why a first run failed) and "fault runs converged: N/M".
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-30}"
PER_MILLE="${2:-300}"
FIRST="${3:-1000}"
./scripts/setup-emulators.sh
export GANTRY_FAULT_SEEDS="$SEEDS" GANTRY_FAULT_PER_MILLE="$PER_MILLE" GANTRY_FAULT_FIRST_SEED="$FIRST"
start=$(date +%s)
status=0
cargo test --quiet --test it faults_moto:: -- --nocapture 2>&1 | grep -E '^(seed|  first|FAILED|fault runs)' || status=$?
echo "elapsed: $(( $(date +%s) - start )) s"
exit "$status"
