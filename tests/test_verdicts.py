"""Validation that costs once (builder.run.validation): verdicts cached by each book's SHA-256 and the
validators' identity, and EPUBCheck in one JVM / Ace with one browser judging as their command lines do.
Real validators throughout; a missing one fails in CI and skips loudly elsewhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import in_ci, validators_present
from edition_fixtures import article, snapshot, write_edition
from epub_fixtures import write_epub

from builder.run import report as report_module
from builder.run import validate, validation
from builder.run.build import BuildOptions, build

pytestmark = pytest.mark.validators


@pytest.fixture(autouse=True)
def _validators() -> None:
    if not validators_present():
        if in_ci():
            pytest.fail("VALIDATOR UNAVAILABLE (CI is set: run scripts/setup-tools.sh)", pytrace=False)
        pytest.skip("VALIDATOR UNAVAILABLE: EPUBCheck or Ace is not installed (scripts/setup-tools.sh)")


def test_a_cached_verdict_skips_the_validators_and_a_one_byte_edit_runs_them_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_edition(tmp_path / "source", {"first": article("Some text for the validators.\n")})
    cache = tmp_path / "cache"
    options = BuildOptions(source=source, output=tmp_path / "first", audio=False, cache_dir=cache)
    first = build(options)
    book = first.report["books"]["fixture-edition.epub"]
    assert book["validators"]["epubcheck"]["version"].startswith("5.")  # really judged
    assert book["validators"]["ace"]["version"].startswith("1.")
    assert len(list((cache / "verdicts").glob("*.json"))) == 2

    def must_not_run(validator: str, path: Path) -> dict:
        raise AssertionError(f"{validator} ran on a book it had judged")

    monkeypatch.setattr(report_module, "validator_result", must_not_run)
    build(replace(options, output=tmp_path / "again"))
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "first")  # the same bytes, report included
    monkeypatch.undo()

    manuscript = source / "articles" / "first.md"
    manuscript.write_text(manuscript.read_text(encoding="utf-8").replace("Some", "Same"), encoding="utf-8")
    edited = build(replace(options, output=tmp_path / "edited")).report["books"]["fixture-edition.epub"]
    assert edited["sha256"] != book["sha256"]
    assert len(list((cache / "verdicts").glob("*.json"))) == 4  # judged again, by the real validators
    assert edited["validators"]["epubcheck"]["fatal"] == edited["validators"]["epubcheck"]["errors"] == 0
    assert sum(edited["validators"]["ace"]["violations"].values()) == 0


def test_a_damaged_verdict_is_not_believed(tmp_path: Path) -> None:
    cache = validation.VerdictCache(tmp_path)
    key = cache.key("ace", "0" * 64, "identity")
    cache.store(key, {"version": "1.4.6", "violations": {}, "messages": []})
    assert cache.load(key) == {"version": "1.4.6", "violations": {}, "messages": []}
    (stored,) = (tmp_path / "verdicts").glob("*.json")
    stored.write_text(stored.read_text().replace(key, "f" * 64))  # another key's verdict under this name
    assert cache.load(key) is None
    stored.write_text("{")
    assert cache.load(key) is None


def test_one_jvm_and_one_browser_judge_as_the_command_lines_do(tmp_path: Path) -> None:
    books = [write_epub(tmp_path / "valid.epub", image=True), write_epub(tmp_path / "no-nav.epub", nav=False),
             write_epub(tmp_path / "no-alt.epub", image=True, image_alt=None),
             write_epub(tmp_path / "valid-after.epub", image=True)]  # the browser's pages, kept, carry nothing over
    epubcheck, ace = validation.EpubcheckSession(), validation.AceSession()
    try:
        for book in books:  # each session checks every book in its one process
            assert epubcheck.check(book) == validate.run_epubcheck(book), book.name
            assert ace.check(book) == validate.run_ace(book), book.name
        assert epubcheck.helper is not None and ace.helper is not None  # the one-process routes were taken
        assert validate.run_epubcheck(books[1]).errors > 0 and validate.run_ace(books[2]).total > 0
    finally:
        epubcheck.close()
        ace.close()


def test_the_text_books_are_judged_while_the_narration_speaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The text EPUB is written, and its validators started, before the narration: (i) pays for them beside
    the speech, and only the narrated book is judged after it."""
    import time

    from builder.narration import synthesis
    from builder.narration.engines import espeak_ng

    events: list[tuple[str, str]] = []

    class Speaker(synthesis.FakeSynthesizer):  # slow enough for the validators to start while it speaks
        def synthesize(self, text: str, voice: synthesis.Voice) -> synthesis.Clip:
            events.append(("spoken", text))
            time.sleep(0.2)
            return super().synthesize(text, voice)

    judged = report_module.validator_result

    def recorded(validator: str, path: Path) -> dict | str:
        events.append(("judged", path.name))
        return judged(validator, path)

    monkeypatch.setattr(espeak_ng, "Pyttsx3Synthesizer", Speaker)
    monkeypatch.setattr(report_module, "validator_result", recorded)
    source = write_edition(tmp_path / "source", {"first": article("One. Two. Three. Four. Five. Six.\n")})
    result = build(BuildOptions(source=source, output=tmp_path / "out", jobs=1))
    last_spoken = max(index for index, (what, _) in enumerate(events) if what == "spoken")
    text = [index for index, event in enumerate(events) if event == ("judged", "fixture-edition.epub")]
    narrated = [index for index, event in enumerate(events) if event == ("judged", "fixture-edition-narrated.epub")]
    assert len(text) == len(narrated) == 2  # EPUBCheck and Ace, once each
    assert max(text) < last_spoken < min(narrated)
    for book in result.report["books"].values():
        assert book["validators"]["epubcheck"]["errors"] == 0 and book["validators"]["ace"]["version"]
