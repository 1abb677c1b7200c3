#!/usr/bin/env bash
# Installs what the tests need besides cargo, idempotently:
# - the AWS emulator (moto server, pinned) and cfn-lint (pinned) into the
#   project-local virtualenv .venv;
# - shellcheck (Debian package) when missing and we may install packages.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.51.0"
if ! { [ -x .venv/bin/moto_server ] && .venv/bin/python -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; }; then
  echo "==> installing moto[server]==$MOTO_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
if ! .venv/bin/cfn-lint --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  echo "==> installing cfn-lint==$CFN_LINT_VERSION into .venv" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi
if ! command -v shellcheck >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing shellcheck (Debian package)" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
  else
    echo "shellcheck is missing: install it (apt-get install shellcheck); the generated-script tests need it" >&2
  fi
fi
