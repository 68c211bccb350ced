"""Shared fixtures: one text-only build of the real edition per session, and the golden-file flag."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
from hypothesis import settings
from lxml import etree

from builder.run import validate
from builder.run.build import BuildOptions, BuildResult, build

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
    parser.addoption("--update-goldens", action="store_true",
                     help="re-save the golden files that differ; each re-saved one fails its test, to be reviewed")


RESAVED: list[str] = []  # goldens an --update-goldens run rewrote, listed at the end of the run


Golden = Callable[[Path, str], None]


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return golden_check(bool(request.config.getoption("--update-goldens")))


def golden_check(update: bool) -> Golden:
    """`check(path, actual)`: compare with the golden file; when updating, re-save it and fail.

    An update run can never pass on a golden it rewrote: the rewrite is reported (here and in the run's
    summary) and a plain run, after reading `git diff`, is what compares."""

    def check(path: Path, actual: str) -> None:
        expected = path.read_text(encoding="utf-8") if path.exists() else None
        if actual == expected:
            return
        name = path.relative_to(PROJECT).as_posix() if path.is_relative_to(PROJECT) else str(path)
        if update:
            path.write_text(actual, encoding="utf-8")
            RESAVED.append(name)
            pytest.fail(f"re-saved {name}: read `git diff {name}`, then run the tests without --update-goldens",
                        pytrace=False)
        if expected is None:
            pytest.fail(f"no golden file {name}: run pytest --update-goldens and review it", pytrace=False)
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), name, "built now", lineterm="", n=2)
        pytest.fail(f"{name} differs from what is built now (if the change is meant, re-save it with"
                    f" pytest --update-goldens and review the diff):\n" + "\n".join(list(diff)[:80]), pytrace=False)

    return check


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if RESAVED:
        terminalreporter.section("golden files re-saved (their tests fail: review the diffs, then run again)")
        for name in RESAVED:
            terminalreporter.write_line(name)


def pretty_xml(text: str) -> str:
    """An XML document indented one element a line: goldens whose diffs a reviewer can read."""
    root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(remove_blank_text=True))
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


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


def tool_missing(message: str) -> NoReturn:
    """A tool a test needs is absent: fail when CI is set (CI must have it), else skip saying so loudly."""
    if in_ci():
        pytest.fail(f"{message} (CI is set: it must be installed)", pytrace=False)
    pytest.skip(message)


def require_pandoc() -> ModuleType:
    """pypandoc with a pandoc it can run: the independent reader of the books."""
    try:
        import pypandoc

        pypandoc.get_pandoc_version()
    except (ImportError, OSError) as error:
        missing = " ".join(str(error).split())
    else:
        return pypandoc
    tool_missing(f"PANDOC UNAVAILABLE — {missing}; pypandoc-binary (the test extra) provides pandoc 3")


def validators_present() -> bool:
    try:
        validate.find_java(), validate.find_epubcheck_jar(), validate.find_ace(), validate.find_chromium()
    except validate.ValidatorUnavailable:
        return False
    return True


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One narration clip cache for the session's narrated builds of the edition (and of parts of it)."""
    return tmp_path_factory.mktemp("clip-cache")


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory, clip_cache: Path) -> tuple[Path, BuildResult]:
    """The default build as `make edition` runs it, every profile, narration by the real engine, validators on.

    Outside CI, on a machine without the validators, the books are built unchecked and the validator tests
    skip saying so (a validating build without them publishes nothing). In CI they must be there."""
    output = tmp_path_factory.mktemp("full-build")
    options = BuildOptions(source=SOURCE, output=output, profiles=("standard", "readable", "large-print"),
                           cache_dir=clip_cache, validate=in_ci() or validators_present())
    return output, build(options)
