"""The benchmark's summary (bench/bench.py): medians of the runs, and the targets they miss said plainly."""

from __future__ import annotations

import sys

from conftest import PROJECT

sys.path.insert(0, str(PROJECT / "bench"))
import bench

MB = 2**20
RUN = {"text": 0.16, "pandoc": 0.30, "cold": 17.0, "cold_rss": 204 * MB, "floor": 40.0, "changed": 1.5,
       "unchanged": 0.45, "ten": 160.0, "ten_rss": 270 * MB}


def test_the_table_gives_medians_and_names_each_target_missed() -> None:
    runs = [RUN, {**RUN, "text": 0.17}, {**RUN, "text": 0.18, "changed": 2.0}]
    lines, missed = bench.summary(runs)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert rows["(a) text build vs pandoc 3 (best of three)"] == (
        "| (a) text build vs pandoc 3 (best of three) | 0.17 s | 0.30 s | 0.567 | ≤ 0.5 | **NO** | 0.533, 0.567, 0.6 |")
    assert rows["(c) rebuild, one sentence changed, vs cold"].endswith("| ≤ 0.10 | yes | 0.0882, 0.0882, 0.118 |")
    assert missed == ["(a) text build vs pandoc 3 (best of three): 0.567, target ≤ 0.5"]


def test_runs_without_the_ten_times_edition_leave_its_rows_out() -> None:
    lines, missed = bench.summary([{key: value for key, value in RUN.items() if not key.startswith("ten")}])
    assert not any(line.startswith("| (e)") for line in lines) and len(lines) == 2 + 5
    assert missed == ["(a) text build vs pandoc 3 (best of three): 0.533, target ≤ 0.5"]
