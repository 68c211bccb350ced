#!/usr/bin/env python3
"""Draw the images of the second test edition (tests/editions/second/images) with Pillow.

    .venv/bin/python scripts/draw_second_edition.py

- baking-times.png: a chart of the three loaves' baking times, drawn as scripts/draw_charts.py
  draws iMind's (same frame, palette, contrast checks and deterministic PNG bytes);
- dough-rising.png: an informative picture, three rounds of dough growing;
- wave-rule.png: a decorative rule between sections.

No text in any image (WCAG 1.4.5): what they show is in the articles' alt text, captions and
description tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from draw_charts import BAR, INK, WHITE, Chart, contrast, png, write

OUT = Path(__file__).resolve().parent.parent / "tests" / "editions" / "second" / "images"
DOUGH = (176, 112, 48)  # a crust brown, 3:1 or more against white


def baking_times() -> bytes:
    # "Three loaves": farmhouse white 35 to 40 minutes, oat and treacle 40 to 45, soda bread 15 then
    # 20 to 25 (35 to 40 in all).
    chart = Chart(y_max=50, y_step=10, categories=3)
    for index, (low, high) in enumerate(((35, 40), (40, 45), (35, 40))):
        chart.bar(index, low)
        chart.range_segment(index, low, high)
    return chart.finish()


def dough_rising() -> bytes:
    image = Image.new("RGB", (900, 360), WHITE)
    draw = ImageDraw.Draw(image)
    draw.line((40, 300, 860, 300), fill=INK, width=4)  # the worktop
    for centre, radius in ((150, 60), (450, 95), (750, 130)):
        box = (centre - radius, 300 - 2 * radius * 0.8, centre + radius, 300)
        draw.ellipse(box, fill=DOUGH, outline=INK, width=4)
    return png(image)


def wave_rule() -> bytes:
    image = Image.new("RGB", (900, 60), WHITE)
    draw = ImageDraw.Draw(image)
    points = [(x, 30 + 14 * ((x // 30) % 2 * 2 - 1)) for x in range(0, 901, 30)]
    draw.line(points, fill=BAR, width=5, joint="curve")
    return png(image)


def main() -> None:
    assert contrast(DOUGH, WHITE) >= 3.0, contrast(DOUGH, WHITE)
    write(OUT, {"baking-times.png": baking_times, "dough-rising.png": dough_rising, "wave-rule.png": wave_rule})


if __name__ == "__main__":
    main()
