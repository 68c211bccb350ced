"""The build report (builder.run.report): what it records of a build, and which verdicts stop publication."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from edition_fixtures import write_golden_edition

from builder.book.package import write_epub
from builder.run import report, validate
from builder.run.build import book_name, prepare, source_date, text_book
from builder.run.records import Prepared

PASSED_EPUBCHECK = {"version": "5.3.0", "fatal": 0, "errors": 0, "warnings": 2, "usages": 0, "messages": ["W"]}
PASSED_ACE = {"version": "1.4.6", "violations": {"critical": 0, "serious": 0, "moderate": 0, "minor": 0},
              "messages": []}
FAULTED_ACE = {"version": "1.4.6", "violations": {"critical": 1, "serious": 2, "moderate": 0, "minor": 0},
               "messages": ["critical image-alt: text/a.xhtml: Ensures <img> elements have alternate text"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Prepared, dict, Path]:
    folder = tmp_path_factory.mktemp("report")
    prepared = prepare(write_golden_edition(folder / "source"))
    books = {book_name(prepared.edition.slug, "standard"): text_book(prepared)}
    for name, book in books.items():
        write_epub(book, source_date(prepared.edition), folder / name)
    return prepared, books, folder


def test_an_unvalidated_build_records_its_books_images_and_pages(built: tuple) -> None:
    prepared, books, folder = built
    data = report.report(prepared, books, folder, False, {})
    (entry,) = data["books"].values()
    epub = folder / "golden-edition.epub"
    assert (entry["bytes"], entry["sha256"]) == (epub.stat().st_size, hashlib.sha256(epub.read_bytes()).hexdigest())
    assert entry["validators"] == {"epubcheck": "not run (--no-validate)", "ace": "not run (--no-validate)"}
    assert entry["accessibility"]["certified_by"] in ("", None)
    assert data["edition"] == {"title": "Golden Edition: A Small Magazine, Spring 2025",
                               "identifier": "urn:uuid:00000000-0000-4000-8000-00000000901d",
                               "language": "en-GB", "articles": 2}
    assert [(image["src"], image["decorative"]) for image in data["images"]] == [
        ("../images/chart.png", False), ("../images/rule.png", True)]
    assert data["page_list"] == {"pages": ["7", "8"], "articles_with_start_page": "1/2"}


def test_the_report_files_are_written_sorted_and_readable(built: tuple, tmp_path: Path) -> None:
    prepared, books, folder = built
    data = report.report(prepared, books, folder, False, {"status": "not built: no engine"})
    report.write_report(data, tmp_path)
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Build report: Golden Edition: A Small Magazine, Spring 2025\n\n2 articles,")
    assert "- epubcheck: not run (--no-validate)\n" in markdown
    assert "## Narration\n\n- status: not built: no engine\n" in markdown
    assert "- `../images/rule.png` in `text/bibliography-figure.xhtml` (decorative)" in markdown


def verdicts(**books: dict) -> dict:
    return {"books": {name: {"validators": validators} for name, validators in books.items()}}


def test_warnings_pass_and_each_faulted_book_is_one_e070() -> None:
    data = verdicts(**{"a.epub": {"epubcheck": PASSED_EPUBCHECK, "ace": PASSED_ACE},
                       "b.epub": {"epubcheck": PASSED_EPUBCHECK, "ace": FAULTED_ACE}})
    (failure,) = report.validation_failures(data)
    assert str(failure) == (
        "error E070: b.epub fails Ace 1.4.6: 3 violations (1 critical, 2 serious, 0 moderate, 0 minor); first:"
        " critical image-alt: text/a.xhtml: Ensures <img> elements have alternate text. The sources passed their"
        " checks, so this is a builder bug: please report it. --no-validate publishes the books marked as unchecked.")


def test_a_validator_that_cannot_run_is_one_e071_however_many_books_it_leaves_unchecked() -> None:
    missing = "not run: DAISY Ace is not available (/x/ace-cli is missing); run scripts/setup-tools.sh"
    data = verdicts(**{name: {"epubcheck": PASSED_EPUBCHECK, "ace": missing} for name in ("a.epub", "b.epub")})
    assert [str(failure) for failure in report.validation_failures(data)] == [
        "error E071: cannot validate the books: DAISY Ace is not available (/x/ace-cli is missing); run"
        " scripts/setup-tools.sh. Or build with --no-validate: the books then say they were not checked."]


def test_a_validator_that_cannot_start_is_a_verdict_not_a_crash(built: tuple, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The runners really fail (no Ace at ACE_BIN, a PATH without Java); validator_result says so."""
    monkeypatch.setenv("ACE_BIN", str(tmp_path / "ace-cli"))
    monkeypatch.setenv("PATH", str(tmp_path))
    epub = built[2] / "golden-edition.epub"
    assert report.validator_result("ace", epub) == (
        f"not run: DAISY Ace is not available ({tmp_path / 'ace-cli'} is missing); {validate.REMEDY}")
    assert report.validator_result("epubcheck", epub) == (
        f"not run: Java (needed by EPUBCheck) is not available (no `java` on PATH); {validate.REMEDY}")


def test_validator_lines() -> None:
    assert report.validator_line(PASSED_EPUBCHECK) == "EPUBCheck 5.3.0: 0 fatal, 0 errors, 2 warnings"
    assert report.validator_line(PASSED_ACE) == "Ace 1.4.6: 0 violations (0 critical, 0 serious, 0 moderate, 0 minor)"
    assert report.validator_line("not run (--no-validate)") == "not run (--no-validate)"
