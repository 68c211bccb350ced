"""The edition manifest (`edition.toml`) → frozen settings."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import Diagnostic, error, warning
from builder.model import NarrationSettings

MANIFEST_NAME = "edition.toml"
REQUIRED = ("title", "edition", "date", "publisher", "language", "identifier", "slug", "articles")
OPTIONAL = ("subtitle", "description", "print_source", "disclaimer", "narration", "cover")
NARRATION_KEYS = ("voice", "rate", "volume")
# BCP 47, the shapes a publisher uses: language, optional script, region, variants.
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-[a-zA-Z0-9]{5,8})*$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Manifest:
    path: Path
    values: dict[str, Any]
    narration: NarrationSettings
    article_slugs: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]


def read_text(path: Path) -> str:
    """Read a source file as UTF-8, or fail naming the first bad byte's line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error("E003", "file is not UTF-8 text", "Save it as UTF-8.", path, line) from None


def line_of(text: str, key: str) -> int | None:
    """The line where a top-level TOML key or YAML key is written, for diagnostics."""
    match = re.search(rf"^\s*{re.escape(key)}\s*[=:]", text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else None


def unknown_keys(found: dict[str, Any], known: tuple[str, ...], path: Path, text: str,
                 code: str) -> list[Diagnostic]:
    diagnostics = []
    for key in found:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        remedy = f"Did you mean '{close[0]}'?" if close else f"Known fields: {', '.join(known)}."
        diagnostics.append(warning(code, f"unknown field '{key}' is ignored", remedy, path, line_of(text, key)))
    return diagnostics


def load_manifest(root: Path) -> Manifest:
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise error("E001", "no edition manifest", f"Create {MANIFEST_NAME} (see source/README.md).", path)
    text = read_text(path)
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise error("E002", f"malformed TOML: {reason}", "Fix the TOML syntax.", path,
                    int(found.group(1)) if found else None) from None
    for key in REQUIRED:
        if key not in values or values[key] in ("", []):
            raise error("E004", f"required field '{key}' is missing", f"Add '{key} = …' to the manifest.", path)
    for key in ("title", "edition", "date", "publisher", "language", "identifier", "slug"):
        if not isinstance(values[key], str):
            raise error("E005", f"field '{key}' must be a string", f'Write {key} = "…".', path, line_of(text, key))
    if not LANGUAGE_TAG.match(values["language"]):
        raise error("E006", f"invalid language tag '{values['language']}'",
                    "Use a BCP 47 tag such as 'en-GB'.", path, line_of(text, "language"))
    if not SLUG.match(values["slug"]):
        raise error("E005", f"slug '{values['slug']}' is not lower-case words joined by hyphens",
                    "Use a slug such as 'imind-spring-2025'.", path, line_of(text, "slug"))
    slugs = values["articles"]
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise error("E005", "'articles' must be a list of article slugs", 'Write articles = ["editors-note", …].',
                    path, line_of(text, "articles"))
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise error("E007", f"article '{duplicates[0]}' is listed twice", "List each article once.", path,
                    line_of(text, "articles"))
    warnings = unknown_keys(values, REQUIRED + OPTIONAL, path, text, "W001")
    narration_values = values.get("narration", {})
    warnings += unknown_keys(narration_values, NARRATION_KEYS, path, text, "W001")
    return Manifest(path, values, narration_settings(narration_values, path, text), tuple(slugs), tuple(warnings))


def narration_settings(values: dict[str, Any], path: Path, text: str) -> NarrationSettings:
    defaults = NarrationSettings()
    settings = NarrationSettings(
        voice=values.get("voice", defaults.voice),
        rate=values.get("rate", defaults.rate),
        volume=values.get("volume", defaults.volume),
    )
    if not isinstance(settings.voice, str) or not isinstance(settings.rate, int) or not (
        isinstance(settings.volume, int | float) and 0 <= settings.volume <= 1
    ):
        raise error("E005", "narration needs voice (text), rate (words a minute) and volume (0 to 1)",
                    'Write e.g. voice = "en-gb", rate = 170, volume = 1.0.', path, line_of(text, "narration"))
    return settings
