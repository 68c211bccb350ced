"""Pronunciation lexicons: the edition's `pronunciation.toml` over the builder's own defaults, per language.

`pronunciation.toml` is optional. Its top-level sections (`[titles]`, `[abbreviations]`, …) are for the
edition's language; a section under a language tag (`[fr.titles]`, `[de.phrases]`) is for text in that
language only, so that no entry of one language is said inside another. The builder ships defaults for
the languages it narrates (`builder/narration/lexicons/<language>.toml`: titles, months, common abbreviations);
the edition's entries win over them.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from builder.errors import BuildError, Diagnostic, shown
from builder.i18n import primary_language
from builder.i18n.languages import LANGUAGE_TAG
from builder.sources.config import parse_toml, read_text

LEXICON_NAME = "pronunciation.toml"
DEFAULTS = Path(__file__).resolve().parent / "lexicons"
PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"
SECTIONS = ("titles", "abbreviations", "phrases", "before_number", "months", "letter_names")
SEGMENTATION = "segmentation"


@dataclass(frozen=True)
class Lexicon:
    """One language's pronunciations (every value is written as a listener should hear it)."""

    titles: Mapping[str, str] = field(default_factory=dict)
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    phrases: Mapping[str, str] = field(default_factory=dict)
    before_number: Mapping[str, str] = field(default_factory=dict)
    months: Mapping[str, str] = field(default_factory=dict)
    letter_names: Mapping[str, str] = field(default_factory=dict)
    no_break: frozenset[str] = frozenset()  # abbreviations whose full stop never ends a sentence
    # alias → its IPA, from entries written { alias = "…", ipa = "…" }: said through the IPA by an engine that
    # takes phonemes (Piper), as the alias by the others
    ipa: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # patterns compiled by normalise

    def over(self, base: Lexicon) -> Lexicon:
        """This lexicon's entries, with `base`'s where this one has none."""
        tables = {name: {**getattr(base, name), **getattr(self, name)} for name in SECTIONS}
        return Lexicon(**tables, no_break=base.no_break | self.no_break, ipa={**base.ipa, **self.ipa},
                       language=self.language)


@dataclass(frozen=True)
class Lexicons:
    """The lexicon of every language of an edition; `of(tag)` for text in that language."""

    language: str  # the edition's language, whose lexicon the top-level sections are
    own: Mapping[str, Lexicon] = field(default_factory=dict)  # by primary language, as written by the edition
    memo: dict[str, Lexicon] = field(default_factory=dict, compare=False, repr=False)

    def of(self, tag: str) -> Lexicon:
        language = primary_language(tag or self.language)
        if language not in self.memo:
            own = self.own.get(language, Lexicon(language=language))
            self.memo[language] = own.over(default_lexicon(language))
        return self.memo[language]

    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.own))


@cache
def default_lexicon(language: str) -> Lexicon:
    """The builder's own entries for a language (none for a language it has no file for)."""
    path = DEFAULTS / f"{language}.toml"
    if not path.is_file():
        return Lexicon(language=language)
    text = path.read_text(encoding="utf-8")
    return _language_lexicon(path, text, tomllib.loads(text), language, "")


def load_lexicons(root: Path, edition_language: str) -> Lexicons:
    """The edition's lexicon file (optional) read and checked: every bad section or entry is reported,
    with its line, in one BuildError."""
    path = root / LEXICON_NAME
    language = primary_language(edition_language)
    if not path.is_file():
        return Lexicons(language)
    text = read_text(path)
    data = parse_toml(text, path, "E080")
    problems: list[Diagnostic] = []
    own_sections = {key: value for key, value in data.items() if key in (*SECTIONS, SEGMENTATION)}
    by_language: dict[str, Lexicon] = {}
    for key, value in data.items():
        if key in own_sections:
            continue
        if LANGUAGE_TAG.match(key) and isinstance(value, dict) and set(value) <= {*SECTIONS, SEGMENTATION}:
            by_language[primary_language(key)] = _checked(path, text, value, primary_language(key), f"{key}.",
                                                          problems)
            continue
        close = difflib.get_close_matches(key, (*SECTIONS, SEGMENTATION), n=1)
        remedy = (f"Did you mean [{close[0]}]?" if close else
                  f"Sections are {', '.join(SECTIONS)} and {SEGMENTATION}, or one of them under a language tag "
                  "such as [fr.titles].")
        problems.append(_problem(f"unknown section [{shown(key)}]", remedy, path, _section_line(text, key)))
    lexicon = _checked(path, text, own_sections, language, "", problems)
    if problems:
        raise BuildError(*problems)
    by_language[language] = lexicon.over(by_language[language]) if language in by_language else lexicon
    return Lexicons(language, by_language)


def _checked(path: Path, text: str, data: dict, language: str, prefix: str, problems: list[Diagnostic]) -> Lexicon:
    try:
        return _language_lexicon(path, text, data, language, prefix)
    except BuildError as failed:
        problems.extend(failed.diagnostics)
        return Lexicon(language=language)


def _language_lexicon(path: Path, text: str, data: Mapping, language: str, prefix: str) -> Lexicon:
    problems: list[Diagnostic] = []
    tables: dict[str, dict[str, str]] = {}
    ipa: dict[str, str] = {}
    for name in SECTIONS:
        table = data.get(name, {})
        header = _section_line(text, prefix + name)
        if not isinstance(table, dict):
            problems.append(_problem(f"[{prefix}{name}] must be a table of entries", f'Write [{prefix}{name}] and '
                                     'entries such as Dr = "Doctor" below it.', path, header))
            continue
        tables[name] = {}
        for key, value in table.items():
            if isinstance(value, dict) and set(value) <= {"alias", "ipa"} and all(
                    isinstance(part, str) and part.strip() for part in value.values()) and "alias" in value:
                tables[name][key] = value["alias"]
                if "ipa" in value:
                    ipa[value["alias"]] = value["ipa"].strip()
            elif isinstance(value, str) and value.strip():
                tables[name][key] = value
            else:
                problems.append(_problem(f"entry '{shown(key)}' in [{prefix}{name}] is not a text",
                                         f'Write {key} = "the words a listener should hear", or {key} = {{ alias ='
                                         ' "the words", ipa = "their IPA" }.', path, _entry_line(text, header, key)))
    segmentation = data.get(SEGMENTATION, {})
    no_break = segmentation.get("no_break", []) if isinstance(segmentation, dict) else None
    if not isinstance(no_break, list) or not all(isinstance(item, str) for item in no_break):
        problems.append(_problem(f"[{prefix}{SEGMENTATION}] no_break must be a list of abbreviations",
                                 'Write no_break = ["St", "Dr"] (without their full stops).', path,
                                 _section_line(text, prefix + SEGMENTATION)))
        no_break = []
    if problems:
        raise BuildError(*problems)
    return Lexicon(**tables, no_break=frozenset(no_break), ipa=ipa, language=language)


def with_phonemes(spoken: str, lexicon: Lexicon) -> str:
    """The words to send an engine that takes phonemes: each alias the lexicon gives an IPA form for, as
    `[[ IPA ]]` (Piper's notation for phonemes spoken as written)."""
    if not lexicon.ipa:
        return spoken
    if "ipa" not in lexicon.memo:
        aliases = sorted(lexicon.ipa, key=len, reverse=True)  # the longest first: "New York" before "York"
        lexicon.memo["ipa"] = re.compile(rf"(?<!\w)({'|'.join(map(re.escape, aliases))})(?!\w)")
    return lexicon.memo["ipa"].sub(lambda found: f"[[ {lexicon.ipa[found.group()]} ]]", spoken)


def _problem(message: str, remedy: str, path: Path, line: int | None) -> Diagnostic:
    return Diagnostic("E080", message, remedy, path, line)


def _section_line(text: str, name: str) -> int | None:
    match = re.search(rf"^[ \t]*\[\s*{re.escape(name)}\s*\]", text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else None


def _entry_line(text: str, header: int | None, key: str) -> int | None:
    lines = text.splitlines()
    start = header or 0
    for number in range(start, len(lines)):
        if re.match(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?\s*=", lines[number]):
            return number + 1
    return header


# ---------------------------------------------------------------------------
# The lexicon in the book (W3C PLS), for reading systems' own text-to-speech
# ---------------------------------------------------------------------------


def lexicon_pls(lexicon: Lexicon, lang: str) -> str:
    """One language's lexicon as a W3C PLS 1.0 document."""
    root = etree.Element(
        f"{{{PLS_NS}}}lexicon",
        nsmap={None: PLS_NS},
        attrib={"version": "1.0", "alphabet": "ipa", "{http://www.w3.org/XML/1998/namespace}lang": lang},
    )
    entries = {**lexicon.phrases, **lexicon.titles, **lexicon.abbreviations}
    for grapheme in sorted(entries):
        lexeme = etree.SubElement(root, f"{{{PLS_NS}}}lexeme")
        etree.SubElement(lexeme, f"{{{PLS_NS}}}grapheme").text = grapheme
        if entries[grapheme] in lexicon.ipa:  # a reading system's engine that reads IPA says it so
            etree.SubElement(lexeme, f"{{{PLS_NS}}}phoneme").text = lexicon.ipa[entries[grapheme]]
        etree.SubElement(lexeme, f"{{{PLS_NS}}}alias").text = entries[grapheme]
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'
