"""The default engine: espeak-ng through pyttsx3's binding of it, each sentence from an untouched engine
(builder.narration.espeak's fork-per-sentence helper)."""

from __future__ import annotations

import atexit
import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from builder.narration import espeak
from builder.narration.engines.base import SAMPLE_RATE, Clip, Credit, EngineUnavailable, SynthesizerFactory, Voice

NAME = "espeak"
INSTALL_HINT = espeak.INSTALL_HINT
VOICES_HINT = "Voices are listed by `espeak-ng --voices`"
ACCEPTS_PHONEMES = False  # lexicon entries are spoken as their alias
VARIANTS = True  # "en-gb+f3": a voice with another variant (builder.narration.voices)
EngineVoice = tuple[str, str, tuple[str, ...]]  # id, name, languages (as pyttsx3 lists them)


class Pyttsx3Synthesizer:
    """espeak-ng through pyttsx3's binding of it, every sentence from the same untouched engine.

    The engine runs in a helper process (builder.narration.espeak), one per narrating process, started on
    first use and shared by every synthesizer made in that process.
    """

    def engine_id(self) -> str:
        dll = espeak.binding().dll
        espeak.check_espeak_data(dll)  # narrate asks this first, in the parent: a helper without data would just exit
        return f"pyttsx3 {pyttsx3_version()}; espeak-ng {espeak.version(dll)}"

    def voice_id(self, voice: Voice) -> str:
        return voice.voice  # the voice as configured: espeak-ng resolves it the same way every time

    def synthesize(self, text: str, voice: Voice) -> Clip:
        if not text.strip():
            return Clip(b"", SAMPLE_RATE)  # nothing to say
        return Clip(speaker().speak(text, voice.voice, voice.rate, voice.volume), SAMPLE_RATE)


@functools.cache
def pyttsx3_version() -> str:
    from importlib.metadata import version  # not at the top: a narrating worker never needs it (email, csv, zipfile)

    return version("pyttsx3")


@functools.cache
def speaker() -> espeak.Speaker:
    """This process's speech helper: it ends with this process (a worker's reads end-of-file)."""
    helper = espeak.Speaker()
    atexit.register(helper.close)
    return helper


def synthesizer(root: Path) -> SynthesizerFactory:
    return Pyttsx3Synthesizer


def voices(root: Path, configured: Sequence[str] = ()) -> tuple[EngineVoice, ...]:
    """espeak-ng's voices, as the helper reads them; EngineUnavailable without espeak-ng or its data."""
    return _listed()


@functools.cache  # its voice files are read once a build, whatever edition folder asks (a tenth of a second)
def _listed() -> tuple[EngineVoice, ...]:
    engine = espeak.binding()
    espeak.check_espeak_data(engine.dll)  # without its data, espeak_Initialize ends this process
    if engine.Initialize(espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000) == -1:
        raise EngineUnavailable(f"espeak-ng could not start (no voice data?); {INSTALL_HINT}")
    found = []
    for voice in engine.ListVoices(None):
        languages = (voice.languages[1:].decode("utf-8", "ignore"),) if voice.languages else ()
        found.append((voice.identifier.decode("utf-8").lower(), voice.name.decode("utf-8").strip(), languages))
    return tuple(found)


def speakable(voice_id: str, configured: str, base: Voice) -> Voice:
    """The Voice a sentence is spoken with: the voice as configured (espeak-ng resolves it in the helper)."""
    return replace(base, voice=configured)


def voice_label(voice_id: str, name: str) -> str:
    """How the report names a voice: "English (Great Britain) (gmw/en)", "…, variant female3 (gmw/en+f3)"."""
    from builder.narration import voices  # which lists the variants' names

    return f"{voices.voice_name(voice_id)} ({voice_id})"


def credit(voice: Voice) -> Credit:
    """The voice by the name espeak-ng gives it ("English (Great Britain), female3" for "en-gb+f3")."""
    from builder.narration import voices  # which lists the variants' names

    dll = espeak.binding().dll
    name = voices.voice_name(voices.resolve_voice(voice.voice, voices.engine_voices()))
    return Credit(f"eSpeak NG {espeak.version(dll)} (pyttsx3 {pyttsx3_version()})", name,
                  "GPL-3.0-or-later")  # espeak-ng's voices are part of it, under its licence
