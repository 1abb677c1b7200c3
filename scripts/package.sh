#!/usr/bin/env bash
# Packages a gantry release for one platform: the gantry binary with the
# bundled scaler beside it, as an archive, plus the loose scaler zips and
# SHA256SUMS for everything in the output folder. The release workflow
# (.github/workflows/release.yml) runs it once per platform; run here it
# packages the host platform.
#
#   scripts/package.sh [--target TRIPLE] [--out DIR] [--scaler-dir DIR] [--profile release|dev] [--binary PATH]
#
#   --target      Rust target triple to build gantry for (default: the host's)
#   --out         output folder (default: dist)
#   --scaler-dir  take gantry-scaler-VERSION-{arm64,x86_64}.zip from DIR instead of
#                 building them (the release workflow builds them once, on Linux)
#   --profile     cargo profile of the gantry binary (default: release; dev is for tests)
#   --binary      package this gantry binary instead of building one (the test
#                 suite passes the one it built: a second build of the crate
#                 under another profile and feature set took 5 minutes of CI)
#
# Archive layout (gantry finds the scaler in scaler/ next to itself):
#   gantry-VERSION-TARGET/{gantry, scaler/gantry-scaler-VERSION-ARCH.zip, LICENSE, README.md}
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=""
OUT=dist
SCALER_DIR=""
PROFILE=release
BINARY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --scaler-dir) SCALER_DIR="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --binary) BINARY="$2"; shift 2 ;;
    *) echo "usage: $0 [--target TRIPLE] [--out DIR] [--scaler-dir DIR] [--profile release|dev] [--binary PATH]" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in release | dev) ;; *) echo "error: --profile is release or dev" >&2; exit 2 ;; esac

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$VERSION" ] || { echo "error: no version in Cargo.toml" >&2; exit 1; }
HOST=$(rustc -vV | sed -n 's/^host: //p')
TARGET="${TARGET:-$HOST}"
PROFILE_DIR=$([ "$PROFILE" = dev ] && echo debug || echo release)
BUILD_DIR="target/$PROFILE_DIR"
TARGET_ARGS=()
if [ "$TARGET" != "$HOST" ]; then
  TARGET_ARGS=(--target "$TARGET")
  BUILD_DIR="target/$TARGET/$PROFILE_DIR"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ -n "$BINARY" ]; then
  [ -x "$BINARY" ] || { echo "error: --binary $BINARY is not an executable" >&2; exit 2; }
  echo "==> gantry $VERSION for $TARGET (given: $BINARY)" >&2
else
  echo "==> gantry $VERSION for $TARGET ($PROFILE)" >&2
  start=$(date +%s)
  cargo build --locked --profile "$PROFILE" "${TARGET_ARGS[@]}" --bin gantry -p gantry >&2
  echo "    built in $(($(date +%s) - start)) s" >&2
  BINARY="$BUILD_DIR/gantry"
fi

for arch in arm64 x86_64; do
  zip="gantry-scaler-$VERSION-$arch.zip"
  if [ -n "$SCALER_DIR" ]; then
    cp "$SCALER_DIR/$zip" "$OUT/$zip"
  elif [ ! -f "$OUT/$zip" ]; then
    echo "==> scaler $arch (cargo-lambda, release)" >&2
    start=$(date +%s)
    built=$(./scripts/build-scaler.sh "$arch")
    cp "$built" "$OUT/$zip"
    echo "    built in $(($(date +%s) - start)) s" >&2
  fi
done

NAME="gantry-$VERSION-$TARGET"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/$NAME/scaler"
cp "$BINARY" "$STAGE/$NAME/gantry"
cp "$OUT"/gantry-scaler-"$VERSION"-*.zip "$STAGE/$NAME/scaler/"
cp LICENSE README.md "$STAGE/$NAME/"
# Stable archives with GNU tar (gtar on macOS): sorted names, fixed owner
# and mtime (the commit's).
TAR=$(command -v gtar || command -v tar)
MTIME=$(git log -1 --format=%ct 2>/dev/null || echo 0)
if "$TAR" --version 2>/dev/null | grep -q GNU; then
  "$TAR" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$MTIME" -C "$STAGE" -czf "$OUT/$NAME.tar.gz" "$NAME"
else
  "$TAR" -C "$STAGE" -czf "$OUT/$NAME.tar.gz" "$NAME"
fi

sha256() { if command -v sha256sum >/dev/null; then sha256sum -- "$@"; else shasum -a 256 -- "$@"; fi; }
# shellcheck disable=SC2035 # sha256 passes -- itself
(cd "$OUT" && sha256 *.tar.gz *.zip > SHA256SUMS)
echo "==> $OUT" >&2
(cd "$OUT" && ls -l -- *.tar.gz *.zip SHA256SUMS) >&2
echo "$OUT/$NAME.tar.gz"
