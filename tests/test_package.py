"""Packaging (builder.book.package): the package document's golden and the reproducible zip."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Golden, pretty_xml
from edition_fixtures import GOLDEN, write_golden_edition
from lxml import etree

from builder.book import package
from builder.model import Resource
from builder.run.build import prepare, source_date, text_book
from builder.run.records import Prepared

OPF = {"opf": "http://www.idpf.org/2007/opf"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(write_golden_edition(tmp_path_factory.mktemp("golden") / "source"))


@pytest.fixture(scope="module")
def epub(prepared: Prepared, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("package") / "golden-edition.epub"
    package.write_epub(text_book(prepared), source_date(prepared.edition), path)
    return path


def opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as book:
        return etree.fromstring(book.read("EPUB/content.opf"))


def test_the_package_document_matches_its_golden(epub: Path, golden: Golden) -> None:
    with zipfile.ZipFile(epub) as book:
        golden(GOLDEN / "book" / "package.opf", pretty_xml(book.read("EPUB/content.opf").decode("utf-8")))


def test_the_zip_is_reproducible_mimetype_first_and_stored(prepared: Prepared, epub: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.epub"
    package.write_epub(text_book(prepared), source_date(prepared.edition), again)
    assert again.read_bytes() == epub.read_bytes()
    with zipfile.ZipFile(epub) as book:
        entries = book.infolist()
    assert (entries[0].filename, entries[0].compress_type) == ("mimetype", zipfile.ZIP_STORED)
    assert entries[1].filename == "META-INF/container.xml"
    assert [e.filename for e in entries[2:]] == sorted(e.filename for e in entries[2:])
    assert {e.date_time for e in entries} == {(2025, 4, 1, 0, 0, 0)}  # the edition's date, never the clock
    assert {e.external_attr >> 16 for e in entries} == {0o644}


def test_the_spine_is_the_reading_order_and_items_say_what_they_hold(prepared: Prepared, epub: Path) -> None:
    root = opf(epub)
    items = {item.get("id"): item for item in root.iterfind(".//opf:item", OPF)}
    spine = [items[ref.get("idref")].get("href") for ref in root.iterfind(".//opf:itemref", OPF)]
    assert spine == [document.file_name for document in prepared.documents]
    by_href = {item.get("href"): item.get("properties", "") for item in items.values()}
    assert by_href["nav.xhtml"] == "nav"
    assert by_href["images/cover.png"] == "cover-image"
    assert by_href["text/notes-math-pullquote.xhtml"] == "mathml"
    assert by_href["text/bibliography-figure.xhtml"] == ""
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"  # ebooklib does not write it


def test_media_are_stored_and_streamed_from_their_files(prepared: Prepared, tmp_path: Path) -> None:
    """A narrated book's MP3s are not read into memory: the zip streams them from the resource's path."""
    audio = tmp_path / "clip.mp3"
    audio.write_bytes(b"\xff\xf3" + bytes(range(256)) * 64)
    book = text_book(prepared)
    with_audio = package.Book(book.edition, book.documents, book.nav,
                              (*book.resources, Resource("audio/clip.mp3", "audio/mpeg", b"", path=audio)),
                              book.accessibility, book.cover)
    target = tmp_path / "book.epub"
    package.write_epub(with_audio, datetime(2025, 1, 2, tzinfo=UTC), target)
    with zipfile.ZipFile(target) as written:
        info = written.getinfo("EPUB/audio/clip.mp3")
        assert info.compress_type == zipfile.ZIP_STORED
        assert written.read(info) == audio.read_bytes()
        assert written.getinfo("EPUB/text/title.xhtml").compress_type == zipfile.ZIP_DEFLATED


def test_item_ids_are_unique_and_stable(epub: Path) -> None:
    ids = [item.get("id") for item in opf(epub).iterfind(".//opf:item", OPF)]
    assert len(ids) == len(set(ids))
    names = ["text/title.xhtml", "images/title.xhtml", "nav.xhtml", "css/edition.css"]
    assert [package.item_id(name) for name in names] == [
        "text-title-xhtml", "images-title-xhtml", "root-nav-xhtml", "css-edition-css"]
