"""Write builder/i18n/locale/builder.pot, the template of the words the books print, from the code.

Run after changing a message, then update each catalogue from it (as `pybabel update` does):
`.venv/bin/python scripts/extract_messages.py`. tests/test_i18n.py fails while the template is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from babel.messages.pofile import read_po, write_po  # noqa: E402

from builder.i18n import LOCALE_DIR  # noqa: E402
from builder.i18n.messages import TEMPLATE, text_catalogue  # noqa: E402

if __name__ == "__main__":
    template = text_catalogue()
    with TEMPLATE.open("wb") as out:
        write_po(out, template, sort_output=True, width=120, include_lineno=False)
    print(f"wrote {TEMPLATE.relative_to(PROJECT)}")
    for path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/builder.po")):
        with path.open("rb") as source:
            catalog = read_po(source, locale=path.parent.parent.name)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as out:
            write_po(out, catalog, sort_output=True, width=120, ignore_obsolete=True, include_lineno=False)
        print(f"updated {path.relative_to(PROJECT)}")
