"""Shared fixtures: one text-only build of the real edition per session, and the golden-file flag."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from builder import validate
from builder.build import BuildOptions, BuildResult, build

# In CI the property tests draw the same examples every run, so a submission's result does not
# depend on luck; locally they keep exploring (and hypothesis replays what it found before).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

PROJECT = Path(__file__).resolve().parent.parent
SOURCE = PROJECT / "source"


def pytest_configure(config: pytest.Config) -> None:
    """Builds that use the default cache folder get one of this run's own, never the user's."""
    cache = Path(tempfile.mkdtemp(prefix="edition-builder-test-cache-"))
    os.environ["XDG_CACHE_HOME"] = str(cache)
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="re-save the golden XHTML files")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def text_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The edition built without audio or validators: (output folder, result)."""
    output = tmp_path_factory.mktemp("text-build")
    result = build(BuildOptions(source=SOURCE, output=output, audio=False, validate=False))
    return output, result


@pytest.fixture(scope="session")
def text_epub(text_build: tuple[Path, BuildResult]) -> Path:
    return text_build[0] / "imind-spring-2025.epub"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def validators_present() -> bool:
    try:
        validate.find_java(), validate.find_epubcheck_jar(), validate.find_ace(), validate.find_chromium()
    except validate.ValidatorUnavailable:
        return False
    return True


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The default build as `make edition` runs it, every profile, narration by the real engine, validators on.

    Outside CI, on a machine without the validators, the books are built unchecked and the validator tests
    skip saying so (a validating build without them publishes nothing). In CI they must be there."""
    output = tmp_path_factory.mktemp("full-build")
    cache = tmp_path_factory.mktemp("clip-cache")
    options = BuildOptions(source=SOURCE, output=output, profiles=("standard", "readable", "large-print"),
                           cache_dir=cache, validate=in_ci() or validators_present())
    return output, build(options)
