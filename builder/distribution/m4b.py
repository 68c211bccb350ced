"""The M4B audiobook: AAC in MP4, one chapter per article, cover and tags.

Encoded with PyAV (FFmpeg's libraries, bundled in its wheel: nothing to install on the machine)
using FFmpeg's native AAC encoder and its fast coder, the cheapest it has. An article's MP3 is
cut into pieces at the starts of its clips (each clip's frames decode on their own: see
`mp3.EncodedClip`), where the clip's bytes say so (one clip in `PIECE_CLIPS` on average), and
each piece is encoded on its own and cached by its bytes' digest: the cuts depend only on the clips
beside them, so an edited sentence re-encodes one piece, not the article. The pieces are encoded
by the narration pool's worker that made the article's MP3 (`encode_narrated`: the AAC is a third of
a narrated build's work and shares the pool's cores instead of competing with them), or, in one
process or on a cluster, as each article's narration arrives (`encode_article`, on a thread beside
the narration); their packets are laid end to end in one track. An AAC encoder primes each piece
with 1024 samples and pads it to whole frames, so each piece adds at most two AAC frames (93 ms)
of silence, in the pause before a clip; chapter times are those of the packets laid down. Chapters
are written by FFmpeg's muxer as both a QuickTime chapter track and a Nero `chpl` atom (Apple's
players read the first, mutagen and many Android players the second); tags and the cover are added
with mutagen. No timestamps: the bytes depend only on the audio, the titles and the cover.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import json
import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version
from pathlib import Path

from builder.narration import synthesis
from builder.narration.mp3 import mp3_frames
from builder.narration.synthesis import ArticleAudio, write_atomically
from builder.run.cache import mark_used

SAMPLE_RATE = 22050  # the narration's rate: no resampling
# 32 kbit/s nominal; FFmpeg's fast coder lands near 42 kbit/s on this speech, about the MP3's rate.
BIT_RATE = 32000
FRAME = 1024  # samples in an AAC-LC frame, and the encoder's priming
ENCODER_OPTIONS = {"aac_coder": "fast", "flags": "+bitexact"}
PART_MAGIC = b"EBAAC001"  # a stored piece's packets
M4B_FORMAT = 3  # part of a made M4B's key: bump when muxing or tagging changes what the same pieces make
# A piece ends before a clip whose bytes' digest starts below 256 / PIECE_CLIPS: pieces of ~8 clips (about a
# minute of speech), so an edit re-encodes a minute, and the pieces' priming adds ~0.1 % of silence.
PIECE_CLIPS = 8
MEDIA_KIND_AUDIOBOOK = 2  # iTunes `stik`: files the book with audiobooks, which remember the position


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
    return version("av")  # not `import av`: a reused M4B needs no FFmpeg at all


@dataclass(frozen=True)
class EncodedArticle:
    """An article's AAC: its pieces, stored in `folder` under their keys, and what they were made from."""

    mp3: Path
    clip_starts: tuple[int, ...]
    folder: Path
    keys: tuple[str, ...]
    frames: int  # AAC frames in all its pieces: its chapter's length, known before a packet is read

    def packets(self) -> list[bytes]:
        stored = [_read_part(self.folder / f"{key}.part") for key in self.keys]
        if any(packets is None for packets in stored):  # damaged or pruned since: those pieces are made again
            keys, _ = _encoded_pieces(self.mp3.read_bytes(), self.clip_starts, self.folder)
            stored = [_read_part(self.folder / f"{key}.part") for key in keys]
        return [packet for packets in stored for packet in packets or ()]


def encode_article(mp3: Path, clip_starts: Sequence[int], folder: Path) -> EncodedArticle:
    """Encode an article's pieces into `folder` (the cache's `aac/`, or a build's own), each unless it is there
    already, from the article's MP3 file and the frame where each of its clips starts."""
    starts = tuple(clip_starts)
    keys, frames = encode_pieces(mp3.read_bytes(), starts, folder)
    return EncodedArticle(mp3, starts, folder, keys, frames)


def encode_narrated(folder: Path, skipped: Collection[str], audio: ArticleAudio) -> None:
    """An article's pieces encoded into `folder` by the narration worker that made its MP3 (`synthesis.narrate`'s
    `in_worker`), so that the AAC shares the pool's cores; `encode_article` then finds them there."""
    if audio.slug not in skipped:
        encode_pieces(audio.mp3, synthesis.clip_starts(audio.timings), folder)


def encode_pieces(mp3: bytes, clip_starts: Sequence[int], folder: Path) -> tuple[tuple[str, ...], int]:
    """The pieces' keys and AAC frames, each piece encoded unless it is in `folder`. The keys are kept too, under
    the MP3's digest, so an unchanged article is not even cut again."""
    starts = tuple(clip_starts)
    listing = folder / f"{_digest(_settings().encode(), mp3, repr(starts).encode())}.article"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        known = json.loads(listing.read_text(encoding="ascii"))
        keys, frames = tuple(known["pieces"]), int(known["frames"])
        if all((folder / f"{key}.part").is_file() for key in keys):
            mark_used(listing)  # least recently used goes first when the cache is pruned
            return keys, frames
    keys, frames = _encoded_pieces(mp3, starts, folder)
    write_atomically(listing, json.dumps({"pieces": keys, "frames": frames}).encode("ascii"))
    return keys, frames


@functools.cache
def _settings() -> str:
    return f"{av_version()} {BIT_RATE} {sorted(ENCODER_OPTIONS.items())} {PIECE_CLIPS}"


def _encoded_pieces(mp3: bytes, clip_starts: Sequence[int], folder: Path) -> tuple[tuple[str, ...], int]:
    """Each piece's key, the piece encoded into `folder` unless a sound copy is there; and their AAC frames."""
    keys, frames = [], 0
    for piece in pieces(mp3, clip_starts):
        key = _digest(_settings().encode(), piece)
        path = folder / f"{key}.part"
        if (packets := _read_part(path)) is not None:
            mark_used(path)
        else:
            _write_part(path, packets := _encode(piece))
        keys.append(key)
        frames += len(packets)
    return tuple(keys), frames


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"".join(hashlib.sha256(part).digest() for part in parts)).hexdigest()


def write_m4b(target: Path, titles: Sequence[str], articles: Sequence[EncodedArticle], tags: Tags) -> Path:
    """Write the audiobook to `target` (a staging path), a chapter per article."""
    _mux(target, titles, articles)
    _tag(target, tags)
    return target


def made_from(titles: Sequence[str], articles: Sequence[EncodedArticle], tags: Tags) -> tuple:
    """What a written M4B's bytes depend on, for its key among the cache's products (builder.run.reuse, which
    keeps a made M4B as a hard link, never read into memory): the pieces' keys, which fix its audio, the
    titles, the tags with the cover, and the versions of what encodes and tags it."""
    return (M4B_FORMAT, _settings(), version("mutagen"), list(titles), [list(article.keys) for article in articles],
            tags)


def pieces(mp3: bytes, clip_starts: Sequence[int]) -> list[bytes]:
    """The MP3 cut before the clips (given by their first frames) whose bytes' digest says so."""
    offsets = [offset for offset, _, _ in mp3_frames(mp3)] + [len(mp3)]
    edges = [offsets[frame] for frame in clip_starts] + [len(mp3)]
    cuts = [0] + [begin for begin, end in itertools.pairwise(edges[1:])
                  if hashlib.sha256(mp3[begin:end]).digest()[0] < 256 // PIECE_CLIPS] + [len(mp3)]
    return [mp3[begin:end] for begin, end in itertools.pairwise(cuts) if end > begin]


def _encode(mp3: bytes) -> list[bytes]:
    import av

    encoder = av.CodecContext.create("aac", "w")
    encoder.sample_rate = SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "fltp"
    encoder.bit_rate = BIT_RATE
    encoder.options = dict(ENCODER_OPTIONS)
    encoder.open()
    packets: list[bytes] = []
    with av.open(io.BytesIO(mp3), format="mp3") as source:
        for frame in source.decode(audio=0):
            frame.pts = None  # the encoder counts samples itself
            packets += [bytes(packet) for packet in encoder.encode(frame)]
    packets += [bytes(packet) for packet in encoder.encode(None)]
    return packets


def _write_part(path: Path, packets: list[bytes]) -> None:
    _write_stored(path, b"".join(struct.pack("<I", len(packet)) + packet for packet in packets))


def _read_part(path: Path) -> list[bytes] | None:
    """The stored packets, or None when the file is missing or damaged (then the piece is encoded again)."""
    payload = _read_stored(path)
    if payload is None:
        return None
    packets, offset = [], 0
    while offset < len(payload):
        (size,) = struct.unpack_from("<I", payload, offset)
        packets.append(payload[offset + 4:offset + 4 + size])
        offset += 4 + size
    return packets


def _write_stored(path: Path, payload: bytes) -> None:
    write_atomically(path, PART_MAGIC + hashlib.sha256(payload).digest() + payload)


def _read_stored(path: Path) -> bytes | None:
    """A stored file's payload, checked against its digest; None when it is missing or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(PART_MAGIC) + 32
    payload = data[header:]
    if data[:len(PART_MAGIC)] != PART_MAGIC or hashlib.sha256(payload).digest() != data[len(PART_MAGIC):header]:
        return None
    return payload


def chapter_bounds(frames: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of each chapter, from its articles' AAC frames, in samples of the file's timeline, which
    starts after the first piece's priming (the muxer's edit list skips it); a later piece's priming stays in
    its chapter."""
    bounds, start = [], 0
    for index, count in enumerate(frames):
        length = count * FRAME - (FRAME if index == 0 else 0)
        bounds.append((start, start + length))
        start += length
    return bounds


def _mux(target: Path, titles: Sequence[str], articles: Sequence[EncodedArticle]) -> None:
    """One article's packets in memory at a time: a long edition's AAC never is."""
    import av

    time_base = Fraction(1, SAMPLE_RATE)
    # The ipod muxer with brand M4B: what Apple Books and BookPlayer recognise as an audiobook.
    with av.open(str(target), "w", format="ipod", options={"brand": "M4B "},
                 container_options={"fflags": "+bitexact"}) as output:
        stream = output.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.codec_context.bit_rate = BIT_RATE
        stream.codec_context.options = dict(ENCODER_OPTIONS)  # opened for its stream parameters only
        stream.time_base = time_base
        bounds = chapter_bounds([article.frames for article in articles])
        output.set_chapters([
            {"id": number, "start": start, "end": end, "time_base": time_base, "metadata": {"title": title}}
            for number, (title, (start, end)) in enumerate(zip(titles, bounds, strict=True), start=1)
        ])
        pts = -FRAME  # the first piece's priming, before the timeline's zero
        for article in articles:
            packets = article.packets()
            if len(packets) != article.frames:
                raise RuntimeError(f"{article.mp3.name}: its AAC pieces changed while the M4B was written")
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
