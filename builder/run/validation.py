"""Validation that costs once: every book judged by EPUBCheck and DAISY Ace at most once per content.

Books are reproducible, so a verdict is cached under the book's SHA-256 and the validators'
identity (their versions and the files they run from, read without starting them): an unchanged
book is not validated again, a changed one always is. The books left to check are validated side
by side, EPUBCheck and Ace at the same time, each with one process for every book of this process
(one JVM through JPype, one Chromium through Ace's core) where the tools allow, else one run per
book as their command lines do.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from builder.run import validate
from builder.run.cache import mark_used

VALIDATORS = ("epubcheck", "ace")
VERDICT_FORMAT = 2  # part of the key: bump when what a verdict records changes (2: message locations)
ACE_BATCH = validate.TOOLS_DIR / "ace-batch.js"
ACE_PACKAGES = ("ace-cli", "ace-core", "ace-axe-runner-puppeteer", "axe-core-for-ace")

Verdict = dict[str, Any] | str  # a validator's result as the report records it; a string: why it did not run
Runner = Callable[[str, Path], Verdict]


# --------------------------------------------------------------------------- what the verdicts depend on


def file_identity(path: str | Path) -> list[Any]:
    real = os.path.realpath(path)
    status = os.stat(real)
    return [real, status.st_size, status.st_mtime_ns]


def package_version(package_json: Path) -> str:
    return str(json.loads(package_json.read_text(encoding="utf-8")).get("version", "?"))


def tool_identity(validator: str) -> str:
    """The validator's versions and the files it runs from, without starting it; raises
    ValidatorUnavailable when it is not installed."""
    if validator == "epubcheck":
        material: list[Any] = [importlib.metadata.version("epubcheck"), file_identity(validate.find_epubcheck_jar()),
                               file_identity(validate.find_java())]
    else:
        ace = validate.find_ace()
        node = shutil.which("node") or "node"
        modules = validate.TOOLS_DIR / "node_modules" / "@daisy"
        material = [file_identity(ace), file_identity(node), file_identity(validate.find_chromium()),
                    *(package_version(modules / name / "package.json") for name in ACE_PACKAGES
                      if (modules / name / "package.json").is_file())]
    return hashlib.sha256(json.dumps([validator, VERDICT_FORMAT, material]).encode("utf-8")).hexdigest()


class VerdictCache:
    """Verdicts on disk, one JSON file each, written atomically and checked against their key on read."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "verdicts"

    @staticmethod
    def key(validator: str, digest: str, identity: str) -> str:
        return hashlib.sha256(f"{validator}\n{digest}\n{identity}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            stored = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("verdict"), dict):
            return None  # damaged or not ours: judged again, then replaced
        mark_used(self._path(key))
        return stored["verdict"]

    def store(self, key: str, verdict: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"key": key, "verdict": verdict}, out)  # key order kept: the report lists it so
            os.replace(temporary, self._path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


# --------------------------------------------------------------------------- judging a build's books


def judge(books: Mapping[str, tuple[Path, str]], run: Runner, cache: VerdictCache | None = None
          ) -> dict[str, dict[str, Verdict]]:
    """Each book's verdicts by validator: from the cache where its digest was judged by the same
    validators, else from `run(validator, path)`, EPUBCheck and Ace side by side.

    `books`: name → (path, SHA-256). A verdict that says the tool could not run is not cached."""
    verdicts: dict[str, dict[str, Verdict]] = {name: {} for name in books}
    todo: dict[str, list[tuple[str, Path, str | None]]] = {validator: [] for validator in VALIDATORS}
    for validator in VALIDATORS:
        identity = None
        if cache is not None:
            with contextlib.suppress(validate.ValidatorUnavailable, OSError):  # then run says why
                identity = tool_identity(validator)
        for name, (path, digest) in books.items():
            key = VerdictCache.key(validator, digest, identity) if cache is not None and identity else None
            known = cache.load(key) if cache is not None and key else None
            if known is not None:
                verdicts[name][validator] = known
            else:
                todo[validator].append((name, path, key))

    def check(validator: str) -> list[tuple[str, str | None, Verdict]]:
        return [(name, key, run(validator, path)) for name, path, key in todo[validator]]

    busy = [validator for validator in VALIDATORS if todo[validator]]
    if busy:
        with ThreadPoolExecutor(max_workers=len(busy)) as pool:  # the validators are other processes
            outcomes = {validator: pool.submit(check, validator) for validator in busy}
        for validator, outcome in outcomes.items():
            for name, key, verdict in outcome.result():
                verdicts[name][validator] = verdict
                if cache is not None and key and isinstance(verdict, dict):
                    cache.store(key, verdict)
    return {name: {validator: verdicts[name][validator] for validator in VALIDATORS} for name in books}


# --------------------------------------------------------------------------- one process per validator


class Helper:
    """A long-lived validator process answering one JSON line per request, its stderr kept in a file."""

    def __init__(self, what: str, command: list[str], prefix: str = "", **popen: Any) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the helper's life; closed in close())
        self.prefix = prefix
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, encoding="utf-8", **popen)
        self.lock = threading.Lock()
        if not self._answer().get("ready"):
            raise validate.ValidatorFailed(f"{what} did not start: {without_traceback(self.tail())}")

    def _answer(self) -> dict[str, Any]:
        stdout: IO[str] = self.process.stdout  # type: ignore[assignment]
        for line in stdout:
            if line.startswith(self.prefix):
                return json.loads(line[len(self.prefix):])
        return {"error": f"the validator process ended (exit {self.process.wait()}):\n{self.tail()}"}

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            return self._answer()

    def tail(self) -> str:
        self.log.seek(0)
        return "\n".join(self.log.read().decode("utf-8", "replace").strip().splitlines()[-15:])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def without_traceback(text: str) -> str:
    """What a helper said on stderr, without the Python traceback's frames (its last line, the error, stays):
    the user's line names the tool's complaint, not our stack."""
    kept, frames = [], False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            frames = True
        elif frames and (line.startswith(" ") or not line.strip()):
            continue
        else:
            frames = False
            kept.append(line)
    return "\n".join(kept)


class Session:
    """A validator's helper process, started on the first book and kept for the others."""

    def __init__(self) -> None:
        self.helper: Helper | None = None

    def close(self) -> None:
        if self.helper is not None:
            self.helper.close()
            self.helper = None


class EpubcheckSession(Session):
    """EPUBCheck in one JVM for every book (builder.run.epubcheck_jvm), or one `java -jar` per book
    where JPype is not installed."""

    def check(self, epub: Path) -> validate.EpubcheckResult:
        jar = validate.find_epubcheck_jar()
        validate.find_java()
        if importlib.util.find_spec("jpype") is None:
            return validate.run_epubcheck(epub)
        if self.helper is None:
            self.helper = Helper("EPUBCheck", [sys.executable, "-P", "-m", "builder.run.epubcheck_jvm", str(jar)])
        with tempfile.TemporaryDirectory(prefix="epubcheck-") as folder:
            report = Path(folder) / "report.json"
            answer = self.helper.ask({"epub": str(Path(epub).resolve()), "report": str(report)})
            if "error" in answer or not report.is_file():
                raise validate.ValidatorFailed(f"EPUBCheck wrote no report for {Path(epub).name}:"
                                               f" {answer.get('error', '')}"
                                               f"\n{self.helper.tail()}")
            return validate.parse_epubcheck_report(json.loads(report.read_text(encoding="utf-8")))


class AceSession(Session):
    """DAISY Ace with one Chromium for every book (tools/ace-batch.js on Ace's core), or one ace-cli run
    per book where a different Ace is configured (ACE_BIN)."""

    def check(self, epub: Path) -> validate.AceResult:
        validate.find_ace()
        chromium = validate.find_chromium()
        if os.environ.get("ACE_BIN") or not ACE_BATCH.is_file():
            return validate.run_ace(epub)
        if self.helper is None:
            self.helper = Helper("DAISY Ace", [shutil.which("node") or "node", str(ACE_BATCH)], prefix="ACE-BATCH ",
                                 cwd=validate.TOOLS_DIR, env=validate.ace_environment(chromium))
        with tempfile.TemporaryDirectory(prefix="ace-") as folder:
            outdir, workdir = Path(folder) / "out", Path(folder) / "work"
            workdir.mkdir()
            answer = self.helper.ask({"epub": str(Path(epub).resolve()), "outdir": str(outdir),
                                      "tmpdir": str(workdir), "lang": "en"})
            report = outdir / "report.json"
            if "error" in answer or not report.is_file():
                raise validate.ValidatorFailed(f"DAISY Ace failed on {Path(epub).name}: {answer.get('error', '')}"
                                               f"\n{self.helper.tail()}")
            return validate.parse_ace_report(json.loads(report.read_text(encoding="utf-8")))


_SESSIONS: dict[str, EpubcheckSession | AceSession] = {}
_SESSIONS_LOCK = threading.Lock()


def session(validator: str) -> EpubcheckSession | AceSession:
    """This process's session for `validator`, kept for every later book (a catalogue's too)."""
    with _SESSIONS_LOCK:
        if not _SESSIONS:
            atexit.register(close_sessions)
        if validator not in _SESSIONS:
            _SESSIONS[validator] = EpubcheckSession() if validator == "epubcheck" else AceSession()
        return _SESSIONS[validator]


def close_sessions() -> None:
    with _SESSIONS_LOCK:
        for opened in _SESSIONS.values():
            opened.close()
        _SESSIONS.clear()
