"""Property tests: whatever an editor writes, the builder gives well-formed XHTML or a BuildError
(never another exception), and the books it makes from well-formed Markdown pass EPUBCheck."""

from __future__ import annotations

import os
import string
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from edition_fixtures import MANIFEST, PIXEL, write_edition
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from builder.errors import BuildError
from builder.run import validate
from builder.run.build import BuildOptions, build, prepare, text_book
from builder.sources import KINDS, ROLES

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- generated Markdown -----------------------------------------------------------------------------

WORD = st.text(string.ascii_letters + "éçøßΩ’", min_size=1, max_size=10)
PHRASE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
LATEX = st.sampled_from([r"C = \frac{a}{b}", r"x^2 + y^2 = z^2", r"\sqrt{2}", r"\sum_{i=1}^{n} i", r"a \times b",
                         r"\alpha + \beta", r"E = mc^2", r"\left( \frac{1}{2} \right)"])
# Characters that mean something to Markdown, HTML, YAML or XML, for the arbitrary bodies.
MARKUP = st.sampled_from([*"#*_[]()!<>`$^:{}.|-\\\n\t&;\"'=/~+@%0123456789 ",
    "\n\n", "[^1]", "$$", ":::", "<!--", "-->", "<b>", "</b>", "<img ", "{#x}", "{.pagebreak}", "](#", "&#0;",
    "&#x1F600;", "\u00a0", "\u200b", "\ufeff", "\u0085", "\u2028", "\x0b", "\x00", "\r",
    # raw HTML, including the classes and attributes the builder gives meaning to
    "<div>", "</div>", "<p onclick=x>", '<sup class="footnote-ref">', '<section class="footnotes">', "</section>",
    '<div class="math" data-math="\\frac">', '<img src="../images/grey.png" alt="A grey square">', '<a href="#x">',
    "</a>", '<span lang="fr">', '<span id="x">', "</span>", "<table><tr><td>", '<td colspan="2">', "<h4>", "<h1>",
    '<span class="pagebreak">', "<script>", "<svg>", "![a grey square](../images/grey.png)", "{.decorative}",
    "::: pullquote\n", "::: equation ", "::: bibliography\n", "::: description\n", "$$\n\\frac{1}{2}\n$$\n",
    "[^1]: ", "## ", "### ", "\n- ", "\n1. ", "\n> ", "| a | b |\n|---|---|\n"])
ANY_CHARACTER = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
ARBITRARY_TEXT = st.lists(st.one_of(MARKUP, ANY_CHARACTER), max_size=120).map("".join)


@st.composite
def inline(draw: st.DrawFn) -> str:
    text = draw(PHRASE)
    return draw(st.sampled_from([
        text, f"*{text}*", f"**{text}**", f"`{text}`", f"[{text}](https://example.org/{text.split()[0]})",
        "<https://example.org/a>", "<someone@example.org>", f"<em>{text}</em>", f'<abbr title="{text}">NHS</abbr>',
        f"{text} & {text}", f"“{text}”", f"{text}<!-- editor: check -->",
    ]))


@st.composite
def paragraph(draw: st.DrawFn) -> str:
    return " ".join(draw(st.lists(inline(), min_size=1, max_size=5)))


@st.composite
def article_body(draw: st.DrawFn) -> str:
    """Well-formed Markdown in the edition's conventions: it should always build, and validate."""
    blocks: list[str] = []
    level = 1  # the title's; sections start at ##
    notes = 0
    page = 9  # front matter pages are 1 to 9; each break marks a later page
    for kind in draw(st.lists(st.sampled_from(["p", "p", "h", "list", "olist", "quote", "table", "code", "pull",
                                               "bib", "math", "page", "figure", "decorative", "note", "hr"]),
                              min_size=1, max_size=10)):
        if kind == "p":
            blocks.append(draw(paragraph()))
        elif kind == "h":
            level = draw(st.integers(2, min(level + 1, 4)))
            blocks.append("#" * level + " " + draw(PHRASE))
        elif kind in ("list", "olist"):
            items = draw(st.lists(paragraph(), min_size=1, max_size=4))
            blocks.append("\n".join(f"{'-' if kind == 'list' else f'{n}.'} {item}"
                                    for n, item in enumerate(items, start=1)))
        elif kind == "quote":
            blocks.append("> " + draw(paragraph()))
        elif kind == "table":
            head, cell = draw(PHRASE), draw(PHRASE)
            blocks.append(f"| {head} | Value |\n|:---|---:|\n| {cell} | 3 |")
        elif kind == "code":
            blocks.append("```\n" + draw(PHRASE) + " <not> & {html}\n```")
        elif kind == "pull":
            blocks.append("::: pullquote\n" + draw(paragraph()) + "\n:::")
        elif kind == "bib":
            blocks.append("::: bibliography\n- " + draw(paragraph()) + "\n- " + draw(paragraph()) + "\n:::")
        elif kind == "math":
            blocks.append(f"::: equation {draw(PHRASE)}\n$$\n{draw(LATEX)}\n$$\n:::")
        elif kind == "page":
            page += draw(st.integers(1, 3))
            blocks.append(f"[{page}]{{.pagebreak}}")
        elif kind == "figure":
            caption = draw(st.sampled_from(["", f' "{draw(PHRASE)}"']))
            blocks.append(f"![A grey square showing {draw(PHRASE)}](../images/grey.png{caption})")
            if draw(st.booleans()):
                blocks.append("::: description\n" + draw(paragraph()) + "\n:::")
        elif kind == "decorative":
            blocks.append("![](../images/grey.png){.decorative}")
        elif kind == "note":
            notes += 1
            blocks.append(draw(paragraph()) + f"[^{notes}]")
        elif kind == "hr":
            blocks.append("***")
    blocks += [f"[^{n}]: {draw(paragraph())}" for n in range(1, notes + 1)]
    return "\n\n".join(blocks) + "\n"


YAML_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


@st.composite
def front_matter(draw: st.DrawFn, arbitrary: bool) -> dict[str, Any]:
    """Valid fields, or (arbitrary=True) any YAML value in any field, known or not."""
    fields: dict[str, Any] = {
        "title": draw(PHRASE), "kind": draw(st.sampled_from(KINDS)), "summary": draw(PHRASE),
        "subtitle": draw(PHRASE), "page": str(draw(st.integers(1, 9))),
        "authors": [{"name": draw(PHRASE), "role": draw(st.sampled_from(ROLES)), "affiliation": draw(PHRASE)}],
        "content_notes": draw(st.lists(PHRASE, max_size=2)), "author_note": draw(paragraph()),
    }
    if arbitrary:
        for key in draw(st.lists(st.sampled_from([*fields, "language", "extra", "titel"]), max_size=4)):
            fields[key] = draw(YAML_VALUE | st.text(max_size=40))
    return fields


def article_file(fields: dict[str, Any], body: str) -> str:
    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n" + body


# --- the properties -----------------------------------------------------------------------------------


def assert_builds_or_refuses(articles: dict[str, str]) -> None:
    """prepare() (everything but zipping) gives well-formed XHTML documents and nav, or a BuildError."""
    with tempfile.TemporaryDirectory() as folder:
        source = write_edition(Path(folder), articles, images={"grey.png": PIXEL})
        try:
            prepared = prepare(source)
        except BuildError as refusal:
            assert refusal.diagnostics and all("\n" not in str(d) for d in refusal.diagnostics)
            event(f"refused: {refusal.diagnostics[0].code}")
            return
        event("built")
        for document in prepared.documents:
            etree.fromstring(document.xhtml.encode("utf-8"))
        etree.fromstring(text_book(prepared).nav.encode("utf-8"))


@settings(PROPERTY_SETTINGS, max_examples=300)  # the cheapest property, and the widest input
@given(st.lists(ARBITRARY_TEXT, min_size=1, max_size=3))
def test_arbitrary_markdown_gives_xhtml_or_a_build_error(bodies: list[str]) -> None:
    assert_builds_or_refuses({f"article-{n}": article_file({"title": "T", "kind": "feature", "summary": "S."}, body)
                              for n, body in enumerate(bodies)})


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(front_matter(arbitrary=True), article_body()), min_size=1, max_size=3))
def test_arbitrary_front_matter_gives_xhtml_or_a_build_error(articles: list[tuple[dict[str, Any], str]]) -> None:
    assert_builds_or_refuses({f"article-{n}": article_file(fields, body) for n, (fields, body) in enumerate(articles)})


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(front_matter(arbitrary=False), article_body()), min_size=1, max_size=3))
def test_well_formed_markdown_always_builds(articles: list[tuple[dict[str, Any], str]]) -> None:
    """The conventions of source/README.md, used correctly, are never refused."""
    with tempfile.TemporaryDirectory() as folder:
        files = {f"article-{n}": article_file(fields, body) for n, (fields, body) in enumerate(articles)}
        prepared = prepare(write_edition(Path(folder), files, images={"grey.png": PIXEL}))
        assert prepared.warnings == ()


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(MARKUP, st.characters(codec="utf-8")), max_size=80).map("".join), st.sampled_from(
    ["title", "edition", "publisher", "description", "subtitle", "identifier", "disclaimer"]))
def test_arbitrary_manifest_text_gives_xhtml_or_a_build_error(value: str, key: str) -> None:
    manifest = MANIFEST.format(articles='"first"') + f"{key} = {toml_string(value)}\n"
    manifest = "\n".join(line for line in manifest.splitlines() if not line.startswith(f"{key} =")) + \
        f"\n{key} = {toml_string(value)}\n"
    with tempfile.TemporaryDirectory() as folder:
        write_edition(Path(folder), {"first": article_file({"title": "T", "kind": "feature", "summary": "S."}, "x\n")},
                      manifest=manifest)
        try:
            prepared = prepare(Path(folder))
        except BuildError as refusal:
            event(f"refused: {refusal.diagnostics[0].code}")
            return
        event("built")
        for document in prepared.documents:
            etree.fromstring(document.xhtml.encode("utf-8"))


def toml_string(value: str) -> str:
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or c in '"\\\x7f' or 0xD800 <= ord(c) < 0xE000 else c
                      for c in value)
    return f'"{escaped}"'


# --- EPUBCheck on a handful of generated books -----------------------------------------------------


@pytest.mark.validators
def test_generated_books_pass_epubcheck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five generated editions are built, then checked in parallel (EPUBCheck takes seconds per book)."""
    # A short-lived JVM starts twice as fast without the optimising compiler.
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} -XX:TieredStopAtLevel=1")
    books: list[tuple[Path, dict[str, str]]] = []

    @settings(max_examples=5, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(front_matter(arbitrary=False), article_body()), min_size=2, max_size=3))
    def generate(articles: list[tuple[dict[str, Any], str]]) -> None:
        root = tmp_path / f"book-{len(books)}"
        files = {f"article-{n}": article_file(fields, body) for n, (fields, body) in enumerate(articles)}
        source = write_edition(root / "source", files, images={"grey.png": PIXEL},
                               manifest=MANIFEST.format(articles=", ".join(f'"{s}"' for s in files))
                               + 'description = "A generated edition."\n')
        try:
            build(BuildOptions(source=source, output=root / "output", audio=False, validate=False))
        except BuildError:
            assume(False)
        books.append((root / "output" / "fixture-edition.epub", files))

    generate()
    assert books
    try:
        with ThreadPoolExecutor(max_workers=max(2, min(len(books), os.cpu_count() or 1))) as pool:
            results = list(pool.map(lambda book: validate.run_epubcheck(book[0]), books))
    except validate.ValidatorUnavailable as missing:
        if os.environ.get("CI"):
            pytest.fail(f"VALIDATOR UNAVAILABLE — {missing}")
        pytest.skip(f"VALIDATOR UNAVAILABLE — {missing}")
    for (epub, files), result in zip(books, results, strict=True):
        assert result.fatal == 0 and result.errors == 0, (
            f"{epub}: {result.messages}\n\nsources:\n" + "\n\n".join(f"{n}:\n{t}" for n, t in files.items()))


# --- what the generated books found outside this suite's files (fixes belong to build.py, package.py) ---


def test_an_edition_without_a_description_has_no_empty_description(tmp_path: Path) -> None:
    source = write_edition(tmp_path / "source")  # the manifest has no description: it is optional
    build(BuildOptions(source=source, output=tmp_path / "out", audio=False, validate=False))
    with zipfile.ZipFile(tmp_path / "out" / "fixture-edition.epub") as book:
        opf = etree.fromstring(book.read(next(n for n in book.namelist() if n.endswith(".opf"))))
    descriptions = opf.findall(".//{http://purl.org/dc/elements/1.1/}description")
    assert all((element.text or "").strip() for element in descriptions)


def test_an_image_in_a_subfolder_is_packed_where_the_text_points(tmp_path: Path) -> None:
    source = write_edition(tmp_path / "source", {"first": article_file(
        {"title": "T", "kind": "feature", "summary": "S."}, "![A grey square](../images/charts/grey.png)\n")})
    (source / "images" / "charts").mkdir(parents=True)
    (source / "images" / "charts" / "grey.png").write_bytes(PIXEL)
    build(BuildOptions(source=source, output=tmp_path / "out", audio=False, validate=False))
    with zipfile.ZipFile(tmp_path / "out" / "fixture-edition.epub") as book:
        assert "EPUB/images/charts/grey.png" in book.namelist()
