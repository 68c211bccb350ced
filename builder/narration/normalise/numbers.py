"""Numbers with something around them, for every narrated language: fractions, units and degrees, ranges,
dates, times, regnal numerals and chemical formulae. Every word inserted comes from the `speech`
catalogue of the text's language (builder/i18n), so French text gets French words and English none."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from functools import cache
from typing import Any

from builder.i18n import Words

VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5), "⅗": (3, 5),
          "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8),
          "⅑": (1, 9), "⅒": (1, 10)}
_FRACTION_CHARS = "".join(VULGAR)
NUMBER = rf"(?:\d+(?:[.,]\d+)?[{_FRACTION_CHARS}]?|[{_FRACTION_CHARS}])"
_FRACTION = re.compile(rf"(?<![\d.,])(?:(\d+)\s?)?([{_FRACTION_CHARS}])")


# One message per denominator: CLDR plural rules choose "an eighth" or "7 eighths".
FRACTIONS = {
    2: ("a half", "{n} halves"), 3: ("a third", "{n} thirds"), 4: ("a quarter", "{n} quarters"),
    5: ("a fifth", "{n} fifths"), 6: ("a sixth", "{n} sixths"), 7: ("a seventh", "{n} sevenths"),
    8: ("an eighth", "{n} eighths"), 9: ("a ninth", "{n} ninths"), 10: ("a tenth", "{n} tenths"),
}


def fraction_words(words: Words, numerator: int, denominator: int) -> str:
    singular, plural = FRACTIONS[denominator]
    return words.plural(singular, plural, numerator)


def say_fractions(text: str, words: Words) -> str:
    """"1⅞" → "1 and 7 eighths", "⅛" → "an eighth", "1 to 1¼" → "1 to 1 and a quarter"."""
    def say(match: re.Match[str]) -> str:
        whole, (numerator, denominator) = match.group(1), VULGAR[match.group(2)]
        fraction = fraction_words(words, numerator, denominator)
        return words("{whole} and {fraction}", whole=whole, fraction=fraction) if whole else fraction

    return _FRACTION.sub(say, text)


def value_of(number: str) -> Decimal:
    whole = number.rstrip(_FRACTION_CHARS).replace(",", ".")
    fraction = number[len(whole):] if number[-1:] in VULGAR else ""
    value = Decimal(whole) if whole else Decimal(0)
    if fraction:
        numerator, denominator = VULGAR[fraction]
        value += Decimal(numerator) / Decimal(denominator)
    return value


@cache
def locale_of(language: str) -> object:
    """Babel's locale for a BCP 47 tag; the bare language when CLDR has no data for the region; English last."""
    from babel import Locale, UnknownLocaleError

    for candidate in (language, language.split("-")[0], "en"):
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("Babel has no English locale")


@cache
def _categories(language: str) -> tuple[object, dict[str, int]]:
    """CLDR plural category of a number → an integer of the same category (gettext counts integers)."""
    locale: Any = locale_of(language)
    found: dict[str, int] = {}
    for count in range(0, 1001):
        found.setdefault(locale.plural_form(count), count)
    return locale, found


def plural_count(number: str, language: str) -> int:
    """The count to choose a unit's plural by: CLDR's rule for the number as written ("1.5 kilograms" in
    English, "1,5 kilogramme" in French); a fraction alone is one ("a half cup")."""
    value = value_of(number)
    if 0 < value < 1 and not number[0].isdigit():
        return 1
    locale, found = _categories(language)
    category = locale.plural_form(value if value != value.to_integral() else int(value))  # type: ignore[attr-defined]
    return found.get(category, 2)


# (symbols as written, with or without a full stop) → (singular, plural) messages
_UNITS: tuple[tuple[str, tuple[str, str]], ...] = (
    (r"°\s?C\b|℃", ("{amount} degree Celsius", "{amount} degrees Celsius")),
    (r"°\s?F\b\.?|℉", ("{amount} degree Fahrenheit", "{amount} degrees Fahrenheit")),
    (r"°(?!\s?[CF]\b)", ("{amount} degree", "{amount} degrees")),
    (r"oz\b\.?", ("{amount} ounce", "{amount} ounces")),
    (r"lbs?\b\.?", ("{amount} pound", "{amount} pounds")),
    (r"kg\b", ("{amount} kilogram", "{amount} kilograms")),
    (r"mg\b", ("{amount} milligram", "{amount} milligrams")),
    (r"g\b", ("{amount} gram", "{amount} grams")),
    (r"km\b", ("{amount} kilometre", "{amount} kilometres")),
    (r"cm\b", ("{amount} centimetre", "{amount} centimetres")),
    (r"mm\b", ("{amount} millimetre", "{amount} millimetres")),
    (r"m\b(?![’'])", ("{amount} metre", "{amount} metres")),
    (r"ml\b|mL\b", ("{amount} millilitre", "{amount} millilitres")),
)
_UNIT = re.compile(rf"(?<![\w.,])(−|-)?({NUMBER})\s?(" + "|".join(f"(?:{symbol})" for symbol, _ in _UNITS) + ")")
_UNIT_PATTERNS = tuple((re.compile(symbol), messages) for symbol, messages in _UNITS)


def say_units(text: str, words: Words) -> str:
    """"2 oz." → "2 ounces", "425° F." → "425 degrees Fahrenheit", "200 °C" → "200 degrees Celsius"."""
    def say(match: re.Match[str]) -> str:
        sign, number, symbol = match.group(1) or "", match.group(2), match.group(3)
        singular, plural = next(messages for pattern, messages in _UNIT_PATTERNS if pattern.fullmatch(symbol))
        spoken = words.plural(singular, plural, plural_count(number, words.language),
                              amount=f"{'−' if sign else ''}{number}")
        return spoken + ("." if symbol.endswith(".") and match.end() == len(text) else "")

    return _UNIT.sub(say, text)


_RANGE = re.compile(r"(?<![\w./:–—-])(\d{1,4})\s?[–—-]\s?(\d{1,4})(?![\w/]|[.,:]\d|[–—-]\d)")


def say_ranges(text: str, words: Words) -> str:
    return _RANGE.sub(lambda m: words("{low} to {high}", low=m.group(1), high=m.group(2)), text)


_ISO_DATE = re.compile(r"(?<![\w/.-])(\d{4})-(\d{2})-(\d{2})(?![\w/-])")
_SLASH_DATE = re.compile(r"(?<![\w/.-])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/])")
_DOT_DATE = re.compile(r"(?<![\w/.-])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\w/]|\.\d)")


@cache
def _day_first(language: str) -> bool:
    locale: Any = locale_of(language)
    pattern = locale.date_formats["short"].pattern
    return pattern.lower().find("d") < pattern.find("M")


def long_date(day: int, month: int, year: int, language: str) -> str | None:
    from babel.dates import format_date

    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return None  # not a date after all: left as written
    spoken = format_date(date, "long", locale=locale_of(language))  # type: ignore[arg-type]
    if day == 1 and language.split("-")[0] == "fr":
        spoken = "1er" + spoken[1:]  # "le premier mars", not "le un mars"
    return spoken


def say_dates(text: str, language: str) -> str:
    """Numeric dates in the order of the text's language ("12/02/2026": 12 February in en-GB and French,
    December 2 in en-US) and ISO dates, said as the language writes them in full (CLDR's long format)."""
    def iso(match: re.Match[str]) -> str:
        year, month, day = (int(part) for part in match.groups())
        return long_date(day, month, year, language) or match.group()

    def numeric(match: re.Match[str]) -> str:
        first, second, year = (int(part) for part in match.groups())
        day, month = (first, second) if _day_first(language) else (second, first)
        return long_date(day, month, year, language) or match.group()

    text = _ISO_DATE.sub(iso, text)
    text = _SLASH_DATE.sub(numeric, text)
    return _DOT_DATE.sub(lambda m: long_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), language)
                         or m.group(), text)


_ROMAN_VALUES = (("M", 1000), ("CM", 900), ("D", 500), ("CD", 400), ("C", 100), ("XC", 90), ("L", 50), ("XL", 40),
                 ("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))


def roman_value(numeral: str) -> int | None:
    """The value of a well-formed Roman numeral, else None ("IIII", "VX" and words such as "MIX" are not)."""
    value, rest = 0, numeral
    for letters, amount in _ROMAN_VALUES:
        while rest.startswith(letters):
            value += amount
            rest = rest[len(letters):]
    if rest or not value or to_roman(value) != numeral:
        return None
    return value


def to_roman(value: int) -> str:
    out = ""
    for letters, amount in _ROMAN_VALUES:
        while value >= amount:
            out += letters
            value -= amount
    return out


# A Roman numeral right after a capitalised name ("Henry VIII", "Louis XIV", "Ludwig II."): a sovereign's
# or a pope's number. A lone "I" counts only before punctuation or the end ("Edward I, who"), not as a pronoun.
_REGNAL = re.compile(r"(?<![\w’'])([^\W\d_][^\W\d_’'-]*) ([IVXL]{2,7}|[VX]|I(?=[,;:.)]|$))(\.)?(?![\w’'])")


def say_regnal_numbers(text: str, words: Words, not_names: frozenset[str]) -> str:
    from num2words import num2words

    def say(match: re.Match[str]) -> str:
        name, numeral, dot = match.groups()
        value = roman_value(numeral)
        if value is None or value > 40 or not name[0].isupper() or name in not_names:
            return match.group()
        keep_dot = "." if dot and match.end() == len(text) else ""
        if value == 1:
            return words("{name} the first", name=name) + keep_dot
        ordinal = _num2words(num2words, value, words.language, "ordinal")
        cardinal = _num2words(num2words, value, words.language, "cardinal")
        return words("{name} the {ordinal}", name=name, ordinal=ordinal, cardinal=cardinal) + keep_dot

    return _REGNAL.sub(say, text)


def _num2words(num2words: object, value: int, language: str, to: str) -> str:
    try:
        return num2words(value, lang=language.split("-")[0], to=to)  # type: ignore[operator]
    except NotImplementedError:
        return num2words(value, lang="en", to=to) if language.startswith("en") else str(value)  # type: ignore[operator]


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_FORMULA = re.compile(r"(?<![\w])((?:[A-Z][a-z]?[₀-₉]*)+)(?![\w])")
_ELEMENT = re.compile(r"([A-Z][a-z]?)([₀-₉]*)")


def say_formulae(text: str) -> str:
    """"NaHCO₃" → "N.A.H.C.O. 3", "CO₂" → "C.O. 2": symbols letter by letter, counts as numbers, the way
    a chemist reads them aloud (in any language: the engine says the letters in the text's language)."""
    def say(match: re.Match[str]) -> str:
        formula = match.group(1)
        if not any(ch in "₀₁₂₃₄₅₆₇₈₉" for ch in formula):
            return formula  # a word in capitals, not a formula
        parts, letters = [], ""
        for symbol, count in _ELEMENT.findall(formula):
            letters += "".join(f"{ch.upper()}." for ch in symbol)
            if count:
                parts += [letters, count.translate(_SUBSCRIPTS)]
                letters = ""
        if letters:
            parts.append(letters)
        return " ".join(parts)

    return _FORMULA.sub(say, text)
