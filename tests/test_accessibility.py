"""Accessibility rules that need the real edition: alt text enforced, colours that meet WCAG 2.2 AA, and
metadata that claims no check the build did not make."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import PROJECT, SOURCE

from builder.book.accessibility import CERTIFIED_BY, describe
from builder.cli import main

CSS = PROJECT / "assets" / "css"


def test_a_book_built_without_validators_does_not_claim_their_check(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        opf = book.read("EPUB/content.opf").decode()
    assert "built without running EPUBCheck and DAISY Ace on it" in opf
    assert "checked automatically" not in opf and "a11y:certifiedBy" not in opf


def test_only_a_validating_build_claims_the_validators_check() -> None:
    checked, unchecked = describe([], narrated=False, checked=True), describe([], narrated=False, checked=False)
    assert checked.summary.startswith("This publication conforms to EPUB Accessibility 1.1 and WCAG 2.2 Level AA,"
                                      " checked automatically with EPUBCheck and DAISY Ace when it was built.")
    assert (checked.certified_by, unchecked.certified_by) == (CERTIFIED_BY, "")
    assert checked.summary.split(". ", 1)[1] == unchecked.summary.split(". ", 1)[1] != ""  # the rest is the same


def test_removing_an_images_alt_text_fails_the_build_naming_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "source"
    shutil.copytree(SOURCE, source)
    article = source / "articles" / "presidential-lead-interview.md"
    lines = article.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(index for index, line in enumerate(lines, start=1) if "](../images/staff-retention.png" in line)
    lines[number - 1] = re.sub(r"!\[[^\]]*\]", "![]", lines[number - 1])
    article.write_text("".join(lines), encoding="utf-8")
    output = tmp_path / "output"
    assert main(["build", str(source), "-o", str(output), "--no-audio", "--no-validate"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"{article}:{number}: error E042: image '../images/staff-retention.png' has no alt text")
    assert not output.exists() or not any(output.glob("*.epub"))


def relative_luminance(colour: str) -> float:
    channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def declared(css: str, selector: str, property_name: str) -> str:
    rule = re.search(rf"(?:^|\}}|\n)\s*{re.escape(selector)}\s*\{{([^}}]*)\}}", css)
    assert rule, f"no rule for {selector}"
    value = re.search(rf"(?<![-\w]){property_name}\s*:\s*#([0-9a-fA-F]{{6}}|[0-9a-fA-F]{{3}})\b", rule.group(1))
    assert value, f"no {property_name} in {selector}"
    digits = value.group(1)
    return "#" + (digits if len(digits) == 6 else "".join(digit * 2 for digit in digits))


def split_modes(css: str) -> tuple[str, str]:
    light, _, dark = css.partition("@media (prefers-color-scheme: dark)")
    return light, dark


# (foreground selector, property), (background selector, property): text and what it sits on.
PAIRS = [
    (("html", "color"), ("html", "background")),
    (("a", "color"), ("html", "background")),
    (("h1, h2, h3, h4", "color"), ("html", "background")),
    (("html", "color"), (".at-a-glance", "background")),
    (("a", "color"), (".at-a-glance", "background")),
    ((".content-notes", "color"), (".at-a-glance", "background")),
    ((".-epub-media-overlay-active", "color"), (".-epub-media-overlay-active", "background-color")),
]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_text_colours_meet_wcag_aa_in_light_and_dark_modes(mode: str) -> None:
    light, dark = split_modes((CSS / "edition.css").read_text(encoding="utf-8"))
    for (fg_selector, fg_property), (bg_selector, bg_property) in PAIRS:
        def colour(selector: str, property_name: str) -> str:
            if mode == "dark":
                try:
                    return declared(dark, selector, property_name)
                except AssertionError:
                    pass  # not overridden in dark mode
            return declared(light, selector, property_name)

        foreground, background = colour(fg_selector, fg_property), colour(bg_selector, bg_property)
        ratio = contrast(foreground, background)
        assert ratio >= 4.5, f"{mode}: {fg_selector} {foreground} on {bg_selector} {background} is {ratio:.2f}:1"


def test_readable_profile_colours_meet_wcag_aa() -> None:
    light, dark = split_modes((CSS / "readable.css").read_text(encoding="utf-8"))
    for css in (light, dark):
        assert contrast(declared(css, "html", "color"), declared(css, "html", "background")) >= 7


def test_links_and_note_references_have_a_visible_focus_style() -> None:
    css = (CSS / "edition.css").read_text(encoding="utf-8")
    assert re.search(r"a:focus[^{]*\{[^}]*outline:\s*0\.15em solid", css)


def test_the_summary_says_how_much_of_the_print_edition_the_page_list_reaches(text_epub: Path) -> None:
    with zipfile.ZipFile(text_epub) as book:
        opf = book.read("EPUB/content.opf").decode()
        nav = book.read("EPUB/nav.xhtml").decode()
    listed = len(re.findall(r'<a href="text/[^"]+#page-', nav))
    assert f"A page list reaches {listed} of the print edition's 36 pages" in opf


def test_each_rendition_has_its_own_identifier_derived_from_the_editions(
        full_build: tuple[Path, object]) -> None:
    output = full_build[0]
    identifiers, sources = {}, {}
    for book in output.glob("*.epub"):
        with zipfile.ZipFile(book) as epub:
            opf = epub.read("EPUB/content.opf").decode()
        identifiers[book.name] = re.search(r"<dc:identifier[^>]*>([^<]+)<", opf).group(1)
        sources[book.name] = re.findall(r'<dc:source id="edition-source">([^<]+)<', opf)
    edition = "urn:uuid:5b0f3b8e-4c1e-4d8a-9a39-2025a1b2c3d4"
    assert len(identifiers) == 4 and len(set(identifiers.values())) == 4, identifiers
    assert identifiers["imind-spring-2025.epub"] == edition and sources["imind-spring-2025.epub"] == []
    assert all(found == [edition] for name, found in sources.items() if name != "imind-spring-2025.epub"), sources
