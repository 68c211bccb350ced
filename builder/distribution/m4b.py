"""The M4B audiobook: AAC in MP4, one chapter per article, cover and tags.

Encoded with PyAV (FFmpeg's libraries, bundled in its wheel: nothing to install on the machine)
using FFmpeg's native AAC encoder and its fast coder, the cheapest it has. Each article is encoded
on its own, from the article's MP3 (the narration keeps no PCM), and cached by that MP3's digest,
so a rebuild re-encodes only the articles whose audio changed; the parts' packets are then laid
end to end in one track. An AAC encoder primes each part with 1024 samples, so each chapter starts
with 46 ms of silence and chapter times are those of the packets laid down (each article's chapter
is at most two AAC frames, 93 ms, longer than its MP3). Chapters are written by FFmpeg's muxer as
both a QuickTime chapter track and a Nero `chpl` atom (Apple's players read the first, mutagen and
many Android players the second); tags and the cover are added with mutagen. No timestamps: the
bytes depend only on the audio, the titles and the cover.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from builder.run.cache import mark_used

SAMPLE_RATE = 22050  # the narration's rate: no resampling
# 32 kbit/s nominal; FFmpeg's fast coder lands near 42 kbit/s on this speech, about the MP3's rate.
BIT_RATE = 32000
FRAME = 1024  # samples in an AAC-LC frame, and the encoder's priming
ENCODER_OPTIONS = {"aac_coder": "fast", "flags": "+bitexact"}
PART_MAGIC = b"EBAAC001"
MEDIA_KIND_AUDIOBOOK = 2  # iTunes `stik`: files the book with audiobooks, which remember the position


@dataclass(frozen=True)
class Chapter:
    title: str
    mp3: Path


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str  # the authors, or the publisher
    publisher: str
    year: str
    description: str
    comment: str  # who reads it, in the edition's language: synthetic speech, engine, licence (narration.credits)
    cover: bytes | None = None
    cover_type: str = "image/jpeg"
    narrators: tuple[str, ...] = ()  # each voice's narrator name (the composer atom, as audiobook apps read it)


def file_name(slug: str) -> str:
    return f"{slug}.m4b"


def av_version() -> str:
    import av

    return av.__version__


def write_m4b(target: Path, chapters: Sequence[Chapter], tags: Tags, cache_dir: Path | None = None) -> Path:
    """Write the audiobook to `target` (a staging path); `cache_dir` keeps each article's AAC packets."""
    parts = [encoded_part(chapter.mp3, cache_dir) for chapter in chapters]
    _mux(target, [chapter.title for chapter in chapters], parts)
    _tag(target, tags)
    return target


def encoded_part(mp3: Path, cache_dir: Path | None) -> list[bytes]:
    """The AAC packets of one article, from the cache when its MP3 was encoded before."""
    key = hashlib.sha256(f"{av_version()} {BIT_RATE} {sorted(ENCODER_OPTIONS.items())}".encode())
    with mp3.open("rb") as source:
        key.update(hashlib.file_digest(source, "sha256").digest())
    path = cache_dir / "aac" / f"{key.hexdigest()}.part" if cache_dir is not None else None
    if path is not None and (cached := _read_part(path)) is not None:
        mark_used(path)  # least recently used goes first when the cache is pruned
        return cached
    packets = _encode(mp3)
    if path is not None:
        _write_part(path, packets)
    return packets


def _encode(mp3: Path) -> list[bytes]:
    import av

    encoder = av.CodecContext.create("aac", "w")
    encoder.sample_rate = SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "fltp"
    encoder.bit_rate = BIT_RATE
    encoder.options = dict(ENCODER_OPTIONS)
    encoder.open()
    packets: list[bytes] = []
    with av.open(str(mp3)) as source:
        for frame in source.decode(audio=0):
            frame.pts = None  # the encoder counts samples itself
            packets += [bytes(packet) for packet in encoder.encode(frame)]
    packets += [bytes(packet) for packet in encoder.encode(None)]
    return packets


def _write_part(path: Path, packets: list[bytes]) -> None:
    payload = b"".join(struct.pack("<I", len(packet)) + packet for packet in packets)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(PART_MAGIC + hashlib.sha256(payload).digest() + payload)
    partial.replace(path)  # a reader never sees half a part


def _read_part(path: Path) -> list[bytes] | None:
    """The cached packets, or None when the file is missing or damaged (then the part is encoded again)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(PART_MAGIC) + 32
    payload = data[header:]
    if data[:len(PART_MAGIC)] != PART_MAGIC or hashlib.sha256(payload).digest() != data[len(PART_MAGIC):header]:
        return None
    packets, offset = [], 0
    while offset < len(payload):
        (size,) = struct.unpack_from("<I", payload, offset)
        packets.append(payload[offset + 4:offset + 4 + size])
        offset += 4 + size
    return packets


def chapter_bounds(parts: Sequence[Sequence[bytes]]) -> list[tuple[int, int]]:
    """(start, end) of each chapter in samples of the file's timeline, which starts after the first
    part's priming (the muxer's edit list skips it); a later part's priming stays in its chapter."""
    bounds, start = [], 0
    for index, packets in enumerate(parts):
        length = len(packets) * FRAME - (FRAME if index == 0 else 0)
        bounds.append((start, start + length))
        start += length
    return bounds


def _mux(target: Path, titles: Sequence[str], parts: Sequence[Sequence[bytes]]) -> None:
    import av

    time_base = Fraction(1, SAMPLE_RATE)
    # The ipod muxer with brand M4B: what Apple Books and BookPlayer recognise as an audiobook.
    with av.open(str(target), "w", format="ipod", options={"brand": "M4B "},
                 container_options={"fflags": "+bitexact"}) as output:
        stream = output.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.codec_context.bit_rate = BIT_RATE
        stream.codec_context.options = dict(ENCODER_OPTIONS)  # opened for its stream parameters only
        stream.time_base = time_base
        output.set_chapters([
            {"id": number, "start": start, "end": end, "time_base": time_base, "metadata": {"title": title}}
            for number, (title, (start, end)) in enumerate(zip(titles, chapter_bounds(parts), strict=True), start=1)
        ])
        pts = -FRAME  # the first part's priming, before the timeline's zero
        for packets in parts:
            for data in packets:
                packet = av.Packet(data)
                packet.stream = stream
                packet.time_base = time_base
                packet.pts = packet.dts = pts
                packet.duration = FRAME
                output.mux(packet)
                pts += FRAME


def _tag(target: Path, tags: Tags) -> None:
    from mutagen.mp4 import MP4, MP4Cover

    book = MP4(str(target))
    if book.tags is None:
        book.add_tags()
    values: dict[str, list] = {
        "\xa9nam": [tags.title], "\xa9alb": [tags.title], "\xa9ART": [tags.artist], "aART": [tags.publisher],
        "\xa9gen": ["Audiobook"], "stik": [MEDIA_KIND_AUDIOBOOK], "\xa9cmt": [tags.comment],
    }
    if tags.narrators:
        values["\xa9wrt"] = list(tags.narrators)
    if tags.year:
        values["\xa9day"] = [tags.year]
    if tags.description:
        values["desc"] = [tags.description]
    if tags.cover:
        kind = MP4Cover.FORMAT_PNG if tags.cover_type == "image/png" else MP4Cover.FORMAT_JPEG
        values["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
    for key, value in values.items():
        book.tags[key] = value  # type: ignore[index]
    book.save()
