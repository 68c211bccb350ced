"""The few rules one language family needs that others must not get (each says which languages)."""

from __future__ import annotations

import re

from builder.i18n import Words, primary_language

# Words that take a cardinal number, not a sovereign's ordinal: "Part II", "World War II", "Teil II".
NOT_NAMES = frozenset({
    "Part", "Chapter", "Volume", "Vol", "Act", "Book", "Phase", "Stage", "War", "Type", "Grade", "Class", "Level",
    "Section", "Article", "Appendix", "Figure", "Fig", "Table", "Series", "Round", "Year", "Psalm", "Tome", "Acte",
    "Chapitre", "Partie", "Livre", "Teil", "Kapitel", "Band", "Akt", "Buch", "Parte", "Capítulo", "Libro",
    # capitalised small words at a sentence's start are not names ("An IV drip")
    "A", "An", "The", "And", "But", "Or", "In", "On", "At", "To", "Of", "By", "For", "With", "From", "As", "If", "So",
    "Le", "La", "Les", "Un", "Une", "Et", "Der", "Die", "Das", "Ein", "Eine", "Und", "El", "Los", "Las", "Y", "Yr",
})

# "19:30 Uhr", "19 h 30", "8 h": the hour markers of German and French.
_GERMAN_TIME = re.compile(r"(?<![\w:.])(\d{1,2}):(\d\d)\s?Uhr\b")
_FRENCH_TIME = re.compile(r"(?<![\w:.,])(\d{1,2})\s?h\s?(\d\d)?(?![\w])")
# French ordinals: "XIXᵉ siècle", "19e", "1er", "2nde".
_FRENCH_ORDINAL = re.compile(r"(?<![\w])(?:(\d{1,4})(?:ᵉʳ|ᵉ|ème|e|er|re)|([IVXLC]{2,7})(?:ᵉ|e|ème)"
                             r"|([IVXLC]{1,7})(?:ᵉʳ|ᵉ)|(I)er)(?![\w])")
# German dates and regnal numbers written with an ordinal full stop: "am 12. Februar", "3. März 1912".
_GERMAN_MONTHS = ("Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                  "Oktober", "November", "Dezember")
_GERMAN_ORDINAL_DAY = re.compile(rf"(?<![\w.])(\d{{1,2}})\. (?=(?:{'|'.join(_GERMAN_MONTHS)})\b)")
_GERMAN_DATIVE_REGNAL = re.compile(r"(\b(?:von|mit|bei|zu|nach|aus|seit)\s+(?:[^\W\d_]+\s+){1,2}?)der (\w+te)\b")
_DATIVE = frozenset({"am", "vom", "zum", "bis", "seit", "ab", "im", "beim"})


def say_times(text: str, words: Words) -> str:
    language = primary_language(words.language)
    if language == "de":  # espeak-ng says "19:30" as "neunzehn Uhr dreißig" itself; the written Uhr doubled it
        return _GERMAN_TIME.sub(lambda m: f"{m.group(1)}:{m.group(2)}" if m.group(2) != "00" else
                                f"{m.group(1)} Uhr", text)
    if language == "fr":
        def say(match: re.Match[str]) -> str:
            hours = int(match.group(1))
            spoken = words.plural("{n} hour", "{n} hours", hours)
            return f"{spoken} {match.group(2)}" if match.group(2) else spoken

        return _FRENCH_TIME.sub(say, text)
    return text


def say_ordinals(text: str, words: Words) -> str:
    """Ordinals written with a mark the engine does not read (French "XIXᵉ", German "12. Februar")."""
    from num2words import num2words

    from builder.narration.normalise.numbers import roman_value

    language = primary_language(words.language)
    if language == "fr":
        def french(match: re.Match[str]) -> str:
            number = next(group for group in match.groups() if group)
            value = int(number) if number.isdigit() else roman_value(number)
            if value is None:
                return match.group()
            return num2words(value, lang="fr", to="ordinal")

        return _FRENCH_ORDINAL.sub(french, text)
    if language == "de":
        def german(match: re.Match[str]) -> str:
            before = text[: match.start()].split()
            previous = before[-1].lower() if before else ""
            ending = "n" if previous in _DATIVE else "" if previous in {"der", "die", "das"} else "r"
            return f"{num2words(int(match.group(1)), lang='de', to='ordinal')}{ending} "

        text = _GERMAN_ORDINAL_DAY.sub(german, text)
        return _GERMAN_DATIVE_REGNAL.sub(r"\1 dem \2n", text)  # "von König Ludwig dem Zweiten"
    return text
