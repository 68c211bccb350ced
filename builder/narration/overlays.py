"""EPUB 3 Media Overlays: one SMIL document per narrated article."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from lxml import etree

from builder.narration.speech import SpokenSentence
from builder.narration.synthesis import ClipTiming

SMIL_NS = "http://www.w3.org/ns/SMIL"
OPS_NS = "http://www.idpf.org/2007/ops"
_TEXTREF = f"{{{OPS_NS}}}textref"
_TYPE = f"{{{OPS_NS}}}type"


def clip_clock(seconds: float) -> str:
    """SMIL timecount value to the millisecond: "12.345s"."""
    return f"{round(seconds * 1000) / 1000:.3f}s"


def format_clock(seconds: float) -> str:
    """Full clock value for media:duration: "0:01:02.345"."""
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def smil_document(
    text_href: str,
    audio_href: str,
    timings: Sequence[ClipTiming],
    sentences: Sequence[SpokenSentence],
) -> str:
    """The Media Overlay of one content document, sentences in reading order.

    Endnotes and bibliography are grouped in ``<seq epub:type=…>`` so reading systems can
    skip them; as a SMIL ``seq`` needs a text reference and the section itself carries no
    id, the group points at its first sentence (its heading).
    """
    by_id = {timing.sentence_id: timing for timing in timings}
    missing = [s.id for s in sentences if s.id not in by_id]
    if missing:
        raise ValueError(f"no audio timing for sentence(s): {', '.join(missing[:5])}")
    smil = etree.Element(f"{{{SMIL_NS}}}smil", nsmap={None: SMIL_NS, "epub": OPS_NS}, version="3.0")
    body = etree.SubElement(smil, f"{{{SMIL_NS}}}body")
    body.set(_TEXTREF, text_href)
    for skippable, group in groupby(sentences, key=lambda s: s.skippable):
        members = list(group)
        parent = body
        if skippable is not None:
            parent = etree.SubElement(body, f"{{{SMIL_NS}}}seq")
            parent.set(_TYPE, skippable)
            parent.set(_TEXTREF, f"{text_href}#{members[0].id}")
        for sentence in members:
            _par(parent, text_href, audio_href, sentence.id, by_id[sentence.id])
    xml = etree.tostring(smil, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'


def _par(parent: etree._Element, text_href: str, audio_href: str, sentence_id: str, timing: ClipTiming) -> None:
    par = etree.SubElement(parent, f"{{{SMIL_NS}}}par", id=f"par-{sentence_id}")
    etree.SubElement(par, f"{{{SMIL_NS}}}text", src=f"{text_href}#{sentence_id}")
    etree.SubElement(
        par,
        f"{{{SMIL_NS}}}audio",
        src=audio_href,
        clipBegin=clip_clock(timing.begin),
        clipEnd=clip_clock(timing.end),
    )
