"""Images the build draws itself: the cover. Pure functions returning image bytes (no text in images)."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw

from builder.model import Edition

COVER_SIZE = (1200, 1800)
# Dark teal ground with light shapes: the palette of the title page's styles.
GROUND = (18, 78, 84)
SHAPES = ((242, 169, 125), (249, 226, 174), (166, 212, 204), (255, 255, 255))


def cover_jpeg(edition: Edition) -> bytes:
    """An abstract cover: overlapping circles placed from a hash of the edition's identifier."""
    image = Image.new("RGB", COVER_SIZE, GROUND)
    draw = ImageDraw.Draw(image, "RGBA")
    seed = hashlib.sha256(edition.identifier.encode()).digest()
    width, height = COVER_SIZE
    for index in range(12):
        x = seed[index] * width // 255
        y = seed[index + 12] * height // 255
        radius = 120 + seed[index + 24 if index + 24 < len(seed) else index] % 260
        red, green, blue = SHAPES[index % len(SHAPES)]
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(red, green, blue, 110))
    draw.rectangle((0, height * 2 // 3, width, height * 2 // 3 + 24), fill=(255, 255, 255, 180))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)  # a few ms, where PNG takes 35 to 100 ms
    return out.getvalue()


def cover_alt(edition: Edition) -> str:
    return (f"Cover of {edition.title}, {edition.edition}: translucent circles in coral, cream and pale green"
            " on a dark teal ground, crossed by a white band.")
