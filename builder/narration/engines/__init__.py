"""The speech engines behind one interface: `engine(name)` for the name edition.toml gives
(`[narration] engine = "espeak" | "piper"`, or `--engine`).

Each engine is a module (builder.narration.engines.espeak_ng, builder.narration.engines.piper) with the same parts:
  NAME, INSTALL_HINT, VOICES_HINT, ACCEPTS_PHONEMES (whether lexicon entries may be given as IPA), VARIANTS
  (whether a voice takes a variant, "en-gb+f3", as a question's voice),
  synthesizer(root) -> a picklable factory of the Synthesizer the narration's workers call,
  voices(root, configured) -> the voices it has, (id, name, languages), or EngineUnavailable,
  speakable(voice_id, configured, base) -> the Voice a sentence is spoken with, for a resolved voice,
  voice_label(voice_id, name) -> how the report names a voice,
  credit(voice) -> Credit (engine and version, voice, licence), which builder.narration.credits words for every format.
Nothing outside these modules knows which engine speaks. An engine module is imported only when used:
Piper is an optional extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from builder.narration.engines.base import (
    SAMPLE_RATE,
    Clip,
    Credit,
    EngineUnavailable,
    Synthesizer,
    SynthesizerFactory,
    Voice,
)

__all__ = ["DEFAULT_ENGINE", "ENGINES", "SAMPLE_RATE", "Clip", "Credit", "EngineUnavailable", "Synthesizer",
           "SynthesizerFactory", "Voice", "engine"]

ENGINES = {"espeak": "builder.narration.engines.espeak_ng", "piper": "builder.narration.engines.piper"}  # name → module
DEFAULT_ENGINE = "espeak"


def engine(name: str) -> ModuleType:
    """The engine module for a name of ENGINES (config checks the name before anything asks)."""
    return importlib.import_module(ENGINES[name])
