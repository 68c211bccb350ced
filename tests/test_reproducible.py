"""Outputs: the same sources give the same bytes, and a build that fails or is interrupted leaves
the previous outputs exactly as they were, with no half-written file and no staging folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from edition_fixtures import PROJECT, SOURCE, article, run_cli, snapshot, write_edition

from builder.book import package
from builder.run import report as build_report
from builder.run.build import BuildOptions, BuildResult, build

EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC
FAST = ["--no-audio", "--no-validate"]


def build_in_subprocess(output: Path, hash_seed: str) -> None:
    """A separate interpreter, so that set and dict order (PYTHONHASHSEED) cannot leak into the bytes."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-m", "builder", "build", str(SOURCE), "-o", str(output), *FAST],
                            cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    build_in_subprocess(first, "1")
    build_in_subprocess(second, "2")
    return first, second


def test_same_sources_give_byte_identical_outputs(two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    hashes = snapshot(first)
    assert "imind-spring-2025.epub" in hashes and "report.json" in hashes and "report.md" in hashes
    assert hashes == snapshot(second)


def test_mimetype_comes_first_and_is_stored(two_builds: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(two_builds[0] / "imind-spring-2025.epub") as book:
        first = book.infolist()[0]
        assert first.filename == "mimetype"
        assert first.compress_type == zipfile.ZIP_STORED
        assert first.extra == b""
        assert book.read("mimetype") == b"application/epub+zip"
        assert book.testzip() is None


def test_every_timestamp_is_source_date_epoch(two_builds: tuple[Path, Path]) -> None:
    stamp = datetime.fromtimestamp(EPOCH, tz=UTC).timetuple()[:6]
    with zipfile.ZipFile(two_builds[0] / "imind-spring-2025.epub") as book:
        assert {info.date_time for info in book.infolist()} == {(*stamp[:5], stamp[5] // 2 * 2)}
        opf = next(name for name in book.namelist() if name.endswith(".opf"))
        assert "2023-11-14T22:13:20Z" in book.read(opf).decode()


def test_without_source_date_epoch_the_edition_date_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    source = write_edition(tmp_path / "source")
    for folder in ("a", "b"):
        assert run_cli(["build", source, "-o", tmp_path / folder, *FAST], capsys).code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    with zipfile.ZipFile(tmp_path / "a" / "fixture-edition.epub") as book:
        assert book.infolist()[0].date_time == (2025, 1, 1, 0, 0, 0)


# --- atomic output --------------------------------------------------------------------------------


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(source, output, snapshot): a good build already in output, and a changed source to rebuild."""
    source = write_edition(tmp_path / "source")
    output = tmp_path / "output"
    build(BuildOptions(source=source, output=output, audio=False, validate=False))
    write_edition(source, {"first": article("Changed text, so that a finished build would differ.\n")})
    return source, output, snapshot(output)


def assert_intact(output: Path, before: dict[str, str]) -> None:
    assert snapshot(output) == before
    leftovers = [path.name for path in output.iterdir() if path.name.startswith(".")]
    assert leftovers == [], f"staging or partial files left behind: {leftovers}"


def test_a_source_error_leaves_the_previous_outputs(previous: tuple[Path, Path, dict[str, str]],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    source, output, before = previous
    write_edition(source, {"first": article("![](../images/missing.png)\n")})
    assert run_cli(["build", source, "-o", output, *FAST], capsys).code == 1
    assert_intact(output, before)


def test_an_interrupt_while_packaging_leaves_the_previous_outputs(
        previous: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    source, output, before = previous
    calls = []
    real = package.write_epub

    def interrupted(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the build
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(package, "write_epub", interrupted)
    run = run_cli(["build", source, "-o", output, *FAST], capsys)
    assert run.code == 130
    assert "previous outputs are unchanged" in run.err
    assert "Traceback" not in run.err
    assert calls == [1]
    assert_intact(output, before)


def test_an_interrupt_after_the_book_is_written_publishes_nothing(
        previous: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The new EPUB is finished in staging, but the report is not: neither may be published."""
    source, output, before = previous

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_report, "write_report", interrupted)
    assert run_cli(["build", source, "-o", output, *FAST], capsys).code == 130
    assert_intact(output, before)


def test_a_crash_mid_build_leaves_the_previous_outputs(previous: tuple[Path, Path, dict[str, str]],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    source, output, before = previous

    def crash(*args: object, **kwargs: object) -> bytes:
        raise MemoryError("out of memory while zipping")

    monkeypatch.setattr(package, "write_epub", crash)
    assert run_cli(["build", source, "-o", output, *FAST], capsys).code == 70
    assert_intact(output, before)


def test_a_good_build_replaces_every_output_and_leaves_no_staging(
        previous: tuple[Path, Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    source, output, before = previous
    assert run_cli(["build", source, "-o", output, *FAST], capsys).code == 0
    after = snapshot(output)
    assert set(after) == set(before)
    assert after["fixture-edition.epub"] != before["fixture-edition.epub"]
    assert not [path for path in output.iterdir() if path.name.startswith(".")]


def test_building_into_a_fresh_folder_that_fails_creates_nothing(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = write_edition(tmp_path / "source", {"first": article("# Not allowed\n")})
    assert run_cli(["build", source, "-o", tmp_path / "output", *FAST], capsys).code == 1
    assert not (tmp_path / "output").exists()
    shutil.rmtree(source)


@pytest.mark.engine
def test_narrated_outputs_are_identical_with_one_job_and_no_cache(
        full_build: tuple[Path, BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default build (a job per core, fresh cache) against a one-job build with no cache at all:
    every EPUB, MP3, playlist and transcript has the same SHA-256."""
    first, result = full_build
    # Validating or not changes the books' accessibility summary, so this build validates as the first did;
    # the validators' verdicts on these same books are taken from the first build rather than run again.
    recorded = {name: book["validators"] for name, book in result.report["books"].items()}
    validated = not isinstance(recorded["imind-spring-2025.epub"]["epubcheck"], str)
    monkeypatch.setattr(build_report, "validator_result", lambda validator, path: recorded[path.name][validator])
    build(BuildOptions(source=SOURCE, output=tmp_path, profiles=("standard", "readable", "large-print"),
                       validate=validated, jobs=1, cache_dir=None))

    def digests(folder: Path) -> dict[str, str]:
        return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.rglob("*"))
                if path.is_file() and path.name not in ("report.json", "report.md")}  # reports: validators ran once

    ours, theirs = digests(first), digests(tmp_path)
    # four books, the DAISY book and the M4B; an MP3, a transcript and a chapters file per article; the edition
    # MP3, playlist, Readium manifest, podcast feed and its artwork; the records (ONIX 3.1 and 3.0, MARC binary
    # and MARCXML, OPDS 2 and 1.2, the feeds' cover)
    assert len(ours) == 4 + 2 + 16 * 3 + 5 + 7
    formats = {"imind-spring-2025-daisy202.zip", "imind-spring-2025.m4b", "imind-spring-2025-audio/podcast.xml"}
    assert formats <= set(ours)
    assert ours == theirs


@pytest.mark.engine
def test_an_edit_mid_article_respeaks_one_sentence_and_gives_a_cold_builds_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real espeak-ng: after one sentence in the middle of an article changes, a rebuild from the warm cache
    speaks that one clip and writes the same bytes as a cold build of the edited sources with no cache."""
    from test_narration import require_espeak

    require_espeak()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    body = " ".join(f"This is sentence number {n} of the article." for n in range(1, 9))
    source = write_edition(tmp_path / "source", {"first": article(body + "\n"), "second": article("Short one.\n")})
    (source / "pronunciation.toml").write_text("", encoding="utf-8")
    cache = tmp_path / "cache"

    def narrated(output: Path, cache_dir: Path | None) -> dict[str, str]:
        build(BuildOptions(source=source, output=output, validate=False, jobs=2, cache_dir=cache_dir))
        return snapshot(output)

    narrated(tmp_path / "warm", cache)
    clips = set(cache.glob("clips/*/*.clip"))
    (source / "articles" / "first.md").write_text(
        article(body.replace("sentence number 4 of", "the edited fourth sentence of") + "\n"), encoding="utf-8")
    rebuilt = narrated(tmp_path / "warm", cache)
    assert len(set(cache.glob("clips/*/*.clip")) - clips) == 1
    assert rebuilt == narrated(tmp_path / "cold", None)
