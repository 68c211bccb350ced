"""Markdown written by other projects (``../shared/peer_suites/``), cut into the units their authors test.

Each suite file's first line names its upstream. A unit is one piece of Markdown the builder must take
as an article body, with the words its upstream expects in the output:

- the CommonMark spec: each ```` example ```` (Markdown, then its HTML; → stands for a tab);
- markdown-it-py and mdit-py-plugins fixtures: ``title / . / markdown / . / html / .`` blocks;
- pandoc's test files: each top-level block (a blank line, then a line at the margin, outside a fence),
  its expected words those of pandoc's own reading of the block, when pandoc is installed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# Beside the clone in CI (../shared from the repo root); PEER_SUITES names another place (a git worktree).
from markdown_it.utils import read_fixture_file

PEER_SUITES = Path(os.environ.get("PEER_SUITES") or Path(__file__).resolve().parents[2] / "shared" / "peer_suites")
EXAMPLE_FENCE = "`" * 32
WORD = re.compile(r"[^\W_]+")  # letters and digits: "sum_" in one text is "sum" "_" in another


@dataclass(frozen=True)
class Unit:
    suite: str  # the suite file's stem
    number: int  # 1-based, in the file's order
    line: int  # where the unit's Markdown starts in the suite file
    markdown: str
    expected_html: str | None  # None: no expected output is known (pandoc absent)

    @property
    def slug(self) -> str:
        return f"u{self.number:04d}"


def suite_files() -> list[Path]:
    return sorted(PEER_SUITES.glob("*")) if PEER_SUITES.is_dir() else []


def units(path: Path) -> list[Unit]:
    lines = path.read_text(encoding="utf-8").split("\n")
    if path.name.startswith("commonmark-spec"):
        return spec_examples(path.stem, lines)
    if path.name.startswith("pandoc-"):
        return pandoc_blocks(path.stem, lines)
    return fixture_blocks(path.stem, path)


def spec_examples(suite: str, lines: list[str]) -> list[Unit]:
    found, number, index = [], 0, 0
    while index < len(lines):
        if lines[index].startswith(EXAMPLE_FENCE + " example"):
            start = index + 1
            dot = lines.index(".", start)
            end = lines.index(EXAMPLE_FENCE, dot)
            number += 1
            markdown = "\n".join(lines[start:dot]).replace("→", "\t")
            expected = "\n".join(lines[dot + 1:end]).replace("→", "\t")
            found.append(Unit(suite, number, start + 1, markdown + "\n", expected))
            index = end
        index += 1
    return found


def fixture_blocks(suite: str, path: Path) -> list[Unit]:
    """markdown-it's fixture format (a title line, '.', the Markdown, '.', the HTML, '.'), read by its own reader."""
    return [Unit(suite, number, dot + 2, markdown, expected)
            for number, (dot, _title, markdown, expected) in enumerate(read_fixture_file(path), start=1)]


def pandoc_blocks(suite: str, lines: list[str]) -> list[Unit]:
    blocks: list[tuple[int, list[str]]] = []
    fence = ""
    for number, text in enumerate(lines[1:], start=2):  # line 1 names the upstream
        opening = re.match(r"^(`{3,}|~{3,})", text)
        starts_block = (not fence and text[:1] not in ("", " ", "\t") and (not blocks or not blocks[-1][1][-1].strip()))
        if starts_block or not blocks:
            blocks.append((number, []))
        blocks[-1][1].append(text)
        if opening and (not fence or opening.group(1).startswith(fence)):
            fence = "" if fence else opening.group(1)
    markdown_blocks = [(line, "\n".join(body).strip("\n") + "\n") for line, body in blocks if "".join(body).strip()]
    expected = pandoc_html([text for _, text in markdown_blocks])
    return [Unit(suite, number, line, text, expected[number - 1])
            for number, (line, text) in enumerate(markdown_blocks, start=1)]


SEPARATOR = "<!-- peer-unit -->"


def pandoc_html(blocks: list[str]) -> list[str | None]:
    """pandoc's reading of each block: all in one run, split at comments pandoc passes through (a block that
    swallows its separator, an unclosed raw HTML element say, is read again alone). None without pandoc."""
    try:
        import pypandoc

        pypandoc.get_pandoc_version()
    except (ImportError, OSError):
        return [None] * len(blocks)

    def read(markdown: str) -> str:
        # Without the words pandoc makes up itself: example numbers (@foo → 2), math as Unicode (α for \alpha),
        # expanded LaTeX macros.
        return pypandoc.convert_text(markdown, "html", format="markdown-example_lists-latex_macros",
                                     extra_args=["--reference-location=block", "--mathjax", "--quiet"])

    pieces = read(f"\n\n{SEPARATOR}\n\n".join(blocks)).split(SEPARATOR)
    if len(pieces) == len(blocks):
        return list(pieces)
    return [read(block) for block in blocks]


class TextCollector(HTMLParser):
    """The text a reader meets in HTML, alt text included; no tags, comments or script and style content."""

    HIDDEN = frozenset({"script", "style", "textarea", "title"})
    # Note numbers and back links are the renderer's, not the author's (pandoc numbers notes across a file).
    GENERATED = frozenset({"footnote-ref", "footnote-back", "footnote-backref"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.open: list[bool] = []  # per open <a>/<sup>: whether it hides its text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN
        if tag in ("a", "sup"):
            hides = bool(self.GENERATED & set((dict(attrs).get("class") or "").split()))
            self.open.append(hides)
            self.hidden += hides
        self.parts += [value or "" for name, value in attrs if tag == "img" and name == "alt"]

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN and self.hidden > 0
        if tag in ("a", "sup") and self.open and self.open.pop():
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def words(html_text: str) -> list[str]:
    """The words a reader sees in an HTML fragment, case folded."""
    collector = TextCollector()
    collector.feed(html_text + "<br>")  # not close(): a tag left open at the end is no text a browser shows
    return [word.casefold() for word in WORD.findall(" ".join(collector.parts))]
