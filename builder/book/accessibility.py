"""Accessibility metadata derived from what the book actually contains (EPUB Accessibility 1.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from builder.model import Document

CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
CERTIFIED_BY = "The edition builder's automated checks (EPUBCheck 5.3 and DAISY Ace), not a human certifier"


@dataclass(frozen=True)
class AccessibilityMetadata:
    access_modes: tuple[str, ...]
    access_modes_sufficient: tuple[str, ...]
    features: tuple[str, ...]
    hazards: tuple[str, ...]
    summary: str
    conforms_to: str = CONFORMS_TO
    certified_by: str = CERTIFIED_BY
    # Every document's language is marked (lang and xml:lang, contract 2): no schema.org term says so, but ONIX
    # (List 196 code 22) and the Display Guide do.
    language_tagged: bool = False


def describe(documents: Sequence[Document], narrated: bool, checked: bool,
             print_source: bool = True, print_pages: int = 0, questions_voiced: bool = False) -> AccessibilityMetadata:
    """What the documents offer, claimed only as far as it is true: `checked` says whether this build runs
    EPUBCheck and Ace (a build whose books fail them publishes nothing); `print_source`, whether the edition
    names the print edition its page numbers come from; `print_pages`, how many pages that edition has
    (0: not said); `questions_voiced`, whether the narration reads interviews' questions in a voice of their
    own."""
    images = [image for document in documents for image in document.images]
    informative = [image for image in images if not image.decorative]
    has_pages = any(document.pages for document in documents)
    has_math = any(document.has_math for document in documents)
    has_long = any(image.has_long_description for image in images)
    has_headings = any(document.headings for document in documents)
    # Claimed only when the book has them (the markup render.py writes for notes and pull quotes).
    has_notes = any('role="doc-noteref"' in document.xhtml for document in documents)
    has_pullquotes = any('epub:type="pullquote"' in document.xhtml for document in documents)

    modes = ["textual"] + (["visual"] if informative else []) + (["auditory"] if narrated else [])
    sufficient = ["textual"]
    if informative:
        sufficient.append("textual,visual")
    if narrated:
        sufficient.append("auditory,textual")

    features = ["tableOfContents", "readingOrder", "displayTransformability"]
    if has_headings:
        features.append("structuralNavigation")
    if informative:
        features.append("alternativeText")
    if has_long:
        features.append("longDescription")
    if has_math:
        features.append("MathML")
    if has_pages:
        features += ["pageNavigation", "printPageNumbers"] if print_source else ["pageNavigation"]
    if narrated:
        features.append("synchronizedAudioText")

    summary = summarise(len(informative), has_long, has_math, has_pages, narrated, checked,
                        Extras(has_notes, has_pullquotes, print_source,
                               pages_reached(documents, print_pages) if print_source else "", questions_voiced))
    return AccessibilityMetadata(tuple(modes), tuple(sufficient), tuple(sorted(features)), ("none",), summary,
                                 certified_by=CERTIFIED_BY if checked else "",
                                 language_tagged=languages_marked(documents))


@dataclass(frozen=True)
class Extras:
    """Parts of the book the summary names only when they are there."""

    notes: bool = True
    pullquotes: bool = True
    print_source: bool = True  # the page numbers are the print edition's
    pages_reached: str = ""  # how much of the print edition the page list reaches, when that is known
    questions_voiced: bool = False  # the narration reads interviews' questions in a second voice


def summarise(images: int, long_descriptions: bool, math: bool, pages: bool, narrated: bool, checked: bool,
              extras: Extras = Extras()) -> str:
    parts = [
        "This publication conforms to EPUB Accessibility 1.1 and WCAG 2.2 Level AA, checked automatically with"
        " EPUBCheck and DAISY Ace when it was built." if checked else
        "This publication is made to conform to EPUB Accessibility 1.1 and WCAG 2.2 Level AA; this copy was"
        " built without running EPUBCheck and DAISY Ace on it.",
        "It has a table of contents, headings for every article and section, and a logical reading order;"
        " text can be resized and restyled.",
    ]
    if images:
        described = " Charts also have a data table or extended description." if long_descriptions else ""
        parts.append(f"{images_with_alt(images)} alternative text.{described}")
    if math:
        parts.append("Equations are in MathML with a spoken text alternative.")
    if pages:
        parts.append(extras.pages_reached or (
            "A page list gives the start page of each article in the print edition." if extras.print_source
            else "A page list gives the page numbers of the articles."))
    notes = "Notes link to and from their references"
    pullquotes = "pull quotes that repeat the text are hidden from screen readers"
    if extras.notes and extras.pullquotes:
        parts.append(f"{notes}; {pullquotes}.")
    elif extras.notes or extras.pullquotes:
        parts.append(f"{notes}." if extras.notes else f"{pullquotes[0].upper()}{pullquotes[1:]}.")
    parts.append("Each article begins with its content notes, where it has any, then a summary.")
    if narrated:
        parts.append("A synthetic voice reads the whole text, with each sentence highlighted as it is read"
                     + ("; interviews' questions are read in a second synthetic voice." if extras.questions_voiced
                        else "."))
    parts.append("There are no flashing, sound or motion hazards.")
    return " ".join(parts)


def pages_reached(documents: Sequence[Document], print_pages: int) -> str:
    """Which print pages the page list reaches, when the edition says how many it has ("" otherwise)."""
    if not print_pages:
        return ""
    reachable = len({label for document in documents for label in document.pages})
    if reachable >= print_pages:
        return "A page list and page-break markers reach every page of the print edition."
    starts = {document.article.page_label for document in documents if document.article and document.article.page}
    which = " (where each article starts)" if reachable == len(starts) else ""
    return f"A page list reaches {reachable} of the print edition's {print_pages} pages{which}."


def images_with_alt(count: int) -> str:
    if count == 1:
        return "The one informative image has"
    if count == 2:
        return "Both informative images have"
    return f"All {count} informative images have"


def describe_audiobook(documents: Sequence[Document], transcripts: bool) -> AccessibilityMetadata:
    """What an audio-only product (MP3s, M4B) offers: the whole text read in reading order, one chapter per
    article; `transcripts` when WebVTT transcripts come with it. No WCAG claim: that is for the EPUB."""
    features = ["readingOrder", "tableOfContents"] + (["transcript"] if transcripts else [])
    parts = ["A synthetic voice reads the whole text in reading order, with one chapter per article, so a"
             " listener can move from article to article."]
    if informative_images(documents):
        parts.append("Images are described in the narration by their alternative text.")
    if transcripts:
        parts.append("Each article comes with a WebVTT transcript, timed sentence by sentence.")
    parts.append("There are no flashing, sound or motion hazards.")
    return AccessibilityMetadata(("auditory",), ("auditory",), tuple(sorted(features)), ("none",), " ".join(parts),
                                 conforms_to="", certified_by="")


def describe_daisy(documents: Sequence[Document]) -> AccessibilityMetadata:
    """What a DAISY 2.02 full-text, full-audio book offers: the text and the narration, synchronised, with the
    NCC's headings and print pages to move by. No WCAG claim: its validity is DAISY 2.02's own."""
    informative = informative_images(documents)
    has_pages = any(document.pages for document in documents)
    modes = ["auditory", "textual"] + (["visual"] if informative else [])
    sufficient = ["auditory", "textual"] + (["textual,visual"] if informative else [])
    features = ["readingOrder", "structuralNavigation", "synchronizedAudioText", "tableOfContents"]
    if informative:
        features.append("alternativeText")
    if has_pages:
        features += ["pageNavigation", "printPageNumbers"]
    parts = ["A DAISY 2.02 talking book with the full text and a synthetic voice reading all of it, each"
             " sentence synchronised with the text; its navigation centre lists every article and section."]
    if informative:
        parts.append(f"{images_with_alt(informative)} alternative text.")
    if has_pages:
        parts.append("Print page numbers let a reader go to a page of the print edition.")
    parts.append("There are no flashing, sound or motion hazards.")
    return AccessibilityMetadata(tuple(modes), tuple(sufficient), tuple(sorted(features)), ("none",),
                                 " ".join(parts), conforms_to="", certified_by="",
                                 language_tagged=languages_marked(documents))


def informative_images(documents: Sequence[Document]) -> int:
    return sum(not image.decorative for document in documents for image in document.images)


def languages_marked(documents: Sequence[Document]) -> bool:
    return bool(documents) and all(' xml:lang="' in document.xhtml for document in documents)
