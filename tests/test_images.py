"""Image files: the header probe agrees with Pillow, and the cover is the manifest's or a drawn one."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import PIL.Image
import pytest
from edition_fixtures import SOURCE, write_edition

from builder.book import images
from builder.errors import BuildError
from builder.run.build import DRAWN_COVER, BuildOptions, build

OPF = "EPUB/content.opf"


@pytest.mark.parametrize(("suffix", "pillow_format"),
                         [(".png", "PNG"), (".jpg", "JPEG"), (".gif", "GIF"), (".webp", "WEBP")])
def test_the_header_probe_reads_the_size_pillow_reads(tmp_path: Path, suffix: str, pillow_format: str) -> None:
    path = tmp_path / f"picture{suffix}"
    PIL.Image.new("RGB", (321, 123), (10, 20, 30)).save(path, format=pillow_format)
    assert images.inspect(path, path.name, tmp_path / "a.md", 1) == []
    with PIL.Image.open(path) as picture:
        assert images.raster_size(path, path.name, tmp_path / "a.md", 1) == picture.size == (321, 123)


def test_a_truncated_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    buffer = io.BytesIO()
    PIL.Image.new("RGB", (20, 20)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[:12])  # the signature and half of the first chunk's header
    with pytest.raises(BuildError) as failure:
        images.inspect(path, "../images/picture.png", tmp_path / "a.md", 7)
    (diagnostic,) = failure.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("E045", 7)
    assert "header is damaged" in diagnostic.message


def test_the_manifests_cover_is_the_books_cover(tmp_path: Path) -> None:
    build(BuildOptions(source=SOURCE, output=tmp_path, audio=False, validate=False))
    with zipfile.ZipFile(next(tmp_path.glob("*.epub"))) as book:
        opf = book.read(OPF).decode()
        assert '<item href="images/cover.jpg" id="images-cover-jpg" media-type="image/jpeg"' \
               ' properties="cover-image"/>' in opf
        assert book.read("EPUB/images/cover.jpg") == (SOURCE / "images" / "cover.jpg").read_bytes()
        title = book.read("EPUB/text/title.xhtml").decode()
    assert 'src="../images/cover.jpg" alt="Cover of iMind, Spring 2025: translucent circles' in title


def test_without_a_cover_in_the_manifest_one_is_drawn(tmp_path: Path) -> None:
    source = write_edition(tmp_path / "source")
    assert "cover" not in (source / "edition.toml").read_text()
    build(BuildOptions(source=source, output=tmp_path / "out", audio=False, validate=False))
    with zipfile.ZipFile(next((tmp_path / "out").glob("*.epub"))) as book:
        assert f'href="{DRAWN_COVER}"' in book.read(OPF).decode()
        with PIL.Image.open(io.BytesIO(book.read(f"EPUB/{DRAWN_COVER}"))) as cover:
            assert (cover.format, cover.size) == ("JPEG", images.COVER_SIZE)
