"""Catalogues (builder.run.catalogue) and narration on a real Dask cluster (builder.run.executors).

The cluster tests start `dask scheduler` and two `dask worker` processes on 127.0.0.1 (free ports) and
build a three-edition catalogue generated from the real sources through them: the bytes are those of a
local build, also when a worker is killed mid-build. Dask missing fails in CI and skips loudly elsewhere."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, SOURCE, in_ci
from edition_fixtures import article, run_cli, snapshot, write_edition

from builder.narration.synthesis import ArticleJob, FakeSynthesizer, Voice, narrate_shipped

sys.path.insert(0, str(PROJECT / "bench"))
import editions  # bench/editions.py: editions generated from the real sources
import local_cluster  # bench/local_cluster.py: the benchmark's cluster on 127.0.0.1, shared
from local_cluster import DASK, wait_for

SHORT = ["engagement-event", "compassion-at-christmas", "views-from-the-chair"]  # the three shortest pieces
# Not the editions' own date (2025-04-01): the workers must be given the client's timestamp.
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1746057600"}  # 2025-05-01


def require_dask() -> None:
    if importlib.util.find_spec("distributed") is None or not DASK.exists():
        if in_ci():
            pytest.fail("Dask is required in CI: pip install -e '.[test]' installs dask[distributed]")
        pytest.skip("DASK UNAVAILABLE: pip install -e '.[test]' installs dask[distributed]")


@dataclass(frozen=True)
class Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]
    logs: Path  # worker n's own files (the editions it is building) are in logs/worker-n/
    client: Any  # the test's own Dask client, to read the scheduler's task stream

    def tasks(self, since: float = 0.0) -> list[tuple[str, str]]:
        """(task name, worker) of every task run since `since` (a time.time())."""
        from dask.utils import key_split  # "build_shipped-<uuid>" → "build_shipped"

        return [(key_split(task["key"]), task["worker"]) for task in self.client.get_task_stream(start=since)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_dask()
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    with (local_cluster.dask_cluster(2, logs, nanny=False) as (address, workers),
          Client(address, timeout="60s", set_as_default=False) as client):
        started = Cluster(address, workers, logs, client)
        started.tasks()  # the scheduler records its task stream from now on
        yield started


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalogue")
    editions.catalogue(SOURCE, folder, 3, SHORT)
    return folder


@pytest.fixture(scope="module")
def local_build(catalogue: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    output = tmp_path_factory.mktemp("local")
    assert build(catalogue, output, tmp_path_factory.mktemp("local-cache")).returncode == 0
    return snapshot(output)


def build(catalogue: Path, output: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(catalogue, output, cache, *extra), cwd=PROJECT, env=ENV, capture_output=True,
                          text=True, check=False)


def command(catalogue: Path, output: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "builder", "build", str(catalogue), "-o", str(output), "--no-validate",
            "--cache-dir", str(cache), *extra]


@pytest.mark.engine
@pytest.mark.cluster
def test_a_catalogue_on_two_dask_workers_gives_a_local_builds_bytes(
        cluster: Cluster, catalogue: Path, local_build: dict[str, str], tmp_path: Path) -> None:
    started = time.time()
    run = build(catalogue, tmp_path / "out", tmp_path / "cache", "--scheduler", cluster.address)
    assert run.returncode == 0, run.stderr
    assert sorted(path for path in local_build if "/" not in path) == [
        *(f"imind-spring-2025-{n:02d}" for n in (1, 2, 3)), "opds-navigation.xml", "opds.json", "opds.xml"]
    assert snapshot(tmp_path / "out") == local_build
    assert len(list((tmp_path / "cache" / "clips").rglob("*.clip"))) > 30  # the client cached what workers spoke
    assert len(list((tmp_path / "cache" / "articles").glob("*.article"))) == 3 * (len(SHORT) + 1)  # + the title
    assert len(list((tmp_path / "cache" / "aac").glob("*.part"))) >= 3 * len(SHORT)  # the M4B's AAC pieces
    # Whole editions ran on the workers, one task each, on both workers; their folders are gone.
    tasks = cluster.tasks(since=started)
    assert sorted(name for name, _ in tasks) == ["build_shipped"] * 3
    assert len({worker for _, worker in tasks}) == 2
    assert not list(cluster.logs.glob("worker-*/**/edition-*"))


@pytest.mark.engine
@pytest.mark.cluster
def test_a_worker_keeps_its_cache_for_its_next_edition_and_ships_what_it_used(cluster: Cluster, catalogue: Path,
                                                                              tmp_path: Path) -> None:
    # As a local catalogue's editions share one cache, a worker's do: what it spoke for one edition is not spoken
    # again for the next (the benchmark's editions share many sentences), and the client still gets every cache
    # file the edition needed, made or found.
    from builder.run import remote
    from builder.run.records import BuildOptions

    worker = next(address for address, info in cluster.client.scheduler_info()["workers"].items()
                  if info["name"] == "worker-2")
    for kept in (cluster.logs / "worker-2").glob(f"**/{remote.WORKER_CACHE}"):  # a cold worker to begin with
        shutil.rmtree(kept)
    folder = catalogue / "imind-spring-2025-02"
    options = BuildOptions(folder, tmp_path / "out", validate=False, cache_dir=tmp_path / "cache")

    def built() -> remote.ShippedEdition:
        return cluster.client.submit(remote.build_shipped, remote.source_files(folder), str(folder), options,
                                     ENV["SOURCE_DATE_EPOCH"], workers=[worker], pure=False).result()

    first = built()
    (kept,) = (cluster.logs / "worker-2").glob(f"**/{remote.WORKER_CACHE}")  # in the worker's own folder
    spoken = sorted(kept.glob("clips/*/*.clip"))
    assert len(spoken) > 30 and first.result is not None
    second = built()
    assert second.files == first.files
    assert sorted(kept.glob("clips/*/*.clip")) == spoken  # nothing spoken again
    articles = {name for name in first.cache if name.startswith("articles/")}
    assert len(articles) == len(SHORT) + 1 and articles <= set(second.cache)  # found, and shipped all the same


@pytest.mark.engine
@pytest.mark.cluster
def test_a_worker_killed_mid_build_changes_nothing(cluster: Cluster, catalogue: Path, local_build: dict[str, str],
                                                   tmp_path: Path) -> None:
    cache, doomed = tmp_path / "cache", cluster.workers[0]
    for kept in cluster.logs.glob("worker-*/**/builder-cache"):  # cold workers: each has its editions to speak
        shutil.rmtree(kept)
    env = {**ENV, "EDITION_BUILDER_SCHEDULER": cluster.address}  # the environment variable, this time
    process = subprocess.Popen(command(catalogue, tmp_path / "out", cache), cwd=PROJECT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Killed while it speaks an edition's articles: its edition folder holds a first clip's article audio.
    building = cluster.logs / "worker-1"
    wait_for(lambda: any(building.glob("**/edition-*/output/.staging-*/.audio-parts/*"))
             or process.poll() is not None, "worker-1 narrating an edition")
    assert process.poll() is None, "the build ended before a worker could be killed"
    doomed.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert doomed.wait(timeout=30) == -signal.SIGKILL
    assert snapshot(tmp_path / "out") == local_build
    assert not list((tmp_path / "out").rglob(".staging-*"))


@pytest.mark.engine
def test_a_catalogue_built_one_edition_after_another_gives_the_same_bytes(
        catalogue: Path, local_build: dict[str, str], tmp_path: Path) -> None:
    """The local pool builds narrated editions side by side, one a process; --jobs 1 builds them in turn."""
    run = build(catalogue, tmp_path / "out", tmp_path / "cache", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    assert snapshot(tmp_path / "out") == local_build


def test_builds_without_a_scheduler_never_import_dask(tmp_path: Path) -> None:
    source = write_edition(tmp_path / "source", {"first": article("One sentence to say.\n")})
    (source / "pronunciation.toml").write_text("", encoding="utf-8")
    probe = ("import sys; from builder.cli import main; code = main(sys.argv[1:]); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'})); sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", probe, "build", str(source), "-o", str(tmp_path / "out"),
                          "--no-validate", "--no-cache"], cwd=PROJECT, env=ENV, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout and "fixture-edition-narrated.epub" in run.stdout  # it did narrate
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_one_failing_edition_does_not_stop_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = tmp_path / "catalogue"
    for name in ("alpha", "beta", "gamma"):
        manifest = (f'title = "{name.title()}"\nedition = "One"\ndate = "2025-01-01"\npublisher = "Test Press"\n'
                    f'language = "en-GB"\nidentifier = "urn:x:{name}"\nslug = "{name}"\narticles = ["first"]\n')
        write_edition(catalogue / name, {"first": article(f"About {name}.\n")}, manifest=manifest)
    (catalogue / "beta" / "articles" / "first.md").unlink()
    run = run_cli(["build", catalogue, "-o", tmp_path / "out", "--no-audio", "--no-validate"], capsys)
    assert run.code == 1
    assert "beta: not built" in run.err and "error E0" in run.err and "first.md" in run.err
    assert "2 of 3 editions built; failed: beta" in run.out
    assert all((tmp_path / "out" / name / f"{name}.epub").is_file() for name in ("alpha", "gamma"))
    assert not (tmp_path / "out" / "beta").exists()


def test_a_catalogue_file_lists_its_editions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_edition(tmp_path / "one")
    (tmp_path / "catalogue.toml").write_text('title = "Listed"\neditions = ["one"]\n', encoding="utf-8")
    run = run_cli(["build", tmp_path / "catalogue.toml", "-o", tmp_path / "out", "--no-audio", "--no-validate"],
                  capsys)
    assert run.code == 0 and "Listed: 1 of 1 editions built" in run.out
    assert (tmp_path / "out" / "fixture-edition" / "fixture-edition.epub").is_file()
    (tmp_path / "catalogue.toml").write_text('editions = "one"\n', encoding="utf-8")
    refused = run_cli(["build", tmp_path / "catalogue.toml", "-o", tmp_path / "out", "--no-audio"], capsys)
    assert refused.code == 1 and "catalogue.toml: error E005: the catalogue needs editions" in refused.err
    (tmp_path / "catalogue.toml").write_text('editions = ["one"]\ntitle = Listed\n', encoding="utf-8")
    malformed = run_cli(["build", tmp_path / "catalogue.toml", "-o", tmp_path / "out", "--no-audio"], capsys)
    assert malformed.code == 1 and "catalogue.toml:2: error E005: malformed TOML" in malformed.err


def test_a_worker_with_another_engine_is_refused() -> None:
    job = ArticleJob("a", ("a-s1",), ("Hello.",), ("k",), (0.3,))
    with pytest.raises(RuntimeError, match=r"install the same speech engine \(and voice\) on every worker"):
        narrate_shipped(job, FakeSynthesizer, Voice("en-gb", 170, 1.0), "espeak-ng 0.0", {})
    audio, made = narrate_shipped(job, FakeSynthesizer, Voice("en-gb", 170, 1.0), FakeSynthesizer().engine_id(), {})
    assert audio.slug == "a" and set(made) == {"k"}


def test_a_preloaded_worker_has_imported_what_an_editions_build_loads(tmp_path: Path) -> None:
    """The README's `dask worker … --preload builder.run.remote`: after `dask_setup` a narrated build of an
    edition imports none of the builder's heavy libraries for the first time (that would fall in the first task)."""
    source = write_edition(tmp_path / "source", {"first": article("One sentence to say.\n")})
    (source / "pronunciation.toml").write_text("", encoding="utf-8")
    heavy = "{'av', 'lameenc', 'markdown_it', 'lxml', 'nh3', 'ebooklib', 'yaml', 'mutagen', 'numpy', 'pyttsx3'}"
    probe = ("import sys; from builder.run import remote; remote.dask_setup(None); before = set(sys.modules); "
             "from builder.cli import main; code = main(sys.argv[1:]); "
             "after = {m.split('.')[0] for m in sys.modules} - {m.split('.')[0] for m in before}; "
             f"print(sorted(after & {heavy})); sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", probe, "build", str(source), "-o", str(tmp_path / "out"),
                          "--no-validate", "--no-cache"], cwd=PROJECT, env=ENV, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "fixture-edition-narrated.epub" in run.stdout  # it did narrate
    assert run.stdout.strip().splitlines()[-1] == "[]"
