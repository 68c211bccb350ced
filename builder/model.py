"""The typed model every stage passes along. Frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Author:
    name: str
    role: str = "author"
    affiliation: str = ""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    kind: str
    summary: str
    body: str
    source: Path
    body_line: int  # 1-based line of the body's first line in `source`, for diagnostics
    subtitle: str = ""
    page: str = ""  # the start page as the printed Contents gives it, e.g. "02"
    authors: tuple[Author, ...] = ()
    content_notes: tuple[str, ...] = ()
    author_note: str = ""
    contents_title: str = ""  # the entry as the printed Contents words it, when it differs from the title
    contents_credit: str = ""  # the credit as the printed Contents words it, when it differs from the byline
    language: str = ""  # BCP 47 tag from the front matter; "" means the edition's language

    @property
    def page_label(self) -> str:
        """The page's label in the page list: '02' in the printed Contents is page 2."""
        return str(int(self.page)) if self.page.isdigit() else self.page


@dataclass(frozen=True)
class NarrationSettings:
    engine: str = "espeak"  # the speech engine (builder.narration.engines.ENGINES)
    voice: str = "en-gb"  # the voice of the edition's language; "" for the engine's voice for it
    rate: int = 170
    volume: float = 1.0
    voices: tuple[tuple[str, str], ...] = ()  # [narration.voices]: language tag → voice, for the other languages
    # Interviews' questions in a second voice: a voice for the edition's language, or an engine variant ("+f3") put
    # on each language's voice; "" for the default. [narration.question_voices]: language tag → question voice.
    question_voice: str = ""
    question_voices: tuple[tuple[str, str], ...] = ()
    read_emoji: bool = False  # say emoji's names (in the text's language) instead of leaving them out
    read_code: bool = False  # read code blocks line by line after announcing them (default: announce only)


@dataclass(frozen=True)
class Edition:
    title: str
    subtitle: str
    edition: str
    date: str
    publisher: str
    language: str
    identifier: str
    description: str
    print_source: str
    slug: str
    root: Path
    manifest: Path
    articles: tuple[Article, ...]
    disclaimer: str = ""
    cover_lines: tuple[str, ...] = ()  # the print cover's lines, shown on the title page
    cover: Path | None = None  # the cover image's source file; None: the build draws one
    cover_alt: str = ""
    suppressed_warnings: tuple[str, ...] = ()  # warning codes the editors have silenced
    print_pages: int = 0  # how many pages the print edition has (0: not said)
    contents_heading: str = ""  # the contents page's heading as printed; "" means the book's word for Contents
    narration: NarrationSettings = field(default_factory=NarrationSettings)

    def language_of(self, article: Article) -> str:
        return article.language or self.language

    @property
    def full_title(self) -> str:
        return f"{self.title}: {self.subtitle}, {self.edition}" if self.subtitle else self.title

    def creators(self) -> tuple[str, ...]:
        """Every person credited in the edition, in order of first appearance."""
        seen: dict[str, None] = {}
        for article in self.articles:
            for author in article.authors:
                seen.setdefault(author.name, None)
        return tuple(seen)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str


@dataclass(frozen=True)
class Image:
    src: str  # href relative to the content document
    alt: str
    decorative: bool
    caption: str = ""
    has_long_description: bool = False


@dataclass(frozen=True)
class Document:
    """One XHTML content document, ready to be enriched and packaged."""

    file_name: str  # path inside the EPUB's content folder, e.g. "text/editors-note.xhtml"
    title: str
    xhtml: str
    article: Article | None = None
    headings: tuple[Heading, ...] = ()
    pages: tuple[str, ...] = ()  # print page labels, in order; ids are "page-<label>"
    images: tuple[Image, ...] = ()
    has_math: bool = False
    landmark: str = ""  # epub:type for the landmarks nav, e.g. "bodymatter"
    language: str = ""  # the document's language (its root's lang)
    languages: tuple[str, ...] = ()  # every language the document uses, its own first
    # (line of the XHTML, line of the article file) where a rendered element starts: validators' verdicts
    # told as source lines (builder.sources.lines), kept here because the published markup carries none.
    source_lines: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Resource:
    """A non-document file in the package: stylesheet, image, audio, SMIL, lexicon."""

    file_name: str
    media_type: str
    content: bytes
    properties: tuple[str, ...] = ()
    path: Path | None = None  # content kept in this file instead (audio), so it is never all in memory
