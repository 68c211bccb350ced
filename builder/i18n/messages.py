"""The messages of the `builder` domain as the code uses them, found by Babel's extractor (as `pybabel
extract` does): the source of the `.pot` template and of the test that every catalogue is complete.

Words objects are called `say` or `words`; `N_` marks a message defined in one place and translated in
another. The speech domain's modules are lang-speech's and extracted apart.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file

BUILDER = Path(__file__).resolve().parent.parent
# The modules that write the words the books print.
TEXT_MODULES = ("book/render.py", "book/enrich.py", "book/navigation.py", "narration/read_aloud.py",
                "book/images.py", "book/accessibility.py", "narration/credits.py")
KEYWORDS = {"say": None, "words": None, "plural": (1, 2), "N_": None}
HEADER = ("# Template of the words the edition builder prints in the books (domain 'builder').\n"
          "# Made by scripts/extract_messages.py from the code; do not edit.\n#")
TEMPLATE = Path(__file__).resolve().parent / "locale" / "builder.pot"


def text_catalogue() -> Catalog:
    """Every message the text modules use, with where each is used (a template: no translations)."""
    catalog = Catalog(domain="builder", project="edition-builder", version="0.1", msgid_bugs_address="",
                      copyright_holder="the edition-builder team", charset="utf-8", fuzzy=False,
                      header_comment=HEADER)
    for name in TEXT_MODULES:
        path = BUILDER / name
        for line, message, comments, context in extract_from_file("python", path, keywords=KEYWORDS,
                                                                  comment_tags=("TRANSLATORS:",)):
            catalog.add(message, locations=[(f"builder/{name}", line)], auto_comments=comments, context=context,
                        flags=("python-brace-format",) if "{" in str(message) else ())
    return catalog
