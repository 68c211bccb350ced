"""Words the builder writes, in the language of the document: catalogues complete, plurals by CLDR, and
no builder-written English left in an article in another language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from edition_fixtures import PIXEL, article, write_edition
from lxml import etree

from builder import i18n
from builder.i18n import Words, catalogue_path, languages
from builder.i18n.messages import TEMPLATE, text_catalogue
from builder.narration.read_aloud import duration
from builder.run.build import render_edition

SHIPPED = ("fr", "de", "es", "cy")
XHTML = "{http://www.w3.org/1999/xhtml}"
# Attributes whose values the builder writes and readers hear.
SPOKEN_ATTRIBUTES = ("aria-label", "title", "alt")


def msgids(catalog: object) -> set[str]:
    return {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}


def read_catalogue(language: str):
    with catalogue_path(language, "builder").open("rb") as source:
        return read_po(source, locale=language)


def test_template_is_extracted_from_the_code() -> None:
    """builder.pot holds exactly the messages the code uses (scripts/extract_messages.py re-makes it)."""
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    assert msgids(template) == msgids(text_catalogue()), "run scripts/extract_messages.py"
    assert len(msgids(template)) > 30


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_the_code_uses_is_translated(language: str) -> None:
    catalog = read_catalogue(language)
    used = {(message.id if isinstance(message.id, str) else message.id[0]): message
            for message in text_catalogue() if message.id}
    assert set(used) <= msgids(catalog), f"untranslated in {language}: {sorted(set(used) - msgids(catalog))}"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (catalog.num_plurals if isinstance(message.id, tuple) else 1), message.id
        source = message.id if isinstance(message.id, str) else message.id[1]
        for string in strings:
            assert string.strip(), f"{language}: empty translation of {message.id!r}"
            # The placeholders the code fills in must all be there, and no others.
            assert set(re.findall(r"\{(\w+)\}", string)) == set(re.findall(r"\{(\w+)\}", source)), (language, string)


def test_plurals_follow_cldr() -> None:
    assert Words("en-GB").plural("{n} minute", "{n} minutes", 1) == "1 minute"
    assert Words("en-GB").plural("{n} minute", "{n} minutes", 2) == "2 minutes"
    assert Words("fr").plural("{n} minute", "{n} minutes", 0) == "0 minute"  # French singular for 0 and 1
    assert Words("fr").plural("{n} minute", "{n} minutes", 2) == "2 minutes"
    assert Words("de").plural("{n} minute", "{n} minutes", 3) == "3 Minuten"
    assert Words("es-MX").plural("{n} minute", "{n} minutes", 1) == "1 minuto"
    assert Words("cy").plural("{n} minute", "{n} minutes", 2) == "2 munud"
    assert Words("cy").plural("About the author", "About the authors", 1) == "Am yr awdur"
    assert Words("cy").plural("About the author", "About the authors", 2) == "Am yr awduron"


def test_listening_times_of_the_narrated_book() -> None:
    assert duration(Words("en"), 105) == "1 minute 45 seconds"
    assert duration(Words("en"), 38) == "38 seconds"
    assert duration(Words("en"), 120) == "2 minutes"
    assert duration(Words("fr"), 61) == "1 minute 1 seconde"
    assert duration(Words("de"), 125) == "2 Minuten 5 Sekunden"


def test_lists_are_joined_by_the_language_pattern() -> None:
    assert Words("en-GB").join(["A", "B", "C"]) == "A, B and C"
    assert Words("fr").join(["A", "B", "C"]) == "A, B et C"
    assert Words("de").join(["A", "B"]) == "A und B"
    assert Words("es").join(["A", "B"]) == "A y B"


# --- no builder-written English in an article in another language ---------------------------------


def builder_english(language: str) -> list[tuple[str, re.Pattern[str]]]:
    """For each message whose translation in `language` differs from the English, a pattern matching the
    English text as the builder would write it (placeholders match anything)."""
    catalog = read_catalogue(language)
    patterns = []
    for message in catalog:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in english:
            if source in strings or not re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", source)):
                continue  # 'Notes', 'Page {n}' are French too; '{minutes} {seconds}' has no words
            literal = [re.escape(part) for part in re.split(r"\{\w+\}", source)]
            patterns.append((source, re.compile(r"(?<!\w)" + ".+?".join(literal) + r"(?!\w)")))
    return patterns


def english_left(xhtml: str, language: str) -> list[str]:
    """The builder's English messages found in the document's text or spoken attributes, outside any
    passage marked as English."""
    root = etree.fromstring(xhtml.encode("utf-8"))
    pieces = []
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in (f"{XHTML}head", f"{XHTML}title"):
            continue
        marked = element.xpath("ancestor-or-self::*[@lang][parent::*][1]/@lang")  # marked passages, not the root
        if marked and i18n.primary_language(marked[0]) == "en":
            continue
        pieces += [element.text or "", element.tail or ""]
        pieces += [element.get(name, "") for name in SPOKEN_ATTRIBUTES]
    text = "\n".join(pieces)
    return [source for source, pattern in builder_english(language) if pattern.search(text)]


def article_with_every_label(language: str) -> str:
    """An article whose author's words hold no English, with every part the builder labels."""
    body = (
        "Lorem ipsum dolor.[^1]\n\n"
        "[9]{.pagebreak}\n\n"
        '![Imago](../images/chart.png "Tabula")\n\n'
        "::: description\nDescriptio.\n:::\n\n"
        "::: bibliography\n1. Liber primus.\n:::\n\n"
        "[^1]: Nota prima.\n"
    )
    return article(body, title="Titulus", summary="Summarium.", language=language, page="8",
                   content_notes=["bellum"], author_note="Auctor scribit.",
                   authors=[{"name": "Anna Auctor"}, {"name": "Bruno Auctor"}, {"name": "Carla Rogans",
                                                                                  "role": "interviewer"},
                            {"name": "Dora Dicens", "role": "interviewee"}, {"name": "Emil Scriba",
                                                                            "role": "transcriber"},
                            {"name": "Flora Collectrix", "role": "compiler"}, {"name": "Gaius Editor",
                                                                              "role": "editor"}])


@pytest.mark.parametrize("language", SHIPPED)
def test_no_builder_written_english_in_an_article_in_another_language(tmp_path: Path, language: str) -> None:
    root = write_edition(tmp_path / "edition", {"primus": article_with_every_label(language),
                                                "secundus": article("Sequens.", title="Secundus")},
                         images={"chart.png": PIXEL})
    documents = {document.file_name: document for document in render_edition(root).articles}
    first = documents["text/primus.xhtml"]
    assert f'lang="{language}"' in first.xhtml.split(">", 3)[2]  # the root of the document
    assert english_left(first.xhtml, language) == []
    # The check itself finds English where it is: the English article beside it is full of it.
    assert english_left(documents["text/secundus.xhtml"].xhtml, language)


def test_the_check_sees_a_message_left_in_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop one translation from the French words and the check names it."""
    root = write_edition(tmp_path / "edition", {"primus": article_with_every_label("fr")},
                         images={"chart.png": PIXEL})
    french = i18n.translations("fr", i18n.TEXT_DOMAIN)
    catalogue = dict(french._catalog)
    del catalogue["Skip to the article text"]
    monkeypatch.setattr(french, "_catalog", catalogue)
    (document,) = render_edition(root).articles
    assert english_left(document.xhtml, "fr") == ["Skip to the article text"]


def test_a_language_without_words_warns_once_and_falls_back_to_english(tmp_path: Path) -> None:
    root = write_edition(tmp_path / "edition", {"a": article("Testo.", language="it"),
                                                "b": article("Altro testo.", language="it-CH")})
    rendered = render_edition(root)
    warnings = [warning for warning in rendered.warnings if warning.code == "W005"]
    assert len(warnings) == 1 and "Italian" in warnings[0].message
    assert warnings[0].file == root / "articles" / "a.md" and warnings[0].line == 5
    assert "About 1 minute to read" in rendered.articles[0].xhtml


def test_nearest_language_is_suggested() -> None:
    assert "'fr' (French)" in languages.problem("French").remedy
    assert "'de' (German)" in languages.problem("deu").remedy
    assert "'en-GB' (British English)" in languages.problem("British").remedy
    assert languages.problem("la") is None  # Latin: no locale data, but a language CLDR names
    assert languages.problem("en-XX").message == "unknown region 'XX' in the tag 'en-XX'"


def test_no_builder_english_in_the_second_editions_french_and_german_articles() -> None:
    """The Done-when of issue 12: the French and German articles of the second edition, as the text books
    print them and as the narrated book does (its measured listening time in place of the estimate)."""
    from types import SimpleNamespace

    from builder.narration.read_aloud import with_listening_time

    rendered = render_edition(Path(__file__).parent / "editions" / "second")
    foreign = [document for document in rendered.articles if i18n.primary_language(document.language) in ("fr", "de")]
    assert {i18n.primary_language(document.language) for document in foreign} == {"fr", "de"}
    for document in foreign:
        language = i18n.primary_language(document.language)
        narrated = with_listening_time(document, {document.article.slug: SimpleNamespace(duration=105.0)}, "en-GB")
        assert english_left(document.xhtml, language) == [], document.file_name
        assert english_left(narrated.xhtml, language) == [], document.file_name
        spoken = duration(Words(language), 105)  # 1 minute 45 seconds, in the article's words
        assert f'<span class="listening-time">{spoken}</span>' in narrated.xhtml
