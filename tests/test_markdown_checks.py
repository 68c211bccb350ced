"""Markdown others write (issue 17's cases): each renders into valid markup or is refused at its line.

The refusals each have a case in tests/broken/ too; here are the repairs, the author note's checks, the
source-line map kept off the published markup, and the E070 that names the article's line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from edition_fixtures import PIXEL, article, write_edition
from lxml import etree

from builder.book.markdown import markdown_parser
from builder.book.render import render_article
from builder.errors import BuildError
from builder.run.build import BuildOptions, build
from builder.sources import lines as source_lines
from builder.sources import load_edition

NS = {"h": "http://www.w3.org/1999/xhtml", "m": "http://www.w3.org/1998/Math/MathML"}


def rendered(tmp_path: Path, body: str, **front: str) -> etree._Element:
    root = write_edition(tmp_path / "edition", {"a": article(body, **front)}, images={"pixel.png": PIXEL})
    document = render_article(load_edition(root).edition.articles[0], "en", markdown_parser()).document
    assert source_lines.MARK not in document.xhtml
    return etree.fromstring(document.xhtml.encode("utf-8"))


def refusal(tmp_path: Path, body: str, **front: str) -> str:
    with pytest.raises(BuildError) as refused:
        rendered(tmp_path, body, **front)
    return str(refused.value.diagnostics[0])


def test_an_empty_corner_header_becomes_a_data_cell(tmp_path: Path) -> None:
    root = rendered(tmp_path, "|   | 2024 | 2025 |\n|---|---|---|\n| Staff | 10 | 12 |\n")
    first_row = root.xpath("//h:thead/h:tr/*", namespaces=NS)
    assert [etree.QName(cell).localname for cell in first_row] == ["td", "th", "th"]


def test_a_preformatted_block_with_a_blank_line_inside_raw_html_keeps_its_words(tmp_path: Path) -> None:
    root = rendered(tmp_path, "<table><tr><td>\n<pre>\n**Hello**,\n\n_world_.\n</pre>\n</td></tr></table>\n")
    pre = root.xpath("//h:pre", namespaces=NS)[0]
    assert not pre.xpath(".//h:p", namespaces=NS)
    assert " ".join("".join(pre.itertext()).split()) == "**Hello**, world."


def test_a_second_bibliography_keeps_its_own_heading_and_label(tmp_path: Path) -> None:
    root = rendered(tmp_path, "Text.\n\n::: bibliography\n1. One.\n:::\n\n::: bibliography\n## Further reading\n\n"
                              "2. Two.\n:::\n")
    labels = []
    for section in root.xpath("//h:section[@role='doc-bibliography']", namespaces=NS):
        heading = root.xpath(f"//*[@id='{section.get('aria-labelledby')}']", namespaces=NS)[0]
        labels.append(heading.text)
    assert labels == ["References", "Further reading"]


def test_two_bibliographies_of_one_name_are_named_apart(tmp_path: Path) -> None:
    root = rendered(tmp_path, "Text.\n\n::: bibliography\n1. One.\n:::\n\nMore.\n\n::: bibliography\n2. Two.\n:::\n")
    first, second = root.xpath("//h:section[@role='doc-bibliography']", namespaces=NS)
    assert root.xpath(f"string(//*[@id='{first.get('aria-labelledby')}'])", namespaces=NS) == "References"
    assert second.get("aria-label") == "References (2)" and second.get("aria-labelledby") is None


def test_a_myst_equation_label_is_printed_as_its_number(tmp_path: Path) -> None:
    root = rendered(tmp_path, "$$1+1=2$$ (2)\n\n$$a=b$$ (abc)\n")
    numbers = root.xpath("//h:div[@class='numbered-equation']", namespaces=NS)
    assert [number.xpath("string(h:span[@class='equation-number'])", namespaces=NS) for number in numbers] == [
        "(2)", "(abc)"]
    assert all(number.xpath("m:math", namespaces=NS) for number in numbers)
    assert "¶" not in "".join(root.itertext())


def test_math_that_cannot_be_converted_is_refused_without_parser_internals(tmp_path: Path) -> None:
    line = refusal(tmp_path, "$$\nf & = & 2\n$$\n")
    assert "E036" in line and "XMLSyntaxError" not in line and "xmlParse" not in line
    assert "an '&' outside an environment" in line


def test_footnotes_in_body_and_author_note_get_separate_ids(tmp_path: Path) -> None:
    root = rendered(tmp_path, "Body text.[^1]\n\n[^1]: Body note.\n",
                    author_note="Author note.[^1] Again.[^1]\n\n[^1]: Author's note.\n")
    ids = root.xpath("//@id")
    assert len(ids) == len(set(ids))
    for link in root.xpath("//h:a[starts-with(@href, '#')]", namespaces=NS):
        assert link.get("href")[1:] in ids


@pytest.mark.parametrize(("body", "front", "expected"), [
    ("Text.\n\n<h4>Details</h4>\n", {}, "a.md:8: error E021: heading level skips from 1 to 4"),
    ("Text.\n", {"author_note": "### About\n\nText."}, "a.md:5: error E021: heading level skips from 1 to 3"),
    ("Text.\n", {"author_note": "## About\n\n##\n"}, "a.md:5: error E022: an empty heading"),
    ("Text.\n\n<a href=\"https://example.org/\"></a>\n", {}, "a.md:8: error E037"),
    ("[![](../images/pixel.png){.decorative}](https://example.org)\n", {}, "a.md:6: error E037"),
    ("<https://../>\n", {}, "a.md:6: error E038: the address 'https://../' is not valid: its host name"),
    ("[site](https:/example.com/page)\n", {}, "is not valid: 'https:' must be followed by '//'"),
    ('<a href="https://example.org/my file.pdf">the file</a>\n', {}, "is not valid: it contains a space"),
    ('<a href="https://example.org/a`b">b</a>\n', {}, "is not valid: it contains a backtick"),
    ("[docs](https://example.org\\docs)\n", {}, "is not valid: its host name contains a backslash"),
])
def test_refused_with_line_and_what_is_wrong(tmp_path: Path, body: str, front: dict, expected: str) -> None:
    assert expected in refusal(tmp_path, body, **front)


def test_a_valid_address_is_not_refused(tmp_path: Path) -> None:
    rendered(tmp_path, "[a](https://example.org:8080/x?y=1#z) <https://[::1]/> [m](mailto:a@example.org)\n")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.mark.validators
def test_a_validator_fault_names_the_article_file_and_line(tmp_path: Path) -> None:
    """A list item outside its list passes the sanitiser (raw HTML is kept as written) and fails both
    validators: each E070 points at line 12 of the article, where the <li> is written, not at the book."""
    body = "Intro.\n\nMore text.\n\n<div>\n<p>Before.</p>\n<li>A list item outside its list</li>\n</div>\n"
    root = write_edition(tmp_path / "edition", {"a": article(body)})
    try:
        build(BuildOptions(source=root, output=tmp_path / "out", audio=False, validate=True))
    except BuildError as failed:
        lines = [str(diagnostic) for diagnostic in failed.diagnostics]
    else:
        pytest.fail("the book passed both validators")
    if any(" E071: " in line for line in lines):
        message = f"VALIDATOR UNAVAILABLE — {lines}"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    article_file = root / "articles" / "a.md"
    assert lines == [
        f"{article_file}:12: error E070: fixture-edition.epub fails EPUBCheck {validate_version(lines[0])}: 0 fatal,"
        f" 1 errors, 0 warnings; first: ERROR(RSC-005) EPUB/text/a.xhtml:{xhtml_line(lines[0])}: Error while parsing"
        f" file: element \"li\" not allowed here; {lines[0].split('not allowed here; ', 1)[1]}",
        f"{article_file}:12: error E070: fixture-edition.epub fails Ace {validate_version(lines[1])}: 1 violations"
        " (0 critical, 1 serious, 0 moderate, 0 minor); first: serious listitem: text/a.xhtml: List item does not"
        " have a <ul>, <ol> parent element. Check what is written at this line (raw HTML goes into the book as"
        " written); if it is plain Markdown, this is a builder bug: please report it. --no-validate publishes the"
        " books marked as unchecked.",
    ]
    assert not (tmp_path / "out" / "fixture-edition.epub").exists()


def validate_version(line: str) -> str:
    return line.split(" fails ", 1)[1].split(" ")[1].rstrip(":")


def xhtml_line(line: str) -> str:
    return line.split("EPUB/text/a.xhtml:", 1)[1].split(":", 1)[0]


def test_the_source_map_never_reaches_the_book(tmp_path: Path) -> None:
    """Books are the same bytes as without the map: no marker in any document, and rendering is stable."""
    body = "## A\n\nText [link](https://example.org).\n\n<div>\n<p>Raw.</p>\n</div>\n"
    root = write_edition(tmp_path / "edition", {"a": article(body)})
    first = render_article(load_edition(root).edition.articles[0], "en", markdown_parser()).document
    again = render_article(load_edition(root).edition.articles[0], "en", markdown_parser()).document
    assert first.xhtml == again.xhtml and source_lines.MARK not in first.xhtml
    # Each mapped line of the XHTML holds what the source line says: the raw <p> is on line 11 of a.md.
    published = first.xhtml.splitlines()
    raw = next(number for number, text in enumerate(published, start=1) if "<p>Raw.</p>" in text)
    assert source_lines.source_line(first.source_lines, raw) == 11
