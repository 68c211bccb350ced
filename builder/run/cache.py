"""The build cache's folder: spoken clips (clips/), encoded articles (articles/), validators' verdicts
(verdicts/). Everything in it can be made again; nothing in it is needed to build."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = "edition-builder"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / PROJECT
