"""The edition manifest (`edition.toml`) → frozen settings."""

from __future__ import annotations

import datetime
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.errors import CODES, Diagnostic, Problems, error, shown, warning
from builder.i18n import languages
from builder.model import NarrationSettings

MANIFEST_NAME = "edition.toml"
# Reading profiles: each one's stylesheet is edition.css with these layers appended (documents always link
# css/edition.css).
PROFILES: dict[str, tuple[str, ...]] = {
    "standard": (),
    "readable": ("readable.css",),
    "large-print": ("readable.css", "large-print.css"),
}
REQUIRED = ("title", "edition", "date", "publisher", "language", "identifier", "slug", "articles")
OPTIONAL = ("subtitle", "description", "print_source", "print_pages", "disclaimer", "cover", "cover_alt",
            "cover_lines", "narration", "suppress_warnings", "contents_heading")
TEXT_FIELDS = ("title", "edition", "date", "publisher", "language", "identifier", "slug", "subtitle", "description",
               "print_source", "disclaimer", "cover", "cover_alt", "contents_heading")
NARRATION_KEYS = ("engine", "voice", "rate", "volume", "voices", "question_voice", "question_voices", "read_emoji",
                  "read_code")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# An article's slug names its file and becomes an XML id in the book, so it must start with a letter.
ARTICLE_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
# Characters XML 1.0 cannot carry: a book holding one is not well-formed.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Manifest:
    path: Path
    values: dict[str, Any]
    narration: NarrationSettings
    article_slugs: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    text: str = ""  # the manifest as written, for the lines of later diagnostics

    def line_of(self, key: str) -> int | None:
        return line_of(self.text, key)


def parse_toml(text: str, path: Path, code: str) -> dict[str, Any]:
    """The TOML of a source file, or one error under `code` naming the line tomllib stopped at."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise error(code, f"malformed TOML: {reason}", "Fix the TOML syntax.", path,
                    int(found.group(1)) if found else None) from None


def read_text(path: Path) -> str:
    """Read a source file as UTF-8, or fail naming the first bad byte's line.

    A byte-order mark and Windows or old Mac line endings are accepted: editors save them silently.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error("E003", f"file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                    "Save it as UTF-8 (in most editors: Save As, encoding UTF-8).", path, line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = NOT_XML.search(text)
    if bad:
        line = text[: bad.start()].count("\n") + 1
        raise error("E009", f"control character U+{ord(bad.group()):04X} in the text",
                    "Delete it (it is invisible in most editors; it often comes from copying out of a PDF).",
                    path, line)
    return text


def line_of(text: str, key: str) -> int | None:
    """The line where a top-level TOML key or YAML key is written, for diagnostics."""
    match = re.search(rf"^\s*{re.escape(key)}\s*[=:]", text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else None


def check_characters(values: Any, path: Path, text: str, key: str = "") -> None:
    """Escapes such as "\\u000b" (TOML) or "\\x0b" (YAML) can put into a value what read_text refused."""
    if isinstance(values, dict):
        for name, value in values.items():
            check_characters(value, path, text, key or str(name))
    elif isinstance(values, list):
        for value in values:
            check_characters(value, path, text, key)
    elif isinstance(values, str) and NOT_XML.search(values):
        bad = NOT_XML.search(values)
        assert bad is not None
        raise error("E009", f"control character U+{ord(bad.group()):04X} in the value of '{key}'",
                    "Delete the escape that writes it.", path, line_of(text, key) or 1)


def line_of_value(text: str, value: str, occurrence: int = 1) -> int | None:
    """The line of the n-th quoted occurrence of a value, e.g. a slug in the articles list."""
    found = [match.start() for match in re.finditer(rf"[\"']{re.escape(value)}[\"']", text)]
    if len(found) < occurrence:
        return line_of(text, "articles")
    return text[: found[occurrence - 1]].count("\n") + 1


def unknown_keys(found: dict[str, Any], known: tuple[str, ...], path: Path, text: str,
                 code: str) -> list[Diagnostic]:
    diagnostics = []
    for key in map(str, found):  # YAML keys may be numbers or dates
        if key in known:
            continue
        import difflib  # only for a did-you-mean on an unknown field

        close = difflib.get_close_matches(key, known, n=1)
        remedy = f"Did you mean '{close[0]}'?" if close else f"Known fields: {', '.join(known)}."
        diagnostics.append(warning(code, f"unknown field '{key}' is ignored", remedy, path, line_of(text, key)))
    return diagnostics


def load_manifest(root: Path) -> Manifest:
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise error("E001", "no such edition folder", "Give the folder holding edition.toml (default: source/).",
                    root)
    if not path.is_file():
        raise error("E001", "no edition manifest", f"Create {MANIFEST_NAME} (see source/README.md).", path)
    text = read_text(path)
    values = parse_toml(text, path, "E002")
    check_characters(values, path, text)
    problems = Problems()  # every independent mistake of the manifest, in one run
    usable = check_fields(values, path, text, problems)
    checks = {"date": check_date, "language": check_language, "slug": check_slug}
    for key, check in checks.items():
        with problems.check():
            if key in usable:
                check(values[key], path, text)
    slugs: list[str] = []
    with problems.check():
        slugs = check_articles(values["articles"], path, text, problems) if "articles" in usable else []
    with problems.check():
        check_suppressed(values.get("suppress_warnings", []), path, text)
    with problems.check():
        check_print_pages(values.get("print_pages", 1), path, text)
    warnings = unknown_keys(values, REQUIRED + OPTIONAL, path, text, "W001")
    narration = NarrationSettings()
    with problems.check():
        narration_values = values.get("narration", {})
        if not isinstance(narration_values, dict):
            raise error("E005", "'narration' must be a table",
                        "Write [narration] with voice, rate and volume below it.", path, line_of(text, "narration"))
        warnings += unknown_keys(narration_values, NARRATION_KEYS, path, text, "W001")
        narration = narration_settings(narration_values, path, text)
    problems.raise_any()
    return Manifest(path, values, narration, tuple(slugs), tuple(warnings), text)


def check_fields(values: dict[str, Any], path: Path, text: str, problems: Problems) -> set[str]:
    """Required fields present, text fields text: the keys whose values later checks may read."""
    usable = set(values)
    for key in REQUIRED:
        if key not in values or values[key] in ("", []):
            usable.discard(key)
            problems.add(error("E004", f"required field '{key}' is missing or empty",
                               f"Add '{key} = …' to the manifest.", path, line_of(text, key) or 1))
    if isinstance(values.get("date"), datetime.date):  # an unquoted TOML date means the same
        values["date"] = values["date"].isoformat()
    for key in TEXT_FIELDS:
        if key in values and not isinstance(values[key], str):
            usable.discard(key)
            problems.add(error("E005", f"field '{key}' must be text", f'Write {key} = "…".', path,
                               line_of(text, key)))
    return usable


def check_date(date: str, path: Path, text: str) -> None:
    try:  # the date stamps every file of the book when SOURCE_DATE_EPOCH is not set
        datetime.datetime.fromisoformat(date)
    except ValueError:
        raise error("E005", f"date '{shown(date)}' is not a date", 'Write date = "YYYY-MM-DD".', path,
                    line_of(text, "date")) from None


def check_language(language: str, path: Path, text: str) -> None:
    if wrong := languages.problem(language):
        raise error("E006", shown(wrong.message), wrong.remedy, path, line_of(text, "language"))


def check_slug(slug: str, path: Path, text: str) -> None:
    if not SLUG.match(slug):
        raise error("E005", f"slug '{shown(slug)}' is not lower-case words joined by hyphens",
                    "Use a slug such as 'imind-spring-2025'.", path, line_of(text, "slug"))


def check_articles(slugs: Any, path: Path, text: str, problems: Problems) -> list[str]:
    """The articles list: every bad or repeated slug is reported; the good ones are loaded."""
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise error("E005", "'articles' must be a list of article slugs", 'Write articles = ["editors-note", …].',
                    path, line_of(text, "articles"))
    seen: set[str] = set()
    good = []
    for slug in slugs:
        with problems.check():
            if not ARTICLE_SLUG.match(slug):  # it names a file: '../x' or 'a/b' would reach outside articles/
                raise error("E008", f"article slug '{shown(slug)}' is not lower-case words joined by hyphens",
                            "Name the article file e.g. 'editors-note.md' and list it as \"editors-note\".", path,
                            line_of_value(text, slug))
            if slug in seen:
                raise error("E007", f"article '{slug}' is listed twice", "List each article once.", path,
                            line_of_value(text, slug, occurrence=2))
            seen.add(slug)
            good.append(slug)
    return good


def check_voices_table(voices: Any, path: Path, text: str, table: str = "voices") -> None:
    """[narration.voices] maps language tags to voices: fr = "fr", "de-CH" = "de"; [narration.question_voices]
    likewise, for interviews' questions (a voice or a variant, "+f3")."""
    header_line = table_line(text, f"narration.{table}") or line_of(text, table)
    if not isinstance(voices, dict):
        raise error("E005", f"narration {table.replace('_', ' ')} must be a table of language = voice",
                    f'Write [narration.{table}] and below it e.g. fr = "fr".', path, header_line)
    for tag, voice in voices.items():
        line = line_of_entry(text, header_line, tag)
        if wrong := languages.problem(tag):
            raise error("E006", f"{wrong.message} in [narration.{table}]", wrong.remedy, path, line)
        if not isinstance(voice, str) or not voice.strip():
            raise error("E005", f"the voice for '{shown(tag)}' must be a voice name", f'Write {tag} = "{tag}".', path,
                        line)


def table_line(text: str, table: str) -> int | None:
    """The line of a TOML table header (`[narration.voices]`), if the manifest writes one."""
    header = re.search(rf"^[ \t]*\[{re.escape(table)}\]", text, re.MULTILINE)
    return text[: header.start()].count("\n") + 1 if header else None


def line_of_entry(text: str, header_line: int | None, key: str) -> int | None:
    """The line of `key = …` after a table header (for a key that other tables may repeat)."""
    lines = text.splitlines()
    for number in range(header_line or 0, len(lines)):
        if re.match(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?\s*=", lines[number]):
            return number + 1
    return header_line
def check_print_pages(count: Any, path: Path, text: str) -> None:
    """How many pages the print edition has: the accessibility summary says how many the page list reaches."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise error("E005", "'print_pages' must be a whole number of pages", "Write e.g. print_pages = 36.", path,
                    line_of(text, "print_pages"))


def check_suppressed(codes: Any, path: Path, text: str) -> None:
    """`suppress_warnings` silences warnings the editors have decided to live with (as Sphinx's setting
    of that name does); an error cannot be silenced."""
    known = sorted(code for code in CODES if code.startswith("W"))
    if not isinstance(codes, list) or not all(isinstance(code, str) and code in known for code in codes):
        raise error("E005", "'suppress_warnings' must be a list of warning codes",
                    f'Write e.g. suppress_warnings = ["W002"]; the warning codes are {", ".join(known)}.', path,
                    line_of(text, "suppress_warnings"))


def check_engine(engine: Any, path: Path, text: str) -> str:
    """`engine = "espeak" | "piper"`: the speech engine's name (builder.narration.engines)."""
    from builder.narration.engines import ENGINES

    if not isinstance(engine, str) or engine not in ENGINES:
        import difflib

        close = difflib.get_close_matches(str(engine), ENGINES, n=1)
        hint = f"Did you mean '{close[0]}'? " if close else ""
        choices = " or ".join(f'"{name}"' for name in ENGINES)
        raise error("E005", f"narration engine '{shown(str(engine))}' is not a speech engine the builder has",
                    f"{hint}Write engine = {choices}.", path, line_of(text, "engine"))
    return engine


def narration_settings(values: dict[str, Any], path: Path, text: str) -> NarrationSettings:
    defaults = NarrationSettings()
    voices = values.get("voices", {})
    check_voices_table(voices, path, text)
    engine = check_engine(values.get("engine", defaults.engine), path, text)
    question_voices = values.get("question_voices", {})
    check_voices_table(question_voices, path, text, "question_voices")
    settings = NarrationSettings(
        engine=engine,
        # A voice the edition does not name: espeak-ng's en-gb, as always; another engine's own voice for the
        # edition's language (its voices are models, whose names no default could guess).
        voice=values.get("voice", defaults.voice if engine == defaults.engine else ""),
        rate=values.get("rate", defaults.rate),
        volume=values.get("volume", defaults.volume),
        voices=tuple(voices.items()),
        question_voice=values.get("question_voice", defaults.question_voice),
        question_voices=tuple(question_voices.items()),
        read_emoji=values.get("read_emoji", defaults.read_emoji),
        read_code=values.get("read_code", defaults.read_code),
    )
    valid = {
        "voice": isinstance(settings.voice, str) and (bool(settings.voice.strip()) or "voice" not in values),
        "question_voice": isinstance(settings.question_voice, str) and bool(settings.question_voice.strip()
                                                                            or "question_voice" not in values),
        "rate": isinstance(settings.rate, int) and not isinstance(settings.rate, bool) and 0 < settings.rate < 1000,
        "volume": isinstance(settings.volume, int | float) and 0 <= settings.volume <= 1,
    }
    for key in ("read_emoji", "read_code"):
        if not isinstance(getattr(settings, key), bool):
            raise error("E005", f"narration {key} must be true or false", f"Write {key} = true.", path,
                        line_of(text, key))
    wrong = [key for key, ok in valid.items() if not ok]
    if wrong:
        header = re.search(r"^[ \t]*\[narration\]", text, re.MULTILINE)
        line = (line_of(text, wrong[0]) if wrong[0] in values else None) or (
            text[: header.start()].count("\n") + 1 if header else None)
        raise error("E005", f"narration {wrong[0].replace('_', ' ')} is not valid: voice and question_voice are"
                    " text, rate is words a minute (e.g. 170), volume is from 0 to 1",
                    'Write e.g. voice = "en-gb", question_voice = "+f3", rate = 170, volume = 1.0.', path, line)
    return settings
