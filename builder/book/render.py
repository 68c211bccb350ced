"""Markdown articles → XHTML content documents: each article's body parsed and sanitised (markdown.py),
enriched for its readers (enrich.py), under a header with its byline, content notes, summary and reading
and listening times, and its author's note; the whole as an XHTML document (xhtml.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from markdown_it import MarkdownIt

from builder.book import images
from builder.book.enrich import (
    ENGLISH,
    adopt_closing_heading,
    enrich_body,
    identify_headings,
    mark_noterefs,
    mark_notes,
    mark_questions,
    mark_verse,
    page_break,
)
from builder.book.markdown import break_verse_lines, markdown_fragment, markdown_parser
from builder.book.xhtml import h, sub, text_of, with_language, xhtml_document, xpath
from builder.errors import Diagnostic
from builder.i18n import N_, Words
from builder.model import Article, Author, Document
from builder.sources import lines as source_lines
from builder.sources.markdown_checks import (
    author_note_line,
    check_finished,
    check_ids,
    check_tokens,
)


@dataclass(frozen=True)
class Rendered:
    document: Document
    images: tuple[Path, ...]  # source files of the images the document uses
    warnings: tuple[Diagnostic, ...]


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
