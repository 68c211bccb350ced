#!/usr/bin/env bash
# Set up everything the builder and its tests need, only where it is missing (idempotent; one line per
# step it runs, saying what, why and how long; nothing when nothing is missing):
#   * a virtual environment in .venv with the project and its test extras;
#   * the machine's tools (scripts/setup-tools.sh: espeak-ng, ffmpeg, chromium, Java, npm packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed"
LOG="$(mktemp -t setup.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

fail() { echo "setup: $*" >&2; tail -n 40 "$LOG" >&2; exit 1; }
source "$ROOT/scripts/step.sh"

bash "$ROOT/scripts/setup-tools.sh"  # Debian packages and the npm tools

if [[ ! -x "$VENV/bin/python" ]]; then
    step "creating .venv" "the builder's own Python environment" python3 -m venv "$VENV" || fail "cannot create $VENV"
fi
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
    step "upgrading pip in .venv" "so the project's wheels install" \
        "$VENV/bin/python" -m pip install -q --upgrade pip || fail "pip upgrade failed"
    # piper: the optional speech engine, so that its end-to-end tests run here and in CI
    step "installing the builder, its test packages and Piper into .venv" "pyproject.toml changed or was never installed" \
        "$VENV/bin/python" -m pip install -q -e "$ROOT[test,piper]" || fail "pip install failed"
    echo "$want" >"$STAMP"
fi

