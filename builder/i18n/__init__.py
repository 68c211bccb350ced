"""Words the builder writes, in the language of the document it writes into.

Messages are English in the code (the gettext msgids) and translated by catalogues in
`locale/<language>/LC_MESSAGES/<domain>.po`, read with Babel, whose CLDR data gives each language its
plural rules ("1 minute", "2 minutes"; French "0 minute"). Two domains keep the stages apart:
`builder` for what the books print, `speech` for what narration says and never prints.
A language without a catalogue falls back to English; `has_catalogue` lets the caller warn.

A new language: `pybabel init -D builder -i builder/i18n/locale/builder.pot -d builder/i18n/locale -l xx`,
then translate every message (tests/test_i18n.py checks each shipped catalogue is complete). After a change
to the code's messages: `.venv/bin/python scripts/extract_messages.py` re-makes the template and updates
every catalogue.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"  # the msgids themselves
TEXT_DOMAIN = "builder"
SPEECH_DOMAIN = "speech"


def primary_language(tag: str) -> str:
    """'fr' for 'fr-CA', 'cy' for 'cy': catalogues are per language, not per region."""
    return tag.split("-")[0].lower()


def catalogue_path(language: str, domain: str) -> Path:
    return LOCALE_DIR / primary_language(language) / "LC_MESSAGES" / f"{domain}.po"


def has_catalogue(language: str, domain: str = TEXT_DOMAIN) -> bool:
    return primary_language(language) == SOURCE_LANGUAGE or catalogue_path(language, domain).is_file()


def catalogue_languages(domain: str = TEXT_DOMAIN) -> list[str]:
    """Every language with a catalogue in `domain`, English (the msgids) first."""
    found = sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{domain}.po"))
    return [SOURCE_LANGUAGE, *(language for language in found if language != SOURCE_LANGUAGE)]


@cache
def translations(language: str, domain: str = TEXT_DOMAIN) -> gettext.NullTranslations:
    """The catalogue of `language`, compiled in memory (no .mo files in the tree); English when none."""
    path = catalogue_path(language, domain)
    if primary_language(language) == SOURCE_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # loaded only for languages other than English
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po, locale=primary_language(language), domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where it is used."""
    return message


class Words:
    """One language's messages: `words("Notes")`, `words.plural("{n} minute", "{n} minutes", n)`."""

    def __init__(self, language: str, domain: str = TEXT_DOMAIN) -> None:
        self.language = language
        self.domain = domain
        self._translations = translations(language, domain)

    def __call__(self, message: str, **values: object) -> str:
        text = self._translations.gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, count: int, **values: object) -> str:
        text = self._translations.ngettext(singular, plural, count)
        return text.format(n=count, **values)

    def join(self, items: Sequence[str]) -> str:
        """'A, B and C' by the language's CLDR list pattern ('A, B et C', 'A, B a C').

        English keeps the msgids' own pattern, so English builds never load Babel's locale data
        (about 30 ms, a sixth of a text build)."""
        if primary_language(self.language) == SOURCE_LANGUAGE or len(items) < 2:
            return english_list(items)
        from babel.lists import format_list

        return format_list(list(items), locale=babel_locale(self.language))


def english_list(items: Sequence[str]) -> str:
    if len(items) < 3:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def babel_locale(language: str) -> str:
    """Babel's name for a tag ('fr_CA' for 'fr-CA'), or its language alone when Babel has no data for it."""
    from babel import localedata

    name = language.replace("-", "_")
    return name if localedata.exists(name) else primary_language(language)
