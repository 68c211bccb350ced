"""Who reads the narrated books, told the same and truthfully in every format that credits a narrator: each
voice by name, the engine that speaks it (with its version), the voice's licence, and that the voice is
synthetic. The words are the edition's language's (builder/i18n): reading systems and players show them.

An engine describes a voice as a `Credit` (engine and version, voice, licence: builder.narration.engines);
the text's voices come first, then, when the edition has interviews, the voices of their questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from builder.i18n import Words
from builder.narration.engines.base import Credit

__all__ = ["NO_CREDITS", "Credit", "NarratorCredits", "Narrators", "credit_line", "narrator_credits", "narrator_name",
           "narrator_names"]


@dataclass(frozen=True)
class Narrators:
    """The voices that read an edition: its text's (one for each language's voice), its questions'."""

    text: tuple[Credit, ...]
    questions: tuple[Credit, ...] = ()

    def voices(self) -> tuple[Credit, ...]:
        """Every voice once, the text's first."""
        return tuple(dict.fromkeys((*self.text, *self.questions)))


@dataclass(frozen=True)
class NarratorCredits:
    """The credits as the formats print them, in the edition's language: each voice's narrator name, and the
    credit as a sentence."""

    names: tuple[str, ...] = ()
    line: str = ""
    line_in_english: str = ""  # for records catalogued in English (MARC 040 $b eng)


NO_CREDITS = NarratorCredits()  # a product without audio


def narrator_credits(narrators: Narrators, language: str) -> NarratorCredits:
    words = Words(language)
    return NarratorCredits(narrator_names(narrators, words), credit_line(narrators, words),
                           credit_line(narrators, Words("en")))


def narrator_name(credit: Credit, words: Words) -> str:
    """A voice as a narrator's name, which says all there is to say of it wherever a format has room for a name
    only: "English (Great Britain), synthetic voice of eSpeak NG 1.51, licence GPL-3.0-or-later"."""
    return words("{voice}, synthetic voice of {engine}, licence {licence}", voice=credit.voice,
                 engine=credit.engine, licence=credit.licence)


def narrator_names(narrators: Narrators, words: Words) -> tuple[str, ...]:
    """Each voice's narrator name, once (media:narrator, ncc:narrator, podcast:person, OPDS and ONIX narrators,
    the audio tags' composer)."""
    return tuple(narrator_name(credit, words) for credit in narrators.voices())


def credit_line(narrators: Narrators, words: Words) -> str:
    """The credit as a sentence (the audio tags' comment, MARC 511): who reads, who asks the interviews'
    questions, and that it is synthetic speech."""
    questions = [credit for credit in narrators.questions if credit not in narrators.text]
    reading = words("Read by {narrator}", narrator=_names(narrators.text, words))
    if questions:
        reading = words("{reading}; interview questions read by {narrator}", reading=reading,
                        narrator=_names(questions, words))
    return words("{reading}. The narration is synthetic speech.", reading=reading)


def _names(credits: Sequence[Credit], words: Words) -> str:
    return words.join([narrator_name(credit, words) for credit in credits])
