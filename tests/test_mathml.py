"""LaTeX → MathML in the helper process gives what the converter gives here, errors included."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from builder.book.mathml import Converter, UnreadableLatex, convert_here

FORMULA = r"\text{Productivity} = \frac{\text{Output}}{\text{Input}}"


@pytest.fixture
def helped() -> Iterator[Converter]:
    converter = Converter()
    converter.start_helper()
    yield converter
    converter.stop_helper()


def test_the_helper_converts_as_this_process_does(helped: Converter) -> None:
    assert helped.convert(FORMULA) == convert_here(FORMULA)
    assert helped._helper is not None and helped._helper.poll() is None  # answered by the helper, still up
    assert "<mfrac>" in helped.convert(FORMULA)


def test_unreadable_latex_gives_the_same_reason_through_the_helper(helped: Converter) -> None:
    with pytest.raises(UnreadableLatex) as here:
        convert_here("x^")
    with pytest.raises(UnreadableLatex) as there:
        helped.convert("x^")
    assert str(there.value) == str(here.value) != ""


def test_a_dead_helper_is_replaced_by_converting_here(helped: Converter) -> None:
    assert helped._helper is not None
    helped._helper.kill()
    helped._helper.wait()
    assert helped.convert(FORMULA) == convert_here(FORMULA)
    assert helped._helper is None


def test_stopping_leaves_no_process() -> None:
    converter = Converter()
    converter.start_helper()
    helper = converter._helper
    converter.stop_helper()
    assert helper is not None and helper.poll() is not None
    assert converter.convert(FORMULA) == convert_here(FORMULA)  # and conversion still works


def test_a_helper_that_cannot_start_leaves_conversion_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    converter = Converter()
    converter.start_helper()
    assert converter._helper is None
    assert converter.convert(FORMULA) == convert_here(FORMULA)


def test_threads_sharing_the_helper_each_get_their_own_answer(helped: Converter) -> None:
    """Editions rendered in threads share the process's helper: one question and its answer at a time."""
    formulas = [rf"x_{{{n}}} = \frac{{{n}}}{{y + {n}}}" for n in range(40)]
    expected = {formula: convert_here(formula) for formula in formulas}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(helped.convert, formulas * 3))
    assert answers == [expected[formula] for formula in formulas * 3]
    assert helped._helper is not None and helped._helper.poll() is None  # the helper answered them all


def test_stopping_the_helper_while_threads_ask_loses_no_answer(helped: Converter) -> None:
    formulas = [rf"a^{{{n}}} + b_{{{n}}}" for n in range(60)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = [pool.submit(helped.convert, formula) for formula in formulas]
        helped.stop_helper()  # as a build does after its last formula, while another edition's threads ask
        answers = [future.result(timeout=60) for future in asked]
    assert answers == [convert_here(formula) for formula in formulas]
