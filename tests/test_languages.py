"""Language end to end in the text books (issue 12): every document and marked passage carries its
language, foreign-language entries are marked in the contents and the nav, dc:language lists every
language; and the parts of iMind the code used to hold are the edition's (contents heading, the drawn
cover's description, a summary that names only what the book has)."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

from edition_fixtures import article, write_edition
from lxml import etree

from builder.book import images
from builder.book.accessibility import describe
from builder.model import Document
from builder.run.build import BuildOptions, build, render_edition
from builder.sources import load_edition

NS = {"h": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf",
      "dc": "http://purl.org/dc/elements/1.1/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def multilingual(root: Path, manifest_extra: str = "") -> Path:
    edition = write_edition(root, {
        "english": article("She said [bonjour]{lang=fr} and left.\n\n::: {lang=de}\nGuten Morgen.\n:::\n"),
        "francais": article("Le texte.", title="Un article", language="fr",
                            authors=[{"name": "Anne Dupont"}, {"name": "Jean Martin"}]),
    })
    if manifest_extra:
        manifest = edition / "edition.toml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace("articles =", f"{manifest_extra}\narticles ="),
                            encoding="utf-8")
    return edition


def book_files(tmp_path: Path, source: Path) -> dict[str, etree._Element]:
    build(BuildOptions(source=source, output=tmp_path / "out", audio=False, validate=False))
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as book:
        return {name: etree.fromstring(book.read(name)) for name in book.namelist()
                if name.endswith((".xhtml", ".opf"))}


def test_every_document_and_passage_carries_its_language(tmp_path: Path) -> None:
    files = book_files(tmp_path, multilingual(tmp_path / "edition"))
    for name, root in files.items():
        if name.endswith(".xhtml"):
            expected = "fr" if name.endswith("francais.xhtml") else "en-GB"
            assert (root.get("lang"), root.get(XML_LANG)) == (expected, expected), name
    english = files["EPUB/text/english.xhtml"]
    (french,) = english.xpath("//h:span[.='bonjour']", namespaces=NS)
    (german,) = english.xpath("//h:div[h:p='Guten Morgen.']", namespaces=NS)
    assert (french.get("lang"), french.get(XML_LANG)) == ("fr", "fr")
    assert (german.get("lang"), german.get(XML_LANG)) == ("de", "de")


def test_foreign_entries_are_marked_and_the_package_lists_every_language(tmp_path: Path) -> None:
    files = book_files(tmp_path, multilingual(tmp_path / "edition"))
    (entry,) = files["EPUB/nav.xhtml"].xpath("//h:nav[@id='toc']//h:li[h:a='Un article']", namespaces=NS)
    assert entry.get(XML_LANG) == "fr"
    contents = files["EPUB/text/contents.xhtml"]
    (link,) = contents.xpath("//h:a[.='Un article']", namespaces=NS)
    (credit,) = contents.xpath("//h:span[@class='contents-byline'][contains(., 'Dupont')]", namespaces=NS)
    assert link.get(XML_LANG) == "fr" and credit.get(XML_LANG) == "fr"
    assert credit.text == "Par Anne Dupont et Jean Martin"  # the byline in the article's words
    opf = files["EPUB/content.opf"]
    assert opf.xpath("//dc:language/text()", namespaces=NS) == ["en-GB", "fr", "de"]  # the edition's first
    assert opf.get(XML_LANG) == "en-GB"


def test_the_contents_heading_is_the_manifests_or_the_books_word(tmp_path: Path) -> None:
    default = book_files(tmp_path / "a", multilingual(tmp_path / "a" / "edition"))
    assert default["EPUB/text/contents.xhtml"].xpath("string(//h:h1)", namespaces=NS) == "Contents"
    printed = book_files(tmp_path / "b", multilingual(tmp_path / "b" / "edition", 'contents_heading = "In this issue"'))
    assert printed["EPUB/text/contents.xhtml"].xpath("string(//h:h1)", namespaces=NS) == "In this issue"
    french = multilingual(tmp_path / "c" / "edition")
    manifest = french / "edition.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"en-GB"', '"fr"'), encoding="utf-8")
    files = book_files(tmp_path / "c", french)
    assert files["EPUB/text/contents.xhtml"].xpath("string(//h:h1)", namespaces=NS) == "Sommaire"
    # The accessibility summary is English: a French book says so.
    (summary,) = files["EPUB/content.opf"].xpath("//opf:meta[@property='schema:accessibilitySummary']",
                                                 namespaces=NS)
    assert summary.get(XML_LANG) == "en"
    english = default["EPUB/content.opf"].xpath("//opf:meta[@property='schema:accessibilitySummary']", namespaces=NS)
    assert english[0].get(XML_LANG) is None


def test_the_drawn_covers_description_follows_the_drawing(tmp_path: Path) -> None:
    edition = load_edition(write_edition(tmp_path / "edition")).edition
    described = {}
    for identifier in ("urn:uuid:a", "urn:uuid:b", "urn:uuid:c", "urn:uuid:d"):
        drawn = dataclasses.replace(edition, identifier=identifier)
        part = images.where(images.cover_circles(drawn))
        described[identifier] = images.cover_alt(drawn)
        assert described[identifier].startswith("Cover of Fixture Edition, Test: 12 translucent circles")
        assert f"most of them in its {part}" in described[identifier]
    assert len({images.where(images.cover_circles(dataclasses.replace(edition, identifier=identifier)))
                for identifier in described}) > 1  # the words change with what was drawn
    french = dataclasses.replace(edition, language="fr")
    assert images.cover_alt(french).startswith("Couverture de Fixture Edition, Test : 12 cercles translucides")


def test_the_summary_names_notes_and_pull_quotes_only_when_the_book_has_them(tmp_path: Path) -> None:
    plain = render_edition(write_edition(tmp_path / "plain", {"a": article("Just text.")})).articles
    rich = render_edition(write_edition(tmp_path / "rich", {"a": article(
        "Text with a note.[^1]\n\n::: pullquote\nText with a note.\n:::\n\n[^1]: The note.\n")})).articles
    assert "pull quotes" not in describe(plain, narrated=False, checked=False).summary.lower()
    assert "Notes link" not in describe(plain, narrated=False, checked=False).summary
    assert ("Notes link to and from their references; pull quotes that repeat the text are hidden from screen"
            " readers.") in describe(rich, narrated=False, checked=False).summary
    paged: list[Document] = [dataclasses.replace(plain[0], pages=("3",))]
    unprinted = describe(paged, narrated=False, checked=False, print_source=False)
    assert "printPageNumbers" not in unprinted.features and "print edition" not in unprinted.summary
    assert "printPageNumbers" in describe(paged, narrated=False, checked=False).features
