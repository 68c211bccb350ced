"""The golden files' flag: an update run re-saves what differs and fails; only a plain run can pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RESAVED, golden_check


def test_an_update_run_re_saves_a_differing_golden_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "case.xhtml"
    path.write_text("<p>old</p>\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=r"re-saved .*case\.xhtml: read `git diff"):
        golden_check(update=True)(path, "<p>new</p>\n")
    assert path.read_text(encoding="utf-8") == "<p>new</p>\n"
    assert RESAVED.pop() == str(path)  # listed in the run's summary
    golden_check(update=True)(path, "<p>new</p>\n")  # nothing to re-save: nothing to review
    golden_check(update=False)(path, "<p>new</p>\n")  # the plain run compares, and passes


def test_a_plain_run_fails_on_a_difference_and_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "case.xhtml"
    path.write_text("<p>one</p>\n<p>two</p>\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)differs from what is built now.*-<p>two</p>\n\+<p>2</p>"):
        golden_check(update=False)(path, "<p>one</p>\n<p>2</p>\n")
    assert path.read_text(encoding="utf-8") == "<p>one</p>\n<p>two</p>\n"  # never rewritten by a plain run
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        golden_check(update=False)(tmp_path / "missing.xhtml", "x")
