"""Editions generated from the real sources, for the benchmark and the cluster tests: the same kind of
text and markup, made unique per copy by rotating the words of its plain paragraphs."""

from __future__ import annotations

import re
import shutil
import tomllib
import uuid
from collections.abc import Sequence
from pathlib import Path

PLAIN = re.compile(r"^[A-Za-z][^\[\]()$<>*_`|{}^\\]*$")


def rotate_paragraphs(markdown: str, shift: int) -> str:
    head, separator, body = markdown.partition("\n---\n")
    paragraphs = []
    for paragraph in body.split("\n\n"):
        words = paragraph.split()
        if PLAIN.match(paragraph.strip()) and len(words) > shift + 1:
            words = words[shift:] + words[:shift]
            paragraph = " ".join(words)
        paragraphs.append(paragraph)
    return head + separator + "\n\n".join(paragraphs)


def set_field(manifest: str, field: str, value: str) -> str:
    return re.sub(rf'^{field} = ".*"$', f'{field} = "{value}"', manifest, count=1, flags=re.MULTILINE)


def catalogue(source: Path, target: Path, count: int, articles: Sequence[str] | None = None) -> list[Path]:
    """`count` editions in `target/<slug>/`, copies of `source` keeping `articles` (all when None), each
    with its own slug, title, identifier and rotated paragraphs (copy n rotates by n words)."""
    manifest_text = (source / "edition.toml").read_text(encoding="utf-8")
    slugs = list(articles or tomllib.loads(manifest_text)["articles"])
    base = tomllib.loads(manifest_text)["slug"]
    folders = []
    for copy in range(count):
        slug = f"{base}-{copy + 1:02d}"
        folder = target / slug
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("original", "articles"))
        (folder / "articles").mkdir()
        for name in slugs:
            text = (source / "articles" / f"{name}.md").read_text(encoding="utf-8")
            (folder / "articles" / f"{name}.md").write_text(rotate_paragraphs(text, copy) if copy else text,
                                                           encoding="utf-8")
        manifest = re.sub(r"articles = \[.*?\]", "articles = [" + ", ".join(f'"{s}"' for s in slugs) + "]",
                          manifest_text, flags=re.DOTALL)
        manifest = set_field(manifest, "slug", slug)
        manifest = set_field(manifest, "edition", f"Copy {copy + 1}")
        manifest = set_field(manifest, "identifier", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, slug)}")
        (folder / "edition.toml").write_text(manifest, encoding="utf-8")
        folders.append(folder)
    return folders
