"""Reflow (WCAG 2.2 success criterion 1.4.10): at 320 CSS px wide no document of any profile of either
edition scrolls sideways. Code blocks and wide tables scroll inside their own boxes, images fit the column.

Every content document (title page, contents, articles, nav) of every profile's EPUB is unpacked and
opened in headless Chromium (playwright-core from tools/, Debian's chromium) by tests/reader/reflow.mjs,
which reports each page's scroll width against the viewport's. Missing Node, Chromium or playwright-core
FAILS when $CI is set and skips loudly otherwise (as tests/test_reader.py does).
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from test_reader import missing_tools, unavailable

from builder.run.build import BuildOptions, build
from builder.sources.config import PROFILES

PROJECT = Path(__file__).resolve().parent.parent
REFLOW = PROJECT / "tests" / "reader" / "reflow.mjs"
EDITIONS = {"imind": PROJECT / "source", "second": PROJECT / "tests" / "editions" / "second"}
NARROW = 320  # CSS px: WCAG's reflow width (1280 px at 400 % zoom)

pytestmark = pytest.mark.reader


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Every profile of each edition, built without audio or validators and unpacked: book → documents."""
    books: dict[str, list[Path]] = {}
    for name, source in EDITIONS.items():
        if not (source / "edition.toml").is_file():
            continue  # the second edition lands with lang-speech's work; its absence fails below
        output = tmp_path_factory.mktemp(f"reflow-{name}")
        result = build(BuildOptions(source=source, output=output, audio=False, validate=False,
                                    profiles=tuple(PROFILES)))
        for epub in (path for path in result.outputs if path.suffix == ".epub"):
            folder = output / epub.stem
            with zipfile.ZipFile(epub) as book:
                book.extractall(folder)
            books[f"{name}/{epub.stem}"] = sorted(folder.rglob("*.xhtml"))
    return books


def page_widths(documents: list[Path], width: int = NARROW) -> dict[str, dict]:
    missing = missing_tools()
    if missing:
        unavailable("missing " + "; ".join(missing))
    proc = subprocess.run(["node", str(REFLOW), "--width", str(width), *map(str, documents)], capture_output=True,
                          text=True, timeout=600, check=False)
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"reflow.mjs printed no JSON (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    if proc.returncode == 3:
        unavailable(str(result.get("error")))
    assert proc.returncode == 0, f"reflow.mjs failed: {result.get('error')}"
    return result["documents"]


def test_every_profile_of_both_editions_is_measured(unpacked: dict[str, list[Path]]) -> None:
    """A missing edition or profile is a failure, not a pass."""
    for name in EDITIONS:
        books = [book for book in unpacked if book.startswith(f"{name}/")]
        assert len(books) == len(PROFILES), f"{name}: built {books}"
        assert all(unpacked[book] for book in books), f"{name}: a book without documents"


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_no_document_scrolls_sideways_at_320_px(unpacked: dict[str, list[Path]], edition: str) -> None:
    documents = [document for book, found in unpacked.items() if book.startswith(f"{edition}/") for document in found]
    assert documents, f"the {edition} edition was not built"
    measured = page_widths(documents)
    assert len(measured) == len(documents)
    assert all(facts["viewport"] == NARROW for facts in measured.values()), "the viewport is not 320 px wide"
    wide = {f"{Path(name).parts[-4]}/{Path(name).name}": facts for name, facts in measured.items()  # book/document
            if facts["scrollWidth"] > facts["viewport"]}
    assert wide == {}, "pages wider than 320 px (scrollWidth, what sticks out):\n" + "\n".join(
        f"{name}: {facts['scrollWidth']} px; {facts['culprits']}" for name, facts in wide.items())
