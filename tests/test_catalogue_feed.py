"""A catalogue's own feeds (builder.distribution.opds.write_catalogue, written by builder.run.catalogue):
OPDS 2 and OPDS 1.2 at the output root, every built edition's publications, a failed edition left out,
checked as the edition's own feeds are (the OPDS 2 and Readium JSON schemas, Readium's OPDS client)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from edition_fixtures import PIXEL, PROJECT, article, run_cli, write_edition
from lxml import etree
from test_records import FEED_SCHEMA, OPDS_CLIENT, missing, opds_errors

ATOM = "{http://www.w3.org/2005/Atom}"


def manifest(name: str) -> str:
    return (f'title = "{name.title()}"\nedition = "One"\ndate = "2025-01-0{len(name) % 9 + 1}"\n'
            f'publisher = "Test Press"\nlanguage = "en-GB"\nidentifier = "urn:x:{name}"\nslug = "{name}"\n'
            f'articles = ["first"]\ncover = "images/cover.png"\ncover_alt = "A white square."\n')


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """Three editions, the middle one broken; narrated (a full build writes each edition's feed and cover)."""
    from test_narration import require_espeak

    require_espeak()
    folder = tmp_path_factory.mktemp("feed")
    for name in ("alpha", "beta", "gamma"):
        write_edition(folder / "catalogue" / name, {"first": article(f"About {name}, briefly.\n")},
                      manifest=manifest(name), images={"cover.png": PIXEL})
    (folder / "catalogue" / "beta" / "articles" / "first.md").unlink()
    (folder / "catalogue" / "catalogue.toml").write_text(
        'title = "The Back Catalogue"\neditions = ["alpha", "beta", "gamma"]\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "builder", "build", str(folder / "catalogue"), "-o",
                          str(folder / "out"), "--no-validate", "--cache-dir", str(folder / "cache")],
                         capture_output=True, text=True, check=False, cwd=PROJECT,
                         env={**os.environ, "SOURCE_DATE_EPOCH": "1743465600"})
    return folder / "out", run


def test_a_failed_edition_is_left_out_of_the_feed_and_the_exit_says_so(built: tuple[Path, Any]) -> None:
    output, run = built
    assert run.returncode == 1, run.stderr
    assert f"wrote {output / 'opds.json'}" in run.stdout and "beta: not built" in run.stderr
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    own = {slug: json.loads((output / slug / "opds.json").read_text(encoding="utf-8")) for slug in ("alpha", "gamma")}
    assert len(feed["publications"]) == sum(len(edition["publications"]) for edition in own.values())
    assert not any("beta" in link["href"] for entry in feed["publications"] for link in entry["links"])
    assert [link["href"] for link in feed["navigation"]] == ["alpha/opds.json", "gamma/opds.json"]
    titles = [entry["metadata"]["title"] for entry in feed["publications"]]
    assert titles == [entry["metadata"]["title"] for slug in ("alpha", "gamma") for entry in own[slug]["publications"]]


def test_the_opds2_catalogue_feed_is_valid_and_every_link_is_a_file(built: tuple[Path, Any]) -> None:
    output, _ = built
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    assert opds_errors(feed, FEED_SCHEMA) == []
    hrefs = [link["href"] for link in feed["links"] + feed["navigation"]]
    for entry in feed["publications"]:
        hrefs += [link["href"] for link in entry["links"] + entry["images"]]
        hrefs += [entry["metadata"]["accessibility"].get("certification", {}).get("report", "opds.json")]
    assert all((output / href).is_file() for href in hrefs), [href for href in hrefs if not (output / href).is_file()]
    broken = json.loads(json.dumps(feed))
    broken["navigation"][0].pop("href")
    assert any("'href' is a required property" in error for error in opds_errors(broken, FEED_SCHEMA))


def test_the_opds1_catalogue_feeds_acquire_every_product_and_navigate_to_each_edition(built: tuple[Path, Any]) -> None:
    output, _ = built
    acquisition = etree.parse(str(output / "opds.xml")).getroot()
    navigation = etree.parse(str(output / "opds-navigation.xml")).getroot()
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    entries = acquisition.findall(f"{ATOM}entry")
    assert len(entries) == len(feed["publications"])
    for root in (acquisition, navigation):  # Atom's required elements (RFC 4287 4.1.1)
        assert root.findtext(f"{ATOM}id").startswith("urn:uuid:") and root.findtext(f"{ATOM}updated")
        assert root.find(f"{ATOM}author/{ATOM}name") is not None
        for entry in root.findall(f"{ATOM}entry"):
            assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}updated")
    ids = [entry.findtext(f"{ATOM}id") for entry in acquisition.findall(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids)
    for root in (acquisition, navigation):
        for element in root.iter(f"{ATOM}link"):
            assert (output / element.get("href")).is_file(), element.get("href")
    subsections = [element.get("href") for element in navigation.iter(f"{ATOM}link")
                   if element.get("rel") == "subsection"]
    assert subsections == ["opds.xml", "alpha/opds.xml", "gamma/opds.xml"]
    assert all("kind=acquisition" in element.get("type") for element in navigation.iter(f"{ATOM}link")
               if element.get("rel") == "subsection")


def test_readiums_opds_client_reads_the_catalogue_feeds(built: tuple[Path, Any]) -> None:
    output, _ = built
    if shutil.which("node") is None or not (OPDS_CLIENT / "node_modules" / "r2-opds-js").is_dir():
        missing("r2-opds-js (tools/opds-client)")
    run = subprocess.run(["node", str(OPDS_CLIENT / "read-feeds.js"), str(output)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    feed = json.loads((output / "opds.json").read_text(encoding="utf-8"))
    expected = [[link["href"] for link in entry["links"]] for entry in feed["publications"]]
    for version in ("opds2", "opds1"):
        assert [[href for _, _, href in entry["links"] if href != "opds.json"] for entry in seen[version]] == expected
        assert [entry["images"] for entry in seen[version]] == [[image["href"] for image in entry["images"]]
                                                               for entry in feed["publications"]]


def test_a_text_only_catalogue_lists_its_books_without_feeds_or_covers_it_did_not_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("alpha", "gamma"):
        write_edition(tmp_path / "catalogue" / name, {"first": article("Text.\n")}, manifest=manifest(name),
                      images={"cover.png": PIXEL})
    run = run_cli(["build", tmp_path / "catalogue", "-o", tmp_path / "out", "--no-audio", "--no-validate"], capsys)
    assert run.code == 0
    feed = json.loads((tmp_path / "out" / "opds.json").read_text(encoding="utf-8"))
    assert opds_errors(feed, FEED_SCHEMA) == []
    assert "navigation" not in feed  # no edition wrote a feed of its own
    assert [entry["links"][0]["href"] for entry in feed["publications"]] == ["alpha/alpha.epub", "gamma/gamma.epub"]
    assert all("images" not in entry for entry in feed["publications"])
    assert all((tmp_path / "out" / entry["links"][0]["href"]).is_file() for entry in feed["publications"])
