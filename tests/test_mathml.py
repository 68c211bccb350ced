"""LaTeX → MathML in the helper process gives what the converter gives here, errors included."""

from __future__ import annotations

from collections.abc import Iterator

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
