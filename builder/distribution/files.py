"""Every record of a release, written into the build's staging folder: ONIX, MARC 21, OPDS.

Imported only by builds that write records (full builds: narrated), so the text build never loads pymarc
or langcodes.
"""

from __future__ import annotations

from pathlib import Path

from builder.distribution import marc, onix, opds
from builder.distribution.products import Release


def write_all(release: Release, folder: Path) -> list[str]:
    """Write the records into `folder`; returns their file names, relative to it."""
    return [*onix.write(release, folder), *marc.write(release, folder), *opds.write(release, folder)]
