"""Display LaTeX → MathML with latex2mathml, preferably in a helper process started early.

latex2mathml takes about 40 ms to load (it pulls in importlib.metadata, urllib.request and email), a fifth
of a text build. So the command line starts a helper interpreter before it loads the rest of the builder:
the helper loads latex2mathml on the other core meanwhile, then converts formulas as they are asked for.
Without a helper (the renderer called directly, or a helper that died) conversion happens in this
process, with the same result. Run as `python -m builder.book.mathml`, this module is the helper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder holding builder/


class UnreadableLatex(ValueError):
    """The converter could not read the LaTeX; the message is its reason."""


class Converter:
    """Converts one formula at a time, in the helper while it answers, else here."""

    def __init__(self) -> None:
        self._helper: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # one question and its answer at a time on the pipe, whatever the thread

    def start_helper(self) -> None:
        """Begin loading latex2mathml in another process. Cheap, and harmless if no formula comes."""
        if self._helper is not None:
            return
        # -P: no current folder on the path, so this package, not some other "builder", answers
        path = os.pathsep.join(filter(None, (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH"))))
        try:
            self._helper = subprocess.Popen(
                [sys.executable, "-P", "-m", "builder.book.mathml"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env={**os.environ, "PYTHONPATH": path})
        except OSError:  # no interpreter to start (an embedded Python, say): formulas are converted here
            self._helper = None

    def stop_helper(self) -> None:
        with self._lock:  # not while another thread waits for its answer
            helper, self._helper = self._helper, None
        self.stop_helper_process(helper)

    @staticmethod
    def stop_helper_process(helper: subprocess.Popen[str] | None) -> None:
        if helper is not None:
            helper.kill()  # it may still be loading; nothing it holds is worth waiting for
            helper.communicate()

    def convert(self, latex: str) -> str:
        """MathML for display LaTeX; UnreadableLatex when the converter cannot read it."""
        reply = self._ask_helper(latex)
        if reply is None:
            return convert_here(latex)
        readable, value = reply
        if not readable:
            raise UnreadableLatex(value)
        return value

    def _ask_helper(self, latex: str) -> tuple[bool, str] | None:
        with self._lock:
            helper = self._helper
            if helper is None or helper.stdin is None or helper.stdout is None:
                return None
            try:
                helper.stdin.write(json.dumps(latex) + "\n")
                helper.stdin.flush()
                answer = helper.stdout.readline()
                readable, value = json.loads(answer)
                return bool(readable), str(value)
            except (OSError, ValueError):  # the helper died or garbled its answer: convert here from now on
                self._helper = None
        self.stop_helper_process(helper)
        return None


def convert_here(latex: str) -> str:
    import latex2mathml.converter  # slow to load: see the module's docstring

    try:
        return latex2mathml.converter.convert(latex.strip(), display="block")
    except Exception as exc:  # the converter raises many types; any of them means unreadable LaTeX
        raise UnreadableLatex(type(exc).__name__ + (f": {exc}" if str(exc) else "")) from None


def serve() -> None:
    """The helper: one JSON string of LaTeX per line in, one [readable, MathML or reason] per line out."""
    import latex2mathml.converter  # noqa: F401  (loaded before the first question arrives)

    for line in sys.stdin:
        try:
            answer = [True, convert_here(json.loads(line))]
        except UnreadableLatex as exc:
            answer = [False, str(exc)]
        print(json.dumps(answer), flush=True)


converter = Converter()  # the process's one converter: the command line starts and stops its helper

if __name__ == "__main__":
    serve()
