"""Tiny editions written into a folder, the broken-input corpus, and helpers to run the command line.

``write_edition(root, {"a": article("Text.")})`` writes a valid one-article edition; pass a
manifest, more articles or images to shape it. ``snapshot(folder)`` hashes every file below a
folder, so a test can assert that a failed build left the previous outputs byte-for-byte alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from epub_fixtures import tiny_png

from builder.cli import main

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
SOURCE = PROJECT / "source"
BROKEN = TESTS / "broken"
PIXEL = tiny_png()

MANIFEST = """title = "Fixture Edition"
edition = "Test"
date = "2025-01-01"
publisher = "Test Press"
language = "en-GB"
identifier = "urn:uuid:00000000-0000-4000-8000-0000000000aa"
slug = "fixture-edition"
articles = [{articles}]
"""

# "path:line: severity CODE: message. remedy": what every line a failed run prints must look like.
DIAGNOSTIC_LINE = re.compile(r"^(\S[^\n]*?(:\d+)?: )?(error|warning) [EW]\d{3}: \S[^\n]*$")


def article(body: str, **front: Any) -> str:
    """An article file: YAML front matter (title, kind and summary unless given) and the body."""
    fields = {"title": "A fixture article", "kind": "feature", "summary": "An article written by a test."}
    fields.update(front)
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n" + body


def write_edition(root: Path, articles: Mapping[str, str | bytes] | None = None, *, manifest: str | None = None,
                  images: Mapping[str, bytes] | None = None) -> Path:
    """Write an edition into root (created) and return root."""
    articles = {"first": article("Some text.\n")} if articles is None else articles
    root.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{slug}"' for slug in articles)
    (root / "edition.toml").write_text(manifest if manifest is not None else MANIFEST.format(articles=listed),
                                       encoding="utf-8")
    (root / "articles").mkdir(exist_ok=True)
    for slug, text in articles.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (root / "articles" / f"{slug}.md").write_bytes(data)
    for name, data in (images or {}).items():
        (root / "images").mkdir(exist_ok=True)
        (root / "images" / name).write_bytes(data)
    return root


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below folder, by relative path; folders are listed too (value '/')."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        found[relative] = "/" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(argv: Sequence[str | Path], capsys: pytest.CaptureFixture[str]) -> Run:
    """builder.cli.main in this process (fast), with its output captured."""
    capsys.readouterr()
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


@dataclass(frozen=True)
class BrokenCase:
    name: str
    folder: Path
    expected: tuple[str, ...]  # substrings that must each appear in the output

    @property
    def is_error(self) -> bool:
        return any(" error " in line for line in self.expected)

    def strict_expected(self) -> tuple[str, ...]:
        """Under --strict every warning is printed as an error."""
        return tuple(line.replace(" warning ", " error ", 1) for line in self.expected)


def broken_cases() -> list[BrokenCase]:
    cases = []
    for folder in sorted(BROKEN.iterdir()):
        if not folder.is_dir() or folder.name.startswith("_"):  # _shared: files outside every edition
            continue
        lines = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
        cases.append(BrokenCase(folder.name, folder, tuple(line for line in lines if line.strip())))
    return cases


GOLDEN = TESTS / "golden"
GOLDEN_MANIFEST = """title = "Golden Edition"
subtitle = "A Small Magazine"
edition = "Spring 2025"
date = "2025-04-01"
publisher = "Test Press"
language = "en-GB"
identifier = "urn:uuid:00000000-0000-4000-8000-00000000901d"
slug = "golden-edition"
description = "Two articles that exercise the renderer, the navigation and the package."
print_source = "Golden Edition, Spring 2025 (print)"
cover = "images/cover.png"
cover_alt = "The cover: one grey pixel."
articles = ["notes-math-pullquote", "bibliography-figure"]
"""


def write_golden_edition(root: Path) -> Path:
    """The golden edition: the renderer's two golden cases as one edition (nav, package and SMIL goldens)."""
    (root / "articles").mkdir(parents=True)
    (root / "images").mkdir()
    for name in ("chart.png", "rule.png", "cover.png"):
        (root / "images" / name).write_bytes(PIXEL)
    for case in sorted((GOLDEN / "cases").glob("*.md")):
        (root / "articles" / case.name).write_text(case.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "edition.toml").write_text(GOLDEN_MANIFEST, encoding="utf-8")
    (root / "pronunciation.toml").write_text('[titles]\nDr = "Doctor"\n', encoding="utf-8")
    return root
