"""Find and load the edition's sources: manifest, articles and front matter, into the typed model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from builder.config import LANGUAGE_TAG, Manifest, line_of, load_manifest, read_text, unknown_keys
from builder.errors import Diagnostic, error, warning
from builder.model import Article, Author, Edition

ARTICLES_DIR = "articles"
KINDS = ("editorial", "column", "interview", "feature", "reflection", "opinion", "notice", "poem")
ROLES = ("author", "interviewer", "interviewee", "transcriber", "compiler", "editor")
REQUIRED_FIELDS = ("title", "kind", "summary")
OPTIONAL_FIELDS = ("subtitle", "page", "authors", "content_notes", "author_note", "language")
AUTHOR_FIELDS = ("name", "role", "affiliation")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


@dataclass(frozen=True)
class Loaded:
    edition: Edition
    warnings: tuple[Diagnostic, ...]


def load_edition(root: Path) -> Loaded:
    manifest = load_manifest(root)
    diagnostics = list(manifest.warnings)
    articles = []
    for slug in manifest.article_slugs:
        article, found = load_article(root / ARTICLES_DIR / f"{slug}.md", slug, manifest)
        articles.append(article)
        diagnostics += found
    diagnostics += unlisted_articles(root, manifest)
    values = manifest.values
    cover = values.get("cover")
    edition = Edition(
        title=values["title"],
        subtitle=values.get("subtitle", ""),
        edition=values["edition"],
        date=values["date"],
        publisher=values["publisher"],
        language=values["language"],
        identifier=values["identifier"],
        description=values.get("description", ""),
        print_source=values.get("print_source", ""),
        slug=values["slug"],
        root=root,
        manifest=manifest.path,
        articles=tuple(articles),
        disclaimer=values.get("disclaimer", ""),
        narration=manifest.narration,
        cover_image=(root / cover) if cover else None,
    )
    return Loaded(edition, tuple(diagnostics))


def unlisted_articles(root: Path, manifest: Manifest) -> list[Diagnostic]:
    listed = set(manifest.article_slugs)
    return [
        warning("W002", f"article file '{path.name}' is not listed in the manifest, so it is left out",
                f"Add \"{path.stem}\" to 'articles' in {manifest.path.name}, or delete the file.", path)
        for path in sorted((root / ARTICLES_DIR).glob("*.md"))
        if path.stem not in listed
    ]


def load_article(path: Path, slug: str, manifest: Manifest) -> tuple[Article, list[Diagnostic]]:
    if not path.is_file():
        raise error("E010", f"article '{slug}' is listed but {path} does not exist",
                    f"Create {path.name} or remove '{slug}' from 'articles'.", manifest.path,
                    line_of(read_text(manifest.path), "articles"))
    text = read_text(path)
    match = FRONT_MATTER.match(text)
    if not match:
        raise error("E011", "no front matter", "Start the file with '---', the YAML fields, and '---'.", path, 1)
    fields = parse_front_matter(match.group(1), path)
    body = text[match.end():]
    body_line = text[: match.end()].count("\n") + 1
    if not strip_comments(body).strip():
        raise error("E014", "the article has no text", "Write the article below the front matter.", path, body_line)
    diagnostics = unknown_keys(fields, REQUIRED_FIELDS + OPTIONAL_FIELDS, path, text, "W003")
    for key in REQUIRED_FIELDS:
        if not isinstance(fields.get(key), str) or not fields[key].strip():
            raise error("E012", f"required front-matter field '{key}' is missing or empty",
                        f"Add '{key}: …' to the front matter.", path, line_of(text, key) or 2)
    if fields["kind"] not in KINDS:
        raise error("E013", f"unknown kind '{fields['kind']}'", f"Use one of: {', '.join(KINDS)}.", path,
                    line_of(text, "kind"))
    language = fields.get("language")
    if language is not None and not (isinstance(language, str) and LANGUAGE_TAG.match(language)):
        raise error("E006", f"invalid language tag '{language}'", "Use a BCP 47 tag such as 'en-GB'.", path,
                    line_of(text, "language"))
    authors, found = parse_authors(fields.get("authors", []), path, text)
    article = Article(
        slug=slug,
        title=fields["title"].strip(),
        kind=fields["kind"],
        summary=fields["summary"].strip(),
        body=body,
        source=path,
        body_line=body_line,
        subtitle=str(fields.get("subtitle") or "").strip(),
        page=str(fields.get("page") or "").strip(),
        authors=authors,
        content_notes=tuple(str(note) for note in fields.get("content_notes") or ()),
        author_note=str(fields.get("author_note") or "").strip(),
    )
    return article, diagnostics + found


def strip_comments(markdown: str) -> str:
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.DOTALL)


def parse_front_matter(text: str, path: Path) -> dict[str, Any]:
    try:
        fields = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot be read"
        line = mark.line + 2 if mark else 1  # +1 for 0-based, +1 for the opening '---'
        raise error("E011", f"malformed YAML front matter: {problem}",
                    "Fix the YAML (quote values that contain ':' or start with a special character).",
                    path, line) from None
    if not isinstance(fields, dict):
        raise error("E011", "front matter is not a set of 'field: value' lines",
                    "Write one 'field: value' per line.", path, 2)
    return fields


def parse_authors(values: Any, path: Path, text: str) -> tuple[tuple[Author, ...], list[Diagnostic]]:
    line = line_of(text, "authors")
    if not isinstance(values, list):
        raise error("E012", "'authors' must be a list", "Write '- name: …' entries under 'authors:'.", path, line)
    authors, diagnostics = [], []
    for value in values:
        if isinstance(value, str):
            value = {"name": value}
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise error("E012", "every author needs a name", "Write '- name: …' under 'authors:'.", path, line)
        diagnostics += unknown_keys(value, AUTHOR_FIELDS, path, text, "W003")
        role = value.get("role", "author")
        if role not in ROLES:
            raise error("E013", f"unknown author role '{role}'", f"Use one of: {', '.join(ROLES)}.", path,
                        line_of(text, "role") or line)
        authors.append(Author(value["name"].strip(), role, str(value.get("affiliation") or "").strip()))
    return tuple(authors), diagnostics
