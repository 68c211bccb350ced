"""The audiobook folder (builder.narration.audio): tags, chapters, playlist, transcripts."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import in_ci
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3

from builder.narration.audio import write_audiobook
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import ArticleAudio, FakeSynthesizer, Voice, narrate

# Titles of uneven length, out of length order: the chapters must still be written in order.
TITLES = ["Editor's note", "Compassion & care: <why> it matters", "Ω", "The Lemon Tree"]
SLUGS = ["editors-note", "compassion", "omega", "lemon-tree"]


def spoken(prefix: str, count: int) -> list[SpokenSentence]:
    return [SpokenSentence(f"{prefix}-s{n:04d}", f"Line {n} of {prefix} & more.", f"Line {n} of {prefix}.", None)
            for n in range(1, count + 1)]


@pytest.fixture(scope="module")
def chapters() -> list[tuple[str, ArticleAudio, list[SpokenSentence]]]:
    texts = [spoken("note", 4), spoken("care", 9), spoken("omega", 1), spoken("lemon", 3)]
    audios = narrate(list(zip(SLUGS, texts, strict=True)), Voice("en-gb", 175, 1.0), FakeSynthesizer, None, jobs=2)
    return [(title, audio, text) for title, audio, text in zip(TITLES, audios, texts, strict=True)]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, chapters: list) -> Path:
    folder = tmp_path_factory.mktemp("audiobook")
    written = write_audiobook(folder, "iMind Spring 2025", "Royal College of Psychiatrists", chapters, "2025")
    assert sorted(written) == sorted(folder.iterdir())
    return folder


def test_files(book: Path) -> None:
    assert sorted(path.name for path in book.iterdir()) == [
        "01-editors-note.mp3", "01-editors-note.vtt", "02-compassion.mp3", "02-compassion.vtt",
        "03-omega.mp3", "03-omega.vtt", "04-lemon-tree.mp3", "04-lemon-tree.vtt",
        "imind-spring-2025.mp3", "manifest.json", "playlist.m3u8",
    ]


def test_article_tags(book: Path) -> None:
    tags = ID3(book / "02-compassion.mp3")
    assert tags["TIT2"].text == [TITLES[1]]
    assert tags["TALB"].text == ["iMind Spring 2025"]
    assert tags["TPE1"].text == ["Royal College of Psychiatrists"]
    assert tags["TRCK"].text == ["2/4"]
    assert str(tags["TDRC"].text[0]) == "2025"


def test_edition_chapters_via_mutagen(book: Path, chapters: list) -> None:
    tags = ID3(book / "imind-spring-2025.mp3")
    toc = tags.getall("CTOC")[0]
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    chaps = [tags[f"CHAP:{element_id}"] for element_id in toc.child_element_ids]
    assert [chap.sub_frames["TIT2"].text[0] for chap in chaps] == TITLES
    edges = list(itertools.accumulate((audio.duration for _, audio, _ in chapters), initial=0.0))
    assert [(c.start_time, c.end_time) for c in chaps] == [
        (round(start * 1000), round(end * 1000)) for start, end in itertools.pairwise(edges)
    ]
    assert MP3(book / "imind-spring-2025.mp3").info.length == pytest.approx(edges[-1], abs=0.05)


def test_edition_chapters_via_ffprobe(book: Path, chapters: list) -> None:
    if shutil.which("ffprobe") is None:
        pytest.fail("ffprobe is missing: run scripts/setup.sh") if in_ci() else pytest.skip("ffprobe is missing")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(book / "imind-spring-2025.mp3")],
        capture_output=True, check=True, text=True,
    )
    found = json.loads(probe.stdout)["chapters"]
    assert [chapter["tags"]["title"] for chapter in found] == TITLES  # in reading order
    edges = list(itertools.accumulate((audio.duration for _, audio, _ in chapters), initial=0.0))
    assert [float(chapter["start_time"]) for chapter in found] == pytest.approx(edges[:-1], abs=0.001)
    assert float(found[-1]["end_time"]) == pytest.approx(edges[-1], abs=0.001)


def test_playlist(book: Path, chapters: list) -> None:
    lines = (book / "playlist.m3u8").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[2] == f"#EXTINF:{round(chapters[0][1].duration)},Royal College of Psychiatrists - Editor's note"
    assert lines[3] == "01-editors-note.mp3"
    assert lines[5] == "02-compassion.mp3"


def test_webvtt_transcript(book: Path, chapters: list) -> None:
    vtt = (book / "01-editors-note.vtt").read_text(encoding="utf-8")
    blocks = vtt.split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert len(blocks) == 1 + 4
    assert blocks[1].splitlines()[0] == "note-s0001"
    assert blocks[1].splitlines()[1].startswith("00:00:00.000 --> 00:00:0")
    assert blocks[1].splitlines()[2] == "Line 1 of note &amp; more."  # displayed text, escaped
    end = chapters[0][1].duration
    assert blocks[-1].splitlines()[1].endswith(f"--> 00:00:{end:06.3f}")


def test_readium_manifest(book: Path) -> None:
    manifest = json.loads((book / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["@type"] == "https://schema.org/Audiobook"
    assert [item["href"] for item in manifest["readingOrder"]] == [
        "01-editors-note.mp3", "02-compassion.mp3", "03-omega.mp3", "04-lemon-tree.mp3"
    ]


def test_same_bytes_every_time(book: Path, chapters: list, tmp_path: Path) -> None:
    write_audiobook(tmp_path, "iMind Spring 2025", "Royal College of Psychiatrists", chapters, "2025")
    for path in book.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_edition_mp3_is_id3v23_with_a_top_level_ordered_toc(book: Path) -> None:
    """ID3v2.3 for the chapters, the version the chapter addendum was written for and audiobook apps read;
    article tracks stay ID3v2.4 (one value per author)."""
    assert ID3(book / "imind-spring-2025.mp3").version == (2, 3, 0)
    assert ID3(book / "01-editors-note.mp3").version == (2, 4, 0)
    tocs = ID3(book / "imind-spring-2025.mp3").getall("CTOC")
    assert len(tocs) == 1 and tocs[0].flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED


def test_tracks_credit_their_authors_and_languages(tmp_path: Path, chapters: list) -> None:
    """Each track's artist is its article's authors and its language is the article's; the album artist is
    the publisher; the Readium manifest lists the book's languages, the edition's first."""
    from builder.narration.audio import Chapter

    credited = [Chapter(*chapters[0], ("Dr A Writer", "B Writer"), "en-GB"),
                Chapter(*chapters[1], ("Franz K",), "de"), Chapter(*chapters[2], (), "fr-CA"), chapters[3]]
    write_audiobook(tmp_path, "An edition", "The Press", credited, "2026", "en-GB")
    first, second, third, fourth = (ID3(tmp_path / f"{name}.mp3") for name in
                                    ("01-editors-note", "02-compassion", "03-omega", "04-lemon-tree"))
    assert first["TPE1"].text == ["Dr A Writer", "B Writer"] and first["TPE2"].text == ["The Press"]
    assert second["TPE1"].text == ["Franz K"] and second["TLAN"].text == ["deu"]
    assert third["TPE1"].text == ["The Press"] and third["TLAN"].text == ["fra"]  # no authors: the publisher
    assert fourth["TLAN"].text == ["eng"]  # a plain (title, audio, sentences) chapter: the edition's language
    whole = ID3(tmp_path / "an-edition.mp3")
    assert whole["TPE2"].text == ["The Press"] and whole["TLAN"].text == ["eng/deu/fra"]  # ID3v2.3's separator
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["language"] == ["en-GB", "de", "fr-CA"]
    assert manifest["metadata"]["author"] == ["Dr A Writer", "B Writer", "Franz K"]
    assert [item["language"] for item in manifest["readingOrder"]] == ["en-GB", "de", "fr-CA", "en-GB"]
    playlist = (tmp_path / "playlist.m3u8").read_text(encoding="utf-8")
    assert ",Dr A Writer, B Writer - Editor's note" in playlist


def test_file_names_are_never_cut_inside_a_word() -> None:
    from builder.narration.audio import slugify

    name = slugify("iMind: The Magazine of the General Adult Faculty, Spring Edition No. 3 Winter 2025")
    assert name == "imind-the-magazine-of-the-general-adult-faculty-spring"
    assert len(name) <= 60
    assert slugify("Ω") == "edition"
    assert len(slugify("a" * 80)) == 60  # one word longer than the limit: all there is to cut
