#!/usr/bin/env bash
# The demo: stands up every stack in stacks/ (the quick demo and the five seed
# systems) on local emulators that this script starts and stops: moto behind
# the in-repo AWS proxy (what moto lacks, e.g. ECR Public), the in-repo fake
# of the TPU/Compute APIs for Google Cloud, and the fake GitHub API.
# For each stack: validate, plan (shown, saved), apply the saved plan
# (progress), re-plan (must be empty); then a summary of what exists.
# The queues deploy the real scaler bundled with gantry: the first run
# builds it once from this checkout with the pinned cargo-lambda (about 6
# minutes on 2 cores) into the per-user cache; later runs find it there.
# Needs: cargo, python3. Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
# On a machine that has never built the bundled scaler, its release
# cross-build (cargo-lambda; its own target directory and cargo lock) runs
# beside gantry's: on 2 cores the two overlap their single-threaded
# stretches. A machine with a scaler in its cache skips this; `gantry
# scaler` below builds one only if the sources changed.
CACHE="${GANTRY_CACHE_DIR:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/gantry}}"
CACHE="${CACHE:-$HOME/.cache/gantry}"
SCALER_EARLY=false
if [ -z "${GANTRY_SCALER_DIR:-}" ] && ! compgen -G "$CACHE/scaler/*/gantry-scaler-*-arm64.zip" >/dev/null; then SCALER_EARLY=true; fi
if $SCALER_EARLY; then
  echo "==> the emulators' Python packages, then the bundled scaler's first build (in the background: $WORK/background.log)" >&2
  # Its own process group (set -m), so an early exit stops the whole build.
  set -m
  ( ./scripts/setup-emulators.sh && ./scripts/build-scaler.sh arm64 >/dev/null ) > "$WORK/background.log" 2>&1 &
  BACKGROUND=$!
  set +m
  trap 'kill -- "-$BACKGROUND" 2>/dev/null || true; rm -rf "$WORK"' EXIT
else
  ./scripts/setup-emulators.sh
fi
echo "==> building gantry and the emulators (AWS proxy, fake GCP and GitHub APIs)" >&2
cargo build --quiet --bin gantry -p gantry
cargo build --quiet --bin fake-gcp --bin fake-github --bin aws-proxy -p gantry-emulators
if $SCALER_EARLY; then
  echo "==> waiting for the emulators' packages and the scaler build" >&2
  wait "$BACKGROUND" || { cat "$WORK/background.log" >&2; echo "error: the emulators' set-up or the scaler build failed (above)" >&2; exit 1; }
  trap 'rm -rf "$WORK"' EXIT
fi
GANTRY="$PWD/target/debug/gantry"
echo "==> the bundled scaler (built once per gantry build)" >&2
"$GANTRY" scaler --arch arm64

on_exit() { kill "${GCP_PID:-0}" "${GH_PID:-0}" 2>/dev/null || true; rm -rf "$WORK"; }
# shellcheck source=scripts/moto-lib.sh
source scripts/moto-lib.sh
start_moto
start_aws_proxy
target/debug/fake-gcp --port 0 > "$WORK/gcp.url" &
GCP_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/gcp.url" ] && break; sleep 0.1; done
GANTRY_GCP_ENDPOINT=$(cat "$WORK/gcp.url")
export GANTRY_GCP_ENDPOINT
# stacks/mlops-images pins its account: the emulator's.
export GANTRY_VAR_aws_account_id=123456789012

step() { if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }

# The fake GitHub: the App the GPU runner's wake job uses (its key is the
# test suite's stand-in; the fake checks its JWTs), and Ersilia's model
# repositories, which stacks/ersilia-ci's data "github_repositories" lists.
KEY=lambda/tests/fixtures/github-app-test-key
target/debug/fake-github --port 0 --app-id 1 --public-key "$KEY.pub.pem" \
  --repo ersilia-os/ersilia --repo ersilia-os/eos3b5e --repo ersilia-os/eos4e40 --repo ersilia-os/eos7d58 > "$WORK/gh.url" &
GH_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/gh.url" ] && break; sleep 0.1; done
GH=$(cat "$WORK/gh.url")
export GANTRY_GITHUB_API="$GH"

# Each seed system is its own organisation with its own AWS account: the
# emulator is reset between stacks (each stack's state is captured first).
# The agent tokens, build secrets and GitHub App credentials are created
# outside gantry; the demo puts stand-ins.
for dir in stacks/*/; do
  name=$(basename "$dir")
  python3 -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('$AWS_ENDPOINT_URL/moto-api/reset', method='POST'))"
  .venv/bin/python - <<PY
import boto3
for region, param in [("us-west-2", "/bk_agent_token_cluster_ci"), ("us-east-1", "/bk_agent_token_cluster_ci"), ] + [("us-east-1", f"/openllm/ci/github-app/{k}") for k in ("app_id", "installation_id", "private_key", "webhook_secret")] + [("us-west-2", "/vllm-ci/hf-token")]:
    boto3.client("ssm", endpoint_url="$AWS_ENDPOINT_URL", region_name=region).put_parameter(Name=param, Value="demo-token", Type="SecureString", Overwrite=True)
PY
  # The account's GitHub OIDC provider belongs to stacks/github-oidc; a
  # seed that looks it up finds it there, as in a real account.
  if [ "$name" != github-oidc ] && grep -qs 'data "github_oidc_provider"' "$dir"*.gantry.hcl; then
    step "[$name] the account's OIDC provider first: gantry apply stacks/github-oidc"
    "$GANTRY" apply stacks/github-oidc --auto-approve >/dev/null
  fi
  step "[$name] gantry validate"
  "$GANTRY" validate "$dir"
  step "[$name] gantry plan -out $name.plan"
  "$GANTRY" plan "$dir" -out "$WORK/$name.plan"
  step "[$name] gantry apply $name.plan --allow-broadening"
  "$GANTRY" apply "$WORK/$name.plan" --allow-broadening --parallelism 16 --stats
  step "[$name] gantry plan (after apply: nothing to do)"
  "$GANTRY" plan "$dir" --detailed-exitcode --stats
  "$GANTRY" plan "$dir" --json > "$WORK/$name.json"
done

# Seed 004's cost model on the fakes: the GPU runner machine stopped itself
# after idle_stop; a GPU job is queued; the workflow's wake job starts it.
NODE=projects/gpu-ci-template/zones/us-central1-a/instances/gpu-ci-runner
post() { python3 -c "import json, sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type': 'application/json'}, method='POST'))" "$1" "$2"; }
status() { python3 -c "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))['status'])" "$GANTRY_GCP_ENDPOINT/compute/v1/$NODE"; }
step "[gpu-ci-template] no job for 20m: the runner machine stopped itself"
post "$GANTRY_GCP_ENDPOINT/_fake/guest-shutdown" "{\"instance\": \"$NODE\"}"
echo "gpu-ci-runner: $(status)"
step "[gpu-ci-template] a GPU job is queued; the workflow's wake job runs gantry runner wake"
post "$GH/_fake/jobs" '{"repo": "carducaldeira/GPU-CICD-Pipeline-Template", "labels": ["self-hosted", "gpu-l4"]}'
GANTRY_GITHUB_API="$GH" GANTRY_GITHUB_APP_ID=1 GANTRY_GITHUB_INSTALLATION_ID=1 GANTRY_GITHUB_APP_KEY="$(cat "$KEY.pem")" \
  "$GANTRY" runner wake gpu-ci-runner --project gpu-ci-template --zone us-central1-a
echo "gpu-ci-runner: $(status)"

step "what exists now"
python3 - "$WORK" <<'PY'
import collections, glob, json, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    plan = json.load(open(path))
    kinds = collections.Counter(a.split(".")[0] for a in plan["unchanged"])
    rows.append((plan["stack"], ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())), len(plan["changes"])))
w = max(len(r[0]) for r in rows)
print(f"{'stack':<{w}}  pending  resources")
for stack, kinds, pending in rows:
    print(f"{stack:<{w}}  {pending:>7}  {kinds}")
PY
