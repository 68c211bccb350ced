"""Speech synthesis of the marked sentences, clip cache, and MP3 encoding per article.

Articles are narrated in parallel worker processes (synthesis and MP3 encoding). Every clip is
spoken by an engine in the same untouched state (builder.espeak): a clip depends only on its
words, the voice and the engine, so a clip is cached by those alone and an edit re-speaks only
the sentences it changed; the audio never depends on the number of jobs, on which worker
finished first, or on what the cache already held.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import multiprocessing
import os
import struct
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue
from typing import BinaryIO, Protocol, TypeVar

import lameenc

from builder.engines.base import SAMPLE_RATE as SAMPLE_RATE  # re-exported: the build and its tests name these here
from builder.engines.base import Clip as Clip
from builder.engines.base import EngineUnavailable as EngineUnavailable
from builder.engines.base import Synthesizer as Synthesizer
from builder.engines.base import SynthesizerFactory as SynthesizerFactory
from builder.engines.base import Voice as Voice
from builder.engines.espeak_ng import INSTALL_HINT as INSTALL_HINT
from builder.engines.espeak_ng import Pyttsx3Synthesizer as Pyttsx3Synthesizer
from builder.espeak import resolve_voice as resolve_voice
from builder.run.cache import mark_used
from builder.speech import SpokenSentence

# 48 kbit/s CBR: synthetic speech has nothing above 11 kHz, and at 22.05 kHz mono this is
# transparent for it (~21.6 MB an hour). Constant bit rate, because without a Xing table
# readers seek to clipBegin by bytes = time x bitrate, which is exact only for CBR.
MP3_BITRATE_KBPS = 48
# LAME -q 2, its recommended high-quality setting: ~290x real time, still the larger share
# of narration time (espeak-ng speaks at ~500x); -q 5 would encode about twice as fast.
MP3_QUALITY = 2
FRAME_SAMPLES = 576  # one MPEG-2 Layer III frame at 22.05 kHz
# A decoder plays LAME's encoder delay (576) plus its own delay (529) before the first
# input sample, measured with ffmpeg; sentence timings are shifted by it.
DECODER_OFFSET_SAMPLES = 1105
# Part of the cache key: bump when clip processing changes. v3: each clip from an untouched engine.
CLIP_FORMAT = "pcm16-trimmed-v3"
SILENCE_THRESHOLD = 0  # espeak-ng pads with exact zeros; anything else is speech


@dataclass(frozen=True)
class ClipTiming:
    sentence_id: str
    begin: float  # seconds, as played from the article's MP3
    end: float


@dataclass(frozen=True)
class ArticleAudio:
    slug: str
    mp3: bytes
    timings: tuple[ClipTiming, ...]
    duration: float

    def open_mp3(self) -> BinaryIO:
        return io.BytesIO(self.mp3)


@dataclass(frozen=True)
class StoredAudio:
    """An article's audio kept in a file, so that a big edition's audio never sits in memory."""

    slug: str
    path: Path
    timings: tuple[ClipTiming, ...]
    duration: float

    def open_mp3(self) -> BinaryIO:
        return self.path.open("rb")


def store_audio(folder: Path) -> Callable[[ArticleAudio], StoredAudio]:
    """A `keep` for `narrate`: writes each article's MP3 into `folder` as soon as it is made."""

    def keep(audio: ArticleAudio) -> StoredAudio:
        path = folder / f"{audio.slug}.mp3"
        path.write_bytes(audio.mp3)
        return StoredAudio(audio.slug, path, audio.timings, audio.duration)

    return keep


Progress = Callable[[str, int, int], None]

# ---------------------------------------------------------------------------
# Synthesizers
# ---------------------------------------------------------------------------

class FakeSynthesizer:
    """Deterministic tone, 40 ms a character: fast audio for tests."""

    def engine_id(self) -> str:
        return "fake-tone 1"

    def voice_id(self, voice: Voice) -> str:
        return voice.voice

    def synthesize(self, text: str, voice: Voice) -> Clip:
        samples = int(SAMPLE_RATE * (0.1 + 0.04 * len(text)))
        amplitude = int(8000 * voice.volume)
        period = struct.pack("<50h", *([amplitude] * 25 + [-amplitude] * 25))  # 441 Hz square
        pcm = (period * (samples // 50 + 1))[: samples * 2]
        return Clip(pcm, SAMPLE_RATE)


# ---------------------------------------------------------------------------
# Clip cache
# ---------------------------------------------------------------------------

_CACHE_MAGIC = b"EBCLIP02"  # 02: the PCM stored as FLAC
_CACHE_HEADER = struct.Struct("<8sIQ32s")  # magic, sample rate, PCM bytes, sha256 of PCM; then the FLAC stream
# FLAC at its strongest setting: lossless, so a decoded clip is the spoken one to the bit; 55 % of the PCM
# for this speech (58 % at the default), at ~1,300x real time to encode (measured on the edition's clips).
FLAC_LEVEL = 1.0


def clip_key(spoken: str, voice: Voice, engine_id: str, voice_id: str | None = None) -> str:
    """Content address of a clip: what is said, how, and by which engine (never what came before it:
    every clip is spoken by an untouched engine). `voice_id` is the engine's identity of the voice (a model's
    checksum and speaker), by default the voice as configured."""
    text = " ".join(unicodedata.normalize("NFC", spoken).split())
    material = [text, voice.voice if voice_id is None else voice_id, voice.rate, round(voice.volume, 4), engine_id,
                CLIP_FORMAT]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


class ClipCache:
    """Clips on disk as FLAC, written atomically and verified (length and checksum of the decoded PCM) on
    every read; a read marks the clip as used, for least-recently-used pruning."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "clips"

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.clip"

    def load(self, key: str) -> Clip | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        clip = decode_clip(data)
        if clip is not None:
            mark_used(path)
        return clip

    def store(self, key: str, clip: Clip) -> None:
        write_atomically(self._path(key), encode_clip(clip))

    def shipped(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The cached clips among `keys`, encoded as stored, for a remote task."""
        found = {}
        for key in dict.fromkeys(keys):
            with contextlib.suppress(OSError):
                found[key] = self._path(key).read_bytes()
                mark_used(self._path(key))
        return found

    def store_encoded(self, key: str, data: bytes) -> None:
        """A clip a remote task spoke, stored once it decodes and verifies (nothing unreadable is kept)."""
        if decode_clip(data) is None:
            raise RuntimeError(f"a worker sent back a damaged clip ({key})")
        write_atomically(self._path(key), data)


def encode_clip(clip: Clip) -> bytes:
    """A clip as the cache keeps it (and as it travels to a remote worker): header, then FLAC."""
    import numpy
    import soundfile  # loaded only by the processes that store or read clips

    flac = io.BytesIO()
    if clip.pcm:  # libsndfile writes no stream for no samples
        soundfile.write(flac, numpy.frombuffer(clip.pcm, dtype="<i2"), clip.sample_rate, format="FLAC",
                        subtype="PCM_16", compression_level=FLAC_LEVEL)
    header = _CACHE_HEADER.pack(_CACHE_MAGIC, clip.sample_rate, len(clip.pcm), hashlib.sha256(clip.pcm).digest())
    return header + flac.getvalue()


def decode_clip(data: bytes) -> Clip | None:
    """The clip `encode_clip` made, or None when the data is truncated, corrupt or of another format."""
    if len(data) < _CACHE_HEADER.size:
        return None
    magic, rate, length, digest = _CACHE_HEADER.unpack_from(data)
    if magic != _CACHE_MAGIC:
        return None
    pcm = b""
    if length:
        import soundfile

        try:
            samples, _ = soundfile.read(io.BytesIO(data[_CACHE_HEADER.size:]), dtype="int16")
        except (RuntimeError, ValueError, soundfile.LibsndfileError):
            return None
        pcm = samples.astype("<i2").tobytes()
    if len(pcm) != length or hashlib.sha256(pcm).digest() != digest:
        return None  # truncated or corrupt: made again, then replaced
    return Clip(pcm, rate)


def write_atomically(path: Path, data: bytes) -> None:
    """Readers (other builds sharing the cache) see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# ---------------------------------------------------------------------------
# Synthesis in worker processes
# ---------------------------------------------------------------------------


def _trim(pcm: bytes) -> bytes:
    """Drop the engine's leading and trailing silence (its length varies run to run)."""
    samples = memoryview(pcm).cast("h")
    start, end = 0, len(samples)
    while start < end and abs(samples[start]) <= SILENCE_THRESHOLD:
        start += 1
    while end > start and abs(samples[end - 1]) <= SILENCE_THRESHOLD:
        end -= 1
    return pcm[start * 2 : end * 2]


def spoken_clip(synthesizer: Synthesizer, text: str, voice: Voice) -> Clip:
    """One sentence from the engine, checked and trimmed."""
    clip = synthesizer.synthesize(text, voice)
    if clip.sample_rate != SAMPLE_RATE:
        raise RuntimeError(f"speech engine produced {clip.sample_rate} Hz audio, expected {SAMPLE_RATE} Hz")
    trimmed = _trim(clip.pcm)
    if not trimmed and any(ch.isalnum() for ch in text):
        raise RuntimeError(f"speech engine produced no audio for: {text[:60]!r}")
    return Clip(trimmed, SAMPLE_RATE)


@dataclass(frozen=True)
class ArticleJob:
    """What a worker needs to narrate one article: sentence ids, words, cache keys, pauses."""

    slug: str
    sentence_ids: tuple[str, ...]
    spoken: tuple[str, ...]
    keys: tuple[str, ...]
    pauses: tuple[float, ...]  # seconds of silence after each sentence, counted in its clip
    voices: tuple[Voice, ...] = ()  # the voice of each sentence (its language's); () for the narrate() voice


_ARTICLE_MAGIC = b"EBART001"
_ARTICLE_HEADER = struct.Struct("<8sIQ32s")  # magic, timings JSON bytes, MP3 bytes, sha256 of both


def article_key(job: ArticleJob) -> str:
    """Content address of an article's encoded audio: its clips' keys (which cover the words, the voice
    and the engine), its sentence ids, pauses and the encoding."""
    material = [job.keys, job.sentence_ids, job.pauses, MP3_BITRATE_KBPS, MP3_QUALITY, DECODER_OFFSET_SAMPLES,
                CLIP_FORMAT]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).hexdigest()


class ArticleCache:
    """Encoded articles on disk, so an unchanged article is neither spoken nor encoded again.

    Written atomically and verified on every read, like the clips.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "articles"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.article"

    def load(self, key: str, slug: str) -> ArticleAudio | None:
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if len(data) < _ARTICLE_HEADER.size:
            return None
        mark_used(self._path(key))
        magic, json_length, mp3_length, digest = _ARTICLE_HEADER.unpack_from(data)
        body = data[_ARTICLE_HEADER.size :]
        if magic != _ARTICLE_MAGIC or len(body) != json_length + mp3_length or hashlib.sha256(body).digest() != digest:
            return None
        meta = json.loads(body[:json_length])
        timings = tuple(ClipTiming(sentence_id, begin, end) for sentence_id, begin, end in meta["timings"])
        return ArticleAudio(slug, body[json_length:], timings, meta["duration"])

    def store(self, key: str, audio: ArticleAudio) -> None:
        meta = json.dumps({"timings": [[t.sentence_id, t.begin, t.end] for t in audio.timings],
                           "duration": audio.duration}).encode("utf-8")
        body = meta + audio.mp3
        header = _ARTICLE_HEADER.pack(_ARTICLE_MAGIC, len(meta), len(audio.mp3), hashlib.sha256(body).digest())
        write_atomically(self._path(key), header + body)


class ClipStore(Protocol):
    def load(self, key: str) -> Clip | None: ...

    def store(self, key: str, clip: Clip) -> None: ...


class ShippedClips:
    """The clips a client sent with a remote task (encoded as the cache keeps them), and the ones the
    task made, to send back: a remote worker never uses the client's cache folder."""

    def __init__(self, known: dict[str, bytes]) -> None:
        self.known, self.made = known, {}

    def load(self, key: str) -> Clip | None:
        return decode_clip(self.known[key]) if key in self.known else None

    def store(self, key: str, clip: Clip) -> None:
        self.made[key] = encode_clip(clip)


def narrate_article(
    job: ArticleJob,
    factory: SynthesizerFactory,
    voice: Voice,
    clips: ClipStore | None,
    spoken_queue: Queue[str] | None = None,
) -> ArticleAudio:
    """Worker task: reuse or speak each sentence in order and stream it into the MP3 encoder.

    Only one clip is in memory at a time. Each finished sentence is reported on
    ``spoken_queue`` (the article's slug).
    """
    synthesizer: Synthesizer | None = None  # made on the first clip the cache does not have
    encoder = ArticleEncoder()
    voices = job.voices or (voice,) * len(job.spoken)
    for sentence_id, text, key, pause, said_by in zip(job.sentence_ids, job.spoken, job.keys, job.pauses, voices,
                                                       strict=True):
        clip = clips.load(key) if clips is not None else None
        if clip is None:
            synthesizer = synthesizer or factory()
            clip = spoken_clip(synthesizer, text, said_by)
            if clips is not None:
                clips.store(key, clip)
        encoder.add(sentence_id, clip.pcm, pause)
        if spoken_queue is not None:
            spoken_queue.put(job.slug)
    return encoder.finish(job.slug)


def narrate_shipped(job: ArticleJob, factory: SynthesizerFactory, voice: Voice, engine_id: str,
                    known: dict[str, bytes]) -> tuple[ArticleAudio, dict[str, bytes]]:
    """Remote task (a Dask worker): the article's audio and the clips it had to speak, for the client to
    cache. A worker whose engine is not the client's would make other clips under the same keys: refused."""
    here = factory().engine_id()
    if here != engine_id:
        raise RuntimeError(f"this worker's speech engine is {here!r}, the client's {engine_id!r}: install the same"
                           " speech engine (and voice) on every worker")
    clips = ShippedClips(known)
    return narrate_article(job, factory, voice, clips), clips.made


def _pool(jobs: int) -> ProcessPoolExecutor:
    # forkserver: workers never inherit the parent's threads or open files; each keeps its speech
    # helper for every article it narrates.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["builder.narration"])
    return ProcessPoolExecutor(max(1, jobs), mp_context=context)


Kept = TypeVar("Kept")


def narrate(
    articles: Sequence[tuple[str, Sequence[SpokenSentence]]],
    voice: Voice,
    synthesizer_factory: SynthesizerFactory,
    cache_dir: Path | None,
    jobs: int,
    progress: Progress | None = None,
    keep: Callable[[ArticleAudio], Kept] = lambda audio: audio,  # type: ignore[assignment,return-value]
    voice_for: Callable[[str, str], Voice] | None = None,
    scheduler: str | None = None,
) -> list[Kept]:
    """Speak every article's sentences and encode each article to MP3 with measured timings.

    Articles run in parallel, as tasks of the local process pool (`jobs` processes), or of the Dask
    cluster whose scheduler is at `scheduler`; results come back in the given order whatever the
    completion order. Progress is reported per sentence (per article on a cluster). Each article's
    audio passes through `keep` as soon as it is ready (e.g. `store_audio`, so that only one
    article's audio is in memory at a time). Only this process reads and writes the cache.
    """
    synthesizer = synthesizer_factory()
    engine_id = synthesizer.engine_id()  # fails early when there is no engine
    voice_id = functools.cache(synthesizer.voice_id)  # a model's checksum is read once a build

    def voices_of(sentences: Sequence[SpokenSentence]) -> tuple[Voice, ...]:
        """With `voice_for` ((language tag, role) → its voice) each sentence is spoken in its language's voice, a
        question (role) in the question voice."""
        return tuple(voice_for(s.language, s.role) if voice_for else voice for s in sentences)

    work = [
        ArticleJob(
            slug,
            tuple(s.id for s in sentences),
            tuple(s.spoken for s in sentences),
            tuple(clip_key(s.spoken, said_by, engine_id, voice_id(said_by))
                  for s, said_by in zip(sentences, voices_of(sentences), strict=True)),
            tuple(s.pause for s in sentences),
            voices_of(sentences),
        )
        for slug, sentences in articles
    ]
    articles_cache = ArticleCache(cache_dir) if cache_dir is not None else None
    results: dict[int, Kept] = {}
    if articles_cache is not None:
        for index, job in enumerate(work):
            cached = articles_cache.load(article_key(job), job.slug)
            if cached is not None:
                results[index] = keep(cached)
    total = sum(len(job.keys) for job in work)
    done = sum(len(work[index].keys) for index in results)
    if progress is not None and results:
        progress(work[max(results)].slug, done, total)
    to_speak = [index for index in range(len(work)) if index not in results]
    # Longest first, so one long article does not finish alone at the end.
    order = sorted(to_speak, key=lambda i: -len(work[i].keys))

    def finished(index: int, audio: ArticleAudio) -> None:
        if articles_cache is not None:
            articles_cache.store(article_key(work[index]), audio)
        results[index] = keep(audio)

    if to_speak and scheduler is not None:
        clips = ClipCache(cache_dir) if cache_dir is not None else None
        _on_cluster(scheduler, [(work[i], i) for i in order], synthesizer_factory, voice, engine_id, clips,
                    progress, total, done, finished)
    elif to_speak:  # no worker pool at all when every article is cached
        with contextlib.ExitStack() as stack:
            pool = _pool(jobs)
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            queue = None
            if progress is not None:
                queue = stack.enter_context(multiprocessing.get_context("forkserver").Manager()).Queue()
            clip_cache = ClipCache(cache_dir) if cache_dir is not None else None
            futures = {
                pool.submit(narrate_article, work[i], synthesizer_factory, voice, clip_cache, queue): i for i in order
            }
            _collect(futures, queue, progress, total, done, finished)
    return [results[i] for i in range(len(work))]


def _on_cluster(scheduler: str, jobs: Sequence[tuple[ArticleJob, int]], factory: SynthesizerFactory, voice: Voice,
                engine_id: str, clips: ClipCache | None, progress: Progress | None, total: int, done: int,
                finished: Callable[[int, ArticleAudio], None]) -> None:
    """Narrate the articles as Dask tasks: each is sent the clips this process has cached for it, and
    sends back its audio and the clips it spoke, which this process caches."""
    from builder.run import executors  # Dask is imported only by builds that use a cluster

    cluster = executors.dask_cluster(scheduler)
    futures = {cluster.submit(narrate_shipped, job, factory, voice, engine_id,
                              clips.shipped(job.keys) if clips is not None else {}): index for job, index in jobs}
    by_index = {index: job for job, index in jobs}

    def arrived(index: int, outcome: tuple[ArticleAudio, dict[str, bytes]]) -> None:
        nonlocal done
        audio, made = outcome
        if clips is not None:
            for key, data in made.items():
                clips.store_encoded(key, data)
        finished(index, audio)
        done += len(by_index[index].keys)
        if progress is not None:
            progress(by_index[index].slug, done, total)

    _collect(futures, None, None, total, done, arrived)  # type: ignore[arg-type]


def _collect(
    futures: dict[Future[ArticleAudio], int],
    queue: Queue[str] | None,
    progress: Progress | None,
    total: int,
    done: int,
    finished: Callable[[int, ArticleAudio], None],
) -> None:
    """Wait for every article, reporting each spoken sentence as the workers go."""
    pending = set(futures)
    while pending or (queue is not None and done < total):
        ready, pending = wait(pending, timeout=0.05 if queue is not None else None, return_when=FIRST_COMPLETED)
        for future in ready:
            # pop: a finished future holds its article's MP3; the edition's must not pile up here
            finished(futures.pop(future), future.result())  # a worker's error stops the build here
        while queue is not None and progress is not None:
            try:
                slug = queue.get_nowait()
            except Empty:
                break
            done += 1
            progress(slug, done, total)


# ---------------------------------------------------------------------------
# MP3 encoding and measured timings
# ---------------------------------------------------------------------------

def new_encoder() -> lameenc.Encoder:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_out_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    return encoder


class ArticleEncoder:
    """Streams sentence clips into one MP3 and measures where each sentence is heard.

    Encoding runs on a thread of its own (lameenc releases the GIL), so the next sentence is
    spoken while the last one is encoded; one thread keeps the encoder's calls in order.
    """

    def __init__(self) -> None:
        self._encoder = new_encoder()
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._chunks: list[Future[bytes]] = []
        self._ids: list[str] = []
        self._lengths: list[int] = []

    def add(self, sentence_id: str, pcm: bytes, pause: float) -> None:
        """A sentence's speech, then `pause` seconds of silence (part of its clip, as SMIL timings go)."""
        clip = pcm + b"\x00\x00" * round(SAMPLE_RATE * pause)
        self._chunks.append(self._thread.submit(self._encoder.encode, clip))
        self._ids.append(sentence_id)
        self._lengths.append(len(clip) // 2)

    def finish(self, slug: str) -> ArticleAudio:
        if self._ids:  # lameenc refuses to flush an encoder that was given nothing
            self._chunks.append(self._thread.submit(self._encoder.flush))
        self._thread.shutdown(wait=True)
        self._mp3 = bytearray(b"".join(chunk.result() for chunk in self._chunks))
        if not self._ids:
            return ArticleAudio(slug, b"", (), 0.0)
        played = mp3_frame_count(bytes(self._mp3)) * FRAME_SAMPLES
        # The first clip absorbs the decoder's lead-in, the last one the final frame's padding.
        starts = [0]
        for length in self._lengths[:-1]:
            starts.append(starts[-1] + length)
        edges = [0, *(DECODER_OFFSET_SAMPLES + start for start in starts[1:]), played]
        timings = tuple(
            ClipTiming(sentence_id, edges[i] / SAMPLE_RATE, edges[i + 1] / SAMPLE_RATE)
            for i, sentence_id in enumerate(self._ids)
        )
        return ArticleAudio(slug, bytes(self._mp3), timings, played / SAMPLE_RATE)


_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frames(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(offset, length, samples) of each MPEG Layer III frame, after any ID3v2 tag."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        offset = 10 + size
    while offset + 4 <= len(data) and data[offset : offset + 3] != b"TAG":  # ID3v1 ends the audio
        header = int.from_bytes(data[offset : offset + 4], "big")
        version = header >> 19 & 3
        if header >> 21 != 0x7FF or header >> 17 & 3 != 1 or version == 1:
            raise ValueError(f"not an MPEG Layer III frame at byte {offset}")
        bitrate = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[header >> 12 & 15] * 1000
        rate = _RATES[version][header >> 10 & 3]
        samples = 1152 if version == 3 else 576
        length = samples // 8 * bitrate // rate + (header >> 9 & 1)
        if length <= 0 or offset + length > len(data):
            raise ValueError(f"truncated MPEG frame at byte {offset}")
        yield offset, length, samples
        offset += length


def mp3_frame_count(data: bytes) -> int:
    return sum(1 for _ in mp3_frames(data))
