"""The second test edition (tests/editions/second): what it must hold for the tests that build it, that its
sources pass `check`, that its images are the ones its script draws, that narration says what the reviewed
speech script says, and that every book of it, narrated included, passes the validators with exact overlays."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from conftest import Golden, in_ci, validators_present
from edition_fixtures import run_cli
from lxml import etree

from builder.errors import BuildError
from builder.narration.read_aloud import mark_articles
from builder.run.build import BuildOptions, BuildResult, build, prepare
from builder.sources.config import load_manifest

SECOND = Path(__file__).resolve().parent / "editions" / "second"
PROJECT = SECOND.parent.parent.parent


def front_and_body(slug: str) -> tuple[dict, str]:
    text = (SECOND / "articles" / f"{slug}.md").read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def test_sources_pass_check(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(["check", SECOND], capsys)
    assert run.code == 0, run.err
    assert run.lines() == [], run.err  # not even a warning


def test_holds_what_the_issue_asks_for() -> None:
    """Issue 12, item 8: at least six articles and 3,000 words of prose, whole French and German articles,
    passages in other languages, fractions and units, code, verse, footnotes, images of each kind, emoji."""
    manifest = load_manifest(SECOND)
    articles = {slug: front_and_body(slug) for slug in manifest.article_slugs}
    assert len(articles) >= 6
    prose = " ".join(re.sub(r"[|`#*:\-]+", " ", body) for _, body in articles.values())
    assert len(re.findall(r"[^\W\d_]+", prose)) >= 3000
    languages = {front.get("language") for front, _ in articles.values()}
    assert {"fr", "de"} <= languages
    assert any(front["kind"] == "poem" for front, _ in articles.values())
    bodies = "\n".join(body for _, body in articles.values())
    for needle in ("]{lang=fr}", "::: {lang=de}", "::: verse", "```", "[^1]:", "{.decorative}", "::: description",
                   "1⅞", "⅛", "4¾", "1 to 1¼", "32° F.", "200 °C", "NaHCO₃", "12/02/2026", "2026-", "7:30 p.m.",
                   "Henry VIII", "«", "„", "z. B.", "M. ", "Mme", "S.A.", "Jan.", "Jul.", "St.", "oz.", "lb.", " km",
                   "|  |"):
        assert needle in bodies, needle
    assert re.search(r"[\U0001F300-\U0001FAFF]", bodies), "no emoji"


def test_images_are_the_drawn_ones() -> None:
    """The committed PNGs are exactly what scripts/draw_second_edition.py draws (they are sources)."""
    spec = importlib.util.spec_from_file_location("draw_second_edition", PROJECT / "scripts" / "draw_second_edition.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, draw in (("baking-times.png", script.baking_times), ("dough-rising.png", script.dough_rising),
                       ("wave-rule.png", script.wave_rule)):
        assert (SECOND / "images" / name).read_bytes() == draw(), name


# --- what narration says: the reviewed speech script ------------------------------------------

GOLDEN_SCRIPT = Path(__file__).resolve().parent / "golden" / "speech" / "second-edition.txt"


def speech_script_of(source: Path) -> str:
    """Every sentence as sent to the engine: article, language, pause after it, words."""
    marked, _ = mark_articles(prepare(source))
    lines = []
    for document, sentences in marked.values():
        assert document.article is not None
        lines.append(f"## {document.article.slug}")
        lines += [f"{s.language}\t{s.pause}\t{s.spoken}" for s in sentences]
    return "\n".join(lines) + "\n"


def test_speech_script_matches_the_reviewed_golden(golden: Golden) -> None:
    golden(GOLDEN_SCRIPT, speech_script_of(SECOND))


# --- the narrated build, validated (one per test run) ----------------------------------------


@pytest.fixture(scope="module")
def second_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The second edition as `make edition` builds it: every profile, narrated by the real engine, validated."""
    output = tmp_path_factory.mktemp("second-build")
    options = BuildOptions(source=SECOND, output=output, profiles=("standard", "readable", "large-print"),
                           cache_dir=tmp_path_factory.mktemp("second-clips"), validate=in_ci() or validators_present())
    try:
        return output, build(options)
    except BuildError as failed:
        pytest.fail(f"the second edition does not build: {failed}")


def validated(result: BuildResult, validator: str) -> dict[str, dict]:
    found = {}
    for name, book in result.report["books"].items():
        outcome = book["validators"][validator]
        if isinstance(outcome, str):
            (pytest.fail if in_ci() else pytest.skip)(f"VALIDATOR DID NOT RUN for {name}: {outcome}")
        found[name] = outcome
    return found


@pytest.mark.validators
@pytest.mark.engine
def test_every_book_of_the_second_edition_passes_the_validators(second_build: tuple[Path, BuildResult]) -> None:
    output, result = second_build
    assert not result.failures, result.failures
    assert {path.name for path in output.glob("*.epub")} == {
        "common-ground-winter-2026.epub", "common-ground-winter-2026-readable.epub",
        "common-ground-winter-2026-large-print.epub", "common-ground-winter-2026-narrated.epub"}
    for name, outcome in validated(result, "epubcheck").items():
        assert (outcome["fatal"], outcome["errors"], outcome["warnings"]) == (0, 0, 0), f"{name}: {outcome}"
    for name, outcome in validated(result, "ace").items():
        assert sum(outcome["violations"].values()) == 0, f"{name}: {outcome['messages']}"


@pytest.mark.engine
def test_the_report_lists_each_language_and_its_voice(second_build: tuple[Path, BuildResult]) -> None:
    output, result = second_build
    voices = result.report["narration"]["voices"]
    for language, voice in (("en-GB", "gmw/en"), ("fr", "roa/fr"), ("cy", "cel/cy"), ("es", "roa/es")):
        assert f"{language}: " in voices and f"({voice})" in voices, voices
    assert "- voices: " in (output / "report.md").read_text(encoding="utf-8")


@pytest.mark.engine
def test_the_overlays_are_exact(second_build: tuple[Path, BuildResult]) -> None:
    """Every sentence of the speech script has its par, in order, pointing at an element of its document, and the
    clips of an article follow one another without gap or overlap up to the article's measured duration."""
    output, result = second_build
    marked, _ = mark_articles(prepare(SECOND))
    smil_ns = "{http://www.w3.org/ns/SMIL}"
    with zipfile.ZipFile(output / "common-ground-winter-2026-narrated.epub") as book:
        for document, sentences in marked.values():
            assert document.article is not None
            slug = document.article.slug
            smil = etree.fromstring(book.read(f"EPUB/smil/{slug}.smil"))
            xhtml = etree.fromstring(book.read(f"EPUB/text/{slug}.xhtml"))
            ids = set(xhtml.xpath("//@id"))
            pars = smil.iter(f"{smil_ns}par")
            targets, clips = [], []
            for par in pars:
                text, clip = par.find(f"{smil_ns}text"), par.find(f"{smil_ns}audio")
                assert text is not None and clip is not None
                targets.append(text.get("src", "").split("#", 1)[1])
                clips.append((float(clip.get("clipBegin", "")[:-1]), float(clip.get("clipEnd", "")[:-1])))
            assert targets == [s.id for s in sentences], slug
            assert set(targets) <= ids, slug
            assert clips[0][0] == 0.0 and all(a < b for a, b in clips), slug
            assert all(previous[1] == following[0] for previous, following in pairwise(clips))
            hours, minutes, seconds = result.report["narration"]["articles"][slug].split(":")
            assert abs(clips[-1][1] - (int(hours) * 3600 + int(minutes) * 60 + float(seconds))) < 0.002, slug
