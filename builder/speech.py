"""What the narration says: sentence marking of article XHTML and speech normalisation.

The article XHTML (see the rendering contract) is segmented into sentences; each spoken
sentence is wrapped in one ``<span class="sentence">`` whose id the Media Overlay points at.
``normalise_for_speech`` rewrites the displayed words into what a listener should hear.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import groupby, pairwise
from pathlib import Path

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
EPUB_TYPE = f"{{{OPS_NS}}}type"
SPAN = f"{{{XHTML_NS}}}span"
SKIPPABLE_TYPES = ("endnotes", "bibliography")

_LEXICON_SECTIONS = (
    "titles",
    "abbreviations",
    "phrases",
    "before_number",
    "months",
    "letter_names",
)

# ---------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patterns:
    titles: re.Pattern[str]
    abbreviations: re.Pattern[str]
    phrases: re.Pattern[str]
    before_number: re.Pattern[str]
    months: re.Pattern[str]
    spoken_abbreviations: Mapping[str, str]


@dataclass(frozen=True)
class Lexicon:
    """Pronunciations of one edition (data lives in ``pronunciation.toml``)."""

    titles: Mapping[str, str] = field(default_factory=dict)
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)
    before_number: Mapping[str, str] = field(default_factory=dict)
    months: Mapping[str, str] = field(default_factory=dict)
    letter_names: Mapping[str, str] = field(default_factory=dict)
    no_break: frozenset[str] = frozenset()
    patterns: _Patterns = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per lexicon: normalisation runs for every sentence.
        object.__setattr__(self, "patterns", _compile_patterns(self))


def load_lexicon(path: Path) -> Lexicon:
    """Read a pronunciation TOML file; unknown sections are an error (typos lose words)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - set(_LEXICON_SECTIONS) - {"segmentation"}
    if unknown:
        raise ValueError(f"{path}: unknown lexicon section(s): {', '.join(sorted(unknown))}")
    tables = {name: _string_table(path, name, data.get(name, {})) for name in _LEXICON_SECTIONS}
    no_break = data.get("segmentation", {}).get("no_break", [])
    if not all(isinstance(item, str) for item in no_break):
        raise ValueError(f"{path}: segmentation.no_break must be a list of strings")
    return Lexicon(**tables, no_break=frozenset(no_break))


def _string_table(path: Path, name: str, table: object) -> dict[str, str]:
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ValueError(f"{path}: [{name}] must map strings to strings")
    return dict(table)


def _alternation(keys: Iterable[str]) -> str:
    # Longest first, so "NHSE" wins over "NHS" and "et al." over "et al".
    ordered = sorted(set(keys), key=lambda k: (-len(k), k))
    return "|".join(re.escape(k) for k in ordered) or "(?!)"


def _phrase_alternation(keys: Iterable[str]) -> str:
    parts = []
    for key in sorted(set(keys), key=lambda k: (-len(k), k)):
        left = r"(?<!\w)" if key[0].isalnum() else ""
        right = r"(?!\w)" if key[-1].isalnum() else ""
        parts.append(f"{left}{re.escape(key)}{right}")
    return "|".join(parts) or "(?!)"


def _compile_patterns(lexicon: Lexicon) -> _Patterns:
    spoken = {
        key: _say_letters(value, lexicon.letter_names)
        for key, value in lexicon.abbreviations.items()
    }
    months = _alternation(lexicon.months)
    return _Patterns(
        titles=re.compile(rf"(?<![\w.])({_alternation(lexicon.titles)})\.?(?=\s+[A-Z])"),
        abbreviations=re.compile(rf"(?<![\w.@/])({_alternation(spoken)})(?!\w)"),
        phrases=re.compile(_phrase_alternation(lexicon.phrases)),
        before_number=re.compile(
            rf"(?<![\w.])({_alternation(lexicon.before_number)})\.?\s?(?=\d)"
        ),
        months=re.compile(rf"(?<=\d )({months})\b\.?|(?<![\w.])({months})\.?(?= \d)"),
        spoken_abbreviations=spoken,
    )


def _say_letters(value: str, letter_names: Mapping[str, str]) -> str:
    """Spelled letters as the engine says them best: runs of two or more as "U.A.E." (espeak-ng
    reads a dotted run letter by letter, its "A" included); a lone letter through letter_names."""
    words, out = value.split(), []
    for single, run in itertools.groupby(words, key=lambda word: len(word) == 1 and word.isalpha()):
        letters = list(run)
        if single and len(letters) > 1:
            out.append("".join(f"{letter}." for letter in letters))
        else:
            out += [letter_names.get(word, word) if single else word for word in letters]
    return " ".join(out)


def lexicon_pls(lexicon: Lexicon, lang: str) -> str:
    """The lexicon as a W3C PLS 1.0 document, for reading systems' own TTS."""
    root = etree.Element(
        f"{{{PLS_NS}}}lexicon",
        nsmap={None: PLS_NS},
        attrib={"version": "1.0", "alphabet": "ipa", "{http://www.w3.org/XML/1998/namespace}lang": lang},
    )
    entries = {**lexicon.phrases, **lexicon.titles, **lexicon.abbreviations}
    for grapheme in sorted(entries):
        lexeme = etree.SubElement(root, f"{{{PLS_NS}}}lexeme")
        etree.SubElement(lexeme, f"{{{PLS_NS}}}grapheme").text = grapheme
        etree.SubElement(lexeme, f"{{{PLS_NS}}}alias").text = entries[grapheme]
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]{}\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOI = re.compile(r"\bdoi:\s*10\.\S+", re.IGNORECASE)
_CITATION = re.compile(r"\((?P<body>[A-Z][^()]*?\b(?:1[5-9]|20)\d\d[a-z]?)\)")
_CURRENCY = re.compile(
    r"(?P<sym>[£$€])\s?(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"(?:\s?(?P<scale>bn|billion|m|million|k|thousand)\b)?"
)
_PERCENT_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s?[–—-]\s?(\d+(?:\.\d+)?)\s?%")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_RANGE = re.compile(r"(?<![\w./:–—-])(\d{1,4})\s?[–—-]\s?(\d{1,4})(?![\w/]|[.,:]\d|[–—-]\d)")
_YEAR = re.compile(r"(?<![\w£$€.,])(1[1-9])(\d\d)(s?)(?!\w|[.,]\d)")
_DECADE_2000 = re.compile(r"(?<!\w)20(\d)0s\b")
_SPACED_DASH = re.compile(r"\s+[–—]\s+|\s*—\s*")
_SYMBOLS = re.compile(r"[◀▶►◄•↩†‡\u00ad\u200b]|\*\*")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")
_SPACE_AFTER_BRACKET = re.compile(r"([(\[])\s+")

_CURRENCY_UNITS = {"£": ("pound", "pounds"), "$": ("dollar", "dollars"), "€": ("euro", "euros")}
_SCALES = {"bn": "billion", "billion": "billion", "m": "million", "million": "million",
           "k": "thousand", "thousand": "thousand"}
_DECADES = {"0": "hundreds", "1": "tens", "2": "twenties", "3": "thirties", "4": "forties",
            "5": "fifties", "6": "sixties", "7": "seventies", "8": "eighties", "9": "nineties"}


def normalise_for_speech(text: str, lexicon: Lexicon) -> str:
    """Rewrite displayed text into the words a listener should hear."""
    steps: Sequence[Callable[[str, Lexicon], str]] = (
        _strip_symbols,
        _say_urls,
        _say_emails,
        _say_dois,
        _say_citations,
        _say_currency,
        _say_percentages,
        _say_before_number,
        _say_ranges,
        _say_years,
        _say_months,
        _say_phrases,
        _say_titles,
        _say_abbreviations,
    )
    for step in steps:
        text = step(text, lexicon)
    return _tidy(text)


def _tidy(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return _SPACE_AFTER_BRACKET.sub(r"\1", text).strip()


def _strip_symbols(text: str, _: Lexicon) -> str:
    # Photo markers, bullets and Markdown debris are not words; a spaced dash is a pause.
    return _SPACED_DASH.sub(", ", _SYMBOLS.sub("", text))


def _say_urls(text: str, _: Lexicon) -> str:
    def say(match: re.Match[str]) -> str:
        url = match.group()
        kept = url.rstrip(".,;:!?)>'’")  # sentence punctuation after the address stays
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", kept, flags=re.IGNORECASE).split("/")[0]
        return f"a link to {host}{url[len(kept):]}"

    return _URL.sub(say, text)


def _say_emails(text: str, _: Lexicon) -> str:
    def say(match: re.Match[str]) -> str:
        local, domain = match.group().split("@", 1)
        local = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", local.replace(".", " dot "))
        return f"the e-mail address {local} at {domain}"

    return _EMAIL.sub(say, text)


def _say_dois(text: str, _: Lexicon) -> str:
    return _DOI.sub("a DOI", text)


def _say_citations(text: str, _: Lexicon) -> str:
    # "(Abdallah et al., 2018)" is heard without brackets, set off by pauses.
    def say(match: re.Match[str]) -> str:
        before = text[: match.start()].rstrip()
        after = text[match.end():]
        lead = ", " if before and before[-1].isalnum() else ""
        tail = "," if after[:1].isspace() and after.strip()[:1].isalnum() else ""
        return f"{lead}{match.group('body')}{tail}"

    return _CITATION.sub(say, text)


def _say_currency(text: str, _: Lexicon) -> str:
    def say(match: re.Match[str]) -> str:
        one, many = _CURRENCY_UNITS[match.group("sym")]
        number = match.group("num").replace(",", "")
        scale = match.group("scale")
        if scale:
            return f"{number} {_SCALES[scale]} {many}"
        whole, _, cents = number.partition(".")
        unit = one if whole == "1" else many
        if len(cents) == 2 and cents != "00":
            return f"{whole} {unit} {cents}"
        return f"{number} {unit}"

    return _CURRENCY.sub(say, text)


def _say_percentages(text: str, _: Lexicon) -> str:
    text = _PERCENT_RANGE.sub(r"\1 to \2 percent", text)
    return _PERCENT.sub(r"\1 percent", text)


def _say_ranges(text: str, _: Lexicon) -> str:
    return _RANGE.sub(r"\1 to \2", text)


def _say_years(text: str, _: Lexicon) -> str:
    # espeak-ng says 1946 as "nineteen hundred and forty six"; people say "nineteen forty six".
    def say(match: re.Match[str]) -> str:
        century, rest, plural = match.groups()
        if plural:
            return f"{century} {_DECADES[rest[0]]}" if rest[1] == "0" else match.group()
        if rest == "00":
            return f"{century} hundred"
        if rest[0] == "0":
            return f"{century} oh {rest[1]}"
        return f"{century} {rest}"

    text = _YEAR.sub(say, text)
    return _DECADE_2000.sub(
        lambda m: "two thousands" if m.group(1) == "0" else f"twenty {_DECADES[m.group(1)]}", text
    )


def _say_before_number(text: str, lexicon: Lexicon) -> str:
    return lexicon.patterns.before_number.sub(lambda m: f"{lexicon.before_number[m.group(1)]} ", text)


def _say_months(text: str, lexicon: Lexicon) -> str:
    return lexicon.patterns.months.sub(lambda m: lexicon.months[m.group(1) or m.group(2)], text)


def _say_phrases(text: str, lexicon: Lexicon) -> str:
    return lexicon.patterns.phrases.sub(lambda m: f" {lexicon.phrases[m.group()]} ", text)


def _say_titles(text: str, lexicon: Lexicon) -> str:
    return lexicon.patterns.titles.sub(lambda m: lexicon.titles[m.group(1)], text)


def _say_abbreviations(text: str, lexicon: Lexicon) -> str:
    spoken = lexicon.patterns.spoken_abbreviations

    def say(match: re.Match[str]) -> str:
        words = spoken[match.group(1)]
        # "the C.Q.C." at a sentence's end: the abbreviation's last dot is the full stop
        return words[:-1] if words.endswith(".") and text[match.end() : match.end() + 1] == "." else words

    return lexicon.patterns.abbreviations.sub(say, text)


# ---------------------------------------------------------------------------
# Sentence segmentation
# ---------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
_LAST_WORD = re.compile(r"[\w.]+$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


def split_sentences(text: str, lexicon: Lexicon) -> list[tuple[int, int]]:
    """Sentence ranges (start, end) in ``text``, without surrounding whitespace."""
    no_break = lexicon.no_break | frozenset(lexicon.titles)
    ranges: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_sentence(text, match, no_break):
            _append_trimmed(ranges, text, start, match.end())
            start = match.end()
    _append_trimmed(ranges, text, start, len(text))
    return ranges


def _ends_sentence(text: str, match: re.Match[str], no_break: frozenset[str]) -> bool:
    following = text[match.end():].split(maxsplit=1)
    if following and following[0][0].islower() and following[0].islower():
        return False  # "et al. suggest", "comfort zone... but" (but "rTMS" may start a sentence)
    if not match.group().startswith("."):
        return True
    before = text[: match.start()]
    word = _LAST_WORD.search(before)
    if word is None:
        return True
    token = word.group()
    if token in no_break or _DOTTED.fullmatch(token):
        return False  # "Dr.", "e.g.", "et al.", "U.K."
    if len(token) == 1 and token.isupper():
        return False  # initials: "J. R. R. Tolkien"
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
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class SpokenSentence:
    id: str
    text: str
    spoken: str
    skippable: str | None
    pause: float = SENTENCE_PAUSE  # seconds of silence after it


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


def _atomic_text(node: etree._Element) -> str:
    local = _local(node)
    if local == "math":
        return (node.get("alttext") or "").strip()
    if local == "img":
        alt = " ".join((node.get("alt") or "").split())
        parent = node.getparent()
        if parent is not None and _local(parent) == "figure":
            return f"Figure: {alt}" + ("" if alt[-1:] in ".!?" else ".")
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

    def __init__(self, lexicon: Lexicon, id_prefix: str) -> None:
        self.lexicon = lexicon
        self.id_prefix = id_prefix
        self.sentences: list[SpokenSentence] = []

    def walk(self, node: etree._Element, skippable: str | None) -> None:
        if _is_silent(node):
            return
        skippable = _skippable_type(node) or skippable
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
        spans = _element_ranges(items)
        ranges = _fit_to_markup(split_sentences(text, self.lexicon), spans, text)
        pieces = []
        for start, end in ranges:
            shown = " ".join(text[start:end].split())
            spoken = normalise_for_speech(shown, self.lexicon)
            if not any(ch.isalnum() for ch in spoken):
                continue
            sentence_id = f"{self.id_prefix}-s{len(self.sentences) + 1:04d}"
            self.sentences.append(SpokenSentence(sentence_id, shown, spoken, skippable))
            pieces.append(_Piece(start, end, sentence_id))
        if pieces:
            _wrap(container, lead, run, items, pieces)
            pause = HEADING_PAUSE if _local(container) in _HEADINGS else BLOCK_PAUSE  # the run ends its block
            self.sentences[-1] = replace(self.sentences[-1], pause=pause)


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
    ranges: list[tuple[int, int]], elements: list[tuple[int, int, bool]], text: str
) -> list[tuple[int, int]]:
    """Make every sentence either contain or lie inside each inline element it touches.

    Boundaries inside an atomic element (math, image) are dropped, merging the two
    sentences. A sentence crossing an element edge (a full stop inside a link) is merged
    with its neighbours when the result stays short (better prosody), else split at the
    edge. Either way each sentence is one span and the XHTML stays well-formed.
    """
    atoms = [(a, b) for a, b, atomic in elements if atomic and b > a]
    inlines = [(a, b) for a, b, atomic in elements if not atomic and b > a]
    ranges = _merge_atomic(ranges, atoms)
    ranges = _merge_crossing(ranges, inlines)
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


def mark_sentences(xhtml: str, lexicon: Lexicon, id_prefix: str) -> tuple[str, list[SpokenSentence]]:
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
    marker = _Marker(lexicon, id_prefix)
    marker.walk(body if body is not None else root, None)
    serialised = etree.tostring(root, encoding="unicode")
    trailer = "\n" if xhtml.endswith("\n") else ""
    return xhtml[: start.start()] + serialised + trailer, marker.sentences


def speech_script(sentences: Iterable[SpokenSentence]) -> str:
    """The plain text sent to the speech engine, one sentence per line."""
    return "".join(f"{sentence.spoken}\n" for sentence in sentences)
