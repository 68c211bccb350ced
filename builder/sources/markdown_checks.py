"""Checks on an article's Markdown and on its finished XHTML: every source mistake, with its file, line and remedy.

The token-stream checks run before rendering (they know the line numbers); the tree checks run on the
finished document (ids, links, attribute values that raw HTML carries past the sanitiser). The sanitiser's
policy lives here too, so that the checks name exactly what it will remove; links are checked in links.py.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from html.parser import HTMLParser
from typing import Any

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.rules_block.table import escapedSplit
from markdown_it.token import Token

from builder.book import images, mathml
from builder.book.images import CSS_URL, url_scheme
from builder.errors import BuildError, Diagnostic, error, shown, warning
from builder.i18n import languages
from builder.model import Article
from builder.sources import lines as source_lines
from builder.sources.links import URL_SCHEMES, check_link, check_link_text, link_text

XHTML = "http://www.w3.org/1999/xhtml"
NS = {"h": XHTML}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "section", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "div": {"data-math", "data-math-label"},
}



# --- diagnostics on the token stream (they know the line numbers) ---------------------------------

# A passage in another language: '::: {lang=de}' … ':::' (pandoc's fenced div with a lang attribute).
LANG_CONTAINER = re.compile(r"^\{\s*lang\s*=\s*[\"']?([^\"'}\s]*)[\"']?\s*\}$")


def container_language(token: Token) -> str:
    match = LANG_CONTAINER.match(token.info.strip())
    return match.group(1) if match else ""


# Classes and attributes the enrichment stage gives meaning to: in raw HTML they would be taken for the
# builder's own markup (footnotes, math) and could break it, so they are refused rather than trusted.
RESERVED_CLASSES = {"footnote-ref", "footnotes", "footnotes-sep", "footnote-item", "footnote-backref", "math",
                    "noteref", "backlink"}
RESERVED_ATTRIBUTES = {"data-math", "data-math-label", "data-source-line"}
# xsd:NCName, near enough: EPUBCheck refuses ids that start with a digit or hold spaces or colons.
XML_NAME = re.compile(r"^[^\W\d][\w.\-]*$")
TABLE_SCOPES = {"row", "col", "rowgroup", "colgroup"}


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def start_tags(fragment: str) -> list[tuple[str, dict[str, str]]]:
    collector = TagCollector()
    collector.feed(fragment)
    collector.close()
    return [(tag, {name: value or "" for name, value in attrs}) for tag, attrs in collector.found]


def attribute_problems(tag: str, attrs: dict[str, str]) -> list[str]:
    """What nh3 will remove from one element, named for the editor."""
    if tag not in ALLOWED_TAGS:
        return [f"<{tag}>"]
    allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
    removed = []
    for name, value in attrs.items():
        if name == "style" and CSS_URL.search(value):
            removed.append(f"CSS url() in style= on <{tag}>")
        elif name not in allowed:
            removed.append(f"{name}= on <{tag}>")
        elif name in ("href", "src") and url_scheme(value) not in (None, *URL_SCHEMES):
            removed.append(f"{url_scheme(value)}: URL on <{tag}>")
    return removed


def unsafe_parts(fragment: str) -> list[str]:
    """What nh3 will remove from a raw HTML fragment, named for the editor."""
    return [part for tag, attrs in start_tags(fragment) for part in attribute_problems(tag, attrs)]


def check_tokens(tokens: list[Token], env: dict, article: Article, md: MarkdownIt) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    base = article.body_line
    here = base
    check_table_rows(tokens, article)
    for token in tokens:
        if token.map:
            here = base + token.map[0]
        if token.type == "html_block":
            diagnostics += check_raw_html(token.content, article, here)
        elif token.attrs and token.tag not in ("", "th", "td"):  # table cells: markdown-it's alignment style
            diagnostics += removed_attributes(token.tag, token.attrs, article, here)
        if token.type == "heading_open" and token.tag == "h1":  # the sanitiser would drop the tag, keep its text
            raise error("E020", "a level-1 heading in the article body",
                        "The title comes from the front matter: use '##' for sections.", article.source, here)
        if token.type in ("math_block", "math_block_label"):
            check_math(token.content, article, here)
        if token.type == "container_lang_open":
            check_language(container_language(token), article, here)
        elif token.attrs and "lang" in token.attrs:
            check_language(str(token.attrs["lang"]), article, here)
        if token.type == "inline":
            diagnostics += check_inline(token, article, here)
    diagnostics = merge_removals(diagnostics + check_author_note(article, md))
    for label, index in env.get("footnotes", {}).get("refs", {}).items():
        if index == -1:
            note_line = find_line(article, f"[{label.replace(':', '^', 1)}]:")
            diagnostics.append(warning("W032", f"footnote [{label.replace(':', '^', 1)}] is never referenced",
                                       "Reference it in the text or delete it.", article.source, note_line))
    return diagnostics


def check_author_note(article: Article, md: MarkdownIt) -> list[Diagnostic]:
    """The author note is Markdown too: its raw HTML and links get the body's checks, at its line."""
    if not article.author_note:
        return []
    line = author_note_line(article)
    diagnostics: list[Diagnostic] = []
    for token in md.parse(article.author_note, {}):
        if token.type == "html_block":
            diagnostics += check_raw_html(token.content, article, line)
        if token.type == "heading_open" and token.tag == "h1":
            raise error("E020", "a level-1 heading in the author note", "Use '##' or a lower level.",
                        article.source, line)
        if token.type == "inline":
            if any(child.type == "image" or (child.type == "html_inline" and "<img" in child.content.lower())
                   for child in token.children or []):
                # Only the body's images are packed into the book: one here would be a broken reference.
                raise error("E049", "an image in the author note", "Put the image in the article body.",
                            article.source, line)
            diagnostics += [dataclasses.replace(d, line=line) for d in check_inline(token, article, line)]
    return diagnostics


def check_table_rows(tokens: list[Token], article: Article) -> None:
    """A row with more cells than its header loses the extra ones (GFM drops them): refused, not lost."""
    lines = article.body.splitlines()
    columns, body = 0, False
    for token in tokens:
        if token.type == "thead_open":
            columns, body = 0, False
        elif token.type == "th_open":
            columns += 1
        elif token.type == "tbody_open":
            body = True
        elif token.type == "tr_open" and body and token.map and token.map[0] < len(lines):
            cells = escapedSplit(lines[token.map[0]].strip().lstrip(">").strip())
            cells = cells[1:] if cells and not cells[0].strip() else cells
            cells = cells[:-1] if cells and not cells[-1].strip() else cells
            if len(cells) > columns:
                raise error("E023", f"a table row has {len(cells)} cells but its header has {columns}",
                            "Add the missing header cells, or write a '|' inside a cell (code included) as '\\|'.",
                            article.source, article.body_line + token.map[0])


def author_note_line(article: Article) -> int:
    """Where the author note's text starts in the article file (a YAML field: one line for all of it)."""
    try:
        return article.source.read_text(encoding="utf-8").split("\nauthor_note:")[0].count("\n") + 2
    except (OSError, UnicodeDecodeError):
        return 1


def merge_removals(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One W050 per line, however many tags the line's HTML is split into."""
    merged: dict[tuple[str, int | None], Diagnostic] = {}
    out: list[Diagnostic] = []
    for diagnostic in diagnostics:
        key = (diagnostic.code, diagnostic.line)
        if diagnostic.code != "W050" or key not in merged:
            out.append(diagnostic)
            merged.setdefault(key, diagnostic)
            continue
        first = merged[key]
        parts = sorted(set(first.message.split(": ", 1)[1].split(", ")) | set(
            diagnostic.message.split(": ", 1)[1].split(", ")))
        combined = dataclasses.replace(first, message=f"{first.message.split(': ', 1)[0]}: {', '.join(parts)}")
        out[out.index(first)] = combined
        merged[key] = combined
    return out


BROKEN_NOTE_LABEL = re.compile(r"\[\^([^\]\s]+)[ \t]*\n[ \t]*\]:")  # "[^foo" then "]: …" on the next line


def broken_note(label: str, article: Article, line: int) -> BuildError:
    return error("E039", f"the footnote [^{shown(label)}] is broken across lines",
                 f"Write '[^{shown(label)}]:' on one line, the note's text after it.", article.source, line)


def check_inline(inline: Token, article: Article, first_line: int) -> list[Diagnostic]:
    """Images, links and inline HTML of one paragraph, each at its own line."""
    diagnostics: list[Diagnostic] = []
    line = first_line
    for child in inline.children or []:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "html_inline":
            diagnostics += check_raw_html(child.content, article, line)
        elif child.type == "image":
            diagnostics += removed_attributes("img", child.attrs, article, line)
            alt = "".join(part.content for part in child.children or [])
            diagnostics += check_image(str(child.attrs.get("src", "")), alt,
                                       "decorative" in str(child.attrs.get("class", "")).split(), article, line)
        elif child.attrs and child.tag:
            diagnostics += removed_attributes(child.tag, child.attrs, article, line)
        if child.attrs and "lang" in child.attrs:
            check_language(str(child.attrs["lang"]), article, line)
        if child.type == "link_open":
            diagnostics += check_link(str(child.attrs.get("href", "")), article, line)
            diagnostics += check_link_text(link_text(inline.children or [], child), article, line)
        line += child.content.count("\n") if child.type in ("text", "html_inline", "code_inline") else 0
    broken = BROKEN_NOTE_LABEL.search(inline.content)
    if broken:
        raise broken_note(broken.group(1), article, first_line + inline.content[:broken.start()].count("\n"))
    missing = re.search(r"\[\^([^\]\s]+)\]", "".join(c.content for c in inline.children or [] if c.type == "text"))
    if missing:
        for written in BROKEN_NOTE_LABEL.finditer(article.body):  # its note is there, but not as a note
            if written.group(1) == missing.group(1):
                raise broken_note(written.group(1), article, article.body_line + article.body[:written.start()].count(
                    "\n"))
        raise error("E031", f"footnote reference [^{shown(missing.group(1))}] has no note",
                    f"Add '[^{shown(missing.group(1))}]: …' after the text, or remove the reference.",
                    article.source, first_line)
    return diagnostics


def removed_attributes(tag: str, attrs: dict[str, Any], article: Article, line: int) -> list[Diagnostic]:
    ignored = {"alt"} if tag == "img" else set()  # markdown-it fills alt in when rendering
    parts = [part for part in attribute_problems(tag, {k: str(v) for k, v in attrs.items() if k not in ignored})
             if "URL on <a>" not in part]  # link schemes get their own warning, W052
    if not parts:
        return []
    return [warning("W050", f"HTML removed from the book: {', '.join(sorted(set(parts)))}",
                    "Remove it from the source; books carry no scripts, embeds, styles or unknown attributes.",
                    article.source, line)]


def check_raw_html(fragment: str, article: Article, line: int) -> list[Diagnostic]:
    """Raw HTML goes through nh3: say what it will remove, and check what it keeps (images, links)."""
    diagnostics = []
    parts = unsafe_parts(fragment)
    if parts:
        diagnostics.append(warning("W050", f"raw HTML removed: {', '.join(sorted(set(parts)))}",
                                   "Remove it from the source; books carry no scripts, embeds or styles.",
                                   article.source, line))
    for tag, attrs in start_tags(fragment):
        reserved = set(attrs.get("class", "").split()) & RESERVED_CLASSES or set(attrs) & RESERVED_ATTRIBUTES
        if reserved and tag in ALLOWED_TAGS:
            raise error("E051", f"raw <{tag}> uses '{sorted(reserved)[0]}', which the builder reserves",
                        "Write footnotes as [^1] and math as $$…$$ in Markdown, not as HTML.", article.source, line)
        if tag == "img":
            if url_scheme(attrs.get("src", "")) == "data":  # nh3 drops it; the empty <img> left is an error
                raise error("E040", "image with a data: URL", "Save the image in images/ and write ../images/<name>.",
                            article.source, line)
            if "alt" not in attrs and "decorative" not in attrs.get("class", "").split():
                raise error("E042", f"image '{shown(attrs.get('src', ''))}' has no alt text",
                            'Add alt="…" describing the image, or class="decorative" if it carries no information.',
                            article.source, line)
            diagnostics += check_image(attrs.get("src", ""), attrs.get("alt", ""),
                                       "decorative" in attrs.get("class", "").split(), article, line)
        if tag == "a" and "href" in attrs and url_scheme(attrs["href"]) in (None, *URL_SCHEMES):  # others: W050
            diagnostics += check_link(attrs["href"], article, line)
    return diagnostics


def check_language(tag: str, article: Article, line: int) -> None:
    if wrong := languages.problem(tag):
        raise error("E006", f"{shown(wrong.message)} in lang=", wrong.remedy, article.source, line)


@functools.cache  # checked, then converted: one conversion per formula
def latex_to_mathml(latex: str) -> str:
    return mathml.converter.convert(latex)


def check_math(latex: str, article: Article, line: int) -> None:
    try:
        etree.fromstring(latex_to_mathml(latex))
    except (mathml.UnreadableLatex, etree.XMLSyntaxError) as exc:
        reason = shown(exc) if isinstance(exc, mathml.UnreadableLatex) else (
            "an '&' outside an environment such as \\begin{aligned} … \\end{aligned}" if "&" in latex
            else "it does not convert to MathML")
        raise error("E036", f"display math cannot be read ({reason})",
                    "Check the LaTeX between $$ and $$ (braces, \\frac{…}{…}).", article.source, line) from None


def walk(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        if token.children:
            out += walk(token.children)
    return out


def find_line(article: Article, *needles: str) -> int:
    """The first body line holding the first needle found (for checks made on the finished tree)."""
    for needle in needles:
        for number, text in enumerate(article.body.splitlines(), start=article.body_line):
            if needle in text:
                return number
    return article.body_line


def check_image(src: str, alt: str, decorative: bool, article: Article, line: int) -> list[Diagnostic]:
    if not decorative and not alt.strip():
        raise error("E042", f"image '{shown(src)}' has no alt text",
                    "Describe the image in ![…](…), or mark it {.decorative} if it carries no information.",
                    article.source, line)
    if not decorative and images.is_placeholder_alt(alt, src):
        raise error("E043", f"image '{shown(src)}' has placeholder alt text '{shown(alt)}'",
                    "Write what the image shows for someone who cannot see it.", article.source, line)
    path = images.resolve(src, article.source, article.source.parent.parent, line)
    return images.inspect(path, src, article.source, line)



def check_ids(section: etree._Element, article: Article) -> None:
    """The finished document: unique, valid ids; '#' links that land; attribute values EPUBCheck accepts."""
    seen: set[str] = set()
    for element in section.iter():
        if not isinstance(element.tag, str):
            continue
        identifier = element.get("id")
        if identifier is not None:
            if identifier in seen and identifier.startswith("page-") and "pagebreak" in element.get("class", ""):
                label = identifier.removeprefix("page-")
                raise error("E033", f"print page {shown(label)} is marked twice",
                            "Mark each page once (the article's first page comes from 'page:' in the front matter).",
                            article.source, find_line(article, f"[{label}]{{.pagebreak}}"))
            if identifier in seen:
                raise error("E033", f"the id '{shown(identifier)}' is used twice", "Give each {#id} a unique name.",
                            article.source, second_line(article, f"#{identifier}", f'id="{identifier}"'))
            if not XML_NAME.match(identifier):
                raise error("E034", f"the id '{shown(identifier)}' is not a valid name",
                            "Start an id with a letter; use only letters, digits, '-', '_' and '.'.",
                            article.source, find_line(article, identifier))
            seen.add(identifier)
        check_attribute_values(element, article)
    for link in section.xpath(".//h:a[starts-with(@href, '#')]", namespaces=NS):
        if link.get("href")[1:] not in seen:
            raise error("E030", f"link to '{shown(link.get('href'))}' goes nowhere",
                        "Link to an id that exists in this article, or write the text without a link.",
                        article.source, find_line(article, f"({link.get('href')})", f'"{link.get("href")}"'))


def second_line(article: Article, *needles: str) -> int:
    """Where an id is written the second time (the first place is right; the second is the mistake)."""
    lines = [number for number, text in enumerate(article.body.splitlines(), start=article.body_line)
             if any(needle in text for needle in needles)]
    return lines[1] if len(lines) > 1 else find_line(article, *needles)


def check_attribute_values(element: etree._Element, article: Article) -> None:
    """Values raw HTML may carry past nh3 that would make the book invalid."""
    for name, value in element.attrib.items():
        problem = ""
        if name == "lang" and value and (wrong := languages.problem(value)):  # raw HTML's lang, which no token shows
            raise error("E006", f"{shown(wrong.message)} in lang=", wrong.remedy, article.source,
                        find_line(article, f'lang="{value}"', f"lang={value}", value))
        if name in ("colspan", "rowspan") and not (value.isdigit() and 0 < int(value) < 1000):
            problem = "a whole number from 1 to 999"
        elif name == "start" and not re.fullmatch(r"-?\d+", value):
            problem = "a whole number"
        elif name == "scope" and value not in TABLE_SCOPES:
            problem = f"one of {', '.join(sorted(TABLE_SCOPES))}"
        if problem:
            raise error("E035", f"{name}=\"{shown(value)}\" is not valid", f"Write {problem}.", article.source,
                        find_line(article, f"{name}="))


# --- the finished tree: what only the whole document shows (raw HTML included), at the marked lines -----


def check_finished(section: etree._Element, article: Article) -> None:
    """Headings and link names of the finished article, each at its source line."""
    check_outline(section, article)
    check_link_names(section, article)


def element_line(element: etree._Element, article: Article) -> int:
    return source_lines.line_of(element) or article.body_line


def text_or_alt(element: etree._Element) -> str:
    """What a screen reader names an element by: its text, else the alt text of its images."""
    return " ".join("".join(element.itertext()).split()) or " ".join(
        " ".join(element.xpath(".//h:img/@alt", namespaces=NS)).split())


def check_outline(section: etree._Element, article: Article) -> None:
    """Body and author note (it follows the body's outline), raw HTML headings included: no skipped level, no
    empty heading. (Level 1 is refused on the tokens: the sanitiser keeps no <h1>.)"""
    previous = 1
    query = " | ".join(f"./h:div[@class='article-text']//h:h{n} | ./h:aside[@class='author-note']//h:h{n}"
                       for n in range(2, 7))
    for heading in section.xpath(query, namespaces=NS):
        level, line = int(heading.tag[-1]), element_line(heading, article)
        if level > previous + 1:
            raise error("E021", f"heading level skips from {previous} to {level}",
                        f"Use '{'#' * (previous + 1)}' here.", article.source, line)
        if not " ".join("".join(heading.itertext()).split()):
            what = "a heading of only an image" if heading.xpath(".//h:img", namespaces=NS) else "an empty heading"
            raise error("E022", what, "Write the heading's words after the '#'s (put an image in a paragraph below"
                        " it), or delete the line.", article.source, line)
        previous = level


def check_link_names(section: etree._Element, article: Article) -> None:
    for link in section.xpath(".//h:a[@href]", namespaces=NS):
        if not text_or_alt(link):
            raise error("E037", f"the link to '{shown(link.get('href'))}' has no text",
                        "Give the link words that say where it goes: [the report](https://…); a linked image needs"
                        " alt text saying where the link leads.", article.source, element_line(link, article))
