"""Interviews in two voices: a question (class "question", contract 4) is marked as such and spoken in the
edition's question voice; with the real engine, the narrated book's question is heard in that voice."""

from __future__ import annotations

import json
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from edition_fixtures import MANIFEST, article, write_edition
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from pymarc import MARCReader
from test_narration import require_espeak
from test_speech_languages import ENGINE, LEXICONS, document

from builder.narration import espeak
from builder.narration.credits import Credit, Narrators, narrator_credits
from builder.narration.mp3 import FRAME_SAMPLES, encode_clip, pause_frames
from builder.narration.speech import BLOCK_PAUSE, HEADING_PAUSE, QUESTION, mark_sentences
from builder.narration.synthesis import SAMPLE_RATE, Clip, Pyttsx3Synthesizer, Voice, spoken_clip
from builder.narration.voices import VoiceTable
from builder.run.build import BuildOptions, build

SMIL = "{http://www.w3.org/ns/SMIL}"
OPF = {"opf": "http://www.idpf.org/2007/opf"}
PODCAST = {"podcast": "https://podcastindex.org/namespace/1.0"}
X = {"x": "http://www.w3.org/1999/xhtml"}
XHTML = "{http://www.w3.org/1999/xhtml}"

INTERVIEW = """<section><h2>An interview</h2>
<h3 class="question" id="q-question-1"><span class="visually-hidden question-label">Question:</span> Where did you
grow up? And <em>why</em> there?</h3>
<p>In Leeds. My parents <span lang="fr" xml:lang="fr">le voulaient</span>.</p>
<h3 class="question" id="q-question-2"><span lang="fr" xml:lang="fr">Et maintenant ?</span></h3>
<p>Now I live here.</p></section>"""


def test_the_sentences_of_a_question_label_included_are_marked_as_the_question() -> None:
    _, sentences = mark_sentences(document(INTERVIEW), LEXICONS, "q")
    assert [(s.text, s.language, s.role) for s in sentences] == [
        ("An interview", "en-GB", ""),
        ("Question: Where did you grow up?", "en-GB", QUESTION),  # the label is part of the question
        ("And why there?", "en-GB", QUESTION),
        ("In Leeds.", "en-GB", ""),
        ("My parents", "en-GB", ""),
        ("le voulaient", "fr", ""),
        ("Et maintenant ?", "fr", QUESTION),  # a question in another language is a question still
        ("Now I live here.", "en-GB", "")]


def test_a_question_gets_the_second_voice_of_its_language() -> None:
    # By default: the question variant on each language's own voice.
    table = VoiceTable("en-GB", "en-gb", (("de", "German"),))
    assert table.voice_for("en-GB", ENGINE) == "en-gb"
    assert table.voice_for("en-GB", ENGINE, QUESTION) == "en-gb+f3"
    assert table.voice_for("de", ENGINE, QUESTION) == "German+f3"
    assert table.voice_for("fr", ENGINE, QUESTION) == "roa/fr+f3"
    # An edition whose own voice is a female variant gets a male one for its questions.
    assert VoiceTable("en-GB", "en-gb+f2", ()).voice_for("en-GB", ENGINE, QUESTION) == "en-gb+m3"
    # A variant of the edition's choosing, for every language; a voice of its own for one language.
    table = VoiceTable("en-GB", "en-gb", (), "+m7", (("fr", "fr-be+f4"),))
    assert table.voice_for("en-GB", ENGINE, QUESTION) == "en-gb+m7"
    assert table.voice_for("de", ENGINE, QUESTION) == "gmw/de+m7"
    assert table.voice_for("fr", ENGINE, QUESTION) == "fr-be+f4"
    assert table.voice_for("fr", ENGINE) == "roa/fr"  # the answers keep the language's voice
    # A question voice without a variant is for the edition's language; the others' questions sound as the text.
    table = VoiceTable("en-GB", "en-gb", (), "en-us")
    assert table.voice_for("en-GB", ENGINE, QUESTION) == "en-us"
    assert table.voice_for("fr", ENGINE, QUESTION) == "roa/fr"


# --- the real engine: the question is heard in the second voice ----------------------------------

ANSWER = "I grew up in Leeds, by the river, where my parents ran a bakery."
QUESTION_TEXT = "Where did you grow up?"


def smil_durations(smil: bytes) -> dict[str, float]:
    """Sentence id → seconds its clip lasts in the overlay ("5.702s" clock values)."""
    durations = {}
    for par in etree.fromstring(smil).iter(f"{SMIL}par"):
        text, audio = par.find(f"{SMIL}text"), par.find(f"{SMIL}audio")
        assert text is not None and audio is not None
        begin, end = (float(audio.get(edge, "").removesuffix("s")) for edge in ("clipBegin", "clipEnd"))
        durations[text.get("src", "").split("#")[1]] = end - begin
    return durations


def sentence_holding(xhtml: etree._Element, words: str) -> etree._Element:
    (found,) = [span for span in xhtml.iter(f"{XHTML}span")
                if span.get("class") == "sentence" and words in "".join(span.itertext())]
    return found


def seconds(clip: Clip, pause: float) -> float:
    """How long a clip lasts in an article: its encoded frames (the samples, LAME's padding, the next clip's
    lead-in) and the frames of silence its pause becomes (builder.narration.synthesis puts clips together so)."""
    encoded = encode_clip(clip.pcm)
    return (encoded.played + pause_frames(encoded, pause) * FRAME_SAMPLES) / SAMPLE_RATE


@pytest.fixture(scope="module")
def interview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-article interview narrated by the real engine, in the edition's default voice and "+f3" for its
    questions: the output folder."""
    require_espeak()
    root = tmp_path_factory.mktemp("interview")
    body = f"Before we start.\n\n::: question\n{QUESTION_TEXT}\n:::\n\n{ANSWER}\n\nThank you.\n"
    manifest = MANIFEST.format(articles='"talk"') + '\n[narration]\nvoice = "en-gb"\nquestion_voice = "+f3"\n'
    source = write_edition(root / "source", {"talk": article(body, kind="interview")}, manifest=manifest)
    build(BuildOptions(source=source, output=root / "out", validate=False, jobs=1, cache_dir=root / "cache"))
    return root / "out"


@pytest.mark.engine
def test_the_narrated_interview_speaks_its_question_in_the_second_voice(interview: Path) -> None:
    """The overlay's clip of the question lasts exactly as long as the question spoken directly in the second
    voice (plus its pause), not as long as in the first; the answer keeps the first. Every clip after an
    article's first lasts its encoded samples plus its pause, to the millisecond of the SMIL clock."""
    with zipfile.ZipFile(interview / "fixture-edition-narrated.epub") as book:
        xhtml = etree.fromstring(book.read("EPUB/text/talk.xhtml"))
        durations = smil_durations(book.read("EPUB/smil/talk.smil"))
    question = sentence_holding(xhtml, QUESTION_TEXT)
    assert question.getparent().get("class") == "question"
    answer = sentence_holding(xhtml, "Leeds")
    synthesizer = Pyttsx3Synthesizer()
    asked = f"Question: {QUESTION_TEXT}"
    second = spoken_clip(synthesizer, asked, Voice("en-gb+f3", 170, 1.0))
    first = spoken_clip(synthesizer, asked, Voice("en-gb", 170, 1.0))
    assert abs(len(first.pcm) - len(second.pcm)) > 0.05 * 2 * SAMPLE_RATE  # the voices are told apart by length
    assert durations[question.get("id")] == pytest.approx(seconds(second, HEADING_PAUSE), abs=0.0015)
    reply = spoken_clip(synthesizer, ANSWER, Voice("en-gb", 170, 1.0))
    assert durations[answer.get("id")] == pytest.approx(seconds(reply, BLOCK_PAUSE), abs=0.0015)


# --- credits that tell the truth ----------------------------------------------------------------------

ESPEAK = "eSpeak NG 1.51"
TEXT_VOICE = Credit(ESPEAK, "English (Great Britain)", "GPL-3.0-or-later")
QUESTION_VOICE = Credit(ESPEAK, "English (Great Britain), female3", "GPL-3.0-or-later")


def test_the_credits_name_each_voice_its_engine_and_licence_and_say_it_is_synthetic() -> None:
    both = Narrators((TEXT_VOICE,), (QUESTION_VOICE,))
    english, french = narrator_credits(both, "en-GB"), narrator_credits(both, "fr")
    assert english.names == (
        "English (Great Britain), synthetic voice of eSpeak NG 1.51, licence GPL-3.0-or-later",
        "English (Great Britain), female3, synthetic voice of eSpeak NG 1.51, licence GPL-3.0-or-later")
    assert english.line == (f"Read by {english.names[0]}; interview questions read by {english.names[1]}. The"
                            " narration is synthetic speech.")
    assert french.names[0] == "English (Great Britain), voix de synthèse de eSpeak NG 1.51, licence GPL-3.0-or-later"
    assert french.line.startswith("Lu par ") and french.line.endswith("La narration est une voix de synthèse.")
    assert french.line_in_english == english.line  # for records catalogued in English
    # One voice for both (question_voice set to the text's voice): one narrator, no second credit.
    alone = narrator_credits(Narrators((TEXT_VOICE,), (TEXT_VOICE,)), "en-GB")
    assert alone.names == english.names[:1]
    assert alone.line == f"Read by {english.names[0]}. The narration is synthetic speech."


def id3_frames(path: Path, frame: str) -> list[str]:
    return [text for found in ID3(path).getall(frame) for text in found.text]


@pytest.mark.engine
def test_every_format_credits_both_voices_of_an_interview(interview: Path) -> None:
    engine = f"eSpeak NG {espeak.version(espeak.binding().dll)} (pyttsx3 {metadata.version('pyttsx3')})"
    names = [f"English (Great Britain), synthetic voice of {engine}, licence GPL-3.0-or-later",
             f"English (Great Britain), female3, synthetic voice of {engine}, licence GPL-3.0-or-later"]
    line = f"Read by {names[0]}; interview questions read by {names[1]}. The narration is synthetic speech."
    with zipfile.ZipFile(interview / "fixture-edition-narrated.epub") as book:
        opf = etree.fromstring(book.read("EPUB/content.opf"))
    assert opf.xpath("//opf:meta[@property='media:narrator']/text()", namespaces=OPF) == names
    summary = opf.xpath("//opf:meta[@property='schema:accessibilitySummary']/text()", namespaces=OPF)[0]
    assert "interviews' questions are read in a second synthetic voice" in summary
    audio = interview / "fixture-edition-audio"
    assert id3_frames(audio / "01-talk.mp3", "TCOM") == names  # ID3v2.4: a value each
    assert id3_frames(audio / "fixture-edition.mp3", "TCOM") == ["/".join(names)]  # ID3v2.3 (for its chapters)
    for mp3 in (audio / "fixture-edition.mp3", audio / "01-talk.mp3"):
        assert id3_frames(mp3, "COMM") == [line]
    m4b = MP4(interview / "fixture-edition.m4b")
    assert m4b.tags["\xa9wrt"] == names and m4b.tags["\xa9cmt"] == [line]
    feed = etree.parse(str(audio / "podcast.xml"))
    assert feed.xpath("/rss/channel/podcast:person[@role='narrator']/text()", namespaces=PODCAST) == names
    with zipfile.ZipFile(interview / "fixture-edition-daisy202.zip") as daisy:
        ncc = etree.fromstring(daisy.read(next(name for name in daisy.namelist() if name.endswith("ncc.html"))))
    assert ncc.xpath("//x:meta[@name='ncc:narrator']/@content", namespaces=X) == names
    with (interview / "fixture-edition.mrc").open("rb") as records:
        audiobook = [record for record in MARCReader(records) if record.leader[6] == "i"]
    assert [field["a"] for record in audiobook for field in record.get_fields("511")] == [line]
    opds = json.loads((interview / "opds.json").read_text(encoding="utf-8"))
    narrated = [publication["metadata"].get("narrator") for publication in opds["publications"]]
    assert [{"name": name} for name in names] in narrated
    onix = etree.parse(str(interview / "fixture-edition-onix.xml"))
    notes = onix.xpath("//o:Contributor[o:ContributorRole='E07']/o:BiographicalNote/text()",
                       namespaces={"o": onix.getroot().nsmap[None]})
    assert notes[:2] == names
    report = (interview / "report.md").read_text(encoding="utf-8")
    assert "- question voices: en-GB: English (Great Britain), female3 (gmw/en+f3)" in report
