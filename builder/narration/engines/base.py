"""What every speech engine shares with the narration: a voice, a clip, a synthesizer, and how an engine
says it is missing. Kept apart from builder.narration.synthesis so that an engine module needs nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

SAMPLE_RATE = 22050  # the narration's rate (espeak-ng's native rate): every engine's clips arrive at it


class EngineUnavailable(Exception):
    """No speech engine (or no voice for it) on this machine: the text books are built, narration is not."""


@dataclass(frozen=True)
class Voice:
    voice: str  # the engine's voice: an espeak-ng id, name or language ("en-gb"); a Piper model (its file)
    rate: int  # words a minute
    volume: float  # 0 to 1
    speaker: int | None = None  # a multi-speaker model's speaker (Piper); None for the model's only one


@dataclass(frozen=True)
class Clip:
    pcm: bytes  # signed 16-bit little-endian mono
    sample_rate: int


@dataclass(frozen=True)
class Credit:
    """Who speaks, for the credits: the engine with its version, the voice, and the voice's licence."""

    engine: str  # "eSpeak NG 1.51 (pyttsx3 2.98)"
    voice: str  # "en-gb", "joe (en_US, medium)"
    licence: str  # SPDX expression(s) of the voice's data, as its package states them


class Synthesizer(Protocol):
    def engine_id(self) -> str:
        """The engine and every setting that changes its audio; part of each clip's cache key."""
        ...

    def voice_id(self, voice: Voice) -> str:
        """What identifies a voice's sound (a model's checksum, not its path); part of each clip's cache key."""
        ...

    def synthesize(self, text: str, voice: Voice) -> Clip:
        """One sentence, 16-bit mono at SAMPLE_RATE (exact-zero padding at either end is trimmed after)."""
        ...


SynthesizerFactory = Callable[[], Synthesizer]  # picklable: the narration's worker processes call it


def speaks_in_threads(factory: SynthesizerFactory) -> bool:
    """Whether an engine's articles are narrated by threads of the build's own process sharing one loaded engine
    (a synthesizer class's optional `speaks_in_threads`), rather than by a pool of worker processes each loading
    its own: for an engine whose model is big and whose synthesis lets other threads run."""
    return bool(getattr(factory, "speaks_in_threads", False))


# glibc serves big blocks from its heap once its dynamic mmap threshold has grown, and keeps them. Blocks over 1 MB
# mmapped instead (given back when freed), measured: a Piper worker returns to ~175 MB after each sentence and
# peaks lower (594 against 730 MB on 78 words); the narrated build's main process, which holds each article's
# MP3 and AAC for a while, peaks at 108 MB instead of 134 (tree 292 against 314 MB); no measurable cost.
MMAP_THRESHOLD = 1 << 20
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def give_back_big_blocks() -> None:
    """Big blocks straight from the system, returned to it when freed (glibc; elsewhere nothing to do)."""
    import ctypes  # here: every build imports this module, only a narrated build needs ctypes

    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallopt"):
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
