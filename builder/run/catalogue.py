"""Catalogues: many editions built in one run, each into `OUTPUT/<slug>/`.

A catalogue is a folder of edition folders (each with its edition.toml), or a `catalogue.toml`:

    title = "The library's back catalogue"
    editions = ["imind-spring-2025", "../elsewhere/common-ground"]   # folders, relative to this file
    scheduler = "tcp://10.0.0.5:8786"                                  # optional: a Dask scheduler

One edition that fails does not stop the others: its errors are kept for the report, the others are
published. Editions share the cache. With a scheduler each edition is one task on the Dask cluster
(builder.run.remote): a worker builds it whole and this process writes what it sends back. The catalogue's
own feeds (OPDS 2 and OPDS 1.2, builder.distribution.opds) list the editions built, at `OUTPUT/`.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from builder.errors import BuildError, Diagnostic, error
from builder.run.records import BuildOptions, BuildResult
from builder.sources.config import MANIFEST_NAME, SLUG, parse_toml, read_text

if TYPE_CHECKING:
    from builder.run import remote

CATALOGUE_NAME = "catalogue.toml"


@dataclass(frozen=True)
class Catalogue:
    title: str
    editions: tuple[Path, ...]
    scheduler: str | None = None


@dataclass
class CatalogueResult:
    built: dict[str, BuildResult] = field(default_factory=dict)  # by slug, in the catalogue's order
    failed: dict[str, tuple[Diagnostic, ...]] = field(default_factory=dict)  # by slug (or folder name)
    outputs: list[Path] = field(default_factory=list)  # the catalogue's own files (its feeds)


def is_catalogue(source: Path) -> bool:
    """A catalogue.toml, a folder holding one, or a folder of edition folders (and no edition.toml)."""
    if source.is_file():
        return source.name == CATALOGUE_NAME or (source.suffix == ".toml" and source.name != MANIFEST_NAME)
    if not source.is_dir() or (source / MANIFEST_NAME).exists():
        return False
    return (source / CATALOGUE_NAME).is_file() or any((child / MANIFEST_NAME).is_file() for child in source.iterdir())


def load_catalogue(source: Path) -> Catalogue:
    if source.is_dir() and not (source / CATALOGUE_NAME).is_file():
        editions = tuple(sorted(child for child in source.iterdir() if (child / MANIFEST_NAME).is_file()))
        return Catalogue(source.resolve().name, editions)
    path = source if source.is_file() else source / CATALOGUE_NAME
    values = parse_toml(read_text(path), path, "E005")
    editions = values.get("editions")
    if not isinstance(editions, list) or not editions or not all(isinstance(item, str) for item in editions):
        raise error("E005", "the catalogue needs editions = [\"folder\", …], a list of edition folders",
                    "List each edition's folder, relative to the catalogue file.", path)
    scheduler = values.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        raise error("E005", "scheduler must be a Dask scheduler's address, e.g. \"tcp://host:8786\"",
                    "Write it as text, or leave it out to build on this machine.", path)
    return Catalogue(str(values.get("title") or path.parent.resolve().name),
                     tuple(path.parent / item for item in editions), scheduler)


def edition_slug(folder: Path) -> str:
    """The slug the manifest gives (for the output folder), else the folder's name; the build itself
    reports a broken manifest."""
    try:
        slug = tomllib.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("slug")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        slug = None
    return slug if isinstance(slug, str) and SLUG.match(slug) else folder.name


def build_catalogue(catalogue: Catalogue, options: BuildOptions,
                    build_one: Callable[[BuildOptions], BuildResult]) -> CatalogueResult:
    """Build every edition into `options.output/<slug>/`: with a scheduler each edition as a task on the Dask
    cluster; narrated editions side by side in the local pool; else one after another with `build_one` (the
    edition build). An edition's errors are kept and the others built."""
    result = CatalogueResult()
    editions: dict[str, Path] = {}
    for folder in catalogue.editions:
        slug = edition_slug(folder)
        if slug in editions:
            result.failed[f"{slug} ({folder})"] = (Diagnostic(
                "E005", f"two editions of the catalogue have the slug {slug!r}",
                "Give each edition its own slug in its edition.toml: it names the output folder.",
                folder / MANIFEST_NAME),)
        else:
            editions[slug] = folder
    if options.scheduler:
        outcomes = on_cluster(editions, options)
    elif options.audio and options.jobs > 1 and len(editions) > 1:  # narrated editions: one a process
        outcomes = in_processes(editions, options)
    else:
        outcomes = ((slug, functools.partial(build_one, replace(options, source=folder, output=options.output / slug)))
                    for slug, folder in editions.items())
    built: dict[str, BuildResult] = {}
    for slug, outcome in outcomes:
        try:
            built[slug] = outcome()
        except BuildError as failure:
            result.failed[slug] = failure.diagnostics
        except OSError as failure:  # the file system said no for this edition: the others may still build
            result.failed[slug] = (Diagnostic("E090", f"cannot read or write this: {failure.strerror or failure}",
                                              "Check that the path exists and that you may use it.",
                                              Path(failure.filename) if failure.filename else editions[slug]),)
    result.built = {slug: built[slug] for slug in editions if slug in built}  # the catalogue's order
    from builder.distribution import opds  # only for a catalogue: a single edition's start-up stays without it

    shelves = [opds.Shelf(slug, built.release, frozenset(path.name for path in built.outputs))
               for slug, built in result.built.items() if built.release is not None]
    result.outputs = [options.output / name for name in opds.write_catalogue(catalogue.title, shelves,
                                                                             options.output)]
    return result


def on_cluster(editions: dict[str, Path], options: BuildOptions) -> Iterator[tuple[str, Callable[[], BuildResult]]]:
    """Each edition as one task on the cluster (builder.run.remote), all submitted at once; each finished
    edition (in the order they finish) is written here as it arrives, so only a few are held in memory."""
    from builder.run import executors, remote  # Dask is imported only by builds that use a cluster

    cluster = executors.dask_cluster(options.scheduler or "")
    epoch = os.environ.get(remote.EPOCH_VARIABLE)
    futures: dict[Future[remote.ShippedEdition], str] = {}
    for slug, folder in editions.items():
        try:
            sources = remote.source_files(folder)
        except OSError as failure:
            yield slug, functools.partial(raise_, failure)
            continue
        futures[cluster.submit(remote.build_shipped, sources, str(folder), options, epoch)] = slug
    for future in as_completed(futures):
        slug = futures.pop(future)
        yield slug, functools.partial(publish_one, future, options.output / slug, options.cache_dir)


def in_processes(editions: dict[str, Path], options: BuildOptions) -> Iterator[tuple[str, Callable[[], BuildResult]]]:
    """Each edition built whole in a process of the local pool (`options.jobs` of them), narrating in that
    process: editions overlap, so no core waits while one edition packages. Each writes its own outputs."""
    import multiprocessing  # here: a single edition's build starts without it (its narration imports it)
    from concurrent.futures import ProcessPoolExecutor

    from builder.run import remote

    context = multiprocessing.get_context("forkserver")  # no inherited threads, nor the MathML helper's pipe
    with ProcessPoolExecutor(min(options.jobs, len(editions)), mp_context=context) as pool:
        futures = {pool.submit(remote.build_elsewhere, replace(options, source=folder, output=options.output / slug,
                                                               jobs=1)): slug
                   for slug, folder in editions.items()}
        for future in as_completed(futures):
            yield futures.pop(future), functools.partial(remote.built_elsewhere, future)


def publish_one(future: Future[remote.ShippedEdition], output: Path, cache_dir: Path | None) -> BuildResult:
    from builder.run import remote

    return remote.publish_shipped(future.result(), output, cache_dir)  # raises what the task raised


def raise_(failure: BaseException) -> BuildResult:
    raise failure
