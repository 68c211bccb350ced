"""End to end: the edition builds into an EPUB whose structure, navigation and metadata are right."""

from __future__ import annotations

import itertools
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT, SOURCE, require_pandoc
from ebooklib import epub
from lxml import etree

from builder.cli import main

NS = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
MANIFEST = tomllib.loads((SOURCE / "edition.toml").read_text(encoding="utf-8"))


def opf(epub_path: Path) -> etree._Element:
    with zipfile.ZipFile(epub_path) as book:
        return etree.fromstring(book.read("EPUB/content.opf"))


def test_spine_follows_the_printed_contents(text_epub: Path) -> None:
    book = epub.read_epub(str(text_epub))
    spine = [book.get_item_with_id(idref).file_name for idref, _ in book.spine]
    expected = ["text/title.xhtml", "text/contents.xhtml"] + [f"text/{slug}.xhtml" for slug in MANIFEST["articles"]]
    assert spine == expected
    assert len(MANIFEST["articles"]) == 16


def test_every_document_is_well_formed_xhtml_with_language(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        documents = [name for name in book.namelist() if name.endswith(".xhtml")]
        for name in documents:
            root = etree.fromstring(book.read(name))  # raises if not well-formed
            assert root.get("lang") == "en-GB", name
            assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB", name
    assert len(documents) == 16 + 3  # articles, title page, contents, nav


def test_each_article_has_one_h1_and_no_skipped_levels(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        for slug in MANIFEST["articles"]:
            root = etree.fromstring(book.read(f"EPUB/text/{slug}.xhtml"))
            levels = [int(h.tag[-1]) for h in root.iter() if isinstance(h.tag, str)
                      and h.tag.startswith("{http://www.w3.org/1999/xhtml}h") and h.tag[-1].isdigit()]
            assert levels.count(1) == 1, slug
            for before, after in itertools.pairwise(levels):
                assert after <= before + 1, f"{slug}: h{before} then h{after}"
            chapter = root.find(".//h:section[@epub:type='chapter']", NS)
            assert chapter is not None and chapter.get("role") == "doc-chapter"


def test_nav_has_two_level_toc_landmarks_and_page_list(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        nav = etree.fromstring(book.read("EPUB/nav.xhtml"))
    toc = nav.find(".//h:nav[@epub:type='toc']", NS)
    top = toc.findall("h:ol/h:li", NS)
    assert [li.find("h:a", NS).text for li in top][2:5] == [
        "From the Editorial team", "Views from the Chair", "The Role of Compassionate and Relational Psychiatry"]
    assert len(top) == 18
    nested = toc.findall("h:ol/h:li/h:ol/h:li/h:a", NS)
    assert any(a.text == "Defining Compassionate and Relational Psychiatry" for a in nested)
    landmarks = [a.get(f"{{{NS['epub']}}}type") for a in nav.findall(".//h:nav[@epub:type='landmarks']//h:a", NS)]
    assert landmarks == ["titlepage", "toc", "bodymatter"]
    pages = [a.text for a in nav.findall(".//h:nav[@epub:type='page-list']//h:a", NS)]
    assert pages[:4] == ["2", "4", "5", "7"] and len(pages) == 16


def test_package_metadata_comes_from_the_manifest(text_epub: Path) -> None:
    package = opf(text_epub)
    assert package.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    metadata = package.find("opf:metadata", NS)
    assert metadata.findtext("dc:identifier", namespaces=NS) == MANIFEST["identifier"]
    assert metadata.findtext("dc:language", namespaces=NS) == "en-GB"
    assert metadata.findtext("dc:publisher", namespaces=NS) == MANIFEST["publisher"]
    assert metadata.findtext("dc:date", namespaces=NS) == MANIFEST["date"]
    assert MANIFEST["title"] in metadata.findtext("dc:title", namespaces=NS)
    creators = [c.text for c in metadata.findall("dc:creator", NS)]
    assert "Dr Gareth Jarvis" in creators and "Dr Florian Ruths" in creators
    assert metadata.findtext("dc:source", namespaces=NS) == MANIFEST["print_source"]


def test_ebooklib_reads_the_book_back(text_epub: Path) -> None:
    book = epub.read_epub(str(text_epub))
    assert book.get_metadata("DC", "language")[0][0] == "en-GB"
    assert book.get_item_with_href("text/compassionate-care-trauma-informed.xhtml") is not None


def test_pandoc_reads_the_articles_in_order(text_epub: Path) -> None:
    pypandoc = require_pandoc()
    text = pypandoc.convert_file(str(text_epub), "plain", format="epub", extra_args=["--wrap=none"])
    anchors = ["Dear Faculty members", "Prof Alison Pugh argues in her book",
               "Good morning, Florian. Can you tell me about yourself?"]
    positions = [text.find(anchor) for anchor in anchors]
    assert -1 not in positions and positions == sorted(positions)


def test_cli_builds_and_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(SOURCE), "-o", str(tmp_path), "--no-audio", "--no-validate"]) == 0
    assert (tmp_path / "imind-spring-2025.epub").is_file()
    assert "wrote" in capsys.readouterr().out


def test_cli_reports_a_user_error_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "edition.toml").write_text('title = "x"\nlanguage = \n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "builder", "build", str(source), "-o", str(tmp_path / "out"),
                          "--no-audio"], capture_output=True, text=True, cwd=PROJECT)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{source / 'edition.toml'}:2: error E002: ")
    assert "Traceback" not in run.stderr


def test_version_names_the_command() -> None:
    from builder import __version__

    commands = [[sys.executable, "-m", "builder"]]
    installed = Path(sys.executable).with_name("edition-builder")
    if installed.exists():  # the console script of an installed package (scripts/setup.sh installs it)
        commands.append([str(installed)])
    for command in commands:
        run = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=PROJECT, check=False)
        assert (run.returncode, run.stdout, run.stderr) == (0, f"edition-builder {__version__}\n", "")


def test_help_explains_every_option() -> None:
    run = subprocess.run([sys.executable, "-m", "builder", "build", "--help"], capture_output=True, text=True,
                         cwd=PROJECT)
    assert run.returncode == 0
    for option in ("--output", "--no-audio", "--strict", "--jobs", "--cache-dir", "--no-cache", "--voice",
                   "--debug"):
        assert option in run.stdout
