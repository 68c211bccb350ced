"""The build cache's folder: spoken clips (clips/), encoded articles (articles/), the M4B's AAC pieces
(aac/), validators' verdicts (verdicts/), finished products (products/), sentence markings (marks/) and
rendered documents (prepared/). Everything in it can be made again; nothing in it is needed to build. Each use
of a file renews its time, and pruning removes the least recently used files first."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

PROJECT = "edition-builder"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / PROJECT


def mark_used(path: Path) -> None:
    """Record that a cached file was just used: pruning removes the least recently used first. The
    modification time is the record (access times are not kept by every file system)."""
    with contextlib.suppress(OSError):
        os.utime(path)


# aac: the M4B's encoded pieces, and M4Bs (distribution.m4b); products: finished books, the DAISY zip, the
# audiobook folder and the records; marks: each document's sentence marking; prepared: the documents rendered
# from an edition's sources; the last three reused while their inputs are unchanged (builder.run.reuse)
KINDS = ("clips", "articles", "aac", "verdicts", "products", "marks", "prepared")
UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
         "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}  # as ccache: k, M, G decimal; Ki, Mi, Gi binary


def parse_size(text: str) -> int:
    """Bytes from "500M", "2G", "1.5Gi", "0" (ccache's convention; a trailing "B" is allowed)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]i?)?[bB]?\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a size: write e.g. 500M, 2G or 1.5Gi")
    return int(float(match.group(1)) * UNITS[(match.group(2) or "").lower()])


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    used: float  # seconds since the epoch


@dataclass(frozen=True)
class Usage:
    files: int
    size: int
    oldest: float | None
    newest: float | None


def entries(cache_dir: Path) -> dict[str, list[Entry]]:
    """The cache's files by kind; files still being written (.tmp-*) are not listed."""
    found: dict[str, list[Entry]] = {}
    for kind in KINDS:
        found[kind] = []
        for path in (cache_dir / kind).rglob("*"):
            if path.name.startswith(".tmp-"):
                continue
            with contextlib.suppress(OSError):  # removed meanwhile by another build's pruning
                status = path.stat()
                if stat.S_ISREG(status.st_mode):
                    found[kind].append(Entry(path, status.st_size, status.st_mtime))
    return found


def usage(cache_dir: Path) -> dict[str, Usage]:
    return {kind: Usage(len(listed), sum(entry.size for entry in listed),
                        min((entry.used for entry in listed), default=None),
                        max((entry.used for entry in listed), default=None))
            for kind, listed in entries(cache_dir).items()}


def prune(cache_dir: Path, max_size: int) -> tuple[int, int]:
    """Remove the least recently used files until the cache holds at most `max_size` bytes; returns
    (files removed, bytes freed). A build sharing the cache only loses what it then makes again."""
    listed = sorted((entry for kind in entries(cache_dir).values() for entry in kind), key=lambda e: e.used)
    total = sum(entry.size for entry in listed)
    removed = freed = 0
    for entry in listed:
        if total - freed <= max_size:
            break
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
            removed, freed = removed + 1, freed + entry.size
    return removed, freed
