"""Rules for English text only: the words they insert are English, so no other language ever sees them."""

from __future__ import annotations

import re

_CURRENCY = re.compile(
    r"(?P<sym>[£$€])\s?(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"(?:\s?(?P<scale>bn|billion|m|million|k|thousand)\b)?"
)
_PERCENT_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s?[–—-]\s?(\d+(?:\.\d+)?)\s?%")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_YEAR = re.compile(r"(?<![\w£$€.,:/-])(1[1-9])(\d\d)(s?)(?!\w|[.,]\d|:\d)")
_DECADE_2000 = re.compile(r"(?<!\w)20(\d)0s\b")
# "7:00 p.m." is "seven p m", "9:05" is "nine oh five"; espeak-ng reads the other times well ("7:30 p.m.").
_TIME = re.compile(r"(?<![\w:.])(\d{1,2}):(\d\d)(?!\d|:\d)(\s?(?:[ap]\.m\.|[ap]m\b|[AP]M\b))?")
# "St." before a name is Saint (espeak-ng says so); after a street's name it is Street.
_STREET = re.compile(r"(?<=\w )St(\.?)(?=[\s,;:)]|$)")
_CAPITALISED_BEFORE = re.compile(r"(?:^|\s)[A-Z][\w’']*\s$")

_CURRENCY_UNITS = {"£": ("pound", "pounds"), "$": ("dollar", "dollars"), "€": ("euro", "euros")}
_SCALES = {"bn": "billion", "billion": "billion", "m": "million", "million": "million",
           "k": "thousand", "thousand": "thousand"}
_DECADES = {"0": "hundreds", "1": "tens", "2": "twenties", "3": "thirties", "4": "forties",
            "5": "fifties", "6": "sixties", "7": "seventies", "8": "eighties", "9": "nineties"}


def say_currency(text: str) -> str:
    def say(match: re.Match[str]) -> str:
        one, many = _CURRENCY_UNITS[match.group("sym")]
        number = match.group("num").replace(",", "")
        scale = match.group("scale")
        if scale:
            return f"{number} {_SCALES[scale]} {many}"
        whole, _, cents = number.partition(".")
        unit = one if whole == "1" else many
        if len(cents) == 2 and cents != "00":
            return f"{whole} {unit} {cents}"
        return f"{number} {unit}"

    return _CURRENCY.sub(say, text)


def say_percentages(text: str) -> str:
    text = _PERCENT_RANGE.sub(r"\1 to \2 percent", text)
    return _PERCENT.sub(r"\1 percent", text)


def say_years(text: str) -> str:
    # espeak-ng says 1946 as "nineteen hundred and forty six"; people say "nineteen forty six".
    def say(match: re.Match[str]) -> str:
        century, rest, plural = match.groups()
        if plural:
            return f"{century} {_DECADES[rest[0]]}" if rest[1] == "0" else match.group()
        if rest == "00":
            return f"{century} hundred"
        if rest[0] == "0":
            return f"{century} oh {rest[1]}"
        return f"{century} {rest}"

    text = _YEAR.sub(say, text)
    return _DECADE_2000.sub(
        lambda m: "two thousands" if m.group(1) == "0" else f"twenty {_DECADES[m.group(1)]}", text
    )


def say_times(text: str) -> str:
    def say(match: re.Match[str]) -> str:
        hours, minutes, half = match.group(1), match.group(2), match.group(3) or ""
        if minutes == "00":
            return f"{hours}{half}" if half else f"{hours} o'clock"
        if minutes[0] == "0":
            return f"{hours} oh {minutes[1]}{half}"
        return match.group()

    return _TIME.sub(say, text)


def say_streets(text: str) -> str:
    def say(match: re.Match[str]) -> str:
        following = text[match.end():].lstrip()
        if following[:1].isupper() or not _CAPITALISED_BEFORE.search(text[: match.start()]):
            return match.group()  # "St. Mary's": Saint, which espeak-ng says itself
        return "Street" + (match.group(1) if text[match.end():match.end() + 1] == "" else "")

    return _STREET.sub(say, text)


STEPS = (say_currency, say_percentages, say_times)
AFTER_NUMBERS = (say_years, say_streets)
