"""Find and load the edition's sources: manifest, articles and front matter, into the typed model."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from builder.book import images
from builder.errors import Diagnostic, Problems, error, shown, warning
from builder.i18n import languages
from builder.model import Article, Author, Edition
from builder.sources.config import (
    Manifest,
    check_characters,
    line_of,
    line_of_value,
    load_manifest,
    read_text,
    unknown_keys,
)

ARTICLES_DIR = "articles"
KINDS = ("editorial", "column", "interview", "feature", "reflection", "opinion", "notice", "poem")
ROLES = ("author", "interviewer", "interviewee", "transcriber", "compiler", "editor")
REQUIRED_FIELDS = ("title", "kind", "summary")
OPTIONAL_FIELDS = ("subtitle", "page", "authors", "content_notes", "author_note", "language", "contents_title",
                   "contents_credit")
OPTIONAL_TEXT = ("subtitle", "page", "author_note", "contents_title", "contents_credit")
AUTHOR_FIELDS = ("name", "role", "affiliation")
COVER_TYPES = (".jpg", ".jpeg", ".png")
# The closing '---' may end the file (then the article is empty, which E014 says); the block may be empty.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n((?:.*?\n)?)---[ \t]*(?:\n|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Loaded:
    edition: Edition
    warnings: tuple[Diagnostic, ...]


def load_edition(root: Path) -> Loaded:
    problems = Problems()
    loaded = load_sources(root, problems)
    problems.raise_any()
    return loaded


def load_sources(root: Path, problems: Problems) -> Loaded:
    """The edition, with the articles that could be read; the mistakes of the others (and of the cover)
    go to `problems`, so that one run reports them all. A broken manifest stops at once."""
    manifest = load_manifest(root)
    diagnostics = list(manifest.warnings)
    articles = []
    for slug in manifest.article_slugs:
        with problems.check():
            article, found = load_article(root / ARTICLES_DIR / f"{slug}.md", slug, manifest)
            articles.append(article)
            diagnostics += found
    diagnostics += unlisted_articles(root, manifest)
    cover = None
    with problems.check():
        cover, found = manifest_cover(root, manifest)
        diagnostics += found
    values = manifest.values
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
        cover_lines=tuple(values.get("cover_lines", ())),
        cover=cover,
        cover_alt=values.get("cover_alt", "").strip(),
        suppressed_warnings=tuple(values.get("suppress_warnings", ())),
        print_pages=values.get("print_pages", 0),
        contents_heading=values.get("contents_heading", "").strip(),
        narration=manifest.narration,
    )
    return Loaded(edition, tuple(diagnostics))


def manifest_cover(root: Path, manifest: Manifest) -> tuple[Path | None, list[Diagnostic]]:
    """The cover image the manifest names, checked as an article's image is; None when it names none."""
    src = manifest.values.get("cover", "")
    if not src:
        return None, []
    line = manifest.line_of("cover")
    alt = manifest.values.get("cover_alt", "").strip()
    if not alt:
        raise error("E042", f"cover '{shown(src)}' has no alt text",
                    'Add cover_alt = "…" saying what the cover shows, for readers who cannot see it.',
                    manifest.path, line)
    if images.is_placeholder_alt(alt, src):
        raise error("E043", f"cover '{shown(src)}' has placeholder alt text '{shown(alt)}'",
                    "Write what the cover shows for someone who cannot see it.", manifest.path,
                    manifest.line_of("cover_alt"))
    path = images.resolve(src, manifest.path, root, line)
    if path.suffix.lower() not in COVER_TYPES:  # what every reading system shows as a cover
        raise error("E044", f"cover '{shown(src)}' is not a JPEG or PNG image", "Export the cover as JPEG or PNG.",
                    manifest.path, line)
    return path, images.inspect(path, src, manifest.path, line)


def unlisted_articles(root: Path, manifest: Manifest) -> list[Diagnostic]:
    listed = set(manifest.article_slugs)
    return [
        warning("W002", f"article file '{path.name}' is not listed in the manifest, so it is left out",
                f"Add \"{path.stem}\" to 'articles' in {manifest.path.name}, or delete the file.", path, 1)
        for path in sorted((root / ARTICLES_DIR).glob("*.md"))
        if path.stem not in listed
    ]


def load_article(path: Path, slug: str, manifest: Manifest) -> tuple[Article, list[Diagnostic]]:
    if not path.is_file():
        raise error("E010", f"article '{slug}' is listed but {path} does not exist",
                    f"Create {path.name} or remove '{slug}' from 'articles'.", manifest.path,
                    line_of_value(read_text(manifest.path), slug))
    if not path.resolve().is_relative_to(manifest.path.parent.resolve()):
        raise error("E015", f"article '{slug}' is a link to a file outside the edition",
                    f"Copy the article into {path.parent.name}/ instead of linking to it.", path, 1)
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
    problems = Problems()  # every bad field of the front matter, in one run
    for key in REQUIRED_FIELDS:
        with problems.check():
            if fields.get(key) is None or not text_field(fields, key, path, text):
                raise error("E012", f"required front-matter field '{key}' is missing or empty",
                            f"Add '{key}: …' to the front matter.", path, line_of(text, key) or 2)
    with problems.check():
        if fields.get("kind") is not None and fields["kind"] not in KINDS:
            raise error("E013", f"unknown kind '{shown(fields['kind'])}'", f"Use one of: {', '.join(KINDS)}.", path,
                        line_of(text, "kind"))
    with problems.check():
        language = text_field(fields, "language", path, text)
        if language and (wrong := languages.problem(language)):
            raise error("E006", shown(wrong.message), wrong.remedy, path, line_of(text, "language"))
    with problems.check():
        authors, found = parse_authors(fields.get("authors") or [], path, text)
    for key in OPTIONAL_TEXT:
        with problems.check():
            text_field(fields, key, path, text)
    with problems.check():
        content_notes(fields.get("content_notes"), path, text)
    problems.raise_any()
    article = Article(
        slug=slug,
        title=text_field(fields, "title", path, text),
        kind=fields["kind"],
        summary=text_field(fields, "summary", path, text),
        body=body,
        source=path,
        body_line=body_line,
        subtitle=text_field(fields, "subtitle", path, text),
        page=text_field(fields, "page", path, text),
        authors=authors,
        content_notes=content_notes(fields.get("content_notes"), path, text),
        author_note=text_field(fields, "author_note", path, text),
        contents_title=text_field(fields, "contents_title", path, text),
        contents_credit=text_field(fields, "contents_credit", path, text),
        language=language,
    )
    return article, diagnostics + found


def text_field(fields: dict[str, Any], key: str, path: Path, text: str) -> str:
    """A front-matter value that is shown as text: a string or a number (page: 7), never a list or table."""
    value = fields.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        # YAML reads an unquoted 2025-04-01 as a date and 'yes' as true: say how to keep the text.
        raise error("E012", f"front-matter field '{key}' must be text, not {yaml_type(value)}",
                    f"Write it as text: {key}: \"…\" (quoted).", path, line_of(text, key) or 2)
    return str(value).strip()


def content_notes(value: Any, path: Path, text: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # one note written without the list brackets
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list) or not all(isinstance(note, str | int | float) for note in value):
        raise error("E012", "'content_notes' must be a list of short texts",
                    "Write content_notes: [suicide and self-harm, abuse].", path, line_of(text, "content_notes"))
    return tuple(str(note).strip() for note in value if str(note).strip())


def yaml_type(value: Any) -> str:
    names = {bool: "true/false", list: "a list", dict: "a set of fields"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)


def strip_comments(markdown: str) -> str:
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.DOTALL)


def parse_front_matter(text: str, path: Path) -> dict[str, Any]:
    try:
        fields = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: builds no Python objects
    except DuplicateField as exc:
        raise error("E011", f"front-matter field '{shown(exc.key)}' is given twice",
                    "Keep one of them (YAML would silently use the last).", path, exc.line + 2) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot be read"
        line = mark.line + 2 if mark else 1  # +1 for 0-based, +1 for the opening '---'
        raise error("E011", f"malformed YAML front matter: {problem}",
                    "Fix the YAML (quote values that contain ':' or start with a special character).",
                    path, line) from None
    if fields is None:  # an empty block: the missing required fields are reported next
        return {}
    check_characters(fields, path, "---\n" + text)
    if not isinstance(fields, dict):
        raise error("E011", "front matter is not a set of 'field: value' lines",
                    "Write one 'field: value' per line.", path, 2)
    return fields


class DuplicateField(yaml.YAMLError):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key, self.line = key, line


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built with it: 8x faster
    """PyYAML keeps the last of two equal keys without a word; a repeated field is always a mistake."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable keys are SafeLoader's to refuse
            if key in seen:
                raise DuplicateField(key, key_node.start_mark.line)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
        diagnostics += [found if found.line else replace(found, line=line)  # a flow mapping: the authors line
                        for found in unknown_keys(value, AUTHOR_FIELDS, path, text, "W003")]
        role = value.get("role", "author")
        if role not in ROLES:
            raise error("E013", f"unknown author role '{role}'", f"Use one of: {', '.join(ROLES)}.", path,
                        line_of(text, "role") or line)
        authors.append(Author(value["name"].strip(), role, str(value.get("affiliation") or "").strip()))
    return tuple(authors), diagnostics
