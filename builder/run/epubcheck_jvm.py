"""EPUBCheck for many books in one Java virtual machine: `python -m builder.run.epubcheck_jvm JAR`.

EPUBCheck's command line checks one book per run, and each run pays for a JVM's start and for
loading and JIT-compiling EPUBCheck (measured: the second book of a kind is checked about ten
times faster than the first). Its Java API has no such limit: this helper starts one JVM through
JPype and runs EPUBCheck's own command-line class (`EpubChecker.run`, the code `java -jar` runs)
once per request, so reports are the ones the command line writes.

Requests: one JSON line on stdin, ``{"epub": path, "report": path}``; answers: one JSON line,
``{"exit": code}`` or ``{"error": text}``. EPUBCheck's own printing goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO

JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-Duser.language=en", "-Djava.awt.headless=true")  # as the CLI runner


def serve(jar: str, requests: IO[str], answers: IO[str]) -> None:
    import jpype

    jpype.startJVM(*JVM_OPTIONS, classpath=[jar], convertStrings=True)
    checker = jpype.JClass("com.adobe.epubcheck.tool.EpubChecker")
    arguments = jpype.JArray(jpype.JString)
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        try:
            code = int(checker().run(arguments(["--json", request["report"], request["epub"]])))
            answer: dict[str, object] = {"exit": code}
        except Exception as failure:  # a Java exception: say it, and go on with the next book
            answer = {"error": f"{type(failure).__name__}: {failure}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # EPUBCheck prints its progress on stdout: keep it out of the answers
    serve(sys.argv[1], sys.stdin, answers)


if __name__ == "__main__":
    main()
