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


SCALE_RUN = {"make_cold": 500.0, "narrated_cold": 400.0, "hours": 1.86, "cache_clips": 40e6, "cache_articles": 40e6,
             "cache_aac": 0.0, "cache_verdicts": 1e5, "cache_total": 80.1e6, "make_again": 4.0, "narrated_edit": 30.0,
             "catalogue_articles": 3.0, "local": 280.0, "cluster": 300.0, "same": 1.0}


def test_the_scale_rows_are_medians_too_and_differing_bytes_miss_f() -> None:
    import scale  # bench/scale.py: rows (f)-(j), through bench.py's summary

    runs = [SCALE_RUN, {**SCALE_RUN, "narrated_edit": 50.0}, {**SCALE_RUN, "narrated_edit": 44.0, "same": 0.0}]
    lines, missed = bench.summary(runs, scale.MEASURES)
    rows = {line.split(" | ")[0].lstrip("| ")[:3]: line for line in lines[2:]}
    assert rows["(g)"].endswith("| 44.0 s | 400.0 s | 0.11 | ≤ 0.10 | **NO** | 0.075, 0.125, 0.11 |")
    assert "BYTES DIFFER" not in rows["(f)"] and rows["(f)"].endswith("| 1.07, 1.07, inf |")
    assert rows["(j)"].split(" | ")[1] == "43 MB/h"
    assert missed == ["(g) one sentence changed mid longest article vs cold: 0.11, target ≤ 0.10"]
    lines, missed = bench.summary([{**SCALE_RUN, "same": 0.0}], scale.MEASURES)
    assert "BYTES DIFFER" in lines[2] and missed[0].startswith("(f)")
    assert not any(line.startswith("| (f)") for line in bench.summary(
        [{key: value for key, value in SCALE_RUN.items() if key not in {"cluster", "local", "same"}}],
        scale.MEASURES)[0])


def test_a_cluster_only_scale_run_prints_the_f_row_alone() -> None:
    import scale  # bench/scale.py --only-cluster: a run holds (f)'s measurements only

    only_f = {key: SCALE_RUN[key] for key in ("catalogue_articles", "local", "cluster", "same")}
    lines, missed = bench.summary([only_f], scale.MEASURES)
    assert [line.split(" | ")[0].lstrip("| ")[:3] for line in lines[2:]] == ["(f)"]
    assert missed == []


def test_the_floors_speak_each_cues_text_and_never_its_identifier(tmp_path) -> None:
    # Every floor (espeak-ng's, Piper's) reads this text: a cue's identifier spoken too lengthened iMind's floors
    # by 934 sentence ids ("editors-note-s0001"), making every ratio against them look better than it was.
    audio = tmp_path / "imind-spring-2025-audio"
    audio.mkdir()
    (audio / "01-a.vtt").write_text("WEBVTT\n\na-s0001\n00:00:00.000 --> 00:00:01.500\nFirst & one.\n\n"
                                    "a-s0002\n00:00:01.500 --> 00:00:03.000\nSecond, on\ntwo lines.\n",
                                    encoding="utf-8")
    (audio / "02-b.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n42\n", encoding="utf-8")
    assert bench.book_text(tmp_path) == "First & one.\nSecond, on\ntwo lines.\n42"
