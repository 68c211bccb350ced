"""Media Overlay SMIL documents (builder.narration.overlays)."""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from builder.narration.overlays import clip_clock, format_clock, smil_document
from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import ClipTiming, FakeSynthesizer, Voice, narrate

SMIL = "{http://www.w3.org/ns/SMIL}"
EPUB = "{http://www.idpf.org/2007/ops}"


def sentence(number: int, skippable: str | None = None) -> SpokenSentence:
    return SpokenSentence(f"a-s{number:04d}", f"Sentence {number}.", f"Sentence {number}.", skippable)


SENTENCES = [sentence(1), sentence(2), sentence(3), sentence(4, "endnotes"), sentence(5, "endnotes"),
             sentence(6, "bibliography")]


@pytest.fixture(scope="module")
def narrated() -> tuple[str, float]:
    audio = narrate([("a", SENTENCES)], Voice("en-gb", 175, 1.0), FakeSynthesizer, None, jobs=1)[0]
    return smil_document("../text/a.xhtml", "../audio/a.mp3", audio.timings, SENTENCES), audio.duration


def seconds(clock: str) -> float:
    assert clock.endswith("s")
    return float(clock[:-1])


def test_smil_structure(narrated: tuple[str, float]) -> None:
    smil, _ = narrated
    assert smil.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<smil xmlns="http://www.w3.org/ns/SMIL" '
                           'xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">')
    root = etree.fromstring(smil.encode("utf-8"))
    body = root.find(f"{SMIL}body")
    assert body.get(f"{EPUB}textref") == "../text/a.xhtml"
    texts = [text.get("src") for text in root.iter(f"{SMIL}text")]
    assert texts == [f"../text/a.xhtml#{s.id}" for s in SENTENCES]  # reading order
    assert {audio.get("src") for audio in root.iter(f"{SMIL}audio")} == {"../audio/a.mp3"}
    assert len({par.get("id") for par in root.iter(f"{SMIL}par")}) == len(SENTENCES)


def test_skippable_structures_are_grouped(narrated: tuple[str, float]) -> None:
    root = etree.fromstring(narrated[0].encode("utf-8"))
    body = root.find(f"{SMIL}body")
    children = [(child.tag.removeprefix(SMIL), child.get(f"{EPUB}type")) for child in body]
    assert children == [("par", None)] * 3 + [("seq", "endnotes"), ("seq", "bibliography")]
    notes = body.findall(f"{SMIL}seq")[0]
    assert notes.get(f"{EPUB}textref") == "../text/a.xhtml#a-s0004"
    assert len(notes.findall(f"{SMIL}par")) == 2


def test_clips_are_contiguous_and_sum_to_the_duration(narrated: tuple[str, float]) -> None:
    smil, duration = narrated
    audios = list(etree.fromstring(smil.encode("utf-8")).iter(f"{SMIL}audio"))
    assert audios[0].get("clipBegin") == "0.000s"
    for before, after in itertools.pairwise(audios):
        assert after.get("clipBegin") == before.get("clipEnd")
    total = sum(seconds(a.get("clipEnd")) - seconds(a.get("clipBegin")) for a in audios)
    assert total == pytest.approx(duration, abs=0.05)


def test_missing_timing_is_an_error() -> None:
    with pytest.raises(ValueError, match="a-s0002"):
        smil_document("a.xhtml", "a.mp3", [ClipTiming("a-s0001", 0.0, 1.0)], SENTENCES[:2])


@pytest.mark.parametrize(
    ("value", "clock"),
    [(0, "0:00:00.000"), (62.345, "0:01:02.345"), (3725.0004, "1:02:05.000"), (59.9996, "0:01:00.000")],
)
def test_format_clock(value: float, clock: str) -> None:
    assert format_clock(value) == clock


def test_clip_clock() -> None:
    assert clip_clock(12.3454) == "12.345s"
    assert clip_clock(61) == "61.000s"
