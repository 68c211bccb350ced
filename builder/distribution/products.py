"""The products one build writes and what each claims: the one model every record format reads.

Claims come only from `builder.book.accessibility` (its `describe*` functions): this module chooses which
description fits which product and adds what a record needs beside it (file, media type, ONIX form codes,
duration). Frozen dataclasses, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from builder.book import accessibility
from builder.book.accessibility import AccessibilityMetadata
from builder.model import Document, Edition, Resource
from builder.narration.credits import NO_CREDITS, NarratorCredits


class Kind(StrEnum):
    EPUB = "epub"  # the text EPUB, one per reading profile
    NARRATED_EPUB = "narrated-epub"  # EPUB 3 with Media Overlays
    AUDIOBOOK = "audiobook"  # the audiobook folder: MP3s, playlist, transcripts, Readium manifest
    DAISY = "daisy202"  # DAISY 2.02 full text and full audio, zipped
    M4B = "m4b"  # AAC in MP4 with chapters


@dataclass(frozen=True)
class Form:
    """How the records name a kind of product: its media type (OPDS links, MARC 347), its ONIX form
    (List 150), form details (List 175) and EPUB version (List 220, with ProductFormFeature type 15)."""

    media_type: str
    onix_form: str
    onix_details: tuple[str, ...]
    epub_version: str = ""
    audio: bool = False
    text: bool = True


FORMS: dict[Kind, Form] = {
    Kind.EPUB: Form("application/epub+zip", "ED", ("E101",), epub_version="101F"),  # 101F: EPUB 3.3
    Kind.NARRATED_EPUB: Form("application/epub+zip", "ED", ("E101", "A305"), epub_version="101F", audio=True),
    Kind.AUDIOBOOK: Form("audio/mpeg", "AJ", ("A103",), audio=True, text=False),  # A103: MP3
    Kind.DAISY: Form("application/zip", "AJ", ("A204", "A103"), audio=True),  # A204: full audio and full text
    Kind.M4B: Form("audio/mp4", "AJ", ("A107",), audio=True, text=False),  # A107: AAC
}


@dataclass(frozen=True)
class File:
    """A further file of a product (the audiobook's manifest, playlist), relative to the output folder."""

    name: str
    media_type: str


@dataclass(frozen=True)
class Product:
    kind: Kind
    file_name: str  # relative to the output folder; for a folder, its main file ("<slug>-audio/<title>.mp3")
    accessibility: AccessibilityMetadata
    profile: str = "standard"  # the reading profile of a text EPUB
    duration: float | None = None  # seconds, for a product with audio
    narrators: NarratorCredits = NO_CREDITS  # the synthetic voices, named as such, for a product with audio
    files: tuple[File, ...] = ()  # the product's other files, if it has any
    identifier: str = ""  # the product's own identifier (an EPUB's dc:identifier), when it has one

    @property
    def form(self) -> Form:
        return FORMS[self.kind]

    @property
    def media_type(self) -> str:
        return self.form.media_type

    def identifier_in(self, edition: Edition) -> str:
        """Its own identifier, or one made from the edition's for a product that carries none inside it."""
        return self.identifier or f"{edition.identifier}#{self.key}"

    @property
    def key(self) -> str:
        """Unique within a release: 'epub', 'epub-readable', 'narrated-epub', 'audiobook', 'daisy202', 'm4b'."""
        return self.kind.value if self.profile == "standard" else f"{self.kind.value}-{self.profile}"


@dataclass(frozen=True)
class Release:
    """Everything one build publishes, for the records: the edition, its products, when and how it was built."""

    edition: Edition
    products: tuple[Product, ...]
    modified: datetime  # the build's timestamp (SOURCE_DATE_EPOCH or the edition's date): the assessment date
    checked: bool  # EPUBCheck and Ace judged the EPUBs in this build
    documents: tuple[Document, ...] = ()  # the text books' documents, in spine order
    cover: Resource | None = None  # the books' cover image, shown by catalogues

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """The edition's language first, then every other language a passage is in: found when a record asks
        (a text build writes none, and need not read every document for it)."""
        return languages(self.edition, self.documents)

    def product(self, kind: Kind, profile: str = "standard") -> Product | None:
        return next((item for item in self.products if item.kind is kind and item.profile == profile), None)

    def of_kind(self, *kinds: Kind) -> tuple[Product, ...]:
        return tuple(item for item in self.products if item.kind in kinds)


def text_epub(file_name: str, claims: AccessibilityMetadata, profile: str = "standard") -> Product:
    return Product(Kind.EPUB, file_name, claims, profile=profile)


def narrated_epub(file_name: str, claims: AccessibilityMetadata, duration: float,
                  narrators: NarratorCredits) -> Product:
    return Product(Kind.NARRATED_EPUB, file_name, claims, duration=duration, narrators=narrators)


def audiobook(file_name: str, documents: Sequence[Document], duration: float, narrators: NarratorCredits,
              files: Iterable[File] = ()) -> Product:
    files = tuple(files)
    transcripts = any(item.name.endswith(".vtt") for item in files)
    return Product(Kind.AUDIOBOOK, file_name, accessibility.describe_audiobook(documents, transcripts),
                   duration=duration, narrators=narrators, files=files)


def daisy(file_name: str, documents: Sequence[Document], duration: float,
          narrators: NarratorCredits) -> Product:
    return Product(Kind.DAISY, file_name, accessibility.describe_daisy(documents), duration=duration,
                   narrators=narrators)


def m4b(file_name: str, documents: Sequence[Document], duration: float,
        narrators: NarratorCredits) -> Product:
    return Product(Kind.M4B, file_name, accessibility.describe_audiobook(documents, transcripts=False),
                   duration=duration, narrators=narrators)


LANG = re.compile(r'\sxml:lang="([^"]+)"')


def languages(edition: Edition, documents: Sequence[Document]) -> tuple[str, ...]:
    """The edition's language, then each other language a passage is marked in (contract 2), in order found."""
    found = dict.fromkeys([edition.language])
    for document in documents:
        found.update(dict.fromkeys(LANG.findall(document.xhtml)))
    return tuple(found)


def release(edition: Edition, documents: Sequence[Document], products: Iterable[Product], modified: datetime,
            checked: bool, cover: Resource | None = None) -> Release:
    return Release(edition, tuple(products), modified, checked, tuple(documents), cover)


ROLE_ORDER = ("editor", "author", "interviewer", "interviewee", "compiler", "transcriber")


def credits(edition: Edition) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every person credited, once, with their roles: the editors first (an issue is an edited work), then the
    others in order of first appearance; roles in a fixed order, so records are stable."""
    roles: dict[str, set[str]] = {}
    for article in edition.articles:
        for author in article.authors:
            roles.setdefault(author.name, set()).add(author.role)
    ranked = sorted(roles, key=lambda name: "editor" not in roles[name])  # stable: appearance order kept
    rank = {role: number for number, role in enumerate(ROLE_ORDER)}
    return tuple((name, tuple(sorted(roles[name], key=lambda role: rank.get(role, len(rank))))) for name in ranked)


def bibliographic_language(tag: str) -> str:
    """ISO 639-2/B, the code ONIX (List 74) and MARC 21 use: 'eng' for 'en-GB', 'wel' for 'cy', 'ger' for 'de'."""
    import langcodes  # only the records need it: kept off the text build's start-up

    try:
        return langcodes.Language.get(tag).to_alpha3(variant="B")
    except (LookupError, ValueError):
        return "und"  # undetermined, as both standards spell it
