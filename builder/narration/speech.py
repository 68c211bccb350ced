"""What the narration says: sentence marking of article XHTML, in the language of each part of it.

The article XHTML (see the rendering contract) is segmented into sentences; each spoken
sentence is wrapped in one ``<span class="sentence">`` whose id the Media Overlay points at,
and carries the language of the text it holds (the nearest ``lang``/``xml:lang``), so that
narration speaks it with that language's voice and normalisation (builder/normalise) says it
with that language's words. Structure is heard too: a table cell with its column header, a
verse line with a pause at its end, a code block announced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby, pairwise

from lxml import etree

from builder.i18n import SPEECH_DOMAIN, Words
from builder.narration.lexicon import Lexicon, Lexicons

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{OPS_NS}}}type"
SPAN = f"{{{XHTML_NS}}}span"
SKIPPABLE_TYPES = ("endnotes", "bibliography")

# ---------------------------------------------------------------------------
# Sentence segmentation
# ---------------------------------------------------------------------------

# Closing quotes of English (” ’), German („…“ ‚…‘), French (« … », often after a no-break space) and
# brackets belong to the sentence they close.
_CLOSERS = "\"'”’“‘»)\\]"
_SENTENCE_END = re.compile(rf"[.!?…]+(?:[\u00a0\u202f ]?»)?[{_CLOSERS}]*(?=\s|$)")
_OPENERS = "\"'“‘„‚«¿¡"  # quotes only: "Systems. [online] Available" still ends at the full stop
_LAST_WORD = re.compile(r"[\w.]+$")
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
# Abbreviations that end a sentence when a capitalised word follows ("at 7:30 p.m. Bring a poem").
_MAY_END = frozenset({"a.m", "p.m", "etc", "usw"})


def split_sentences(text: str, lexicon: Lexicon) -> list[tuple[int, int]]:
    """Sentence ranges (start, end) in ``text``, without surrounding whitespace, by the rules of the
    lexicon's language (its abbreviations and month names: "z. B.", "am 12. Februar")."""
    no_break = lexicon.no_break | frozenset(lexicon.titles)
    months = frozenset(lexicon.months) | frozenset(lexicon.months.values())
    ranges: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, match, no_break, months):
            _append_trimmed(ranges, text, start, match.end())
            start = match.end()
    _append_trimmed(ranges, text, start, len(text))
    return ranges


def _ends_sentence(text: str, match: re.Match[str], no_break: frozenset[str],
                   months: frozenset[str] = frozenset()) -> bool:
    following = text[match.end():].lstrip(_OPENERS + " \u00a0\u202f\n\t").split(maxsplit=1)
    word_after = following[0] if following else ""
    if word_after[:1].islower() and word_after.islower():
        return False  # "et al. suggest", "comfort zone... but" (but "rTMS" may start a sentence)
    if not match.group().startswith("."):
        return True
    before = text[: match.start()]
    word = _LAST_WORD.search(before)
    if word is None:
        return True
    token = word.group()
    if token in _MAY_END and match.group() == ".":
        return word_after[:1].isupper()
    if token in no_break or _DOTTED.fullmatch(token):
        return False  # "Dr.", "e.g.", "et al.", "U.K.", "z. B."
    if len(token) == 1 and token.isupper():
        if before[: word.start()].rstrip().endswith("°"):
            return word_after[:1].isupper()  # "0 °C. In winter", but "32° F. (0 °C)"
        return False  # initials: "J. R. R. Tolkien"
    if token.isdigit() and len(token) <= 2 and word_after.rstrip(".,") in months:
        return False  # an ordinal day: "am 3. März 1912"
    return not (token.isdigit() and not before[: word.start()].strip())  # "1. Standards"


def _append_trimmed(ranges: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        ranges.append((start, end))


# ---------------------------------------------------------------------------
# Sentence marking in the XHTML
# ---------------------------------------------------------------------------


# Silence after a sentence, in seconds, by where it ends: within a paragraph, at the end of a paragraph
# (or list item, caption, cell), after a heading. Roughly SSML's break strengths medium, strong and
# x-strong: a listener hears the text's structure, not one even stream.
SENTENCE_PAUSE = 0.3
BLOCK_PAUSE = 0.6
HEADING_PAUSE = 1.0
# At a verse line's end (contract 3): more than a comma, less than a stanza's end. Where a passage in another
# language starts or ends inside a sentence, the voice changes with hardly a break.
LINE_PAUSE = 0.45
PASSAGE_PAUSE = 0.1
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# The role of a sentence in an interview question (the element with class "question", contract 4, its label
# included): narration gives it the edition's second voice.
QUESTION = "question"
ROLES = (QUESTION,)


@dataclass(frozen=True)
class SpokenSentence:
    id: str
    text: str
    spoken: str
    skippable: str | None
    pause: float = SENTENCE_PAUSE  # seconds of silence after it
    language: str = ""  # BCP 47 tag of the text (nearest lang/xml:lang); "" in documents that carry none
    role: str = ""  # who speaks it: QUESTION inside an interview question (contract 4), "" for the text's own voice


@dataclass(frozen=True)
class SpeechSettings:
    """What an edition chooses about narration's words (edition.toml [narration])."""

    read_emoji: bool = False  # emoji are left out unless the edition asks for their names
    read_code: bool = False  # code blocks are announced ("Code, 6 lines"), and read line by line only if asked


Node = etree._Element | str

_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i", "img", "ins", "kbd",
     "mark", "math", "q", "ruby", "s", "samp", "small", "span", "strong", "sub", "sup", "svg", "time", "u", "var",
     "wbr"}
)
_ATOMIC = frozenset({"math", "img", "br", "svg", "wbr"})
_SILENT_TAGS = frozenset({"script", "style", "template", "head", "noscript"})
_SILENT_TYPES = frozenset({"pagebreak", "noteref", "pullquote"})
_SILENT_ROLES = frozenset({"doc-noteref", "doc-backlink", "doc-pagebreak"})
# reading-time: its listening time is measured after narration, so it cannot be spoken itself
_SILENT_CLASSES = frozenset({"skip-link", "skip-next", "pagebreak", "noteref", "pullquote", "reading-time"})
# Longest sentence group (characters) merged rather than split when markup crosses a
# sentence boundary: a split sentence is heard with a pause in the middle.
MERGE_LIMIT = 300


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _tokens(node: etree._Element, attribute: str) -> frozenset[str]:
    return frozenset((node.get(attribute) or "").split())


def _is_silent(node: etree._Element) -> bool:
    """Comments, hidden subtrees, noterefs, backlinks, skip links, page breaks, pull quotes."""
    if not isinstance(node.tag, str):
        return True
    local = _local(node)
    return (
        local in _SILENT_TAGS
        or node.get("aria-hidden") == "true"
        or node.get("hidden") is not None
        or bool(_tokens(node, EPUB_TYPE) & _SILENT_TYPES)
        or bool(_tokens(node, "role") & _SILENT_ROLES)
        or bool(_tokens(node, "class") & _SILENT_CLASSES)
        or (local == "img" and not (node.get("alt") or "").strip())
    )


def _is_block(node: etree._Element) -> bool:
    return isinstance(node.tag, str) and _local(node) not in _INLINE


def language_of(node: etree._Element, default: str = "") -> str:
    """The language of a node's text: its own or its nearest ancestor's lang or xml:lang (contract 2)."""
    for element in (node, *node.iterancestors()):
        tag = element.get(XML_LANG) or element.get("lang")
        if tag:
            return tag
    return default


def _atomic_text(node: etree._Element) -> str:
    local = _local(node)
    if local == "math":
        return (node.get("alttext") or "").strip()
    if local == "img":
        alt = " ".join((node.get("alt") or "").split())
        parent = node.getparent()
        if parent is not None and _local(parent) == "figure":
            words = Words(language_of(node, "en"), SPEECH_DOMAIN)
            return words("Figure: {alt}", alt=alt) + ("" if alt[-1:] in ".!?" else ".")
        return alt
    return " " if local == "br" else ""


def _spoken_text(node: etree._Element) -> str:
    """The text a node contributes to its sentence (no tail)."""
    if _is_silent(node):
        return ""
    if _local(node) in _ATOMIC:
        return _atomic_text(node)
    parts = [node.text or ""]
    for child in node:
        parts.append(_spoken_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _skippable_type(node: etree._Element) -> str | None:
    types = _tokens(node, EPUB_TYPE)
    return next((t for t in SKIPPABLE_TYPES if t in types), None)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    id: str


class _Marker:
    """Walks the body in reading order, wrapping each sentence in one span."""

    def __init__(self, lexicons: Lexicons, id_prefix: str, settings: SpeechSettings) -> None:
        from builder.narration.normalise import normalise_for_speech  # only when marking: a rebuild reuses marks

        self.normalise = normalise_for_speech
        self.lexicons = lexicons
        self.id_prefix = id_prefix
        self.settings = settings
        self.sentences: list[SpokenSentence] = []
        self.role = ""  # of the sentences being marked: the nearest ancestor's with a role class

    def next_id(self) -> str:
        return f"{self.id_prefix}-s{len(self.sentences) + 1:04d}"

    def say(self, shown: str, language: str, skippable: str | None, pause: float = SENTENCE_PAUSE,
            sentence_id: str | None = None) -> str | None:
        """Add one spoken sentence (unless nothing in it is said); its id, or None."""
        spoken = self.normalise(shown, self.lexicons.of(language), language or self.lexicons.language,
                                      self.settings.read_emoji).lstrip(",;: ")
        if not any(ch.isalnum() for ch in spoken):
            return None
        sentence_id = sentence_id or self.next_id()
        self.sentences.append(SpokenSentence(sentence_id, shown, spoken, skippable, pause, language, self.role))
        return sentence_id

    def walk(self, node: etree._Element, skippable: str | None) -> None:
        if _is_silent(node):
            return
        role = next((name for name in ROLES if name in _tokens(node, "class")), None)
        if role is not None and role != self.role:
            outer, self.role = self.role, role
            try:
                self.walk(node, skippable)
            finally:
                self.role = outer
            return
        skippable = _skippable_type(node) or skippable
        if _local(node) == "table":
            self.table(node, skippable)
            return
        if _local(node) == "pre":
            self.code(node, skippable)
            return
        children = list(node)
        lead: etree._Element | None = None
        run: list[etree._Element] = []
        for child in children:
            if _is_block(child) and not _is_silent(child):
                self.segment(node, lead, run, skippable)
                self.walk(child, skippable)
                lead, run = child, []
            elif _is_block(child):
                # A silent block ends the run; its tail starts the next one.
                self.segment(node, lead, run, skippable)
                lead, run = child, []
            else:
                run.append(child)
        self.segment(node, lead, run, skippable)

    def segment(
        self,
        container: etree._Element,
        lead: etree._Element | None,
        run: list[etree._Element],
        skippable: str | None,
    ) -> None:
        """Mark the sentences of one run of inline content (text, inline children)."""
        items = _items(container, lead, run)
        text = "".join(_node_text(item) for item in items)
        if not text.strip():
            return
        language = language_of(container)
        spans = _element_ranges(items)
        passages, lines = _breaks(items, language)
        cut_at = frozenset([(a, b) for a, b, _ in passages] + lines)
        ranges = _fit_to_markup(split_sentences(text, self.lexicons.of(language)), spans, text, cut_at)
        ranges = _cut_at(ranges, [edge for a, b, _ in passages for edge in (a, b)] + [b for _, b in lines], spans,
                         text)
        pieces = []
        for start, end in ranges:
            shown = " ".join(text[start:end].split())
            inner = [tag for a, b, tag in passages if a <= start and end <= b]
            pause = _pause_after(text, end, passages, lines)
            sentence_id = self.say(shown, inner[-1] if inner else language, skippable, pause)
            if sentence_id is not None:
                pieces.append(_Piece(start, end, sentence_id))
        if pieces:
            _wrap(container, lead, run, items, pieces)
            pause = HEADING_PAUSE if _local(container) in _HEADINGS else BLOCK_PAUSE  # the run ends its block
            self.sentences[-1] = replace(self.sentences[-1], pause=pause)

    def table(self, table: etree._Element, skippable: str | None) -> None:
        """Caption first, then row by row, each data cell with its column header ("Time: 1 to 3 minutes"),
        an empty cell said as empty (contract 5). A cell is one unit: its id is on the cell itself."""
        for caption in table.iter(f"{{{XHTML_NS}}}caption"):
            self.walk(caption, skippable)
        rows = list(table.iter(f"{{{XHTML_NS}}}tr"))
        headers = _column_headers(rows)
        for row in rows:
            said = 0
            cells = _cells(row)
            header_row = _is_header_row(row)
            for column, cell in cells:
                if header_row and not _spoken_text(cell).strip():
                    continue  # the empty corner of a table with row and column headers, th or td
                said += self.cell(cell, headers.get(column), skippable)
            if said:
                self.sentences[-1] = replace(self.sentences[-1], pause=BLOCK_PAUSE)

    def cell(self, cell: etree._Element, header: etree._Element | None, skippable: str | None) -> bool:
        language = language_of(cell)
        words = Words(language or self.lexicons.language, SPEECH_DOMAIN)
        shown = " ".join(_spoken_text(cell).split())
        if not shown.strip("—–-"):
            shown = ""  # a dash alone in a cell means there is nothing there
        is_header = _local(cell) == "th"
        heading = " ".join(_spoken_text(header).split()) if header is not None and header is not cell else ""
        if is_header or not heading:
            spoken_text = shown or words("empty")
        else:
            spoken_text = words("{header}: {cell}", header=heading, cell=shown or words("empty"))
        sentence_id = self.say(spoken_text, language, skippable, sentence_id=cell.get("id") or self.next_id())
        if sentence_id is None:
            return False
        self.sentences[-1] = replace(self.sentences[-1], text=shown)
        cell.set("id", sentence_id)
        return True

    def code(self, pre: etree._Element, skippable: str | None) -> None:
        """A code block is announced with its length; its lines are read, as written, only if the edition
        asks (read_code): a listener rarely wants every bracket."""
        lines = [line for line in "".join(pre.itertext()).split("\n") if line.strip()]
        language = language_of(pre)
        words = Words(language or self.lexicons.language, SPEECH_DOMAIN)
        announced = words.plural("Code, {n} line", "Code, {n} lines", len(lines))
        sentence_id = pre.get("id") or self.next_id()
        self.sentences.append(SpokenSentence(sentence_id, announced, announced, skippable, BLOCK_PAUSE, language,
                                             self.role))
        pre.set("id", sentence_id)
        if not self.settings.read_code:
            return
        for element in (pre, *pre.iterdescendants()):
            _wrap_code_lines(element, self, skippable, language)
        self.sentences[-1] = replace(self.sentences[-1], pause=BLOCK_PAUSE)


def _column_headers(rows: list[etree._Element]) -> dict[int, etree._Element]:
    """Column index → its header cell: th cells with scope="col", or the th cells of a header row (in thead, or
    a first row of th cells besides an empty corner)."""
    headers: dict[int, etree._Element] = {}
    for row in rows:
        header_row = _is_header_row(row) and (row is rows[0] or _local(row.getparent()) == "thead")
        for column, cell in _cells(row):
            if _local(cell) == "th" and (cell.get("scope") == "col" or header_row):
                headers.setdefault(column, cell)
    return headers


def _is_header_row(row: etree._Element) -> bool:
    cells = _cells(row)
    return _local(row.getparent()) == "thead" or (bool(cells) and all(
        _local(cell) == "th" or not _spoken_text(cell).strip() for _, cell in cells))


def _cells(row: etree._Element) -> list[tuple[int, etree._Element]]:
    found, column = [], 0
    for cell in row:
        if _local(cell) in ("td", "th"):
            found.append((column, cell))
            column += int(cell.get("colspan") or 1) if (cell.get("colspan") or "1").isdigit() else 1
    return found


def _wrap_code_lines(element: etree._Element, marker: _Marker, skippable: str | None, language: str) -> None:
    """Each line of code in its own sentence span, spoken exactly as written."""
    if element.text is None or len(element):
        return  # highlighted code (nested spans) is announced but not split
    parts = re.split(r"(\n)", element.text)
    element.text = None
    previous: etree._Element | None = None
    for part in parts:
        if part.strip():
            span = element.makeelement(SPAN, {"id": marker.next_id(), "class": "sentence"})
            span.text = part
            marker.sentences.append(SpokenSentence(span.get("id") or "", part, part, skippable, SENTENCE_PAUSE,
                                                   language, marker.role))
            element.append(span)
            previous = span
        elif previous is None:
            element.text = (element.text or "") + part
        else:
            previous.tail = (previous.tail or "") + part


def _breaks(items: Sequence[Node], language: str, offset: int = 0
            ) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
    """Inline passages in another language (start, end, tag) and verse lines (start, end) of a run:
    where a sentence is cut, so that each part is spoken in its own voice and each line ends with a pause."""
    passages: list[tuple[int, int, str]] = []
    lines: list[tuple[int, int]] = []
    for item in items:
        length = len(_node_text(item))
        if not isinstance(item, str) and not _is_silent(item) and _local(item) not in _ATOMIC:
            tag = item.get(XML_LANG) or item.get("lang") or language
            if tag.lower() != language.lower():
                passages.append((offset, offset + length, tag))
            if "line" in _tokens(item, "class"):
                lines.append((offset, offset + length))
            inner_passages, inner_lines = _breaks(_items(item, None, list(item)), tag, offset)
            passages += inner_passages
            lines += inner_lines
        offset += length
    return passages, lines


def _cut_at(ranges: list[tuple[int, int]], edges: list[int], spans: list[tuple[int, int, bool]],
            text: str) -> list[tuple[int, int]]:
    """Cut sentences at the given offsets, then keep every piece inside or around each inline element."""
    if not edges:
        return ranges
    cut: list[tuple[int, int]] = []
    for start, end in ranges:
        bounds = [start, *sorted({edge for edge in edges if start < edge < end}), end]
        for lo, hi in pairwise(bounds):
            _append_trimmed(cut, text, lo, hi)
    inlines = [(a, b) for a, b, atomic in spans if not atomic and b > a]
    while True:
        split = _split_crossing(cut, inlines, text)
        if split == cut:
            return cut
        cut = split


def _pause_after(text: str, end: int, passages: list[tuple[int, int, str]], lines: list[tuple[int, int]]) -> float:
    if any(end <= b and not text[end:b].strip() for _, b in lines):
        return LINE_PAUSE
    if text[end - 1:end] not in ".!?…»”“’" and any(end <= edge and not text[end:edge].strip()
                                                     for a, b, _ in passages for edge in (a, b)):
        return PASSAGE_PAUSE
    return SENTENCE_PAUSE


def _items(container: etree._Element, lead: etree._Element | None, run: list[etree._Element]) -> list[Node]:
    items: list[Node] = [(lead.tail if lead is not None else container.text) or ""]
    for child in run:
        items.append(child)
        items.append(child.tail or "")
    return items


def _node_text(item: Node) -> str:
    return item if isinstance(item, str) else _spoken_text(item)


def _element_ranges(items: Sequence[Node], offset: int = 0) -> list[tuple[int, int, bool]]:
    """(start, end, atomic) of every non-silent inline element, in document order."""
    ranges: list[tuple[int, int, bool]] = []
    for item in items:
        length = len(_node_text(item))
        if not isinstance(item, str) and not _is_silent(item):
            atomic = _local(item) in _ATOMIC
            ranges.append((offset, offset + length, atomic))
            if not atomic:
                ranges.extend(_element_ranges(_items(item, None, list(item)), offset))
        offset += length
    return ranges


def _fit_to_markup(
    ranges: list[tuple[int, int]], elements: list[tuple[int, int, bool]], text: str,
    cut_at: frozenset[tuple[int, int]] = frozenset(),
) -> list[tuple[int, int]]:
    """Make every sentence either contain or lie inside each inline element it touches.

    Boundaries inside an atomic element (math, image) are dropped, merging the two
    sentences. A sentence crossing an element edge (a full stop inside a link) is merged
    with its neighbours when the result stays short (better prosody), else split at the
    edge. Either way each sentence is one span and the XHTML stays well-formed. Sentences are never merged
    across the elements in `cut_at` (verse lines, passages in another language): they are cut at their edges.
    """
    atoms = [(a, b) for a, b, atomic in elements if atomic and b > a]
    inlines = [(a, b) for a, b, atomic in elements if not atomic and b > a]
    ranges = _merge_atomic(ranges, atoms)
    ranges = _merge_crossing(ranges, [element for element in inlines if element not in cut_at])
    while True:
        split = _split_crossing(ranges, inlines, text)
        if split == ranges:
            return ranges
        ranges = split


def _merge_crossing(ranges: list[tuple[int, int]], elements: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged = True
    while merged:
        merged = False
        for a, b in elements:
            touching = [i for i, (s, e) in enumerate(ranges) if s < b and a < e]
            if not any(_crosses(*ranges[i], a, b) for i in touching):
                continue
            start, end = ranges[touching[0]][0], ranges[touching[-1]][1]
            # Merging helps only if the group then holds the whole element.
            if start <= a and b <= end and end - start <= MERGE_LIMIT:
                ranges = [*ranges[: touching[0]], (start, end), *ranges[touching[-1] + 1 :]]
                merged = True
    return ranges


def _merge_atomic(ranges: list[tuple[int, int]], atoms: list[tuple[int, int]]) -> list[tuple[int, int]]:
    grown = []
    for start, end in ranges:
        for a, b in atoms:
            start = a if a < start < b else start
            end = b if a < end < b else end
        grown.append((start, end))
    result: list[tuple[int, int]] = []
    for start, end in grown:
        if result and start < result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result


def _split_crossing(
    ranges: list[tuple[int, int]], elements: list[tuple[int, int]], text: str
) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in ranges:
        cuts = sorted(
            {edge for a, b in elements if _crosses(start, end, a, b) for edge in (a, b) if start < edge < end}
        )
        bounds = [start, *cuts, end]
        for lo, hi in pairwise(bounds):
            _append_trimmed(result, text, lo, hi)
    return result


def _crosses(start: int, end: int, a: int, b: int) -> bool:
    overlaps = start < b and a < end
    return overlaps and not (start <= a and b <= end) and not (a <= start and end <= b)


def _owner(pieces: Sequence[_Piece], start: int, end: int) -> _Piece | None:
    """The sentence a node at [start, end) belongs to at this level, if any."""
    for piece in pieces:
        if start == end and piece.start < start <= piece.end:
            return piece  # zero-width (noteref after the full stop) joins its sentence
        if start < end and piece.start <= start and end <= piece.end:
            return piece
    return None


def _wrap(
    container: etree._Element,
    lead: etree._Element | None,
    run: list[etree._Element],
    items: Sequence[Node],
    pieces: Sequence[_Piece],
) -> None:
    owned: list[tuple[_Piece | None, Node]] = []
    offset = 0
    for item in items:
        length = len(_node_text(item))
        if isinstance(item, str):
            owned.extend(_split_text(item, offset, pieces))
        else:
            owner = _owner(pieces, offset, offset + length)
            if owner is None:
                _wrap_inside(item, offset, length, pieces)
            owned.append((owner, item))
        offset += length
    _replace_run(container, lead, run, owned)


def _wrap_inside(element: etree._Element, offset: int, length: int, pieces: Sequence[_Piece]) -> None:
    inner = [
        _Piece(p.start - offset, p.end - offset, p.id)
        for p in pieces
        if offset <= p.start and p.end <= offset + length
    ]
    if inner and not _is_silent(element) and _local(element) not in _ATOMIC:
        children = list(element)
        _wrap(element, None, children, _items(element, None, children), inner)


def _split_text(text: str, offset: int, pieces: Sequence[_Piece]) -> list[tuple[_Piece | None, Node]]:
    cuts = {offset, offset + len(text)}
    cuts.update(edge for p in pieces for edge in (p.start, p.end) if offset < edge < offset + len(text))
    bounds = sorted(cuts)
    return [
        (_owner(pieces, lo, hi), text[lo - offset : hi - offset])
        for lo, hi in pairwise(bounds)
        if hi > lo
    ]


def _grouped(container: etree._Element, owned: list[tuple[_Piece | None, Node]]) -> list[Node]:
    nodes: list[Node] = []
    for piece, group in groupby(owned, key=lambda pair: pair[0]):
        members = [node for _, node in group]
        if piece is None:
            nodes.extend(members)
            continue
        span = container.makeelement(SPAN, {"id": piece.id, "class": "sentence"})
        _fill(span, None, members)
        nodes.append(span)
    return nodes


def _fill(parent: etree._Element, position: int | None, nodes: Sequence[Node]) -> str:
    """Append (or insert at position) nodes into parent; returns the leading text."""
    leading: list[str] = []
    previous: etree._Element | None = None
    index = position
    for node in nodes:
        if isinstance(node, str):
            if previous is None:
                leading.append(node)
            else:
                previous.tail = (previous.tail or "") + node
            continue
        node.tail = None
        if index is None:
            parent.append(node)
        else:
            parent.insert(index, node)
            index += 1
        previous = node
    text = "".join(leading)
    if position is None:
        parent.text = text or None
    return text


def _replace_run(
    container: etree._Element,
    lead: etree._Element | None,
    run: list[etree._Element],
    owned: list[tuple[_Piece | None, Node]],
) -> None:
    for child in run:
        container.remove(child)  # before grouping moves some of them into spans
    nodes = _grouped(container, owned)
    position = 0 if lead is None else container.index(lead) + 1
    text = _fill(container, position, nodes)
    if lead is None:
        container.text = text or None
    else:
        lead.tail = text or None


_ROOT_START = re.compile(r"<(?:[\w.-]+:)?html[\s>/]")


def mark_sentences(xhtml: str, lexicons: Lexicons | Lexicon, id_prefix: str,
                   settings: SpeechSettings | None = None) -> tuple[str, list[SpokenSentence]]:
    """Wrap every spoken sentence of an article in ``<span id=… class="sentence">``.

    Returns the new XHTML (prolog, namespaces and all other markup unchanged) and the
    sentences in reading order.
    """
    start = _ROOT_START.search(xhtml)
    if start is None:
        raise ValueError("not an XHTML document: no <html> root element")
    parser = etree.XMLParser(resolve_entities=False, huge_tree=True, remove_blank_text=False)
    root = etree.fromstring(xhtml[start.start():].encode("utf-8"), parser)
    body = root.find(f"{{{XHTML_NS}}}body")
    if isinstance(lexicons, Lexicon):  # one lexicon: for the document's own language
        lexicons = Lexicons(lexicons.language, {lexicons.language: lexicons})
    marker = _Marker(lexicons, id_prefix, settings or SpeechSettings())
    marker.walk(body if body is not None else root, None)
    serialised = etree.tostring(root, encoding="unicode")
    trailer = "\n" if xhtml.endswith("\n") else ""
    return xhtml[: start.start()] + serialised + trailer, marker.sentences


def speech_script(sentences: Iterable[SpokenSentence]) -> str:
    """The plain text sent to the speech engine, one sentence per line."""
    return "".join(f"{sentence.spoken}\n" for sentence in sentences)
