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

from builder import images, source_lines
from builder.errors import Diagnostic
from builder.markdown_checks import (  # noqa: F401  (the sanitiser's policy, re-exported for its users)
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    URL_SCHEMES,
    author_note_line,
    check_finished,
    check_ids,
    check_tokens,
    latex_to_mathml,
    start_tags,
    unsafe_parts,
)
from builder.model import Article, Document, Heading, Image

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
MATHML = "http://www.w3.org/1998/Math/MathML"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: XHTML, "epub": OPS}
NS = {"h": XHTML, "epub": OPS, "m": MATHML}
STYLESHEET = "../css/edition.css"
CONTAINERS = ("pullquote", "bibliography", "equation", "description")

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


def enrich_body(body: etree._Element, slug: str) -> tuple[list[str], list[Image], bool]:
    mark_noterefs(body)
    notes = mark_notes(body)
    make_containers(body, slug)
    pictures = make_figures(body, slug)
    pages = mark_page_breaks(body)
    has_math = convert_math(body)
    repair_preformatted(body)
    empty_header_cells_as_data(body)
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


def mark_noterefs(body: etree._Element) -> None:
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
        link.set("aria-label", f"Note {number}")


def mark_notes(body: etree._Element) -> etree._Element | None:
    for separator in xpath(body, ".//h:hr[@class='footnotes-sep']"):
        separator.getparent().remove(separator)
    found = xpath(body, ".//h:section[@class='footnotes']")
    if not found:
        return None
    section = found[0]
    section.getparent().remove(section)  # not always a direct child: raw HTML may wrap it
    notes = h("section", class_="footnotes", epub_type="endnotes", role="doc-endnotes", aria_labelledby="notes")
    sub(notes, "h2", "Notes", id="notes")
    ordered = sub(notes, "ol")
    for item in xpath(section, ".//h:li"):
        item.attrib.pop("class", None)
        item.set(f"{{{OPS}}}type", "endnote")  # no role: doc-endnote is deprecated in DPUB-ARIA 1.1
        number = item.get("id", "").removeprefix("fn")
        for count, back in enumerate(xpath(item, ".//h:a[@class='footnote-backref']"), start=1):
            back.text = "↩"
            back.set("class", "backlink")
            back.set("role", "doc-backlink")
            label = f"Back to reference {number}" + (f", occurrence {count}" if count > 1 else "")
            back.set("aria-label", label)
        ordered.append(item)
    return notes


def make_containers(body: etree._Element, slug: str) -> None:
    for div in xpath(body, ".//h:div[@class='pullquote']"):
        aside = h("aside", class_="pullquote", epub_type="pullquote", aria_hidden="true")
        aside.extend(list(div))
        replace(div, aside)
    for number, div in enumerate(xpath(body, ".//h:div[@class='bibliography']"), start=1):
        # Each bibliography labelled by its own heading (a second one is not announced as the first).
        identifier = f"{slug}-references" + (f"-{number}" if number > 1 else "")
        if len(div) and div[0].tag.endswith(("h2", "h3")):
            identifier = div[0].get("id") or identifier
        section = h("section", class_="bibliography", epub_type="bibliography", role="doc-bibliography",
                    aria_labelledby=identifier)
        if not len(div) or not div[0].tag.endswith(("h2", "h3")):
            sub(section, "h2", "References", id=identifier)
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


def make_figures(body: etree._Element, slug: str) -> list[Image]:
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
            sub(figure, "figcaption", caption)
        described = attach_description(figure, img, f"{slug}-figure-{number}")
        pictures.append(Image(img.get("src", ""), img.get("alt", ""), False, caption, described))
    return pictures


def attach_description(figure: etree._Element, img: etree._Element, figure_id: str) -> bool:
    following = figure.getnext()
    if following is None or following.get("class") != "description":
        return False
    details = h("details", class_="long-description", id=f"{figure_id}-description")
    sub(details, "summary", "Description and data")
    details.extend(list(following))
    figure.getparent().remove(following)
    img.addnext(details)  # a figcaption must stay the figure's first or last child
    img.set("aria-describedby", f"{figure_id}-description")
    return True


def page_break(label: str) -> etree._Element:
    return h("span", id=f"page-{slugify(label)}", class_="pagebreak", epub_type="pagebreak",
             role="doc-pagebreak", aria_label=f"Page {label}")


def mark_page_breaks(body: etree._Element) -> list[str]:
    pages = []
    for span in xpath(body, ".//h:span[@class='pagebreak']"):
        label = text_of(span)
        pages.append(label)
        marker = page_break(label)
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


def minutes(amount: float, per_minute: float) -> str:
    count = max(1, round(amount / per_minute))
    return f"{count} minute{'s' if count > 1 else ''}"


def spoken_text(element: etree._Element) -> str:
    """Roughly what a narrator reads in the element: no comments, hidden or unspoken parts; math as its
    spoken alternative."""
    if not isinstance(element.tag, str) or element.get("aria-hidden") == "true" or \
            UNSPOKEN_CLASSES & set(element.get("class", "").split()):
        return ""
    if etree.QName(element).localname == "math":
        return element.get("alttext", "")
    return (element.text or "") + "".join(spoken_text(child) + (child.tail or "") for child in element)


def set_listening_estimate(section: etree._Element, speech_rate: int) -> None:
    """The header's listening time, from the finished article: everything in it that will be read aloud."""
    characters = len(" ".join(spoken_text(section).split()))
    for estimate in xpath(section, ".//h:span[@class='listening-time']"):
        estimate.text = f"about {minutes(characters, speech_rate * SPOKEN_CHARACTERS_PER_WORD)}"


def article_header(article: Article, words: int, around: Neighbourhood) -> etree._Element:
    header = h("header")
    sub(header, "h1", article.title, id=f"{article.slug}-title")
    if article.subtitle:
        sub(header, "p", article.subtitle, class_="subtitle", epub_type="subtitle", role="doc-subtitle")
    if article.authors:
        sub(header, "p", article.byline(), class_="byline")
    glance = sub(header, "section", class_="at-a-glance", aria_label="At a glance")
    sub(glance, "p", article.summary, class_="summary", epub_type="abstract", role="doc-abstract")
    times = sub(glance, "p", f"About {minutes(words, READING_WORDS_PER_MINUTE)} to read and ", class_="reading-time")
    # Estimated once the article is complete; the narrated book puts the measured length in its place.
    sub(times, "span", class_="listening-time").tail = " to listen to."
    if article.content_notes:
        notes = sub(glance, "p", class_="content-notes")
        sub(notes, "strong", "Content notes:").tail = " " + "; ".join(article.content_notes) + "."
        sub(glance, "a", "Skip to the article text", class_="skip-link", href=f"#{article.slug}-text")
    if around.next_href:
        skip = sub(glance, "p", class_="skip-next")
        sub(skip, "a", f"Skip to the next article: {around.next_title}", href=around.next_href)
    return header


def author_note(article: Article, md: MarkdownIt) -> etree._Element:
    """The author note, with its own notes: ids kept apart from the body's (fn1 may be in both)."""
    note = h("aside", class_="author-note", aria_label="About the author")
    fragment = markdown_fragment(article.author_note, md, None, author_note_line(article), fixed=True)
    mark_noterefs(fragment)
    notes = mark_notes(fragment)
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
    md = md or markdown_parser()
    around = around or Neighbourhood()
    env: dict = {}
    tokens = md.parse(article.body, env)
    diagnostics = check_tokens(tokens, env, article, md)
    body = markdown_fragment(article.body, md, (tokens, env), article.body_line)
    body.set("id", f"{article.slug}-text")
    body.set("class", "article-text")
    pages, pictures, has_math = enrich_body(body, article.slug)
    notes = xpath(body, "./h:section[@class='footnotes']")
    for section in notes:
        body.remove(section)

    section = h("section", id=article.slug, class_=f"article article-{article.kind}", epub_type="chapter",
                role="doc-chapter", aria_labelledby=f"{article.slug}-title")
    start_pages = [article.page_label] if article.page else []
    if article.page:
        section.append(page_break(article.page_label))
    section.append(article_header(article, len(text_of(body).split()), around))
    section.append(body)
    if article.author_note:
        section.append(author_note(article, md))
    for notes_section in notes:
        section.append(notes_section)
    set_listening_estimate(section, around.speech_rate)
    check_finished(section, article)
    headings = identify_headings(section, article.slug)
    check_ids(section, article)
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
    )
    sources = tuple(images.resolve(image.src, article.source, article.source.parent.parent, article.body_line)
                    for image in pictures)
    return Rendered(document, sources, tuple(diagnostics))
