"""Accessibility statements for people, as the W3C Accessibility Metadata Display Guide 2.0 words them.

The statements are read from a product's `AccessibilityMetadata` (the EPUB's own schema.org claims) by the
Guide's techniques for EPUB metadata: ways of reading, conformance, navigation, rich content, hazards,
the summary, legal considerations, and additional information where there is any. Each statement has the
Guide's compact and descriptive wording (its en-US vocabulary: the msgids, through `builder.i18n`, so an
edition in another language gets them translated where a catalogue has them). No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from builder.book.accessibility import CONFORMS_TO, AccessibilityMetadata
from builder.i18n import Words


@dataclass(frozen=True)
class Statement:
    compact: str
    descriptive: str


@dataclass(frozen=True)
class Section:
    id: str  # the Guide's identifier, e.g. "ways-of-reading"
    title: str
    statements: tuple[Statement, ...]


# What the conformance claim says, as the Guide reads it: the specification, the WCAG version, the level.
CLAIMS = {CONFORMS_TO: ("EPUB Accessibility 1.1", "WCAG 2.2", "AA")}


def sections(claims: AccessibilityMetadata, language: str, certified_on: datetime | None = None) -> tuple[Section, ...]:
    """Every section of the Guide for one product; `certified_on` the date of the assessment (the build's)."""
    words = Words(language)
    found = [
        Section("ways-of-reading", words("Ways of reading"), ways_of_reading(claims, words)),
        Section("conformance", words("Conformance"), conformance(claims, words, certified_on)),
        Section("navigation", words("Navigation"), navigation(claims, words)),
        Section("rich-content", words("Rich content"), rich_content(claims, words)),
        Section("hazards", words("Hazards"), hazards(claims, words)),
        Section("accessibility-summary", words("Accessibility summary"), summary(claims, words)),
        Section("legal-considerations", words("Legal considerations"), (no_information(words),)),
    ]
    additional = additional_information(claims, words)
    if additional:
        found.append(Section("additional-accessibility-information", words("Additional accessibility information"),
                             additional))
    return tuple(found)


def no_information(words: Words) -> Statement:
    return Statement(words("No information is available"), words("No information is available"))


def sufficient_sets(claims: AccessibilityMetadata) -> set[frozenset[str]]:
    return {frozenset(mode.split(",")) for mode in claims.access_modes_sufficient}


def ways_of_reading(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    features, sufficient = set(claims.features), sufficient_sets(claims)
    found = []
    if "displayTransformability" in features:
        found.append(Statement(words("Appearance can be modified"), words(
            "Appearance of the text and page layout can be modified according to the capabilities of the reading"
            " system (font family and font size, spaces between paragraphs, sentences, words, and letters, as well"
            " as color of background and text)")))
    elif "textual" in claims.access_modes:
        found.append(Statement(words("No information about appearance modifiability is available"),
                               words("No information about appearance modifiability is available")))
    if frozenset({"textual"}) in sufficient:
        found.append(Statement(words("Readable in read aloud or dynamic braille"),
                               words("All content can be read as read aloud speech or dynamic braille")))
    elif "textual" in claims.access_modes:
        found.append(Statement(words("May not be fully readable in read aloud or dynamic braille"),
                               words("Portions of the content may not be readable as read aloud speech or dynamic"
                                     " braille")))
    else:
        found.append(Statement(words("Not fully readable in read aloud or dynamic braille"),
                               words("Not all of the content will be readable as read aloud speech or dynamic"
                                     " braille")))
    if features & {"alternativeText", "longDescription", "describedMath"}:
        found.append(Statement(words("Has alternative text"), words("Has alternative text descriptions for images")))
    if "synchronizedAudioText" in features:
        found.append(Statement(words("Prerecorded audio synchronized with text"),
                               words("All the content is available as prerecorded audio synchronized with text")))
    elif frozenset({"auditory"}) in sufficient and "textual" not in claims.access_modes:
        found.append(Statement(words("Prerecorded audio only"), words("Audiobook with no text alternative")))
    elif "auditory" in claims.access_modes:
        found.append(Statement(words("Complementary audio and text"),
                               words("Portions of prerecorded audio are available")))
    else:
        found.append(Statement(words("No information about prerecorded audio is available"),
                               words("No information about prerecorded audio is available")))
    return tuple(found)


def conformance(claims: AccessibilityMetadata, words: Words, certified_on: datetime | None) -> tuple[Statement, ...]:
    if claims.conforms_to not in CLAIMS:
        return (no_information(words),)
    specification, wcag, level = CLAIMS[claims.conforms_to]
    headline = {
        "A": (words("This publication meets minimum accessibility standards"), words(
            "The publication contains a conformance statement that it meets the EPUB Accessibility and WCAG 2"
            " Level A standard")),
        "AA": (words("This publication meets accepted accessibility standards"), words(
            "The publication contains a conformance statement that it meets the EPUB Accessibility and WCAG 2"
            " Level AA standard")),
        "AAA": (words("This publication exceeds accepted accessibility standards"), words(
            "The publication contains a conformance statement that it meets the EPUB Accessibility and WCAG 2"
            " Level AAA standard")),
    }[level]
    claim = words("This publication claims to meet {specification} {wcag} Level {level}",
                  specification=specification, wcag=wcag, level=level)
    found = [Statement(*headline), Statement(claim, claim)]
    if claims.certified_by:
        certifier = words("The publication was certified by {certifier}", certifier=claims.certified_by)
        found.append(Statement(certifier, certifier))
        if certified_on is not None:
            date = words("The publication was certified on {date}", date=certified_on.date().isoformat())
            found.append(Statement(date, date))
    return tuple(found)


NAVIGATION = (
    ("tableOfContents", "Table of contents", "Table of contents to all chapters of the text via links"),
    ("index", "Index", "Index with links to referenced entries"),
    ("structuralNavigation", "Headings", "Elements such as headings, tables, etc for structured navigation"),
    ("pageNavigation", "Go to page", "Page list to go to pages from the print source version"),
)
RICH_CONTENT = (
    ("MathML", "Math as MathML", "Math formulas in accessible format (MathML)"),
    ("latex", "Math as LaTeX", "Math formulas in accessible format (LaTeX)"),
    ("describedMath", "Text descriptions of math are provided", "Text descriptions of math are provided"),
    ("MathML-chemistry", "Chemical formulas in MathML", "Chemical formulas in accessible format (MathML)"),
    ("longDescription", "Information-rich images are described by extended descriptions",
     "Information-rich images are described by extended descriptions"),
    ("closedCaptions", "Videos have closed captions", "Videos included in publications have closed captions"),
    ("openCaptions", "Videos have open captions", "Videos included in publications have open captions"),
    ("transcript", "Transcript(s) provided", "Transcript(s) provided"),
)
ADDITIONAL = (
    ("pageBreakMarkers", "Page breaks included", "Page breaks included from the original print source"),
    ("ARIA", "ARIA roles included",
     "Content is enhanced with ARIA roles to optimize organization and facilitate navigation"),
    ("ttsMarkup", "Text-to-speech hinting provided", "Text-to-speech hinting provided"),
    ("highContrastDisplay", "High contrast between foreground text and background",
     "High contrast between foreground text and background"),
    ("largePrint", "Large print", "Large print"),
    ("audioDescription", "Audio descriptions", "Audio descriptions"),
    ("signLanguage", "Sign language", "Sign language"),
    ("braille", "Braille", "Braille"),
    ("tactileGraphic", "Tactile graphics", "Tactile graphics"),
)


def listed(claims: AccessibilityMetadata, words: Words,
           table: tuple[tuple[str, str, str], ...]) -> tuple[Statement, ...]:
    return tuple(Statement(words(compact), words(descriptive))
                 for feature, compact, descriptive in table if feature in claims.features)


def navigation(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    return listed(claims, words, NAVIGATION) or (no_information(words),)


def rich_content(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    return listed(claims, words, RICH_CONTENT) or (no_information(words),)


def additional_information(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    return listed(claims, words, ADDITIONAL)


HAZARDS = (
    ("flashing", "Flashing content", "The publication contains flashing content which can cause photosensitive"
     " seizures"),
    ("motionSimulation", "Motion simulation", "The publication contains motion simulations that can cause motion"
     " sickness"),
    ("sound", "Sounds", "The publication contains sounds which can be uncomfortable"),
)


def hazards(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    declared = set(claims.hazards)
    if declared == {"none"} or declared >= {"noFlashingHazard", "noMotionSimulationHazard", "noSoundHazard"}:
        return (Statement(words("No hazards"), words("The publication contains no hazards")),)
    found = tuple(Statement(words(compact), words(descriptive))
                  for hazard, compact, descriptive in HAZARDS if hazard in declared)
    if found:
        return found
    if "unknown" in declared:
        return (Statement(words("The presence of hazards is unknown"), words("The presence of hazards is unknown")),)
    return (no_information(words),)


def summary(claims: AccessibilityMetadata, words: Words) -> tuple[Statement, ...]:
    if not claims.summary:
        return (no_information(words),)
    return (Statement(claims.summary, claims.summary),)


def markdown(found: tuple[Section, ...], level: int = 3) -> list[str]:
    """The sections as Markdown lines (report.md): a heading each, a bullet per statement (descriptive)."""
    lines = []
    for section in found:
        lines += [f"{'#' * level} {section.title}", ""]
        lines += [f"- {statement.descriptive}" for statement in section.statements] + [""]
    return lines


def as_dicts(found: tuple[Section, ...]) -> list[dict[str, object]]:
    return [{"id": section.id, "title": section.title,
             "statements": [{"compact": statement.compact, "descriptive": statement.descriptive}
                            for statement in section.statements]} for section in found]
