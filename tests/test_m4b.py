"""The M4B audiobook (builder.distribution.m4b): AAC in MP4, chapters, tags, cover, reproducible bytes.

Read back by ffprobe (FFmpeg, as most players decode it) and by mutagen (the Nero chapter list)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import SOURCE, in_ci
from distribution_fixtures import fake_build, narrated_edition
from edition_fixtures import article, write_edition
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4

from builder.distribution import m4b
from builder.narration import synthesis
from builder.narration.mp3 import encode_clip
from builder.run.build import BuildResult
from builder.sources import load_edition

TITLES = ["The First Piece", "The Second Piece"]
# An article's chapter is its MP3's length plus each piece's AAC priming and padding: at most two frames a piece.
SLACK = 2 * m4b.FRAME / m4b.SAMPLE_RATE


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return narrated_edition(tmp_path_factory.mktemp("m4b-source"))


@pytest.fixture(scope="module")
def built(edition: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("m4b-output")
    fake_build(edition, output, jobs=1, cache=None)
    return output


def probe(path: Path) -> dict:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: run scripts/setup.sh") if in_ci() else pytest.skip("ffprobe is missing")
    run = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_streams", "-show_format", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def article_durations(output: Path) -> list[float]:
    folder = next(output.glob("*-audio"))
    return [MP3(path).info.length for path in sorted(folder.glob("[0-9][0-9]-*.mp3"))]


def test_ffprobe_reads_aac_chapters_and_the_cover(built: Path) -> None:
    found = probe(built / "fixture-edition.m4b")
    assert found["format"]["tags"]["major_brand"].strip() == "M4B"
    audio = [stream for stream in found["streams"] if stream["codec_type"] == "audio"]
    assert [(stream["codec_name"], stream["profile"], stream["sample_rate"]) for stream in audio] == [
        ("aac", "LC", "22050")]
    covers = [stream for stream in found["streams"] if stream["disposition"].get("attached_pic")]
    assert len(covers) == 1
    chapters = found["chapters"]
    assert [chapter["tags"]["title"] for chapter in chapters] == TITLES
    assert float(chapters[0]["start_time"]) == 0
    for previous, following in itertools.pairwise(chapters):
        assert previous["end_time"] == following["start_time"]
    for chapter, duration in zip(chapters, article_durations(built), strict=True):
        length = float(chapter["end_time"]) - float(chapter["start_time"])
        assert duration - 0.002 <= length <= duration + SLACK, (chapter["tags"]["title"], length, duration)


def test_mutagen_reads_chapters_tags_and_cover(built: Path, edition: Path) -> None:
    book = MP4(built / "fixture-edition.m4b")
    assert [chapter.title for chapter in book.chapters] == TITLES
    starts = [chapter.start for chapter in book.chapters]
    assert starts[0] == 0 and starts[1] == pytest.approx(article_durations(built)[0], abs=SLACK)
    tags = book.tags
    assert tags["\xa9nam"] == ["Fixture Edition"] and tags["\xa9alb"] == ["Fixture Edition"]
    assert tags["\xa9ART"] == ["Test Press"] and tags["\xa9day"] == ["2025"]
    assert tags["stik"] == [m4b.MEDIA_KIND_AUDIOBOOK] and tags["\xa9gen"] == ["Audiobook"]
    assert "synthetic voice" in tags["\xa9cmt"][0]
    cover = bytes(tags["covr"][0])
    assert cover[:3] == b"\xff\xd8\xff"  # the edition has no cover: the drawn JPEG one
    assert book.info.length == pytest.approx(sum(article_durations(built)), abs=2 * SLACK)


def test_the_report_lists_it(built: Path) -> None:
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    entry = report["formats"]["fixture-edition.m4b"]
    assert entry["format"].startswith("M4B")
    assert entry["sha256"] == hashlib.sha256((built / "fixture-edition.m4b").read_bytes()).hexdigest()


def test_same_bytes_for_any_jobs_and_cache_state_and_a_damaged_cache(edition: Path, built: Path,
                                                                      tmp_path: Path) -> None:
    digest = hashlib.sha256((built / "fixture-edition.m4b").read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    for jobs, run in ((2, "cold"), (1, "warm")):
        fake_build(edition, tmp_path / run, jobs=jobs, cache=cache)
        assert hashlib.sha256((tmp_path / run / "fixture-edition.m4b").read_bytes()).hexdigest() == digest, run
    parts = sorted((cache / "aac").glob("*.part"))
    assert len(parts) == len(book_pieces(built))  # each piece once: a rebuild re-encodes only what changed
    (made,) = (cache / "products").glob(f"*.{digest}")  # the M4B itself, for a rebuild with nothing changed
    for stored in (parts[0], made):
        damaged = bytearray(stored.read_bytes())
        damaged[-1] ^= 0xFF
        stored.write_bytes(bytes(damaged))
    fake_build(edition, tmp_path / "damaged", jobs=1, cache=cache)
    assert hashlib.sha256((tmp_path / "damaged" / "fixture-edition.m4b").read_bytes()).hexdigest() == digest
    (kept,) = (cache / "products").glob(f"*.{digest}")  # made again and kept whole
    assert m4b._read_part(parts[0]) is not None and hashlib.sha256(kept.read_bytes()).hexdigest() == digest


def test_a_pool_encodes_the_aac_in_its_workers(edition: Path, built: Path, tmp_path: Path) -> None:
    """The AAC shares the pool's cores (its workers encode each article they narrate), so this process, which a
    patch forbids to encode, only lays the packets down; the bytes are a one-process build's."""

    def encoded_here(*_: object) -> None:
        raise AssertionError("the build's own process encoded an article's AAC")

    with pytest.MonkeyPatch.context() as patch:  # the spawned workers import m4b afresh, unpatched
        patch.setattr(m4b, "_encoded_pieces", encoded_here)
        fake_build(edition, tmp_path / "pool", jobs=2, cache=tmp_path / "cache")
    assert (tmp_path / "pool" / "fixture-edition.m4b").read_bytes() == (built / "fixture-edition.m4b").read_bytes()


def book_pieces(output: Path) -> list[bytes]:
    """The pieces the M4B was encoded from, cut again from the narrated EPUB's MP3s and SMIL timings."""
    pieces = []
    with zipfile.ZipFile(next(output.glob("*-narrated.epub"))) as book:
        for name in sorted(name for name in book.namelist() if name.startswith("EPUB/smil/")):
            begins = [float(value) for value in re.findall(r'clipBegin="([0-9.]+)s"', book.read(name).decode())]
            timings = [synthesis.ClipTiming("", begin, begin) for begin in begins]
            mp3 = book.read(name.replace("smil/", "audio/").replace(".smil", ".mp3"))
            pieces += m4b.pieces(mp3, synthesis.clip_starts(timings))
    return pieces


def test_pieces_are_cut_only_where_clips_start_and_hold_the_whole_mp3() -> None:
    clips = [encode_clip(bytes([n % 251, 0]) * (2000 + 700 * n)) for n in range(40)]
    mp3 = b"".join(clip.mp3 for clip in clips)
    starts = list(itertools.accumulate((clip.frames for clip in clips[:-1]), initial=0))
    pieces = m4b.pieces(mp3, starts)
    assert b"".join(pieces) == mp3
    clip_edges = set(itertools.accumulate((len(clip.mp3) for clip in clips), initial=0))
    assert set(itertools.accumulate((len(piece) for piece in pieces), initial=0)) <= clip_edges
    assert 1 < len(pieces) < len(clips)  # about one clip in PIECE_CLIPS starts a piece


def test_an_edit_mid_article_encodes_one_piece_again(tmp_path: Path) -> None:
    # Of many lengths: the fake engine's clip is a tone as long as the text, so equal lengths would be equal clips.
    sentences = [f"Sentence number {n} says{' so' * (n * 5 % 11)} something about {n * 7} things." for n in range(60)]
    long = article("\n\n".join(" ".join(sentences[n:n + 3]) for n in range(0, 60, 3)) + "\n", title="Long")
    source = tmp_path / "source"
    write_edition(source, {"long": long})
    (source / "pronunciation.toml").write_text("", encoding="utf-8")
    cache = tmp_path / "cache"
    fake_build(source, tmp_path / "cold", jobs=1, cache=cache)
    before = set((cache / "aac").glob("*.part"))
    assert len(before) >= 3  # the article is in several pieces
    text = (source / "articles" / "long.md").read_text(encoding="utf-8")
    added = "about 217 things. A sentence added by an editor."  # after sentence 31: every later clip moves
    (source / "articles" / "long.md").write_text(text.replace("about 217 things.", added), encoding="utf-8")
    fake_build(source, tmp_path / "edited", jobs=1, cache=cache)
    assert len(set((cache / "aac").glob("*.part")) - before) <= 2  # its piece (split in two at most)
    fake_build(source, tmp_path / "fresh", jobs=1, cache=None)
    assert (tmp_path / "edited" / "fixture-edition.m4b").read_bytes() == (
        tmp_path / "fresh" / "fixture-edition.m4b").read_bytes()


def test_an_m4b_made_before_is_reused_only_for_the_same_audio_titles_and_tags(edition: Path, built: Path,
                                                                               tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(edition, source)
    cache = tmp_path / "cache"
    fake_build(source, tmp_path / "first", jobs=1, cache=cache)
    manifest = source / "edition.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'slug = ', 'description = "A description the first build did not have."\nslug = '), encoding="utf-8")
    fake_build(source, tmp_path / "second", jobs=1, cache=cache)  # same audio, other tags
    fake_build(source, tmp_path / "fresh", jobs=1, cache=None)
    second = (tmp_path / "second" / "fixture-edition.m4b").read_bytes()
    assert MP4(tmp_path / "second" / "fixture-edition.m4b").tags["desc"] == ["A description the first build did not"
                                                                            " have."]
    assert second == (tmp_path / "fresh" / "fixture-edition.m4b").read_bytes()
    first = (tmp_path / "first" / "fixture-edition.m4b").read_bytes()
    assert first != second
    kept = {path.suffix[1:] for path in (cache / "products").iterdir()}
    assert {hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()} <= kept  # each kept
    fake_build(source, tmp_path / "third", jobs=1, cache=cache)  # nothing changed: the same file taken
    assert (tmp_path / "third" / "fixture-edition.m4b").stat().st_ino in {
        path.stat().st_ino for path in (cache / "products").iterdir()}


def test_chapter_bounds_skip_only_the_first_priming() -> None:
    assert m4b.chapter_bounds([10, 5, 1]) == [(0, 9 * 1024), (9 * 1024, 14 * 1024), (14 * 1024, 15 * 1024)]


def test_imind_m4b_has_a_chapter_per_article(full_build: tuple[Path, BuildResult]) -> None:
    found = probe(full_build[0] / "imind-spring-2025.m4b")
    titles = [article.title for article in load_edition(SOURCE).edition.articles]
    assert [chapter["tags"]["title"] for chapter in found["chapters"]] == titles
    assert [chapter.title for chapter in MP4(full_build[0] / "imind-spring-2025.m4b").chapters] == titles
