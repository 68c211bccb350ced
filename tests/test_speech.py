"""Sentence marking and speech normalisation (builder.narration.speech)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from builder.errors import BuildError
from builder.narration.lexicon import Lexicon, lexicon_pls, load_lexicons
from builder.narration.normalise import normalise_for_speech
from builder.narration.speech import (
    BLOCK_PAUSE,
    HEADING_PAUSE,
    SENTENCE_PAUSE,
    SpokenSentence,
    mark_sentences,
    speech_script,
    split_sentences,
)

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "narration"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicons(PROJECT / "source", "en-GB").of("en-GB")


@pytest.fixture(scope="module")
def article(lexicon: Lexicon) -> tuple[str, str, list[SpokenSentence]]:
    source = (FIXTURES / "article.xhtml").read_text(encoding="utf-8")
    marked, sentences = mark_sentences(source, lexicon, "cc")
    return source, marked, sentences


def sentences_of(text: str, lexicon: Lexicon) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text, lexicon)]


def document(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en-GB">'
        f"<head><title>t</title></head><body>{body}</body></html>\n"
    )


# --- segmentation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Florian Ruths said it works. Then he left.", ["Dr. Florian Ruths said it works.", "Then he left."]),
        ("Several models, e.g. DIT, CBT and CAT, help. Others do not.",
         ["Several models, e.g. DIT, CBT and CAT, help.", "Others do not."]),
        ("Ketamine acts on receptors (Abdallah et al., 2018). It is fast.",
         ["Ketamine acts on receptors (Abdallah et al., 2018).", "It is fast."]),
        ("Veale et al. (2014) suggest more. We agree.", ["Veale et al. (2014) suggest more.", "We agree."]),
        ("Advances in Psychiatric Treatment, Vol 7 Issue 5. Cambridge.",
         ["Advances in Psychiatric Treatment, Vol 7 Issue 5.", "Cambridge."]),
        ("The mean was 3.5 points. That is high.", ["The mean was 3.5 points.", "That is high."]),
        ("Written by J. R. R. Tolkien. A classic.", ["Written by J. R. R. Tolkien.", "A classic."]),
        ("Prof. Swaran Singh spoke. Really? Yes!", ["Prof. Swaran Singh spoke.", "Really?", "Yes!"]),
        ('He said "stop." Then it ended.', ['He said "stop."', "Then it ended."]),
        ("We sit in our comfort zone... but things move.", ["We sit in our comfort zone... but things move."]),
        ("1. Standards matter. They do.", ["1. Standards matter.", "They do."]),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str], lexicon: Lexicon) -> None:
    assert sentences_of(text, lexicon) == expected


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("saving £9.8m a year", "saving 9.8 million pounds a year"),
        ("it cost £1", "it cost 1 pound"),
        ("teams retained 80–85% of staff", "teams retained 80 to 85 percent of staff"),
        ("only 10% did", "only 10 percent did"),
        ("the NHS and the CQC", "the N.H.S. and the C.Q.C."),
        ("rTMS helps PTSD and TRD", "r.T.M.S. helps P.T.S.D. and T.R.D."),
        ("in the UAE", "in the U.A.E."),
        ("CAMHS and IAPT", "Camms and eye apt"),
        ("Dr Gareth Jarvis met Prof Swaran Singh", "Doctor Gareth Jarvis met Professor Swaran Singh"),
        ("Dr. Miriam Barrett", "Doctor Miriam Barrett"),
        ("models, e.g. DIT, CBT", "models, for example D.I.T., C.B.T."),
        ("(Abdallah et al., 2018)", "Abdallah and colleagues, 2018"),
        ("receptors (Abdallah et al., 2018). In", "receptors, Abdallah and colleagues, 2018. In"),
        ("Vol 7 Issue 5", "volume 7 Issue 5"),
        ("pp.277-283", "pages 277 to 283"),
        ("over the last 30-40 years", "over the last 30 to 40 years"),
        ("24 Oct 2024", "24 October 2024"),
        ("a report from 1946", "a report from 19 46"),
        ("in the 1990s", "in the 19 nineties"),
        ("Child & Adolescent", "Child and Adolescent"),
        ("see https://www.rcpsych.ac.uk/events/free-webinars for more",
         "see a link to rcpsych.ac.uk for more"),
        ("(<http://www.relationalmovement.net>)", "(<a link to relationalmovement.net>)"),
        ("visit www.imroc.org/publications.", "visit a link to imroc.org."),
        ("write to eva.gautam-aitken@rcpsych.ac.uk today",
         "write to the e-mail address eva dot gautam-aitken at rcpsych.ac.uk today"),
        ("relationalpractice2023@gmail.com", "the e-mail address relationalpractice 2023 at gmail.com"),
        ("doi: 10.1016/j.jad.2018.05.012", "a D.O.I."),
        ("◀ **Ovais Wadoo** (OW) is here", "Ovais Wadoo (O.W.) is here"),
        ("learning – a new way", "learning, a new way"),
    ],
)
def test_normalise_for_speech(text: str, spoken: str, lexicon: Lexicon) -> None:
    assert normalise_for_speech(text, lexicon) == spoken


def test_abbreviations_are_whole_words(lexicon: Lexicon) -> None:
    # "NICE" is a lexicon entry; "nice" and "NICER" are ordinary words.
    assert normalise_for_speech("a nice day, NICER still", lexicon) == "a nice day, NICER still"
    assert normalise_for_speech("NHSE funding", lexicon) == "N.H.S. England funding"


# --- lexicon --------------------------------------------------------------------------------


def test_lexicon_covers_the_editions_abbreviations(lexicon: Lexicon) -> None:
    wanted = ["NHS", "CQC", "rTMS", "PTSD", "TRD", "CAMHS", "MDT", "TEWV", "KUF", "IAPT", "DSPD", "NPDP",
              "ODDESSI", "BIGSPD", "NICE", "SAMHSA", "UAE", "HMC", "CBT", "MBCT", "DBT", "CAT", "CFT",
              "EMDR", "MBT", "DIT", "OBE", "FRCPsych", "MBBS", "LMHT", "CMHT", "QI", "POD", "RCPsych", "AI"]
    assert [word for word in wanted if word not in lexicon.abbreviations] == []
    assert lexicon.titles["Dr"] == "Doctor" and lexicon.titles["Prof"] == "Professor"


def test_lexicon_rejects_unknown_sections(tmp_path: Path) -> None:
    path = tmp_path / "pronunciation.toml"
    path.write_text('# lexicon\n[abbreviation]\nNHS = "N H S"\n', encoding="utf-8")
    with pytest.raises(BuildError) as failed:
        load_lexicons(tmp_path, "en-GB")
    (problem,) = failed.value.diagnostics
    assert (problem.code, problem.file, problem.line) == ("E080", path, 2)
    assert "unknown section [abbreviation]" in problem.message and "[abbreviations]" in problem.remedy


def test_lexicon_pls_is_a_pls_document(lexicon: Lexicon) -> None:
    pls = etree.fromstring(lexicon_pls(lexicon, "en-GB").encode("utf-8"))
    ns = "{http://www.w3.org/2005/01/pronunciation-lexicon}"
    assert pls.tag == f"{ns}lexicon"
    assert pls.get("version") == "1.0" and pls.get("alphabet")
    assert pls.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    aliases = {lexeme.findtext(f"{ns}grapheme"): lexeme.findtext(f"{ns}alias") for lexeme in pls}
    assert aliases["NHS"] == "N H S"
    assert aliases["UAE"] == "U A E"  # the reading system's own engine gets the plain letters
    assert aliases["Dr"] == "Doctor"


# --- sentence marking -----------------------------------------------------------------------


def test_marked_document_is_well_formed_and_keeps_its_prolog(article: tuple[str, str, list[SpokenSentence]]) -> None:
    source, marked, _ = article
    assert marked.startswith('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns=')
    root = etree.fromstring(marked.encode("utf-8"))
    assert root.nsmap == {None: "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    assert "ns0" not in marked
    # Only spans were added: the text is unchanged, character for character.
    before = etree.fromstring(source.encode("utf-8"))
    assert "".join(root.itertext()) == "".join(before.itertext())


def test_every_sentence_is_one_span(article: tuple[str, str, list[SpokenSentence]]) -> None:
    _, marked, sentences = article
    root = etree.fromstring(marked.encode("utf-8"))
    spans = root.findall(f".//{XHTML}span[@class='sentence']")
    assert [span.get("id") for span in spans] == [s.id for s in sentences]
    assert [s.id for s in sentences] == [f"cc-s{n:04d}" for n in range(1, len(sentences) + 1)]
    for span, sentence in zip(spans, sentences, strict=True):
        assert span.find(f".//{XHTML}span[@class='sentence']") is None  # never nested
        if span.find(f".//{XHTML}img") is None and span.find(".//{*}math") is None:
            assert " ".join("".join(span.itertext()).split()).startswith(sentence.text[:10])


def test_reading_order_and_silent_parts(article: tuple[str, str, list[SpokenSentence]]) -> None:
    _, _, sentences = article
    texts = [s.text for s in sentences]
    assert texts[:6] == [
        "Compassionate Care and Trauma Informed Approaches",
        "Why learning from the Open Dialogue Approach is timely for Mental Healthcare",
        "By Dr Gareth Jarvis",
        "Dr. Gareth Jarvis argues for a shift from a risk-focused model to human connection.",
        "He draws on Open Dialogue.",
        "Content notes: suicide and self-harm; abuse in care.",
    ]
    script = speech_script(sentences)
    assert "Skip to the article text" not in script  # skip link
    assert "Putting relationships back" not in script  # pull quote (aria-hidden)
    assert "↩" not in script and "Back to reference" not in script  # backlink
    assert "Page 8" not in script  # page break
    assert "N.H.S.\n" in script and "N.H.S.1" not in script  # the noteref number is not read
    assert "Figure: A chart of staff retention." in texts
    assert "Care equals compassion plus connection" in texts  # math alttext
    assert "rule.png" not in script
    assert script.count("\n") == len(sentences)


def test_noteref_belongs_to_its_sentence(article: tuple[str, str, list[SpokenSentence]]) -> None:
    _, marked, _ = article
    root = etree.fromstring(marked.encode("utf-8"))
    noteref = root.find(f".//{XHTML}a[@id='fnref1']")
    assert noteref.getparent().get("class") == "sentence"


def test_pagebreak_and_pullquote_untouched(article: tuple[str, str, list[SpokenSentence]]) -> None:
    _, marked, _ = article
    root = etree.fromstring(marked.encode("utf-8"))
    assert root.find(f".//{XHTML}span[@id='page-7']").getparent().tag == f"{XHTML}section"
    pullquote = root.find(f".//{XHTML}aside[@class='pullquote']")
    assert pullquote.find(f".//{XHTML}span[@class='sentence']") is None


def test_skippable_structures(article: tuple[str, str, list[SpokenSentence]]) -> None:
    _, _, sentences = article
    kinds = [s.skippable for s in sentences]
    first_note = kinds.index("endnotes")
    assert set(kinds[:first_note]) == {None}
    assert sentences[first_note].text == "Notes"
    assert kinds[-1] == "bibliography"
    assert kinds == sorted(kinds, key=lambda k: {None: 0, "endnotes": 1, "bibliography": 2}[k])


def test_short_sentences_crossing_a_link_are_merged(lexicon: Lexicon) -> None:
    marked, sentences = mark_sentences(
        document('<p>We met <a href="#x">at the College. It was</a> good. Next one.</p>'), lexicon, "m"
    )
    assert [s.text for s in sentences] == ["We met at the College. It was good.", "Next one."]
    assert '<span id="m-s0001" class="sentence">We met <a href="#x">at the College. It was</a> good.</span>' in marked


def test_long_sentences_crossing_emphasis_are_split_at_its_edge(lexicon: Lexicon) -> None:
    long = "word " * 70
    marked, sentences = mark_sentences(
        document(f"<p>Intro {long}<em>ends here. Then {long}more</em> tail.</p>"), lexicon, "m"
    )
    assert [s.text.split()[0] for s in sentences] == ["Intro", "ends", "Then", "tail."]
    root = etree.fromstring(marked.encode("utf-8"))
    emphasis = root.find(f".//{XHTML}em")
    assert [span.get("id") for span in emphasis] == ["m-s0002", "m-s0003"]


def test_sentence_inside_emphasis_is_wrapped_inside_it(lexicon: Lexicon) -> None:
    marked, sentences = mark_sentences(document("<p><em>One here. Two here.</em></p>"), lexicon, "e")
    assert "<em><span id=\"e-s0001\" class=\"sentence\">One here.</span> <span" in marked
    assert len(sentences) == 2


def test_pauses_follow_the_structure(lexicon: Lexicon) -> None:
    body = ("<h2>A heading</h2><p>First of two. Second of two.</p>"
            "<ul><li>An item. Its end.</li><li><em>Emphasised</em> last item.</li></ul><p>Last.</p>")
    _, sentences = mark_sentences(document(body), lexicon, "p")
    assert [(s.text, s.pause) for s in sentences] == [
        ("A heading", HEADING_PAUSE),
        ("First of two.", SENTENCE_PAUSE), ("Second of two.", BLOCK_PAUSE),
        ("An item.", SENTENCE_PAUSE), ("Its end.", BLOCK_PAUSE),
        ("Emphasised last item.", BLOCK_PAUSE),
        ("Last.", BLOCK_PAUSE),
    ]
    assert SENTENCE_PAUSE < BLOCK_PAUSE < HEADING_PAUSE


def test_table_cells_and_images(lexicon: Lexicon) -> None:
    body = ('<table><tr><th>Year</th><td>2024</td></tr></table>'
            '<p>See <img src="a.png" alt="a small icon"/> here.</p>')
    _, sentences = mark_sentences(document(body), lexicon, "t")
    assert [s.text for s in sentences] == ["Year", "2024", "See a small icon here."]


# --- property: any inline markup stays well-formed ------------------------------------------

WORDS = ["Dr.", "Smith", "said", "e.g.", "CBT", "works.", "Then", "3.5", "et al.", "ends!", "Why?", "NHS", "and"]
INLINE = ["em", "strong", "a"]


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        words = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6)))
        kind = draw(st.sampled_from(["text", "inline", "nested", "long", "noteref", "pagebreak"]))
        if kind == "long":  # long enough that crossing sentences are split, not merged
            parts.append(f"<em>{escape(words)} {'relationship ' * 30}ends. Now</em> ")
        elif kind == "nested":
            parts.append(f"<strong>In <em>{escape(words)}</em> it. </strong>")
        elif kind == "text":
            parts.append(escape(words) + " ")
        elif kind == "inline":
            tag = draw(st.sampled_from(INLINE))
            parts.append(f"<{tag}>{escape(words)}</{tag}> ")
        elif kind == "noteref":
            parts.append('<a class="noteref" epub:type="noteref" role="doc-noteref" href="#n">1</a>')
        else:
            parts.append('<span class="pagebreak" epub:type="pagebreak" id="p9"/>')
    return "<p>" + "".join(parts) + "</p>"


@settings(max_examples=300, deadline=None)
@given(paragraphs())
def test_any_inline_markup_stays_well_formed(lexicon: Lexicon, paragraph: str) -> None:
    source = document(paragraph)
    marked, sentences = mark_sentences(source, lexicon, "h")
    root = etree.fromstring(marked.encode("utf-8"))
    assert "".join(root.itertext()) == "".join(etree.fromstring(source.encode("utf-8")).itertext())
    spans = root.findall(f".//{XHTML}span[@class='sentence']")
    assert [span.get("id") for span in spans] == [s.id for s in sentences]
    assert all(span.find(f".//{XHTML}span[@class='sentence']") is None for span in spans)
    assert all(any(ch.isalnum() for ch in s.spoken) for s in sentences)
    assert "1" not in "".join(s.text for s in sentences).replace("3.5", "")  # the noteref is silent
