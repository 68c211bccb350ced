"""Draw the edition's abstract cover into source/images/cover.jpg, where edition.toml names it.

It is the picture the build draws when a manifest names no cover (builder.book.images.cover_jpeg); keeping it
as a source file, as an edition keeps its designed cover, spares every build the drawing. Run again only
to redraw it: `.venv/bin/python scripts/draw_cover.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from builder.book.images import cover_jpeg  # noqa: E402
from builder.sources import load_edition  # noqa: E402

if __name__ == "__main__":
    source = PROJECT / "source"
    target = source / "images" / "cover.jpg"
    target.write_bytes(cover_jpeg(load_edition(source).edition))
    print(f"wrote {target.relative_to(PROJECT)}")
