"""The books in a real reading system: epub.js in headless Chromium, asserted from what is on screen.

tests/reader/read.mjs serves tests/reader/harness.html and the EPUB on localhost, opens the book
with epub.js (paginated, 800×1000) in /usr/bin/chromium through playwright-core, clicks the
rendered links with the mouse and prints JSON facts; this module asserts them:

* the cover/title page shows the cover image, loaded (naturalWidth > 0) and on screen;
* the contents page lists "Editor's note" (the printed entry) and the nav lists "From the Editorial team";
* the first article shows its h1 and first paragraph;
* the first note reference, clicked, lands on its note; the note's backlink, clicked, comes back;
* narrated books: the Media Overlays active class visibly highlights a sentence (computed style
  and the screenshot's pixels).

Screenshots go to tmp_path and, when $SCREENSHOT_DIR is set, are copied there (CI artefacts).
Missing Node, Chromium or tools/node_modules FAILS when $CI is set and skips loudly otherwise.
``python tests/test_reader.py`` regenerates the small PNGs in docs/screenshots/ for the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from builder.run.build import BuildResult

PROJECT = Path(__file__).resolve().parent.parent
READER = PROJECT / "tests" / "reader" / "read.mjs"
NODE_MODULES = PROJECT / "tools" / "node_modules"
DOCS_SHOTS = PROJECT / "docs" / "screenshots"
SLUG = "imind-spring-2025"
FIRST_ARTICLE = "text/editors-note.xhtml"
ACTIVE_CLASS = "-epub-media-overlay-active"
DOC_SHOT_LIMIT = 150_000  # bytes per committed PNG

pytestmark = pytest.mark.reader

Result = dict[str, Any]


# --------------------------------------------------------------------------- running the reader


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium_path() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


def missing_tools() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("node (Node.js) on PATH")
    if not Path(chromium_path()).exists():
        missing.append(f"Chromium at {chromium_path()}")
    for package in ("epubjs", "jszip", "playwright-core"):
        if not (NODE_MODULES / package / "package.json").exists():
            missing.append(f"tools/node_modules/{package}")
    return missing


def unavailable(reason: str) -> None:
    message = f"READING SYSTEM UNAVAILABLE — {reason} (run scripts/setup-tools.sh)"
    if in_ci():
        pytest.fail(f"{message}; CI is set: the reader tests must run", pytrace=False)
    pytest.skip(message)


def read_book(epub: Path, shots: Path, label: str, checks: str = "reading", *extra: str) -> Result:
    """Run tests/reader/read.mjs on one book; return its JSON. Screenshots: shots/<label>-<step>.png."""
    missing = missing_tools()
    if missing:
        unavailable("missing " + "; ".join(missing))
    command = ["node", str(READER), str(epub), "--screenshots", str(shots), "--label", label, "--checks", checks]
    proc = subprocess.run([*command, *extra], capture_output=True, text=True, timeout=120, check=False)
    try:
        result: Result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"reader printed no JSON (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    if proc.returncode == 3:
        unavailable(str(result.get("error")))
    assert proc.returncode == 0, f"reader failed: {result.get('error')}\n{proc.stderr[-2000:]}"
    keep_artefacts(result)
    return result


def keep_artefacts(result: Result) -> None:
    """Copy the screenshots to $SCREENSHOT_DIR (the CI build artefacts), when it is set."""
    target = os.environ.get("SCREENSHOT_DIR")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for shot in result["screenshots"].values():
        shutil.copy2(shot, target)


# --------------------------------------------------------------------------- assertions


def check_reading(result: Result) -> None:
    """Cover, contents, first article and the footnote round trip, as rendered."""
    steps = result["steps"]
    assert not result.get("errors"), result["errors"]

    cover = steps["cover"]["image"]
    assert cover["found"], "no image on the first page"
    assert cover["complete"] and cover["naturalWidth"] > 0 and cover["naturalHeight"] > 0, cover
    assert cover["onScreen"] and cover["hit"] and cover["visibleFraction"] > 0.9, cover
    assert cover["alt"], "cover image without alt text"
    assert result["book"]["coverUrl"], "epub.js found no cover-image in the package"

    contents = steps["contents"]
    assert contents["location"]["href"] == "text/contents.xhtml"
    assert contents["heading"]["onScreen"] and contents["heading"]["text"] == "Content"
    assert "Editor's note" in contents["entriesOnScreen"], contents["entriesOnScreen"]
    assert contents["firstEntry"]["text"] == "Editor's note" and contents["firstEntry"]["hit"]
    assert "From the Editorial team" in [entry["label"] for entry in result["book"]["toc"]]

    article = steps["article"]
    assert article["location"]["href"] == FIRST_ARTICLE
    assert article["heading"]["text"] == "From the Editorial team"
    assert article["heading"]["onScreen"] and article["heading"]["hit"], article["heading"]
    paragraph = article["firstParagraph"]
    assert paragraph["text"].startswith("Dear Faculty members"), paragraph["text"]
    assert paragraph["onScreen"] and paragraph["hit"], paragraph

    note = steps["footnote"]
    assert note["ref"]["onScreen"] and note["ref"]["text"] == "1", note["ref"]
    assert note["refHref"] == "#fn1"
    # The click on "1" lands on the note: it is on screen, a different page, the reference is not.
    assert note["note"]["onScreen"] and note["note"]["hit"], note["note"]
    assert note["note"]["id"] == "fn1" and note["note"]["visibleFraction"] > 0.5
    assert note["noteLocation"]["href"] == note["location"]["href"]
    assert note["noteLocation"]["page"] != note["location"]["page"], "the note is on the reference's page"
    assert not note["refOnScreenAtNote"]
    # Its backlink, clicked, shows the reference again.
    assert note["backlink"]["onScreen"], note["backlink"]
    assert note["back"]["onScreen"] and note["back"]["hit"], note["back"]
    assert note["backLocation"]["page"] == note["location"]["page"]


def rgb(css: str) -> tuple[int, int, int, float]:
    numbers = re.findall(r"[\d.]+", css)
    alpha = float(numbers[3]) if len(numbers) > 3 else 1.0
    red, green, blue = (int(float(n)) for n in numbers[:3])
    return red, green, blue, alpha


def highlighted_pixels(screenshot: Path, rects: list[dict[str, int]], colour: tuple[int, int, int]) -> float:
    """Share of the sentence's on-screen area painted in the highlight colour."""
    from PIL import Image

    with Image.open(screenshot) as image:
        pixels = image.convert("RGB")
        total = hits = 0
        for rect in rects:
            for x in range(rect["left"], rect["left"] + rect["width"]):
                for y in range(rect["top"], rect["top"] + rect["height"]):
                    total += 1
                    pixel = pixels.getpixel((x, y))
                    assert isinstance(pixel, tuple)
                    hits += all(abs(a - b) <= 6 for a, b in zip(pixel, colour, strict=False))
    return hits / total if total else 0.0


def assert_highlight(result: Result) -> None:
    mark = result["steps"]["highlight"]
    assert mark["found"], f"no {mark['selector']} in the narrated document"
    assert mark["onScreen"] and mark["hit"], mark
    assert mark["className"] == ACTIVE_CLASS
    before, active = rgb(mark["spanBefore"]["backgroundColor"]), rgb(mark["spanActive"]["backgroundColor"])
    behind = rgb(mark["blockEffectiveBackground"])
    assert before[3] == 0.0 or before == behind, "the sentence is highlighted before playback"
    assert active[3] == 1.0 and active[:3] != behind[:3], f"active class paints nothing: {mark}"
    assert active != rgb(mark["blockBackground"])
    share = highlighted_pixels(Path(result["screenshots"]["highlight"]), mark["rects"], active[:3])
    assert share > 0.4, f"only {share:.0%} of the sentence shows the highlight colour on screen"


def check_highlight(epub_path: Path, shots_dir: Path | None = None, label: str = "narrated") -> Result:
    """Open a narrated EPUB, activate the first sentence as a Media Overlays player would, and
    assert the highlight is visible. Returns the reader's JSON."""
    shots = shots_dir or Path(tempfile.mkdtemp(prefix="reader-shots-"))
    result = read_book(Path(epub_path), shots, label, "highlight")
    assert_highlight(result)
    return result


# --------------------------------------------------------------------------- the sentence being read


# The moment of the first article's narration the highlight shows: the sentence its Media Overlay plays then.
OVERLAY_TIME = 20.0


def sentence_playing(epub: Path, document: str, at: float) -> str:
    """The id of the sentence `document`'s Media Overlay plays `at` seconds into its audio."""
    with zipfile.ZipFile(epub) as book:
        name = f"EPUB/smil/{Path(document).stem}.smil"
        smil = etree.fromstring(book.read(name))
    for par in smil.iter("{http://www.w3.org/ns/SMIL}par"):
        audio = par.find("{http://www.w3.org/ns/SMIL}audio")
        if float(audio.get("clipBegin")[:-1]) <= at < float(audio.get("clipEnd")[:-1]):
            return par.find("{http://www.w3.org/ns/SMIL}text").get("src").partition("#")[2]
    raise AssertionError(f"{name} plays nothing at {at} s")


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def text_reading(text_epub: Path, tmp_path_factory: pytest.TempPathFactory) -> Result:
    return read_book(text_epub, tmp_path_factory.mktemp("reader-text"), "text")


@pytest.fixture(scope="module")
def narrated_epub(full_build: tuple[Path, BuildResult]) -> Path:
    """The default build's narrated EPUB, spoken by the real engine."""
    return full_build[0] / f"{SLUG}-narrated.epub"


@pytest.mark.parametrize("profile", ["readable", "large-print"])
def test_each_profile_reads_in_the_reading_system(profile: str, full_build: tuple[Path, BuildResult],
                                                  tmp_path: Path) -> None:
    result = read_book(full_build[0] / f"{SLUG}-{profile}.epub", tmp_path, profile)
    check_reading(result)
    assert not [line for line in result["console"] if not line.startswith("warning")], result["console"]


def test_cover_contents_article_and_footnote_on_screen(text_reading: Result) -> None:
    check_reading(text_reading)


def test_no_page_errors(text_reading: Result) -> None:
    assert not [line for line in text_reading["console"] if not line.startswith("warning")], text_reading["console"]


def test_text_book_has_no_sentence_spans(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        assert b'class="sentence"' not in book.read(f"EPUB/{FIRST_ARTICLE}")


def test_narrated_book_reads_and_highlights_a_sentence(narrated_epub: Path, tmp_path: Path) -> None:
    """The sentence highlighted is the one the first article's overlay plays at OVERLAY_TIME (as in the README)."""
    playing = sentence_playing(narrated_epub, FIRST_ARTICLE, OVERLAY_TIME)
    result = read_book(narrated_epub, tmp_path, "narrated", "reading,highlight", "--sentence", f"#{playing}")
    check_reading(result)
    assert_highlight(result)
    mark = result["steps"]["highlight"]
    assert mark["classFromPackage"], "the package declares no media:active-class"
    assert mark["id"] == playing
    assert mark["location"]["href"] == FIRST_ARTICLE
    assert result["book"]["overlays"] > 0 and result["book"]["documentsWithOverlay"] > 0


# --------------------------------------------------------------------------- docs/screenshots


def write_doc_shot(source: Path, target: Path) -> None:
    """A small PNG for the README: 256-colour palette, optimised, at most DOC_SHOT_LIMIT bytes."""
    from PIL import Image

    with Image.open(source) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(target, optimize=True)
    size = target.stat().st_size
    if size > DOC_SHOT_LIMIT:
        raise SystemExit(f"{target} is {size} bytes (limit {DOC_SHOT_LIMIT})")


def update_doc_screenshots() -> None:
    """Build every book (the narrated one by the real engine, clips from the default cache), read them, and
    save the README screenshots; the narrated one shows the sentence its overlay plays at OVERLAY_TIME."""
    from builder.run.build import BuildOptions, build
    from builder.run.cache import default_cache_dir

    with tempfile.TemporaryDirectory(prefix="reader-docs-") as tmp:
        root = Path(tmp)
        build(BuildOptions(source=PROJECT / "source", output=root, validate=False, cache_dir=default_cache_dir(),
                           profiles=("standard", "readable", "large-print")))
        text = read_book(root / f"{SLUG}.epub", root, "text")
        check_reading(text)
        profiles = {profile: read_book(root / f"{SLUG}-{profile}.epub", root, profile)
                    for profile in ("readable", "large-print")}
        narrated = root / f"{SLUG}-narrated.epub"
        playing = sentence_playing(narrated, FIRST_ARTICLE, OVERLAY_TIME)
        highlight = read_book(narrated, root, "narrated", "highlight", "--sentence", f"#{playing}")
        assert_highlight(highlight)
        said = highlight["steps"]["highlight"]["text"]
        print(f"narrated: {FIRST_ARTICLE} at {OVERLAY_TIME} s plays #{playing}: {said}")
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        for source, name in (
            (text["screenshots"]["cover"], "title-page.png"),
            (text["screenshots"]["contents"], "contents.png"),
            (text["screenshots"]["article"], "first-article.png"),
            (highlight["screenshots"]["highlight"], "narrated-highlight.png"),
            (profiles["readable"]["screenshots"]["article"], "readable-article.png"),
            (profiles["large-print"]["screenshots"]["article"], "large-print-article.png"),
        ):
            write_doc_shot(Path(source), DOCS_SHOTS / name)
            print(f"wrote {(DOCS_SHOTS / name).relative_to(PROJECT)} ({(DOCS_SHOTS / name).stat().st_size} bytes)")


if __name__ == "__main__":
    os.chdir(PROJECT)
    sys.path.insert(0, str(PROJECT))
    update_doc_screenshots()
