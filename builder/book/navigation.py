"""Reading order and the ways to move through it: title page, contents page, nav (TOC, landmarks, page list)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from builder.book.xhtml import h, slugify, sub, with_language, xhtml_document
from builder.i18n import Words
from builder.model import Document, Edition

TITLE_PAGE = "text/title.xhtml"
CONTENTS_PAGE = "text/contents.xhtml"
NAV = "nav.xhtml"


def title_page(edition: Edition, cover_href: str, cover_alt: str) -> Document:
    """The cover image (`cover_href`: its path in the package), then the edition's title and credits."""
    say = Words(edition.language)
    section = h("section", id="titlepage", class_="titlepage", epub_type="titlepage", aria_labelledby="book-title")
    sub(section, "img", src=f"../{cover_href}", alt=cover_alt, class_="cover")
    sub(section, "h1", edition.title, id="book-title", class_="title", epub_type="title")
    if edition.subtitle:
        sub(section, "p", edition.subtitle, class_="subtitle", epub_type="subtitle", role="doc-subtitle")
    sub(section, "p", edition.edition, class_="edition")
    sub(section, "p", edition.publisher, class_="publisher", epub_type="publisher")
    if edition.description:
        sub(section, "p", edition.description, class_="description")
    if edition.cover_lines:
        cover = sub(section, "section", class_="cover-lines", aria_labelledby="cover-lines-title")
        sub(cover, "h2", say("On the cover of the print edition"), id="cover-lines-title")
        listing = sub(cover, "ul")
        for line in edition.cover_lines:
            sub(listing, "li", line)
    if edition.disclaimer:
        aside = sub(section, "aside", class_="disclaimer", aria_labelledby="disclaimer-title")
        sub(aside, "h2", say("Disclaimer"), id="disclaimer-title")
        sub(aside, "p", edition.disclaimer)
    if edition.print_source:
        sub(section, "p", say("Print edition: {source}.", source=edition.print_source), class_="source")
    return Document(TITLE_PAGE, edition.title, xhtml_document(edition.title, edition.language, section),
                    landmark="titlepage", language=edition.language, languages=(edition.language,))


def contents_page(edition: Edition, articles: Sequence[Document]) -> Document:
    """The printed contents, reproduced: print page, entry and credit as printed, each linked to its piece."""
    from builder.book.render import byline  # the renderer (Markdown and all) only when the page is made

    say = Words(edition.language)
    heading = edition.contents_heading or say("Contents")  # the manifest's, as printed, or the book's word
    section = h("section", id="contents", class_="contents", epub_type="toc", role="doc-toc",
                aria_labelledby="contents-title")
    sub(section, "h1", heading, id="contents-title")
    listing = sub(section, "ol", class_="contents-list")
    for document in articles:
        article = document.article
        assert article is not None
        item = sub(listing, "li")
        if article.page:
            contents_page_number(item, article.page, article.page_label, say)
        entry = sub(item, "a", article.contents_title or article.title, href=f"../{document.file_name}")
        entry.tail = " "
        credit = article.contents_credit or byline(article.authors, Words(edition.language_of(article)))
        foreign = article.language and article.language.lower() != edition.language.lower()
        if foreign:
            with_language(entry, article.language)
        if credit:  # in the article's language too: its words are the byline's
            byline_span = sub(item, "span", credit, class_="contents-byline")
            if foreign:
                with_language(byline_span, article.language)
    return Document(CONTENTS_PAGE, say("Contents"), xhtml_document(heading, edition.language, section),
                    landmark="toc", language=edition.language, languages=(edition.language,))


def contents_page_number(item: etree._Element, printed: str, label: str, words: Words) -> None:
    """The number as printed ("02") for the eye; "Page 2", as the page list and the markers say it, for the
    ear (a screen reader reads "02" as "zero two")."""
    page = sub(item, "span", class_="contents-page")
    sub(page, "span", words("Page {n}", n=label), class_="visually-hidden").tail = " "
    sub(page, "span", printed, aria_hidden="true")
    page.tail = " "


def nav_document(edition: Edition, documents: Sequence[Document]) -> str:
    say = Words(edition.language)
    body = h("div", class_="nav")
    toc = sub(body, "nav", epub_type="toc", role="doc-toc", id="toc", aria_labelledby="toc-title")
    sub(toc, "h1", say("Table of contents"), id="toc-title")
    entries = sub(toc, "ol")
    for document in documents:
        item = sub(entries, "li")
        if document.language and document.language.lower() != edition.language.lower():
            with_language(item, document.language)  # its title and its sections' headings
        sub(item, "a", document.title, href=document.file_name)
        nested_headings(item, document)

    landmarks = sub(body, "nav", epub_type="landmarks", id="landmarks", aria_labelledby="landmarks-title",
                    hidden="hidden")
    sub(landmarks, "h2", say("Landmarks"), id="landmarks-title")
    marks = sub(landmarks, "ol")
    seen: set[str] = set()
    for document in documents:
        if document.landmark and document.landmark not in seen:
            seen.add(document.landmark)
            label = {"titlepage": say("Title page"), "toc": say("Contents"), "bodymatter": say("Start of content")}
            sub(sub(marks, "li"), "a", label.get(document.landmark, document.title), href=document.file_name,
                epub_type=document.landmark)

    pages = [(label, document) for document in documents for label in document.pages]
    if pages:
        page_list = sub(body, "nav", epub_type="page-list", role="doc-pagelist", id="page-list",
                        aria_labelledby="page-list-title", hidden="hidden")
        sub(page_list, "h2", say("Pages"), id="page-list-title")
        listing = sub(page_list, "ol")
        for label, document in pages:
            sub(sub(listing, "li"), "a", label, href=f"{document.file_name}#{page_id(label)}")
    # Titled for what it is: a title equal to the title page's makes two documents of one name.
    return xhtml_document(say("Table of contents"), edition.language, body, stylesheet="css/edition.css")


def nested_headings(item: etree._Element, document: Document) -> None:
    """Second level of the TOC: the article's top-level sections."""
    sections = [heading for heading in document.headings if heading.level == 2]
    if not sections:
        return
    listing = sub(item, "ol")
    for heading in sections:
        sub(sub(listing, "li"), "a", heading.text, href=f"{document.file_name}#{heading.id}")


def page_id(label: str) -> str:
    from builder.book.enrich import page_break

    return page_break(label).get("id") or f"page-{slugify(label)}"
