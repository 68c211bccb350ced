"""The narrated book as a listener gets it: each overlay clip begins where its sentence is heard.

The unit test (test_narration.py) checks the timing arithmetic on clicks; this one decodes the real
narrated EPUB's audio (the real engine, the default build) with ffmpeg and checks every clip boundary
of every article: silence in the pause before it, speech starting at it.
"""

from __future__ import annotations

import array
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import tool_missing
from lxml import etree

from builder.narration.synthesis import SAMPLE_RATE
from builder.run.records import BuildResult

SMIL = "{http://www.w3.org/ns/SMIL}"
SPEECH = 500  # a sample louder than this is speech (espeak-ng pads with exact zeros; MP3 leaves ±1 in pauses)
QUIET = 64  # the pause before a sentence, as decoded
# The shortest pause after a sentence is 0.3 s: look at 0.25 s of it, leaving the last 30 ms to MP3's smearing.
PAUSE_LOOKED_AT = (0.25, 0.03)
ONSET_TOLERANCE = 0.010  # s; measured on this edition: speech starts 0.5 ms before to 4.7 ms after clipBegin


def decoded(mp3: bytes) -> array.array:
    ffmpeg = shutil.which("ffmpeg") or tool_missing("ffmpeg is missing: run scripts/setup.sh")
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE),
                          "pipe:1"], input=mp3, capture_output=True, check=True).stdout
    samples = array.array("h")
    samples.frombytes(raw)
    return samples


def seconds(clock: str) -> float:
    assert clock.endswith("s"), clock
    return float(clock[:-1])


def test_each_clip_boundary_is_where_a_sentence_starts_to_be_heard(full_build: tuple[Path, BuildResult]) -> None:
    output, _ = full_build
    checked = assert_each_clip_starts_where_its_sentence_is_heard(output / "imind-spring-2025-narrated.epub", 16)
    assert checked > 800  # every sentence after each article's first (919 in this edition when measured)


def assert_each_clip_starts_where_its_sentence_is_heard(epub: Path, articles: int,
                                                        tolerance: float = ONSET_TOLERANCE) -> int:
    """Every overlay of the book (one per article): silence in the pause before each clip, speech at its start.
    Any engine (test_piper.py runs it on Piper's book): the clips are trimmed to their speech either way."""
    checked = 0
    with zipfile.ZipFile(epub) as book:
        overlays = sorted(name for name in book.namelist() if name.endswith(".smil"))
        assert len(overlays) == articles
        for name in overlays:
            clips = list(etree.fromstring(book.read(name)).iter(f"{SMIL}audio"))
            (source,) = {clip.get("src") for clip in clips}
            samples = decoded(book.read(f"EPUB/{source.removeprefix('../')}"))
            assert seconds(clips[-1].get("clipEnd")) == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.001), name
            for clip in clips[1:]:  # the first begins at 0, absorbing the decoder's lead-in
                begin = seconds(clip.get("clipBegin"))
                at = round(begin * SAMPLE_RATE)
                first, last = (at - round(part * SAMPLE_RATE) for part in PAUSE_LOOKED_AT)
                before = samples[first:last]
                assert max(map(abs, before)) <= QUIET, f"{name}: sound in the pause before {begin} s"
                onset = next(i for i in range(at - round(tolerance * SAMPLE_RATE), len(samples))
                             if abs(samples[i]) > SPEECH)
                assert abs(onset / SAMPLE_RATE - begin) <= tolerance, (name, begin, onset / SAMPLE_RATE)
                checked += 1
    return checked
