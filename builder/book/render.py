"""Markdown articles → XHTML content documents with DPUB-ARIA semantics.

markdown-it-py turns the body into HTML; nh3 sanitises it (raw HTML from anywhere may be in a
source); lxml rebuilds it as namespaced XHTML and adds what the book's readers need: epub:type and
roles, figures, notes with links both ways, page breaks, MathML with its spoken alternative.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
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

from builder.book import images
from builder.errors import Diagnostic
from builder.i18n import N_, Words
from builder.model import Article, Author, Document, Heading, Image
from builder.sources import lines as source_lines
from builder.sources.markdown_checks import (  # noqa: F401  (the sanitiser's policy, re-exported for its users)
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LANG_CONTAINER,
    URL_SCHEMES,
    author_note_line,
    check_finished,
    check_ids,
    check_tokens,
    container_language,
    latex_to_mathml,
    start_tags,
    unsafe_parts,
)

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
MATHML = "http://www.w3.org/1998/Math/MathML"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: XHTML, "epub": OPS}
NS = {"h": XHTML, "epub": OPS, "m": MATHML}
STYLESHEET = "../css/edition.css"
Z3998 = "z3998: http://www.daisy.org/z3998/2012/vocab/structure/#"
CONTAINERS = ("pullquote", "bibliography", "equation", "description", "verse", "question")
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
    md.add_render_rule("math_block_label", render_math_block)  # $$…$$ (2): MyST's numbered equation
    md.add_render_rule("container_equation_open", render_equation_open)
    return md


def render_math_block(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    # Stashed as an attribute so that nh3 never sees MathML; it is converted after sanitising.
    token = tokens[idx]
    label = f' data-math-label="{html.escape(token.info)}"' if token.type == "math_block_label" else ""
    line = token.attrGet(source_lines.MARK)
    marker = f' {source_lines.MARK}="{line}"' if line is not None else ""
    return f'<div class="math" data-math="{html.escape(token.content.strip())}"{label}{marker}></div>\n'


def render_lang_container(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting == 1:
        return f'<div lang="{html.escape(container_language(tokens[idx]))}">\n'
    return "</div>\n"


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


# --- HTML → namespaced XHTML ----------------------------------------------------------------------


def sanitise(html_text: str, marked: bool = False) -> str:
    """`marked`: keep the source-line markers too (the source has none of its own: E051 refuses them)."""
    attributes = ALLOWED_ATTRIBUTES
    if marked:
        attributes = {**ALLOWED_ATTRIBUTES, "*": ALLOWED_ATTRIBUTES["*"] | {source_lines.MARK}}
    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS,
        attributes=attributes,
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
    repair_preformatted(body)
    empty_header_cells_as_data(body)
    wrap_tables(body, slug, words)
    for element in body.iter():  # ids with ':' (footnote plugin) are not valid XML ids
        if element.get("id"):
            element.set("id", element.get("id").replace(":", "-"))
        if element.get("href", "").startswith("#"):
            element.set("href", element.get("href").replace(":", "-"))
    if notes is not None:
        body.append(notes)
    return pages, pictures, has_math


# Phrasing content (what a <pre> may hold): raw HTML whose blank line ended its block leaves Markdown
# paragraphs inside a <pre>, which is invalid; their words stay, the block elements go.
PHRASING = frozenset({"a", "abbr", "b", "br", "cite", "code", "del", "em", "i", "img", "ins", "kbd", "mark", "q",
                      "s", "small", "span", "strong", "sub", "sup", "u", "math"})


def repair_preformatted(body: etree._Element) -> None:
    for pre in xpath(body, ".//h:pre"):
        for inner in list(pre.iterdescendants()):
            if isinstance(inner.tag, str) and etree.QName(inner).localname not in PHRASING:
                unwrap(inner)


def unwrap(element: etree._Element) -> None:
    """Replace an element by its content (text, children, tail), in place."""
    parent = element.getparent()
    index = parent.index(element)
    previous = element.getprevious()
    text = (element.text or "") + ("\n" if etree.QName(element).localname == "p" else "")
    if previous is None:
        parent.text = (parent.text or "") + text
    else:
        previous.tail = (previous.tail or "") + text
    for offset, child in enumerate(list(element)):
        parent.insert(index + offset, child)
    last = element.getprevious()
    tail = element.tail or ""
    if last is None:
        parent.text = (parent.text or "") + tail
    else:
        last.tail = (last.tail or "") + tail
    parent.remove(element)


def empty_header_cells_as_data(body: etree._Element) -> None:
    """An empty header cell (the top-left corner of a two-way table) heads nothing: a data cell says so."""
    for cell in xpath(body, ".//h:th"):
        if not text_of(cell) and not xpath(cell, ".//h:img[normalize-space(@alt)] | .//m:math"):
            cell.tag = f"{{{XHTML}}}td"
            cell.attrib.pop("scope", None)


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
    for number, div in enumerate(xpath(body, ".//h:div[@class='bibliography']"), start=1):
        adopt_preceding_heading(div)
        # Each bibliography labelled by its own heading (a second one is not announced as the first).
        identifier = f"{slug}-references" + (f"-{number}" if number > 1 else "")
        if len(div) and div[0].tag.endswith(("h2", "h3")):
            identifier = div[0].get("id") or identifier
        section = h("section", class_="bibliography", epub_type="bibliography", role="doc-bibliography",
                    aria_labelledby=identifier)
        if not len(div) or not div[0].tag.endswith(("h2", "h3")):
            sub(section, "h2", words("References"), id=identifier)
        else:
            div[0].set("id", identifier)
        section.extend(list(div))
        replace(div, section)
    name_bibliographies_apart(body)


def name_bibliographies_apart(body: etree._Element) -> None:
    """Each bibliography is a landmark named by its heading: one whose heading repeats an earlier one's
    ("References" twice) is named with its number, "References (2)", so the two can be told apart."""
    seen: dict[str, int] = {}
    for section in xpath(body, ".//h:section[@role='doc-bibliography']"):
        heading = xpath(section, f".//*[@id='{section.get('aria-labelledby', '')}']")
        name = text_of(heading[0]) if heading else ""
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            section.attrib.pop("aria-labelledby", None)
            section.set("aria-label", f"{name} ({seen[name]})")


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
        label = div.get("data-math-label")
        if label is not None:  # the equation's number, printed beside it as (2)
            numbered = h("div", class_="numbered-equation")
            numbered.append(math)
            sub(numbered, "span", f"({label})", class_="equation-number").tail = None
            math.tail = " "
            replace(div, numbered)
            continue
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


def markdown_fragment(markdown: str, md: MarkdownIt, parsed: tuple[list[Token], dict] | None = None,
                      first_line: int | None = None, *, fixed: bool = False) -> etree._Element:
    """The Markdown as sanitised XHTML; `parsed` (tokens and env) saves parsing it again. With `first_line`
    its elements carry their source lines (source_lines.MARK) until `unmark` takes them off."""
    tokens, env = parsed if parsed is not None else (md.parse(markdown, env := {}), env)
    if first_line is not None:
        source_lines.mark_tokens(tokens, first_line, fixed=fixed)
    rendered = sanitise(md.renderer.render(tokens, md.options, env), marked=first_line is not None)
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


def author_note(article: Article, md: MarkdownIt, words: Words, about: str) -> etree._Element:
    """The author note, with its own notes: ids kept apart from the body's (fn1 may be in both)."""
    note = h("aside", class_="author-note", aria_label=about)
    fragment = markdown_fragment(article.author_note, md, None, author_note_line(article), fixed=True)
    mark_noterefs(fragment, words)
    notes = mark_notes(fragment, words)
    if notes is not None:
        fragment.append(notes)
    for element in fragment.iter():
        if element.get("id"):
            element.set("id", f"author-note-{element.get('id').replace(':', '-')}")
        if element.get("href", "").startswith("#"):
            element.set("href", f"#author-note-{element.get('href')[1:].replace(':', '-')}")
        if element.get("aria-labelledby"):
            element.set("aria-labelledby", f"author-note-{element.get('aria-labelledby')}")
    note.extend(list(fragment))
    return note


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
    body = markdown_fragment(article.body, md, (tokens, env), article.body_line)
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
        section.append(author_note(article, md, say, about))
    for notes_section in notes:
        section.append(notes_section)
    set_listening_estimate(section, around.speech_rate, say)
    check_finished(section, article)
    headings = [heading for heading in identify_headings(section, article.slug)
                if not heading.id.startswith(f"{article.slug}-question-")]  # the TOC lists sections, not questions
    check_ids(section, article)
    used = passage_languages(section, language)
    marks = source_lines.unmark(section)
    xhtml = xhtml_document(article.title, language, section)
    document = Document(
        file_name=f"text/{article.slug}.xhtml",
        title=article.title,
        xhtml=xhtml,
        source_lines=source_lines.line_map(xhtml, marks),
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
