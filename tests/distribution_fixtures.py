"""The distribution formats' test kit: a small narrated edition built with the fake synthesizer, and the
DAISY 2.02 checkers (jing on the RELAX NG schemas, their embedded Schematron through lxml, daisy-player in
tmux). The schemas are DAISY Pipeline's, read from ../shared/schemas/daisy202/."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import in_ci
from edition_fixtures import PIXEL, article, write_edition
from lxml import etree, isoschematron

from builder.narration import synthesis
from builder.narration.engines import espeak_ng
from builder.run.build import BuildOptions, BuildResult, build

PROJECT = Path(__file__).resolve().parent.parent


def shared_folder() -> Path:
    """../shared beside the clone, as CI lays it out; from a git worktree, beside its main clone."""
    beside = PROJECT.parent / "shared"
    git = PROJECT / ".git"
    if beside.is_dir() or not git.is_file():
        return beside
    worktree = Path(git.read_text(encoding="utf-8").partition(":")[2].strip())  # <main>/.git/worktrees/<name>
    return worktree.parents[2].parent / "shared"


SCHEMAS = shared_folder() / "schemas" / "daisy202" / "d202"
SCH = "http://purl.oclc.org/dsdl/schematron"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
XHTML = "http://www.w3.org/1999/xhtml"
DOCTYPE = re.compile(rb"<!DOCTYPE[^>]*>\s*")
ASCII_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
# The sound-card list daisy-player insists on reading (a container has no /proc/asound).
FAKE_CARDS = " 0 [Dummy          ]: Dummy - Dummy\n                      Dummy 1\n"
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static const char *swap(const char *path) {
    const char *fake = getenv("FAKE_ASOUND_CARDS");
    return (fake && path && strcmp(path, "/proc/asound/cards") == 0) ? fake : path;
}
FILE *fopen(const char *path, const char *mode) {
    FILE *(*real)(const char *, const char *) = dlsym(RTLD_NEXT, "fopen");
    return real(swap(path), mode);
}
FILE *fopen64(const char *path, const char *mode) {
    FILE *(*real)(const char *, const char *) = dlsym(RTLD_NEXT, "fopen64");
    return real(swap(path), mode);
}
int open(const char *path, int flags, ...) {
    int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    va_list ap; va_start(ap, flags); int mode = va_arg(ap, int); va_end(ap);
    return real(swap(path), flags, mode);
}
"""

FIRST = article(
    "Opening words of the first piece.[^1] A second sentence follows.\n\n"
    "## A section\n\nText of the section, with a formula.\n\n$$x^2$$\n\n"
    "[3]{.pagebreak}\n\nWords on the third page.\n\n"
    "![A small square](../images/pixel.png)\n\n"
    "[^1]: The first note. It has two sentences.\n",
    title="The First Piece", page="2", authors=[{"name": "Ada Writer"}])
SECOND = article("The second piece has one paragraph.\n", title="The Second Piece", page="4")


def narrated_edition(root: Path) -> Path:
    """Two articles: headings, print pages, a note, a formula and an image."""
    write_edition(root, {"first": FIRST, "second": SECOND}, images={"pixel.png": PIXEL})
    (root / "pronunciation.toml").write_text("", encoding="utf-8")  # narration reads the lexicon
    return root


def fake_build(source: Path, output: Path, jobs: int, cache: Path | None) -> BuildResult:
    """A full narrated build, its audio from the fake synthesizer (fast and deterministic)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(espeak_ng, "Pyttsx3Synthesizer", synthesis.FakeSynthesizer)
        return build(BuildOptions(source=source, output=output, validate=False, jobs=jobs, cache_dir=cache))


def require(what: str, present: bool) -> None:
    """Skip loudly where a checker is missing; in CI, fail."""
    if not present:
        message = f"{what} is missing: run scripts/setup-tools.sh"
        pytest.fail(message) if in_ci() else pytest.skip(message)


def require_schemas() -> None:
    require(f"the DAISY 2.02 schemas ({SCHEMAS})", (SCHEMAS / "d202ncc.rng").is_file())


@dataclass(frozen=True)
class Unpacked:
    folder: Path  # the book's folder: ncc.html and everything beside it

    @property
    def ncc(self) -> Path:
        return self.folder / "ncc.html"

    def smils(self) -> list[Path]:
        return sorted(self.folder.glob("*.smil"))


def unpack(archive: Path, into: Path) -> Unpacked:
    with zipfile.ZipFile(archive) as book:
        book.extractall(into)
    return Unpacked(next(path.parent for path in into.rglob("ncc.html")))


def without_doctype(path: Path, into: Path) -> Path:
    """jing would fetch the XHTML and SMIL DTDs from the network to read the DOCTYPE: validate the same
    document without it (the schemas judge the elements, not the declaration)."""
    copy = into / path.name
    copy.write_bytes(DOCTYPE.sub(b"", path.read_bytes(), count=1))
    return copy


def jing(schema: str, documents: list[Path], scratch: Path) -> tuple[int, str]:
    require("jing", shutil.which("jing") is not None)
    require_schemas()
    scratch.mkdir(parents=True, exist_ok=True)
    copies = [str(without_doctype(document, scratch)) for document in documents]
    run = subprocess.run(["jing", str(SCHEMAS / schema), *copies], capture_output=True, text=True, check=False)
    # Debian's wrapper warns on stderr about optional jars; the verdict is the exit code and stdout.
    return run.returncode, run.stdout


def schematron(schema: str) -> isoschematron.Schematron:
    """The Schematron rules embedded in a DAISY 2.02 RELAX NG schema, as lxml's ISO Schematron runs them.

    The rules use Schematron 1.5's `name` on patterns (so the extracted schema is not checked against
    ISO's own grammar) and one XPath 2 function, lower-case(), which XSLT 1 lacks: it becomes the
    equivalent translate() for the ASCII value it compares ("content-type")."""
    require_schemas()
    tree = etree.parse(str(SCHEMAS / schema))
    for assertion in tree.iter(f"{{{SCH}}}assert", f"{{{SCH}}}report"):
        test = assertion.get("test", "")
        assertion.set("test", re.sub(r"lower-case\(([^()]*)\)", lambda m: ASCII_LOWER.format(m.group(1)), test))
    return isoschematron.Schematron(tree, store_report=True, validate_schema=False)


def schematron_failures(schema: str, document: Path | etree._ElementTree) -> list[str]:
    rules = schematron(schema)
    tree = document if isinstance(document, etree._ElementTree) else etree.parse(str(document))
    rules.validate(tree)
    report = rules.validation_report
    assert report.findall(".//svrl:fired-rule", SVRL), "no Schematron rule fired: the rules were not applied"
    return [" ".join("".join(failed.itertext()).split()) for failed in report.findall(".//svrl:failed-assert", SVRL)]


def daisy_player_screens(book: Path, scratch: Path, screens: int = 12) -> list[str]:
    """Open `book` in daisy-player inside tmux and return each screen of its item list (page-down between)."""
    for tool in ("daisy-player", "tmux", "cc"):
        require(tool, shutil.which(tool) is not None)
    scratch.mkdir(parents=True, exist_ok=True)
    source, shim, cards = scratch / "fakecards.c", scratch / "fakecards.so", scratch / "cards"
    source.write_text(SHIM, encoding="utf-8")
    cards.write_text(FAKE_CARDS, encoding="utf-8")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(source), "-ldl"], check=True)
    session = f"daisy-test-{time.monotonic_ns()}"
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    command = (f"env HOME={home} FAKE_ASOUND_CARDS={cards} LD_PRELOAD={shim} "
               f"daisy-player -i -n {book}; sleep 60")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)
    try:
        shown = _wait_for(session, lambda screen: "Select a soundcard" in screen or "total length" in screen)
        if "Select a soundcard" in shown:
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
            shown = _wait_for(session, lambda screen: "total length" in screen)
        pages = [shown]
        for _ in range(screens - 1):
            subprocess.run(["tmux", "send-keys", "-t", session, "NPage"], check=True)
            time.sleep(0.5)
            screen = _capture(session)
            if screen == pages[-1]:
                break
            pages.append(screen)
        return pages
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                          check=True).stdout


def _wait_for(session: str, ready: object, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if ready(screen):  # type: ignore[operator]
            return screen
        time.sleep(0.3)
    raise AssertionError(f"daisy-player did not show its list in {timeout:.0f} s; screen:\n{screen}")
