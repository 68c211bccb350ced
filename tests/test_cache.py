"""The cache folder (builder.run.cache): clips kept as MP3 frames and verified, least-recently-used pruning,
`--cache-max` and `python -m builder cache info|prune`."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from edition_fixtures import run_cli, write_edition

from builder.narration.mp3 import FRAME_SAMPLES, SPEECH_OFFSET_SAMPLES, encode_clip, mp3_frame_count
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import (
    ClipCache,
    FakeSynthesizer,
    Pyttsx3Synthesizer,
    Voice,
    narrate,
    pack_clip,
    spoken_clip,
    unpack_clip,
)
from builder.run import cache

VOICE = Voice("en-gb", 175, 1.0)
EDITION = [(slug, [SpokenSentence(f"{slug}-s{n}", f"Sentence {n} of {slug}.", f"Sentence {n} of {slug}.", None)
                   for n in range(count)]) for slug, count in (("one", 6), ("two", 4))]


def noise(samples: int, seed: int = 1) -> bytes:
    generator = random.Random(seed)
    return b"".join(generator.randrange(-30000, 30000).to_bytes(2, "little", signed=True) for _ in range(samples))


@pytest.mark.parametrize("pcm", [noise(5000), b"", b"\x00\x00" * 999, noise(1), noise(576), noise(577)])
def test_a_clip_is_whole_frames_that_hold_every_sample(pcm: bytes) -> None:
    clip = encode_clip(pcm)
    assert clip.frames == mp3_frame_count(clip.mp3)
    # the lead-in (two frames of silence, then LAME's and the decoder's 1105 samples) and padding, whole frames
    lead = clip.samples + SPEECH_OFFSET_SAMPLES
    assert lead <= clip.played < lead + 2 * FRAME_SAMPLES
    assert unpack_clip(pack_clip(clip)) == clip


def test_a_damaged_clip_is_not_believed() -> None:
    data = bytearray(pack_clip(encode_clip(noise(4000))))
    assert unpack_clip(bytes(data[:-40])) is None  # truncated
    data[len(data) // 2] ^= 0x55
    assert unpack_clip(bytes(data)) is None  # a flipped byte in the MP3 frames
    assert unpack_clip(b"EBCLIP02" + bytes(data[8:])) is None  # last format's clip (FLAC)


@pytest.mark.engine
def test_spoken_clips_are_stored_compactly(tmp_path: Path) -> None:
    from test_narration import require_espeak

    require_espeak()
    text = "At times it can feel like the sector is in crisis; too few beds."
    pcm = spoken_clip(Pyttsx3Synthesizer(), text, VOICE).pcm
    ClipCache(tmp_path).store("ab" * 32, encode_clip(pcm))
    (stored,) = (tmp_path / "clips").glob("*/*.clip")
    # 48 kbit/s of 352.8 kbit/s PCM (13.6 %), plus the lead-in and padding frames and a 52-byte header
    assert stored.stat().st_size < 0.16 * len(pcm)
    assert ClipCache(tmp_path).load("ab" * 32) == encode_clip(pcm)


@pytest.mark.parametrize(("text", "size"), [("0", 0), ("500", 500), ("500M", 500 * 10**6), ("2G", 2 * 10**9),
                                            ("1.5Gi", 3 * 2**29), ("64kB", 64000), (" 3 T ", 3 * 10**12)])
def test_sizes_are_read_as_ccache_reads_them(text: str, size: int) -> None:
    assert cache.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "2X", "-1G", "1,5G"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        cache.parse_size(text)


def age(folder: Path, seconds: float) -> None:
    """Make every file below folder look last used `seconds` ago."""
    then = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_pruning_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    first = narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=1)
    age(tmp_path / "clips", 3600)
    age(tmp_path / "articles", 7200)  # older than the clips, until the next build uses them
    assert narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=1) == first  # the encoded articles, used now
    held = cache.usage(tmp_path)
    assert held["clips"].files == 10 and held["articles"].files == 2
    removed, freed = cache.prune(tmp_path, held["articles"].size)
    assert (removed, freed) == (10, held["clips"].size)  # every clip, now older than both articles
    assert cache.usage(tmp_path)["articles"].files == 2
    assert narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=1) == first
    assert cache.prune(tmp_path, 0)[0] == 2
    assert sum(held.size for held in cache.usage(tmp_path).values()) == 0


def test_cache_info_and_prune_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    narrate(EDITION, VOICE, FakeSynthesizer, tmp_path, jobs=1)
    info = run_cli(["cache", "info", "--cache-dir", tmp_path], capsys)
    assert info.code == 0 and f"cache: {tmp_path}" in info.out
    assert any(line.split()[:3] == ["clips", "10", "files"] for line in info.out.splitlines())
    refused = run_cli(["cache", "prune", "--cache-dir", tmp_path], capsys)
    assert refused.code == 1 and "--max" in refused.err
    pruned = run_cli(["cache", "prune", "--max", "0", "--cache-dir", tmp_path], capsys)
    assert pruned.code == 0 and "removed 12 least recently used files" in pruned.out
    assert not list((tmp_path / "clips").rglob("*.clip"))


def test_a_build_with_cache_max_prunes_after_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cache"
    narrate(EDITION, VOICE, FakeSynthesizer, folder, jobs=1)
    age(folder, 86400)
    source = write_edition(tmp_path / "source")
    run = run_cli(["build", source, "-o", tmp_path / "out", "--no-audio", "--no-validate", "--cache-dir", folder,
                   "--cache-max", "1k"], capsys)
    # the 12 aged files first, then what this build kept (builder.run.reuse): its rendered documents and its book
    # (the 64-byte note of which book its output has fits in 1k)
    assert run.code == 0 and "cache: removed 14 least recently used files" in run.out
    assert [path.parent.name for kind in ("products", "prepared") for path in (folder / kind).rglob("*")
            if path.is_file()] == [".published"]
    with pytest.raises(SystemExit) as refused:
        run_cli(["build", source, "--cache-max", "lots"], capsys)
    assert refused.value.code == 2 and "'lots' is not a size" in capsys.readouterr().err
