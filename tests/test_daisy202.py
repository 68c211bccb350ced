"""The DAISY 2.02 talking book (builder.distribution.daisy202): NCC, SMIL, content documents, MP3s.

Judged by jing on DAISY Pipeline's RELAX NG schemas, by the Schematron rules embedded in them, and by a
real player (daisy-player in tmux); each checker is shown to reject a broken copy."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from distribution_fixtures import (
    XHTML,
    Unpacked,
    daisy_player_screens,
    fake_build,
    jing,
    narrated_edition,
    schematron_failures,
    unpack,
)
from edition_fixtures import SOURCE
from lxml import etree

from builder.distribution import daisy202
from builder.run.build import BuildResult
from builder.sources import load_edition

X = {"x": XHTML}


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return narrated_edition(tmp_path_factory.mktemp("daisy-source"))


@pytest.fixture(scope="module")
def built(edition: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("daisy-output")
    fake_build(edition, output, jobs=1, cache=None)
    return output / "fixture-edition-daisy202.zip"


@pytest.fixture(scope="module")
def book(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Unpacked:
    return unpack(built, tmp_path_factory.mktemp("daisy-unpacked"))


def meta(tree: etree._ElementTree, name: str) -> list[str]:
    return [element.get("content") for element in tree.iterfind(f".//x:meta[@name='{name}']", X)]


def test_the_zip_is_one_folder_in_a_fixed_order_with_fixed_times(built: Path) -> None:
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
        assert names[0] == "fixture-edition-daisy202/ncc.html"
        assert names[1:] == sorted(names[1:])
        assert {name.split("/")[0] for name in names} == {"fixture-edition-daisy202"}
        assert {info.date_time for info in archive.infolist()} == {(2025, 1, 1, 0, 0, 0)}
        assert archive.testzip() is None
    stems = {Path(name).name for name in names}
    for part in ("daisy_title", "first", "second"):
        assert {f"{part}.html", f"{part}.smil", f"{part}.mp3"} <= stems
    assert "images-pixel.png" in stems


def test_ncc_metadata(book: Unpacked) -> None:
    ncc = etree.parse(str(book.ncc))
    once = {"dc:format": "Daisy 2.02", "dc:identifier": "urn:uuid:00000000-0000-4000-8000-0000000000aa",
            "dc:title": "Fixture Edition", "dc:date": "2025-01-01", "dc:publisher": "Test Press",
            "ncc:charset": "utf-8", "ncc:pageFront": "0", "ncc:pageNormal": "3", "ncc:pageSpecial": "0",
            "ncc:multimediaType": "audioFullText", "ncc:footnotes": "1", "ncc:maxPageNormal": "4"}
    for name, value in once.items():
        assert meta(ncc, name) == [value], name
    assert meta(ncc, "dc:creator") == ["Ada Writer"]
    assert meta(ncc, "dc:language") == ["en-GB"]
    assert "synthetic voice" in meta(ncc, "ncc:narrator")[0]
    assert meta(ncc, "ncc:generator")[0].startswith("edition-builder ")
    body = ncc.find("x:body", X)
    assert meta(ncc, "ncc:tocItems") == [str(len(body))]
    first = body[0]
    assert (etree.QName(first).localname, first.get("class"), first.findtext("x:a", namespaces=X)) == (
        "h1", "title", "Fixture Edition")


def test_ncc_lists_headings_pages_and_notes_in_reading_order(book: Unpacked) -> None:
    body = etree.parse(str(book.ncc)).find("x:body", X)
    items = [(etree.QName(item).localname, item.get("class"), item.findtext("x:a", namespaces=X)) for item in body]
    assert items == [
        ("h1", "title", "Fixture Edition"),
        ("span", "page-normal", "2"), ("h1", None, "The First Piece"), ("h2", None, "A section"),
        ("span", "page-normal", "3"), ("h2", None, "Notes"), ("span", "noteref", "1"),
        ("span", "page-normal", "4"), ("h1", None, "The Second Piece"),
    ], items


def test_every_link_lands(book: Unpacked) -> None:
    """NCC → SMIL par → content document id and MP3: nothing points nowhere."""
    body = etree.parse(str(book.ncc)).find("x:body", X)
    for link in body.iterfind(".//x:a", X):
        smil_name, fragment = link.get("href").split("#")
        smil = etree.parse(str(book.folder / smil_name))
        assert smil.find(f".//par[@id='{fragment}']") is not None, link.get("href")
    for smil_path in book.smils():
        smil = etree.parse(str(smil_path))
        for text in smil.iterfind(".//text"):
            document, fragment = text.get("src").split("#")
            assert etree.parse(str(book.folder / document)).find(f".//*[@id='{fragment}']") is not None
        assert {audio.get("src") for audio in smil.iterfind(".//audio")} == {smil_path.with_suffix(".mp3").name}


def test_smil_times_add_up(book: Unpacked) -> None:
    elapsed = 0
    for name in ("daisy_title", "first", "second"):  # reading order
        smil = etree.parse(str(book.folder / f"{name}.smil"))
        values = {element.get("name"): element.get("content") for element in smil.iterfind(".//meta")}
        assert values["dc:format"] == "Daisy 2.02"
        assert values["ncc:totalElapsedTime"] == daisy202.clock(elapsed)
        length = clock_ms(values["ncc:timeInThisSmil"])
        assert smil.find(".//seq").get("dur") == f"{length / 1000:.3f}s"
        ends = [float(audio.get("clip-end").removeprefix("npt=").removesuffix("s"))
                for audio in smil.iterfind(".//audio")]
        assert ends == sorted(ends) and ends[-1] * 1000 <= length
        elapsed += length
    assert meta(etree.parse(str(book.ncc)), "ncc:totalTime") == [daisy202.clock(elapsed)]


def clock_ms(value: str) -> int:
    hours, minutes, seconds = value.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def test_notes_are_skippable_and_their_heading_is_not(book: Unpacked) -> None:
    smil = etree.parse(str(book.folder / "first.smil"))
    content = etree.parse(str(book.folder / "first.html"))
    note = content.find(".//x:li[@id='fn1']", X)
    note_sentences = {span.get("id") for span in note.iterfind(".//x:span[@class='sentence']", X)}
    assert len(note_sentences) == 2
    skipped = {par.get("id").removeprefix("par-") for par in smil.iterfind(".//par[@system-required]")}
    assert skipped == note_sentences
    assert {par.get("system-required") for par in smil.iterfind(".//par[@system-required]")} == {"footnote-on"}


XHTML_1_ELEMENTS = (  # those the content documents may use
    "html head title meta body div p span a h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table caption thead tbody tfoot tr"
    " th td img br hr em strong i b sup sub code pre blockquote q cite abbr small big tt kbd var samp dfn del ins"
    " colgroup col")
XHTML1 = frozenset(XHTML_1_ELEMENTS.split())


def test_content_documents_are_xhtml_1(book: Unpacked) -> None:
    for document in sorted(book.folder.glob("*.html")):
        data = document.read_bytes()
        assert b"-//W3C//DTD XHTML 1.0 Transitional//EN" in data
        tree = etree.fromstring(data)
        names = {etree.QName(element).localname for element in tree.iter() if isinstance(element.tag, str)}
        assert names <= XHTML1, f"{document.name}: {sorted(names - XHTML1)}"
        assert {etree.QName(element).namespace for element in tree.iter() if isinstance(element.tag, str)} == {
            XHTML}
        attributes = {key for element in tree.iter() for key in element.attrib}
        assert not {key for key in attributes if key.startswith(("aria-", "role", "{http://www.idpf"))}
    first = etree.parse(str(book.folder / "first.html"))
    assert first.find(".//x:span[@class='math']", X).text  # the formula, as its spoken text
    assert first.find(".//x:img", X).get("src") == "images-pixel.png"


def test_same_bytes_for_any_jobs_and_cache_state(edition: Path, built: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    for jobs, run in ((2, "cold"), (2, "warm"), (1, "warm-one-job")):
        output = tmp_path / run
        fake_build(edition, output, jobs=jobs, cache=cache)
        assert hashlib.sha256((output / built.name).read_bytes()).hexdigest() == digest, run


# ---------------------------------------------------------------------------- validators, and broken copies


def test_ncc_and_smil_pass_jing(book: Unpacked, tmp_path: Path) -> None:
    assert jing("d202ncc.rng", [book.ncc], tmp_path / "ncc") == (0, "")
    assert jing("d202smil.rng", book.smils(), tmp_path / "smil") == (0, "")


def test_ncc_and_smil_pass_the_schematron_rules(book: Unpacked) -> None:
    assert schematron_failures("d202ncc.rng", book.ncc) == []
    for smil in book.smils():
        assert schematron_failures("d202smil.rng", smil) == [], smil.name


def broken_copies(ncc: Path) -> Iterator[tuple[str, etree._ElementTree]]:
    tree = etree.parse(str(ncc))
    tree.find(".//x:meta[@name='ncc:tocItems']", X).set("content", "99")
    yield "tocItems", tree
    tree = etree.parse(str(ncc))
    identifier = tree.find(".//x:meta[@name='dc:identifier']", X)
    identifier.getparent().remove(identifier)
    yield "identifier", tree


def test_schematron_rejects_a_wrong_toc_count_and_a_missing_identifier(book: Unpacked, tmp_path: Path) -> None:
    expected = {"tocItems": "ncc:tocItems seems incorrect", "identifier": "dc:identifier seems not to be in ncc"}
    for broken, tree in broken_copies(book.ncc):
        failures = schematron_failures("d202ncc.rng", tree)
        assert any(expected[broken] in failure for failure in failures), (broken, failures)
        # jing alone lets both through: why the Schematron run is needed.
        copy = tmp_path / broken / "ncc.html"
        copy.parent.mkdir()
        tree.write(str(copy), encoding="utf-8", xml_declaration=True)
        assert jing("d202ncc.rng", [copy], tmp_path / broken / "jing")[0] == 0, broken


def test_jing_rejects_an_ncc_without_its_title_heading(book: Unpacked, tmp_path: Path) -> None:
    tree = etree.parse(str(book.ncc))
    del tree.find("x:body/x:h1", X).attrib["class"]
    copy = tmp_path / "ncc.html"
    tree.write(str(copy), encoding="utf-8", xml_declaration=True)
    code, output = jing("d202ncc.rng", [copy], tmp_path / "jing")
    assert code != 0 and "class" in output, output


def test_schematron_rejects_a_smil_without_its_format(book: Unpacked) -> None:
    tree = etree.parse(str(book.folder / "first.smil"))
    element = tree.find(".//meta[@name='dc:format']")
    element.getparent().remove(element)
    assert any("dc:format" in failure for failure in schematron_failures("d202smil.rng", tree))


# ---------------------------------------------------------------------------- the real edition, real player


@pytest.fixture(scope="module")
def imind(full_build: tuple[Path, BuildResult], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Unpacked]:
    archive = full_build[0] / "imind-spring-2025-daisy202.zip"
    return archive, unpack(archive, tmp_path_factory.mktemp("imind-daisy"))


def test_imind_passes_jing_and_schematron(imind: tuple[Path, Unpacked], tmp_path: Path) -> None:
    book = imind[1]
    assert jing("d202ncc.rng", [book.ncc], tmp_path / "ncc") == (0, "")
    assert jing("d202smil.rng", book.smils(), tmp_path / "smil") == (0, "")
    assert schematron_failures("d202ncc.rng", book.ncc) == []
    for smil in book.smils():
        assert schematron_failures("d202smil.rng", smil) == [], smil.name


def test_imind_sentences_start_when_they_do_in_the_narrated_epub(
        imind: tuple[Path, Unpacked], full_build: tuple[Path, BuildResult]) -> None:
    with zipfile.ZipFile(full_build[0] / "imind-spring-2025-narrated.epub") as epub:
        smil_names = [name for name in epub.namelist() if name.endswith(".smil")]
        assert len(smil_names) == 16
        for name in smil_names:
            overlay = etree.fromstring(epub.read(name))
            epub_clips = [(audio.get("clipBegin"), audio.get("clipEnd"))
                          for audio in overlay.iter("{http://www.w3.org/ns/SMIL}audio")]
            daisy = etree.parse(str(imind[1].folder / Path(name).name))
            daisy_clips = [(audio.get("clip-begin").removeprefix("npt="), audio.get("clip-end").removeprefix("npt="))
                           for audio in daisy.iter("audio")]
            assert daisy_clips == epub_clips, name


def test_daisy_player_lists_the_title_the_sixteen_articles_and_the_total_time(
        imind: tuple[Path, Unpacked], full_build: tuple[Path, BuildResult], tmp_path: Path) -> None:
    archive, book = imind
    ncc = etree.parse(str(book.ncc))
    total = meta(ncc, "ncc:totalTime")[0]
    hours, minutes, seconds = total.split(":")
    shown_total = f"{int(hours):02d}:{minutes}:{seconds.split('.')[0]}"
    screens = daisy_player_screens(archive, tmp_path)
    listing = "\n".join(screens)
    assert f"total length: {shown_total}" in screens[0], screens[0]
    assert "iMind: The Magazine" in screens[0]
    titles = [article.title for article in load_edition(SOURCE).edition.articles]
    assert len(titles) == 16
    items = [re.sub(r"[ .]*(\(\s*\d+\))?\s*(\d\d:\d\d)?\s*$", "", line).strip() for line in listing.splitlines()]
    for title in titles:
        assert any(item and title.startswith(item[:40]) for item in items), (title, listing)



def test_the_report_lists_the_talking_book(built: Path) -> None:
    report = json.loads((built.parent / "report.json").read_text(encoding="utf-8"))
    entry = report["formats"][built.name]
    assert entry["format"].startswith("DAISY 2.02")
    assert entry["sha256"] == hashlib.sha256(built.read_bytes()).hexdigest()
    assert f"`{built.name}`: DAISY 2.02" in (built.parent / "report.md").read_text(encoding="utf-8")
