"""OPDS catalogue feeds of the edition's products: OPDS 2.0 (`opds.json`) and OPDS 1.2 Atom (`opds.xml`).

One publication per product, each with its acquisition links and types, the cover, languages, contributors
and the Readium `accessibility` object read from the product's `AccessibilityMetadata`; and the Display
Guide's statements for people (`statements`), in OPDS 2 as an extension property of the publication's
metadata keyed by the Guide's address, in Atom as the entry's XHTML content, which OPDS 1 clients show.
Links are relative to the feed, which sits beside the products in the output folder.

`publications(release)` returns one edition's OPDS 2 publication entries, so a catalogue-wide feed can
combine the entries of many editions.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

from lxml import etree

from builder.accessibility import CONFORMS_TO, AccessibilityMetadata
from builder.distribution import statements
from builder.distribution.products import Kind, Product, Release, credits

OPDS2 = "opds.json"
OPDS1 = "opds.xml"
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


def publications(release: Release) -> list[dict[str, Any]]:
    """One edition's OPDS 2 publication entries, one per product (hrefs relative to its output folder)."""
    return [publication(release, item) for item in release.products]


def timestamp(release: Release) -> str:
    return release.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def title(release: Release, item: Product) -> str:
    profile = f", {item.profile} profile" if item.profile != "standard" else ""
    return f"{release.edition.full_title} ({LABELS[item.kind]}{profile})"


def publication(release: Release, item: Product) -> dict[str, Any]:
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
        "accessibility": accessibility(item.accessibility),
        STATEMENTS_KEY: statements.as_dicts(
            statements.sections(item.accessibility, edition.language, release.modified)),
    }
    if edition.description:
        metadata["description"] = edition.description
    if item.narrators.names:
        metadata["narrator"] = [{"name": name} for name in item.narrators.names]
    if item.duration is not None:
        metadata["duration"] = round(item.duration, 3)
    entry: dict[str, Any] = {"metadata": metadata, "links": links(item)}
    cover = cover_name(release)
    if cover and release.cover is not None:
        entry["images"] = [{"href": cover, "type": release.cover.media_type}]
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


def links(item: Product) -> list[dict[str, Any]]:
    main = {"rel": ACQUISITION, "href": item.file_name, "type": item.media_type, "title": LABELS[item.kind]}
    extra = [{"rel": ACQUISITION, "href": other.name, "type": other.media_type}
             for other in item.files if other.media_type == "application/audiobook+json"]
    return [main, *extra]


def accessibility(claims: AccessibilityMetadata) -> dict[str, Any]:
    """The Readium accessibility object (a11y.schema.json): the same claims as the EPUB's package."""
    found: dict[str, Any] = {}
    if claims.conforms_to in CONFORMANCE_URIS:
        found["conformsTo"] = [CONFORMANCE_URIS[claims.conforms_to]]
    if claims.certified_by:
        found["certification"] = {"certifiedBy": claims.certified_by, "report": "report.md"}
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


def atom_entry(release: Release, item: Product, entry: etree._Element) -> None:
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
    cover = cover_name(release)
    if cover and release.cover is not None:
        link(entry, "http://opds-spec.org/image", cover, release.cover.media_type)
    for acquisition in links(item):
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
