"""Narration in the language of each part of the text (issue 12): normalisation and sentences per language,
structure in sound (tables, verse, code), a voice per language, and the speech catalogues."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from conftest import Golden, in_ci
from edition_fixtures import article, run_cli, write_edition
from lxml import etree
from test_narration import BrokenSynthesizer, espeak_available

from builder.i18n import LOCALE_DIR
from builder.narration import espeak, voices
from builder.narration.engines import espeak_ng
from builder.narration.lexicon import Lexicons, default_lexicon
from builder.narration.normalise import normalise_for_speech
from builder.narration.normalise.numbers import roman_value
from builder.narration.speech import (
    BLOCK_PAUSE,
    LINE_PAUSE,
    PASSAGE_PAUSE,
    SENTENCE_PAUSE,
    SpeechSettings,
    SpokenSentence,
    mark_sentences,
    split_sentences,
)
from builder.narration.synthesis import (
    ArticleJob,
    Clip,
    FakeSynthesizer,
    Pyttsx3Synthesizer,
    Voice,
    clip_key,
    narrate,
    narrate_article,
)
from builder.narration.voices import NoVoice, VoiceTable, default_voice
from builder.run.build import BuildOptions, build

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
GOLDEN = TESTS / "golden" / "speech"
LEXICONS = Lexicons("en-GB")
XHTML = "{http://www.w3.org/1999/xhtml}"


def say(text: str, language: str) -> str:
    return normalise_for_speech(text, LEXICONS.of(language), language)


def document(body: str, language: str = "en-GB") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
            f'xmlns:epub="http://www.idpf.org/2007/ops" lang="{language}" xml:lang="{language}">'
            f"<head><title>t</title></head><body>{body}</body></html>\n")


# --- normalisation per language -------------------------------------------------------------


@pytest.mark.parametrize(("language", "text", "spoken"), [
    # fractions, mixed fractions and ranges of them
    ("en-GB", "1⅞ cups and ⅛ teaspoon", "1 and 7 eighths cups and an eighth teaspoon"),
    ("en-GB", "4¾ ounces, 1 to 1¼ cups", "4 and 3 quarters ounces, 1 to 1 and a quarter cups"),
    ("fr", "1⅞ tasse, ¾ de litre", "1 et 7 huitièmes tasse, 3 quarts de litre"),
    ("de", "1⅞ Tassen, ⅛ Teelöffel", "1 und 7 Achtel Tassen, ein Achtel Teelöffel"),
    # units and degrees, with the language's plural rules
    ("en-GB", "2 oz. butter, 1 lb. apples, 250 g, 5 km, 1.5 kg", "2 ounces butter, 1 pound apples, 250 grams, "
     "5 kilometres, 1.5 kilograms"),
    ("en-GB", "425° F. (220 °C), 32°F", "425 degrees Fahrenheit (220 degrees Celsius), 32 degrees Fahrenheit"),
    ("fr", "250 g, 1,5 kg, 200 °C", "250 grammes, 1,5 kilogramme, 200 degrés Celsius"),
    ("de", "250 g, 5 km, −3 °C", "250 Gramm, 5 Kilometer, −3 Grad Celsius"),
    # chemical formulae
    ("en-GB", "NaHCO₃ gives CO₂ and H₂O", "N.A.H.C.O. 3 gives C.O. 2 and H. 2 O."),
    # dates: numeric in the language's order, ISO
    ("en-GB", "on 12/02/2026 and 2026-02-12", "on 12 February 2026 and 12 February 2026"),
    ("en-US", "on 12/02/2026", "on December 2, 2026"),
    ("fr", "le 12/02/2026 et le 2026-03-01", "le 12 février 2026 et le premier mars 2026"),
    ("de", "am 12.02.2026, der 3. März", "am zwölften Februar 2026, der dritte März"),
    # times
    ("en-GB", "at 7:30 p.m., 7:00 p.m., 9:05", "at 7:30 p.m., 7 p.m., 9 oh 5"),
    ("fr", "à 19 h 30, à 8 h", "à 19 heures 30, à 8 heures"),
    ("de", "um 19:30 Uhr, um 7:00 Uhr", "um 19:30, um 7 Uhr"),
    # Roman numerals after a name (and not after "Part" or as a pronoun)
    ("en-GB", "Henry VIII, Edward I, Part II, World War II", "Henry the eighth, Edward the first, Part II, "
     "World War II"),
    ("fr", "Louis XIV, François Ier, le XIXᵉ siècle", "Louis quatorze, François premier, le dix-neuvième siècle"),
    ("de", "von König Ludwig II., Ludwig II. ließ", "von König Ludwig dem zweiten, Ludwig der zweite ließ"),
    # emoji are not read by default
    ("en-GB", "Welcome 👋 to the issue 🍞.", "Welcome to the issue."),
    # abbreviations from the lexicon of the text's language
    ("en-GB", "St. James St., Thu. 5 Jul. 2001", "St. James Street, Thursday 5 July 2001"),
    ("fr", "M. Roux et Mme Girard, p. ex. le 15 janv. 2026", "Monsieur Roux et Madame Girard, par exemple le 15 "
     "janvier 2026"),
    ("de", "z. B. Dr. Brandt, d. h. Nr. 62, ca. 40", "zum Beispiel Doktor Brandt, das heißt Nummer 62, circa 40"),
    # English expansions stay in English text; the engine reads the rest in its own language
    ("en-GB", "$15 and 12% of £9.8m", "15 dollars and 12 percent of 9.8 million pounds"),
    ("de", "$15 und 12 %", "15 $ und 12 %"),
    ("fr", "écrivez à claire.besson@example.org", "écrivez à l'adresse électronique claire point besson arobase "
     "example.org"),
])
def test_normalisation_per_language(language: str, text: str, spoken: str) -> None:
    assert say(text, language) == spoken


def test_emoji_names_are_read_in_the_text_language_when_asked() -> None:
    assert normalise_for_speech("Bonjour 👋", LEXICONS.of("fr"), "fr", read_emoji=True) == "Bonjour, signe de la main,"
    assert normalise_for_speech("Croeso 👋", LEXICONS.of("cy"), "cy", read_emoji=True) == "Croeso"  # no Welsh names


def test_roman_numerals_are_well_formed_only() -> None:
    assert [roman_value(n) for n in ("VIII", "XIV", "XXIII", "IIII", "VX", "MIX", "IC")] == [8, 14, 23, None, None,
                                                                                             1009, None]


# English words the builder's rules could insert: every word of the speech msgids, of the English rules and of
# the English lexicon defaults. None of them may appear in French or German speech unless the text has it.
ENGLISH_RULE_WORDS = {"percent", "dollar", "dollars", "pound", "pounds", "euro", "euros", "million", "billion",
                      "thousand", "hundred", "oh", "o'clock", "Street", "hundreds", "tens", "twenties", "nineties"}


def english_words() -> set[str]:
    words = set(ENGLISH_RULE_WORDS)
    for message in speech_messages():
        for text in message if isinstance(message, tuple) else (message,):
            words |= set(re.findall(r"(?<!\{)\b[^\W\d_]+\b(?!\})", re.sub(r"\{\w+\}", "", text)))
    english = default_lexicon("en")
    for table in (english.titles, english.phrases, english.months, english.before_number):
        words |= {word for value in table.values() for word in re.findall(r"[^\W\d_]+", value)}
    return words - {"a", "Code"}  # "Code" is German too; a lone "a" is French ("il a")


def words_of_language(language: str) -> set[str]:
    """The words the builder may say in a language: its catalogue's translations and its lexicon's values."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "speech.po").open("rb") as po:
        catalogue = read_po(po, locale=language)
    texts = [text for message in catalogue if message.id
             for text in (message.string if isinstance(message.string, tuple) else (message.string,))]
    lexicon = default_lexicon(language)
    texts += [value for table in (lexicon.titles, lexicon.phrases, lexicon.months, lexicon.before_number)
              for value in table.values()]
    return {word for text in texts for word in re.findall(r"[^\W\d_]+", re.sub(r"\{\w+\}", "", text))}


def inserted_words(shown: str, spoken: str) -> set[str]:
    said = set(re.findall(r"[^\W\d_]+", shown))
    return {word for word in re.findall(r"[^\W\d_]+", spoken) if word not in said}


def test_no_english_word_is_inserted_in_french_or_german_speech() -> None:
    _, sentences = mark_sentences((TESTS / "fixtures" / "speech" / "paragraphs.xhtml").read_text(encoding="utf-8"),
                                  LEXICONS, "g")
    english = english_words()
    assert {"and", "degrees", "percent", "empty", "Figure", "to"} <= english  # the list was really built
    foreign = [s for s in sentences if s.language in ("fr", "de")]
    assert len(foreign) >= 6
    for sentence in foreign:
        english_only = english - words_of_language(sentence.language)  # "Celsius" is French too
        assert inserted_words(sentence.text, sentence.spoken) & english_only == set(), sentence.spoken
    english_sentences = [s for s in sentences if s.language == "en-GB"]
    assert any(inserted_words(s.text, s.spoken) & english for s in english_sentences)  # the check can see them


# --- the golden speech script -----------------------------------------------------------------


def test_speech_script_of_three_paragraphs_matches_the_reviewed_golden(golden: Golden) -> None:
    """A French, a German and an English paragraph full of fractions, units, dates, times, numerals, formulae,
    emoji, quotes and abbreviations, as sent to the engine (language, then words): reviewed line by line."""
    _, sentences = mark_sentences((TESTS / "fixtures" / "speech" / "paragraphs.xhtml").read_text(encoding="utf-8"),
                                  LEXICONS, "g")
    golden(GOLDEN / "paragraphs.txt", "".join(f"{s.language}\t{s.spoken}\n" for s in sentences))


# --- sentences per language -------------------------------------------------------------------


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("fr", "Il a dit : « Trois langues. On verra bien. » Puis il est parti.",
     ["Il a dit : « Trois langues.", "On verra bien. »", "Puis il est parti."]),
    ("fr", "M. Roux et Mme Girard sont là. La société Roux S.A. imprime.",
     ["M. Roux et Mme Girard sont là.", "La société Roux S.A. imprime."]),
    ("de", "Mein Vater sagte: „Der Hafen ist tot.“ Sie steht noch.",
     ["Mein Vater sagte: „Der Hafen ist tot.“", "Sie steht noch."]),
    ("de", "Ich gehe z. B. heute, am 3. März 1912. Dann fahre ich.",
     ["Ich gehe z. B. heute, am 3. März 1912.", "Dann fahre ich."]),
    ("de", "Sie nannte ihn ‚die Giraffe‘. Er steht noch.", ["Sie nannte ihn ‚die Giraffe‘.", "Er steht noch."]),
    ("en-GB", "It opened on 5 Jul. 2001 at 7:30 p.m. in the hall. Bring a poem.",
     ["It opened on 5 Jul. 2001 at 7:30 p.m. in the hall.", "Bring a poem."]),
    ("en-GB", "We meet at 7:30 p.m. Bring a poem.", ["We meet at 7:30 p.m.", "Bring a poem."]),
    ("en-GB", "He said “stop.” Then it ended.", ["He said “stop.”", "Then it ended."]),
    ("en-GB", "It stops near 0 °C. In winter it rests.", ["It stops near 0 °C.", "In winter it rests."]),
])
def test_sentences_per_language(language: str, text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in split_sentences(text, LEXICONS.of(language))] == expected


def test_a_closing_quote_belongs_to_its_sentence_span() -> None:
    marked, sentences = mark_sentences(document("<p>Il a dit : « On verra bien. » Puis il est parti.</p>", "fr"),
                                       LEXICONS, "q")
    root = etree.fromstring(marked.encode("utf-8"))
    spans = root.findall(f".//{XHTML}span[@class='sentence']")
    assert [span.text for span in spans] == ["Il a dit : « On verra bien. »", "Puis il est parti."]
    assert sentences[0].text.endswith("»")


# --- language of every sentence, passages -----------------------------------------------------


def test_every_sentence_carries_the_language_of_its_text() -> None:
    body = ('<p>He said <span lang="fr" xml:lang="fr">« Bonne année à tous. »</span> Nobody needed it explained.</p>'
            '<blockquote lang="de" xml:lang="de"><p>Ich komme jeden Donnerstag.</p></blockquote>'
            '<p>The sign says <span lang="cy">Croeso i\'r Penrhyn</span>, welcome.</p>')
    _, sentences = mark_sentences(document(body), LEXICONS, "l")
    assert [(s.language, s.text, s.pause) for s in sentences] == [
        ("en-GB", "He said", PASSAGE_PAUSE),
        ("fr", "« Bonne année à tous. »", SENTENCE_PAUSE),
        ("en-GB", "Nobody needed it explained.", BLOCK_PAUSE),
        ("de", "Ich komme jeden Donnerstag.", BLOCK_PAUSE),
        ("en-GB", "The sign says", PASSAGE_PAUSE),
        ("cy", "Croeso i'r Penrhyn", PASSAGE_PAUSE),
        ("en-GB", ", welcome.", BLOCK_PAUSE),
    ]
    assert sentences[-1].spoken == "welcome."


# --- structure in sound -----------------------------------------------------------------------

TABLE = ('<table><caption>Baking times</caption><thead><tr>{corner}<th scope="col">Time</th>'
         '<th scope="col">Oven</th></tr></thead><tbody>'
         '<tr><th scope="row">Coffee</th><td>1–3 minutes</td><td></td></tr>'
         '<tr><th scope="row">Ham</th><td>4–5 hours</td><td>—</td></tr></tbody></table>')


@pytest.mark.parametrize("corner", ["<th></th>", "<td></td>"])  # an empty corner is silent, header or data cell
def test_tables_are_read_row_by_row_with_column_headers(corner: str) -> None:
    marked, sentences = mark_sentences(document(TABLE.format(corner=corner)), LEXICONS, "t")
    assert [(s.spoken, s.pause) for s in sentences] == [
        ("Baking times", BLOCK_PAUSE),
        ("Time", SENTENCE_PAUSE), ("Oven", BLOCK_PAUSE),
        ("Coffee", SENTENCE_PAUSE), ("Time: 1 to 3 minutes", SENTENCE_PAUSE), ("Oven: empty", BLOCK_PAUSE),
        ("Ham", SENTENCE_PAUSE), ("Time: 4 to 5 hours", SENTENCE_PAUSE), ("Oven: empty", BLOCK_PAUSE),
    ]
    root = etree.fromstring(marked.encode("utf-8"))
    cells = root.findall(f".//{XHTML}tbody/{XHTML}tr/{XHTML}td")
    assert [cell.get("id") for cell in cells] == [s.id for s in sentences if s.spoken.startswith(("Time:", "Oven:"))]
    assert sentences[4].text == "1–3 minutes"  # the transcript keeps the cell as printed


def test_table_words_are_in_the_table_language() -> None:
    _, sentences = mark_sentences(document(TABLE.format(corner="<th></th>"), "fr"), LEXICONS, "t")
    assert [s.spoken for s in sentences][4:6] == ["Time: 1 à 3 minutes", "Oven: vide"]


VERSE = ('<div class="verse" epub:type="z3998:verse"><p class="stanza"><span class="line">The tide goes out and '
         'leaves the stones,</span><br/><span class="line">the stones keep what the water said;</span><br/>'
         '<span class="line">a gull walks on the wall.</span></p></div>')


def test_verse_pauses_at_each_line_end() -> None:
    marked, sentences = mark_sentences(document(VERSE), LEXICONS, "v")
    assert [(s.text, s.pause) for s in sentences] == [
        ("The tide goes out and leaves the stones,", LINE_PAUSE),
        ("the stones keep what the water said;", LINE_PAUSE),
        ("a gull walks on the wall.", BLOCK_PAUSE),
    ]
    etree.fromstring(marked.encode("utf-8"))
    assert SENTENCE_PAUSE < LINE_PAUSE < BLOCK_PAUSE


CODE = '<pre><code>[narration]\nvoice = "en-gb"\n\n[narration.voices]\nfr = "fr"\n</code></pre><p>After.</p>'


def test_code_blocks_are_announced_and_skipped_by_default() -> None:
    marked, sentences = mark_sentences(document(CODE), LEXICONS, "c")
    assert [s.spoken for s in sentences] == ["Code, 4 lines", "After."]
    assert etree.fromstring(marked.encode("utf-8")).find(f".//{XHTML}pre").get("id") == sentences[0].id


def test_code_blocks_are_read_line_by_line_as_written_when_asked() -> None:
    marked, sentences = mark_sentences(document(CODE, "de"), LEXICONS, "c", SpeechSettings(read_code=True))
    assert [s.spoken for s in sentences] == ["Code, 4 Zeilen", "[narration]", 'voice = "en-gb"',
                                             "[narration.voices]", 'fr = "fr"', "After."]
    root = etree.fromstring(marked.encode("utf-8"))
    code = root.find(f".//{XHTML}code")
    written = re.search(r"<code>(.*)</code>", CODE, re.DOTALL)
    assert code is not None and written and "".join(code.itertext()) == written.group(1)  # as written, every line


# --- a voice per language ---------------------------------------------------------------------

ENGINE = (("gmw/en", "English (Great Britain)", ("en-gb",)), ("gmw/en-us", "English (America)", ("en-us",)),
          ("roa/fr", "French (France)", ("fr-fr",)), ("roa/fr-be", "French (Belgium)", ("fr-be",)),
          ("gmw/de", "German", ("de",)), ("cel/cy", "Welsh", ("cy",)))


def test_each_language_gets_a_voice() -> None:
    table = VoiceTable("en-GB", "en-gb", (("de", "German"),))
    assert table.voice_for("en-GB", ENGINE) == "en-gb"  # the edition's voice for its language
    assert table.voice_for("en-US", ENGINE) == "en-gb"  # the same language in another region
    assert table.voice_for("de-CH", ENGINE) == "German"  # the table, by primary language
    assert table.voice_for("fr", ENGINE) == "roa/fr"  # the engine's own voice for French
    assert table.voice_for("fr-BE", ENGINE) == "roa/fr-be"
    assert table.voice_for("cy", ENGINE) == "cel/cy"
    with pytest.raises(NoVoice) as unknown:
        default_voice("fo", ENGINE)
    assert "no voice for language 'fo'" in unknown.value.args[0]


class RecordingSynthesizer(FakeSynthesizer):
    """The fake engine, noting which voice says what (in this process)."""

    heard: ClassVar[list[tuple[str, str]]] = []

    def synthesize(self, text: str, voice: Voice) -> Clip:
        self.heard.append((text, voice.voice))
        return super().synthesize(text, voice)


MIXED = [SpokenSentence("m-s0001", "He said", "He said", None, PASSAGE_PAUSE, "en-GB"),
         SpokenSentence("m-s0002", "« Bonne année. »", "« Bonne année. »", None, SENTENCE_PAUSE, "fr"),
         SpokenSentence("m-s0003", "Nobody minded.", "Nobody minded.", None, BLOCK_PAUSE, "en-GB")]
ENGLISH, FRENCH = Voice("en-gb", 170, 1.0), Voice("fr", 170, 1.0)


def test_each_sentence_is_spoken_in_the_voice_of_its_language() -> None:
    voices = tuple(FRENCH if s.language == "fr" else ENGLISH for s in MIXED)
    spoken = [s.spoken for s in MIXED]
    keys = tuple(clip_key(text, said_by, "fake-tone 1") for text, said_by in zip(spoken, voices, strict=True))
    job = ArticleJob("m", tuple(s.id for s in MIXED), tuple(spoken), keys, tuple(s.pause for s in MIXED), voices)
    RecordingSynthesizer.heard.clear()
    audio = narrate_article(job, RecordingSynthesizer, ENGLISH, None)
    assert RecordingSynthesizer.heard == [("He said", "en-gb"), ("« Bonne année. »", "fr"), ("Nobody minded.", "en-gb")]
    assert [t.sentence_id for t in audio.timings] == [s.id for s in MIXED]
    # the clip keys say which voice spoke: the same words in English are another clip
    assert clip_key("« Bonne année. »", FRENCH, "fake-tone 1") != clip_key("« Bonne année. »", ENGLISH, "fake-tone 1")


def by_language(table: dict[str, Voice]) -> Callable[[str, str], Voice]:
    """A `voice_for` for narrate: each language's voice, whatever the sentence's role."""
    return lambda language, _role: table[language]


def test_a_changed_voice_for_one_language_is_spoken_again(tmp_path: Path) -> None:
    """Clip and article caches are keyed on each sentence's voice: a new French voice is not served the old audio,
    and the timings of every sentence stay where the audio puts them."""
    choose = by_language({"en-GB": ENGLISH, "fr": FRENCH})
    first = narrate([("m", MIXED)], ENGLISH, FakeSynthesizer, tmp_path, jobs=1, voice_for=choose)
    assert narrate([("m", MIXED)], ENGLISH, BrokenSynthesizer, tmp_path, jobs=1, voice_for=choose) == first
    belgian = by_language({"en-GB": ENGLISH, "fr": Voice("fr-be", 170, 1.0)})
    with pytest.raises(AssertionError, match="synthesised although cached"):
        narrate([("m", MIXED)], ENGLISH, BrokenSynthesizer, tmp_path, jobs=1, voice_for=belgian)
    again = narrate([("m", MIXED)], ENGLISH, FakeSynthesizer, tmp_path, jobs=1, voice_for=belgian)
    assert [t.sentence_id for t in again[0].timings] == [s.id for s in MIXED]


@pytest.mark.engine
def test_the_engine_really_switches_to_the_french_voice() -> None:
    if not espeak_available():
        if in_ci():
            pytest.fail("espeak-ng is required in CI for the engine test")
        pytest.skip("espeak-ng is not installed")
    synthesizer = Pyttsx3Synthesizer()
    text = "Bonjour à tous, et surtout à ceux qui ont apporté du gâteau."
    french = synthesizer.synthesize(text, FRENCH).pcm
    english = synthesizer.synthesize(text, ENGLISH).pcm
    french_again = synthesizer.synthesize(text, FRENCH).pcm  # back and forth within one engine
    assert french != english
    assert french_again and abs(len(french_again) - len(french)) < 0.02 * len(french)
    assert abs(len(english) - len(french)) > 0.05 * len(french)  # another voice, another reading


# --- the speech catalogues --------------------------------------------------------------------


def speech_messages() -> set[str | tuple[str, str]]:
    """Every message narration can say: the speech-domain calls in the code, and the tables of fractions
    and units whose messages are chosen at run time."""
    from builder.narration.normalise import numbers

    found: set[str | tuple[str, str]] = set()
    for path in [PROJECT / "builder" / "narration" / "speech.py",
                 *sorted((PROJECT / "builder" / "narration" / "normalise").glob("*.py"))]:
        for _, message, _, _ in extract_from_file("python", path, keywords={"words": None, "plural": (1, 2)}):
            found.add(tuple(message) if isinstance(message, list | tuple) else message)
    found |= {messages for _, messages in numbers._UNITS}
    found |= {(one, many) for one, many in numbers.FRACTIONS.values()}
    return found


@pytest.mark.parametrize("language", ["fr", "de", "es", "cy"])
def test_speech_catalogues_are_complete(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "speech.po").open("rb") as po:
        catalogue = read_po(po, locale=language)
    translated = {message.id for message in catalogue if message.id and message.string and all(message.string)}
    wanted = speech_messages()
    assert len(wanted) > 30
    assert wanted - translated == set()
    for message in catalogue:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            placeholders = {name for text in ids for name in re.findall(r"\{(\w+)\}", text)} | {"cardinal"}
            for text in strings:  # a translation uses only the values the code gives it
                assert set(re.findall(r"\{(\w+)\}", text)) <= placeholders, (message.id, text)


# --- sources of the narration: optional lexicon, checks ---------------------------------------


def test_check_without_a_speech_engine_warns_that_voices_were_not_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def no_library() -> None:
        raise espeak.EngineUnavailable("espeak-ng is not available (no libespeak-ng)")

    root = write_edition(tmp_path / "edition")
    monkeypatch.setattr(espeak, "binding", no_library)  # the machine has no engine; the check itself runs
    voices.engine_voices.cache_clear()
    espeak_ng._listed.cache_clear()  # voices listed by an earlier test of this process are kept a process long
    try:
        run = run_cli(["check", root], capsys)
    finally:
        voices.engine_voices.cache_clear()
        espeak_ng._listed.cache_clear()
    assert run.code == 0, run.err
    assert "warning W060: voices not checked: espeak-ng is not available" in run.err


@pytest.mark.engine
def test_an_edition_without_a_lexicon_is_narrated(tmp_path: Path) -> None:
    """pronunciation.toml is optional: without one the builder's own defaults are used (it was E090)."""
    if not espeak_available():
        if in_ci():
            pytest.fail("espeak-ng is required in CI for the engine test")
        pytest.skip("espeak-ng is not installed")
    root = write_edition(tmp_path / "edition", {"first": article("Dr Ansel weighed 1⅞ cups on 12/02/2026.\n")})
    assert not (root / "pronunciation.toml").exists()
    result = build(BuildOptions(source=root, output=tmp_path / "out", validate=False, cache_dir=tmp_path / "c"))
    assert not result.failures
    with zipfile.ZipFile(tmp_path / "out" / "fixture-edition-narrated.epub") as book:
        names = book.namelist()
        text = book.read("EPUB/text/first.xhtml").decode("utf-8")
    assert "EPUB/lexicon.pls" in names and "EPUB/smil/first.smil" in names
    assert 'class="sentence"' in text
