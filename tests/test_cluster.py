"""Catalogues (builder.run.catalogue) and narration on a real Dask cluster (builder.run.executors).

The cluster tests start `dask scheduler` and two `dask worker` processes on 127.0.0.1 (free ports) and
build a three-edition catalogue generated from the real sources through them: the bytes are those of a
local build, also when a worker is killed mid-build. Dask missing fails in CI and skips loudly elsewhere."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PROJECT, SOURCE, in_ci
from edition_fixtures import article, run_cli, snapshot, write_edition

from builder.narration.synthesis import ArticleJob, FakeSynthesizer, Voice, narrate_shipped

sys.path.insert(0, str(PROJECT / "bench"))
import editions  # bench/editions.py: editions generated from the real sources
import local_cluster  # bench/local_cluster.py: the benchmark's cluster on 127.0.0.1, shared
from local_cluster import DASK, wait_for

SHORT = ["engagement-event", "compassion-at-christmas", "views-from-the-chair"]  # the three shortest pieces
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1743465600"}


def require_dask() -> None:
    if importlib.util.find_spec("distributed") is None or not DASK.exists():
        if in_ci():
            pytest.fail("Dask is required in CI: pip install -e '.[test]' installs dask[distributed]")
        pytest.skip("DASK UNAVAILABLE: pip install -e '.[test]' installs dask[distributed]")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    require_dask()
    with local_cluster.dask_cluster(2, tmp_path_factory.mktemp("dask-logs"), nanny=False) as started:
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
        cluster: tuple[str, list[subprocess.Popen[bytes]]], catalogue: Path, local_build: dict[str, str],
        tmp_path: Path) -> None:
    address, _ = cluster
    run = build(catalogue, tmp_path / "out", tmp_path / "cache", "--scheduler", address)
    assert run.returncode == 0, run.stderr
    assert sorted(path for path in local_build if "/" not in path) == [
        *(f"imind-spring-2025-{n:02d}" for n in (1, 2, 3)), "opds-navigation.xml", "opds.json", "opds.xml"]
    assert snapshot(tmp_path / "out") == local_build
    assert len(list((tmp_path / "cache" / "clips").rglob("*.clip"))) > 30  # the client cached what workers spoke


@pytest.mark.engine
@pytest.mark.cluster
def test_a_worker_killed_mid_build_changes_nothing(cluster: tuple[str, list[subprocess.Popen[bytes]]],
                                                   catalogue: Path, local_build: dict[str, str],
                                                   tmp_path: Path) -> None:
    address, workers = cluster
    cache = tmp_path / "cache"
    env = {**ENV, "EDITION_BUILDER_SCHEDULER": address}  # the environment variable, this time
    process = subprocess.Popen(command(catalogue, tmp_path / "out", cache), cwd=PROJECT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: any((cache / "clips").rglob("*.clip")) or process.poll() is not None, "a first article")
    assert process.poll() is None, "the build ended before a worker could be killed"
    workers[0].send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    assert workers[0].wait(timeout=30) == -signal.SIGKILL
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
