"""Which voice speaks which language: the edition's voice for its own language, `[narration.voices]` for
others, and otherwise the engine's own voice for the language (espeak-ng has fr, de, es, it, cy, …).

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

from builder import engines, espeak
from builder.config import line_of_entry
from builder.errors import Diagnostic, shown, warning
from builder.i18n import primary_language
from builder.model import Edition, NarrationSettings

EngineVoice = tuple[str, str, tuple[str, ...]]  # id, name, languages (as the engine lists them)
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
    configured = tuple(dict.fromkeys(voice for voice in (settings.voice, *dict(settings.voices).values()) if voice))
    return engine_voices(settings.engine, edition.root, configured)


def resolve_voice(requested: str, voices: Sequence[EngineVoice]) -> str:
    """The engine's voice id for an id, a name or a language code; NoVoice, with the nearest match, if none."""
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


@dataclass(frozen=True)
class VoiceTable:
    """Language tag → the voice (as configured: a name, id or language) that speaks it."""

    language: str  # the edition's
    voice: str  # the edition's voice, for its own language
    voices: tuple[tuple[str, str], ...]  # [narration.voices]

    def configured(self, language: str) -> str | None:
        table = {tag.lower(): voice for tag, voice in self.voices}
        tag = (language or self.language).lower()
        if tag in table:
            return table[tag]
        if primary_language(tag) in table:
            return table[primary_language(tag)]
        if primary_language(tag) == primary_language(self.language):
            return self.voice
        return None

    def voice_for(self, language: str, voices: Sequence[EngineVoice]) -> str:
        """The voice name to give the engine for text in `language`."""
        return self.configured(language) or default_voice(language or self.language, voices)


def with_engine(edition: Edition, engine: str | None, voice: str | None) -> Edition:
    """The edition as --engine and --voice say it is narrated (another engine: its own voice unless --voice)."""
    settings = edition.narration
    if engine and engine != settings.engine:
        default = NarrationSettings().voice if engine == engines.DEFAULT_ENGINE else ""  # as config gives it
        settings = dataclasses.replace(settings, engine=engine, voice=default)
    if voice:  # --voice replaces the manifest's voice
        settings = dataclasses.replace(settings, voice=voice)
    return dataclasses.replace(edition, narration=settings)


def voice_table(edition: Edition, voice: str | None = None) -> VoiceTable:
    return VoiceTable(edition.language, voice or edition.narration.voice, edition.narration.voices)


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
    header = _line(manifest_text, r"^[ \t]*\[narration\.voices\]")
    for tag, voice in (("", edition.narration.voice), *edition.narration.voices):
        if not voice:  # no voice named: the engine's own for the edition's language (checked below)
            continue
        try:
            resolve_voice(voice, voices)
        except NoVoice as unknown:
            message, close = unknown.args
            line = line_of_entry(manifest_text, header, tag) if tag else _line(manifest_text, r"^[ \t]*voice[ \t]*=")
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
        else f" {listed}.")
    return Diagnostic("E081", message, remedy.strip(), path, line)
