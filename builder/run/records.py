"""The records the build's stages hand each other: options in, prepared documents, results out.

They live apart from the orchestration (build.py) so the narration branch (read_aloud.py) and the
report (report.py) can name them without importing the build back: the imports flow one way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from builder.distribution.products import Release
from builder.errors import Diagnostic
from builder.model import Document, Edition, Resource

Progress = Callable[[str, int, int], None]  # article, sentences done, sentences in all


@dataclass(frozen=True)
class BuildOptions:
    source: Path
    output: Path
    audio: bool = True
    strict: bool = False
    validate: bool = True
    profiles: tuple[str, ...] = ("standard",)
    jobs: int = 0  # 0: one per core
    cache_dir: Path | None = None
    engine: str | None = None  # --engine, over edition.toml's
    voice: str | None = None
    rate: int | None = None
    volume: float | None = None
    scheduler: str | None = None  # a Dask scheduler's address: narrate there instead of the local pool


@dataclass(frozen=True)
class Rendered:
    """Every article rendered, before anything is drawn or packaged."""

    edition: Edition
    articles: tuple[Document, ...]
    images: dict[str, Path]  # path in the package → source file
    warnings: tuple[Diagnostic, ...]
    suppressed: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """Everything both books are made from: the edition and its rendered, enriched documents."""

    edition: Edition
    documents: tuple[Document, ...]  # spine order: title page, contents, articles
    resources: tuple[Resource, ...]
    cover: Resource
    warnings: tuple[Diagnostic, ...]
    suppressed: tuple[Diagnostic, ...] = ()  # warnings edition.toml silences, kept for the report

    @property
    def articles(self) -> tuple[Document, ...]:
        return tuple(document for document in self.documents if document.article is not None)


@dataclass
class BuildResult:
    outputs: list[Path] = field(default_factory=list)
    warnings: tuple[Diagnostic, ...] = ()
    report: dict = field(default_factory=dict)
    failures: tuple[Diagnostic, ...] = ()  # errors that still let some outputs be published
    release: Release | None = None  # what was published, as the records (builder.distribution) describe it
