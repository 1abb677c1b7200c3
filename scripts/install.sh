#!/usr/bin/env bash
# Installs a released gantry: downloads the archive for this machine and
# SHA256SUMS, checks the archive against it, and installs
#   PREFIX/bin/gantry
#   PREFIX/share/gantry/scaler/gantry-scaler-VERSION-{arm64,x86_64}.zip
# (gantry finds its bundled scaler there).
#
#   scripts/install.sh --version 0.1.0 [--prefix DIR] [--repo OWNER/NAME] [--from DIR_OR_URL]
#
#   --prefix  where to install (default: ~/.local)
#   --repo    GitHub repository publishing the releases (default: $GANTRY_REPO)
#   --from    a folder or base URL holding the release files instead of the
#             GitHub release (mirrors, air-gapped installs, tests)
set -euo pipefail

VERSION=""
PREFIX="${HOME}/.local"
REPO="${GANTRY_REPO:-}"
FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION="${2#v}"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --repo) REPO="$2"; shift 2 ;;
    --from) FROM="$2"; shift 2 ;;
    *) echo "usage: $0 --version X.Y.Z [--prefix DIR] [--repo OWNER/NAME] [--from DIR_OR_URL]" >&2; exit 2 ;;
  esac
done
[ -n "$VERSION" ] || { echo "error: --version is required (e.g. --version 0.1.0)" >&2; exit 2; }
if [ -z "$FROM" ]; then
  [ -n "$REPO" ] || { echo "error: --repo OWNER/NAME (or GANTRY_REPO) names where the releases are published" >&2; exit 2; }
  FROM="https://github.com/$REPO/releases/download/v$VERSION"
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) TARGET=x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) TARGET=aarch64-unknown-linux-gnu ;;
  Darwin-x86_64) TARGET=x86_64-apple-darwin ;;
  Darwin-arm64) TARGET=aarch64-apple-darwin ;;
  *) echo "error: no gantry release for $(uname -s) $(uname -m); build from source: cargo install --locked --path ." >&2; exit 1 ;;
esac
ARCHIVE="gantry-$VERSION-$TARGET.tar.gz"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fetch() {
  case "$FROM" in
    http://* | https://*) curl --fail --silent --show-error --location --output "$WORK/$1" "$FROM/$1" ;;
    *) cp "$FROM/$1" "$WORK/$1" ;;
  esac
}
fetch SHA256SUMS
fetch "$ARCHIVE"
want=$(awk -v f="$ARCHIVE" '$2 == f { print $1 }' "$WORK/SHA256SUMS")
[ -n "$want" ] || { echo "error: $ARCHIVE is not listed in SHA256SUMS" >&2; exit 1; }
if command -v sha256sum >/dev/null; then got=$(sha256sum "$WORK/$ARCHIVE" | cut -d' ' -f1); else got=$(shasum -a 256 "$WORK/$ARCHIVE" | cut -d' ' -f1); fi
[ "$want" = "$got" ] || { echo "error: $ARCHIVE does not match SHA256SUMS (got $got, want $want); nothing was installed" >&2; exit 1; }

tar -xzf "$WORK/$ARCHIVE" -C "$WORK"
SRC="$WORK/gantry-$VERSION-$TARGET"
mkdir -p "$PREFIX/bin" "$PREFIX/share/gantry/scaler"
cp "$SRC"/scaler/*.zip "$PREFIX/share/gantry/scaler/"
# The binary last, and by rename: a running gantry is never half-replaced.
cp "$SRC/gantry" "$PREFIX/bin/.gantry.new"
chmod 755 "$PREFIX/bin/.gantry.new"
mv -f "$PREFIX/bin/.gantry.new" "$PREFIX/bin/gantry"
echo "installed gantry $VERSION ($TARGET) in $PREFIX/bin/gantry, its scaler in $PREFIX/share/gantry/scaler" >&2
"$PREFIX/bin/gantry" --version
