"""Fidelity of the book to its original: is every sentence of the raw text in the built EPUB, once?

The raw text (source/original/*.txt) is cut into blocks on blank lines and into sentence pieces after
'.', '?' or '!' followed by white space; each piece keeps its line number. Both sides are compared
after `normalise`, which keeps only lower-case letters and digits, so white space, hyphenation
across lines, punctuation, quote marks and markup cannot cause a mismatch. Short pieces ("02",
"Dr.", "Contents") would match anywhere inside longer words, so they must match whole words.

What was deliberately left out of the book, or deliberately repeated in it, is listed with a reason
for each entry in a reviewed exceptions file (source/original/fidelity-exceptions.toml).

Pure functions, no printing: the fidelity test (tests/test_fidelity.py) reports the figures.
"""

from __future__ import annotations

import itertools
import re
import tomllib
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
OPF = "http://www.idpf.org/2007/opf"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"

SHORT_KEY_CHARS = 12  # pieces with fewer normalised characters must match whole words
DUPLICATE_MIN_CHARS = 40  # shorter pieces ("Yes.", "Dr.") recur naturally: not checked for repeats
NON_ARTICLE_PLACES = ("cover", "contents", "front-matter")  # exception places outside the articles
# What the builder adds to an article to help readers (the "At a glance" summary, reading time,
# content notes, skip links): written for the book, so it neither stands for the original's words
# nor repeats them.
READER_AIDS = frozenset({"at-a-glance"})
FRONT_MATTER = frozenset({"titlepage", "toc"})  # epub:types pandoc's EPUB reader leaves out

QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
                        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})
TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
SENTENCE_END = re.compile(r"[.?!][\"')\]’”]*\s+")
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "math", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
})


class FidelityError(ValueError):
    """The exceptions file is malformed, an entry has no reason, or an entry is stale."""


@dataclass(frozen=True)
class RawSentence:
    line: int  # 1-based line of the piece's first character in the raw text
    text: str  # the piece as printed, white space collapsed
    key: str  # normalise(text)
    start: int = 0  # character offsets of the piece in the raw text
    end: int = 0


@dataclass(frozen=True)
class ExceptionEntry:
    article: str  # article slug, or one of NON_ARTICLE_PLACES
    text: str  # as printed in the raw text (white space may differ)
    reason: str

    def spans(self, raw_text: str) -> list[tuple[int, int]]:
        """Where the entry's text occurs in the raw text: as printed, whole words, any white space."""
        return [match.span() for match in literal_pattern(self.text).finditer(raw_text)]


@dataclass(frozen=True)
class Duplicate:
    sentence: RawSentence
    in_body: int  # occurrences in the book's body text, pull quotes left out
    allowed: int  # occurrences the raw text accounts for


@dataclass(frozen=True)
class FidelityReport:
    total: int
    present: tuple[RawSentence, ...]
    missing: tuple[RawSentence, ...]
    excepted: tuple[RawSentence, ...]
    duplicated: tuple[Duplicate, ...]  # unexpected: not excepted
    needless_exceptions: tuple[ExceptionEntry, ...] = ()  # the book has all they cover, repeats none

    @property
    def coverage(self) -> float:
        """Share of the raw text's sentence pieces that are in the book."""
        return len(self.present) / self.total if self.total else 1.0

    @property
    def coverage_excluding_exceptions(self) -> float:
        """Share of the pieces not deliberately left out that are in the book."""
        considered = self.total - len(self.excepted)
        return len(self.present) / considered if considered else 1.0

    def summary(self) -> str:
        return (f"{len(self.present)} of {self.total} raw sentence pieces present ({self.coverage:.2%}); "
                f"{len(self.excepted)} excepted; {len(self.missing)} missing; "
                f"{self.coverage_excluding_exceptions:.2%} excluding exceptions; "
                f"{len(self.duplicated)} unexpected duplicates")


# --- normalisation and sentences ------------------------------------------------------------------


def fold(text: str) -> str:
    """Compatibility forms folded (ligatures, superscripts), quotes straightened, TeX commands out."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    return TEX_COMMAND.sub(" ", text).lower()


def normalise(text: str) -> str:
    """Lower-case letters and digits only: white space, hyphenation, punctuation and markup vanish."""
    return "".join(character for character in fold(text) if character.isalnum())


def words(text: str) -> str:
    """Like `normalise`, but every run of other characters becomes one space (for whole-word matches)."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(text)).split())


def raw_sentences(raw_text: str) -> list[RawSentence]:
    """The raw text as sentence pieces, in order, each with its line number.

    Blocks are separated by blank lines; a block is cut after '.', '?' or '!' (and any closing
    quotes or brackets) followed by white space. Pieces with no letter or digit are left out. A
    piece shorter than SHORT_KEY_CHARS inside a longer block ('Dr.', 'Prof.', '(2014).') is joined
    to the piece after it, or to the one before it at the end of the block, so that it is found in
    context rather than anywhere in the book.
    """
    text = raw_text
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    pieces: list[RawSentence] = []
    block_start = 0
    for boundary in [*BLANK_LINE.finditer(text), None]:
        block_end = boundary.start() if boundary else len(text)
        cuts = [block_start, *(m.end() for m in SENTENCE_END.finditer(text, block_start, block_end)), block_end]
        spans = [(start, end) for start, end in itertools.pairwise(cuts) if normalise(text[start:end])]
        for start, end in join_short(text, spans):
            piece = text[start:end]
            first = start + len(piece) - len(piece.lstrip())
            last = start + len(piece.rstrip())
            pieces.append(RawSentence(line_number(line_starts, first), " ".join(piece.split()), normalise(piece),
                                      first, last))
        block_start = boundary.end() if boundary else len(text)
    return pieces


def join_short(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = list(spans)
    while len(spans) > 1:
        short = next((i for i, (start, end) in enumerate(spans)
                      if len(normalise(text[start:end])) < SHORT_KEY_CHARS), None)
        if short is None:
            break
        other = short + 1 if short + 1 < len(spans) else short - 1
        low, high = sorted((short, other))
        spans[low:high + 1] = [(spans[low][0], spans[high][1])]
    return spans


def line_number(line_starts: Sequence[int], offset: int) -> int:
    low, high = 0, len(line_starts)
    while high - low > 1:
        middle = (low + high) // 2
        if line_starts[middle] <= offset:
            low = middle
        else:
            high = middle
    return low + 1


def literal_pattern(text: str) -> re.Pattern[str]:
    pattern = r"\s+".join(re.escape(part) for part in text.split())
    if re.match(r"\w", text.strip()):
        pattern = r"(?<!\w)" + pattern
    if re.search(r"\w$", text.strip()):
        pattern += r"(?!\w)"
    return re.compile(pattern)


def count_words(haystack: str, needle: str) -> int:
    """Whole-word occurrences of `needle` in `haystack` (both in `words` form)."""
    return len(re.findall(rf"(?<![^ ]){re.escape(needle)}(?![^ ])", haystack))


# --- the exceptions file --------------------------------------------------------------------------


def load_exceptions(path: Path, raw_text: str, articles: Collection[str] | None = None) -> list[ExceptionEntry]:
    """The reviewed exceptions: `[[exception]]` tables with `article`, `text` and `reason`.

    Every entry needs a non-empty reason, and its text must occur in the raw text as printed
    (white space aside): an entry whose text is not there is stale and is an error. When
    `articles` is given, `article` must be one of them or one of NON_ARTICLE_PLACES.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FidelityError(f"{path}: cannot read the exceptions file: {exc}") from exc
    unknown = set(data) - {"exception"}
    if unknown:
        raise FidelityError(f"{path}: unexpected keys {sorted(unknown)}; only [[exception]] tables belong here")
    entries: list[ExceptionEntry] = []
    seen: set[str] = set()
    for number, table in enumerate(data.get("exception", []), start=1):
        where = f"{path}: exception {number}"
        if not isinstance(table, dict) or set(table) != {"article", "text", "reason"}:
            raise FidelityError(f"{where}: needs exactly the keys article, text and reason")
        if not all(isinstance(table[name], str) for name in ("article", "text", "reason")):
            raise FidelityError(f"{where}: article, text and reason must be strings")
        entry = ExceptionEntry(table["article"].strip(), table["text"], " ".join(table["reason"].split()))
        if not entry.reason:
            raise FidelityError(f"{where} ({entry.text!r}): has no reason")
        if articles is not None and entry.article not in articles and entry.article not in NON_ARTICLE_PLACES:
            raise FidelityError(f"{where} ({entry.text!r}): unknown article {entry.article!r}")
        if not normalise(entry.text):
            raise FidelityError(f"{where}: text {entry.text!r} has no letters or digits")
        if not entry.spans(raw_text):
            raise FidelityError(f"{where}: stale, {entry.text!r} does not occur in the raw text")
        if " ".join(entry.text.split()) in seen:
            raise FidelityError(f"{where}: {entry.text!r} is listed twice")
        seen.add(" ".join(entry.text.split()))
        entries.append(entry)
    return entries


# --- the check ------------------------------------------------------------------------------------


class BookCounts:
    """How often a passage occurs in the book's body text and in its pull quotes."""

    def __init__(self, book_text: str, pullquote_text: str) -> None:
        self.body, self.quotes = normalise(book_text), normalise(pullquote_text)
        self.body_words, self.quote_words = words(book_text), words(pullquote_text)
        self.cache: dict[str, tuple[int, int]] = {}

    def __call__(self, text: str) -> tuple[int, int]:
        key = normalise(text)
        if key not in self.cache:
            if len(key) < SHORT_KEY_CHARS:
                needle = words(text)
                self.cache[key] = count_words(self.body_words, needle), count_words(self.quote_words, needle)
            else:
                self.cache[key] = self.body.count(key), self.quotes.count(key)
        return self.cache[key]


def remainder(raw_text: str, piece: RawSentence, spans: Iterable[tuple[int, int]]) -> list[str]:
    """The parts of a piece outside the given spans of the raw text."""
    cuts = sorted((max(start, piece.start), min(end, piece.end)) for start, end in spans
                  if start < piece.end and piece.start < end)
    parts, position = [], piece.start
    for start, end in cuts:
        parts.append(raw_text[position:start])
        position = max(position, end)
    parts.append(raw_text[position:piece.end])
    return [part for part in parts if normalise(part)]


def check(raw_text: str, book_text: str, pullquote_text: str,
          exceptions: Iterable[ExceptionEntry] = ()) -> FidelityReport:
    """Compare the raw text with the book's body text (pull quotes left out) and its pull quotes.

    The book must account for every occurrence of a piece: the n-th piece with the same
    normalised text is present when the book (body and pull quotes together) has it n times and
    the body has it at least once, since a sentence kept only in an aria-hidden pull quote is not
    in the book for every reader. Pieces an exception covers (they overlap an occurrence of its
    text in the raw text) are counted last, so they are excepted only when the book does not have
    them, and only when the rest of the piece, outside the exception's words, is in the body; any
    other piece the book does not have is missing. A piece of DUPLICATE_MIN_CHARS or more is
    duplicated when the body repeats it more often than the raw text does outside the book's pull
    quotes, unless an exception covers it. An exception that excuses nothing is needless.
    """
    exceptions = list(exceptions)
    pieces = raw_sentences(raw_text)
    counts = BookCounts(book_text, pullquote_text)
    raw_key = normalise(raw_text)
    covering: dict[RawSentence, list[ExceptionEntry]] = defaultdict(list)
    spans: dict[RawSentence, list[tuple[int, int]]] = defaultdict(list)
    for entry in exceptions:
        for start, end in entry.spans(raw_text):
            for piece in pieces:
                if piece.start < end and start < piece.end:
                    covering[piece].append(entry)
                    spans[piece].append((start, end))

    budget: Counter[str] = Counter()
    status: dict[RawSentence, str] = {}
    for piece in sorted(pieces, key=lambda piece: piece in covering):  # stable: raw order within each
        in_body, in_quotes = counts(piece.text)
        budget[piece.key] += 1
        if in_body and in_body + in_quotes >= budget[piece.key]:
            status[piece] = "present"
            continue
        budget[piece.key] -= 1
        excused = piece in covering and all(counts(part)[0] for part in remainder(raw_text, piece, spans[piece]))
        status[piece] = "excepted" if excused else "missing"

    needed: set[ExceptionEntry] = set()
    duplicated: list[Duplicate] = []
    reported: set[str] = set()
    for piece in pieces:
        if status[piece] == "excepted":
            needed.update(covering[piece])
        in_body, in_quotes = counts(piece.text)
        if len(piece.key) >= DUPLICATE_MIN_CHARS and piece.key not in reported:
            allowed = max(1, raw_key.count(piece.key) - in_quotes)
            if in_body > allowed:
                reported.add(piece.key)
                excusing = [entry for other in pieces if other.key == piece.key
                            for entry in covering.get(other, [])]
                if excusing:
                    needed.update(excusing)
                else:
                    duplicated.append(Duplicate(piece, in_body, allowed))
    return FidelityReport(
        total=len(pieces),
        present=tuple(piece for piece in pieces if status[piece] == "present"),
        missing=tuple(piece for piece in pieces if status[piece] == "missing"),
        excepted=tuple(piece for piece in pieces if status[piece] == "excepted"),
        duplicated=tuple(duplicated),
        needless_exceptions=tuple(entry for entry in exceptions if entry not in needed),
    )


def remove_once(book_text: str, passages: str) -> str:
    """The book's text with one occurrence of each line of `passages` taken out, in `words` form.

    For readers whose text keeps pull quotes and reader aids inline (pandoc): a pull quote repeats
    a passage that is also in the body, so taking one copy out leaves the body's.
    """
    remaining = "\n".join(f" {words(line)} " for line in book_text.split("\n"))
    for line in passages.split("\n"):
        needle = words(line)
        if needle:
            remaining = remaining.replace(f" {needle} ", " \n ", 1)
    return remaining


# --- the EPUB's text ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookParts:
    """The text of an EPUB's spine documents in reading order, sorted by what it stands for."""

    text: str  # everything a reader reads, pull quotes and reader aids left out
    pullquotes: str  # epub:type="pullquote": repeats of the text, hidden from screen readers
    aids: str  # what the builder adds to help readers (READER_AIDS): never the original's words
    front_matter: str  # the part of `text` in the title page and contents page


def is_reader_aid(element: etree._Element) -> bool:
    return bool(set(element.get("class", "").split()) & READER_AIDS)


def epub_parts(epub_path: Path) -> BookParts:
    """The text of the spine documents in reading order, one line per block element.

    Items of ordered lists carry their number, as a reading system shows and speaks it.
    """
    with zipfile.ZipFile(epub_path) as book:
        container = etree.fromstring(book.read("META-INF/container.xml"))
        opf_path = container.xpath("//c:rootfile/@full-path", namespaces={"c": CONTAINER})[0]
        opf = etree.fromstring(book.read(opf_path))
        ns = {"opf": OPF}
        hrefs = {item.get("id"): item.get("href") for item in opf.xpath("//opf:manifest/opf:item", namespaces=ns)}
        folder = PurePosixPath(opf_path).parent
        text: list[str] = []
        quotes: list[str] = []
        aids: list[str] = []
        front: list[str] = []
        for idref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=ns):
            document = etree.fromstring(book.read(str(folder / hrefs[idref])))
            for body in document.iter(f"{{{XHTML}}}body"):
                text.append(block_text(body, quotes, aids))
                for element in body.iter():
                    if set(element.get(f"{{{OPS}}}type", "").split()) & FRONT_MATTER:
                        front.append(block_text(element, [], []))
    return BookParts("\n".join(text), "\n".join(quotes), "\n".join(aids), "\n".join(front))


def epub_text(epub_path: Path) -> tuple[str, str]:
    """(body text, pull-quote text) of the EPUB's spine documents in reading order; see `epub_parts`."""
    parts = epub_parts(epub_path)
    return parts.text, parts.pullquotes


def block_text(element: etree._Element, pullquotes: list[str], aids: list[str]) -> str:
    """The text inside `element`, one line per block; pull quotes and reader aids are set aside."""
    parts: list[str] = []
    collect_children(element, parts, pullquotes, aids)
    return lines(parts)


def lines(parts: list[str]) -> str:
    found = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in found if line)


def collect(element: etree._Element, parts: list[str], pullquotes: list[str], aids: list[str]) -> None:
    if not isinstance(element.tag, str):  # comments, processing instructions
        return
    if "pullquote" in element.get(f"{{{OPS}}}type", "").split():
        pullquotes.append(block_text(element, pullquotes, aids))
        parts.append("\n")
        return
    if is_reader_aid(element):
        aids.append(block_text(element, pullquotes, aids))
        parts.append("\n")
        return
    name = etree.QName(element).localname
    block = "\n" if name in BLOCK_TAGS else ""
    parts.append(block)
    parent = element.getparent()
    if name == "li" and parent is not None and etree.QName(parent).localname == "ol":
        parts.append(f"{list_number(element)}. ")
    collect_children(element, parts, pullquotes, aids)
    parts.append(block)


def collect_children(element: etree._Element, parts: list[str], pullquotes: list[str], aids: list[str]) -> None:
    parts.append(element.text or "")
    for child in element:
        collect(child, parts, pullquotes, aids)
        parts.append(child.tail or "")


def list_number(item: etree._Element) -> int:
    parent = item.getparent()
    start = parent.get("start", "1") if parent is not None else "1"
    before = sum(1 for sibling in item.itersiblings(preceding=True)
                 if isinstance(sibling.tag, str) and etree.QName(sibling).localname == "li")
    return (int(start) if start.lstrip("-").isdigit() else 1) + before
