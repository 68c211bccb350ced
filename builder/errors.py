"""Diagnostics: every problem a user can cause, with a stable code, a place and a remedy."""

from __future__ import annotations

from dataclasses import dataclass
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

    def location(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else f"{self.file}"

    def __str__(self) -> str:
        place = self.location()
        prefix = f"{place}: " if place else ""
        return f"{prefix}{self.severity.value} {self.code}: {self.message}. {self.remedy}"


class BuildError(Exception):
    """A user error that stops the build; carries one or more diagnostics."""

    def __init__(self, *diagnostics: Diagnostic) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


def error(code: str, message: str, remedy: str, file: Path | None = None, line: int | None = None) -> BuildError:
    return BuildError(Diagnostic(code, message, remedy, file, line))


def warning(code: str, message: str, remedy: str, file: Path | None = None, line: int | None = None) -> Diagnostic:
    return Diagnostic(code, message, remedy, file, line, Severity.WARNING)
