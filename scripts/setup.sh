#!/usr/bin/env bash
# Set up everything the builder and its tests need, only where it is missing (idempotent, quiet):
#   * Debian packages: espeak-ng (the speech engine behind pyttsx3), ffmpeg (ffprobe, for audio checks);
#   * a virtual environment in .venv with the project and its test extras;
#   * the validators' and reader tests' tools (scripts/setup-tools.sh: chromium, npm packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed"
LOG="$(mktemp -t setup.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

fail() { echo "setup: $*" >&2; tail -n 40 "$LOG" >&2; exit 1; }
as_root() { if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

packages=()
command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)
command -v ffprobe >/dev/null 2>&1 || packages+=(ffmpeg)
if ((${#packages[@]})); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 || fail "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" \
        >>"$LOG" 2>&1 || fail "apt-get install ${packages[*]} failed"
fi

[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" >>"$LOG" 2>&1 || fail "cannot create $VENV"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [[ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >>"$LOG" 2>&1 || fail "pip upgrade failed"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]" >>"$LOG" 2>&1 || fail "pip install failed"
    echo "$want" >"$STAMP"
fi

bash "$ROOT/scripts/setup-tools.sh"
