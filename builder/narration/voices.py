"""Which voice speaks which language: the edition's voice for its own language, `[narration.voices]` for
others, and otherwise the engine's own voice for the language (espeak-ng has fr, de, es, it, cy, …).

Interviews are heard in two voices: a question (speech.QUESTION) is spoken by the edition's `question_voice`
(its own language), `[narration.question_voices]` (others), and otherwise by its language's voice with the
question voice's variant (espeak-ng's "+f3": the same language, audibly another speaker).

An unknown language or voice is a source error: `check` reports it with the file, the line and the
nearest match the engine has.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.errors import Diagnostic, shown, warning
from builder.i18n import primary_language
from builder.model import Edition, NarrationSettings
from builder.narration import engines, espeak
from builder.narration.speech import QUESTION
from builder.sources.config import line_of_entry, table_line

EngineVoice = tuple[str, str, tuple[str, ...]]  # id, name, languages (as the engine lists them)
# espeak-ng's variant for questions where the edition names none: "female3" on the default (male) voices, the
# variant most unlike them that stays clear at speed; "male3" when the edition's own voice is already female.
DEFAULT_QUESTION_VARIANT = "+f3"
OTHER_QUESTION_VARIANT = "+m3"
# Passage languages in the sources: `{lang=fr}` attributes, `::: {lang=de}` blocks and raw HTML lang="…".
_PASSAGE_LANG = re.compile(r"""(?:\{[^}\n]*\blang=["']?|\blang=["'])([A-Za-z0-9-]+)""")


class NoVoice(ValueError):
    """A language or a voice the speech engine does not have; args: message, nearest match or ""."""


class NoEngine(engines.EngineUnavailable):
    """No speech engine to list voices from: `check` warns (W060), a narrating build says E060."""


@functools.cache
def engine_voices(engine: str = engines.DEFAULT_ENGINE, root: Path | None = None,
                  configured: tuple[str, ...] = ()) -> tuple[EngineVoice, ...]:
    """The speech engine's voices (as the narration's engine reads them); `configured`, the voices the
    edition names, for an engine whose voices are files (relative to the edition's folder `root`)."""
    try:
        return engines.engine(engine).voices(root or Path("."), configured)
    except engines.EngineUnavailable as missing:
        raise NoEngine(str(missing)) from None


def edition_voices(edition: Edition) -> tuple[EngineVoice, ...]:
    """The voices of the edition's engine, its configured ones among them."""
    settings = edition.narration
    named = (settings.voice, *dict(settings.voices).values(), settings.question_voice,
             *dict(settings.question_voices).values())
    configured = tuple(dict.fromkeys(voice for voice in named if voice and not voice.startswith("+")))
    return engine_voices(settings.engine, edition.root, configured)


@functools.cache
def engine_variants() -> tuple[str, ...]:
    """espeak-ng's voice variants ("f3", "m3", "klatt", …: the names after "+" in "en-gb+f3")."""
    return tuple(variant_names())


@functools.cache
def variant_names() -> dict[str, str]:
    """espeak-ng's voice variants and their names ("f3" → "female3")."""
    engine = espeak.binding()
    engine_voices()  # the engine started (or NoEngine)
    wanted = engine.VOICE()
    wanted.languages = b"variant"
    return {voice.identifier.decode("utf-8").removeprefix("!v/"): voice.name.decode("utf-8").strip()
            for voice in engine.ListVoices(wanted)}


def voice_name(voice_id: str) -> str:
    """How a listener is told a voice's name, as the engine names it: "English (Great Britain)"; "English (Great
    Britain), female3" for "gmw/en+f3" (a variant)."""
    base, plus, variant = voice_id.partition("+")
    name = {engine_id: name for engine_id, name, _ in engine_voices()}.get(base, base)
    return f"{name}, {variant_names().get(variant, variant)}" if plus else name


def resolve_variant(variant: str, variants: Sequence[str]) -> str:
    """A variant as espeak-ng names it ("F3" → "f3"); NoVoice, with the nearest one, if it has none of that name."""
    for known in variants:
        if known.lower() == variant.strip().lower():
            return known
    close = difflib.get_close_matches(variant.strip().lower(), [known.lower() for known in variants], n=1,
                                      cutoff=0.5)
    raise NoVoice(f"no speech voice variant '+{shown(variant)}'", f"+{close[0]}" if close else "")


def resolve_voice(requested: str, voices: Sequence[EngineVoice], variants: Sequence[str] | None = None) -> str:
    """The engine's voice id for an id, a name or a language code, with a variant if one is asked for
    ("en-gb+f3"); NoVoice, with the nearest match, if none."""
    base, plus, variant = requested.partition("+")
    if plus:
        known = engine_variants() if variants is None else variants
        return resolve_voice(base, voices) + "+" + resolve_variant(variant, known)
    try:
        return espeak.resolve_voice(requested, voices)
    except ValueError:
        pass
    wanted = requested.strip().lower().replace("_", "-")
    names = [name for voice_id, _name, languages in voices for name in (voice_id.rsplit("/", 1)[-1], *languages)]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.5)
    raise NoVoice(f"no speech voice matches '{shown(requested)}'", close[0] if close else "")


def default_voice(language: str, voices: Sequence[EngineVoice]) -> str:
    """The engine's voice for a language: the exact tag, the bare language, or the language's main region
    ("fr" → French (France), "fr-CA" → French (France) when the engine has no Canadian French)."""
    tag, primary = language.lower(), primary_language(language)
    for candidates in ([tag], [primary, f"{primary}-{primary}"]):
        for voice_id, _name, languages in voices:
            if any(lang.lower() in candidates for lang in languages):
                return voice_id
    for voice_id, _name, languages in voices:
        if any(primary_language(lang) == primary for lang in languages):
            return voice_id
    known = sorted({lang for _id, _name, languages in voices for lang in languages})
    close = difflib.get_close_matches(tag, known, n=1, cutoff=0.5)
    raise NoVoice(f"the speech engine has no voice for language '{shown(language)}'", close[0] if close else "")


def with_variant(voice: str, variant: str) -> str:
    """A voice with another variant: ("en-gb", "+f3") → "en-gb+f3", ("en-gb+m1", "+f3") → "en-gb+f3"."""
    return voice.partition("+")[0] + variant if variant else voice


@dataclass(frozen=True)
class VoiceTable:
    """Language tag (and role) → the voice (as configured: a name, id or language, with any variant) that speaks it."""

    language: str  # the edition's
    voice: str  # the edition's voice, for its own language
    voices: tuple[tuple[str, str], ...]  # [narration.voices]
    question_voice: str = ""  # the edition's question voice ("" for the default), a voice or a variant ("+f3")
    question_voices: tuple[tuple[str, str], ...] = ()  # [narration.question_voices]
    variants: bool = True  # whether the engine's voices take variants ("+f3": espeak-ng's do, Piper's do not)

    def configured(self, language: str) -> str | None:
        return _look_up(self.voices, language or self.language, self.language, self.voice)

    def voice_for(self, language: str, voices: Sequence[EngineVoice], role: str = "") -> str:
        """The voice name to give the engine for text in `language` said in `role` (a question or the text)."""
        voice = self.configured(language) or default_voice(language or self.language, voices)
        if role != QUESTION:
            return voice
        asked = _look_up(self.question_voices, language or self.language, self.language, self.question_voice)
        if asked and not asked.startswith("+"):
            return asked  # a voice of its own
        if not self.variants:  # no variant to tell it apart: the text's voice (a second model must be named)
            return voice
        return with_variant(voice, asked or self.question_variant())

    def question_variant(self) -> str:
        """The variant a question gets in a language without a question voice of its own: the edition's question
        voice's ("" if it names a voice without one: questions then sound like the text)."""
        if self.question_voice:
            return "+" + self.question_voice.partition("+")[2] if "+" in self.question_voice else ""
        own = self.voice.partition("+")[2].lower()
        return OTHER_QUESTION_VARIANT if own.startswith("f") else DEFAULT_QUESTION_VARIANT


def _look_up(table: tuple[tuple[str, str], ...], language: str, edition_language: str, own: str) -> str | None:
    """A language's entry in a table of language tags (exact tag, then its primary language), or the edition's own
    setting for the edition's language."""
    entries = {tag.lower(): voice for tag, voice in table}
    tag = language.lower()
    if tag in entries:
        return entries[tag]
    if primary_language(tag) in entries:
        return entries[primary_language(tag)]
    if primary_language(tag) == primary_language(edition_language):
        return own or None
    return None


def with_engine(edition: Edition, engine: str | None, voice: str | None) -> Edition:
    """The edition as --engine and --voice say it is narrated: another engine than edition.toml's speaks with its
    own voices (those the manifest names are the other engine's), or --voice."""
    settings = edition.narration
    if engine and engine != settings.engine:
        default = NarrationSettings().voice if engine == engines.DEFAULT_ENGINE else ""  # as config gives it
        settings = dataclasses.replace(settings, engine=engine, voice=default, voices=(), question_voice="",
                                       question_voices=())
    if voice:  # --voice replaces the manifest's voice
        settings = dataclasses.replace(settings, voice=voice)
    return dataclasses.replace(edition, narration=settings)


def voice_table(edition: Edition, voice: str | None = None) -> VoiceTable:
    settings = edition.narration
    return VoiceTable(edition.language, voice or settings.voice, settings.voices, settings.question_voice,
                      settings.question_voices, engines.engine(settings.engine).VARIANTS)


def source_languages(edition: Edition) -> list[tuple[str, Path, int | None]]:
    """Every language the sources use, with where: the manifest, each article's front matter, each passage."""
    found: list[tuple[str, Path, int | None]] = [(edition.language, edition.manifest, None)]
    for article in edition.articles:
        text = article.source.read_text(encoding="utf-8") if article.source.is_file() else ""
        front = re.match(r"---\n.*?\n---\n", text, re.DOTALL)
        declared = re.search(r"^language\s*:\s*[\"']?([A-Za-z0-9-]+)", front.group() if front else "", re.MULTILINE)
        if declared:
            found.append((declared.group(1), article.source, text[: declared.start()].count("\n") + 1))
        for match in _PASSAGE_LANG.finditer(text[front.end() if front else 0:]):
            offset = (front.end() if front else 0) + match.start()
            found.append((match.group(1), article.source, text[:offset].count("\n") + 1))
    return found


def _line(text: str, pattern: str) -> int | None:
    match = re.search(pattern, text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else None


def check_voices(edition: Edition) -> tuple[list[Diagnostic], dict[str, str]]:
    """Every language of the sources has a voice, and every configured voice exists: errors naming the file,
    the line and the nearest match; and the voice (engine id) chosen for each language. Without a speech
    engine nothing can be checked: one warning says so."""
    engine = engines.engine(edition.narration.engine)
    try:
        voices = edition_voices(edition)
    except NoEngine as missing:
        return [warning("W060", f"voices not checked: {missing}", f"To check them, {engine.INSTALL_HINT}.",
                        edition.manifest)], {}
    table = voice_table(edition)
    problems: list[Diagnostic] = []
    broken: set[str] = set()  # configured voices already reported at their line in the manifest
    manifest_text = edition.manifest.read_text(encoding="utf-8")
    for key, tag, voice in configured_voices(edition):
        if not voice:  # no voice named: the engine's own for the edition's language (checked below)
            continue
        try:
            resolve_configured(voice, voices, table.variants)
        except NoVoice as unknown:
            message, close = unknown.args
            line = (line_of_entry(manifest_text, table_line(manifest_text, f"narration.{key}"), tag) if tag
                    else _line(manifest_text, rf"^[ \t]*{key}[ \t]*="))
            problems.append(_no_voice(message, close, edition.manifest, line, "voice", engine.VOICES_HINT))
            broken.add(voice)
    chosen: dict[str, str] = {}
    for language, path, line in _unique(source_languages(edition)):
        if table.configured(language) in broken:
            continue
        try:
            chosen[language] = resolve_voice(table.voice_for(language, voices), voices)
        except NoVoice as unknown:
            message, close = unknown.args
            problems.append(_no_voice(message, close, path, line, "language", engine.VOICES_HINT))
    return problems, chosen


def configured_voices(edition: Edition) -> list[tuple[str, str, str]]:
    """Every voice edition.toml names, as (key, language tag or "", voice): `voice`, [narration.voices],
    `question_voice`, [narration.question_voices]."""
    settings = edition.narration
    found = [("voice", "", settings.voice), *(("voices", tag, voice) for tag, voice in settings.voices)]
    if settings.question_voice:
        found.append(("question_voice", "", settings.question_voice))
    return found + [("question_voices", tag, voice) for tag, voice in settings.question_voices]


def resolve_configured(voice: str, voices: Sequence[EngineVoice], variants: bool = True) -> str:
    """A configured voice, or a variant alone ("+f3", for question voices), as the engine names it."""
    if "+" in voice and not variants:
        raise NoVoice(f"the speech engine's voices have no variants ('{shown(voice)}')", "")
    if voice.strip().startswith("+"):
        return "+" + resolve_variant(voice.strip()[1:], engine_variants())
    return resolve_voice(voice, voices)


def _unique(found: Iterable[tuple[str, Path, int | None]]) -> list[tuple[str, Path, int | None]]:
    """One entry per language and file (the first place it is used)."""
    seen: set[tuple[str, Path]] = set()
    kept = []
    for language, path, line in found:
        if (language.lower(), path) not in seen:
            seen.add((language.lower(), path))
            kept.append((language, path, line))
    return kept


def _no_voice(message: str, close: str, path: Path, line: int | None, what: str, listed: str) -> Diagnostic:
    remedy = (f"Did you mean '{close}'?" if close else "") + (
        f" {listed}; map a language to one in [narration.voices] of edition.toml." if what == "language"
        else " Variants are listed by `espeak-ng --voices=variant`." if "variant" in message
        else f" {listed}.")
    return Diagnostic("E081", message, remedy.strip(), path, line)
