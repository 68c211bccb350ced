"""Tiny hand-written EPUB 3 books for tests, built with zipfile (no builder code involved).

``write_epub(path)`` writes a minimal book that passes EPUBCheck and DAISY Ace (full
schema.org accessibility metadata, languages, titles, ARIA roles matching epub:type).
Keyword switches break it in known ways:

* ``nav=False``        — no navigation document: EPUBCheck error RSC-005 (nav required).
* ``image_alt=None``   — an ``<img>`` without ``alt``: Ace violation ``image-alt`` (critical).
* ``a11y_metadata=False`` — no schema.org metadata: Ace ``metadata-*`` violations (serious).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

BOOK_ID = "urn:uuid:0b7c9a52-5f0e-4c8e-9a51-3d8f2b6f1e01"
MODIFIED = "2024-01-01T00:00:00Z"

CONTAINER_XML = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""

A11Y_METADATA = """
    <meta property="schema:accessMode">textual</meta>
    <meta property="schema:accessModeSufficient">textual</meta>
    <meta property="schema:accessibilityFeature">structuralNavigation</meta>
    <meta property="schema:accessibilityFeature">tableOfContents</meta>
    <meta property="schema:accessibilityFeature">readingOrder</meta>
    <meta property="schema:accessibilityHazard">none</meta>
    <meta property="schema:accessibilitySummary">A short text-only test book with a table of contents
      and a logical reading order.</meta>
    <link rel="dcterms:conformsTo" href="http://www.idpf.org/epub/a11y/accessibility-20170105.html#wcag-aa"/>
    <meta property="a11y:certifiedBy">Test suite</meta>"""

PACKAGE_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="pub-id" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="pub-id">{book_id}</dc:identifier>
    <dc:title>{title}</dc:title>
    <dc:language>en</dc:language>
    <dc:creator>Test Author</dc:creator>
    <meta property="dcterms:modified">{modified}</meta>{a11y}
  </metadata>
  <manifest>
{manifest}
  </manifest>
  <spine>
    <itemref idref="chapter"/>
  </spine>
</package>
"""

NAV_XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head>
  <meta charset="utf-8"/>
  <title>{title} — Contents</title>
</head>
<body>
  <nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-title">
    <h1 id="toc-title">Contents</h1>
    <ol>
      <li><a href="chapter.xhtml">Chapter One</a></li>
    </ol>
  </nav>
</body>
</html>
"""

CHAPTER_XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head>
  <meta charset="utf-8"/>
  <title>Chapter One</title>
</head>
<body>
  <main>
    <section epub:type="chapter" role="doc-chapter" aria-labelledby="ch1">
      <h1 id="ch1">Chapter One</h1>
      <p>It was a bright cold day in April, and the test suite was running.</p>{figure}
    </section>
  </main>
</body>
</html>
"""


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid opaque grey PNG, built without Pillow."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))  # filter 0, 8-bit grey
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write_epub(
    path: Path,
    *,
    title: str = "Tiny Test Book",
    nav: bool = True,
    a11y_metadata: bool = True,
    image: bool = False,
    image_alt: str | None = "A grey square.",
) -> Path:
    """Write a minimal EPUB 3 to ``path`` and return it.

    ``image=True`` adds a PNG figure; with ``image_alt=None`` its ``<img>`` has no ``alt``.
    """
    manifest = [
        '    <item id="chapter" href="chapter.xhtml" media-type="application/xhtml+xml"/>',
    ]
    if nav:
        manifest.insert(
            0, '    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
    figure = ""
    if image:
        manifest.append('    <item id="img1" href="grey.png" media-type="image/png"/>')
        alt = "" if image_alt is None else f' alt="{image_alt}"'
        figure = f'\n      <p><img src="grey.png"{alt}/></p>'
    opf = PACKAGE_OPF.format(
        book_id=BOOK_ID,
        title=title,
        modified=MODIFIED,
        a11y=A11Y_METADATA if a11y_metadata else "",
        manifest="\n".join(manifest),
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        deflated = zipfile.ZIP_DEFLATED
        zf.writestr("META-INF/container.xml", CONTAINER_XML, compress_type=deflated)
        zf.writestr("EPUB/package.opf", opf, compress_type=deflated)
        if nav:
            zf.writestr("EPUB/nav.xhtml", NAV_XHTML.format(title=title), compress_type=deflated)
        zf.writestr("EPUB/chapter.xhtml", CHAPTER_XHTML.format(figure=figure), compress_type=deflated)
        if image:
            zf.writestr("EPUB/grey.png", tiny_png(), compress_type=deflated)
    return path
