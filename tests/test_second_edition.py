"""The second test edition (tests/editions/second): what it must hold for the tests that build it,
that its sources pass `check`, and that its images are the ones its script draws."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from edition_fixtures import run_cli

from builder.build import prepare
from builder.config import load_manifest
from builder.read_aloud import mark_articles

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


def test_speech_script_matches_the_reviewed_golden(update_goldens: bool) -> None:
    script = speech_script_of(SECOND)
    if update_goldens:
        GOLDEN_SCRIPT.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN_SCRIPT.write_text(script, encoding="utf-8")
    assert GOLDEN_SCRIPT.exists(), "no golden speech script: run pytest --update-goldens and review it"
    assert script == GOLDEN_SCRIPT.read_text(encoding="utf-8")
