"""The products model (builder.distribution.products): what a build publishes and what each product claims."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from builder.book import accessibility
from builder.distribution import products
from builder.distribution.products import Kind
from builder.narration.credits import NarratorCredits
from builder.run.build import BuildResult, prepare

PROJECT = Path(__file__).resolve().parent.parent


def test_a_text_build_releases_one_epub_with_the_books_own_claims(text_build: tuple[Path, BuildResult]) -> None:
    output, result = text_build
    release = result.release
    assert release is not None
    assert [item.key for item in release.products] == ["epub"]
    epub = release.product(Kind.EPUB)
    assert epub is not None and (output / epub.file_name).is_file()
    assert epub.media_type == "application/epub+zip"
    assert epub.form.onix_details == ("E101",) and epub.form.epub_version == "101F"
    assert asdict(epub.accessibility) == result.report["books"][epub.file_name]["accessibility"]
    assert epub.duration is None
    assert release.languages[0] == "en-GB"


VOICE = NarratorCredits(("a synthetic voice",), "Read by a synthetic voice.")


def test_audio_products_claim_what_listening_offers_and_no_wcag_conformance() -> None:
    documents = prepare(PROJECT / "source").documents
    book = products.audiobook("x-audio/x.mp3", documents, 61.5, VOICE,
                              [products.File("x-audio/01-a.vtt", "text/vtt")])
    assert book.accessibility.access_modes_sufficient == ("auditory",)
    assert "transcript" in book.accessibility.features
    assert book.accessibility.conforms_to == "" and book.accessibility.certified_by == ""
    m4b = products.m4b("x.m4b", documents, 61.5, VOICE)
    assert "transcript" not in m4b.accessibility.features
    daisy = products.daisy("x-daisy202.zip", documents, 61.5, VOICE)
    assert {"auditory", "textual"} <= set(daisy.accessibility.access_modes_sufficient)
    assert "synchronizedAudioText" in daisy.accessibility.features
    assert daisy.form.onix_details[0] == "A204"
    assert [item.key for item in (book, m4b, daisy)] == ["audiobook", "m4b", "daisy202"]


def test_claims_follow_the_documents() -> None:
    documents = prepare(PROJECT / "source").documents
    without_images = [replace(document, images=()) for document in documents]
    assert "alternativeText" in accessibility.describe_daisy(documents).features
    assert "alternativeText" not in accessibility.describe_daisy(without_images).features
    assert "visual" not in accessibility.describe_daisy(without_images).access_modes


def test_languages_of_passages_reach_the_records() -> None:
    from builder.distribution import marc, onix

    prepared = prepare(PROJECT / "source")
    first, *rest = prepared.articles
    french = replace(first, xhtml=first.xhtml.replace("<p>", '<p lang="fr" xml:lang="fr">', 1))
    welsh = replace(rest[0], xhtml=rest[0].xhtml.replace("<p>", '<p lang="cy" xml:lang="cy">', 1))
    documents = (french, welsh, *rest[1:])
    claims = accessibility.describe(documents, narrated=False, checked=False)
    release = products.release(prepared.edition, documents, [products.text_epub("x.epub", claims)],
                               datetime(2025, 4, 1, tzinfo=UTC), checked=False)
    assert release.languages == ("en-GB", "fr", "cy")
    assert [products.bibliographic_language(tag) for tag in release.languages] == ["eng", "fre", "wel"]
    record = marc.marc_records(release)[0]
    assert [subfield.value for subfield in record["041"].subfields] == ["eng", "fre", "wel"]
    assert record["546"]["a"] == "In English, with passages in French and Welsh."
    assert record["008"].data[35:38] == "eng"
    message = etree.fromstring(onix.message(release))
    assert [code.text for code in message.iter("{*}LanguageCode")] == ["eng", "fre", "wel"]
