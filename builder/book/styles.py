"""The reading profiles' stylesheets: edition.css with each profile's layers appended."""

from __future__ import annotations

from pathlib import Path

from builder.model import Resource
from builder.sources.config import PROFILES

STYLESHEETS = Path(__file__).resolve().parents[2] / "assets" / "css"


def stylesheet(profile: str) -> Resource:
    layers = ("edition.css", *PROFILES[profile])
    css = b"\n".join((STYLESHEETS / name).read_bytes() for name in layers)
    return Resource("css/edition.css", "text/css", css)
