"""The README says what the set-up really does."""

from __future__ import annotations

import re

from conftest import PROJECT


def test_every_debian_package_the_set_up_installs_is_listed() -> None:
    script = (PROJECT / "scripts" / "setup-tools.sh").read_text(encoding="utf-8")
    installed = [package for found in re.findall(r"apt_packages\+=\(([^)]+)\)", script) for package in found.split()]
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert installed, "no apt_packages in scripts/setup-tools.sh: has the set-up moved?"
    assert [package for package in installed if f"`{package}`" not in readme] == []


def test_every_scripted_mutation_is_documented() -> None:
    script = (PROJECT / "scripts" / "mutate.py").read_text(encoding="utf-8")
    names = re.findall(r'^    Mutation\("([a-z0-9-]+)"', script, re.MULTILINE)
    table = (PROJECT / "docs" / "mutations.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z0-9-]+)`", table, re.MULTILINE)
    assert names and names == documented
