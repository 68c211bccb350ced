"""Every mistake a user can make in an edition's sources gets one clear line and exit code 1.

The corpus in tests/broken/ holds one minimal edition per mistake and, in expected.txt, the
message it must produce ("articles/a.md:8: error E041: …"). Each case runs through the command
line against an output folder holding a previous good build, which must stay byte-for-byte as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from edition_fixtures import (
    DIAGNOSTIC_LINE,
    MANIFEST,
    PROJECT,
    SOURCE,
    BrokenCase,
    Run,
    article,
    broken_cases,
    run_cli,
    snapshot,
    write_edition,
)

from builder.errors import CODES, Diagnostic, Severity
from builder.run import build as build_module
from builder.run import report as report_module
from builder.run.build import BuildOptions, build

CASES = broken_cases()
FAST = ["--no-audio", "--no-validate"]
# A refused build stops before narrating: with audio on, narration's sources (voices, lexicon) are read too.
REFUSED = ["--no-validate"]


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of a last good build, which no failed build may touch."""
    source = write_edition(tmp_path_factory.mktemp("good") / "source")
    output = tmp_path_factory.mktemp("previous")
    build(BuildOptions(source=source, output=output, audio=False, validate=False))
    return output


@pytest.fixture
def output(previous_build: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "output"
    shutil.copytree(previous_build, copy)
    return copy


def assert_clean_failure(run: Run, expected: tuple[str, ...]) -> None:
    """Exit code 1, the expected message, one line per diagnostic, and no traceback."""
    assert run.code == 1, run.err
    for text in expected:
        assert text in run.err, f"expected {text!r} in:\n{run.err}"
    assert "Traceback" not in run.err + run.out
    assert run.lines(), "a failure must say why"
    for line in run.lines():
        assert DIAGNOSTIC_LINE.match(line), f"not a one-line diagnostic: {line!r}"


def assert_untouched(output: Path, before: dict[str, str]) -> None:
    assert snapshot(output) == before, "a failed build changed the previous outputs"
    assert not list(output.glob(".staging-*")), "a failed build left its staging folder behind"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_broken_source_is_refused_with_one_clear_line(case: BrokenCase, output: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(output)
    if case.is_error:
        assert_clean_failure(run_cli(["check", case.folder], capsys), case.expected)
        assert_clean_failure(run_cli(["build", case.folder, "-o", output, *REFUSED], capsys), case.expected)
    else:
        checked = run_cli(["check", case.folder], capsys)
        assert checked.code == 0, checked.err
        for text in case.expected:
            assert text in checked.err
        assert all(DIAGNOSTIC_LINE.match(line) for line in checked.lines()), checked.err
        assert_clean_failure(run_cli(["check", "--strict", case.folder], capsys), case.strict_expected())
        assert_clean_failure(run_cli(["build", "--strict", case.folder, "-o", output, *REFUSED], capsys),
                             case.strict_expected())
    assert_untouched(output, before)


def test_the_corpus_covers_every_code() -> None:
    """Each code the builder can emit has a broken edition showing it (E060, E070, E071, E090 and W060 come from
    the machine, not the sources: they are tested apart)."""
    covered = {code for case in CASES for line in case.expected for code in re.findall(r"\b[EW]\d{3}\b", line)}
    assert set(CODES) - covered <= {"E060", "E070", "E071", "E090", "W060"}
    assert covered <= set(CODES)


def test_every_code_in_the_builder_is_documented() -> None:
    used = set()
    for path in (PROJECT / "builder").rglob("*.py"):  # every stage's folder
        if path.name == "products.py":  # its "E101" is ONIX's code for an EPUB (List 175), not a diagnostic
            continue
        used |= set(re.findall(r"[\"']([EW]\d{3})[\"']", path.read_text(encoding="utf-8")))
    assert used - set(CODES) == set(), "add these codes to builder.errors.CODES"
    assert all(code[0] == ("E" if code.startswith("E") else "W") for code in CODES)


def test_diagnostics_stay_on_one_line() -> None:
    diagnostic = Diagnostic("E013", "unknown kind 'a\nb'", "Use\tone.", Path("articles/a.md"), 3)
    assert str(diagnostic) == "articles/a.md:3: error E013: unknown kind 'a b'. Use one."
    assert str(diagnostic.as_error()) == str(diagnostic)
    assert Diagnostic("W001", "m", "r", severity=Severity.WARNING).as_error().severity is Severity.ERROR


def test_the_real_edition_checks_clean() -> None:
    """`check` validates everything without building (how fast is bench/bench.py's business, not a test's)."""
    result = subprocess.run([sys.executable, "-m", "builder", "check", "--strict", str(SOURCE)], cwd=PROJECT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "sources are valid" in result.stdout


def test_a_subprocess_failure_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    """The real entry point, not just main(): exit status, stderr, no traceback."""
    case = next(case for case in CASES if case.name == "image-missing")
    result = subprocess.run([sys.executable, "-m", "builder", "build", str(case.folder), "-o", str(tmp_path), *FAST],
                            cwd=PROJECT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert case.expected[0] in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    case = next(case for case in CASES if case.name == "article-unknown-kind")
    run = run_cli(["check", "--debug", case.folder], capsys)
    assert run.code == 1
    assert "Traceback" in run.err and case.expected[0] in run.err


def test_a_bug_is_one_line_unless_debugging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def broken(source: Path) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(build_module, "render_edition", broken)
    run = run_cli(["check", write_edition(tmp_path / "source")], capsys)
    assert run.code == 70
    assert run.lines() == ["internal error: RuntimeError: a bug over two lines (run with --debug for details)"]
    with pytest.raises(RuntimeError):
        run_cli(["check", "--debug", tmp_path / "source"], capsys)


FAULTED = {"version": "5.3.0", "fatal": 0, "errors": 2, "warnings": 0, "usages": 0,
           "messages": ["ERROR(RSC-005): EPUB/text/first.xhtml(12,4): Error while parsing file\nsecond line"]}


def test_a_book_the_validators_fault_is_not_published(previous_build: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Its metadata would say it was checked: the last good outputs stay, and one line says why.

    The verdict is a stand-in: sources that pass their checks make books the validators pass, so a faulted
    book needs a builder bug. Validators that cannot run are tested for real in test_machine.py."""
    clean = {"version": "1.4.6", "violations": {"critical": 0, "serious": 0, "moderate": 0, "minor": 0},
             "messages": []}
    monkeypatch.setattr(report_module, "validator_result", lambda name, path: FAULTED if name == "epubcheck" else clean)
    expected = ("error E070: fixture-edition.epub fails EPUBCheck 5.3.0: 0 fatal, 2 errors, 0 warnings; first:"
                " ERROR(RSC-005):")
    output = tmp_path / "output"
    shutil.copytree(previous_build, output)
    before = snapshot(output)
    # --no-cache: the recorded verdicts stand for the validators; a cached verdict must not answer for them
    run = run_cli(["build", write_edition(tmp_path / "source"), "-o", output, "--no-audio", "--no-cache"], capsys)
    assert run.code == 1
    (line,) = run.lines()
    assert line.startswith(expected), line
    assert snapshot(output) == before


def test_warnings_the_manifest_suppresses_are_silent_but_reported(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Sphinx's suppress_warnings: an unlisted draft (W002) the editors keep on purpose no longer warns or stops
    --strict; the report still lists it."""
    plain = write_edition(tmp_path / "plain")
    source = write_edition(tmp_path / "source", manifest=MANIFEST.format(articles='"first"') +
                           'suppress_warnings = ["W002"]\n')
    for edition in (plain, source):
        (edition / "articles" / "draft.md").write_text(article("Later.\n"), encoding="utf-8")
    assert "warning W002" in run_cli(["check", plain], capsys).err
    run = run_cli(["build", "--strict", source, "-o", tmp_path / "out", *FAST], capsys)
    assert run.code == 0 and run.err == "", run.err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["warnings"] == []
    assert [line.split(": ")[1] for line in report["suppressed_warnings"]] == ["warning W002"]


def test_an_unwritable_output_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_edition(tmp_path / "source")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = run_cli(["build", source, "-o", blocker / "output", *FAST], capsys)
    assert_clean_failure(run, ("error E090",))
    assert blocker.read_text() == "not a folder"


def test_an_unreadable_article_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_edition(tmp_path / "source")
    unreadable = source / "articles" / "first.md"
    unreadable.chmod(0)
    if os.geteuid() == 0:  # root reads any file (CI runs as root): make the read fail as it would for a user
        real = Path.read_bytes

        def read_bytes(path: Path) -> bytes:
            if path == unreadable:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert_clean_failure(run_cli(["check", source], capsys), ("articles/first.md: error E090",))


def test_a_missing_source_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_clean_failure(run_cli(["check", tmp_path / "nowhere"], capsys), ("nowhere: error E001",))


def test_windows_line_endings_and_a_byte_order_mark_are_accepted(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = "\ufeff" + article("## Part\r\n\r\nText with a note.[^1]\r\n\r\n[^1]: The note.\r\n").replace("\n", "\r\n")
    source = write_edition(tmp_path / "source", {"first": text.encode("utf-8")})
    run = run_cli(["check", "--strict", source], capsys)
    assert run.code == 0, run.err


def test_only_the_first_error_stops_but_warnings_before_it_are_kept(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Under --strict, all warnings are listed at once: an editor fixes them in one pass."""
    body = "<script>x()</script>\n\nA claim.[^1]\n\n[^1]: Note.\n[^2]: Orphan.\n"
    source = write_edition(tmp_path / "source", {"first": article(body, subtitel="Typo")})
    run = run_cli(["check", "--strict", source], capsys)
    assert run.code == 1
    assert [re.search(r"[EW]\d{3}", line).group() for line in run.lines()] == ["W003", "W050", "W032"]
    assert all(" error " in line for line in run.lines())


def test_front_matter_values_of_the_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "subtitle: [a, b]": "error E012: front-matter field 'subtitle' must be text, not a list",
        "content_notes: {a: 1}": "error E012: 'content_notes' must be a list",
        "authors: Jane": "error E012: 'authors' must be a list",
        "authors: [{role: author}]": "error E012: every author needs a name",
        "authors: [{name: Jo, role: chef}]": "error E013: unknown author role 'chef'",
        "authors: [{name: Jo, rol: author}]": "warning W003: unknown field 'rol' is ignored. Did you mean 'role'?",
        "page: yes": "error E012: front-matter field 'page' must be text, not true/false",
    }
    for number, (line, expected) in enumerate(cases.items()):
        text = f"---\ntitle: T\nkind: feature\nsummary: S.\n{line}\n---\nText.\n"
        source = write_edition(tmp_path / f"s{number}", {"first": text})
        run = run_cli(["check", source], capsys)
        (only,) = run.lines()
        assert only.startswith(f"{source / 'articles' / 'first.md'}:5: {expected}"), (line, run.err)


def test_a_content_note_written_as_text_is_one_note(tmp_path: Path) -> None:
    from builder.sources import load_edition

    source = write_edition(tmp_path / "source", {"first": article("Text.\n", content_notes="grief")})
    assert load_edition(source).edition.articles[0].content_notes == ("grief",)


def test_manifest_values_of_the_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = (PROJECT / "tests" / "broken" / "article-unlisted" / "edition.toml").read_text(encoding="utf-8")
    cases = {
        'narration = "loud"\n': "edition.toml:9: error E005: 'narration' must be a table",
        "\n[narration]\nvolume = 3\n": "edition.toml:11: error E005: narration volume is not valid",
        'slug = "Not A Slug"\n': "edition.toml:9: error E002",  # a repeated key is a TOML error
        'subtitle = ["a"]\n': "edition.toml:9: error E005: field 'subtitle' must be text",
    }
    for number, (extra, expected) in enumerate(cases.items()):
        root = tmp_path / f"m{number}"
        shutil.copytree(PROJECT / "tests" / "broken" / "article-unlisted", root)
        (root / "edition.toml").write_text(base + extra, encoding="utf-8")
        run = run_cli(["check", root], capsys)
        (only,) = run.lines()
        assert only.startswith(f"{root}/{expected}"), (extra, run.err)
    root = tmp_path / "date"
    shutil.copytree(PROJECT / "tests" / "broken" / "article-unlisted", root)
    (root / "edition.toml").write_text(base.replace('"2025-01-01"', "2025-01-01"), encoding="utf-8")
    assert run_cli(["check", root], capsys).code == 0, "an unquoted TOML date is a date"


def test_a_build_without_audio_reads_no_narration_sources(output: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Listing the engine's voices is a tenth of a text build: --no-audio leaves narration's sources alone;
    `check` and a narrated build still refuse them."""
    case = next(case for case in CASES if case.name == "lexicon-bad-entry")
    built = run_cli(["build", case.folder, "-o", output, *FAST], capsys)
    assert built.code == 0 and (output / "broken-test.epub").is_file(), built.err
    assert_clean_failure(run_cli(["check", case.folder], capsys), case.expected)
