"""Every EPUB the build writes passes EPUBCheck 5.3 (0/0/0) and DAISY Ace (0 violations), in CI."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from conftest import in_ci
from lxml import etree

from builder.run.build import BuildResult

pytestmark = pytest.mark.validators
EXPECTED_BOOKS = {
    "imind-spring-2025.epub",
    "imind-spring-2025-readable.epub",
    "imind-spring-2025-large-print.epub",
    "imind-spring-2025-narrated.epub",
}


def validator_results(result: BuildResult, validator: str) -> dict[str, dict]:
    results = {}
    for name, book in result.report["books"].items():
        outcome = book["validators"][validator]
        if isinstance(outcome, str):  # the validator did not run
            message = f"VALIDATOR DID NOT RUN for {name}: {outcome}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        results[name] = outcome
    return results


def test_the_default_build_writes_every_book(full_build: tuple[Path, BuildResult]) -> None:
    output, result = full_build
    assert not result.failures, result.failures
    assert {path.name for path in output.glob("*.epub")} == EXPECTED_BOOKS
    assert set(result.report["books"]) == EXPECTED_BOOKS


def test_epubcheck_finds_nothing(full_build: tuple[Path, BuildResult]) -> None:
    for name, outcome in validator_results(full_build[1], "epubcheck").items():
        counts = (outcome["fatal"], outcome["errors"], outcome["warnings"])
        assert counts == (0, 0, 0), f"{name}: {outcome['messages']}"
        assert outcome["version"].startswith("5.3")


def test_ace_finds_no_violation(full_build: tuple[Path, BuildResult]) -> None:
    for name, outcome in validator_results(full_build[1], "ace").items():
        assert sum(outcome["violations"].values()) == 0, f"{name}: {outcome['messages']}"


def test_no_book_is_scripted_and_metadata_is_derived(full_build: tuple[Path, BuildResult]) -> None:
    output, result = full_build
    for book in EXPECTED_BOOKS:
        with zipfile.ZipFile(output / book) as archive:
            opf = etree.fromstring(archive.read("EPUB/content.opf"))
        ns = {"opf": "http://www.idpf.org/2007/opf"}
        properties = " ".join(item.get("properties", "") for item in opf.iterfind(".//opf:item", ns))
        assert "scripted" not in properties
        features = {meta.text for meta in opf.iterfind(".//opf:meta[@property='schema:accessibilityFeature']", ns)}
        assert {"alternativeText", "longDescription", "MathML", "pageNavigation", "tableOfContents"} <= features
        assert ("synchronizedAudioText" in features) == ("narrated" in book)
        modes = {meta.text for meta in opf.iterfind(".//opf:meta[@property='schema:accessMode']", ns)}
        assert modes == ({"textual", "visual", "auditory"} if "narrated" in book else {"textual", "visual"})
        summary = opf.find(".//opf:meta[@property='schema:accessibilitySummary']", ns).text
        assert "alternative text" in summary and ("highlighted" in summary) == ("narrated" in book)
        validated = not isinstance(result.report["books"][book]["validators"]["epubcheck"], str)
        assert ("checked automatically with EPUBCheck and DAISY Ace" in summary) == validated
        assert (opf.find(".//opf:meta[@property='a11y:certifiedBy']", ns) is not None) == validated


def test_the_audiobook_has_one_chapter_per_article_in_order(full_build: tuple[Path, BuildResult]) -> None:
    import json
    import shutil
    import subprocess
    import tomllib

    from conftest import SOURCE

    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: run scripts/setup.sh") if in_ci() else pytest.skip("ffprobe is missing")
    folder = full_build[0] / "imind-spring-2025-audio"
    (full,) = [path for path in folder.glob("*.mp3") if not path.name[:2].isdigit()]
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(full)],
                           capture_output=True, text=True, check=True)
    chapters = json.loads(probe.stdout)["chapters"]
    slugs = tomllib.loads((SOURCE / "edition.toml").read_text(encoding="utf-8"))["articles"]
    titles = [chapter["tags"]["title"] for chapter in chapters]
    assert len(chapters) == len(slugs) == 16
    assert titles[0] == "From the Editorial team" and titles[-1] == "Bringing Co-Creation to Life"
    starts = [float(chapter["start_time"]) for chapter in chapters]
    assert starts == sorted(starts) and starts[0] == 0
    assert sorted(path.name for path in folder.glob("[0-9][0-9]-*.mp3")) == [
        f"{number:02d}-{slug}.mp3" for number, slug in enumerate(slugs, start=1)]


def test_the_narrated_book_gives_each_articles_measured_listening_time(full_build: tuple[Path, BuildResult]) -> None:
    output, result = full_build
    slug = "compassionate-care-trauma-informed"
    with zipfile.ZipFile(output / "imind-spring-2025-narrated.epub") as archive:
        narrated = archive.read(f"EPUB/text/{slug}.xhtml").decode("utf-8")
    with zipfile.ZipFile(output / "imind-spring-2025.epub") as archive:
        text = archive.read(f"EPUB/text/{slug}.xhtml").decode("utf-8")
    hours, minutes, seconds = result.report["narration"]["articles"][slug].split(":")
    measured = round(int(hours) * 3600 + int(minutes) * 60 + float(seconds))
    assert f'<span class="listening-time">{measured // 60} minutes {measured % 60} seconds</span>' in narrated
    assert '<span class="listening-time">about ' in text  # the text book can only estimate


def test_the_text_books_listening_estimates_are_near_the_narration(full_build: tuple[Path, BuildResult]) -> None:
    """'About N minutes to listen to' in the text book, against the real engine's measured length: within a
    fifth (or a minute, for the shortest pieces) for every article, and within 5 % over the edition."""
    output, result = full_build
    estimated_total = measured_total = 0.0
    with zipfile.ZipFile(output / "imind-spring-2025.epub") as archive:
        for slug, length in result.report["narration"]["articles"].items():
            text = archive.read(f"EPUB/text/{slug}.xhtml").decode("utf-8")
            found = re.search(r'<span class="listening-time">about (\d+) minutes?</span>', text)
            assert found, slug
            hours, minutes, seconds = length.split(":")
            measured = int(hours) * 60 + int(minutes) + float(seconds) / 60
            estimated = int(found.group(1))
            assert abs(estimated - measured) <= max(1.0, measured / 5), (slug, estimated, measured)
            estimated_total, measured_total = estimated_total + estimated, measured_total + measured
    assert abs(estimated_total - measured_total) <= measured_total / 20, (estimated_total, measured_total)
