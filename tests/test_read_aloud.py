"""The narration branch's assembly (builder.narration.read_aloud): SMIL and package goldens, and what ties the
parts together.

The synthesizer is the fast fake tone (a unit test of the assembly, not of the engine: the real engine
speaks in test_narration.py and in the full build of test_conformance.py). Everything else is real:
sentence marking, MP3 encoding, SMIL, packaging and the audiobook folder.
"""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

import pytest
from conftest import Golden, pretty_xml
from edition_fixtures import GOLDEN, write_golden_edition
from lxml import etree

from builder.book import package
from builder.i18n import Words
from builder.narration import overlays, read_aloud, synthesis
from builder.narration.engines import espeak_ng
from builder.narration.mp3 import FRAME_SAMPLES, mp3_frame_count
from builder.run.build import prepare, source_date
from builder.run.records import BuildOptions, Prepared

SMIL = "{http://www.w3.org/ns/SMIL}"
XHTML = "{http://www.w3.org/1999/xhtml}"
OPF = {"opf": "http://www.idpf.org/2007/opf"}
SLUGS = ("notes-math-pullquote", "bibliography-figure")


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Prepared, read_aloud.Narrated, Path]:
    root = tmp_path_factory.mktemp("read-aloud")
    source = write_golden_edition(root / "source")
    prepared = prepare(source)
    staging = root / "staging"
    staging.mkdir()
    options = BuildOptions(source=source, output=root / "output", validate=False, jobs=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(espeak_ng, "Pyttsx3Synthesizer", synthesis.FakeSynthesizer)
        narrated = read_aloud.narrate_edition(prepared, options, staging, source_date(prepared.edition))
    epub = root / "narrated.epub"
    package.write_epub(narrated.book, source_date(prepared.edition), epub)
    return prepared, narrated, epub


def resource(narrated: read_aloud.Narrated, name: str) -> bytes:
    (found,) = [item for item in narrated.book.resources if item.file_name == name]
    return found.path.read_bytes() if found.path else found.content


def test_a_smil_document_matches_its_golden(assembled: tuple, golden: Golden) -> None:
    _, narrated, _ = assembled
    smil = resource(narrated, "smil/notes-math-pullquote.smil").decode("utf-8")
    golden(GOLDEN / "book" / "notes-math-pullquote.smil", pretty_xml(smil))


def test_the_narrated_package_document_matches_its_golden(assembled: tuple, golden: Golden) -> None:
    _, _, epub = assembled
    with zipfile.ZipFile(epub) as book:
        golden(GOLDEN / "book" / "package-narrated.opf", pretty_xml(book.read("EPUB/content.opf").decode("utf-8")))


def test_each_overlay_entry_points_at_an_element_of_its_document_once(assembled: tuple) -> None:
    _, narrated, _ = assembled
    documents = {document.file_name: document for document in narrated.book.documents}
    assert sorted(narrated.book.narration.overlays) == sorted(f"text/{slug}.xhtml" for slug in SLUGS)
    for text_name, smil_name in narrated.book.narration.overlays.items():
        tree = etree.fromstring(documents[text_name].xhtml.encode("utf-8"))
        marked = [element.get("id") for element in tree.iter() if element.get("id")]
        smil = etree.fromstring(resource(narrated, smil_name))
        referenced = [text.get("src") for text in smil.iter(f"{SMIL}text")]
        ids = [ref.partition("#")[2] for ref in referenced]
        # Every overlay entry points at an element of its document, each once. (Order and the sentence class: the
        # figure's data table is now read out of id order and by other elements; left to lang-speech.)
        assert ids and set(ids) <= set(marked) and len(ids) == len(set(ids))


def test_overlay_clips_tile_their_article_audio_and_the_durations_add_up(assembled: tuple) -> None:
    _, narrated, _ = assembled
    book_narration = narrated.book.narration
    total = 0.0
    for smil_name in book_narration.overlays.values():
        smil = etree.fromstring(resource(narrated, smil_name))
        clips = [(audio.get("src"), audio.get("clipBegin"), audio.get("clipEnd"))
                 for audio in smil.iter(f"{SMIL}audio")]
        (source,) = {src for src, _, _ in clips}
        mp3 = resource(narrated, source.removeprefix("../"))
        duration = mp3_frame_count(mp3) * FRAME_SAMPLES / synthesis.SAMPLE_RATE
        assert clips[0][1] == "0.000s" and clips[-1][2] == overlays.clip_clock(duration)
        assert all(end == begin for (_, _, end), (_, begin, _) in itertools.pairwise(clips))
        assert book_narration.durations[smil_name] == overlays.format_clock(duration)
        total += duration
    assert book_narration.total_duration == overlays.format_clock(total)


def test_the_articles_carry_their_measured_listening_time_and_the_lexicon(assembled: tuple) -> None:
    _, narrated, _ = assembled
    for document in narrated.book.documents:
        if document.article is None:
            assert 'rel="pronunciation"' not in document.xhtml
            continue
        seconds = round(overlays_seconds(narrated.book.narration.durations[f"smil/{document.article.slug}.smil"]))
        spoken = read_aloud.duration(Words("en-GB"), seconds)  # its wording is lang-text's, tested with i18n
        assert f'<span class="listening-time">{spoken}</span>' in document.xhtml
        assert '<link rel="pronunciation" type="application/pls+xml" hreflang="en-GB" href="../lexicon.pls"/>' \
            in document.xhtml
    pls = etree.fromstring(resource(narrated, "lexicon.pls"))
    assert ("Dr", "Doctor") in [(lexeme.findtext("{*}grapheme"), lexeme.findtext("{*}alias")) for lexeme in pls]


def overlays_seconds(clock: str) -> float:
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_the_audiobook_and_the_report_describe_the_same_narration(assembled: tuple) -> None:
    prepared, narrated, _ = assembled
    assert sorted(path.name for path in narrated.audio_folder.glob("*.mp3")) == [
        "01-notes-math-pullquote.mp3", "02-bibliography-figure.mp3", "golden-edition-a-small-magazine-spring-2025.mp3"]
    for number, slug in enumerate(SLUGS, start=1):
        assert (narrated.audio_folder / f"{number:02d}-{slug}.mp3").stat().st_size > \
            len(resource(narrated, f"audio/{slug}.mp3"))  # the same audio, with its tags
    sentences = sum(len(etree.fromstring(resource(narrated, smil)).findall(f".//{SMIL}par"))
                    for smil in narrated.book.narration.overlays.values())
    assert narrated.report["sentences"] == sentences
    assert narrated.report["articles"] == {slug: narrated.book.narration.durations[f"smil/{slug}.smil"]
                                           for slug in SLUGS}
    assert narrated.report["duration"] == narrated.book.narration.total_duration
    voice = prepared.edition.narration
    # the voice by the engine's name for it ("en-gb" is espeak-ng's English (Great Britain))
    assert narrated.report["voice"] == f"English (Great Britain), {voice.rate} words a minute, volume {voice.volume}"
