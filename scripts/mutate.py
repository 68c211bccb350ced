"""Mutation check: break one promised behaviour at a time, in a throwaway copy of the repository, and see the
suite catch it (docs/mutations.md says why each one matters).

    .venv/bin/python scripts/mutate.py [--only NAME ...] [--list]      (or: make mutate)

Each mutation replaces one exact piece of text (it must occur exactly once: a mutation whose text has moved is
reported as stale, not as caught) or changes the environment, then runs the tests named for it with CI=true.
It is caught when at least one of them fails; the failing tests are listed. Exit code 1 if any mutation survives
or is stale. The copy holds the tracked and new files (no .venv, no outputs), tools/node_modules linked, and
../shared beside it as CI has it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # "" for an environment-only mutation
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments: what must catch it
    env: dict[str, str] = field(default_factory=dict)


MUTATIONS = (
    Mutation("espeak-check-raises-runtime-error", "builder/narration/espeak.py",
             'raise EngineUnavailable(f"espeak-ng is not available ({missing}); {INSTALL_HINT}") from None',
             'raise RuntimeError(f"espeak-ng is not available ({missing}); {INSTALL_HINT}") from None',
             ("tests/test_machine.py",)),
    Mutation("espeak-data-unchecked", "builder/narration/espeak.py",
             "    missing = [name for name in ESPEAK_DATA_FILES if not (folder / name).is_file()]",
             "    missing: list[str] = []", ("tests/test_machine.py",)),
    Mutation("validator-result-reraises", "builder/run/report.py", '        return f"not run: {exc}"', "        raise",
             ("tests/test_machine.py", "tests/test_report.py")),
    Mutation("validator-failure-uncaught", "builder/run/report.py",
             "except (validate.ValidatorUnavailable, validate.ValidatorFailed) as exc:",
             "except validate.ValidatorUnavailable as exc:", ("tests/test_machine.py",)),
    Mutation("e071-once-per-book", "builder/run/report.py", "unavailable.setdefault(result.removeprefix(",
             'unavailable.setdefault(name + ": " + result.removeprefix(', ("tests/test_report.py",)),
    Mutation("e012-line-moved", "builder/sources/__init__.py", 'line = line_of(text, "authors")',
             'line = (line_of(text, "authors") or 0) + 7',
             ("tests/test_errors.py::test_front_matter_values_of_the_wrong_kind",)),
    Mutation("w050-misses-a-removal", "builder/sources/markdown_checks.py",
             "return [part for tag, attrs in start_tags(fragment) for part in attribute_problems(tag, attrs)]",
             "return [part for tag, attrs in start_tags(fragment)[1:] for part in attribute_problems(tag, attrs)]",
             ("tests/test_safety.py::test_what_nh3_removes_is_exactly_what_is_warned_about",)),
    Mutation("pull-quote-not-hidden", "builder/book/enrich.py",
             'aside = h("aside", class_="pullquote", epub_type="pullquote", aria_hidden="true")',
             'aside = h("aside", class_="pullquote", epub_type="pullquote")', ("tests/test_render.py",)),
    Mutation("alt-text-unchecked", "builder/sources/markdown_checks.py",
             "    if not decorative and not alt.strip():\n        raise",
             "    if False:\n        raise", ("tests/test_errors.py", "-k", "no-alt")),
    Mutation("xml-lang-dropped", "builder/book/xhtml.py", '    root.set(f"{{{XML}}}lang", language)\n', "",
             ("tests/test_render.py", "tests/test_navigation.py")),
    Mutation("nav-page-list-points-nowhere", "builder/book/navigation.py",
             'href=f"{document.file_name}#{page_id(label)}"',
             'href=f"{document.file_name}#p{page_id(label)}"', ("tests/test_navigation.py",)),
    Mutation("package-language-dropped", "builder/book/package.py", "    root.set(XML_LANG, language)\n", "",
             ("tests/test_package.py",)),
    Mutation("overlay-out-of-order", "builder/narration/overlays.py", "        for sentence in members:",
             "        for sentence in reversed(members):", ("tests/test_overlays.py", "tests/test_read_aloud.py")),
    Mutation("listening-time-not-measured", "builder/narration/read_aloud.py",
             "    return replace(document, xhtml=LISTENING_TIME.sub(",
             "    return document\n    return replace(document, xhtml=LISTENING_TIME.sub(",
             ("tests/test_read_aloud.py",)),
    # Every clip boundary 50 ms early: guarded by the unit test on clicks and by the decoded narrated book.
    Mutation("smil-clips-50-ms-early", "builder/narration/mp3.py", "DECODER_OFFSET_SAMPLES = 1105",
             "DECODER_OFFSET_SAMPLES = 0",
             ("tests/test_narration.py::test_timings_match_what_a_decoder_plays", "tests/test_narrated_book.py")),
    Mutation("threaded-engine-in-the-pool", "builder/narration/engines/base.py",
             '    return bool(getattr(factory, "speaks_in_threads", False))', "    return False",
             ("tests/test_narration.py::test_an_engine_that_speaks_in_threads_narrates_articles_side_by_side_in_this_process",)),
    Mutation("arena-always-shrunk", "builder/narration/engines/piper.py",
             "self._shrink if resident_bytes() >= ARENA_KEPT_BELOW else None", "self._shrink",
             ("tests/test_piper.py::test_the_arena_is_shrunk_only_after_runs_that_start_over_the_memory_budget",)),
    Mutation("golden-update-passes", "tests/conftest.py",
             '            pytest.fail(f"re-saved {name}: read',
             '            return\n            pytest.fail(f"re-saved {name}: read', ("tests/test_golden_flag.py",)),
    Mutation("pandoc-hidden", "", "", "", ("tests/test_fidelity.py::test_pandoc_finds_the_same_sentences",
              "tests/test_build.py::test_pandoc_reads_the_articles_in_order"),
             {"PYPANDOC_PANDOC": "/nonexistent/pandoc"}),
)


def copy_of_the_repository(folder: Path) -> Path:
    """The tracked and new files of the worktree (what a commit would hold), beside a link to ../shared."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    repo = folder / "repo"
    for name in filter(None, listed):
        source = PROJECT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    (repo / "tools" / "node_modules").symlink_to(PROJECT / "tools" / "node_modules")
    shared = PROJECT.parent.parent / "shared"
    if shared.is_dir():
        (folder / "shared").symlink_to(shared)
    return repo


def mutate(repo: Path, mutation: Mutation) -> bool:
    if not mutation.file:
        return True
    path = repo / mutation.file
    text = path.read_text(encoding="utf-8")
    if text.count(mutation.old) != 1:
        return False
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    return True


def run(mutation: Mutation) -> tuple[str, list[str], float]:
    """('caught' | 'SURVIVED' | 'STALE', the failing tests, seconds)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"mutate-{mutation.name}-") as folder:
        repo = copy_of_the_repository(Path(folder))
        if not mutate(repo, mutation):
            return "STALE", [], time.perf_counter() - started
        env = {**os.environ, "CI": "true", "PYTHONPATH": str(repo), **mutation.env}
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
                                 *mutation.tests], cwd=repo, env=env, capture_output=True, text=True)
    failed = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)))
    verdict = "caught" if result.returncode != 0 and failed else "SURVIVED"
    if verdict == "SURVIVED" and result.returncode not in (0, 1):
        verdict = f"SURVIVED (pytest exit {result.returncode})"
    return verdict, failed, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    arguments = parser.parse_args()
    chosen = [m for m in MUTATIONS if not arguments.only or m.name in arguments.only]
    if arguments.list:
        for mutation in chosen:
            print(f"{mutation.name}: {mutation.file or 'environment'} -> {' '.join(mutation.tests)}")
        return 0
    escaped = 0
    for mutation in chosen:
        verdict, failed, seconds = run(mutation)
        escaped += verdict != "caught"
        print(f"{mutation.name}: {verdict} in {seconds:.0f} s" + "".join(f"\n    {test}" for test in failed),
              flush=True)
    print(f"{len(chosen) - escaped} of {len(chosen)} mutations caught")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
