"""A podcast feed for the audiobook folder: RSS 2.0 with the Apple Podcasts and Podcasting 2.0 namespaces.

One item per article, in reading order (a serial show), each with its MP3 as the enclosure, its length,
a `podcast:chapters` file (JSON Chapters 1.2: the article's headings at the times they are spoken) and
its WebVTT transcript as `podcast:transcript`. Each synthetic voice is credited as such, as a
`podcast:person` with the role narrator. The edition has no web address, so every link is relative to
the feed, which sits beside the files it lists (publish the folder as it is).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from lxml import etree

from builder.distribution.daisy202 import HEADINGS, XHTML_NS, first_sentence, text_of
from builder.narration.synthesis import ClipTiming

FEED = "podcast.xml"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
CHAPTERS_VERSION = "1.2.0"
CHAPTERS_TYPE = "application/json+chapters"


@dataclass(frozen=True)
class Episode:
    number: int
    title: str
    summary: str
    authors: tuple[str, ...]
    audio: Path  # the article's MP3, in the feed's folder
    transcript: str  # its WebVTT file, beside it
    duration: float
    chapters: tuple[tuple[float, str], ...]  # (start in seconds, title)


@dataclass(frozen=True)
class Show:
    title: str
    description: str
    language: str
    publisher: str
    identifier: str
    date: str  # YYYY-MM-DD
    narrators: tuple[str, ...]  # each voice's narrator name (builder.narration.credits), synthetic and so named
    image: str = ""  # file name of the cover, beside the feed


def chapters_of(xhtml: str, timings: Sequence[ClipTiming]) -> tuple[tuple[float, str], ...]:
    """The article's headings, each at the time its first sentence is spoken; the title at zero."""
    begins = {timing.sentence_id: timing.begin for timing in timings}
    tree = etree.fromstring(xhtml.encode("utf-8"))
    found = [(begins[sentence], text_of(heading))
             for heading in tree.iter(*(f"{{{XHTML_NS}}}{name}" for name in HEADINGS))
             if (sentence := first_sentence(heading)) in begins]
    if found:
        found[0] = (0.0, found[0][1])  # the episode starts with its title, whatever the decoder's delay
    return tuple(found)


def chapters_json(show: Show, episode: Episode) -> str:
    document = {
        "version": CHAPTERS_VERSION,
        "title": episode.title,
        "podcastName": show.title,
        "author": ", ".join(episode.authors) or show.publisher,
        "fileName": episode.audio.name,
        "chapters": [{"startTime": round(start, 3), "title": title} for start, title in episode.chapters],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def chapters_name(episode: Episode) -> str:
    return f"{episode.audio.stem}.chapters.json"


def write_podcast(folder: Path, show: Show, episodes: Sequence[Episode]) -> list[Path]:
    """Write the feed and each episode's chapters file into `folder`; returns their paths."""
    written = []
    for episode in episodes:
        path = folder / chapters_name(episode)
        path.write_bytes(chapters_json(show, episode).encode("utf-8"))
        written.append(path)
    feed = folder / FEED
    feed.write_bytes(rss(show, episodes))
    return [*written, feed]


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {key.rstrip("_"): value for key, value in attributes.items()})
    if text is not None:
        element.text = text
    return element


def rss(show: Show, episodes: Sequence[Episode]) -> bytes:
    published = format_datetime(datetime.fromisoformat(show.date).replace(tzinfo=UTC))
    root = etree.Element("rss", nsmap={"itunes": ITUNES, "podcast": PODCAST}, version="2.0")
    channel = _add(root, "channel")
    _add(channel, "title", show.title)
    _add(channel, "description", show.description or show.title)
    _add(channel, "language", show.language)
    _add(channel, "pubDate", published)
    _add(channel, "generator", "edition-builder")
    _add(channel, f"{{{ITUNES}}}author", show.publisher)
    _add(channel, f"{{{ITUNES}}}type", "serial")  # listened to in order, first article first
    _add(channel, f"{{{ITUNES}}}explicit", "false")
    if show.image:
        _add(channel, f"{{{ITUNES}}}image", href=show.image)
    _add(channel, f"{{{PODCAST}}}medium", "audiobook")
    for narrator in show.narrators:
        _add(channel, f"{{{PODCAST}}}person", narrator, role="narrator", group="cast")
    for episode in episodes:
        _item(channel, show, episode, published)
    xml = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode()


def _item(channel: etree._Element, show: Show, episode: Episode, published: str) -> None:
    item = _add(channel, "item")
    _add(item, "title", episode.title)
    _add(item, "description", episode.summary or episode.title)
    _add(item, "guid", f"{show.identifier}#{episode.audio.stem}", isPermaLink="false")
    _add(item, "pubDate", published)
    _add(item, "enclosure", url=episode.audio.name, length=str(episode.audio.stat().st_size), type="audio/mpeg")
    _add(item, f"{{{ITUNES}}}title", episode.title)
    _add(item, f"{{{ITUNES}}}episode", str(episode.number))
    _add(item, f"{{{ITUNES}}}episodeType", "full")
    _add(item, f"{{{ITUNES}}}duration", str(round(episode.duration)))
    _add(item, f"{{{PODCAST}}}episode", str(episode.number))
    _add(item, f"{{{PODCAST}}}chapters", url=chapters_name(episode), type=CHAPTERS_TYPE)
    _add(item, f"{{{PODCAST}}}transcript", url=episode.transcript, type="text/vtt", language=show.language,
         rel="captions")  # timed, a cue per sentence
    # An item's people replace the channel's: name the authors and again the narrator.
    for author in episode.authors:
        _add(item, f"{{{PODCAST}}}person", author, role="author", group="writing")
    for narrator in show.narrators:
        _add(item, f"{{{PODCAST}}}person", narrator, role="narrator", group="cast")

