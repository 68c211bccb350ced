"""The podcast feed (builder.distribution.podcast): RSS 2.0 read by feedparser (the parser many podcast
tools use), Podcasting 2.0 chapters and transcripts checked against the namespace's rules.

The Podcast Namespace publishes an XSD, but it is not among the schemas in ../shared, and the tests fetch
nothing: the JSON Chapters 1.2 rules are checked here as its specification states them."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from conftest import SOURCE
from distribution_fixtures import fake_build, narrated_edition
from lxml import etree
from mutagen.mp3 import MP3

from builder.distribution import podcast
from builder.run.build import BuildResult
from builder.sources import load_edition

NS = {"podcast": podcast.PODCAST, "itunes": podcast.ITUNES}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = narrated_edition(tmp_path_factory.mktemp("podcast-source"))
    output = tmp_path_factory.mktemp("podcast-output")
    fake_build(source, output, jobs=1, cache=None)
    return output / "fixture-edition-audio"


def check_chapters(path: Path) -> list[dict]:
    """JSON Chapters 1.2: `version` a string and `chapters` an array, each with a numeric startTime, in
    ascending order."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document["version"], str) and document["version"].startswith("1.2")
    chapters = document["chapters"]
    assert isinstance(chapters, list) and chapters
    starts = [chapter["startTime"] for chapter in chapters]
    assert all(isinstance(start, int | float) and start >= 0 for start in starts)
    assert starts == sorted(starts) and starts[0] == 0
    assert all(isinstance(chapter["title"], str) and chapter["title"] for chapter in chapters)
    return chapters


def test_feedparser_reads_one_episode_per_article(folder: Path) -> None:
    feed = feedparser.parse(str(folder / "podcast.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "Fixture Edition" and feed.feed.language == "en-GB"
    assert feed.feed.podcast_medium == "audiobook" and feed.feed.itunes_type == "serial"
    assert [entry.title for entry in feed.entries] == ["The First Piece", "The Second Piece"]
    for number, entry in enumerate(feed.entries, start=1):
        (enclosure,) = entry.enclosures
        audio = folder / enclosure["href"]  # relative to the feed
        assert enclosure["type"] == "audio/mpeg" and int(enclosure["length"]) == audio.stat().st_size
        assert int(entry.itunes_duration) == round(MP3(audio).info.length)
        assert entry.itunes_episode == str(number) and entry.podcast_episode == str(number)
        assert entry.podcast_transcript == {"url": audio.with_suffix(".vtt").name, "type": "text/vtt",
                                            "language": "en-GB", "rel": "captions"}
        assert (folder / entry.podcast_transcript["url"]).read_text(encoding="utf-8").startswith("WEBVTT")
        assert entry.podcast_chapters["type"] == "application/json+chapters"
        check_chapters(folder / entry.podcast_chapters["url"])
    assert len({entry.id for entry in feed.entries}) == 2


def test_chapters_are_the_headings_at_their_spoken_times(folder: Path) -> None:
    chapters = check_chapters(folder / "01-first.chapters.json")
    assert [chapter["title"] for chapter in chapters] == ["The First Piece", "A section", "Notes"]
    cues = (folder / "01-first.vtt").read_text(encoding="utf-8").split("\n\n")
    section = next(cue for cue in cues if cue.rstrip().endswith("\nA section"))
    begin = section.splitlines()[1].split(" --> ")[0]
    minutes, seconds = begin.split(":")[1:]
    assert chapters[1]["startTime"] == pytest.approx(int(minutes) * 60 + float(seconds), abs=0.001)
    assert check_chapters(folder / "02-second.chapters.json") == [{"startTime": 0.0, "title": "The Second Piece"}]


def test_the_synthetic_narrator_is_credited_as_such(folder: Path) -> None:
    feed = etree.parse(str(folder / "podcast.xml"))
    narrators = feed.xpath("//podcast:person[@role='narrator']/text()", namespaces=NS)
    assert len(narrators) == 3  # the show's, and each episode's (an item's people replace the show's)
    assert all("synthetic voice" in name for name in narrators)
    assert feed.xpath("//item[1]/podcast:person[@role='author']/text()", namespaces=NS) == ["Ada Writer"]
    artwork = feed.find("channel/itunes:image", NS).get("href")
    assert (folder / artwork).read_bytes()[:3] == b"\xff\xd8\xff"


def test_imind_feed_has_sixteen_episodes(full_build: tuple[Path, BuildResult]) -> None:
    feed = feedparser.parse(str(full_build[0] / "imind-spring-2025-audio" / "podcast.xml"))
    assert not feed.bozo
    assert [entry.title for entry in feed.entries] == [a.title for a in load_edition(SOURCE).edition.articles]
    assert "imind-spring-2025-audio/podcast.xml" in full_build[1].report["formats"]
