"""Benchmark rows (f)–(j), the scale issue's: catalogues on a cluster, edits anywhere, validation and cache.

  (f) a 10-edition catalogue (generated from the real sources, as (e) is) narrated on a 2-worker Dask
      cluster started on this machine, against the local process pool (both --no-validate, cold caches);
  (g) one sentence changed in the middle of the longest article, against the cold narrated build;
  (h) `make edition` (set-up check, then every profile, narration and validation) with nothing changed;
  (i) cold `make edition` against the cold narrated build without validation;
  (j) the cache's size per hour of narration, after the cold `make edition`.

Run: `.venv/bin/python bench/scale.py [--runs N] [--catalogue-articles N] [--skip-cluster | --only-cluster]`
(also run by `make bench`). Like bench.py, every measurement is taken N times (default 3), each run from a
fresh copy and empty caches, and the table (bench.py's) gives the medians, the machine, the date and the
targets missed.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from editions import PLAIN, catalogue
from local_cluster import dask_cluster

from bench import PROJECT, PYTHON, SOURCE, Measure, build_command, print_table, timed
from builder.run.cache import KINDS


def longest_article(source: Path) -> Path:
    slugs = tomllib.loads((source / "edition.toml").read_text(encoding="utf-8"))["articles"]
    return max((source / "articles" / f"{slug}.md" for slug in slugs), key=lambda path: path.stat().st_size)


def change_sentence_in_the_middle(article: Path) -> None:
    """One word added to the first sentence of the article's middle plain paragraph: one sentence changed."""
    head, separator, body = article.read_text(encoding="utf-8").partition("\n---\n")
    paragraphs = body.split("\n\n")
    plain = [index for index, paragraph in enumerate(paragraphs) if PLAIN.match(paragraph.strip())
             and len(paragraph.split()) > 8]
    middle = plain[len(plain) // 2]
    words = paragraphs[middle].split(" ")
    paragraphs[middle] = " ".join([*words[:2], "indeed", *words[2:]])
    article.write_text(head + separator + "\n\n".join(paragraphs), encoding="utf-8")


def hours_of_narration(output: Path) -> float:
    clock = json.loads((output / "report.json").read_text(encoding="utf-8"))["narration"]["duration"]
    hours, minutes, seconds = clock.split(":")
    return int(hours) + int(minutes) / 60 + float(seconds) / 3600


def folder_size(folder: Path, shared: bool = False) -> int:
    """The bytes of the folder's files. A file also linked from elsewhere (a finished product the cache shares
    with the published outputs: builder.run.reuse) adds nothing to the disk: counted only if `shared`."""
    sizes = (path.stat() for path in folder.rglob("*") if path.is_file())
    return sum(status.st_size for status in sizes if shared or status.st_nlink == 1)


def one_run(work: Path, env: dict[str, str], catalogue_articles: int | None, skip_cluster: bool,
            only_cluster: bool = False) -> dict[str, float]:
    """Every measurement once (or (f) alone), from a fresh copy of the sources and empty caches."""
    run = {} if only_cluster else edition_rows(work, env)
    if not skip_cluster:
        run |= cluster_row(work, env, catalogue_articles)
    return run


def edition_rows(work: Path, env: dict[str, str]) -> dict[str, float]:
    """(g)–(j): one edition, cold, nothing changed and edited."""
    run: dict[str, float] = {}
    source = work / "source"
    shutil.copytree(SOURCE, source)

    # (i) and (j): cold `make edition` (every profile, narration, validation), then the narrated build alone.
    make_cache = work / "make-cache"
    setup_time, _ = timed(["make", "-s", "-C", str(PROJECT), "setup"], env)
    edition_command = [PYTHON, "-m", "builder", "build", str(source), "-o", str(work / "edition"), "--profile",
                       "all", "--cache-dir", str(make_cache)]
    cold_edition, _ = timed(edition_command, env)
    run["make_cold"] = setup_time + cold_edition
    run["narrated_cold"], _ = timed(build_command(source, work / "narrated", "--cache-dir", str(work / "cache")), env)
    run["hours"] = hours_of_narration(work / "edition")
    for kind in KINDS:
        run[f"cache_{kind}"] = folder_size(make_cache / kind)
    run["cache_total"] = folder_size(make_cache)
    run["cache_shared"] = folder_size(make_cache, shared=True) - run["cache_total"]

    # (h): `make edition` again, nothing changed.
    again_setup, _ = timed(["make", "-s", "-C", str(PROJECT), "setup"], env)
    again, _ = timed(edition_command, env)
    run["make_again"] = again_setup + again

    # (g): one sentence in the middle of the longest article, against the cold narrated build.
    change_sentence_in_the_middle(longest_article(source))
    run["narrated_edit"], _ = timed(build_command(source, work / "narrated", "--cache-dir", str(work / "cache")), env)
    return run


def cluster_row(work: Path, env: dict[str, str], catalogue_articles: int | None) -> dict[str, float]:
    """(f): ten editions on a two-worker cluster against the local pool."""
    run: dict[str, float] = {}
    slugs = tomllib.loads((SOURCE / "edition.toml").read_text(encoding="utf-8"))["articles"]
    chosen = sorted(slugs, key=lambda slug: (SOURCE / "articles" / f"{slug}.md").stat().st_size)
    chosen = chosen[:catalogue_articles] if catalogue_articles else slugs
    catalogue(SOURCE, work / "catalogue", 10, chosen)
    run["catalogue_articles"] = len(chosen)
    run["local"], _ = timed(build_command(work / "catalogue", work / "catalogue-local", "--cache-dir",
                                          str(work / "catalogue-local-cache")), env)
    logs = work / "dask-logs"
    logs.mkdir()
    with dask_cluster(2, logs) as (address, _):
        run["cluster"], _ = timed(build_command(work / "catalogue", work / "catalogue-dask", "--cache-dir",
                                                str(work / "catalogue-dask-cache"), "--scheduler", address), env)
    run["same"] = float(subprocess.run(["diff", "-rq", str(work / "catalogue-local"), str(work / "catalogue-dask")],
                                       capture_output=True, check=False).returncode == 0)
    return run


def cache_mb(run: dict[str, float]) -> float:
    return run["cache_total"] / 1e6  # the whole folder, whatever kinds it holds


def cluster_label(run: dict[str, float]) -> str:
    return f"{run['cluster']:.1f} s" + ("" if run["same"] else "; BYTES DIFFER")


MEASURES = (
    Measure("f", "(f) 10-edition catalogue, 2 Dask workers vs local pool (bytes identical)", cluster_label,
            lambda r: f"{r['local']:.1f} s ({r['catalogue_articles']:.0f} articles an edition)",
            lambda r: r["cluster"] / r["local"] if r["same"] else float("inf"), 1.15, "≤ 1.15", ("cluster",)),
    Measure("g", "(g) one sentence changed mid longest article vs cold", lambda r: f"{r['narrated_edit']:.1f} s",
            lambda r: f"{r['narrated_cold']:.1f} s", lambda r: r["narrated_edit"] / r["narrated_cold"], 0.10,
            "≤ 0.10", ("narrated_edit",)),
    Measure("h", "(h) make edition, nothing changed", lambda r: f"{r['make_again']:.1f} s", lambda r: "",
            lambda r: r["make_again"], 5.0, "≤ 5 s", ("make_again",)),
    Measure("i", "(i) cold make edition vs cold narrated build, no validation", lambda r: f"{r['make_cold']:.1f} s",
            lambda r: f"{r['narrated_cold']:.1f} s", lambda r: r["make_cold"] / r["narrated_cold"], 1.5, "≤ 1.5",
            ("make_cold",)),
    Measure("j", "(j) cache MB per hour of narration", lambda r: f"{cache_mb(r) / r['hours']:.0f} MB/h",
            lambda r: (f"{cache_mb(r):.0f} MB ("
                       + ", ".join(f"{kind} {r.get(f'cache_{kind}', 0.0) / 1e6:.1f}" for kind in KINDS)
                       + f"; {r.get('cache_shared', 0.0) / 1e6:.0f} more shared with the outputs)"
                       + f" for {r['hours'] * 60:.0f} min"),
            lambda r: cache_mb(r) / r["hours"], 100.0, "≤ 100", ("cache_total",)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, metavar="N",
                        help="measure everything N times and report the medians (default 3)")
    parser.add_argument("--catalogue-articles", type=int, default=None, metavar="N",
                        help="(f): each edition keeps its N shortest articles (default: all sixteen)")
    parser.add_argument("--skip-cluster", action="store_true", help="skip (f)")
    parser.add_argument("--only-cluster", action="store_true", help="(f) alone")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        raise SystemExit("--runs must be 1 or more")
    if arguments.skip_cluster and arguments.only_cluster:
        raise SystemExit("--skip-cluster and --only-cluster leave nothing to measure")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1743465600"}
    # As bench.py does: an installed builder is byte-compiled, so (h) must not time Python compiling it.
    compileall.compile_dir(PROJECT / "builder", quiet=1)
    started = datetime.now(tz=UTC)
    runs = []
    for number in range(1, arguments.runs + 1):
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
            runs.append(one_run(Path(folder), env, arguments.catalogue_articles, arguments.skip_cluster,
                                arguments.only_cluster))
        print(f"run {number} of {arguments.runs} done", file=sys.stderr)
    print_table("Benchmark (f)–(j)", runs, MEASURES, started)


if __name__ == "__main__":
    main()
