"""The librarians' shelf: ONIX, MARC 21 and OPDS records of the full build, each checked by the tool its
consumers use, and each check shown to reject a broken copy."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import onixcheck
import pytest
from conftest import in_ci
from lxml import etree
from pymarc import Field, Indicators, MARCReader, Subfield, parse_xml_to_array

from builder.run.build import BuildResult

PROJECT = Path(__file__).resolve().parent.parent
# ../shared beside the clone (CI); one level further up from a git worktree under a folder of worktrees.
SCHEMA_FOLDERS = (PROJECT.parent / "shared" / "schemas", PROJECT.parent.parent / "shared" / "schemas")
SCHEMAS = next((folder for folder in SCHEMA_FOLDERS if folder.is_dir()), SCHEMA_FOLDERS[0])
SLUG = "imind-spring-2025"
ONIX_CODE_LISTS = Path(onixcheck.__file__).parent / "schema" / "xsd3.1" / "ONIX_BookProduct_CodeLists.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
OPDS_CLIENT = PROJECT / "tools" / "opds-client"


def missing(what: str) -> None:
    message = f"{what} is missing: run scripts/setup-tools.sh"
    pytest.fail(f"{message} (CI is set: it must be installed)", pytrace=False) if in_ci() else pytest.skip(message)


@pytest.fixture(scope="module")
def output(full_build: tuple[Path, BuildResult]) -> Path:
    return full_build[0]


# ------------------------------------------------------------------------------------------------ ONIX

def onixcheck_run(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("onixcheck")), str(path), "-s", "xsd", "rng"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", [f"{SLUG}-onix.xml", f"{SLUG}-onix-3.0.xml"])
def test_onix_passes_onixcheck_xsd_and_rng(output: Path, name: str) -> None:
    run = onixcheck_run(output / name)
    assert run.returncode == 0 and "VALID" in run.stdout, run.stdout + run.stderr
    release = etree.parse(str(output / name)).getroot().get("release")
    assert release == ("3.1" if name.endswith("-onix.xml") else "3.0")


def code_list(number: int) -> set[str]:
    """The values of one ONIX code list, as the code lists onixcheck bundles (issue 75) define them."""
    tree = etree.parse(str(ONIX_CODE_LISTS))
    found = tree.find(f".//{XS}simpleType[@name='List{number}']")
    assert found is not None
    return {value.get("value") for value in found.iter(f"{XS}enumeration")}


def feature_codes(onix: etree._Element) -> list[tuple[str, str, str]]:
    """(record reference, ProductFormFeatureType, ProductFormFeatureValue) of every ProductFormFeature."""
    ns = {"o": onix.nsmap[None]}
    found = []
    for product in onix.iterfind("o:Product", ns):
        reference = product.findtext("o:RecordReference", namespaces=ns)
        for feature in product.iterfind(".//o:ProductFormFeature", ns):
            found.append((reference, feature.findtext("o:ProductFormFeatureType", namespaces=ns),
                          feature.findtext("o:ProductFormFeatureValue", namespaces=ns)))
    return found


def code_list_faults(onix: etree._Element) -> list[str]:
    """Accessibility (type 09, List 196) and hazard (type 12, List 143) values not in their code lists: the
    schemas accept any string there."""
    lists = {"09": code_list(196), "12": code_list(143)}
    return [f"{reference}: type {kind} value {value!r} is not in List {196 if kind == '09' else 143}"
            for reference, kind, value in feature_codes(onix) if kind in lists and value not in lists[kind]]


def test_onix_accessibility_and_hazard_codes_are_in_the_bundled_code_lists(output: Path) -> None:
    onix = etree.parse(str(output / f"{SLUG}-onix.xml")).getroot()
    assert code_list_faults(onix) == []
    by_product: dict[str, set[str]] = {}
    for reference, kind, value in feature_codes(onix):
        if kind == "09":
            by_product.setdefault(reference.rsplit("#", 1)[1], set()).add(value)
    # The text EPUB: summary, EPUB Accessibility 1.1, WCAG 2.2, AA, certifier and date, and the features.
    assert {"00", "04", "82", "85", "90", "91", "11", "13", "14", "17", "19", "22", "29", "36", "41", "52"} \
        <= by_product["epub"]
    assert "20" in by_product["narrated-epub"]  # synchronised pre-recorded (synthesised) audio
    assert "20" not in by_product["epub"]
    assert "04" not in by_product["audiobook"] and "51" in by_product["audiobook"]


def test_the_code_list_check_rejects_a_wrong_list_196_code_that_the_schemas_accept(output: Path,
                                                                                 tmp_path: Path) -> None:
    onix = etree.parse(str(output / f"{SLUG}-onix.xml"))
    bogus = next(f"{number:02d}" for number in range(100) if f"{number:02d}" not in code_list(196))
    value = next(element for element in onix.iter("{*}ProductFormFeatureValue")
                 if element.getparent().findtext("{*}ProductFormFeatureType") == "09")
    value.text = bogus
    broken = tmp_path / "wrong-list-196.xml"
    onix.write(str(broken), encoding="utf-8", xml_declaration=True)
    assert onixcheck_run(broken).returncode == 0  # the schemas let it through ...
    faults = code_list_faults(onix.getroot())
    assert len(faults) == 1 and f"value {bogus!r} is not in List 196" in faults[0]  # ... our check does not


def test_onixcheck_rejects_a_product_without_its_identifier(output: Path, tmp_path: Path) -> None:
    onix = etree.parse(str(output / f"{SLUG}-onix.xml"))
    product = next(onix.iter("{*}Product"))
    for identifier in product.findall("{*}ProductIdentifier"):  # the proprietary one and the URN
        product.remove(identifier)
    broken = tmp_path / "no-identifier.xml"
    onix.write(str(broken), encoding="utf-8", xml_declaration=True)
    run = onixcheck_run(broken)
    assert run.returncode != 0 and "ProductIdentifier" in run.stderr, run.stdout + run.stderr


def test_onix_credits_the_synthetic_narrator_as_such_and_gives_the_audio_duration(output: Path) -> None:
    onix = etree.parse(str(output / f"{SLUG}-onix.xml")).getroot()
    ns = {"o": onix.nsmap[None]}
    audio = next(product for product in onix.iterfind("o:Product", ns)
                 if product.findtext("o:RecordReference", namespaces=ns).endswith("#audiobook"))
    reader = next(contributor for contributor in audio.iterfind(".//o:Contributor", ns)
                  if contributor.findtext("o:ContributorRole", namespaces=ns) == "E07")
    assert reader.findtext("o:UnnamedPersons", namespaces=ns) == "07"  # synthesised voice
    assert "synthetic voice" in reader.findtext("o:BiographicalNote", namespaces=ns)
    assert audio.findtext(".//o:ProductForm", namespaces=ns) == "AJ"
    assert audio.findtext(".//o:ProductFormDetail", namespaces=ns) == "A103"
    assert re.fullmatch(r"\d{7}", audio.findtext(".//o:Extent/o:ExtentValue", namespaces=ns))
    editors = [contributor.findtext("o:PersonName", namespaces=ns)
               for contributor in audio.iterfind(".//o:Contributor", ns)
               if "B01" in [role.text for role in contributor.iterfind("o:ContributorRole", ns)]]
    assert editors == ["Dr Himanshu Garg", "Dr Sophia Senthil"]


# ------------------------------------------------------------------------------------------------ MARC 21

def marc_records(output: Path) -> list[Any]:
    with (output / f"{SLUG}.mrc").open("rb") as source:
        return list(MARCReader(source, to_unicode=True, force_utf8=True))


def tags(record: Any) -> list[str]:
    return [field.tag for field in record.get_fields()]


def test_marc_records_read_back_with_pymarc_in_both_serialisations(output: Path) -> None:
    binary = marc_records(output)
    xml = parse_xml_to_array(str(output / f"{SLUG}.marcxml"))
    assert [record.as_marc() for record in binary] == [record.as_marc() for record in xml]
    ebook, audiobook = binary
    assert ebook.leader[5:8] == "nam" and audiobook.leader[5:8] == "nim"
    for tag in ("006", "007", "008", "245", "264", "300", "336", "337", "338", "347", "341", "532", "546", "505",
                "700", "856", "776"):
        assert tag in tags(ebook), tag
    assert [field["b"] for field in ebook.get_fields("336")] == ["txt", "spw"]  # the narrated EPUB is spoken too
    assert ebook["337"]["b"] == "c" and ebook["338"]["b"] == "cr"
    assert all(field["2"] == "sapdv" for field in ebook.get_fields("341"))
    text_epub = [field for field in ebook.get_fields("341") if field["3"].startswith("EPUB 3;")]
    assert {field["a"] for field in text_epub} == {"textual", "visual"}
    narrated = [field for field in ebook.get_fields("341") if field["3"] == "EPUB 3 with synchronised narration"]
    assert {field["a"] for field in narrated} == {"textual", "visual", "auditory"}
    assert "synchronizedAudioText" in [subfield.value for field in narrated for subfield in field.subfields]
    for tag in ("306", "336", "344", "347", "511", "341", "655"):
        assert tag in tags(audiobook), tag
    assert audiobook["336"]["b"] == "spw"
    assert re.fullmatch(r"\d{6}", audiobook["306"]["a"])
    assert ("audio file", "MP3") in [(field["a"], field["b"]) for field in audiobook.get_fields("347")]
    assert "synthetic voice" in audiobook["511"]["a"]
    assert audiobook["341"]["a"] == "auditory"
    assert (audiobook["655"]["a"], audiobook["655"]["2"]) == ("Audiobooks.", "lcgft")


def yaz_marcdump(*arguments: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("yaz-marcdump") is None:
        missing("yaz-marcdump (Debian package yaz)")
    return subprocess.run(["yaz-marcdump", *arguments], capture_output=True, text=True, timeout=60)


def test_yaz_marcdump_reads_both_records_in_both_serialisations(output: Path) -> None:
    for arguments in (["-i", "marc", "-o", "line"], ["-i", "marcxml", "-o", "line"]):
        path = output / (f"{SLUG}.mrc" if arguments[1] == "marc" else f"{SLUG}.marcxml")
        run = yaz_marcdump(*arguments, str(path))
        assert run.returncode == 0 and not run.stderr, run.stderr
        leaders = [line for line in run.stdout.splitlines() if re.match(r"^\d{5}n[ai]m ", line)]
        assert [leader[5:8] for leader in leaders] == ["nam", "nim"], run.stdout[:400]
        for mode in ("textual", "visual", "auditory"):
            assert re.search(rf"^341 0  (\$3 [^$]+ )?\$a {mode} ", run.stdout, re.MULTILINE), mode


def lint(record: Any) -> list[str]:
    from marc_lint import MarcLint

    linter = MarcLint()
    linter.check_record(record)
    return linter.warnings()


def test_marc_lint_finds_nothing_in_either_record(output: Path) -> None:
    for record in marc_records(output):
        assert lint(record) == [], record["001"].data


def test_marc_lint_rejects_a_341_with_a_bad_indicator(output: Path) -> None:
    ebook = copy.deepcopy(marc_records(output)[0])
    ebook.add_ordered_field(Field("341", Indicators("7", " "), [Subfield("a", "textual"),
                                                               Subfield("b", "tableOfContents"),
                                                               Subfield("2", "sapdv")]))
    warnings = lint(ebook)
    assert len(warnings) == 1, warnings
    assert ": 341[" in warnings[0] and "Indicator 1 must be blank, 0 or 1" in warnings[0], warnings


# ------------------------------------------------------------------------------------------------ OPDS

def schema_registry() -> Any:
    """Every OPDS 2 and Readium schema, by its $id, in a local registry: nothing is fetched. The Readium
    BCP-47 pattern's JavaScript named groups (?<name>…) are rewritten as Python's (?P<name>…)."""
    from referencing import Registry, Resource

    if not SCHEMAS.is_dir():
        missing(f"{SCHEMAS} (the shared schemas beside the clone)")
    resources = []
    for path in sorted(SCHEMAS.glob("opds2/**/*.schema.json")) + sorted(
            SCHEMAS.glob("readium-webpub-manifest/**/*.schema.json")):
        text = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", path.read_text(encoding="utf-8"))
        contents = json.loads(text)
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def opds_errors(document: dict[str, Any], schema_id: str) -> list[str]:
    from jsonschema import Draft7Validator

    registry = schema_registry()
    validator = Draft7Validator(registry.contents(schema_id), registry=registry,
                                format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


FEED_SCHEMA = "https://drafts.opds.io/schema/feed.schema.json"
KEYS = {f"{SLUG}.epub": "epub", f"{SLUG}-readable.epub": "epub-readable",
        f"{SLUG}-large-print.epub": "epub-large-print", f"{SLUG}-narrated.epub": "narrated-epub"}


def product_key(publication: dict[str, Any]) -> str:
    href = publication["links"][0]["href"]
    return KEYS.get(href, "audiobook" if href.endswith(".mp3") else href)


def test_opds2_feed_is_valid_against_the_opds_and_readium_schemas(output: Path) -> None:
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    assert opds_errors(feed, FEED_SCHEMA) == []
    kinds = {product_key(publication): publication for publication in feed["publications"]}
    assert set(kinds) >= {"epub", "epub-readable", "epub-large-print", "narrated-epub", "audiobook"}
    with zipfile.ZipFile(output / f"{SLUG}-readable.epub") as book:
        own = etree.fromstring(book.read("EPUB/content.opf")).findtext(".//{http://purl.org/dc/elements/1.1/}identifier")
    assert kinds["epub-readable"]["metadata"]["identifier"] == own  # the book's own dc:identifier
    for publication in kinds.values():
        assert (output / publication["images"][0]["href"]).is_file()
        for link in publication["links"]:
            assert (output / link["href"]).is_file(), link
        assert set(publication["metadata"]["accessibility"]) >= {"summary", "accessMode", "accessModeSufficient",
                                                                 "feature", "hazard"}
    assert kinds["epub"]["metadata"]["accessibility"]["conformsTo"] == [
        "https://www.w3.org/TR/epub-a11y-11#wcag-2.2-aa"]
    assert "certification" in kinds["epub"]["metadata"]["accessibility"]
    assert kinds["audiobook"]["metadata"]["@type"] == "http://schema.org/Audiobook"
    # iMind's interviews: the text's voice, then the questions' (builder.narration.credits)
    assert [narrator["name"].split(", synthetic voice of eSpeak NG ")[0]
            for narrator in kinds["audiobook"]["metadata"]["narrator"]] == ["English (Great Britain)",
                                                                           "English (Great Britain), female3"]


def test_the_opds2_schema_rejects_an_entry_without_links(output: Path) -> None:
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    del feed["publications"][0]["links"]
    errors = opds_errors(feed, FEED_SCHEMA)
    assert errors == ["publications/0: 'links' is a required property"], errors


def test_the_opds2_schema_rejects_an_unknown_accessibility_feature(output: Path) -> None:
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    feed["publications"][0]["metadata"]["accessibility"]["feature"].append("mindReading")
    assert any("'mindReading' is not one of" in error for error in opds_errors(feed, FEED_SCHEMA))


def test_readiums_opds_client_library_reads_both_feeds(output: Path) -> None:
    if shutil.which("node") is None or not (OPDS_CLIENT / "node_modules" / "r2-opds-js").is_dir():
        missing("r2-opds-js (tools/opds-client)")
    run = subprocess.run(["node", str(OPDS_CLIENT / "read-feeds.js"), str(output)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    expected = [[link["href"] for link in publication["links"]] for publication in feed["publications"]]
    for version in ("opds2", "opds1"):
        assert [[href for _, _, href in publication["links"] if href != "opds.json"] for publication in seen[version]
                ] == expected, version
        assert all(publication["title"] for publication in seen[version])
    assert seen["opds2"][0]["a11y"]["ConformsTo"] == ["https://www.w3.org/TR/epub-a11y-11#wcag-2.2-aa"]
    assert seen["opds2"][0]["a11y"]["Feature"] == feed["publications"][0]["metadata"]["accessibility"]["feature"]


# ------------------------------------------------------------------------------------------------ statements

def test_the_display_guide_statements_are_in_the_report_and_the_feeds(output: Path) -> None:
    report = (output / "report.md").read_text(encoding="utf-8")
    for title in ("Ways of reading", "Conformance", "Navigation", "Rich content", "Hazards", "Accessibility summary",
                  "Legal considerations"):
        assert f"**{title}**" in report, title
    assert "All content can be read as read aloud speech or dynamic braille" in report
    assert "All the content is available as prerecorded audio synchronized with text" in report  # narrated
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    guide = feed["publications"][0]["metadata"]["https://www.w3.org/publishing/a11y/display-guide/"]
    assert [section["id"] for section in guide][:7] == [
        "ways-of-reading", "conformance", "navigation", "rich-content", "hazards", "accessibility-summary",
        "legal-considerations"]
    atom = etree.parse(str(output / "opds.xml"))
    headings = [h3.text for h3 in atom.iter("{http://www.w3.org/1999/xhtml}h3")]
    assert headings.count("Ways of reading") == len(feed["publications"])
    for name in (f"{SLUG}-onix.xml", f"{SLUG}.mrc", f"{SLUG}.marcxml", "opds.json", "opds.xml"):
        assert f"`{name}`" in report


def test_onix_lists_each_article_with_its_print_start_page(output: Path, full_build: tuple[Path, BuildResult]) -> None:
    onix = etree.parse(str(output / f"{SLUG}-onix.xml")).getroot()
    epub = next(product for product in onix.iter("{*}Product")
                if product.findtext("{*}RecordReference").endswith("#epub"))
    items = list(epub.iter("{*}ContentItem"))
    release = full_build[1].release
    assert release is not None
    assert [item.findtext(".//{*}TitleText") for item in items] == [article.title for article in
                                                                   release.edition.articles]
    pages = [item.findtext(".//{*}FirstPageNumber") for item in items]
    assert pages == [label if (label := article.page_label).isdigit() else None for article in release.edition.articles]


def test_a_long_contents_note_is_split_into_505s_that_marc_can_hold(tmp_path: Path) -> None:
    """MARC 21 fields hold 9,999 bytes: a hundred and twenty titled articles (a back issue bound as one)
    fill several 505s, the first "Contents", the rest continuing it, every title kept, in order."""
    from distribution_fixtures import fake_build
    from edition_fixtures import article, write_edition

    titles = [f"Article {number}: a title as long as the long ones in a magazine's contents, set out in full"
              for number in range(120)]
    articles = {f"a{number}": article("Some text.\n", title=title, authors=["Dr Ann Example", "Prof B. Sample"])
                for number, title in enumerate(titles)}
    source = write_edition(tmp_path / "big", articles)
    (source / "pronunciation.toml").write_text("", encoding="utf-8")
    fake_build(source, tmp_path / "out", jobs=1, cache=None)
    with (tmp_path / "out" / "fixture-edition.mrc").open("rb") as binary:
        records = list(MARCReader(binary, to_unicode=True, force_utf8=True))
    assert len(records) == 2 and None not in records
    for record in records:
        notes = record.get_fields("505")
        assert len(notes) > 1 and [field.indicator1 for field in notes] == ["0"] + ["8"] * (len(notes) - 1)
        assert all(len(field.as_marc("utf-8")) < 10_000 for field in notes)
        listed = [subfield.value.rstrip(" /.-") for field in notes for subfield in field.subfields
                  if subfield.code == "t"]
        assert listed == titles
