"""Markdown articles → XHTML content documents with DPUB-ARIA semantics.

markdown-it-py turns the body into HTML; nh3 sanitises it (raw HTML from anywhere may be in a
source); lxml rebuilds it as namespaced XHTML and adds what the book's readers need: epub:type and
roles, figures, notes with links both ways, page breaks, MathML with its spoken alternative.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nh3
from lxml import etree
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder import images, mathml
from builder.errors import Diagnostic, error, shown, warning
from builder.i18n import N_, Words, languages
from builder.images import CSS_URL, url_scheme
from builder.model import Article, Author, Document, Heading, Image

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
MATHML = "http://www.w3.org/1998/Math/MathML"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: XHTML, "epub": OPS}
NS = {"h": XHTML, "epub": OPS, "m": MATHML}
STYLESHEET = "../css/edition.css"
Z3998 = "z3998: http://www.daisy.org/z3998/2012/vocab/structure/#"
CONTAINERS = ("pullquote", "bibliography", "equation", "description", "verse", "question")
# A passage in another language: '::: {lang=de}' … ':::' (pandoc's fenced div with a lang attribute).
LANG_CONTAINER = re.compile(r"^\{\s*lang\s*=\s*[\"']?([^\"'}\s]*)[\"']?\s*\}$")

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
    "div": {"data-math"},
}
URL_SCHEMES = {"http", "https", "mailto"}
ENGLISH = Words("en")  # the msgids themselves


@dataclass(frozen=True)
class Rendered:
    document: Document
    images: tuple[Path, ...]  # source files of the images the document uses
    warnings: tuple[Diagnostic, ...]


def markdown_parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .enable("table")
        .use(footnote_plugin)
        .use(attrs_plugin, spans=True)
        .use(dollarmath_plugin, allow_digits=False)
    )
    for name in CONTAINERS:
        md.use(container_plugin, name=name, validate=lambda params, *_, name=name: params.strip().split(" ")[0] == name)
    md.use(container_plugin, name="lang", validate=lambda params, *_: bool(LANG_CONTAINER.match(params.strip())),
           render=render_lang_container)
    md.disable("math_inline")  # "$" in prose is money, not math; display math is $$…$$ only
    md.add_render_rule("math_block", render_math_block)
    md.add_render_rule("container_equation_open", render_equation_open)
    return md


def render_math_block(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    # Stashed as an attribute so that nh3 never sees MathML; it is converted after sanitising.
    return f'<div class="math" data-math="{html.escape(tokens[idx].content.strip())}"></div>\n'


def render_lang_container(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting == 1:
        return f'<div lang="{html.escape(container_language(tokens[idx]))}">\n'
    return "</div>\n"


def container_language(token: Token) -> str:
    match = LANG_CONTAINER.match(token.info.strip())
    return match.group(1) if match else ""


def break_verse_lines(tokens: list[Token], whole: bool) -> None:
    """In verse every line break is meant: soft breaks become hard ones (in a poem article, everywhere)."""
    depth = 0
    for token in tokens:
        if token.type == "container_verse_open":
            depth += 1
        elif token.type == "container_verse_close":
            depth -= 1
        elif token.type == "inline" and (depth or whole):
            for child in token.children or []:
                if child.type == "softbreak":
                    child.type, child.tag = "hardbreak", "br"


def render_equation_open(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    alt = tokens[idx].info.strip()[len("equation"):].strip()
    return f'<div class="equation" title="{html.escape(alt)}">\n'


# --- diagnostics on the token stream (they know the line numbers) ---------------------------------

# Classes and attributes the enrichment stage gives meaning to: in raw HTML they would be taken for the
# builder's own markup (footnotes, math) and could break it, so they are refused rather than trusted.
RESERVED_CLASSES = {"footnote-ref", "footnotes", "footnotes-sep", "footnote-item", "footnote-backref", "math",
                    "noteref", "backlink"}
RESERVED_ATTRIBUTES = {"data-math"}
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
    previous_level = 1
    for token in tokens:
        if token.map:
            here = base + token.map[0]
        if token.type == "html_block":
            diagnostics += check_raw_html(token.content, article, here)
        elif token.attrs and token.tag not in ("", "th", "td"):  # table cells: markdown-it's alignment style
            diagnostics += removed_attributes(token.tag, token.attrs, article, here)
        if token.type == "math_block":
            check_math(token.content, article, here)
        if token.type == "container_lang_open":
            check_language(container_language(token), article, here)
        elif token.attrs and "lang" in token.attrs:
            check_language(str(token.attrs["lang"]), article, here)
        if token.type == "heading_open":
            level = int(token.tag[1])
            if level == 1:
                raise error("E020", "a level-1 heading in the article body",
                            "The title comes from the front matter: use '##' for sections.", article.source, here)
            if level > previous_level + 1:
                raise error("E021", f"heading level skips from {previous_level} to {level}",
                            f"Use '{'#' * (previous_level + 1)}' here.", article.source, here)
            previous_level = level
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
    try:
        line = article.source.read_text(encoding="utf-8").split("\nauthor_note:")[0].count("\n") + 2
    except (OSError, UnicodeDecodeError):
        line = 1
    diagnostics: list[Diagnostic] = []
    for token in md.parse(article.author_note, {}):
        if token.type == "html_block":
            diagnostics += check_raw_html(token.content, article, line)
        if token.type == "inline":
            if any(child.type == "image" or (child.type == "html_inline" and "<img" in child.content.lower())
                   for child in token.children or []):
                # Only the body's images are packed into the book: one here would be a broken reference.
                raise error("E049", "an image in the author note", "Put the image in the article body.",
                            article.source, line)
            diagnostics += [dataclasses.replace(d, line=line) for d in check_inline(token, article, line)]
    return diagnostics


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
    missing = re.search(r"\[\^([^\]\s]+)\]", "".join(c.content for c in inline.children or [] if c.type == "text"))
    if missing:
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
        if tag == "a" and "href" in attrs and url_scheme(attrs["href"]) is None:  # schemes: W050 above
            diagnostics += check_link(attrs["href"], article, line)
    return diagnostics


def check_link(href: str, article: Article, line: int) -> list[Diagnostic]:
    scheme = url_scheme(href)
    if scheme is None and not href.startswith("#"):
        # A relative link has nothing to point to in the book: articles become files named by the builder.
        raise error("E030", f"link to '{shown(href)}' goes nowhere",
                    "Link to a full https:// address, or to an {#id} in this article with '#id'.",
                    article.source, line)
    if scheme is not None and scheme not in URL_SCHEMES:
        return [warning("W052", f"link '{shown(href)}' is removed: '{scheme}:' links are not allowed",
                        "Use an https:// or mailto: link, or write the address as plain text.", article.source, line)]
    return []  # '#id' links are checked against the finished document by check_ids


# A screen reader lists a page's links by their text alone: these say nothing about where they go.
TEXT_SAYING_NOTHING = {"link", "here", "click here", "this link", "click", "more", "read more"}
RAW_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
RAW_ADDRESS_LIMIT = 40  # characters: past this, an address spelled out takes seconds to hear


def link_text(children: list[Token], opening: Token) -> str:
    """The words between a link_open token and its link_close."""
    start = children.index(opening)
    words, depth = [], 0
    for token in children[start + 1:]:
        if token.type == "link_close" and depth == 0:
            break
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        words.append(token.content if token.type in ("text", "code_inline") else " ")
    return " ".join("".join(words).split())


def check_link_text(text: str, article: Article, line: int) -> list[Diagnostic]:
    """A link is named by its text: 'link' or a 150-character address is what a screen reader says for it."""
    if text.lower().strip(" .:!") in TEXT_SAYING_NOTHING:
        return [warning("W037", f"the link text '{shown(text)}' does not say where the link goes",
                        "Put the link on words that name its destination (the event, the document, the site).",
                        article.source, line)]
    if RAW_ADDRESS.match(text) and len(text) > RAW_ADDRESS_LIMIT:
        return [warning("W037", f"the link text is an address of {len(text)} characters, spelled out by screen readers",
                        "Put the link on words that name its destination; keep a printed address as plain text.",
                        article.source, line)]
    return []


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
        reason = shown(exc) if isinstance(exc, mathml.UnreadableLatex) else f"XMLSyntaxError: {shown(exc)}"
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


# --- HTML → namespaced XHTML ----------------------------------------------------------------------


def sanitise(html_text: str) -> str:
    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def to_xhtml(source: lxml_html.HtmlElement) -> etree._Element:
    """Copy an lxml.html tree into the XHTML namespace."""
    element = etree.Element(f"{{{XHTML}}}{source.tag}", nsmap=NSMAP)
    for name, value in source.attrib.items():
        element.set(name, value)
    element.text = source.text
    for child in source:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        copy = to_xhtml(child)
        copy.tail = child.tail
        element.append(copy)
    return element


def h(tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.Element(f"{{{XHTML}}}{tag}", nsmap=NSMAP)
    for name, value in attrs.items():
        element.set(attribute_name(name), value)
    element.text = text
    return element


def attribute_name(name: str) -> str:
    if name == "epub_type":
        return f"{{{OPS}}}type"
    if name == "class_":
        return "class"
    return name.replace("_", "-")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = h(tag, text, **attrs)
    parent.append(child)
    return child


def replace(old: etree._Element, new: etree._Element) -> None:
    new.tail = old.tail
    old.getparent().replace(old, new)


def classes(element: etree._Element) -> list[str]:
    return element.get("class", "").split()


def xpath(element: etree._Element, query: str) -> list[etree._Element]:
    return element.xpath(query, namespaces=NS)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


# --- enrichment of the body -----------------------------------------------------------------------


def enrich_body(body: etree._Element, slug: str, words: Words) -> tuple[list[str], list[Image], bool]:
    mark_noterefs(body, words)
    notes = mark_notes(body, words)
    make_containers(body, slug, words)
    pictures = make_figures(body, slug, words)
    pages = mark_page_breaks(body, words)
    has_math = convert_math(body)
    wrap_tables(body, slug, words)
    for element in body.iter():  # ids with ':' (footnote plugin) are not valid XML ids
        if element.get("id"):
            element.set("id", element.get("id").replace(":", "-"))
        if element.get("href", "").startswith("#"):
            element.set("href", element.get("href").replace(":", "-"))
    if notes is not None:
        body.append(notes)
    return pages, pictures, has_math


def mark_noterefs(body: etree._Element, words: Words) -> None:
    for sup in xpath(body, ".//h:sup[@class='footnote-ref']"):
        sup.attrib.pop("class")
        if not len(sup) or sup[0].tag != f"{{{XHTML}}}a":
            continue  # the HTML parser took the link apart (a reference inside an unclosed raw <a>)
        link = sup[0]
        number = re.sub(r"[\[\]]|:\d+$", "", text_of(link))
        link.text = number
        link.set("class", "noteref")
        link.set(f"{{{OPS}}}type", "noteref")
        link.set("role", "doc-noteref")
        link.set("aria-label", words("Note {n}", n=number))


def mark_notes(body: etree._Element, words: Words) -> etree._Element | None:
    for separator in xpath(body, ".//h:hr[@class='footnotes-sep']"):
        separator.getparent().remove(separator)
    found = xpath(body, ".//h:section[@class='footnotes']")
    if not found:
        return None
    section = found[0]
    section.getparent().remove(section)  # not always a direct child: raw HTML may wrap it
    notes = h("section", class_="footnotes", epub_type="endnotes", role="doc-endnotes", aria_labelledby="notes")
    sub(notes, "h2", words("Notes"), id="notes")
    ordered = sub(notes, "ol")
    for item in xpath(section, ".//h:li"):
        item.attrib.pop("class", None)
        item.set(f"{{{OPS}}}type", "endnote")  # no role: doc-endnote is deprecated in DPUB-ARIA 1.1
        number = item.get("id", "").removeprefix("fn")
        for count, back in enumerate(xpath(item, ".//h:a[@class='footnote-backref']"), start=1):
            back.text = "↩"
            back.set("class", "backlink")
            back.set("role", "doc-backlink")
            label = words("Back to reference {n}, occurrence {count}", n=number, count=count) if count > 1 else \
                words("Back to reference {n}", n=number)
            back.set("aria-label", label)
        ordered.append(item)
    return notes


def make_containers(body: etree._Element, slug: str, words: Words) -> None:
    for div in xpath(body, ".//h:div[@class='pullquote']"):
        aside = h("aside", class_="pullquote", epub_type="pullquote", aria_hidden="true")
        aside.extend(list(div))
        replace(div, aside)
    for div in xpath(body, ".//h:div[@class='bibliography']"):
        adopt_preceding_heading(div)
        section = h("section", class_="bibliography", epub_type="bibliography", role="doc-bibliography",
                    aria_labelledby=f"{slug}-references")
        if not len(div) or not div[0].tag.endswith(("h2", "h3")):
            sub(section, "h2", words("References"), id=f"{slug}-references")
        else:
            div[0].set("id", f"{slug}-references")
        section.extend(list(div))
        replace(div, section)


def adopt_preceding_heading(container: etree._Element) -> None:
    """`## References` written just before `::: bibliography` heads the bibliography itself: moved inside,
    so that the section has one heading (not the source's and a second one the builder would add)."""
    before = container.getprevious()
    starts_with_heading = len(container) and container[0].tag.endswith(("h2", "h3"))
    if before is None or starts_with_heading or before.tag not in (f"{{{XHTML}}}h2", f"{{{XHTML}}}h3"):
        return
    before.tail = None
    container.insert(0, before)


def adopt_closing_heading(body: etree._Element, notes: etree._Element) -> None:
    """A heading that ends the text with nothing under it (`## References` before the footnote definitions,
    as the print heads its numbered notes) heads the notes in place of "Notes": one heading, not two."""
    last = body[-1] if len(body) else None
    if last is None or last.tag not in (f"{{{XHTML}}}h2", f"{{{XHTML}}}h3") or (last.tail or "").strip():
        return
    body.remove(last)
    old = notes[0]
    last.tag, last.tail = f"{{{XHTML}}}h2", old.tail
    last.set("id", old.get("id", "notes"))
    notes.replace(old, last)


def make_figures(body: etree._Element, slug: str, words: Words) -> list[Image]:
    pictures = []
    for number, img in enumerate(xpath(body, ".//h:img"), start=1):
        decorative = "decorative" in classes(img)
        if decorative:
            img.set("alt", "")
            img.set("role", "presentation")
            img.attrib.pop("title", None)
            img.attrib.pop("class", None)
            pictures.append(Image(img.get("src", ""), "", True))
            continue
        parent = img.getparent()
        caption = img.attrib.pop("title", "")
        alone = parent.tag == f"{{{XHTML}}}p" and len(parent) == 1 and not (parent.text or "").strip() and not (
            img.tail or "").strip()
        if not alone:
            pictures.append(Image(img.get("src", ""), img.get("alt", ""), False))
            continue
        figure = h("figure", id=f"{slug}-figure-{number}")
        replace(parent, figure)
        img.tail = None
        figure.append(img)
        if caption:
            name_by_caption(figure, sub(figure, "figcaption", caption, id=f"{slug}-figure-{number}-caption"))
        described = attach_description(figure, img, f"{slug}-figure-{number}", words)
        pictures.append(Image(img.get("src", ""), img.get("alt", ""), False, caption, described))
    return pictures


def attach_description(figure: etree._Element, img: etree._Element, figure_id: str, words: Words) -> bool:
    following = figure.getnext()
    if following is None or following.get("class") != "description":
        return False
    details = h("details", class_="long-description", id=f"{figure_id}-description")
    sub(details, "summary", words("Description and data"))
    details.extend(list(following))
    figure.getparent().remove(following)
    img.addnext(details)  # a figcaption must stay the figure's first or last child
    link_long_description(img, details)
    for table in xpath(details, ".//h:table"):
        label_data_table(table, words)
    return True


def name_by_caption(figure: etree._Element, caption: etree._Element) -> None:
    """Chromium gives a figure no name from its figcaption once the figure holds more than the image:
    the caption names it explicitly."""
    figure.set("aria-labelledby", caption.get("id", ""))


def link_long_description(img: etree._Element, details: etree._Element) -> None:
    """aria-details, not aria-describedby: a description taken from a closed <details> is only its summary
    ("Description and data", heard again as the disclosure), and from an open one the whole table flattened
    into one string. aria-details points screen readers to the structure itself."""
    img.set("aria-details", details.get("id", ""))


def label_data_table(table: etree._Element, words: Words) -> None:
    """A chart's data table: a caption saying what it is, and its first column (the categories) as row headers."""
    if not xpath(table, "./h:caption"):
        table.insert(0, h("caption", words("Chart data")))
    for cell in xpath(table, "./h:thead/h:tr/h:th[not(@scope)]"):
        cell.set("scope", "col")
    rows = xpath(table, "./h:tbody/h:tr")
    firsts = [row[0] for row in rows if len(row)]
    if not firsts or any(cell.tag != f"{{{XHTML}}}td" or is_number(text_of(cell)) for cell in firsts):
        return
    for cell in firsts:
        cell.tag = f"{{{XHTML}}}th"
        cell.set("scope", "row")


def is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+−]?[\d.,\s%]+", text))


def wrap_tables(body: etree._Element, slug: str, words: Words) -> None:
    """Each table in a box of its own that scrolls sideways when the table is wider than the column, so the
    page never does (WCAG 1.4.10); a scrolling region must be reachable by keyboard and named (Ace, axe).
    Display equations scroll in their own box too (edition.css)."""
    for number, table in enumerate(xpath(body, ".//h:table"), start=1):
        parent = table.getparent()
        if "table-scroll" in classes(parent):
            continue
        box = h("div", class_="table-scroll", role="region", tabindex="0")
        caption = xpath(table, "./h:caption")
        if caption:
            caption_id = caption[0].get("id") or f"{slug}-table-{number}-caption"
            caption[0].set("id", caption_id)
            box.set("aria-labelledby", caption_id)
        else:
            box.set("aria-label", words("Table {n}", n=number))
        replace(table, box)
        table.tail = None
        box.append(table)
    for equation in xpath(body, ".//h:div[@class='equation']"):
        equation.set("tabindex", "0")  # a wide formula scrolls in its own box: keyboard users can scroll it too


def page_break(label: str, words: Words = ENGLISH) -> etree._Element:
    return h("span", id=f"page-{slugify(label)}", class_="pagebreak", epub_type="pagebreak",
             role="doc-pagebreak", aria_label=words("Page {n}", n=label))


def mark_page_breaks(body: etree._Element, words: Words) -> list[str]:
    pages = []
    for span in xpath(body, ".//h:span[@class='pagebreak']"):
        label = text_of(span)
        pages.append(label)
        marker = page_break(label, words)
        parent = span.getparent()
        if parent.tag == f"{{{XHTML}}}p" and len(parent) == 1 and not (parent.text or "").strip():
            replace(parent, marker)
        else:
            replace(span, marker)
    return pages


def convert_math(body: etree._Element) -> bool:
    found = False
    for div in xpath(body, ".//h:div[@class='math']"):
        found = True
        container = div.getparent()
        alt = container.get("title", "") if container.get("class") == "equation" else ""
        container.attrib.pop("title", None)
        math = etree.fromstring(latex_to_mathml(div.get("data-math", "")))
        math.set("alttext", alt or div.get("data-math", ""))
        name_math(math)
        replace(div, math)
    return found


def name_math(math: etree._Element) -> None:
    """Chromium (and so every reading system built on it) ignores alttext: aria-label exposes the spoken
    alternative as the math node's name, and the MathML below it stays in the tree for MathML-aware readers."""
    if math.get("alttext"):
        math.set("aria-label", math.get("alttext", ""))


def identify_headings(body: etree._Element, slug: str) -> list[Heading]:
    headings, used = [], set()
    for element in xpath(body, ".//h:h2 | .//h:h3 | .//h:h4 | .//h:h5 | .//h:h6"):
        identifier = element.get("id") or f"{slug}-{slugify(text_of(element))}"
        while identifier in used:
            identifier += "-2"
        used.add(identifier)
        element.set("id", identifier)
        headings.append(Heading(int(element.tag[-1]), text_of(element), identifier))
    return headings


# --- the article document -------------------------------------------------------------------------


def xhtml_document(title: str, language: str, body_content: etree._Element, stylesheet: str = STYLESHEET) -> str:
    root = etree.Element(f"{{{XHTML}}}html", nsmap=NSMAP)
    root.set("lang", language)
    root.set(f"{{{XML}}}lang", language)
    if any("z3998:" in element.get(f"{{{OPS}}}type", "") for element in body_content.iter()):
        root.set(f"{{{OPS}}}prefix", Z3998)  # verse's semantics: a vocabulary EPUB wants declared
    head = sub(root, "head")
    sub(head, "meta", charset="utf-8")
    sub(head, "title", title)
    sub(head, "link", rel="stylesheet", type="text/css", href=stylesheet)
    body = sub(root, "body")
    body.append(body_content)
    markup = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n{markup}\n'


def markdown_fragment(markdown: str, md: MarkdownIt, parsed: tuple[list[Token], dict] | None = None) -> etree._Element:
    """The Markdown as sanitised XHTML; `parsed` (tokens and env) saves parsing it again."""
    tokens, env = parsed if parsed is not None else (md.parse(markdown, env := {}), env)
    rendered = sanitise(md.renderer.render(tokens, md.options, env))
    container = lxml_html.fragment_fromstring(rendered or "<p></p>", create_parent="div")
    return to_xhtml(container)


READING_WORDS_PER_MINUTE = 200  # a common adult silent-reading estimate
# espeak-ng (en-gb) at R words a minute reads about 5.7 × R characters of text a minute, pauses included
# (measured on this edition at 170: 964 a minute, ±9 % between articles). Characters predict it better than
# words, which miss the letters of spelled-out abbreviations and the digits of references (by up to 50 %).
SPOKEN_CHARACTERS_PER_WORD = 5.7
# What narration leaves out (speech.py has the full rule): repeats, markers, navigation, the times themselves.
UNSPOKEN_CLASSES = frozenset({"pullquote", "pagebreak", "noteref", "backlink", "skip-link", "skip-next",
                              "reading-time"})


@dataclass(frozen=True)
class Neighbourhood:
    """What an article's header needs to know about the edition around it."""

    next_href: str = ""
    next_title: str = ""
    speech_rate: int = 170  # words a minute, for the listening-time estimate
    next_language: str = ""  # the next article's language, when it has its own


def minutes(amount: float, per_minute: float, words: Words = ENGLISH) -> str:
    count = max(1, round(amount / per_minute))
    return words.plural("{n} minute", "{n} minutes", count)


def spoken_text(element: etree._Element) -> str:
    """Roughly what a narrator reads in the element: no comments, hidden or unspoken parts; math as its
    spoken alternative."""
    if not isinstance(element.tag, str) or element.get("aria-hidden") == "true" or \
            UNSPOKEN_CLASSES & set(element.get("class", "").split()):
        return ""
    if etree.QName(element).localname == "math":
        return element.get("alttext", "")
    return (element.text or "") + "".join(spoken_text(child) + (child.tail or "") for child in element)


def set_listening_estimate(section: etree._Element, speech_rate: int, words: Words = ENGLISH) -> None:
    """The header's listening time, from the finished article: everything in it that will be read aloud."""
    characters = len(" ".join(spoken_text(section).split()))
    for estimate in xpath(section, ".//h:span[@class='listening-time']"):
        estimate.text = words("about {duration}",
                              duration=minutes(characters, speech_rate * SPOKEN_CHARACTERS_PER_WORD, words))


# Words the byline puts before each role's names (N_ marks them for the catalogues; translated in byline()).
CREDITS = {
    "author": N_("By {names}"),
    "interviewee": N_("With {names}"),
    "interviewer": N_("Interview by {names}"),
    "transcriber": N_("Transcribed by {names}"),
    "compiler": N_("Compiled by {names}"),
    "editor": N_("Edited by {names}"),
}


def byline(authors: tuple[Author, ...], words: Words = ENGLISH) -> str:
    """'By A and B; interview by C' — grouped by role in the order the roles first appear."""
    groups: dict[str, list[str]] = {}
    for author in authors:
        groups.setdefault(author.role, []).append(author.name)
    return "; ".join(words(CREDITS[role], names=words.join(names)) if role in CREDITS else
                     f"{role.capitalize()}: {words.join(names)}" for role, names in groups.items())


def with_language(element: etree._Element, language: str) -> etree._Element:
    """Mark an element as written in `language` (HTML's lang and XML's xml:lang, as EPUB wants both)."""
    element.set("lang", language)
    element.set(f"{{{XML}}}lang", language)
    return element


def article_header(article: Article, words: int, around: Neighbourhood, say: Words = ENGLISH) -> etree._Element:
    # role="none": a <header> inside a section with a role is a banner landmark to Chromium, announced
    # in every chapter; the header's parts keep their own roles.
    header = h("header", role="none")
    sub(header, "h1", article.title, id=f"{article.slug}-title")
    if article.subtitle:
        sub(header, "p", article.subtitle, class_="subtitle", epub_type="subtitle", role="doc-subtitle")
    if article.authors:
        sub(header, "p", byline(article.authors, say), class_="byline")
    header.append(at_a_glance(article, words, around, say))
    return header


def at_a_glance(article: Article, words: int, around: Neighbourhood, say: Words = ENGLISH) -> etree._Element:
    """Content notes first (before a summary that may name what they warn of), then the ways past the
    rest: to the text, or on to the next article; then the summary and the reading and listening times."""
    glance = h("section", class_="at-a-glance", aria_label=say("At a glance"))
    if article.content_notes:
        notes = sub(glance, "p", class_="content-notes")
        sub(notes, "strong", say("Content notes:")).tail = " " + "; ".join(article.content_notes) + "."
    sub(sub(glance, "p", class_="skip-link"), "a", say("Skip to the article text"), href=f"#{article.slug}-text")
    if around.next_href:
        skip = sub(glance, "p", class_="skip-next")
        link = sub(skip, "a", href=around.next_href)
        before, after = say("Skip to the next article: {title}", title="\0").split("\0", 1)
        link.text = before
        title = sub(link, "span", around.next_title) if around.next_language else None
        if title is not None:
            with_language(title, around.next_language)
            title.tail = after
        else:
            link.text += around.next_title + after
    sub(glance, "p", article.summary, class_="summary", epub_type="abstract", role="doc-abstract")
    # One sentence for translators; the listening time is a span, estimated once the article is complete
    # (the narrated book puts the measured length in its place).
    before, after = say("About {reading} to read and {listening} to listen to.",
                        reading=minutes(words, READING_WORDS_PER_MINUTE, say), listening="\0").split("\0", 1)
    times = sub(glance, "p", before, class_="reading-time")
    sub(times, "span", class_="listening-time").tail = after
    return glance


# --- interviews -----------------------------------------------------------------------------------

TITLES = re.compile(r"^(?:(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx|Sir|Dame)\.?\s+)+")


def mark_questions(body: etree._Element, article: Article, words: Words) -> None:
    """`::: question` blocks become headings one level below the section they are in (screen readers
    move by heading), class "question", with the label a listener needs as real text: "Question:",
    visually hidden, unless the question already starts with its interviewer's name as printed."""
    level, number = 1, 0
    for element in xpath(body, ".//h:h2 | .//h:h3 | .//h:h4 | .//h:h5 | .//h:div[@class='question']"):
        if element.tag != f"{{{XHTML}}}div":
            level = int(element.tag[-1])
            continue
        number += 1
        blocks = [child for child in element if isinstance(child.tag, str)]
        heading = h(f"h{min(level + 1, 6)}", class_="question", id=f"{article.slug}-question-{number}")
        first = blocks[0] if blocks else h("p")
        heading.text = first.text
        heading.extend(list(first))
        if not names_interviewer(text_of(heading), article):
            label = h("span", words("Question:"), class_="visually-hidden question-label")
            label.tail = " " + (heading.text or "")
            heading.text = None
            heading.insert(0, label)
        parent, index = element.getparent(), element.getparent().index(element)
        parent.remove(element)
        for offset, block in enumerate([heading, *blocks[1:]]):
            parent.insert(index + offset, block)
        heading.tail = None


def names_interviewer(text: str, article: Article) -> bool:
    speaker = text.split(":", 1)[0] if ":" in text[:60] else ""
    names = {TITLES.sub("", author.name).strip() for author in article.authors if author.role == "interviewer"}
    return bool(speaker) and TITLES.sub("", speaker).strip() in names


def render_article(article: Article, language: str, md: MarkdownIt | None = None,
                   around: Neighbourhood | None = None) -> Rendered:
    """`language` is the edition's; the article's own, when it has one, is its document's."""
    md = md or markdown_parser()
    around = around or Neighbourhood()
    language = article.language or language
    say = Words(language)
    env: dict = {}
    tokens = md.parse(article.body, env)
    diagnostics = check_tokens(tokens, env, article, md)
    break_verse_lines(tokens, whole=article.kind == "poem")
    body = markdown_fragment(article.body, md, (tokens, env))
    body.set("id", f"{article.slug}-text")
    body.set("class", "article-text")
    mark_verse(body, poem=article.kind == "poem")
    pages, pictures, has_math = enrich_body(body, article.slug, say)
    mark_questions(body, article, say)
    notes = xpath(body, "./h:section[@class='footnotes']")
    for section in notes:
        body.remove(section)
        adopt_closing_heading(body, section)

    section = h("section", id=article.slug, class_=f"article article-{article.kind}", epub_type="chapter",
                role="doc-chapter", aria_labelledby=f"{article.slug}-title")
    start_pages = [article.page_label] if article.page else []
    if article.page:
        section.append(page_break(article.page_label, say))
    section.append(article_header(article, len(text_of(body).split()), around, say))
    section.append(body)
    if article.author_note:
        # The note is about those who wrote the piece: an interview's interviewees are its subject, not its authors.
        writers = [author for author in article.authors if author.role != "interviewee"]
        about = say.plural("About the author", "About the authors", max(1, len(writers)))
        note = sub(section, "aside", class_="author-note", aria_label=about)
        note.extend(list(markdown_fragment(article.author_note, md)))
    for notes_section in notes:
        section.append(notes_section)
    set_listening_estimate(section, around.speech_rate, say)
    headings = [heading for heading in identify_headings(section, article.slug)
                if not heading.id.startswith(f"{article.slug}-question-")]  # the TOC lists sections, not questions
    check_ids(section, article)
    used = passage_languages(section, language)
    document = Document(
        file_name=f"text/{article.slug}.xhtml",
        title=article.title,
        xhtml=xhtml_document(article.title, language, section),
        article=article,
        headings=tuple(headings),
        pages=tuple(start_pages + pages),
        images=tuple(pictures),
        has_math=has_math,
        landmark="bodymatter",
        language=language,
        languages=used,
    )
    sources = tuple(images.resolve(image.src, article.source, article.source.parent.parent, article.body_line)
                    for image in pictures)
    return Rendered(document, sources, tuple(diagnostics))


def passage_languages(section: etree._Element, language: str) -> tuple[str, ...]:
    """Give every passage marked with lang= its xml:lang too; the document's languages, its own first."""
    found = {language.lower(): language}
    for element in section.iter():
        if isinstance(element.tag, str) and element.get("lang"):
            with_language(element, element.get("lang"))
            found.setdefault(element.get("lang").lower(), element.get("lang"))
    return tuple(found.values())


def mark_verse(body: etree._Element, poem: bool) -> None:
    """Verse keeps its lines: a poem article's body, or a '::: verse' block, becomes a div.verse whose
    paragraphs are stanzas of span.line, a <br/> between lines (contract 3)."""
    if poem:
        verse = h("div", class_="verse")
        verse.extend(list(body))
        verse.text, body.text = body.text, None
        body.append(verse)
    for verse in xpath(body, ".//h:div[@class='verse']"):
        verse.set(f"{{{OPS}}}type", "z3998:poem" if poem and verse.getparent() is body else "z3998:verse")
        for stanza in xpath(verse, "./h:p"):
            make_stanza(stanza)


def make_stanza(paragraph: etree._Element) -> None:
    paragraph.set("class", "stanza")
    lines = [h("span", paragraph.text, class_="line")]
    paragraph.text = None
    for child in list(paragraph):
        if etree.QName(child).localname == "br":
            tail = (child.tail or "").lstrip("\n")
            paragraph.remove(child)
            lines.append(h("span", tail, class_="line"))
        else:
            lines[-1].append(child)  # an inline element, with the text after it
    for number, line in enumerate(lines):
        paragraph.append(line)
        if number < len(lines) - 1:
            sub(paragraph, "br").tail = "\n"


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
    for link in xpath(section, ".//h:a[starts-with(@href, '#')]"):
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
