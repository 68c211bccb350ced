"""Benchmark rows (f)–(j), the scale issue's: catalogues on a cluster, edits anywhere, validation and cache.

  (f) a 10-edition catalogue (generated from the real sources, as (e) is) narrated on a 2-worker Dask
      cluster started on this machine, against the local process pool (both --no-validate, cold caches);
  (g) one sentence changed in the middle of the longest article, against the cold narrated build;
  (h) `make edition` (set-up check, then every profile, narration and validation) with nothing changed;
  (i) cold `make edition` against the cold narrated build without validation;
  (j) the cache's size per hour of narration, after the cold `make edition`.

Run: `.venv/bin/python bench/scale.py [--catalogue-articles N] [--skip-cluster]` (also run by `make bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from editions import PLAIN, catalogue

from bench import PROJECT, PYTHON, SOURCE, build_command, timed

DASK = Path(PYTHON).with_name("dask")


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


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dask_cluster(workers: int, logs: Path) -> Iterator[str]:
    """A scheduler and `workers` single-threaded workers on 127.0.0.1, stopped afterwards."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"

    def start(name: str, *arguments: str) -> subprocess.Popen[bytes]:
        with (logs / f"{name}.log").open("wb") as log:
            return subprocess.Popen([str(DASK), *arguments], cwd=PROJECT, stdout=log, stderr=log)

    processes = [start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    try:
        deadline = time.monotonic() + 120
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline:
                raise SystemExit("the Dask scheduler did not start")
            time.sleep(0.2)
        processes += [start(f"worker-{n}", "worker", address, "--nthreads", "1", "--no-dashboard",
                            "--host", "127.0.0.1") for n in range(workers)]
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def measure(work: Path, env: dict[str, str], catalogue_articles: int | None, skip_cluster: bool) -> list[tuple]:
    rows: list[tuple[str, str, str, str]] = []
    source = work / "source"
    shutil.copytree(SOURCE, source)

    # (i) and (j): cold `make edition` (every profile, narration, validation), then the narrated build alone.
    make_cache = work / "make-cache"
    setup_time, _ = timed(["make", "-s", "-C", str(PROJECT), "setup"], env)
    edition_command = [PYTHON, "-m", "builder", "build", str(source), "-o", str(work / "edition"), "--profile",
                       "all", "--cache-dir", str(make_cache)]
    cold_edition, _ = timed(edition_command, env)
    cold_narrated, _ = timed(build_command(source, work / "narrated", "--cache-dir", str(work / "cache")), env)
    rows.append(("(i) cold make edition vs cold narrated build, no validation", f"{setup_time + cold_edition:.1f} s",
                 f"{cold_narrated:.1f} s", f"{(setup_time + cold_edition) / cold_narrated:.2f}"))
    hours = hours_of_narration(work / "edition")
    size = folder_size(make_cache)
    parts = ", ".join(f"{kind} {folder_size(make_cache / kind) / 1e6:.0f}"
                      for kind in ("clips", "articles", "verdicts"))
    rows.append(("(j) cache MB per hour of narration", f"{size / 1e6 / hours:.0f} MB/h",
                 f"{size / 1e6:.0f} MB ({parts})", f"{hours * 60:.0f} min"))

    # (h): `make edition` again, nothing changed.
    again_setup, _ = timed(["make", "-s", "-C", str(PROJECT), "setup"], env)
    again, _ = timed(edition_command, env)
    rows.append(("(h) make edition, nothing changed", f"{again_setup + again:.1f} s", "5 s (target)",
                 f"{again_setup + again:.1f}"))

    # (g): one sentence in the middle of the longest article, against the cold narrated build.
    change_sentence_in_the_middle(longest_article(source))
    changed, _ = timed(build_command(source, work / "narrated", "--cache-dir", str(work / "cache")), env)
    rows.append(("(g) one sentence mid longest article vs cold", f"{changed:.1f} s", f"{cold_narrated:.1f} s",
                 f"{changed / cold_narrated:.3f}"))

    if not skip_cluster:  # (f): ten editions on a two-worker cluster against the local pool
        slugs = tomllib.loads((SOURCE / "edition.toml").read_text(encoding="utf-8"))["articles"]
        chosen = sorted(slugs, key=lambda slug: (SOURCE / "articles" / f"{slug}.md").stat().st_size)
        chosen = chosen[:catalogue_articles] if catalogue_articles else slugs
        catalogue(SOURCE, work / "catalogue", 10, chosen)
        local, _ = timed(build_command(work / "catalogue", work / "catalogue-local", "--cache-dir",
                                       str(work / "catalogue-local-cache")), env)
        logs = work / "dask-logs"
        logs.mkdir()
        with dask_cluster(2, logs) as address:
            cluster, _ = timed(build_command(work / "catalogue", work / "catalogue-dask", "--cache-dir",
                                             str(work / "catalogue-dask-cache"), "--scheduler", address), env)
        same = subprocess.run(["diff", "-rq", str(work / "catalogue-local"), str(work / "catalogue-dask")],
                              capture_output=True, check=False).returncode == 0
        what = f"10 editions of {len(chosen)} articles" + ("" if same else "; BYTES DIFFER")
        rows.append((f"(f) {what}, 2 Dask workers vs local pool", f"{cluster:.1f} s", f"{local:.1f} s",
                     f"{cluster / local:.2f}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue-articles", type=int, default=None, metavar="N",
                        help="(f): each edition keeps its N shortest articles (default: all sixteen)")
    parser.add_argument("--skip-cluster", action="store_true", help="skip (f)")
    arguments = parser.parse_args()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1743465600"}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder:
        rows = measure(Path(folder), env, arguments.catalogue_articles, arguments.skip_cluster)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Benchmark (f)–(j), {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores,"
          f" Python {platform.python_version()}, load average at the end {load}")
    print("| measure | builder | reference | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
