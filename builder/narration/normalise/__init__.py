"""Speech normalisation: displayed text → the words a listener should hear, in the text's own language.

No rule inserts words of another language: English expansions (currency and percent words, years,
"o'clock", "Street") run on English text only; the words other rules insert come from the `speech`
catalogue of the text's language; what the project has no rule for is left to the engine's own rules
for that language (espeak-ng reads numbers, percentages and currencies in French and German well).
Abbreviations come from the lexicon of the text's language (builder/lexicon).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping

from builder.i18n import SPEECH_DOMAIN, Words, primary_language
from builder.narration.lexicon import Lexicon
from builder.narration.normalise import english, languages, numbers

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]{}\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOI = re.compile(r"\bdoi:\s*10\.\S+", re.IGNORECASE)
_CITATION = re.compile(r"\((?P<body>[A-Z][^()]*?\b(?:1[5-9]|20)\d\d[a-z]?)\)")
_SYMBOL_FIRST = re.compile(r"(?P<sym>[£$€])\s?(?P<num>\d[\d,.]*\d|\d)")
_SPACED_DASH = re.compile(r"\s+[–—]\s+|\s*—\s*")
_SYMBOLS = re.compile(r"[◀▶►◄•↩†‡\u00ad\u200b]|\*\*")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")
_SPACE_AFTER_BRACKET = re.compile(r"([(\[])\s+")


def normalise_for_speech(text: str, lexicon: Lexicon, language: str = "en", read_emoji: bool = False) -> str:
    """Rewrite displayed text (in `language`, a BCP 47 tag) into the words a listener should hear."""
    words = Words(language, SPEECH_DOMAIN)
    english_text = primary_language(language) == "en"
    text = say_emoji(text, language, read_emoji)
    text = _SPACED_DASH.sub(", ", _SYMBOLS.sub("", text))  # markers and debris are not words; a spaced dash pauses
    text = say_urls(text, words)
    text = say_emails(text, words)
    text = _DOI.sub(words("a DOI"), text)
    text = say_citations(text)
    text = numbers.say_formulae(text)
    text = numbers.say_dates(text, language)
    text = languages.say_times(text, words)
    if english_text:
        for step in english.STEPS:
            text = step(text)
    else:  # "$15" → "15 $": the engine says the unit in the text's language
        text = _SYMBOL_FIRST.sub(r"\g<num> \g<sym>", text)
    text = numbers.say_units(text, words)
    text = numbers.say_fractions(text, words)
    text = _say_before_number(text, lexicon)
    text = numbers.say_ranges(text, words)
    text = numbers.say_regnal_numbers(text, words, frozenset(lexicon.titles) | languages.NOT_NAMES)
    text = languages.say_ordinals(text, words)
    if english_text:
        for step in english.AFTER_NUMBERS:
            text = step(text)
    text = _say_months(text, lexicon)
    text = _say_phrases(text, lexicon)
    text = _say_titles(text, lexicon)
    text = _say_abbreviations(text, lexicon)
    return tidy(text)


def tidy(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return _SPACE_AFTER_BRACKET.sub(r"\1", text).strip()


def say_emoji(text: str, language: str, read: bool) -> str:
    """Emoji are not read by default (a "waving hand" mid-sentence is noise); an edition can ask for their
    names, said in the text's language where CLDR names exist for it, else left out."""
    if not any(character in _emoji_starts() for character in text):
        return text  # the common case, and emoji's own search costs ~1 ms a sentence
    import emoji

    code = primary_language(language)
    if read and code in emoji.LANGUAGES:
        return emoji.demojize(text, language=code, delimiters=(", ", ", ")).replace("_", " ")
    return emoji.replace_emoji(text, replace="")


@functools.cache
def _emoji_starts() -> frozenset[str]:
    """The first character of every emoji the emoji package knows: text with none of them has no emoji."""
    import emoji

    return frozenset(sequence[0] for sequence in emoji.EMOJI_DATA)


def say_urls(text: str, words: Words) -> str:
    def say(match: re.Match[str]) -> str:
        url = match.group()
        kept = url.rstrip(".,;:!?)>'’")  # sentence punctuation after the address stays
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", kept, flags=re.IGNORECASE).split("/")[0]
        return words("a link to {host}", host=host) + url[len(kept):]

    return _URL.sub(say, text)


def say_emails(text: str, words: Words) -> str:
    def say(match: re.Match[str]) -> str:
        local, domain = match.group().split("@", 1)
        local = re.sub(r"(?<=[^\W\d_])(?=\d)", " ", local.replace(".", f" {words('dot')} "))
        return words("the e-mail address {local} at {domain}", local=local, domain=domain)

    return _EMAIL.sub(say, text)


def say_citations(text: str) -> str:
    # "(Abdallah et al., 2018)" is heard without brackets, set off by pauses.
    def say(match: re.Match[str]) -> str:
        before = text[: match.start()].rstrip()
        after = text[match.end():]
        lead = ", " if before and before[-1].isalnum() else ""
        tail = "," if after[:1].isspace() and after.strip()[:1].isalnum() else ""
        return f"{lead}{match.group('body')}{tail}"

    return _CITATION.sub(say, text)


# --- the lexicon of the text's language -----------------------------------------------------------


def _alternation(keys: Iterable[str]) -> str:
    # Longest first, so "NHSE" wins over "NHS" and "et al." over "et al".
    ordered = sorted(set(keys), key=lambda k: (-len(k), k))
    return "|".join(re.escape(k) for k in ordered) or "(?!)"


def _phrase_alternation(keys: Iterable[str]) -> str:
    parts = []
    for key in sorted(set(keys), key=lambda k: (-len(k), k)):
        left = r"(?<!\w)" if key[0].isalnum() else ""
        right = r"(?!\w)" if key[-1].isalnum() else ""
        parts.append(f"{left}{re.escape(key)}{right}")
    return "|".join(parts) or "(?!)"


def _patterns(lexicon: Lexicon) -> dict[str, object]:
    """Compiled once per lexicon (kept in its memo): normalisation runs for every sentence."""
    if not lexicon.memo:
        spoken = {key: say_letters(value, lexicon.letter_names) for key, value in lexicon.abbreviations.items()}
        months = _alternation(lexicon.months)
        lexicon.memo.update(
            titles=re.compile(rf"(?<![\w.])({_alternation(lexicon.titles)})\.?(?=\s+[^\W\d_])"),
            abbreviations=re.compile(rf"(?<![\w.@/])({_alternation(spoken)})(?!\w)"),
            phrases=re.compile(_phrase_alternation(lexicon.phrases)),
            before_number=re.compile(rf"(?<![\w.])({_alternation(lexicon.before_number)})\.?\s?(?=\d)"),
            months=re.compile(rf"(?<=\d )({months})\b\.?|(?<![\w.])({months})\.?(?= \d)"),
            spoken_abbreviations=spoken,
        )
    return lexicon.memo


def say_letters(value: str, letter_names: Mapping[str, str]) -> str:
    """Spelled letters as the engine says them best: runs of two or more as "U.A.E." (espeak-ng
    reads a dotted run letter by letter, its "A" included); a lone letter through letter_names."""
    words, out = value.split(), []
    for single, run in itertools.groupby(words, key=lambda word: len(word) == 1 and word.isalpha()):
        letters = list(run)
        if single and len(letters) > 1:
            out.append("".join(f"{letter}." for letter in letters))
        else:
            out += [letter_names.get(word, word) if single else word for word in letters]
    return " ".join(out)


def _say_before_number(text: str, lexicon: Lexicon) -> str:
    pattern: re.Pattern[str] = _patterns(lexicon)["before_number"]  # type: ignore[assignment]
    return pattern.sub(lambda m: f"{lexicon.before_number[m.group(1)]} ", text)


def _say_months(text: str, lexicon: Lexicon) -> str:
    pattern: re.Pattern[str] = _patterns(lexicon)["months"]  # type: ignore[assignment]
    return pattern.sub(lambda m: lexicon.months[m.group(1) or m.group(2)], text)


def _say_phrases(text: str, lexicon: Lexicon) -> str:
    pattern: re.Pattern[str] = _patterns(lexicon)["phrases"]  # type: ignore[assignment]
    def say(match: re.Match[str]) -> str:
        full_stop = "." if match.group().endswith(".") and match.end() == len(text) else ""  # "…, usw." ends it
        return f" {lexicon.phrases[match.group()]}{full_stop} "

    return pattern.sub(say, text)


def _say_titles(text: str, lexicon: Lexicon) -> str:
    pattern: re.Pattern[str] = _patterns(lexicon)["titles"]  # type: ignore[assignment]

    def say(match: re.Match[str]) -> str:
        following = text[match.end():].split(maxsplit=1)
        name = following[0] if following else ""
        if not name[:1].isupper() or (len(match.group(1)) == 1 and re.match(r"[^\W\d_]\.", name)):
            return match.group()  # "M. K. Parides" is two initials, not Monsieur
        return lexicon.titles[match.group(1)]  # "Dr Ansel", "M. Roux"

    return pattern.sub(say, text)


def _say_abbreviations(text: str, lexicon: Lexicon) -> str:
    patterns = _patterns(lexicon)
    spoken: Mapping[str, str] = patterns["spoken_abbreviations"]  # type: ignore[assignment]
    pattern: re.Pattern[str] = patterns["abbreviations"]  # type: ignore[assignment]

    def say(match: re.Match[str]) -> str:
        words = spoken[match.group(1)]
        # "the C.Q.C." at a sentence's end: the abbreviation's last dot is the full stop
        return words[:-1] if words.endswith(".") and text[match.end() : match.end() + 1] == "." else words

    return pattern.sub(say, text)
