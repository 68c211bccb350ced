"""Navigation (builder.book.navigation): the nav document's golden, and its promises one by one.

The golden edition is the renderer's two golden cases as one edition (tests/edition_fixtures.py).
Re-save the golden with `pytest --update-goldens` when a change is meant, and read its diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Golden, pretty_xml
from edition_fixtures import GOLDEN, write_edition, write_golden_edition
from lxml import etree

from builder.book import navigation
from builder.run.build import prepare
from builder.run.records import Prepared

NS = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(write_golden_edition(tmp_path_factory.mktemp("golden") / "source"))


def nav_tree(prepared: Prepared) -> etree._Element:
    return etree.fromstring(navigation.nav_document(prepared.edition, prepared.documents).encode("utf-8"))


def test_the_nav_document_matches_its_golden(prepared: Prepared, golden: Golden) -> None:
    golden(GOLDEN / "book" / "nav.xhtml", pretty_xml(navigation.nav_document(prepared.edition, prepared.documents)))


def test_the_toc_lists_every_document_in_spine_order_with_its_sections(prepared: Prepared) -> None:
    toc = nav_tree(prepared).find(".//h:nav[@epub:type='toc']", NS)
    top = [a.get("href") for a in toc.iterfind("h:ol/h:li/h:a", NS)]
    assert top == [document.file_name for document in prepared.documents]
    first = prepared.articles[0]
    nested = [a.get("href") for a in toc.iterfind("h:ol/h:li[3]/h:ol/h:li/h:a", NS)]
    assert nested == [f"{first.file_name}#{heading.id}" for heading in first.headings if heading.level == 2]
    assert nested, "the first golden article has sections"


def test_every_nav_link_points_at_a_document_and_an_id_it_has(prepared: Prepared) -> None:
    documents = {document.file_name: etree.fromstring(document.xhtml.encode("utf-8"))
                 for document in prepared.documents}
    links = [a.get("href") for a in nav_tree(prepared).iter("{http://www.w3.org/1999/xhtml}a")]
    assert len(links) > len(documents)
    for href in links:
        name, _, fragment = href.partition("#")
        assert name in documents, href
        if fragment:
            assert documents[name].xpath("//*[@id=$id]", id=fragment), href


def test_landmarks_name_each_kind_once_and_the_body_starts_at_the_first_article(prepared: Prepared) -> None:
    landmarks = nav_tree(prepared).find(".//h:nav[@epub:type='landmarks']", NS)
    marks = [(a.get(EPUB_TYPE), a.get("href")) for a in landmarks.iterfind(".//h:a", NS)]
    assert marks == [("titlepage", navigation.TITLE_PAGE), ("toc", navigation.CONTENTS_PAGE),
                     ("bodymatter", prepared.articles[0].file_name)]
    assert landmarks.get("hidden") == "hidden"


def test_the_page_list_gives_each_print_page_in_order(prepared: Prepared) -> None:
    pages = nav_tree(prepared).find(".//h:nav[@epub:type='page-list']", NS)
    assert [(a.text, a.get("href")) for a in pages.iterfind(".//h:a", NS)] == [
        ("7", "text/notes-math-pullquote.xhtml#page-7"), ("8", "text/notes-math-pullquote.xhtml#page-8")]


def test_an_edition_without_print_pages_has_no_page_list(tmp_path: Path) -> None:
    prepared = prepare(write_edition(tmp_path / "source"))
    assert nav_tree(prepared).find(".//h:nav[@epub:type='page-list']", NS) is None


def test_the_contents_page_reproduces_the_print_contents(prepared: Prepared) -> None:
    contents = etree.fromstring(navigation.contents_page(prepared.edition, prepared.articles).xhtml.encode("utf-8"))
    items = contents.findall(".//h:ol[@class='contents-list']/h:li", NS)
    assert [item.find("h:a", NS).text for item in items] == ["Notes, math and pull quotes", "Figures and references"]
    assert [item.find("h:a", NS).get("href") for item in items] == [f"../{a.file_name}" for a in prepared.articles]
    page = items[0].find(".//h:span[@class='contents-page']", NS)
    assert [(span.get("class"), span.get("aria-hidden"), span.text) for span in page] == [
        ("visually-hidden", None, "Page 7"), (None, "true", "7")]  # said as the page list says it; shown as printed
    assert items[0].find(".//h:span[@class='contents-byline']", NS).text == "By Dr A Writer"
    assert items[1].find(".//h:span[@class='contents-page']", NS) is None  # no print page: none shown


def test_the_title_page_shows_the_cover_with_its_alt_text_and_the_credits(prepared: Prepared) -> None:
    page = etree.fromstring(navigation.title_page(prepared.edition, "images/cover.png", "The cover.").xhtml
                            .encode("utf-8"))
    cover = page.find(".//h:img", NS)
    assert (cover.get("src"), cover.get("alt")) == ("../images/cover.png", "The cover.")
    assert page.find(".//h:h1", NS).text == "Golden Edition"
    assert page.find(".//h:p[@class='subtitle']", NS).text == "A Small Magazine"
    assert page.find(".//h:section[@class='cover-lines']", NS) is None  # the manifest gives none
    assert page.find(".//h:p[@class='source']", NS).text == "Print edition: Golden Edition, Spring 2025 (print)."
