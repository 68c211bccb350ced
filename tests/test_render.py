"""Rendering: golden XHTML for small articles (re-save with `pytest --update-goldens`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Golden
from lxml import etree

from builder.book.render import render_article
from builder.sources import load_article
from builder.sources.config import load_manifest

CASES = Path(__file__).parent / "golden" / "cases"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


def edition_with(tmp_path: Path, case: Path) -> Path:
    root = tmp_path / "edition"
    (root / "articles").mkdir(parents=True)
    (root / "images").mkdir()
    for name in ("chart.png", "rule.png"):
        (root / "images" / name).write_bytes(PNG)
    (root / "articles" / case.name).write_text(case.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "edition.toml").write_text(
        'title = "T"\nedition = "E"\ndate = "2025-01-01"\npublisher = "P"\nlanguage = "en-GB"\n'
        f'identifier = "urn:x"\nslug = "t"\narticles = ["{case.stem}"]\n', encoding="utf-8")
    return root


@pytest.mark.parametrize("case", sorted(CASES.glob("*.md")), ids=lambda path: path.stem)
def test_rendered_xhtml_matches_golden(case: Path, tmp_path: Path, golden: Golden) -> None:
    root = edition_with(tmp_path, case)
    article, _ = load_article(root / "articles" / case.name, case.stem, load_manifest(root))
    xhtml = render_article(article, "en-GB").document.xhtml
    etree.fromstring(xhtml.encode("utf-8"))  # well-formed
    golden(case.with_suffix(".xhtml"), xhtml)


def test_noterefs_and_notes_link_both_ways(tmp_path: Path) -> None:
    case = CASES / "notes-math-pullquote.md"
    root = edition_with(tmp_path, case)
    article, _ = load_article(root / "articles" / case.name, case.stem, load_manifest(root))
    tree = etree.fromstring(render_article(article, "en-GB").document.xhtml.encode("utf-8"))
    ns = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    ref = tree.find(".//h:a[@epub:type='noteref']", ns)
    note = tree.find(f".//h:li[@id='{ref.get('href')[1:]}']", ns)
    assert note.get("{http://www.idpf.org/2007/ops}type") == "endnote"
    back = note.find(".//h:a[@role='doc-backlink']", ns)
    assert back.get("href") == f"#{ref.get('id')}"
    math = tree.find(".//{http://www.w3.org/1998/Math/MathML}math")
    assert math.get("alttext") == "Productivity equals output divided by input"
    pullquote = tree.find(".//h:aside[@epub:type='pullquote']", ns)
    assert pullquote.get("aria-hidden") == "true"


def test_contents_page_matches_golden(tmp_path: Path, golden: Golden) -> None:
    """The printed contents: its page numbers as printed for the eye ("07"), said as the page list says them
    ("Page 7") for the ear; and the nav document titled for what it is, not as the title page."""
    from builder.book.navigation import contents_page, nav_document
    from builder.run.build import render_edition

    case = tmp_path / "case"
    case.mkdir()
    (case / "notes-math-pullquote.md").write_text(
        (CASES / "notes-math-pullquote.md").read_text(encoding="utf-8").replace('page: "7"', 'page: "07"'),
        encoding="utf-8")
    rendered = render_edition(edition_with(tmp_path, case / "notes-math-pullquote.md"))
    xhtml = contents_page(rendered.edition, rendered.articles).xhtml
    golden(CASES.parent / "contents.xhtml", xhtml)
    assert '<span class="visually-hidden">Page 7</span> <span aria-hidden="true">07</span>' in xhtml
    nav = nav_document(rendered.edition, rendered.articles)
    assert "<title>Table of contents</title>" in nav and f"<title>{rendered.edition.title}</title>" not in nav
