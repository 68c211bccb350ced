"""What the book's readers need, added to a rendered body: epub:type and roles, notes with links both
ways, figures and their descriptions, labelled tables, page breaks, MathML with its spoken alternative,
verse, interview questions, heading ids."""

from __future__ import annotations

import re

from lxml import etree

from builder.book.xhtml import OPS, XHTML, classes, h, replace, slugify, sub, text_of, xpath
from builder.i18n import Words
from builder.model import Article, Heading, Image

ENGLISH = Words("en")  # the msgids themselves


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
    from builder.sources.markdown_checks import latex_to_mathml  # the Markdown checks only when rendering

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
