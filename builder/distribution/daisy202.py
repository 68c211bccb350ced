"""DAISY 2.02 full text and full audio: NCC, SMIL 1.0, XHTML 1.0 content documents and the MP3s, zipped.

Made from the same sentence-marked documents and measured sentence timings as the narrated EPUB, so a
sentence starts at the same instant in both. A DAISY 2.02 book lives in one folder (the specification
keeps every file beside the NCC), so images are renamed flat. Endnotes are skippable structures:
their SMIL pars carry ``system-required="footnote-on"`` and the NCC lists each as a ``noteref``.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from builder.book.package import write_entry
from builder.narration.synthesis import ClipTiming, StoredAudio

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
SVG_NS = "http://www.w3.org/2000/svg"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FORMAT = "Daisy 2.02"
NCC = "ncc.html"
TITLE_NAME = "daisy_title"  # an underscore: no article slug can take this name
XHTML_DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                 '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')
SMIL_DOCTYPE = '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">'
# HTML5 elements an XHTML 1.0 reader does not know, and what they become.
AS_DIV = frozenset({"section", "article", "header", "footer", "aside", "nav", "main", "figure", "figcaption",
                    "details", "summary", "hgroup"})
AS_SPAN = frozenset({"mark", "time", "data", "bdi", "output"})
DROPPED = frozenset({"script", "style", "template", "link", "svg"})
KEPT_ATTRIBUTES = frozenset({"id", "class", "lang", "href", "src", "alt", "title", "colspan", "rowspan", "scope",
                             "headers", "start", "abbr", "cite", "datetime", "width", "height", "summary"})
HEADINGS = {f"h{level}": level for level in range(1, 7)}
COMPRESSED = (".mp3", ".jpg", ".jpeg", ".png", ".gif")


@dataclass(frozen=True)
class Part:
    """One narrated document of the talking book: a content document, its SMIL file and its MP3."""

    name: str  # file stem in the book: "editors-note"
    title: str
    xhtml: str  # the sentence-marked XHTML the narrated EPUB carries
    source_name: str  # its path in the EPUB ("text/editors-note.xhtml"), against which its links resolve
    audio: StoredAudio
    sentence_ids: tuple[str, ...]  # in reading order


@dataclass(frozen=True)
class TalkingBook:
    identifier: str
    title: str
    language: str
    publisher: str
    date: str
    creators: tuple[str, ...]
    narrators: tuple[str, ...]  # each voice's narrator name (builder.narration.credits): ncc:narrator may repeat
    generator: str
    parts: tuple[Part, ...]  # the title part first, then the articles
    images: Mapping[str, bytes | Path]  # path in the EPUB → content: the images the content documents show


@dataclass(frozen=True)
class Entry:
    """One NCC item, in reading order."""

    kind: str  # "h1" … "h6", "page-normal", "page-front", "page-special", "noteref"
    id: str
    text: str
    part: str
    sentence_id: str  # the par it links to


def file_name(slug: str) -> str:
    return f"{slug}-daisy202.zip"


def title_xhtml(title: str, publisher: str, language: str) -> str:
    """The spoken title page: the book's title and publisher, in the edition's words."""
    html = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS}, lang=language)
    html.set(XML_LANG, language)
    etree.SubElement(etree.SubElement(html, f"{{{XHTML_NS}}}head"), f"{{{XHTML_NS}}}title").text = title
    body = etree.SubElement(html, f"{{{XHTML_NS}}}body")
    etree.SubElement(body, f"{{{XHTML_NS}}}h1", id="title").text = title
    if publisher:
        etree.SubElement(body, f"{{{XHTML_NS}}}p", {"class": "publisher"}).text = publisher
    return etree.tostring(html, encoding="unicode")


def write_daisy202(book: TalkingBook, modified: datetime, target: Path) -> None:
    """Write the zipped talking book to `target` (a staging path: the build publishes it)."""
    images = {source: flat_name(source) for source in sorted(book.images)}
    texts: dict[str, bytes] = {}
    entries: list[Entry] = []
    elapsed = 0  # milliseconds
    for part in book.parts:
        tree = etree.fromstring(part.xhtml.encode("utf-8"))
        entries += ncc_entries(tree, part.name)
        skippable = footnote_sentences(tree)
        texts[f"{part.name}.html"] = content_document(tree, part, book, images)
        length = millis(part.audio.duration)
        texts[f"{part.name}.smil"] = smil_document(part, book, elapsed, length, skippable)
        elapsed += length
    texts[NCC] = ncc_document(book, entries, elapsed)
    files: dict[str, bytes | Path] = dict(texts)
    files.update({f"{part.name}.mp3": part.audio.path for part in book.parts})
    files.update({flat: book.images[source] for source, flat in images.items()})
    stamp = modified.astimezone(UTC).timetuple()[:6]
    folder = target.name.removesuffix(".zip")
    with zipfile.ZipFile(target, "w") as archive:
        for name in [NCC, *sorted(name for name in files if name != NCC)]:
            compression = zipfile.ZIP_STORED if name.endswith(COMPRESSED) else zipfile.ZIP_DEFLATED
            write_entry(archive, f"{folder}/{name}", stamp, compression, files[name])


def flat_name(source: str) -> str:
    """'images/charts/a.png' → 'images-charts-a.png': every file of the book beside the NCC."""
    return source.replace("/", "-")


def millis(seconds: float) -> int:
    return round(seconds * 1000)


def clock(ms: int) -> str:
    """Full clock value, "1:02:03.456", as the NCC and SMIL metadata give times."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def npt(seconds: float) -> str:
    return f"npt={millis(seconds) / 1000:.3f}s"


# ---------------------------------------------------------------------------- reading the marked documents


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _types(element: etree._Element) -> set[str]:
    return set((element.get(f"{{{OPS_NS}}}type") or "").split())


def _sentence_spans(element: etree._Element) -> Iterator[etree._Element]:
    for span in element.iter(f"{{{XHTML_NS}}}span"):
        if "sentence" in (span.get("class") or "").split() and span.get("id"):
            yield span


def first_sentence(element: etree._Element) -> str | None:
    return next((span.get("id") for span in _sentence_spans(element)), None)


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def page_kind(label: str) -> str:
    if label.isdigit():
        return "page-normal"
    if re.fullmatch(r"[ivxlcdm]+", label, flags=re.IGNORECASE):
        return "page-front"
    return "page-special"


def ncc_entries(tree: etree._Element, part: str) -> list[Entry]:
    """Headings, print pages and endnotes of one document, in reading order, each with the sentence it
    starts at (a page break, which is silent, starts at the sentence after it)."""
    entries: list[Entry] = []
    waiting: list[tuple[str, str]] = []  # page breaks before their first sentence: (kind, label)
    body = tree.find(f"{{{XHTML_NS}}}body")
    notes = 0
    for element in body.iter() if body is not None else ():
        name = _local(element)
        if "pagebreak" in _types(element) or "pagebreak" in (element.get("class") or "").split():
            label = element.get("id", "").removeprefix("page-") or text_of(element)
            waiting.append((page_kind(label), label))
        elif name in HEADINGS and (sentence := first_sentence(element)):
            entries += _pages(waiting, part, sentence)  # players credit a page to the heading after it
            entries.append(Entry(name, f"ncc-{sentence}", text_of(element), part, sentence))
        elif "endnote" in _types(element) and (sentence := first_sentence(element)):
            notes += 1
            entries += _pages(waiting, part, sentence)
            entries.append(Entry("noteref", f"ncc-{sentence}", str(notes), part, sentence))
        elif "sentence" in (element.get("class") or "").split() and waiting:
            entries += _pages(waiting, part, element.get("id", ""))
    return entries


def _pages(waiting: list[tuple[str, str]], part: str, sentence: str) -> list[Entry]:
    pages = [Entry(kind, f"ncc-page-{part}-{index}-{re.sub(r'[^A-Za-z0-9_-]', '_', label)}", label, part, sentence)
             for index, (kind, label) in enumerate(waiting)]
    waiting.clear()
    return pages


def footnote_sentences(tree: etree._Element) -> set[str]:
    """Sentences of endnotes: skippable (the 2.02 footnote-on test); a Notes heading stays playable."""
    return {span.get("id", "") for element in tree.iter() if "endnote" in _types(element)
            for span in _sentence_spans(element)}


# ---------------------------------------------------------------------------- content documents


def content_document(tree: etree._Element, part: Part, book: TalkingBook, images: Mapping[str, str]) -> bytes:
    """The EPUB content document as XHTML 1.0: HTML5 sectioning becomes div, MathML its spoken text,
    EPUB and ARIA attributes go; links point at the book's flat file names."""
    parts = {posixpath.splitext(posixpath.basename(p.source_name))[0]: p.name for p in book.parts}
    html = _convert(tree, part.source_name, parts, images)
    assert html is not None
    head = html.find(f"{{{XHTML_NS}}}head")
    if head is not None:
        for meta in [element for element in head if _local(element) == "meta"]:
            head.remove(meta)
        _meta(head, {"http-equiv": "Content-Type", "content": "application/xhtml+xml; charset=utf-8"}, 0)
        _meta(head, {"name": "dc:title", "content": part.title})
        _meta(head, {"name": "dc:identifier", "content": book.identifier})
        _meta(head, {"name": "dc:format", "content": FORMAT})
        _meta(head, {"name": "ncc:generator", "content": book.generator})
    xml = etree.tostring(html, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{XHTML_DOCTYPE}\n{xml}\n'.encode()


def _meta(head: etree._Element, attributes: dict[str, str], position: int | None = None) -> None:
    meta = etree.Element(f"{{{XHTML_NS}}}meta", attributes)
    if position is None:
        title = head.find(f"{{{XHTML_NS}}}title")
        head.insert(head.index(title) + 1 if title is not None else len(head), meta)
    else:
        head.insert(position, meta)


def _convert(element: etree._Element, source_name: str, parts: Mapping[str, str],
             images: Mapping[str, str]) -> etree._Element | None:
    """A copy of `element` in plain XHTML 1.0 (None: dropped)."""
    name = _local(element)
    namespace = etree.QName(element).namespace if isinstance(element.tag, str) else None
    if namespace == MATHML_NS:
        spoken = etree.Element(f"{{{XHTML_NS}}}span", {"class": "math"})
        spoken.text = element.get("alttext") or text_of(element)
        spoken.tail = element.tail
        return spoken
    if namespace != XHTML_NS or name in DROPPED:
        return None
    tag = "div" if name in AS_DIV else "span" if name in AS_SPAN else name
    copy = etree.Element(f"{{{XHTML_NS}}}{tag}", nsmap={None: XHTML_NS} if name == "html" else None)
    for key, value in element.attrib.items():
        if key == XML_LANG:
            copy.set(XML_LANG, value)
        elif key in KEPT_ATTRIBUTES:
            copy.set(key, _relinked(key, value, source_name, parts, images))
    if name == "a" and copy.get("href") == "":
        del copy.attrib["href"]  # a link to a document the talking book does not have
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        converted = _convert(child, source_name, parts, images)
        if converted is not None:
            copy.append(converted)
        elif child.tail:  # keep the words after a dropped element
            _append_text(copy, child.tail)
    return copy


def _append_text(parent: etree._Element, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _relinked(key: str, value: str, source_name: str, parts: Mapping[str, str], images: Mapping[str, str]) -> str:
    if key not in ("href", "src") or value.startswith(("#", "http:", "https:", "mailto:")):
        return value
    path, _, fragment = value.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source_name), path))
    if resolved in images:
        return images[resolved] + (f"#{fragment}" if fragment else "")
    stem = posixpath.splitext(posixpath.basename(resolved))[0]
    if stem in parts:
        return f"{parts[stem]}.html" + (f"#{fragment}" if fragment else "")
    return ""


# ---------------------------------------------------------------------------- SMIL


def smil_document(part: Part, book: TalkingBook, elapsed: int, length: int, skippable: set[str]) -> bytes:
    """SMIL 1.0: one par per sentence, its text in the content document and its clip in the part's MP3."""
    by_id: dict[str, ClipTiming] = {timing.sentence_id: timing for timing in part.audio.timings}
    missing = [sentence for sentence in part.sentence_ids if sentence not in by_id]
    if missing:
        raise ValueError(f"no audio timing for sentence(s) of {part.name}: {', '.join(missing[:5])}")
    smil = etree.Element("smil")
    head = etree.SubElement(smil, "head")
    for name, content in (("dc:format", FORMAT), ("dc:identifier", book.identifier), ("dc:title", part.title),
                          ("ncc:generator", book.generator), ("ncc:totalElapsedTime", clock(elapsed)),
                          ("ncc:timeInThisSmil", clock(length))):
        etree.SubElement(head, "meta", name=name, content=content)
    etree.SubElement(etree.SubElement(head, "layout"), "region", id="txtView")
    seq = etree.SubElement(etree.SubElement(smil, "body"), "seq", dur=f"{length / 1000:.3f}s")
    for sentence in part.sentence_ids:
        timing = by_id[sentence]
        par = etree.SubElement(seq, "par", endsync="last", id=f"par-{sentence}")
        if sentence in skippable:
            par.set("system-required", "footnote-on")
        etree.SubElement(par, "text", src=f"{part.name}.html#{sentence}", id=f"txt-{sentence}")
        etree.SubElement(par, "audio", {"src": f"{part.name}.mp3", "clip-begin": npt(timing.begin),
                                        "clip-end": npt(timing.end), "id": f"aud-{sentence}"})
    xml = etree.tostring(smil, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="utf-8"?>\n{SMIL_DOCTYPE}\n{xml}'.encode()


# ---------------------------------------------------------------------------- NCC


def ncc_document(book: TalkingBook, entries: Sequence[Entry], total: int) -> bytes:
    """The navigation control centre: the title first, then headings, pages and notes in reading order."""
    if not entries or entries[0].kind != "h1":
        raise ValueError("a DAISY 2.02 book starts with its title heading")
    html = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS}, lang=book.language)
    html.set(XML_LANG, book.language)
    head = etree.SubElement(html, f"{{{XHTML_NS}}}head")
    etree.SubElement(head, f"{{{XHTML_NS}}}title").text = book.title
    etree.SubElement(head, f"{{{XHTML_NS}}}meta", {"http-equiv": "Content-Type",
                                                    "content": "text/html; charset=utf-8"})
    for name, content in ncc_metadata(book, entries, total):
        etree.SubElement(head, f"{{{XHTML_NS}}}meta", name=name, content=content)
    body = etree.SubElement(html, f"{{{XHTML_NS}}}body")
    for index, entry in enumerate(entries):
        if entry.kind in HEADINGS:
            item = etree.SubElement(body, f"{{{XHTML_NS}}}{entry.kind}", id=entry.id)
            if index == 0:
                item.set("class", "title")
        else:
            item = etree.SubElement(body, f"{{{XHTML_NS}}}span", {"class": entry.kind, "id": entry.id})
        link = etree.SubElement(item, f"{{{XHTML_NS}}}a", href=f"{entry.part}.smil#par-{entry.sentence_id}")
        link.text = entry.text
    xml = etree.tostring(html, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="utf-8"?>\n{XHTML_DOCTYPE}\n{xml}'.encode()


def ncc_metadata(book: TalkingBook, entries: Sequence[Entry], total: int) -> list[tuple[str, str]]:
    def count(kind: str) -> str:
        return str(sum(entry.kind == kind for entry in entries))

    normal = [int(entry.text) for entry in entries if entry.kind == "page-normal"]
    depth = max((int(entry.kind[1]) for entry in entries if entry.kind in HEADINGS), default=1)
    metadata = [("dc:title", book.title), ("dc:identifier", book.identifier), ("dc:format", FORMAT),
                ("dc:date", book.date), ("dc:publisher", book.publisher)]
    metadata += [("dc:creator", creator) for creator in book.creators or (book.publisher,)]
    metadata += [("dc:language", book.language), ("ncc:charset", "utf-8"), ("ncc:generator", book.generator),
                 *(("ncc:narrator", narrator) for narrator in book.narrators), ("ncc:multimediaType", "audioFullText"),
                 ("ncc:totalTime", clock(total)), ("ncc:depth", str(depth)), ("ncc:tocItems", str(len(entries))),
                 ("ncc:pageFront", count("page-front")), ("ncc:pageNormal", count("page-normal")),
                 ("ncc:pageSpecial", count("page-special")), ("ncc:footnotes", count("noteref")),
                 ("ncc:files", str(files_in(book)))]
    if normal:
        metadata.append(("ncc:maxPageNormal", str(max(normal))))
    return metadata


def files_in(book: TalkingBook) -> int:
    """NCC, and per part its content document, SMIL file and MP3; and the images."""
    return 1 + 3 * len(book.parts) + len(book.images)
