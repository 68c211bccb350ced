"""OPDS catalogue feeds of the edition's products: OPDS 2.0 (`opds.json`) and OPDS 1.2 Atom (`opds.xml`).

One publication per product, each with its acquisition links and types, the cover, languages, contributors
and the Readium `accessibility` object read from the product's `AccessibilityMetadata`; and the Display
Guide's statements for people (`statements`), in OPDS 2 as an extension property of the publication's
metadata keyed by the Guide's address, in Atom as the entry's XHTML content, which OPDS 1 clients show.
Links are relative to the feed, which sits beside the products in the output folder.

`publications(release)` returns one edition's OPDS 2 publication entries, so a catalogue-wide feed can
combine the entries of many editions: `write_catalogue` writes that feed at a catalogue's output root, in
OPDS 2 (one navigation link per edition's own feed, and every edition's publications) and in OPDS 1.2
(an acquisition feed of every publication, and a navigation feed of the editions' own feeds, since an
OPDS 1 feed is one kind or the other).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from lxml import etree

from builder.book.accessibility import CONFORMS_TO, AccessibilityMetadata
from builder.distribution import statements
from builder.distribution.products import Kind, Product, Release, credits

OPDS2 = "opds.json"
OPDS1 = "opds.xml"
OPDS1_NAVIGATION = "opds-navigation.xml"  # a catalogue's OPDS 1.2 navigation feed, beside its acquisition feed
OPDS2_TYPE = "application/opds+json"
OPDS1_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ACQUISITION = "http://opds-spec.org/acquisition"
STATEMENTS_KEY = "https://www.w3.org/publishing/a11y/display-guide/"  # the Display Guide's statements
# dcterms:conformsTo → the URI Readium and EPUB Accessibility 1.1 give the same claim.
CONFORMANCE_URIS = {CONFORMS_TO: "https://www.w3.org/TR/epub-a11y-11#wcag-2.2-aa"}
SCHEMA_TYPES = {Kind.EPUB: "http://schema.org/Book", Kind.NARRATED_EPUB: "http://schema.org/Book",
                Kind.AUDIOBOOK: "http://schema.org/Audiobook", Kind.M4B: "http://schema.org/Audiobook",
                Kind.DAISY: "http://schema.org/Audiobook"}
LABELS = {Kind.EPUB: "EPUB", Kind.NARRATED_EPUB: "EPUB with narration", Kind.AUDIOBOOK: "Audiobook (MP3)",
          Kind.M4B: "Audiobook (M4B)", Kind.DAISY: "DAISY 2.02 talking book"}
OWN_KEYS = {"author": "author", "editor": "editor"}  # Readium keys for these roles; others go in "contributor"
ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/terms/"
XHTML = "http://www.w3.org/1999/xhtml"


def write(release: Release, folder: Path) -> list[str]:
    names = [OPDS2, OPDS1]
    cover = cover_name(release)
    if cover and release.cover is not None:
        (folder / cover).write_bytes(release.cover.content)
        names.append(cover)
    (folder / OPDS2).write_text(json.dumps(feed(release), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / OPDS1).write_bytes(atom_feed(release))
    return names


def cover_name(release: Release) -> str:
    """The cover beside the feed ('<slug>-cover.jpg'), for the publications' images."""
    if release.cover is None:
        return ""
    return f"{release.edition.slug}-cover{Path(release.cover.file_name).suffix}"


def feed(release: Release) -> dict[str, Any]:
    return {
        "metadata": {"title": release.edition.full_title, "modified": timestamp(release)},
        "links": [{"rel": "self", "href": OPDS2, "type": OPDS2_TYPE},
                  {"rel": "alternate", "href": OPDS1, "type": OPDS1_TYPE}],
        "publications": publications(release),
    }


def publications(release: Release, base: str = "", cover: bool = True) -> list[dict[str, Any]]:
    """One edition's OPDS 2 publication entries, one per product, with hrefs relative to its output folder
    (`base` before each: the folder as a catalogue's feed sees it); `cover`: the cover is beside them."""
    return [publication(release, item, base, cover) for item in release.products]


def timestamp(release: Release) -> str:
    return release.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def title(release: Release, item: Product) -> str:
    profile = f", {item.profile} profile" if item.profile != "standard" else ""
    return f"{release.edition.full_title} ({LABELS[item.kind]}{profile})"


def publication(release: Release, item: Product, base: str = "", cover: bool = True) -> dict[str, Any]:
    edition = release.edition
    metadata: dict[str, Any] = {
        "@type": SCHEMA_TYPES[item.kind],
        "title": title(release, item),
        "identifier": item.identifier_in(edition),
        "modified": timestamp(release),
        "published": edition.date,
        "language": list(release.languages) if len(release.languages) > 1 else release.languages[0],
        "publisher": edition.publisher,
        **people(release),
        "accessibility": accessibility(item.accessibility, base),
        STATEMENTS_KEY: statements.as_dicts(
            statements.sections(item.accessibility, edition.language, release.modified)),
    }
    if edition.description:
        metadata["description"] = edition.description
    if item.narrators.names:
        metadata["narrator"] = [{"name": name} for name in item.narrators.names]
    if item.duration is not None:
        metadata["duration"] = round(item.duration, 3)
    entry: dict[str, Any] = {"metadata": metadata, "links": links(item, base)}
    if cover and cover_name(release) and release.cover is not None:
        entry["images"] = [{"href": base + cover_name(release), "type": release.cover.media_type}]
    return entry


def people(release: Release) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for name, roles in credits(release.edition):
        others = [role for role in roles if role not in OWN_KEYS]
        for role in roles:
            if role in OWN_KEYS:
                found.setdefault(OWN_KEYS[role], []).append({"name": name})
        if others:
            found.setdefault("contributor", []).append({"name": name, "role": others})
    return found


def links(item: Product, base: str = "") -> list[dict[str, Any]]:
    main = {"rel": ACQUISITION, "href": base + item.file_name, "type": item.media_type, "title": LABELS[item.kind]}
    extra = [{"rel": ACQUISITION, "href": base + other.name, "type": other.media_type}
             for other in item.files if other.media_type == "application/audiobook+json"]
    return [main, *extra]


def accessibility(claims: AccessibilityMetadata, base: str = "") -> dict[str, Any]:
    """The Readium accessibility object (a11y.schema.json): the same claims as the EPUB's package."""
    found: dict[str, Any] = {}
    if claims.conforms_to in CONFORMANCE_URIS:
        found["conformsTo"] = [CONFORMANCE_URIS[claims.conforms_to]]
    if claims.certified_by:
        found["certification"] = {"certifiedBy": claims.certified_by, "report": base + "report.md"}
    found["summary"] = claims.summary
    found["accessMode"] = list(claims.access_modes)
    found["accessModeSufficient"] = [modes.split(",") if "," in modes else modes
                                     for modes in claims.access_modes_sufficient]
    found["feature"] = list(claims.features)
    found["hazard"] = list(claims.hazards)
    return found


def atom_feed(release: Release) -> bytes:
    """OPDS 1.2: an acquisition feed, one entry per product, for clients that read only Atom."""
    edition = release.edition
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "dc": DC, "opds": "http://opds-spec.org/2010/catalog"})
    add(root, "id", f"{edition.identifier}#catalogue")
    add(root, "title", edition.full_title)
    add(root, "updated", timestamp(release))
    add(add(root, "author"), "name", edition.publisher)
    for rel, href, kind in (("self", OPDS1, OPDS1_TYPE), ("start", OPDS1, OPDS1_TYPE.replace("acquisition",
                                                                                            "navigation")),
                            ("alternate", OPDS2, OPDS2_TYPE)):
        link(root, rel, href, kind)
    for item in release.products:
        atom_entry(release, item, add(root, "entry"))
    return serialise(root)


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def add(parent: etree._Element, tag: str, text: str | None = None, namespace: str = ATOM) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        element.text = text
    return element


def link(parent: etree._Element, rel: str, href: str, kind: str, title_text: str = "") -> None:
    element = add(parent, "link")
    element.set("rel", rel)
    element.set("href", href)
    element.set("type", kind)
    if title_text:
        element.set("title", title_text)


def atom_entry(release: Release, item: Product, entry: etree._Element, base: str = "", cover: bool = True) -> None:
    edition = release.edition
    add(entry, "title", title(release, item))
    add(entry, "id", item.identifier_in(edition))
    add(entry, "updated", timestamp(release))
    for name, _ in credits(edition):
        add(add(entry, "author"), "name", name)
    for language in release.languages:
        add(entry, "language", language, DC)
    add(entry, "publisher", edition.publisher, DC)
    add(entry, "issued", edition.date, DC)
    if edition.description:
        add(entry, "summary", edition.description).set("type", "text")
    content = add(entry, "content")
    content.set("type", "xhtml")
    content.append(statements_xhtml(statements.sections(item.accessibility, edition.language, release.modified),
                                    edition.language))
    if cover and cover_name(release) and release.cover is not None:
        link(entry, "http://opds-spec.org/image", base + cover_name(release), release.cover.media_type)
    for acquisition in links(item, base):
        link(entry, ACQUISITION, acquisition["href"], acquisition["type"], acquisition.get("title", ""))


def statements_xhtml(found: tuple[statements.Section, ...], language: str) -> etree._Element:
    div = etree.Element(f"{{{XHTML}}}div", nsmap={None: XHTML})
    div.set("lang", language)
    for section in found:
        add(div, "h3", section.title, XHTML)
        items = add(div, "ul", None, XHTML)
        for statement in section.statements:
            add(items, "li", statement.descriptive, XHTML)
    return div


# ---------------------------------------------------------------------------------------- a catalogue's feed


@dataclass(frozen=True)
class Shelf:
    """One edition as a catalogue's feed lists it: its release, its folder (beside the feed) and which of
    its own files were written (a text-only build writes no feed and no cover of its own)."""

    slug: str
    release: Release
    written: frozenset[str]  # names of the files in its folder

    @property
    def base(self) -> str:
        return f"{self.slug}/"

    @property
    def cover(self) -> bool:
        return cover_name(self.release) in self.written


def write_catalogue(title: str, shelves: Sequence[Shelf], folder: Path) -> list[str]:
    """The catalogue's feeds at its output root (nothing when no edition was built): every edition's
    publications, and a way to each edition's own feed."""
    if not shelves:
        return []
    (folder / OPDS2).write_text(json.dumps(catalogue_feed(title, shelves), ensure_ascii=False, indent=2) + "\n",
                                encoding="utf-8")
    (folder / OPDS1).write_bytes(catalogue_atom(title, shelves))
    (folder / OPDS1_NAVIGATION).write_bytes(catalogue_navigation(title, shelves))
    return [OPDS2, OPDS1, OPDS1_NAVIGATION]


def catalogue_modified(shelves: Sequence[Shelf]) -> str:
    return max(timestamp(shelf.release) for shelf in shelves)


def catalogue_id(title: str) -> str:
    """A stable IRI for the catalogue's Atom feeds, from its title (a catalogue has no identifier of its own)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'edition-builder catalogue: ' + title)}"


def catalogue_feed(title: str, shelves: Sequence[Shelf]) -> dict[str, Any]:
    """OPDS 2: navigation to each edition's own feed, and every edition's publications."""
    found: dict[str, Any] = {
        "metadata": {"title": title, "modified": catalogue_modified(shelves), "numberOfItems": sum(
            len(shelf.release.products) for shelf in shelves)},
        "links": [{"rel": "self", "href": OPDS2, "type": OPDS2_TYPE},
                  {"rel": "alternate", "href": OPDS1, "type": OPDS1_TYPE},
                  {"rel": "start", "href": OPDS2, "type": OPDS2_TYPE}],
    }
    navigation = [{"href": shelf.base + OPDS2, "type": OPDS2_TYPE, "rel": "subsection",
                   "title": shelf.release.edition.full_title} for shelf in shelves if OPDS2 in shelf.written]
    if navigation:
        found["navigation"] = navigation
    found["publications"] = [entry for shelf in shelves
                             for entry in publications(shelf.release, shelf.base, shelf.cover)]
    return found


def catalogue_atom(title: str, shelves: Sequence[Shelf]) -> bytes:
    """OPDS 1.2 acquisition feed: every edition's products, one entry each."""
    root = catalogue_root(title, shelves, "")
    for rel, href, kind in (("self", OPDS1, OPDS1_TYPE), ("start", OPDS1_NAVIGATION, NAVIGATION_TYPE),
                            ("alternate", OPDS2, OPDS2_TYPE)):
        link(root, rel, href, kind)
    for shelf in shelves:
        for item in shelf.release.products:
            atom_entry(shelf.release, item, add(root, "entry"), shelf.base, shelf.cover)
    return serialise(root)


NAVIGATION_TYPE = OPDS1_TYPE.replace("acquisition", "navigation")


def catalogue_navigation(title: str, shelves: Sequence[Shelf]) -> bytes:
    """OPDS 1.2 navigation feed: every publication (the acquisition feed beside it), then each edition's own
    acquisition feed."""
    root = catalogue_root(title, shelves, "#navigation")
    for rel, href, kind in (("self", OPDS1_NAVIGATION, NAVIGATION_TYPE), ("start", OPDS1_NAVIGATION,
                                                                          NAVIGATION_TYPE)):
        link(root, rel, href, kind)
    updated = catalogue_modified(shelves)
    entries = [(f"{catalogue_id(title)}#all", f"{title}: every publication", OPDS1, updated)]
    entries += [(f"{shelf.release.edition.identifier}#catalogue", shelf.release.edition.full_title,
                 shelf.base + OPDS1, timestamp(shelf.release)) for shelf in shelves if OPDS1 in shelf.written]
    for identifier, heading, href, when in entries:
        entry = add(root, "entry")
        add(entry, "title", heading)
        add(entry, "id", identifier)
        add(entry, "updated", when)
        add(entry, "content", heading).set("type", "text")
        link(entry, "subsection", href, OPDS1_TYPE)
    return serialise(root)


def catalogue_root(title: str, shelves: Sequence[Shelf], fragment: str) -> etree._Element:
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "dc": DC, "opds": "http://opds-spec.org/2010/catalog"})
    add(root, "id", catalogue_id(title) + fragment)
    add(root, "title", title)
    add(root, "updated", catalogue_modified(shelves))
    publishers = dict.fromkeys(shelf.release.edition.publisher for shelf in shelves)
    for publisher in publishers:
        add(add(root, "author"), "name", publisher)
    return root
