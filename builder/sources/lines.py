"""Which source line each rendered element comes from, kept beside the book and never in it.

While an article is rendered, block tokens, links, images and the start tags of raw HTML carry a marker
attribute with their source line; the finished-tree checks read it to name the line of a mistake. Before
the document is serialised for the book the markers are removed, and what is kept is a map from the
published XHTML's lines to the source lines, so that a validator's verdict on a line of the book (or on
an element Ace points at) can be told to the editor as a line of the article.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from builder.model import Document

if TYPE_CHECKING:  # the tokens are the renderer's: a build whose documents are reused never loads markdown-it
    from markdown_it.token import Token

MARK = "data-source-line"  # reserved: raw HTML may not carry it (E051)
LINKED_INLINE = ("link_open", "image")


def mark_tokens(tokens: list[Token], first_line: int, *, fixed: bool = False) -> None:
    """Give each block token, link and image its source line; annotate raw HTML's start tags.

    `fixed`: every element gets `first_line` (the author note, whose YAML lines do not follow its text)."""
    for token in tokens:
        line = first_line if fixed or not token.map else first_line + token.map[0]
        if token.type == "html_block":
            token.content = mark_raw_html(token.content, line, fixed)
        elif token.nesting == 1 or token.type in ("fence", "code_block", "hr", "math_block", "math_block_label"):
            token.attrSet(MARK, str(line))
        if token.type == "inline" and token.children:
            mark_inline(token.children, line, fixed)


def mark_inline(children: list[Token], line: int, fixed: bool) -> None:
    for child in children:
        if child.type in LINKED_INLINE:
            child.attrSet(MARK, str(line))
        elif child.type == "html_inline":
            child.content = mark_raw_html(child.content, line, fixed)
        if not fixed:
            line += 1 if child.type in ("softbreak", "hardbreak") else child.content.count("\n") * (
                child.type in ("text", "html_inline", "code_inline"))


class _StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str]] = []  # (line in the fragment, column, tag as written)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, column = self.getpos()
        self.found.append((line, column, self.get_starttag_text() or ""))

    handle_startendtag = handle_starttag


def mark_raw_html(fragment: str, line: int, fixed: bool = False) -> str:
    """The fragment with each start tag carrying the source line it is written on."""
    parser = _StartTags()
    parser.feed(fragment)
    starts = [0] + [index + 1 for index, char in enumerate(fragment) if char == "\n"]
    edits = []
    for tag_line, column, text in parser.found:
        name_end = 1 + len(text[1:].split(None, 1)[0].split("/")[0].split(">")[0])
        edits.append((starts[tag_line - 1] + column + name_end, line if fixed else line + tag_line - 1))
    for offset, source_line in reversed(edits):
        fragment = f'{fragment[:offset]} {MARK}="{source_line}"{fragment[offset:]}'
    return fragment


def line_of(element: etree._Element) -> int | None:
    """The source line of an element of the marked tree: its own marker, else the nearest one before it."""
    found = element.xpath(f"(ancestor-or-self::*[@{MARK}] | preceding::*[@{MARK}])[last()]/@{MARK}")
    return int(found[0]) if found else None


def unmark(root: etree._Element) -> list[int | None]:
    """Remove the markers; return each element's marker (None where it had none), in document order."""
    marks: list[int | None] = []
    for element in root.iter():
        value = element.attrib.pop(MARK, None) if isinstance(element.tag, str) else None
        marks.append(int(value) if value else None)
    return marks


def line_map(published: str, marks: list[int | None]) -> tuple[tuple[int, int], ...]:
    """(line of the published XHTML, source line) wherever a marked element starts, in order.

    `marks` comes from `unmark` on the tree serialised as the body's content of `published`, so the parsed
    elements pair up with it one for one (removing attributes moves no element to another line)."""
    body = etree.fromstring(published.encode("utf-8"))[-1]
    pairs: dict[int, int] = {}
    for element, mark in zip(body[0].iter(), marks, strict=True):  # the body's content: the unmarked tree
        if mark is not None and element.sourceline is not None:
            pairs.setdefault(element.sourceline, mark)
    return tuple(sorted(pairs.items()))


def source_line(lines: tuple[tuple[int, int], ...], xhtml_line: int) -> int | None:
    """The source line of what is on `xhtml_line` of a published document: the nearest mark at or before it."""
    index = bisect.bisect_right(lines, (xhtml_line, float("inf"))) - 1
    return lines[index][1] if index >= 0 else None


def cfi_line(published: str, cfi: str) -> int | None:
    """The XHTML line of the element an EPUB CFI path such as '/4/2[a]/4' points at (Ace's pointer)."""
    try:
        element = etree.fromstring(published.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    for step in re.findall(r"/(\d+)", cfi.split("!")[-1]):
        children = [child for child in element if isinstance(child.tag, str)]
        index = int(step) // 2 - 1  # even steps count elements, from /2
        if int(step) % 2 or not 0 <= index < len(children):
            break
        element = children[index]
    return element.sourceline


def locate(documents: Sequence[Document], location: str) -> tuple[Path, int] | None:
    """The article file and source line of a validator's location: 'EPUB/text/a.xhtml:12' (EPUBCheck) or
    'text/a.xhtml#/4/2[a]/4' (Ace); None when it is not in an article."""
    path, _, pointer = location.partition("#")
    path, _, number = path.rpartition(":") if not pointer else (path, "", "")
    for document in documents:
        if document.article is None or not path.endswith(document.file_name):
            continue
        xhtml_line = int(number) if number.isdigit() else cfi_line(document.xhtml, pointer) if pointer else None
        line = source_line(document.source_lines, xhtml_line) if xhtml_line else None
        return document.article.source, line or document.article.body_line
    return None
