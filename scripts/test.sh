#!/usr/bin/env bash
# The whole test suite: installs the AWS emulator into .venv if needed, then
# runs every test (unit, engine, moto integration, CLI snapshots).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-emulators.sh
cargo test --workspace --locked "$@"
