#!/usr/bin/env python3
"""Measure the builder's sentence splitter against PySBD (a well-kept rule-based segmenter, 22 languages).

    .venv/bin/python scripts/compare_segmenters.py source tests/editions/second

For every block of text narration reads (paragraphs, list items, headings, cells, captions), in the language
the document gives it, both split it into sentences; the script counts the sentences and prints every block
where they disagree, for a person to judge. It changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pysbd
from lxml import etree

from builder.run.build import prepare
from builder.i18n import primary_language
from builder.narration.lexicon import load_lexicons
from builder.narration.speech import _spoken_text, language_of, split_sentences

BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "td", "th", "figcaption", "caption", "dd", "dt"}
PYSBD_LANGUAGES = {"en", "fr", "de", "es", "it", "nl", "pl", "ru", "da", "el", "hi", "mr", "zh", "ja", "ar", "hy",
                   "fa", "ur", "am", "bg", "my", "kk", "sk"}


def blocks(xhtml: str, default: str) -> list[tuple[str, str]]:
    root = etree.fromstring(xhtml.encode("utf-8"))
    body = root.find("{http://www.w3.org/1999/xhtml}body")
    found = []
    for element in body.iter() if body is not None else ():
        if isinstance(element.tag, str) and etree.QName(element).localname in BLOCKS:
            if any(isinstance(child.tag, str) and etree.QName(child).localname in BLOCKS for child in element):
                continue  # a list item holding paragraphs: its paragraphs are the blocks
            text = " ".join(_spoken_text(element).split())
            if text:
                found.append((text, language_of(element, default)))
    return found


def compare(source: Path) -> tuple[int, int, int, list[str]]:
    prepared = prepare(source)
    lexicons = load_lexicons(source, prepared.edition.language)
    ours_total = theirs_total = agreed = 0
    disagreements = []
    for document in prepared.articles:
        for text, language in blocks(document.xhtml, prepared.edition.language):
            code = primary_language(language)
            ours = [text[a:b] for a, b in split_sentences(text, lexicons.of(language))]
            segmenter = pysbd.Segmenter(language=code if code in PYSBD_LANGUAGES else "en", clean=False)
            theirs = [sentence.strip() for sentence in segmenter.segment(text) if sentence.strip()]
            ours_total += len(ours)
            theirs_total += len(theirs)
            if ours == theirs:
                agreed += 1
            else:
                disagreements.append(f"[{language}] ours {len(ours)} | pysbd {len(theirs)}\n  ours:  "
                                     + "\n         ".join(ours) + "\n  pysbd: " + "\n         ".join(theirs))
    return ours_total, theirs_total, agreed, disagreements


def main() -> None:
    for folder in sys.argv[1:]:
        ours, theirs, agreed, disagreements = compare(Path(folder))
        print(f"# {folder}: builder {ours} sentences, PySBD {theirs}; blocks split alike {agreed}, "
              f"differently {len(disagreements)}")
        for entry in disagreements:
            print(entry)


if __name__ == "__main__":
    main()
