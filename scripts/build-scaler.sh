#!/usr/bin/env bash
# Builds the scaler Lambda zip with cargo-lambda (installed from PyPI into
# .venv; it bundles zig for cross-linking).
#   scripts/build-scaler.sh [arm64|x86_64] [--debug]     (default arm64, release)
# Prints the path of the zip (an executable `bootstrap` inside), which
# agent_queue deploys.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH="${1:-arm64}"
PROFILE=--release
LAMBDA_DIR=target/lambda
# Faster build for tests, kept apart so it never replaces a release zip.
if [ "${2:-}" = "--debug" ]; then PROFILE=""; LAMBDA_DIR=target/lambda-debug; fi
CARGO_LAMBDA_VERSION="1.9.2"
if ! .venv/bin/cargo-lambda lambda --version 2>/dev/null | grep -qF "cargo-lambda $CARGO_LAMBDA_VERSION "; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "==> installing cargo-lambda==$CARGO_LAMBDA_VERSION into .venv" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
case "$ARCH" in
  arm64) TARGET=aarch64-unknown-linux-gnu; FLAG=--arm64 ;;
  x86_64) TARGET=x86_64-unknown-linux-gnu; FLAG=--x86-64 ;;
  *) echo "usage: $0 [arm64|x86_64]" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET" >&2 || { echo "error: the Rust target $TARGET is not installed and could not be added; try: $0 x86_64" >&2; exit 1; }
fi
# Its own target directory: the release cross-build shares nothing with the
# host's debug builds (another target and profile), and its own cargo lock
# lets it run beside them (the demo builds it while gantry compiles).
export CARGO_TARGET_DIR="$PWD/target/scaler"
PATH="$PWD/.venv/bin:$PATH" cargo lambda build $PROFILE "$FLAG" --output-format zip --lambda-dir "$LAMBDA_DIR" -p gantry-scaler --bin bootstrap >&2
ZIP="$LAMBDA_DIR/bootstrap/bootstrap.zip"
[ -f "$ZIP" ] || { echo "error: $ZIP was not produced" >&2; exit 1; }
echo "$ZIP"
