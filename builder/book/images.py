"""The edition's image files: where a reference may point and whether the file is the image its name says;
and the cover the build draws when the manifest names none (abstract, no text). No file is written here."""

from __future__ import annotations

import hashlib
import io
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from builder.errors import Diagnostic, error, shown, warning
from builder.i18n import N_, Words
from builder.model import Edition

IMAGES_DIR = "images"
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml", ".webp": "image/webp"}
# How each raster type's file begins (its magic number), as EPUBCheck checks it against the media type.
IMAGE_SIGNATURES = {"PNG": re.compile(rb"\x89PNG\r\n\x1a\n"), "JPEG": re.compile(rb"\xff\xd8\xff"),
                    "GIF": re.compile(rb"GIF8[79]a"), "WebP": re.compile(rb"RIFF....WEBP", re.DOTALL)}
FORMAT_OF_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WebP"}
LARGE_IMAGE_BYTES = 2 * 1024 * 1024
LARGE_IMAGE_PIXELS = 4000  # on either side
SVG_UNSAFE_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "handler", "listener"}
PLACEHOLDER_ALT = re.compile(
    r"^(image|img|photo|photograph|picture|pic|figure|fig|graphic|chart|alt|alt text|todo|tbd|untitled|"
    r"[\w\-. ]+\.(png|jpe?g|gif|svg|webp))\s*\d*$",
    re.IGNORECASE,
)
URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
CSS_URL = re.compile(r"url\s*\(|@import|expression\s*\(", re.IGNORECASE)

COVER_SIZE = (1200, 1800)
# Dark teal ground with light shapes: the palette of the title page's styles.
GROUND = (18, 78, 84)
SHAPES = ((242, 169, 125), (249, 226, 174), (166, 212, 204), (255, 255, 255))
SHAPE_NAMES = (N_("coral"), N_("cream"), N_("pale green"), N_("white"))  # the words for SHAPES, in order


def is_placeholder_alt(alt: str, src: str) -> bool:
    """Alt text that says nothing: 'image', 'photo 2', 'TODO', or the file's own name."""
    text = alt.strip()
    return bool(PLACEHOLDER_ALT.match(text)) or text == Path(unquote(src)).name


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see: it ignores whitespace and control characters inside it."""
    squeezed = re.sub(r"[\x00-\x20]", "", value)
    match = URL_SCHEME.match(squeezed)
    return match.group(1).lower() if match else None


def resolve(src: str, written_in: Path, root: Path, line: int | None) -> Path:
    """The source file of an image referenced from `written_in`, which must exist inside the edition's
    images folder (`root` is the edition's folder)."""
    images = (root / IMAGES_DIR).resolve()
    prefix = "" if written_in.parent == root else "../"  # the manifest, or an article in articles/
    where = f"Put the image in the edition's images/ folder and write {prefix}images/<name>."
    relative = unquote(src)  # markdown-it percent-encodes spaces and non-ASCII letters in the path
    if url_scheme(src) or relative.startswith(("/", "\\")) or re.search(r"[\x00-\x1f]", relative):
        raise error("E040", f"image '{shown(src)}' is not a relative path inside the edition", where, written_in, line)
    try:  # resolve() follows symlinks, so a link pointing outside the edition is caught here too
        path = (written_in.parent / relative).resolve()
        inside, exists = path.is_relative_to(images), path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, say
        inside, exists = True, False
    if not inside:
        raise error("E040", f"image '{shown(src)}' is outside the edition's images folder", where, written_in, line)
    if not exists:
        raise error("E041", f"image '{shown(src)}' does not exist", "Check the file name, or add the image.",
                    written_in, line)
    if path.suffix.lower() not in IMAGE_TYPES:
        raise error("E044", f"image '{shown(src)}' is not a supported type",
                    f"Use one of: {', '.join(sorted(IMAGE_TYPES))}.", written_in, line)
    return path


def inspect(path: Path, src: str, written_in: Path, line: int | None) -> list[Diagnostic]:
    """The file must be the image its name says (EPUBCheck checks the bytes against the media type)."""
    size = path.stat().st_size
    if path.suffix.lower() == ".svg":
        check_svg(path.read_bytes(), src, written_in, line)
        width = height = 0
    else:
        width, height = raster_size(path, src, written_in, line)
    if size > LARGE_IMAGE_BYTES or max(width, height) > LARGE_IMAGE_PIXELS:
        return [warning("W046", f"image '{shown(src)}' is large ({size / 1_048_576:.1f} MB, {width}×{height} px)",
                        f"Scale it to at most {LARGE_IMAGE_PIXELS} px and 2 MB: big images make the book slow"
                        " to download and open.", written_in, line)]
    return []


def raster_size(path: Path, src: str, written_in: Path, line: int | None) -> tuple[int, int]:
    """Width and height from the file's header: the type by its magic number, the size by Pillow, which
    reads only the header until asked for pixels (imagesize, used before, imports urllib.request: twice
    Pillow's start-up)."""
    with path.open("rb") as file:
        head = file.read(16)
    found = next((name for name, signature in IMAGE_SIGNATURES.items() if signature.match(head)), None)
    if found is None:
        raise error("E045", f"image '{shown(src)}' is not an image file",
                    "Export the image again as PNG or JPEG.", written_in, line)
    if found != FORMAT_OF_SUFFIX[path.suffix.lower()]:
        raise error("E045", f"image '{shown(src)}' is a {found} file named {path.suffix}",
                    f"Rename it to .{found.lower().replace('jpeg', 'jpg')} or convert it to {path.suffix[1:].upper()}.",
                    written_in, line)
    from PIL import Image, UnidentifiedImageError  # only for editions with raster images

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, struct.error):  # Pillow's words for a bad header
        width = height = -1
    if width <= 0 or height <= 0:
        raise error("E045", f"image '{shown(src)}' cannot be read (its {found} header is damaged)",
                    "Export the image again as PNG or JPEG.", written_in, line)
    return width, height


def check_svg(data: bytes, src: str, written_in: Path, line: int | None) -> None:
    """An SVG is a document: refuse one that could run code or fetch anything when the book is opened."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise error("E045", f"image '{shown(src)}' is not well-formed SVG ({shown(exc)})",
                    "Export the SVG again, or use a PNG.", written_in, line) from None
    if etree.QName(root).localname != "svg":
        raise error("E045", f"image '{shown(src)}' is not an SVG image", "Export it again as SVG, or use a PNG.",
                    written_in, line)
    found = []
    if b"<!ENTITY" in data:
        found.append("an entity declaration")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in SVG_UNSAFE_ELEMENTS:
            found.append(f"<{name}>")
        if name == "style" and CSS_URL.search(element.text or ""):
            found.append("a url() in <style>")
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname
            if local.lower().startswith("on"):
                found.append(f"{local}=")
            elif local == "style" and CSS_URL.search(value):
                found.append("a url() in style=")
            elif local == "href" and not (value.startswith("#") or value.startswith("data:image/")):
                found.append(f"a link to '{shown(value, 40)}'")
    if found:
        raise error("E047", f"SVG image '{shown(src)}' carries {', '.join(sorted(set(found)))}",
                    "Remove scripts, handlers and external references from the SVG, or export it as PNG.",
                    written_in, line)


@dataclass(frozen=True)
class Circle:
    x: int
    y: int
    radius: int
    colour: int  # index into SHAPES and SHAPE_NAMES


def cover_circles(edition: Edition) -> list[Circle]:
    """Where the drawn cover's circles go: a hash of the edition's identifier decides."""
    seed = hashlib.sha256(edition.identifier.encode()).digest()
    width, height = COVER_SIZE
    return [Circle(seed[index] * width // 255, seed[index + 12] * height // 255,
                   120 + seed[index + 24 if index + 24 < len(seed) else index] % 260, index % len(SHAPES))
            for index in range(12)]


def cover_jpeg(edition: Edition) -> bytes:
    """An abstract cover: overlapping circles placed from a hash of the edition's identifier."""
    from PIL import Image, ImageDraw  # only when the edition supplies no cover: Pillow is slow to load

    image = Image.new("RGB", COVER_SIZE, GROUND)
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = COVER_SIZE
    for circle in cover_circles(edition):
        red, green, blue = SHAPES[circle.colour]
        draw.ellipse((circle.x - circle.radius, circle.y - circle.radius, circle.x + circle.radius,
                      circle.y + circle.radius), fill=(red, green, blue, 110))
    draw.rectangle((0, height * 2 // 3, width, height * 2 // 3 + 24), fill=(255, 255, 255, 180))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)  # a few ms, where PNG takes 35 to 100 ms
    return out.getvalue()


def cover_alt(edition: Edition) -> str:
    """The drawn cover's alt text, in the book's language, saying what was drawn for this edition: how many
    circles, in which colours, and where most of them lie."""
    say = Words(edition.language)
    circles = cover_circles(edition)
    colours = [say(SHAPE_NAMES[index]) for index in sorted({circle.colour for circle in circles})]
    return say("Cover of {title}, {edition}: {count} translucent circles in {colours} on a dark teal ground,"
               " most of them in its {part}, crossed by a white band.", title=edition.title,
               edition=edition.edition, count=len(circles), colours=say.join(colours), part=say(where(circles)))


def where(circles: list[Circle]) -> str:
    """The half of the cover holding most of the circles' centres, the way they lean furthest."""
    width, height = COVER_SIZE
    across = sum(circle.x for circle in circles) / len(circles) / width - 0.5
    down = sum(circle.y for circle in circles) / len(circles) / height - 0.5
    if abs(down) >= abs(across):
        return N_("lower half") if down > 0 else N_("upper half")
    return N_("right half") if across > 0 else N_("left half")
