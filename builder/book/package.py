"""EPUB packaging: the only module that imports ebooklib (when it writes a book). Writes a reproducible zip.

ebooklib 0.20 builds the package document, the NCX and the container; we hand it finished
documents as plain items (its EpubHtml re-parses content and can drop <head>), then re-zip its output
so that bytes depend only on the sources: `mimetype` first and stored, entries in a fixed order,
timestamps from SOURCE_DATE_EPOCH, and `xml:lang` on <package>, which ebooklib does not write.
"""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from builder.book.accessibility import AccessibilityMetadata
from builder.book.navigation import NAV
from builder.model import Document, Edition, Resource

if TYPE_CHECKING:
    from ebooklib import epub

OPF = "http://www.idpf.org/2007/opf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_FOLDER = "EPUB"
ACTIVE_CLASS = "-epub-media-overlay-active"
PLAYBACK_ACTIVE_CLASS = "-epub-media-overlay-playing"
# Already compressed: deflating them again costs seconds for nothing.
COMPRESSED_MEDIA = (".mp3", ".png", ".jpg", ".jpeg", ".gif", ".webp")


@dataclass(frozen=True)
class Narration:
    """What a narrated book adds: a SMIL overlay per document and the durations."""

    overlays: dict[str, str]  # document file name → SMIL resource file name
    durations: dict[str, str]  # SMIL resource file name → clock value
    total_duration: str
    narrators: tuple[str, ...]  # each voice's narrator name (narration.credits): the text's, then the questions'


@dataclass(frozen=True)
class Book:
    edition: Edition
    documents: tuple[Document, ...]  # spine order
    nav: str
    resources: tuple[Resource, ...]
    accessibility: AccessibilityMetadata
    cover: Resource
    narration: Narration | None = None
    extra_metadata: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    rendition: str = "standard"  # the reading profile, or "narrated": each book has its own identifier


def rendition_identifier(edition_identifier: str, rendition: str) -> str:
    """The standard book keeps the edition's identifier; every other rendition has its own, derived from it
    (a name-based UUID, stable from build to build), so reading and library systems hold the books apart."""
    if rendition == "standard":
        return edition_identifier
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{edition_identifier}#{rendition}").urn


def item_id(file_name: str) -> str:
    stem = file_name.rsplit("/", 1)[-1].replace(".", "-")
    prefix = file_name.split("/", 1)[0] if "/" in file_name else "root"
    return f"{prefix}-{stem}"


def write_epub(book: Book, modified: datetime, target: Path) -> None:
    """Write the finished EPUB to `target` (a staging path: the build publishes it atomically)."""
    from ebooklib import epub  # only when a book is written: an unchanged one is reused (builder.run.reuse)

    package = ebooklib_book(book)
    raw = io.BytesIO()
    epub.write_epub(raw, package, {
        "raise_exceptions": True,
        "epub2_guide": False,
        "epub3_landmark": False,
        "epub3_pages": False,
        "mtime": modified,
        "compresslevel": 0,  # re-zipped below: compressing twice is wasted time
    })
    files = {f"{CONTENT_FOLDER}/{resource.file_name}": resource.path for resource in book.resources if resource.path}
    reproducible_zip(raw.getvalue(), book.edition.language, modified, files, target)


def ebooklib_book(book: Book) -> epub.EpubBook:
    from ebooklib import epub

    edition = book.edition
    package = epub.EpubBook()
    package.FOLDER_NAME = CONTENT_FOLDER
    package.set_identifier(rendition_identifier(edition.identifier, book.rendition))
    if book.rendition != "standard":  # derived from the edition's standard book
        package.add_metadata("DC", "source", edition.identifier, {"id": "edition-source"})
    package.set_title(edition.full_title)
    package.set_language(edition.language)  # the main language first: reading systems take the first
    for language in book_languages(book)[1:]:
        package.add_metadata("DC", "language", language)
    for number, name in enumerate(edition.creators(), start=1):
        package.add_author(name, uid=f"creator{number}")
    package.add_metadata("DC", "publisher", edition.publisher)
    package.add_metadata("DC", "date", edition.date)
    if edition.description:
        package.add_metadata("DC", "description", edition.description)
    if edition.print_source:  # the print edition the page list comes from
        package.add_metadata("DC", "source", edition.print_source, {"id": "print-source"})
        package.add_metadata(None, "meta", "pagination", {"property": "source-of", "refines": "#print-source"})
    elif any(document.pages for document in book.documents):
        # Page numbers with no print edition named: EPUB 3.3 says so with pageBreakSource "none".
        package.add_metadata(None, "meta", "none", {"property": "pageBreakSource"})
    add_accessibility(package, book.accessibility, edition.language)
    for name, value in book.extra_metadata:
        package.add_metadata(None, "meta", value, {"property": name})

    cover = resource_item(book.cover)
    package.add_item(cover)
    package.add_metadata(None, "meta", "", {"name": "cover", "content": cover.id})  # EPUB 2 readers
    for resource in book.resources:
        package.add_item(resource_item(resource))

    nav = document_item(NAV, "Navigation", book.nav, ("nav",))
    package.add_item(nav)
    spine: list[epub.EpubItem] = []
    overlays = book.narration.overlays if book.narration else {}
    for document in book.documents:
        properties = ("mathml",) if document.has_math else ()
        item = document_item(document.file_name, document.title, document.xhtml, properties)
        if document.file_name in overlays:
            item.media_overlay = item_id(overlays[document.file_name])
        package.add_item(item)
        spine.append(item)
    package.spine = spine
    package.toc = [epub.Link(document.file_name, document.title, item_id(document.file_name))
                   for document in book.documents]
    package.add_item(epub.EpubNcx())
    if book.narration:
        add_narration(package, book.narration)
    return package


def book_languages(book: Book) -> tuple[str, ...]:
    """Every language the book uses (documents and marked passages), the edition's first; tags compared
    without case, as BCP 47 says."""
    found = {book.edition.language.lower(): book.edition.language}
    for document in book.documents:
        for language in document.languages:
            found.setdefault(language.lower(), language)
    return tuple(found.values())


def add_accessibility(package: epub.EpubBook, metadata: AccessibilityMetadata, language: str) -> None:
    def meta(name: str, value: str, attributes: dict[str, str] | None = None) -> None:
        package.add_metadata(None, "meta", value, {"property": name, **(attributes or {})})

    # The summary and the certifier are written in English: say so in a book of another language.
    english = {} if language.lower().split("-")[0] == "en" else {XML_LANG: "en"}

    for mode in metadata.access_modes:
        meta("schema:accessMode", mode)
    for sufficient in metadata.access_modes_sufficient:
        meta("schema:accessModeSufficient", sufficient)
    for feature in metadata.features:
        meta("schema:accessibilityFeature", feature)
    for hazard in metadata.hazards:
        meta("schema:accessibilityHazard", hazard)
    meta("schema:accessibilitySummary", metadata.summary, english)
    meta("dcterms:conformsTo", metadata.conforms_to)
    if metadata.certified_by:
        meta("a11y:certifiedBy", metadata.certified_by, english)


def add_narration(package: epub.EpubBook, narration: Narration) -> None:
    for smil, duration in sorted(narration.durations.items()):
        package.add_metadata(None, "meta", duration, {"property": "media:duration", "refines": f"#{item_id(smil)}"})
    package.add_metadata(None, "meta", narration.total_duration, {"property": "media:duration"})
    for narrator in narration.narrators:  # media:narrator may repeat: every voice is credited
        package.add_metadata(None, "meta", narrator, {"property": "media:narrator"})
    package.add_metadata(None, "meta", ACTIVE_CLASS, {"property": "media:active-class"})
    package.add_metadata(None, "meta", PLAYBACK_ACTIVE_CLASS, {"property": "media:playback-active-class"})


def document_item(file_name: str, title: str, xhtml: str, properties: Sequence[str] = ()) -> epub.EpubItem:
    from ebooklib import epub

    item = epub.EpubItem(uid=item_id(file_name), file_name=file_name, media_type="application/xhtml+xml",
                         content=xhtml.encode("utf-8"))
    item.title = title
    item.properties = list(properties)
    return item


def resource_item(resource: Resource) -> epub.EpubItem:
    from ebooklib import epub

    item = epub.EpubItem(uid=item_id(resource.file_name), file_name=resource.file_name,
                         media_type=resource.media_type, content=resource.content)
    item.properties = list(resource.properties)
    return item


def reproducible_zip(data: bytes, language: str, modified: datetime, files: dict[str, Path], path: Path) -> None:
    """Re-zip ebooklib's output in a fixed order and with fixed times; entries in `files` are
    streamed from disk (ebooklib only wrote empty placeholders for them)."""
    stamp = modified.astimezone(UTC).timetuple()[:6]
    source = zipfile.ZipFile(io.BytesIO(data))
    names = [name for name in source.namelist() if name != "mimetype"]
    ordered = ["META-INF/container.xml", *sorted(name for name in names if name != "META-INF/container.xml")]
    with zipfile.ZipFile(path, "w") as target:
        write_entry(target, "mimetype", stamp, zipfile.ZIP_STORED, b"application/epub+zip")
        for name in ordered:
            compression = zipfile.ZIP_STORED if name.endswith(COMPRESSED_MEDIA) else zipfile.ZIP_DEFLATED
            if name in files:
                write_entry(target, name, stamp, compression, files[name])
                continue
            content = source.read(name)
            if name.endswith(".opf"):
                content = with_package_language(content, language)
            write_entry(target, name, stamp, compression, content)


def write_entry(target: zipfile.ZipFile, name: str, stamp: tuple, compression: int, content: bytes | Path) -> None:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    info.create_system = 3  # Unix, whatever the build machine
    level = 9 if compression == zipfile.ZIP_DEFLATED else None
    if isinstance(content, bytes):
        target.writestr(info, content, compresslevel=level)
        return
    info.file_size = content.stat().st_size
    with content.open("rb") as source, target.open(info, "w") as entry:
        shutil.copyfileobj(source, entry, 1 << 20)


def with_package_language(opf: bytes, language: str) -> bytes:
    root = etree.fromstring(opf)
    root.set(XML_LANG, language)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


