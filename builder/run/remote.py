"""Whole editions as Dask tasks: a catalogue built with a scheduler sends each edition to a worker.

The task (`build_shipped`, on a worker) gets the edition's source files as bytes, so a worker needs no
shared file system: it writes them to a folder of its own, builds the edition there as a local build
would (rendering, narration in its own process, packaging, M4B, DAISY), and sends back the files of the
output folder and the cache files it made or used. The client (`publish_shipped`) writes them: outputs
staged then moved into place, as a local build publishes, and the cache entries it did not have. A worker
keeps its own cache between tasks (in its --local-directory), so a sentence it spoke for one edition is not
spoken again for the next, as a local catalogue's editions share one cache. The task is pure (same sources and
options, same bytes, whatever the caches hold), so a task whose worker died runs again on another.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from builder.errors import BuildError, Diagnostic
from builder.run.records import BuildOptions, BuildResult

EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"  # the client's, so a worker's timestamps are the client's
_one_build = threading.Lock()  # one edition at a time in a worker process: the build reads the environment


@dataclass
class ShippedEdition:
    """What a worker sends back: the output folder's files (relative path → bytes), the names the
    client publishes (files, then the audio folder), the cache files it made, and the build's result
    (warnings, report, release) with paths named as the client's folder names them."""

    files: dict[str, bytes]
    published: list[str]
    folder: str | None
    cache: dict[str, bytes]
    result: BuildResult | None
    errors: tuple[Diagnostic, ...] = ()  # a BuildError's (it does not survive pickling): the edition failed


def source_files(folder: Path) -> dict[str, bytes]:
    """The edition folder's files, by relative path; hidden files and folders stay behind."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)}


def build_shipped(sources: dict[str, bytes], client_folder: str, options: BuildOptions,
                  epoch: str | None) -> ShippedEdition:
    """Worker task: build the edition from `sources` in a folder of this worker's, and ship it back."""
    from builder.run.build import build  # the worker's builder, as the client's (the README says so)

    with _one_build, tempfile.TemporaryDirectory(prefix="edition-", dir=worker_directory()) as place:
        root = Path(place)
        source = root / "source" / Path(client_folder).name
        for name, data in sources.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(data)
        output, cache = root / "output", worker_cache() or root / "cache"
        local = replace(options, source=source, output=output, cache_dir=cache if options.cache_dir else None,
                        jobs=1, scheduler=None)  # one process: the worker is one core's share
        # The cache files this build makes or uses are renewed from now on (cache.mark_used); a margin for file
        # times, which the kernel takes from a coarser clock (a few files of a task before may go again).
        started = time.time_ns() - TIME_MARGIN
        try:
            with environment(EPOCH_VARIABLE, epoch):
                built = build(local)
        except BuildError as failure:
            return ShippedEdition({}, [], None, {}, None,
                                  tuple(client_path(d, source, client_folder) for d in failure.diagnostics))
        published = [path.name for path in built.outputs if path.is_file()]
        folders = [path.name for path in built.outputs if path.is_dir()]
        result = replace(built, outputs=[],
                         warnings=tuple(client_path(d, source, client_folder) for d in built.warnings),
                         failures=tuple(client_path(d, source, client_folder) for d in built.failures))
        return ShippedEdition(files_below(output), published, folders[0] if folders else None,
                              shipped_cache(cache, started) if local.cache_dir else {}, result)


def dask_setup(worker: object) -> None:
    """Dask calls this in a worker started with `--preload builder.run.remote`: the modules an edition's build
    loads are imported once, when the worker starts, not in its first task (~0.9 s of each worker's
    first edition, by py-spy)."""
    import av  # noqa: F401  (the M4B's AAC)
    import ebooklib.epub  # noqa: F401  (the EPUBs)
    import lameenc  # noqa: F401  (the MP3s)
    import mutagen.mp4  # noqa: F401  (the M4B's tags)
    import pyttsx3.drivers._espeak  # noqa: F401  (espeak-ng, through pyttsx3)

    import builder.book.markdown
    import builder.book.render
    import builder.distribution.files
    import builder.narration.espeak
    import builder.narration.read_aloud
    import builder.run.build
    import builder.sources  # noqa: F401


def worker_cache() -> Path | None:
    """The cache a Dask worker keeps for every edition it builds, in its own folder; None off a worker (a
    local call builds with a cache of its own, gone with the task's folder)."""
    place = worker_directory()
    return Path(place) / WORKER_CACHE if place else None


WORKER_CACHE = "builder-cache"
TIME_MARGIN = 2 * 10**9  # ns


def worker_directory() -> str | None:
    """The Dask worker's own folder (its --local-directory), else the system's temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):  # not on a worker: a local call (the tests')
        return None


@contextmanager
def environment(name: str, value: str | None) -> Iterator[None]:
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def client_path(diagnostic: Diagnostic, source: Path, client_folder: str) -> Diagnostic:
    """The diagnostic naming the client's file, not the worker's copy of it."""
    if diagnostic.file is None or not diagnostic.file.is_relative_to(source):
        return diagnostic
    return replace(diagnostic, file=Path(client_folder) / diagnostic.file.relative_to(source))


def shipped_cache(cache: Path, since: int = 0) -> dict[str, bytes]:
    """The cache files worth sending: those made or used since `since` (nanoseconds since the epoch; a file's
    use renews its time), so the client's cache holds what the edition needs whatever the worker held before;
    not the finished products (builder.run.reuse), which are the outputs again."""
    return {name: data for name, data in files_below(cache, since).items() if not name.startswith(NOT_SHIPPED)}


NOT_SHIPPED = ("products/",)


def files_below(folder: Path, since: int = 0) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.startswith(".tmp-") and path.stat().st_mtime_ns >= since}


def publish_shipped(shipped: ShippedEdition, output: Path, cache_dir: Path | None) -> BuildResult:
    """Write a worker's edition into `output` (staged, then each output moved into place as a local build
    does) and its cache files into `cache_dir` (those it lacks); the result names the client's files."""
    from builder.narration.synthesis import write_atomically
    from builder.run.build import publish, remove_abandoned_staging

    if shipped.result is None:
        raise BuildError(*shipped.errors)
    output.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(output)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=output))
    try:
        for name, data in shipped.files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        outputs = publish(staging, output, shipped.published, shipped.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if cache_dir is not None:
        for name, data in shipped.cache.items():
            if not (cache_dir / name).exists():
                write_atomically(cache_dir / name, data)
    return replace(shipped.result, outputs=outputs)


def build_elsewhere(options: BuildOptions) -> BuildResult | tuple[Diagnostic, ...]:
    """A whole edition's build in another process of this machine (the local pool's): its result, or its
    BuildError's diagnostics."""
    from builder.run.build import build

    try:
        return build(options)
    except BuildError as failure:
        return failure.diagnostics


def built_elsewhere(future: Future[BuildResult | tuple[Diagnostic, ...]]) -> BuildResult:
    """The result `build_elsewhere` sent back; raises the BuildError (or other error) it met."""
    outcome = future.result()
    if isinstance(outcome, tuple):
        raise BuildError(*outcome)
    return outcome
