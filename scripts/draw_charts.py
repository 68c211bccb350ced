#!/usr/bin/env python3
"""Draw the edition's two bar charts as PNGs, from the figures the articles state.

    .venv/bin/python scripts/draw_charts.py

writes source/images/staff-retention.png and source/images/bigspd-growth.png.

- No text in the images (WCAG 1.4.5): the words and numbers are in each figure's alt text,
  caption and `::: description` data table. Axis ticks and gridlines are plain lines.
- Contrast of every bar and axis against the white ground is at least 3:1 (WCAG 1.4.11),
  and checked below; the range segment is told apart from the solid bar by hatching as well
  as by colour (WCAG 1.4.1).
- Deterministic bytes: no timestamps, no metadata chunks, a fixed palette, fixed size.
- Data only as stated in the articles; nothing interpolated.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "source" / "images"
SIZE = (1200, 700)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 120, 80, 60, 90

WHITE = (255, 255, 255)
INK = (34, 34, 34)          # axes and ticks
GRID = (221, 221, 221)      # gridlines: a reading aid only, the data is in the table
BAR = (18, 78, 84)          # dark teal, the palette of the cover
RANGE = (46, 139, 148)      # lighter teal for the 80 → 85% range, plus hatching


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


for colour in (INK, BAR, RANGE):
    assert contrast(colour, WHITE) >= 3.0, (colour, contrast(colour, WHITE))


class Chart:
    """A vertical bar chart frame: y from 0 to y_max, one slot per category."""

    def __init__(self, y_max: float, y_step: float, categories: int) -> None:
        self.image = Image.new("RGB", SIZE, WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.y_max = y_max
        self.left, self.top = MARGIN_LEFT, MARGIN_TOP
        self.right, self.bottom = SIZE[0] - MARGIN_RIGHT, SIZE[1] - MARGIN_BOTTOM
        self.slot = (self.right - self.left) / categories
        steps = round(y_max / y_step)
        for i in range(steps + 1):
            y = self.y(i * y_step)
            if i:
                self.draw.line((self.left, y, self.right, y), fill=GRID, width=2)
            self.draw.line((self.left - 18, y, self.left, y), fill=INK, width=3)  # tick
        self.draw.line((self.left, self.top - 10, self.left, self.bottom), fill=INK, width=4)  # y axis
        for i in range(categories + 1):  # category separators under the x axis
            x = round(self.left + i * self.slot)
            self.draw.line((x, self.bottom, x, self.bottom + 18), fill=INK, width=3)
        self.draw.line((self.left, self.bottom, self.right + 10, self.bottom), fill=INK, width=4)  # x axis

    def y(self, value: float) -> int:
        return round(self.bottom - (self.bottom - self.top) * value / self.y_max)

    def bar_x(self, index: int) -> tuple[int, int]:
        centre = self.left + (index + 0.5) * self.slot
        half = self.slot * 0.28
        return round(centre - half), round(centre + half)

    def bar(self, index: int, value: float, fill=BAR) -> None:
        x0, x1 = self.bar_x(index)
        if value <= 0:  # zero: no bar, a ring on the axis marks the category (unlike a short bar)
            centre, r = (x0 + x1) // 2, 16
            self.draw.ellipse((centre - r, self.bottom - r, centre + r, self.bottom + r), fill=WHITE,
                              outline=fill, width=5)
            return
        self.draw.rectangle((x0, self.y(value), x1, self.bottom - 1), fill=fill)  # meets the axis line

    def range_segment(self, index: int, low: float, high: float) -> None:
        """A lighter, hatched segment from low to high on top of a bar, outlined in the bar colour."""
        x0, x1 = self.bar_x(index)
        top, bottom = self.y(high), self.y(low)
        self.draw.rectangle((x0, top, x1, bottom), fill=RANGE)
        for offset in range(-(bottom - top), x1 - x0, 14):  # diagonal hatching, clipped to the box
            ax, ay = x0 + offset, bottom
            bx, by = ax + (bottom - top), top
            if ax < x0:
                ay -= x0 - ax
                ax = x0
            if bx > x1:
                by += bx - x1
                bx = x1
            if ay >= by:
                self.draw.line((ax, ay, bx, by), fill=WHITE, width=3)
        self.draw.rectangle((x0, bottom, x1, bottom + 3), fill=BAR)  # hatch ends spilling below
        self.draw.rectangle((x0, top, x1, bottom), outline=BAR, width=4)

    def finish(self) -> bytes:
        return png(self.image)


def png(image: Image.Image) -> bytes:
    """Eight-colour PNG bytes, the same for the same picture."""
    palette = image.quantize(colors=8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)  # Pillow writes no tIME/tEXt chunks unless asked
    return out.getvalue()


def staff_retention() -> bytes:
    # Presidential lead interview: "While traditional teams experienced 100% turnover over seven
    # years, open dialogue teams retained 80–85% of their staff".
    chart = Chart(y_max=100, y_step=10, categories=2)
    chart.bar(0, 0)                      # traditional teams: 0% retained (100% turnover)
    chart.bar(1, 80)                     # open dialogue teams: at least 80% retained ...
    chart.range_segment(1, 80, 85)       # ... up to 85%
    return chart.finish()


def bigspd_growth() -> bytes:
    # Relational practice manifesto: "growing from a dozen delegates to the ... (BIGSPD)
    # conference in 1999 to over 600 in 2023". Two stated points only.
    chart = Chart(y_max=700, y_step=100, categories=2)
    chart.bar(0, 12)                     # 1999: a dozen delegates
    chart.bar(1, 600)                    # 2023: over 600
    return chart.finish()


def check_png(data: bytes) -> None:
    """No chunk that could carry text, time or metadata."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8].decode("ascii")
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(data[pos + 4:pos + 8] + body) == int.from_bytes(data[pos + 8 + length:pos + 12 + length], "big")
        chunks.append(kind)
        pos += 12 + length
    assert set(chunks) <= {"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}, chunks


def write(out: Path, drawings: dict[str, Callable[[], bytes]]) -> None:
    """Draw each image twice (to prove it deterministic), check its chunks and size, write it."""
    out.mkdir(parents=True, exist_ok=True)
    for name, draw in drawings.items():
        data = draw()
        assert data == draw(), f"{name}: drawing is not deterministic"
        check_png(data)
        assert len(data) < 60_000, f"{name}: {len(data)} bytes"
        (out / name).write_bytes(data)
        print(f"{out / name}: {len(data)} bytes")


def main() -> None:
    write(OUT, {"staff-retention.png": staff_retention, "bigspd-growth.png": bigspd_growth})


if __name__ == "__main__":
    main()
