"""scripts/setup.sh says what it does: one line per step it runs (what, why, how long), nothing when
nothing is missing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import PROJECT


def test_a_step_says_what_why_and_how_long_and_a_failure_says_so(tmp_path: Path) -> None:
    script = (f'LOG={tmp_path / "log"}; source {PROJECT / "scripts" / "step.sh"}; '
              'step "waiting" "to be measured" sleep 0.3; step "failing" "to be seen" false || echo "rc=$?"')
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    first, second, code = run.stdout.splitlines()
    measured = re.fullmatch(r"setup: waiting, to be measured \.\.\. (\d+\.\d) s", first)
    assert measured and float(measured.group(1)) >= 0.3, first  # at least the sleep (more on a loaded machine)
    assert second == "setup: failing, to be seen ... failed" and code == "rc=1"


def test_set_up_is_silent_when_nothing_is_missing() -> None:
    subprocess.run(["bash", "scripts/setup.sh"], cwd=PROJECT, capture_output=True, check=True)  # whatever was missing
    again = subprocess.run(["bash", "scripts/setup.sh"], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert again.stdout == "" and again.stderr == ""
