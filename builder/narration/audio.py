"""The audiobook folder: MP3 per article, whole-edition MP3 with chapters, playlist, transcripts.

Every file is a pure function of its inputs (no dates, no tool versions), so two builds of
the same edition give the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TCOM, TCON, TDRC, TIT2, TLAN, TPE1, TPE2, TRCK, CTOCFlags

from builder.narration.credits import NO_CREDITS, NarratorCredits
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import ArticleAudio, StoredAudio

Audio = ArticleAudio | StoredAudio


class Chapter(NamedTuple):
    """One article of the audiobook. A plain (title, audio, sentences) tuple is one with no credits: its
    artist is the publisher and its language the edition's."""

    title: str
    audio: Audio
    sentences: Sequence[SpokenSentence]
    authors: tuple[str, ...] = ()  # the article's authors, in byline order
    language: str = ""  # BCP 47; "" is the edition's
COPY_CHUNK = 1 << 20
GENRE = "Speech"  # ID3v1 genre 101: players file the tracks with spoken word
PLAYLIST = "playlist.m3u8"
MANIFEST = "manifest.json"
CHAPTER_ENCODING = 1  # UTF-16: ID3v2.3 has no UTF-8


def write_audiobook(
    folder: Path,
    edition_title: str,
    artist: str,
    articles: Sequence[Chapter | tuple[str, Audio, Sequence[SpokenSentence]]],
    year: str,
    language: str = "",
    reading: NarratorCredits = NO_CREDITS,
) -> list[Path]:
    """Write the audiobook files into ``folder`` (which must exist); returns their paths. `artist` is the
    publisher (the album artist); each track's artist is its article's authors; `reading` names the narrators."""
    written: list[Path] = []
    chapters = [credited(Chapter(*article), artist, language) for article in articles]
    names = track_names([chapter.audio.slug for chapter in chapters])
    for number, (chapter, name) in enumerate(zip(chapters, names, strict=True), start=1):
        track = _tags(chapter.title, edition_title, chapter.authors, artist, year, [chapter.language], reading)
        track.add(TRCK(encoding=3, text=[f"{number}/{len(chapters)}"]))
        written.append(_write_tagged(folder / f"{name}.mp3", [chapter.audio], track))
        written.append(_write_text(folder / f"{name}.vtt", webvtt(chapter.audio, chapter.sentences)))
    edition_name = edition_file_name(edition_title)
    written.append(_write_edition(folder / edition_name, edition_title, artist, year, chapters, reading))
    written.append(_write_text(folder / PLAYLIST, playlist(edition_title, artist, chapters, names)))
    manifest = readium_manifest(edition_title, artist, year, chapters, names, language, reading.names)
    written.append(_write_text(folder / MANIFEST, manifest))
    return written


def track_names(slugs: Sequence[str]) -> list[str]:
    """Each article's file stem in the folder, numbered so that a file list is the reading order."""
    return [f"{number:02d}-{slug}" for number, slug in enumerate(slugs, start=1)]


def edition_file_name(edition_title: str) -> str:
    """The whole edition's MP3, with every article as a chapter."""
    return f"{slugify(edition_title)}.mp3"


def credited(chapter: Chapter, publisher: str, language: str) -> Chapter:
    return chapter._replace(authors=chapter.authors or (publisher,), language=chapter.language or language)


NAME_LIMIT = 60  # characters of a file name made from a title


def slugify(text: str) -> str:
    """A file name from a title, cut at a word's end (never inside one) to at most NAME_LIMIT characters."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-").split("-")
    name = words[0][:NAME_LIMIT]  # one word longer than the limit is all there is to cut
    for word in words[1:]:
        if len(name) + 1 + len(word) > NAME_LIMIT:
            break
        name += f"-{word}"
    return name or "edition"


def iso639_2(language: str) -> str:
    """ID3's language code (ISO 639-2, three letters: 'fra' for 'fr-CA'); 'und' when it has none."""
    import langcodes  # the speech branch only; CLDR (Babel) has no three-letter codes

    try:
        return langcodes.Language.get(language).to_alpha3()
    except (LookupError, ValueError):
        return "und"


def _tags(title: str, album: str, artists: Sequence[str], album_artist: str, year: str,
          languages: Sequence[str], reading: NarratorCredits = NO_CREDITS) -> ID3:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    tags.add(TALB(encoding=3, text=[album]))
    tags.add(TPE1(encoding=3, text=list(artists)))  # ID3v2.4: one value per author
    tags.add(TPE2(encoding=3, text=[album_artist]))
    tags.add(TCON(encoding=3, text=[GENRE]))
    codes = list(dict.fromkeys(iso639_2(language) for language in languages if language))
    if codes:
        tags.add(TLAN(encoding=3, text=codes))
    if reading.names:  # audiobook tools (mp3tag's audiobook sources, Audiobookshelf) read the narrator here
        tags.add(TCOM(encoding=3, text=list(reading.names)))
    if reading.line:
        tags.add(COMM(encoding=3, lang=codes[0] if codes else "und", desc="", text=[reading.line]))
    if year:
        tags.add(TDRC(encoding=3, text=[year]))
    return tags


def _write_tagged(path: Path, streams: Sequence[Audio], tags: ID3, version: int = 4) -> Path:
    """The ID3 tag, then each stream's MP3 frames, copied in chunks: never a whole edition in memory."""
    tag = io.BytesIO()
    tags.save(tag, v2_version=version)
    with path.open("wb") as out:
        out.write(tag.getvalue())
        for audio in streams:
            with audio.open_mp3() as source:
                shutil.copyfileobj(source, out, COPY_CHUNK)
    return path


def _write_text(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))  # bytes: no platform newline translation
    return path


def _write_edition(path: Path, title: str, artist: str, year: str, articles: Sequence[Chapter],
                   reading: NarratorCredits = NO_CREDITS) -> Path:
    """Article MP3s back to back, one ID3 chapter each.

    Each article stream starts with a fresh bit reservoir, so the frames concatenate
    cleanly; an article's encoder delay and padding stay inside its own duration (its
    timings already count them), so chapter k starts at the sum of earlier durations.
    """
    tags = _tags(title, title, [artist], artist, year, [chapter.language for chapter in articles], reading)
    child_ids = _chapter_ids([chapter.title for chapter in articles])
    start = 0.0
    for element_id, chapter in zip(child_ids, articles, strict=True):
        chapter_title, audio = chapter.title, chapter.audio
        end = start + audio.duration
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(start * 1000),
                end_time=round(end * 1000),
                start_offset=0xFFFFFFFF,  # offsets unused: times are exact
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=CHAPTER_ENCODING, text=[chapter_title])],
            )
        )
        start = end
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=child_ids,
            sub_frames=[TIT2(encoding=3, text=[title])],
        )
    )
    # ID3v2.3, which the chapter addendum was written for and players and audiobook apps read chapters from
    # (its multi-valued frames are joined with "/"); the article tracks keep v2.4's one value per author.
    return _write_tagged(path, [chapter.audio for chapter in articles], tags, version=3)


def _chapter_ids(titles: Sequence[str]) -> list[str]:
    """Element ids that make mutagen write the CHAP frames in reading order.

    mutagen orders frames by size, then by key; ffprobe and many players list chapters in
    file order. Padding each id (one byte a character) so that id + title (UTF-16, as ID3v2.3
    stores text) has the same length in bytes across chapters makes every CHAP frame the same
    size, and then "chp001" < "chp002" < … decides.
    """
    lengths = [len(title.encode("utf-16-le")) for title in titles]
    longest = max(lengths, default=0)
    return [f"chp{number:03d}" + "_" * (longest - length) for number, length in enumerate(lengths, start=1)]


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(audio: ArticleAudio, sentences: Sequence[SpokenSentence]) -> str:
    """A transcript with one cue per sentence, showing the sentence as displayed."""
    shown = {sentence.id: sentence.text for sentence in sentences}
    cues = ["WEBVTT\n"]
    for timing in audio.timings:
        cues.append(
            f"{timing.sentence_id}\n{_vtt_time(timing.begin)} --> {_vtt_time(timing.end)}\n"
            f"{_vtt_escape(shown.get(timing.sentence_id, ''))}\n"
        )
    return "\n".join(cues)


def playlist(title: str, artist: str, articles: Sequence[Chapter], names: Sequence[str]) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for chapter, name in zip(articles, names, strict=True):
        lines.append(f"#EXTINF:{round(chapter.audio.duration)},{', '.join(chapter.authors or (artist,))} - "
                     f"{chapter.title}")
        lines.append(f"{name}.mp3")
    return "\n".join(lines) + "\n"


def readium_manifest(
    title: str, artist: str, year: str, articles: Sequence[Chapter], names: Sequence[str], language: str = "",
    narrators: Sequence[str] = (),
) -> str:
    """A Readium Web Publication Manifest (audiobook profile) for the per-article files: the book's
    languages (the edition's first), its narrators, and each track's own language and authors."""
    reading_order = []
    for chapter, name in zip(articles, names, strict=True):
        item: dict[str, object] = {"href": f"{name}.mp3", "type": "audio/mpeg", "title": chapter.title,
                                   "duration": round(chapter.audio.duration, 3)}
        if chapter.language:
            item["language"] = chapter.language
        reading_order.append(item)
    metadata: dict[str, object] = {
        "@type": "https://schema.org/Audiobook",
        "conformsTo": "https://readium.org/webpub-manifest/profiles/audiobook",
        "title": title,
        "publisher": artist,
        "author": list(dict.fromkeys(name for chapter in articles for name in chapter.authors
                                     if name != artist)) or artist,
        "duration": round(sum(chapter.audio.duration for chapter in articles), 3),
    }
    if narrators:
        metadata["narrator"] = [{"name": name} for name in narrators]
    spoken = list(dict.fromkeys(tag for tag in [language, *(chapter.language for chapter in articles)] if tag))
    if spoken:
        metadata["language"] = spoken[0] if len(spoken) == 1 else spoken
    if year:
        metadata["published"] = year
    manifest = {
        "@context": "https://readium.org/webpub-manifest/context.jsonld",
        "metadata": metadata,
        "readingOrder": reading_order,
        "toc": [{"href": item["href"], "title": item["title"]} for item in reading_order],
    }
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"

