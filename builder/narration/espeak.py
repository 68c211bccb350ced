"""espeak-ng without a memory: every sentence spoken by an engine in the same, untouched state.

espeak-ng carries state from one utterance to the next that no call of its API resets: counters
that are static variables of its wave generator (the pitch-flutter index, the voice-roughness cycle
count, the automatic gain control). Re-initialising the library or selecting the voice again leaves
them as they are (measured: the same sentence after "Hello." differs from the same sentence said
first, with either). So the same words after different sentences were different clips, and a
one-sentence edit re-spoke the rest of its article.

Here a helper process (`python -m builder.narration.espeak`, one per narrating process) initialises espeak-ng
in synchronous mode — no thread of its own, so the process may fork — and never speaks itself. Each
sentence is spoken by a fork of it: copy-on-write makes that cheap, the fork starts from the
helper's untouched state and is gone when the sentence is done. A clip is then a function of its
words, the voice and the engine alone. The helper is a process of its own because the processes
that narrate run threads (the MP3 encoder, a Dask worker's), which a fork must not copy.

Requests and answers are length-prefixed frames on the helper's stdin and stdout. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from builder.narration.engines.base import EngineUnavailable

FRAME = struct.Struct("<cI")  # kind, length of the body
OK, FAILED = b"K", b"E"
AUDIO_OUTPUT_SYNCHRONOUS = 2
SYNTH_FLAGS = 0x1000 | 1  # espeakENDPAUSE | espeakCHARS_UTF8, as pyttsx3's driver speaks
RATE, VOLUME = 1, 2  # espeak_PARAMETER
INSTALL_HINT = "install espeak-ng (apt-get install espeak-ng)"


class EngineFailed(RuntimeError):
    """The engine could not speak a sentence."""


def binding() -> Any:
    """pyttsx3's ctypes binding of libespeak-ng (loading it raises when the library is missing)."""
    try:
        from pyttsx3.drivers import _espeak
    except Exception as missing:
        raise EngineUnavailable(f"espeak-ng is not available ({missing}); {INSTALL_HINT}") from None
    return _espeak


# The phoneme tables espeak-ng loads when it starts; without one, espeak_Initialize ends the process.
ESPEAK_DATA_FILES = ("phontab", "phonindex", "phondata", "intonations")


def check_espeak_data(dll: Any) -> None:
    """Refuse early when espeak-ng could not start for want of its data.

    espeak_Initialize does not return on that error: it prints the missing file and exits the process
    (the speech helper, in a narration worker), so the build could only guess why. The folder is found
    as espeak-ng finds it (ESPEAK_DATA_PATH, else its built-in path), without starting the engine.
    """
    if not hasattr(dll, "espeak_ng_InitializePath"):  # classic eSpeak: nothing to ask
        return
    initialize_path, info = dll.espeak_ng_InitializePath, dll.espeak_Info
    initialize_path.argtypes, initialize_path.restype = [ctypes.c_char_p], None
    info.restype, info.argtypes = ctypes.c_char_p, [ctypes.c_void_p]  # as version() types it
    initialize_path(None)
    found = ctypes.c_char_p()
    info(ctypes.byref(found))  # espeak_Info(&path_data): the data folder now chosen
    folder = Path(os.fsdecode(found.value or b""))
    missing = [name for name in ESPEAK_DATA_FILES if not (folder / name).is_file()]
    if missing:
        chosen = " (ESPEAK_DATA_PATH)" if os.environ.get("ESPEAK_DATA_PATH") else ""
        raise EngineUnavailable(f"espeak-ng cannot start: its data folder {folder}{chosen} has no {', '.join(missing)};"
                                f" point ESPEAK_DATA_PATH at espeak-ng's data or {INSTALL_HINT}")


def version(dll: Any) -> str:
    info = dll.espeak_Info
    info.restype, info.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    return (info(None) or b"unknown").decode("ascii", "replace")


def resolve_voice(requested: str, voices: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """The engine's voice id for an id, a name or a language code (case-insensitive), with its variant if one is
    asked for ("en-gb+f3" → "gmw/en+f3": espeak-ng's own syntax; the variant is checked by builder.narration.voices)."""
    base, plus, variant = requested.partition("+")
    if plus:
        return resolve_voice(base, voices) + plus + variant.strip()
    wanted = requested.strip().lower().replace("_", "-")
    matchers: tuple[Callable[[str, str, Sequence[str]], bool], ...] = (
        lambda id_, _name, _langs: id_.lower().replace("_", "-") == wanted,
        lambda _id, name, _langs: name.lower().replace("_", "-") == wanted,
        lambda _id, _name, langs: wanted in (lang.lower() for lang in langs),
        lambda id_, _name, _langs: id_.lower().rsplit("/", 1)[-1] == wanted,
        lambda _id, name, _langs: wanted in name.lower(),
    )
    for matches in matchers:
        for voice_id, name, languages in voices:
            if matches(voice_id, name, languages):
                return voice_id
    raise ValueError(f"no speech voice matches {requested!r} (try en-gb, or see `espeak-ng --voices=en`)")


# --------------------------------------------------------------------------- the helper process


def write_frame(out: IO[bytes], kind: bytes, body: bytes) -> None:
    out.write(FRAME.pack(kind, len(body)) + body)
    out.flush()


def read_frame(source: IO[bytes]) -> tuple[bytes, bytes] | None:
    header = source.read(FRAME.size)
    if len(header) < FRAME.size:
        return None  # the other side has gone
    kind, length = FRAME.unpack(header)
    body = source.read(length)
    if len(body) < length:
        return None
    return kind, body


class Engine:
    """libespeak-ng in this process, initialised for synchronous synthesis into memory."""

    def __init__(self) -> None:
        self.espeak = binding()
        if self.espeak.Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 1000) == -1:
            raise EngineUnavailable(f"espeak-ng could not start (no voice data?); {INSTALL_HINT}")
        self.chunks: list[bytes] = []
        self.espeak.SetSynthCallback(self._collect)
        # Read once, before any fork: the list is the same for every sentence.
        self.voices = [(v.identifier.decode("utf-8").lower(), v.name.decode("utf-8"),
                        (v.languages[1:].decode("utf-8", "ignore"),) if v.languages else ())
                       for v in self.espeak.ListVoices(None)]
        get_parameter = self.espeak.dll.espeak_GetParameter  # pyttsx3's binding drops `current`
        get_parameter.argtypes, get_parameter.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        self.get_parameter = get_parameter

    def _collect(self, wav: Any, samples: int, _events: Any) -> int:
        if samples > 0:
            self.chunks.append(ctypes.string_at(wav, samples * 2))
        return 0  # go on

    def speak(self, text: str, voice: str, rate: int, volume: float) -> bytes:
        """16-bit mono PCM at the engine's rate. Call in a fork: it changes the engine's state."""
        espeak = self.espeak
        if espeak.SetVoiceByName(resolve_voice(voice, self.voices).encode("utf-8")) != 0:
            raise EngineFailed(f"espeak-ng cannot select voice {voice!r}")
        for parameter, value in ((RATE, rate), (VOLUME, round(volume * 100))):
            espeak.SetParameter(parameter, value, 0)
            if self.get_parameter(parameter, 1) != value:  # 1: the current value, not the default
                raise EngineFailed(f"espeak-ng did not take parameter {parameter} = {value}")
        self.chunks.clear()
        espeak.Synth(text.encode("utf-8"), flags=SYNTH_FLAGS)
        return b"".join(self.chunks)


def spoken_in_a_fork(engine: Engine, request: dict[str, Any]) -> tuple[bytes, bytes]:
    """Speak one request in a child process, so this process's engine stays untouched."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: speak, hand the audio over, and go without cleaning up after the parent
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "wb") as out:
                try:
                    write_frame(out, OK, engine.speak(request["text"], request["voice"], request["rate"],
                                                      request["volume"]))
                except Exception as failure:
                    write_frame(out, FAILED, str(failure).encode("utf-8"))
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        frame = read_frame(answer)
    _, status = os.waitpid(pid, 0)
    if frame is None or status != 0:
        return FAILED, f"the speech process ended with status {status} on {request['text'][:60]!r}".encode()
    return frame


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: a hello with the engine's version, then one answer per request until EOF."""
    try:
        engine = Engine()
    except EngineUnavailable as missing:
        write_frame(answers, FAILED, str(missing).encode("utf-8"))
        return
    write_frame(answers, OK, version(engine.espeak.dll).encode("ascii"))
    while (frame := read_frame(requests)) is not None:
        write_frame(answers, *spoken_in_a_fork(engine, json.loads(frame[1])))


def main() -> None:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the library prints goes to stderr, never into the answers
    serve(sys.stdin.buffer, answers)


# --------------------------------------------------------------------------- the client


class Speaker:
    """A helper process speaking sentences with no memory of the last one. Started on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.engine_version = ""

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            binding()  # a missing library is said here, in this process, with the remedy
            # -P: no current folder on the path, so this package, not some other "builder", answers
            process = subprocess.Popen([sys.executable, "-P", "-m", "builder.narration.espeak"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE)
            hello = read_frame(process.stdout)  # type: ignore[arg-type]
            if hello is None or hello[0] != OK:
                process.kill()
                process.wait()
                raise EngineUnavailable(hello[1].decode() if hello else f"espeak-ng helper failed; {INSTALL_HINT}")
            self._process, self.engine_version = process, hello[1].decode("ascii")
        return self._process

    def speak(self, text: str, voice: str, rate: int, volume: float) -> bytes:
        process = self._started()
        request = json.dumps({"text": text, "voice": voice, "rate": rate, "volume": volume}).encode("utf-8")
        write_frame(process.stdin, OK, request)  # type: ignore[arg-type]
        answer = read_frame(process.stdout)  # type: ignore[arg-type]
        if answer is None:
            raise EngineFailed(f"the espeak-ng helper stopped while speaking {text[:60]!r}")
        kind, body = answer
        if kind != OK:
            raise EngineFailed(body.decode("utf-8", "replace"))
        return body

    def close(self) -> None:
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait()
            self._process = None


if __name__ == "__main__":
    main()
