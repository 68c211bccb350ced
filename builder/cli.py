"""Command line: arguments, progress and exit codes. The only module that prints."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from builder import __version__
from builder.book.mathml import converter
from builder.errors import BuildError, Diagnostic, one_line
from builder.run.cache import default_cache_dir, parse_size
from builder.run.executors import SCHEDULER_VARIABLE
from builder.sources.config import PROFILES

if TYPE_CHECKING:
    from builder.run.catalogue import Catalogue
    from builder.run.records import BuildOptions, BuildResult

CACHE_MAX_VARIABLE = "EDITION_BUILDER_CACHE_MAX"

EXIT_OK, EXIT_USER_ERROR, EXIT_INTERRUPTED, EXIT_INTERNAL = 0, 1, 130, 70
COMMAND = "edition-builder"  # the installed command's name (pyproject.toml), whichever way it was started


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="python -m builder",
        description="Build accessible EPUB 3 editions, narrated EPUBs and audiobooks from Markdown sources.",
    )
    main_parser.add_argument("--version", action="version", version=f"{COMMAND} {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the edition's books, audiobook and report",
                                description="Build the edition in SOURCE into OUTPUT. SOURCE may also be a"
                                            " catalogue: a folder of edition folders, or a catalogue.toml; each"
                                            " edition is then built into OUTPUT/<slug>/.")
    add_common(build)
    build.add_argument("-o", "--output", type=Path, default=Path("output"),
                       help="folder the books, audiobook and report are written to (default: output/)")
    build.add_argument("--no-audio", dest="audio", action="store_false",
                       help="skip narration: build only the text EPUB and the report")
    build.add_argument("--no-validate", dest="validate", action="store_false",
                       help="do not run EPUBCheck and Ace on the books (the report says so)")
    build.add_argument("--strict", action="store_true", help="treat every warning as an error")
    build.add_argument("--profile", action="append", choices=[*PROFILES, "all"], metavar="PROFILE",
                       help="reading profile of the text EPUB: standard (default), readable (dyslexia-friendly),"
                            " large-print, or all; repeatable. Each writes its own EPUB")
    build.add_argument("--jobs", type=int, default=0, metavar="N",
                       help="processes for speech synthesis and encoding (default: one per core)")
    build.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                       help="where spoken clips, encoded articles and validators' verdicts are cached"
                            " (default: $XDG_CACHE_HOME/edition-builder)")
    build.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    build.add_argument("--cache-max", type=size, default=os.environ.get(CACHE_MAX_VARIABLE), metavar="SIZE",
                       help="after the build, remove the least recently used cached files until the cache holds"
                            f" at most SIZE (e.g. 500M, 2G; default: ${CACHE_MAX_VARIABLE}, else no limit)")
    build.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="narrate (a catalogue: build each edition) on the Dask cluster whose scheduler is at"
                            " ADDRESS (e.g. tcp://10.0.0.5:8786;"
                            f" default: ${SCHEDULER_VARIABLE}, else a catalogue.toml's scheduler, else this"
                            " machine's process pool)")
    add_engine(build)
    build.add_argument("--voice", help="speech voice, overriding edition.toml (e.g. en-gb; with Piper an installed"
                                       " voice package's name or a model's .onnx file)")
    build.add_argument("--rate", type=int, help="speech rate in words a minute, overriding edition.toml")
    build.add_argument("--volume", type=float, help="speech volume from 0 to 1, overriding edition.toml")

    cache = commands.add_parser("cache", help="show or prune the cache of clips, articles and verdicts",
                                description="Show what the cache holds (info), or remove its least recently used"
                                            " files until it holds at most SIZE (prune).")
    cache.add_argument("action", choices=("info", "prune"))
    cache.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                       help="the cache folder (default: $XDG_CACHE_HOME/edition-builder)")
    cache.add_argument("--max", type=size, default=os.environ.get(CACHE_MAX_VARIABLE), metavar="SIZE",
                       help=f"prune: the size to keep (e.g. 500M, 2G, 0 for nothing; default: ${CACHE_MAX_VARIABLE})")
    cache.add_argument("--debug", action="store_true", help="show a traceback for errors")

    check = commands.add_parser("check", help="validate the sources without building",
                                description="Check every source file of the edition in SOURCE; build nothing.")
    add_common(check)
    add_engine(check)
    check.add_argument("--strict", action="store_true", help="treat every warning as an error")
    return main_parser


def add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument("source", nargs="?", type=Path, default=Path("source"),
                         help="the edition's source folder (default: source/)")
    command.add_argument("--debug", action="store_true", help="show a traceback for errors")


def add_engine(command: argparse.ArgumentParser) -> None:
    from builder.narration.engines import ENGINES

    command.add_argument("--engine", choices=list(ENGINES),
                         help="speech engine, overriding edition.toml: espeak (espeak-ng, the default) or piper"
                              ' (neural voices: pip install ".[piper]")')


def size(text: str | int) -> int:
    """argparse type for sizes (also given the environment's default as a string)."""
    if isinstance(text, int):
        return text
    try:
        return parse_size(text)
    except ValueError as wrong:
        raise argparse.ArgumentTypeError(str(wrong)) from None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.command == "cache":
        return run_cache(arguments)
    if not documents_reused(arguments):
        converter.start_helper()  # before the builder's modules load: see builder.book.mathml
    try:
        if arguments.command == "check":
            return run_check(arguments)
        return run_build(arguments)
    except BuildError as failure:
        strict = getattr(arguments, "strict", False)  # warnings that stop a --strict build are errors
        for diagnostic in failure.diagnostics:
            print(diagnostic.as_error() if strict else diagnostic, file=sys.stderr)
        if arguments.debug:
            traceback.print_exc()
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted: the previous outputs are unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as failure:  # the file system said no: permissions, a full disk, a file where a folder goes
        print(file_system_error(failure), file=sys.stderr)
        if arguments.debug:
            traceback.print_exc()
        return EXIT_USER_ERROR
    except Exception as failure:  # a bug, not a user error: say so in one line unless debugging
        if arguments.debug:
            raise
        print(one_line(f"internal error: {type(failure).__name__}: {failure} (run with --debug for details)"),
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        converter.stop_helper()


def documents_reused(arguments: argparse.Namespace) -> bool:
    """A build of sources whose documents are in the cache (builder.run.reuse) converts no formula: it needs
    no converter helper."""
    if arguments.command != "build" or arguments.no_cache:
        return False
    from builder.run import reuse

    try:
        return reuse.prepared_known(arguments.source, arguments.cache_dir or default_cache_dir())
    except OSError:  # no such sources: the build says so
        return False


def file_system_error(failure: OSError) -> Diagnostic:
    place = Path(failure.filename) if failure.filename else None
    return Diagnostic("E090", f"cannot read or write this: {failure.strerror or failure}",
                      "Check that the path exists, is of the right kind (file or folder) and that you may use it.",
                      place)


def print_warnings(warnings: Sequence[Diagnostic]) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


def run_check(arguments: argparse.Namespace) -> int:
    from builder.run.build import check

    warnings = check(arguments.source, arguments.engine)
    if arguments.strict and warnings:
        raise BuildError(*warnings)
    print_warnings(warnings)
    counted = f" ({len(warnings)} warning{'s' if len(warnings) > 1 else ''})" if warnings else ""
    print(f"{arguments.source}: sources are valid{counted}")
    return EXIT_OK


def run_build(arguments: argparse.Namespace) -> int:
    from builder.run import catalogue
    from builder.run.build import BuildOptions, build

    if arguments.jobs < 0:
        raise SystemExit("--jobs must be 0 (one per core) or more")
    options = BuildOptions(
        source=arguments.source,
        output=arguments.output,
        audio=arguments.audio,
        strict=arguments.strict,
        validate=arguments.validate,
        profiles=profiles(arguments.profile),
        jobs=arguments.jobs or os.cpu_count() or 1,
        cache_dir=None if arguments.no_cache else (arguments.cache_dir or default_cache_dir()),
        engine=arguments.engine,
        voice=arguments.voice,
        rate=arguments.rate,
        volume=arguments.volume,
        scheduler=arguments.scheduler or os.environ.get(SCHEDULER_VARIABLE) or None,
    )
    started = time.perf_counter()
    progress = ProgressBar() if sys.stderr.isatty() else None
    if catalogue.is_catalogue(options.source):
        failed = run_catalogue(catalogue.load_catalogue(options.source), options,
                               lambda edition: build(edition, progress))
    else:
        failed = not print_result(build(options, progress))
    print(f"built in {time.perf_counter() - started:.1f} s")
    if options.cache_dir is not None and arguments.cache_max is not None:
        print_pruned(options.cache_dir, arguments.cache_max)
    return EXIT_USER_ERROR if failed else EXIT_OK


def print_result(result: BuildResult) -> bool:
    """What one edition's build wrote and said; False when it had failures."""
    print_warnings(result.warnings)
    for path in result.outputs:
        print(f"wrote {path}")
    for failure in result.failures:
        print(failure, file=sys.stderr)
    return not result.failures


def run_catalogue(listed: Catalogue, options: BuildOptions, build_one: Callable[[BuildOptions], BuildResult]) -> bool:
    """Build a catalogue's editions; True when any failed (the others are published all the same)."""
    from builder.run.catalogue import build_catalogue

    if options.scheduler is None and listed.scheduler:
        options = replace(options, scheduler=listed.scheduler)
    result = build_catalogue(listed, options, build_one)
    failed = False
    for slug, built in result.built.items():
        print(f"{slug}: built")
        failed |= not print_result(built)
    for slug, diagnostics in result.failed.items():
        print(f"{slug}: not built", file=sys.stderr)
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
    for path in result.outputs:
        print(f"wrote {path}")
    print(f"{listed.title}: {len(result.built)} of {len(listed.editions)} editions built"
          + (f"; failed: {', '.join(result.failed)}" if result.failed else ""))
    return failed or bool(result.failed)


def run_cache(arguments: argparse.Namespace) -> int:
    from builder.run import cache

    folder = arguments.cache_dir or default_cache_dir()
    if arguments.action == "prune":
        if arguments.max is None:
            print(f"cache prune: say how much to keep, e.g. --max 2G (or set ${CACHE_MAX_VARIABLE})", file=sys.stderr)
            return EXIT_USER_ERROR
        print_pruned(folder, arguments.max)
        return EXIT_OK
    usage = cache.usage(folder)
    print(f"cache: {folder}")
    for kind, held in usage.items():
        when = (f", used {time.strftime('%Y-%m-%d', time.localtime(held.oldest))} to"
                f" {time.strftime('%Y-%m-%d', time.localtime(held.newest))}") if held.files else ""
        print(f"  {kind:<9} {held.files:>7} files {megabytes(held.size):>10}{when}")
    print(f"  {'total':<9} {sum(held.files for held in usage.values()):>7} files"
          f" {megabytes(sum(held.size for held in usage.values())):>10}")
    return EXIT_OK


def print_pruned(folder: Path, max_size: int) -> None:
    from builder.run import cache

    removed, freed = cache.prune(folder, max_size)
    print(f"cache: removed {removed} least recently used files ({megabytes(freed)}) to keep {megabytes(max_size)}"
          f" in {folder}" if removed else f"cache: within {megabytes(max_size)}, nothing removed")


def megabytes(size: int) -> str:
    return f"{size / 10**6:.1f} MB"


def profiles(chosen: list[str] | None) -> tuple[str, ...]:
    if not chosen:
        return ("standard",)
    if "all" in chosen:
        return tuple(PROFILES)
    return tuple(dict.fromkeys(chosen))


class ProgressBar:
    """Synthesis progress on a terminal: article, sentences done, time left."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, article: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * (total - done) if done else 0.0
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} sentences, {left:4.0f} s left  {article[:30]:<30}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
