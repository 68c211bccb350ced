"""Benchmark: the builder against references measured in the same run, on the same machine.

  (a) text-only build vs pandoc 3 (Markdown → EPUB 3 --mathml), best of three each;
  (b) cold narrated build vs the engine's floor: espeak-ng CLI on the whole text, then LAME on that WAV;
  (c) rebuild after one sentence changes vs the cold build; a rebuild with nothing changed, in seconds;
  (d) peak memory (RSS, whole process tree) of the cold narrated build;
  (e) a synthetic edition ten times the size: time against the 1x cold build, and memory.

Run: `make bench` (or `.venv/bin/python bench/bench.py [--skip-10x]`). Prints a table of ratios.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import lameenc

PROJECT = Path(__file__).resolve().parent.parent
SOURCE = PROJECT / "source"
PYTHON = sys.executable
sys.path.insert(0, str(PROJECT))

from editions import rotate_paragraphs  # noqa: E402  (bench/editions.py, beside this file)

from builder.narration import MP3_BITRATE_KBPS  # noqa: E402


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes, summed over the process tree, sampled every 20 ms)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
    return time.perf_counter() - started, peak


def tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parent = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        resident = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if parent:
            children.setdefault(int(parent.group(1)), []).append(int(entry))
        rss[int(entry)] = int(resident.group(1)) * 1024 if resident else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def best_of(runs: int, action: Callable[[], float]) -> float:
    return min(action() for _ in range(runs))


def build_command(source: Path, output: Path, *extra: str) -> list[str]:
    return [PYTHON, "-m", "builder", "build", str(source), "-o", str(output), "--no-validate", *extra]


def pandoc_time(source: Path, work: Path) -> float:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    articles = [source / "articles" / f"{slug}.md" for slug in manifest_slugs(source)]
    command = [pandoc, "-f", "markdown", "-t", "epub3", "--mathml", "-o", str(work / "pandoc.epub"),
               "--resource-path", str(source / "articles"), *map(str, articles)]
    return timed(command)[0]


def manifest_slugs(source: Path) -> list[str]:
    import tomllib

    return tomllib.loads((source / "edition.toml").read_text(encoding="utf-8"))["articles"]


def engine_floor(text: str, work: Path) -> float:
    """espeak-ng reading the whole text into one WAV, then LAME (lameenc) encoding it, one after the other."""
    wav = work / "floor.wav"
    text_file = work / "floor.txt"
    text_file.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "170", "-f", str(text_file), "-w", str(wav)], check=True)
    with wave.open(str(wav)) as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    (work / "floor.mp3").write_bytes(encoder.encode(pcm) + encoder.flush())
    return time.perf_counter() - started


def book_text(output: Path) -> str:
    """The text the narration speaks, from the audiobook's WebVTT transcripts."""
    lines = []
    for vtt in sorted((output / "imind-spring-2025-audio").glob("*.vtt")):
        for line in vtt.read_text(encoding="utf-8").splitlines():
            if line and "-->" not in line and not line.startswith("WEBVTT") and not line.isdigit():
                lines.append(line)
    return "\n".join(lines)


def change_one_sentence(source: Path) -> None:
    article = source / "articles" / "the-lemon-tree.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("\n\n", "\n\nThis sentence was added by the benchmark.\n\n", 1)
                       if "benchmark" not in text else text.replace("added by", "changed by"), encoding="utf-8")


def multiply_edition(source: Path, target: Path, copies: int) -> None:
    """An edition `copies` times the size, each copy's paragraphs made unique by rotating their words."""
    shutil.copytree(source, target)
    import tomllib

    manifest_text = (source / "edition.toml").read_text(encoding="utf-8")
    slugs = tomllib.loads(manifest_text)["articles"]
    new_slugs = []
    for copy in range(copies):
        for slug in slugs:
            name = slug if copy == 0 else f"{slug}-copy{copy}"
            new_slugs.append(name)
            if copy:
                text = (source / "articles" / f"{slug}.md").read_text(encoding="utf-8")
                (target / "articles" / f"{name}.md").write_text(rotate_paragraphs(text, copy), encoding="utf-8")
    listing = "articles = [\n" + "".join(f'    "{slug}",\n' for slug in new_slugs) + "]"
    manifest = re.sub(r"articles = \[.*?\]", listing, manifest_text, flags=re.DOTALL)
    (target / "edition.toml").write_text(manifest, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-10x", action="store_true", help="skip (e), the ten-times edition")
    arguments = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = Path(folder)
        source = work / "source"
        shutil.copytree(SOURCE, source)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1743465600"}
        # As installed by pip, whose installs are byte-compiled: with PYTHONDONTWRITEBYTECODE set (as on some
        # machines) an editable checkout would otherwise recompile the builder's modules on every run.
        compileall.compile_dir(PROJECT / "builder", quiet=1)

        text_build = best_of(3, lambda: timed(build_command(source, work / "text", "--no-audio"), env)[0])
        pandoc = best_of(3, lambda: pandoc_time(source, work))
        rows.append(("(a) text build vs pandoc", f"{text_build:.2f} s", f"{pandoc:.2f} s",
                     f"{text_build / pandoc:.2f}"))

        cache = work / "cache"
        cold, cold_rss = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        floor = engine_floor(book_text(work / "out"), work)
        rows.append(("(b) cold narrated build vs espeak-ng + LAME", f"{cold:.1f} s", f"{floor:.1f} s",
                     f"{cold / floor:.2f}"))

        change_one_sentence(source)
        changed, _ = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        unchanged, _ = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        rows.append(("(c) rebuild, one sentence changed vs cold", f"{changed:.1f} s", f"{cold:.1f} s",
                     f"{changed / cold:.3f}"))
        rows.append(("(c) rebuild, nothing changed", f"{unchanged:.2f} s", "1 s (target)", f"{unchanged:.2f}"))
        rows.append(("(d) peak RSS, cold narrated build", f"{cold_rss / 2**20:.0f} MB", "300 MB (target)",
                     f"{cold_rss / 2**20 / 300:.2f}"))

        if not arguments.skip_10x:
            big = work / "source-10x"
            multiply_edition(SOURCE, big, 10)
            ten, ten_rss = timed(build_command(big, work / "out-10x", "--cache-dir", str(work / "cache-10x")), env)
            rows.append(("(e) 10x edition vs 1x cold build", f"{ten:.1f} s", f"{cold:.1f} s", f"{ten / cold:.2f}"))
            rows.append(("(e) 10x peak RSS vs 1x", f"{ten_rss / 2**20:.0f} MB", f"{cold_rss / 2**20:.0f} MB",
                         f"{ten_rss / cold_rss:.2f}"))

    print(f"Benchmark on {platform.node() or 'this machine'}: {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {datetime.now(tz=UTC):%Y-%m-%d}")
    print(f"| {'measure':<44} | {'builder':>10} | {'reference':>15} | {'ratio':>6} |")
    print(f"|{'-' * 46}|{'-' * 12}|{'-' * 17}|{'-' * 8}|")
    for measure, ours, reference, ratio in rows:
        print(f"| {measure:<44} | {ours:>10} | {reference:>15} | {ratio:>6} |")


if __name__ == "__main__":
    main()
