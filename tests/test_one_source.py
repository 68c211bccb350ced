"""One source of truth (issue 14, item 7): every format's accessibility claims come from the one derived model,
so a change in the sources changes them all together. Built for real, narration included: three articles of
the edition (the one with the equation, the two with images), then the same without the equation, then
without any image."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from pymarc import MARCReader

from builder.run.build import BuildOptions, build

PROJECT = Path(__file__).resolve().parent.parent
ARTICLES = ["presidential-lead-interview", "compassionate-care-trauma-informed", "relational-practice-manifesto"]
EQUATION = re.compile(r"::: equation[^\n]*\n\$\$\n.*?\n\$\$\n:::\n", re.DOTALL)
IMAGE = re.compile(r"!\[[^\n]*\n(\n::: description\n.*?\n:::\n)?", re.DOTALL)
OPF = "{http://www.idpf.org/2007/opf}"


def edition(root: Path, change: str) -> Path:
    shutil.copytree(PROJECT / "source", root, ignore=shutil.ignore_patterns("original"))
    manifest = root / "edition.toml"
    listed = ", ".join(f'"{slug}"' for slug in ARTICLES)
    manifest.write_text(re.sub(r"(?ms)^articles = \[.*?\]", f"articles = [{listed}]", manifest.read_text()))
    for slug in ARTICLES:
        path = root / "articles" / f"{slug}.md"
        text = path.read_text(encoding="utf-8")
        if change == "no-equation":
            text, count = EQUATION.subn("", text)
            assert count == (1 if slug == "compassionate-care-trauma-informed" else 0)
        if change == "no-images":
            text = IMAGE.sub("", text)
            assert "![" not in text
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory, clip_cache: Path) -> dict[str, Path]:
    """The three builds, sharing the session's clip cache: only what a change touches is spoken anew."""
    outputs = {}
    for change in ("as-printed", "no-equation", "no-images"):
        source = edition(tmp_path_factory.mktemp(change) / "source", change)
        output = source.parent / "output"
        build(BuildOptions(source=source, output=output, validate=False, cache_dir=clip_cache))
        outputs[change] = output
    return outputs


def claims(output: Path) -> dict[str, dict[str, Any]]:
    """The text EPUB's claims as each format states them: features (schema.org names, or the ONIX codes),
    access modes, and the summary."""
    slug = "imind-spring-2025"
    with zipfile.ZipFile(output / f"{slug}.epub") as book:
        opf = etree.fromstring(book.read("EPUB/content.opf"))
    metas = [(meta.get("property"), meta.text) for meta in opf.iter(f"{OPF}meta") if meta.get("property")]
    onix = etree.parse(str(output / f"{slug}-onix.xml")).getroot()
    product = next(item for item in onix.iter("{*}Product") if item.findtext("{*}RecordReference").endswith("#epub"))
    onix_codes = {feature.findtext("{*}ProductFormFeatureValue"): feature.findtext("{*}ProductFormFeatureDescription")
                  for feature in product.iter("{*}ProductFormFeature")
                  if feature.findtext("{*}ProductFormFeatureType") == "09"}
    with (output / f"{slug}.mrc").open("rb") as source:
        ebook = next(iter(MARCReader(source, to_unicode=True, force_utf8=True)))
    marc_features = {value for field in ebook.get_fields("341") if field["3"] == "EPUB 3"  # the text EPUB's
                     for code, value in ((subfield.code, subfield.value) for subfield in field.subfields)
                     if code in "bcd"}
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    opds = next(item["metadata"]["accessibility"] for item in feed["publications"]
                if item["links"][0]["href"] == f"{slug}.epub")
    return {
        "epub": {"features": {text for name, text in metas if name == "schema:accessibilityFeature"},
                 "modes": {text for name, text in metas if name == "schema:accessMode"},
                 "summary": next(text for name, text in metas if name == "schema:accessibilitySummary")},
        "onix": {"codes": set(onix_codes), "summary": onix_codes["00"]},
        "marc": {"features": marc_features, "modes": {field["a"] for field in ebook.get_fields("341")
                                                      if field["3"] == "EPUB 3"},
                 "summary": ebook.get_fields("532")[0]["a"].removeprefix("EPUB 3: ")},
        "opds": {"features": set(opds["feature"]), "modes": set(opds["accessMode"]), "summary": opds["summary"]},
    }


def test_every_format_states_the_same_claims(variants: dict[str, Path]) -> None:
    for change, output in variants.items():
        found = claims(output)
        summaries = {name: found[name]["summary"] for name in found}
        assert len(set(summaries.values())) == 1, (change, summaries)
        assert found["epub"]["modes"] == found["marc"]["modes"] == found["opds"]["modes"] - {"auditory"}, change
        assert found["opds"]["features"] == found["epub"]["features"], change
        # 341 lists the features that adapt an access mode; each of them is one the package claims.
        assert found["marc"]["features"] <= found["epub"]["features"], change


def test_removing_the_equation_removes_mathml_from_every_format(variants: dict[str, Path]) -> None:
    before, after = claims(variants["as-printed"]), claims(variants["no-equation"])
    for found, present in ((before, True), (after, False)):
        assert ("MathML" in found["epub"]["features"]) is present
        assert ("17" in found["onix"]["codes"]) is present  # List 196: accessible math as MathML
        assert ("MathML" in found["marc"]["features"]) is present
        assert ("MathML" in found["opds"]["features"]) is present
        assert ("MathML" in found["epub"]["summary"]) is present
    assert before["epub"]["modes"] == after["epub"]["modes"]


def test_removing_every_image_removes_the_visual_claims_from_every_format(variants: dict[str, Path]) -> None:
    before, after = claims(variants["as-printed"]), claims(variants["no-images"])
    for found, present in ((before, True), (after, False)):
        for name in ("epub", "marc", "opds"):
            assert ("alternativeText" in found[name]["features"]) is present, name
            assert ("visual" in found[name]["modes"]) is present, name
        assert ({"14", "15"} <= found["onix"]["codes"]) is present  # short and extended descriptions
        assert ("14" in found["onix"]["codes"]) is present
        assert ("alternative text" in found["epub"]["summary"]) is present
    assert "MathML" in after["epub"]["features"]  # the equation is still there


def test_the_daisy_books_claims_follow_the_images_too(variants: dict[str, Path]) -> None:
    """The DAISY 2.02 NCC has no accessibility metadata of its own (the format defines none); the DAISY book's
    claims are in the records, derived like the others (describe_daisy), and change with the sources."""
    def daisy(output: Path) -> dict[str, Any]:
        feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
        entry = next(item for item in feed["publications"] if item["links"][0]["href"].endswith("-daisy202.zip"))
        assert (output / entry["links"][0]["href"]).is_file()
        return entry["metadata"]["accessibility"]

    before, after = daisy(variants["as-printed"]), daisy(variants["no-images"])
    assert "alternativeText" in before["feature"] and "visual" in before["accessMode"]
    assert "alternativeText" not in after["feature"] and "visual" not in after["accessMode"]
    assert "synchronizedAudioText" in after["feature"]
