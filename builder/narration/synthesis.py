"""Speech synthesis of the marked sentences, clip cache, and each article's MP3 (builder.narration.mp3's frames).

Articles are narrated in parallel worker processes (synthesis and MP3 encoding), or in threads sharing one
engine. Every clip is spoken by an engine in the same untouched state (builder.narration.espeak): a clip
depends only on its words, the voice and the engine, so a clip is cached by those alone and an edit re-speaks only
the sentences it changed; the audio never depends on the number of jobs, on which worker
finished first, or on what the cache already held.

Each clip is encoded on its own, by a fresh LAME encoder, into whole MP3 frames (and each pause into
frames of silence), and an article's MP3 is those frames one after another: an edit re-encodes only
the clips it changed, and the cache keeps clips as the frames the article is made of.
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
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from queue import Empty, Queue
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar

from builder.narration.engines.base import (
    SAMPLE_RATE as SAMPLE_RATE,  # re-exported: the build and its tests name these here
)
from builder.narration.engines.base import Clip as Clip
from builder.narration.engines.base import EngineUnavailable as EngineUnavailable
from builder.narration.engines.base import Synthesizer as Synthesizer
from builder.narration.engines.base import SynthesizerFactory as SynthesizerFactory
from builder.narration.engines.base import Voice as Voice
from builder.narration.engines.base import speaks_in_threads
from builder.narration.engines.espeak_ng import INSTALL_HINT as INSTALL_HINT
from builder.narration.engines.espeak_ng import Pyttsx3Synthesizer as Pyttsx3Synthesizer
from builder.narration.espeak import resolve_voice as resolve_voice
from builder.narration.mp3 import (
    DECODER_OFFSET_SAMPLES,
    FRAME_SAMPLES,
    MP3_BITRATE_KBPS,
    MP3_QUALITY,
    SPEECH_OFFSET_SAMPLES,
    EncodedClip,
    encode_clip,
    mp3_frame_count,
    pause_frames,
    silence,
)
from builder.run import reuse
from builder.run.cache import mark_used

if TYPE_CHECKING:  # not imported by the workers, which only speak: sentence marking is this process's
    from builder.narration.speech import SpokenSentence

# Part of the cache key: bump when clip processing changes. v3: each clip from an untouched engine;
# v4: each clip kept as the MP3 frames of a fresh encoder; v5: after two frames of silence.
CLIP_FORMAT = "mp3-frames-v5"
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
    # Names these MP3 bytes: the article cache's key (which fixes them), when narrate() knows it.
    address: str = field(default="", compare=False)

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


def clip_starts(timings: Sequence[ClipTiming]) -> list[int]:
    """The MP3 frame where each clip begins (its lead-in first), from the timings `ArticleEncoder` measured:
    a clip's frames decode on their own, so an article's MP3 may be cut there."""
    return [0] + [round((round(timing.begin * SAMPLE_RATE) - SPEECH_OFFSET_SAMPLES) / FRAME_SAMPLES)
                  for timing in timings[1:]]


def store_audio(folder: Path) -> Callable[[ArticleAudio], StoredAudio]:
    """A `keep` for `narrate`: writes each article's MP3 into `folder` as soon as it is made."""

    def keep(audio: ArticleAudio) -> StoredAudio:
        path = folder / f"{audio.slug}.mp3"
        path.write_bytes(audio.mp3)
        if audio.address:  # the products made from it are keyed by this, not by reading 40 MB again
            reuse.vouch(path, audio.address)
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

_CACHE_MAGIC = b"EBCLIP03"  # 03: the clip as MP3 frames (02 was FLAC of the PCM)
_CACHE_HEADER = struct.Struct("<8sQI32s")  # magic, PCM samples, MP3 frames, sha256 of the MP3; then the MP3


def clip_key(spoken: str, voice: Voice, engine_id: str, voice_id: str | None = None) -> str:
    """Content address of a clip: what is said, how, and by which engine (never what came before it:
    every clip is spoken by an untouched engine). `voice_id` is the engine's identity of the voice (a model's
    checksum and speaker), by default the voice as configured."""
    text = " ".join(unicodedata.normalize("NFC", spoken).split())
    material = [text, voice.voice if voice_id is None else voice_id, voice.rate, round(voice.volume, 4), engine_id,
                CLIP_FORMAT]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


class ClipCache:
    """Encoded clips on disk, written atomically and verified (checksum and frame count of the MP3) on
    every read; a read marks the clip as used, for least-recently-used pruning."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "clips"

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.clip"

    def load(self, key: str) -> EncodedClip | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        clip = unpack_clip(data)
        if clip is not None:
            mark_used(path)
        return clip

    def store(self, key: str, clip: EncodedClip) -> None:
        write_atomically(self._path(key), pack_clip(clip))

    def shipped(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The cached clips among `keys`, packed as stored, for a remote task."""
        found = {}
        for key in dict.fromkeys(keys):
            with contextlib.suppress(OSError):
                found[key] = self._path(key).read_bytes()
                mark_used(self._path(key))
        return found

    def store_packed(self, key: str, data: bytes) -> None:
        """A clip a remote task encoded, stored once it verifies (nothing unreadable is kept)."""
        if unpack_clip(data) is None:
            raise RuntimeError(f"a worker sent back a damaged clip ({key})")
        write_atomically(self._path(key), data)


def pack_clip(clip: EncodedClip) -> bytes:
    """An encoded clip as the cache keeps it (and as it travels to and from a remote worker)."""
    return _CACHE_HEADER.pack(_CACHE_MAGIC, clip.samples, clip.frames, hashlib.sha256(clip.mp3).digest()) + clip.mp3


def unpack_clip(data: bytes) -> EncodedClip | None:
    """The clip `pack_clip` packed, or None when the data is truncated, corrupt or of another format."""
    if len(data) < _CACHE_HEADER.size:
        return None
    magic, samples, frames, digest = _CACHE_HEADER.unpack_from(data)
    mp3 = data[_CACHE_HEADER.size :]
    if magic != _CACHE_MAGIC or hashlib.sha256(mp3).digest() != digest:
        return None  # truncated or corrupt: made again, then replaced
    try:
        counted = mp3_frame_count(mp3)
    except ValueError:
        return None
    return EncodedClip(mp3, samples, frames) if counted == frames else None


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
    def load(self, key: str) -> EncodedClip | None: ...

    def store(self, key: str, clip: EncodedClip) -> None: ...


class ShippedClips:
    """The clips a client sent with a remote task (packed as the cache keeps them), and the ones the
    task made, to send back: a remote worker never uses the client's cache folder."""

    def __init__(self, known: dict[str, bytes]) -> None:
        self.known, self.made = known, {}

    def load(self, key: str) -> EncodedClip | None:
        return unpack_clip(self.known[key]) if key in self.known else None

    def store(self, key: str, clip: EncodedClip) -> None:
        self.made[key] = pack_clip(clip)


def narrate_article(
    job: ArticleJob,
    factory: SynthesizerFactory,
    voice: Voice,
    clips: ClipStore | None,
    spoken_queue: Queue[str] | None = None,
) -> ArticleAudio:
    """Worker task: reuse each sentence's encoded clip, or speak it and encode it, in order.

    Only the encoded clips are kept in memory, never the PCM. Each finished sentence is reported
    on ``spoken_queue`` (the article's slug).
    """
    synthesizer: Synthesizer | None = None  # made on the first clip the cache does not have
    encoder = ArticleEncoder()
    made: list[tuple[str, Future[EncodedClip]]] = []
    voices = job.voices or (voice,) * len(job.spoken)
    for sentence_id, text, key, pause, said_by in zip(job.sentence_ids, job.spoken, job.keys, job.pauses, voices,
                                                       strict=True):
        clip = clips.load(key) if clips is not None else None
        if clip is None:
            synthesizer = synthesizer or factory()
            made.append((key, encoder.add(sentence_id, spoken_clip(synthesizer, text, said_by).pcm, pause)))
        else:
            encoder.add_encoded(sentence_id, clip, pause)
        if spoken_queue is not None:
            spoken_queue.put(job.slug)
    audio = encoder.finish(job.slug)
    if clips is not None:
        for key, encoded in made:
            clips.store(key, encoded.result())
    return audio


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


def _pool(jobs: int, spoken: Queue[str] | None) -> ProcessPoolExecutor:
    # spawn: workers never inherit the parent's threads or open files, and import only what speaking needs
    # (this module: no sentence marking, no books); each keeps its speech helper for every article it narrates.
    # Not forkserver: its server is one more process of the build's memory (30 MB, measured) for no gain here.
    # The progress queue is handed to each worker as it starts (a task's arguments cannot carry one, and a
    # Manager's queue would be one more process again).
    return ProcessPoolExecutor(max(1, jobs), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_started, initargs=(spoken,))


_spoken_queue: Queue[str] | None = None  # a pool worker's: where it reports each sentence it has done


def _worker_started(spoken: Queue[str] | None) -> None:
    global _spoken_queue
    _spoken_queue = spoken


def narrate_in_pool(job: ArticleJob, factory: SynthesizerFactory, voice: Voice, clips: ClipStore | None,
                    in_worker: Callable[[ArticleAudio], object] | None = None) -> ArticleAudio:
    """Worker task of the local pool: narrated_then, reporting to the queue the worker was started with."""
    return narrated_then(job, factory, voice, clips, _spoken_queue, in_worker)


def narrated_then(job: ArticleJob, factory: SynthesizerFactory, voice: Voice, clips: ClipStore | None,
                  spoken: Queue[str] | None, in_worker: Callable[[ArticleAudio], object] | None) -> ArticleAudio:
    """narrate_article, then `in_worker` on the article's audio where it was made."""
    audio = narrate_article(job, factory, voice, clips, spoken)
    if in_worker is not None:
        in_worker(audio)
    return audio


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
    in_worker: Callable[[ArticleAudio], object] | None = None,
) -> list[Kept]:
    """Speak every article's sentences and encode each article to MP3 with measured timings.

    Articles run in parallel, as tasks of the local process pool (`jobs` processes; in this process when
    `jobs` is 1; `jobs` threads of this process for an engine that speaks in threads), or of the Dask cluster
    whose scheduler is at `scheduler`; results come back in the given order whatever the completion order.
    Progress is reported per sentence (per article on a cluster). Each article's audio passes through `keep` as
    soon as it is ready (e.g. `store_audio`, so that only one article's audio is in memory at a time). The local
    pool's workers (and the threads) also pass each article's audio to `in_worker` (picklable) before sending it
    back: work that should share the pool's cores rather than compete with them (the M4B's AAC).
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
                results[index] = keep(replace(cached, address=f"article:{article_key(job)}"))
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
        results[index] = keep(replace(audio, address=f"article:{article_key(work[index])}"))

    if to_speak and scheduler is not None:
        clips = ClipCache(cache_dir) if cache_dir is not None else None
        _on_cluster(scheduler, [(work[i], i) for i in order], synthesizer_factory, voice, engine_id, clips,
                    progress, total, done, finished)
    elif to_speak and jobs == 1:  # one process: no pool to start (a Dask worker building a whole edition)
        clip_cache = ClipCache(cache_dir) if cache_dir is not None else None
        for index in order:
            finished(index, narrate_article(work[index], lambda: synthesizer, voice, clip_cache))  # one engine
            done += len(work[index].keys)
            if progress is not None:
                progress(work[index].slug, done, total)
    elif to_speak:  # no workers at all when every article is cached
        clip_cache = ClipCache(cache_dir) if cache_dir is not None else None
        workers: Executor
        if speaks_in_threads(synthesizer_factory):  # one engine for all, its runs letting the others go on
            spoken: Queue[str] | None = Queue() if progress is not None else None
            workers = ThreadPoolExecutor(max(1, jobs), thread_name_prefix="narration")
            task: Callable[..., ArticleAudio] = functools.partial(narrated_then, spoken=spoken)
        else:
            spoken = multiprocessing.get_context("spawn").Queue() if progress is not None else None
            workers, task = _pool(jobs, spoken), narrate_in_pool
        with workers:
            futures = {workers.submit(task, work[i], synthesizer_factory, voice, clip_cache, in_worker=in_worker): i
                       for i in order}
            try:
                _collect(futures, spoken, progress, total, done, finished)
            except BaseException:
                workers.shutdown(wait=True, cancel_futures=True)
                raise
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
                clips.store_packed(key, data)
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
# An article's MP3 from its clips, and measured timings
# ---------------------------------------------------------------------------

class ArticleEncoder:
    """Puts an article's clips end to end as MP3 frames and measures where each sentence is heard.

    A clip given as PCM is encoded on a thread of its own (lameenc releases the GIL), so the next
    sentence is spoken while the last one is encoded; a clip given encoded (from the cache) is used
    as it is. Either way an article's bytes are the same.
    """

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._clips: list[Future[EncodedClip]] = []
        self._ids: list[str] = []
        self._pauses: list[float] = []

    def add(self, sentence_id: str, pcm: bytes, pause: float) -> Future[EncodedClip]:
        """A sentence's speech, then `pause` seconds of silence (part of its clip, as SMIL timings go)."""
        encoded = self._thread.submit(encode_clip, pcm)
        self._queue(sentence_id, encoded, pause)
        return encoded

    def add_encoded(self, sentence_id: str, clip: EncodedClip, pause: float) -> None:
        done: Future[EncodedClip] = Future()
        done.set_result(clip)
        self._queue(sentence_id, done, pause)

    def _queue(self, sentence_id: str, clip: Future[EncodedClip], pause: float) -> None:
        self._clips.append(clip)
        self._ids.append(sentence_id)
        self._pauses.append(pause)

    def finish(self, slug: str) -> ArticleAudio:
        self._thread.shutdown(wait=True)
        if not self._ids:
            return ArticleAudio(slug, b"", (), 0.0)
        parts: list[bytes] = []
        starts: list[int] = []  # where each clip's frames begin, in samples
        played = 0
        for future, pause in zip(self._clips, self._pauses, strict=True):
            clip = future.result()
            gap = pause_frames(clip, pause)
            starts.append(played)
            parts += [clip.mp3, silence(gap)]
            played += clip.played + gap * FRAME_SAMPLES
        # A sentence is heard from its clip's first sample, after the lead-in (which the clip before it
        # counts); the first clip absorbs its own lead-in.
        edges = [0, *(SPEECH_OFFSET_SAMPLES + start for start in starts[1:]), played]
        timings = tuple(
            ClipTiming(sentence_id, edges[i] / SAMPLE_RATE, edges[i + 1] / SAMPLE_RATE)
            for i, sentence_id in enumerate(self._ids)
        )
        return ArticleAudio(slug, b"".join(parts), timings, played / SAMPLE_RATE)
