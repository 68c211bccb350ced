"""Synthesis, clip cache and MP3 timings (builder.narration.synthesis), with the fake engine except one test."""

from __future__ import annotations

import array
import itertools
import os
import shutil
import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import in_ci

from builder.narration.espeak import EngineFailed, Speaker
from builder.narration.mp3 import (
    FRAME_SAMPLES,
    SPEECH_OFFSET_SAMPLES,
    encode_clip,
    mp3_frame_count,
    pause_frames,
    silence,
)
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import (
    SAMPLE_RATE,
    ArticleAudio,
    ArticleCache,
    ArticleEncoder,
    Clip,
    ClipCache,
    EngineUnavailable,
    FakeSynthesizer,
    Pyttsx3Synthesizer,
    Voice,
    clip_key,
    narrate,
    resolve_voice,
)
from builder.run.cache import default_cache_dir

VOICE = Voice("en-gb", 175, 1.0)
FFMPEG = shutil.which("ffmpeg")


def sentences(prefix: str, count: int) -> list[SpokenSentence]:
    return [
        SpokenSentence(f"{prefix}-s{n:04d}", f"Sentence {n} of {prefix}.", f"Sentence {n} of {prefix}.", None)
        for n in range(1, count + 1)
    ]


EDITION = [("one", sentences("one", 30)), ("two", sentences("two", 7)), ("three", sentences("three", 55))]


class BrokenSynthesizer(FakeSynthesizer):
    """Same engine id as the fake one, but any real synthesis fails: proves a full cache hit."""

    def synthesize(self, text: str, voice: Voice) -> Clip:
        raise AssertionError(f"synthesised although cached: {text}")


class EditOnlySynthesizer(FakeSynthesizer):
    """Same engine id as the fake one, but speaks only sentences that start with "Edited": proves that a
    rebuild after an edit speaks nothing else."""

    def synthesize(self, text: str, voice: Voice) -> Clip:
        if not text.startswith("Edited"):
            raise AssertionError(f"spoken again although unchanged: {text}")
        return super().synthesize(text, voice)


def decode(mp3: bytes) -> array.array:
    assert FFMPEG is not None
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "pipe:1"],
        input=mp3, capture_output=True, check=True,
    ).stdout
    samples = array.array("h")
    samples.frombytes(raw)
    return samples


# --- timings --------------------------------------------------------------------------------


def test_timings_are_contiguous_and_sum_to_the_duration() -> None:
    audios = narrate(EDITION, VOICE, FakeSynthesizer, None, jobs=1)
    assert [audio.slug for audio in audios] == ["one", "two", "three"]
    for audio, (_, spoken) in zip(audios, EDITION, strict=True):
        assert [t.sentence_id for t in audio.timings] == [s.id for s in spoken]
        assert audio.timings[0].begin == 0.0
        for before, after in zip(audio.timings, audio.timings[1:], strict=False):
            assert after.begin == before.end and after.end > after.begin
        assert audio.timings[-1].end == audio.duration
        assert audio.duration == mp3_frame_count(audio.mp3) * 576 / SAMPLE_RATE


def test_same_bytes_whatever_the_number_of_jobs() -> None:
    single = narrate(EDITION, VOICE, FakeSynthesizer, None, jobs=1)
    double = narrate(EDITION, VOICE, FakeSynthesizer, None, jobs=2)
    assert single == double


class ThreadedSpeaker(FakeSynthesizer):
    """The fake tone, from an engine whose articles are narrated by threads of the build's process: each
    synthesis waits at a barrier for one other, so it is spoken only if two narrate at once in this process."""

    speaks_in_threads: ClassVar[bool] = True
    both: ClassVar[threading.Barrier] = threading.Barrier(2, timeout=10)
    pids: ClassVar[set[int]] = set()

    def synthesize(self, text: str, voice: Voice) -> Clip:
        ThreadedSpeaker.pids.add(os.getpid())
        if text in ("Sentence 1 of one.", "Sentence 1 of two."):  # the two articles' first sentences, side by side
            ThreadedSpeaker.both.wait()
        return super().synthesize(text, voice)


def test_an_engine_that_speaks_in_threads_narrates_articles_side_by_side_in_this_process() -> None:
    articles = [(name, sentences(name, 3)) for name in ("one", "two")]
    threaded = narrate(articles, VOICE, ThreadedSpeaker, None, jobs=2)
    assert ThreadedSpeaker.pids == {os.getpid()}
    assert threaded == narrate(articles, VOICE, FakeSynthesizer, None, jobs=2)  # the same bytes as the pool's


def test_progress_counts_every_sentence() -> None:
    calls: list[tuple[str, int, int]] = []
    narrate(EDITION[:2], VOICE, FakeSynthesizer, None, jobs=2, progress=lambda *call: calls.append(call))
    assert [(done, total) for _, done, total in calls] == [(n, 37) for n in range(1, 38)]
    assert sorted(slug for slug, _, _ in calls) == ["one"] * 30 + ["two"] * 7


@pytest.mark.skipif(FFMPEG is None and not in_ci(), reason="ffmpeg is not installed")
def test_timings_match_what_a_decoder_plays() -> None:
    # Silent clips with a click at the start: each click must be heard at its sentence's begin.
    encoder = ArticleEncoder()
    lengths, pauses = [5000, 12345, 777, 20000], [0.3, 1.0, 0.6, 0.3]  # as after a sentence, heading, paragraph
    for n, (length, pause) in enumerate(zip(lengths, pauses, strict=True)):
        encoder.add(f"s{n}", (b"\x00\x60" * 40 + b"\x00\x00" * (length - 40)), pause)
    audio = encoder.finish("clicks")
    decoded = decode(audio.mp3)
    assert len(decoded) / SAMPLE_RATE == audio.duration
    clicks = [i for i in range(1, len(decoded)) if abs(decoded[i]) > 8000 and abs(decoded[i - 1]) <= 8000]
    starts = [clicks[0], *(c for prev, c in itertools.pairwise(clicks) if c - prev > 400)]
    assert starts[0] == pytest.approx(SPEECH_OFFSET_SAMPLES, abs=3)
    for timing, start in zip(audio.timings[1:], starts[1:], strict=True):
        assert timing.begin * SAMPLE_RATE == pytest.approx(start, abs=3)


@pytest.mark.skipif(FFMPEG is None and not in_ci(), reason="ffmpeg is not installed")
def test_clips_end_to_end_decode_as_each_does_alone() -> None:
    """Each clip's frames come from an encoder of its own and borrow no bits across their edges: the
    article decodes, sample for sample, as its clips and pauses decoded one by one (no click, no lost
    frame at any boundary), and without a decoder's complaint. The one difference allowed: a clip's
    last frame rings out into the next one's lead-in (its silence before the speech), which a decoder
    given that clip alone never plays."""
    encoder = ArticleEncoder()
    spoken = [FakeSynthesizer().synthesize("x" * n, VOICE).pcm for n in (3, 40, 1, 17)]  # square waves, hard edges
    pauses = [0.3, 0.1, 1.0, 0.45]  # 0.1 s: no frames of silence, a clip right after a clip
    for n, (pcm, pause) in enumerate(zip(spoken, pauses, strict=True)):
        encoder.add(f"s{n}", pcm, pause)
    audio = encoder.finish("pieces")
    alone, lead_ins = array.array("h"), set()
    for pcm, pause in zip(spoken, pauses, strict=True):
        clip, start = encode_clip(pcm), len(alone)
        lead_ins.update(range(start, start + SPEECH_OFFSET_SAMPLES) if start else ())
        alone += decode(clip.mp3 + silence(pause_frames(clip, pause)))
    whole = decode(audio.mp3)
    assert len(whole) == len(alone)
    differ = [i for i in range(len(whole)) if whole[i] != alone[i]]
    assert differ and set(differ) <= lead_ins  # this edition's 0.1 s pause puts a clip right after a clip
    complaints = subprocess.run([FFMPEG, "-v", "warning", "-i", "pipe:0", "-f", "null", "-"], input=audio.mp3,
                                capture_output=True, check=True).stderr
    assert complaints == b""


def test_pauses_are_heard_as_long_as_asked_to_the_frame() -> None:
    encoder = ArticleEncoder()
    lengths = [5000, 12345, 777, 20000, 3000, 9000]
    pauses = [0.3, 1.0, 0.6, 0.45, 0.1, 0.3]
    for n, (length, pause) in enumerate(zip(lengths, pauses, strict=True)):
        encoder.add(f"s{n}", b"\x00\x60" * length, pause)
    audio = encoder.finish("pauses")
    heard = [SPEECH_OFFSET_SAMPLES, *(round(t.begin * SAMPLE_RATE) for t in audio.timings[1:])]  # speech starts
    for start, length, pause, following in zip(heard, lengths, pauses, [*heard[1:], None], strict=True):
        if following is None:  # the last pause runs to the end of the article
            following = round(audio.duration * SAMPLE_RATE) + SPEECH_OFFSET_SAMPLES
        gap = following - (start + length)
        # to the nearest frame; a pause shorter than a fresh encoder's least (3 frames) to within 1.5 frames
        assert abs(gap - pause * SAMPLE_RATE) <= (FRAME_SAMPLES / 2 if pause >= 0.2 else 1.5 * FRAME_SAMPLES)


@pytest.mark.skipif(shutil.which("ffprobe") is None and not in_ci(), reason="ffprobe is not installed")
def test_ffprobe_agrees_on_the_duration(tmp_path: Path) -> None:
    audio = narrate(EDITION[:1], VOICE, FakeSynthesizer, None, jobs=1)[0]
    (tmp_path / "one.mp3").write_bytes(audio.mp3)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(tmp_path / "one.mp3")],
        capture_output=True, check=True,
    )
    assert float(probe.stdout) == pytest.approx(audio.duration, abs=0.05)


def test_an_article_without_sentences_is_silent() -> None:
    assert narrate([("empty", [])], VOICE, FakeSynthesizer, None, jobs=1) == [ArticleAudio("empty", b"", (), 0.0)]


# --- cache ----------------------------------------------------------------------------------


def test_cache_miss_then_hit(tmp_path: Path) -> None:
    first = narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=2)
    assert len(list(tmp_path.glob("clips/*/*.clip"))) == sum(len(spoken) for _, spoken in EDITION)
    again = narrate(EDITION, VOICE, BrokenSynthesizer, tmp_path, jobs=2)  # no synthesis at all
    assert again == first
    assert not list(tmp_path.rglob(".tmp-*"))


def test_corrupt_or_truncated_clips_are_made_again(tmp_path: Path) -> None:
    first = narrate(EDITION[:1], VOICE, FakeSynthesizer, tmp_path, jobs=1)
    shutil.rmtree(tmp_path / "articles")  # the clip layer under test, not the encoded articles above it
    clips = sorted(tmp_path.glob("clips/*/*.clip"))
    truncated, flipped = clips[0], clips[1]
    truncated.write_bytes(truncated.read_bytes()[:-10])
    data = bytearray(flipped.read_bytes())
    data[-1] ^= 0xFF
    flipped.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match="synthesised although cached"):
        narrate(EDITION[:1], VOICE, BrokenSynthesizer, tmp_path, jobs=1)
    assert narrate(EDITION[:1], VOICE, FakeSynthesizer, tmp_path, jobs=1) == first
    cache = ClipCache(tmp_path)
    assert all(cache.load(path.stem) is not None for path in clips)


def test_an_edit_in_the_middle_of_an_article_speaks_that_sentence_only(tmp_path: Path) -> None:
    narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=2)  # fills the cache
    slug, spoken = EDITION[2]
    middle = len(spoken) // 2
    edited = [*EDITION[:2], (slug, [*spoken[:middle], replace(spoken[middle], spoken="Edited in the middle."),
                                    *spoken[middle + 1:]])]
    clips_before = set(tmp_path.glob("clips/*/*.clip"))
    rebuilt = narrate(edited, VOICE, EditOnlySynthesizer, tmp_path, jobs=2)
    assert rebuilt == narrate(edited, VOICE, FakeSynthesizer, None, jobs=1)  # as a cold build of the edit
    assert len(set(tmp_path.glob("clips/*/*.clip")) - clips_before) == 1


def test_clip_cache_verifies_what_it_reads(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = clip_key("Hello.", VOICE, "fake")
    assert cache.load(key) is None
    cache.store(key, encode_clip(b"\x01\x02" * 100))
    assert cache.load(key) == encode_clip(b"\x01\x02" * 100)
    path = next(tmp_path.glob("clips/*/*.clip"))
    path.write_bytes(b"garbage")
    assert cache.load(key) is None


def test_clip_key_covers_text_voice_and_engine() -> None:
    base = clip_key("Hello  world.", VOICE, "e1")
    assert base == clip_key("Hello world.", VOICE, "e1")  # whitespace is not heard
    assert base != clip_key("Hello world!", VOICE, "e1")
    assert base != clip_key("Hello world.", Voice("en-gb", 160, 1.0), "e1")
    assert base != clip_key("Hello world.", Voice("en-gb", 175, 0.8), "e1")
    assert base != clip_key("Hello world.", Voice("en-us", 175, 1.0), "e1")
    assert base != clip_key("Hello world.", VOICE, "e2")


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "edition-builder"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "edition-builder"


# --- voices ---------------------------------------------------------------------------------

VOICES = [
    ("gmw/en", "English (Great Britain)", ["en-gb"]),
    ("gmw/en-us", "English (America)", ["en-us"]),
    ("gmw/en-gb-x-rp", "English (Received Pronunciation)", ["en-gb-x-rp"]),
]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("en-gb", "gmw/en"), ("EN_GB", "gmw/en"), ("gmw/en-us", "gmw/en-us"), ("en", "gmw/en"),
     ("English (Great Britain)", "gmw/en"), ("received pronunciation", "gmw/en-gb-x-rp")],
)
def test_resolve_voice(requested: str, expected: str) -> None:
    assert resolve_voice(requested, VOICES) == expected


def test_unknown_voice_is_an_error() -> None:
    with pytest.raises(ValueError, match="no speech voice matches 'klingon'"):
        resolve_voice("klingon", VOICES)


# --- the real engine ------------------------------------------------------------------------


def espeak_available() -> bool:
    try:
        Pyttsx3Synthesizer().engine_id()
    except EngineUnavailable:
        return False
    return True


def require_espeak() -> None:
    if not espeak_available():
        if in_ci():
            pytest.fail("espeak-ng is required in CI for the engine test")
        pytest.skip("espeak-ng is not installed")


@pytest.mark.engine
def test_pyttsx3_really_speaks(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    require_espeak()
    spoken = [
        SpokenSentence("e-s0001", "The quick brown fox jumps over the lazy dog.",
                       "The quick brown fox jumps over the lazy dog.", None),
        SpokenSentence("e-s0002", "Hello.", "Hello.", None),
    ]
    articles = [("engine", spoken), ("again", spoken[::-1])]
    audio, again = narrate(articles, VOICE, Pyttsx3Synthesizer, tmp_path, jobs=1)
    fox, hello = (timing.end - timing.begin for timing in audio.timings)
    # Nine words at 175 words a minute is about three seconds; "Hello." under a second, plus pauses.
    assert 1.5 < fox < 6.0
    assert 0.4 < hello < 2.0
    # Other processes (a pool of two, each with its own engine), no cache: the same bytes.
    assert narrate(articles, VOICE, Pyttsx3Synthesizer, None, jobs=2) == [audio, again]
    clip = Pyttsx3Synthesizer().synthesize("Hello.", VOICE)  # in this process, to watch its stdout
    assert clip.sample_rate == SAMPLE_RATE and len(clip.pcm) > SAMPLE_RATE // 2
    assert capfd.readouterr().out == ""  # nothing printed
    assert "pyttsx3" in Pyttsx3Synthesizer().engine_id() and "espeak-ng" in Pyttsx3Synthesizer().engine_id()


@pytest.mark.engine
def test_the_engine_speaks_at_the_rate_asked_for_every_time() -> None:
    require_espeak()
    text = "At times it can feel like the mental health care sector is in crisis; too few beds, too few staff."
    synthesizer = Pyttsx3Synthesizer()
    lengths = {rate: [len(synthesizer.synthesize(text, Voice("en-gb", rate, 1.0)).pcm) for _ in range(3)]
               for rate in (170, 120, 170)}
    # A lost rate setting would leave espeak-ng's previous one: every repeat is the same length.
    assert len(set(lengths[170])) == 1
    assert lengths[120][0] / lengths[170][0] == pytest.approx(170 / 120, rel=0.15)


@pytest.mark.engine
def test_a_clip_does_not_depend_on_what_the_engine_said_before() -> None:
    """espeak-ng's wave generator keeps state from one sentence to the next (pitch flutter, roughness,
    gain): each sentence is spoken by an untouched engine instead, so the same words give the same bytes
    whatever came before them."""
    require_espeak()
    synthesizer = Pyttsx3Synthesizer()
    sentence = "At times it can feel like the mental health care sector is in crisis."
    first = synthesizer.synthesize(sentence, VOICE)
    before = ["Hello.", "A longer sentence, with clauses and a number (1,234), spoken just before.", sentence,
              "Ça va?"]
    for other in before:
        assert synthesizer.synthesize(other, VOICE).pcm
        assert synthesizer.synthesize(sentence, VOICE) == first, f"differs after {other!r}"
    synthesizer.synthesize("Slower.", Voice("en-us", 120, 0.5))  # another voice and rate in between
    assert synthesizer.synthesize(sentence, VOICE) == first


def test_unchanged_articles_are_neither_spoken_nor_encoded_again(tmp_path: Path) -> None:
    first = narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=1)
    # Every article is in the article cache: the broken engine is never asked for a clip.
    assert narrate(EDITION, VOICE, BrokenSynthesizer, tmp_path, jobs=1) == first


def test_a_corrupt_encoded_article_is_made_again_from_its_clips(tmp_path: Path) -> None:
    first = narrate(EDITION[:1], VOICE, FakeSynthesizer, tmp_path, jobs=1)
    (stored,) = (tmp_path / "articles").glob("*.article")
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF
    stored.write_bytes(bytes(data))
    assert ArticleCache(tmp_path).load(stored.stem, EDITION[0][0]) is None
    assert narrate(EDITION[:1], VOICE, FakeSynthesizer, tmp_path, jobs=1) == first
    assert ArticleCache(tmp_path).load(stored.stem, EDITION[0][0]) == first[0]


def speech_helpers_of_this_process() -> int:
    found = 0
    for entry in Path("/proc").iterdir():
        try:
            status, command = (entry / "status").read_text(), (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or one that just ended
            continue
        if f"\nPPid:\t{os.getpid()}\n" in status and b"builder.narration.espeak" in command:
            found += 1
    return found


@pytest.mark.engine
def test_a_narrating_process_keeps_one_speech_helper_for_all_its_sentences() -> None:
    require_espeak()
    synthesizer = Pyttsx3Synthesizer()
    for text in ("One sentence.", "Another sentence.", "A third one."):
        assert synthesizer.synthesize(text, VOICE).pcm
    assert speech_helpers_of_this_process() == 1  # a helper a sentence would be three, each 20 MB, never closed


@pytest.mark.engine
def test_a_sentence_the_engine_cannot_speak_is_an_error_and_the_helper_goes_on() -> None:
    require_espeak()
    helper = Speaker()
    try:
        with pytest.raises(EngineFailed, match="no speech voice matches 'klingon-x'"):
            helper.speak("Hello.", "klingon-x", 170, 1.0)
        assert helper.speak("Hello.", "en-gb", 170, 1.0)  # the same helper, still serving
    finally:
        helper.close()
    assert helper._process is None
