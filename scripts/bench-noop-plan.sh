#!/usr/bin/env bash
# Benchmark: no-op plan of N ECR repositories on moto, side by side with a
# 10-thread boto3 script doing the same reads (../shared/bench/ecr-read-loop.sh's
# pool10 case: describe, tags and lifecycle policy per repository), in the
# same run on the same emulator, so the ratio is what counts.
#   scripts/bench-noop-plan.sh [N...]      (default: 300 3000)
#   GANTRY_BIN=path/to/gantry scripts/bench-noop-plan.sh   (a built gantry, e.g. a release archive's)
# gantry is timed as a whole process (start, load and evaluation of the
# N-block stack, listing, reads, plan); boto3 in-process, its listing,
# interpreter start, import and client creation excluded, which favours
# boto3. The two take turns, three runs each, so a drifting emulator
# favours neither; medians are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(300 3000)
./scripts/setup-emulators.sh
G="${GANTRY_BIN:-target/release/gantry}"
[ -n "${GANTRY_BIN:-}" ] || cargo build --quiet --release --bin gantry
DIR=$(mktemp -d)
on_exit() { rm -rf "$DIR"; }
# shellcheck source=scripts/moto-lib.sh
source scripts/moto-lib.sh
start_moto

cat > "$DIR/boto3_read.py" <<'EOF'
import os, sys, time, boto3
from botocore.config import Config
from concurrent.futures import ThreadPoolExecutor
ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=Config(max_pool_connections=10))
repos = [(r["repositoryName"], r["repositoryArn"]) for p in ecr.get_paginator("describe_repositories").paginate() for r in p["repositories"]]
assert len(repos) == int(sys.argv[1]), len(repos)
def read(r):
    name, arn = r
    return (ecr.describe_repositories(repositoryNames=[name])["repositories"][0],
            ecr.list_tags_for_resource(resourceArn=arn)["tags"],
            ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
read(repos[0])
t0 = time.perf_counter()
with ThreadPoolExecutor(10) as ex:
    list(ex.map(read, repos))
print(f"{time.perf_counter() - t0:.2f}")
EOF

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for N in "${SIZES[@]}"; do
  python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$AWS_ENDPOINT_URL/moto-api/reset', method='POST'))"
  rm -rf "${DIR:?}/$N" && python3 scripts/gen-stack.py "$DIR/$N" "$N"
  $G apply "$DIR/$N" --auto-approve --parallelism 16 >/dev/null
  gantry_runs=()
  boto3_runs=()
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    $G plan "$DIR/$N" --detailed-exitcode --stats 2>"$DIR/stats" >/dev/null
    gantry_runs+=("$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
    boto3_runs+=("$(.venv/bin/python "$DIR/boto3_read.py" "$N")")
  done
  calls=$(sed -n 's/^API calls: \([0-9]*\) total.*/\1/p' "$DIR/stats")
  g=$(printf '%s\n' "${gantry_runs[@]}" | median)
  b=$(printf '%s\n' "${boto3_runs[@]}" | median)
  echo "n=$N gantry_plan_s=$g (runs ${gantry_runs[*]}, $calls calls) boto3_pool10_s=$b (runs ${boto3_runs[*]}, $((3 * N)) calls) ratio=$(awk -v a="$g" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
