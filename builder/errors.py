"""Diagnostics: every problem a user can cause, with a stable code, a place and a remedy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    remedy: str
    file: Path | None = None
    line: int | None = None
    severity: Severity = Severity.ERROR

    def as_error(self) -> Diagnostic:
        """The same diagnostic, stopping the build (--strict)."""
        return replace(self, severity=Severity.ERROR)

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else f"{self.file}"

    def __str__(self) -> str:
        place = self.location()
        prefix = f"{place}: " if place else ""
        # One line whatever the values quoted in it hold: editors and CI parse "file:line: severity code".
        return one_line(f"{prefix}{self.severity.value} {self.code}: {self.message}. {self.remedy}")


def one_line(text: str) -> str:
    return " ".join(text.split())


def shown(value: object, limit: int = 60) -> str:
    """A user's value quoted in a message, cut short so that a stray paragraph stays readable."""
    text = one_line(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Every code the builder can emit, with its meaning: the reference for editors (and a test keeps it complete).
CODES: dict[str, str] = {
    "E001": "the edition manifest edition.toml is missing",
    "E002": "edition.toml is not valid TOML",
    "E003": "a source file is not UTF-8 text",
    "E004": "a required manifest field is missing or empty",
    "E005": "a manifest field has the wrong type or shape (text, date, slug, list, narration table)",
    "E006": "an invalid or unknown language tag (manifest, front matter, lang=, ::: {lang=…}), nearest match named",
    "E007": "an article is listed twice in the manifest",
    "E008": "an article slug in the manifest is not a lower-case name that starts with a letter",
    "E009": "a source file contains a control character that XML cannot carry",
    "E010": "an article listed in the manifest has no file",
    "E011": "an article's YAML front matter is missing or malformed (or repeats a field)",
    "E012": "a required front-matter field is missing, empty or of the wrong type",
    "E013": "an unknown article kind or author role",
    "E014": "an article has no text",
    "E015": "an article file is a link to a file outside the edition",
    "E020": "a level-1 heading in an article body",
    "E021": "a heading level is skipped",
    "E022": "a heading is empty or holds only an image",
    "E023": "a table row has more cells than its header (the extra cells would be lost)",
    "E030": "a link goes nowhere (unknown #id, empty or relative link)",
    "E031": "a footnote reference has no note",
    "E033": "an id is used twice in one article",
    "E034": "an id is not a valid XML name",
    "E035": "an HTML attribute has an invalid value",
    "E036": "display math cannot be read as LaTeX",
    "E037": "a link has no text (a screen reader can only read out its address)",
    "E038": "a link's address is not a valid URL (what is wrong with it is named)",
    "E039": "a footnote definition is broken across lines ('[^1' then ']:' on the next)",
    "E040": "an image path escapes the edition's images folder (.., absolute, URL, symlink)",
    "E041": "an image does not exist",
    "E042": "an image has no alt text",
    "E043": "an image has placeholder alt text",
    "E044": "an image is of an unsupported type",
    "E045": "an image file is unreadable or its content does not match its extension",
    "E047": "an SVG image carries scripts, event handlers or external references",
    "E049": "an image in the author note (only the body's images are packed into the book)",
    "E051": "raw HTML uses a class or attribute the builder reserves for its own markup",
    "E060": "the speech engine is missing (narration not built)",
    "E070": "a book fails EPUBCheck or DAISY Ace (nothing is published)",
    "E071": "EPUBCheck or DAISY Ace cannot run (nothing is published; --no-validate builds unchecked books)",
    "E080": "pronunciation.toml is not valid TOML, or has an unknown section or a bad entry",
    "E081": "a language or voice the speech engine does not have (manifest voices, front matter, passages)",
    "E090": "a file or folder cannot be read or written",
    "W001": "an unknown manifest field (ignored), with a did-you-mean",
    "W002": "an article file no manifest lists (left out)",
    "W003": "an unknown front-matter field (ignored), with a did-you-mean",
    "W005": "the builder has no words for a language the edition uses (its labels are written in English)",
    "W032": "a footnote is never referenced",
    "W037": "a link's text does not say where it goes ('link', 'here', 'click here', an address over 40 characters)",
    "W046": "an image is very large (over 2 MB or 4000 px)",
    "W050": "unsafe raw HTML removed (script, iframe, object, embed, on* handlers, javascript:/data: URLs, style)",
    "W052": "a link with an unsupported URL scheme is removed (only https, http and mailto)",
    "W060": "the voices were not checked: no speech engine on this machine",
}


class BuildError(Exception):
    """A user error that stops the build; carries one or more diagnostics."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


def error(code: str, message: str, remedy: str, file: Path | None = None, line: int | None = None) -> BuildError:
    return BuildError(Diagnostic(code, message, remedy, file, line))


def warning(code: str, message: str, remedy: str, file: Path | None = None, line: int | None = None) -> Diagnostic:
    return Diagnostic(code, message, remedy, file, line, Severity.WARNING)


@dataclass
class Problems:
    """Collects the errors of independent checks, so that one run reports every mistake (as a compiler
    does) instead of one per run: `with problems.check(): …` keeps going past a BuildError."""

    found: list[Diagnostic] = field(default_factory=list)

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except BuildError as failure:
            self.found += failure.diagnostics

    def add(self, failure: BuildError) -> None:
        self.found += failure.diagnostics

    def raise_any(self) -> None:
        if self.found:
            raise BuildError(*self.found)
