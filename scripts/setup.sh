#!/usr/bin/env bash
# Set up everything the builder and its tests need, only where it is missing (idempotent, quiet):
#   * a virtual environment in .venv with the project and its test extras;
#   * the machine's tools (scripts/setup-tools.sh: espeak-ng, ffmpeg, chromium, Java, npm packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed"
LOG="$(mktemp -t setup.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

fail() { echo "setup: $*" >&2; tail -n 40 "$LOG" >&2; exit 1; }

bash "$ROOT/scripts/setup-tools.sh"  # Debian packages and the npm tools

[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" >>"$LOG" 2>&1 || fail "cannot create $VENV"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >>"$LOG" 2>&1 || fail "pip upgrade failed"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]" >>"$LOG" 2>&1 || fail "pip install failed"
    echo "$want" >"$STAMP"
fi

