"""Markdown → sanitised XHTML fragments: the markdown-it-py parser with the edition's containers (pull
quotes, equations, verse, questions, passages in another language), its renderers, and nh3's sanitising
(raw HTML from anywhere may be in a source)."""

from __future__ import annotations

import html
from typing import Any

import nh3
from lxml import etree
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder.book.xhtml import to_xhtml
from builder.sources import lines as source_lines
from builder.sources.links import URL_SCHEMES
from builder.sources.markdown_checks import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LANG_CONTAINER,
    container_language,
)

CONTAINERS = ("pullquote", "bibliography", "equation", "description", "verse", "question")


def markdown_parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .enable("table")
        .use(footnote_plugin)
        .use(attrs_plugin, spans=True)
        .use(dollarmath_plugin, allow_digits=False)
    )
    for name in CONTAINERS:
        md.use(container_plugin, name=name, validate=lambda params, *_, name=name: params.strip().split(" ")[0] == name)
    md.use(container_plugin, name="lang", validate=lambda params, *_: bool(LANG_CONTAINER.match(params.strip())),
           render=render_lang_container)
    md.disable("math_inline")  # "$" in prose is money, not math; display math is $$…$$ only
    md.add_render_rule("math_block", render_math_block)
    md.add_render_rule("math_block_label", render_math_block)  # $$…$$ (2): MyST's numbered equation
    md.add_render_rule("container_equation_open", render_equation_open)
    return md


def render_math_block(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    # Stashed as an attribute so that nh3 never sees MathML; it is converted after sanitising.
    token = tokens[idx]
    label = f' data-math-label="{html.escape(token.info)}"' if token.type == "math_block_label" else ""
    line = token.attrGet(source_lines.MARK)
    marker = f' {source_lines.MARK}="{line}"' if line is not None else ""
    return f'<div class="math" data-math="{html.escape(token.content.strip())}"{label}{marker}></div>\n'


def render_lang_container(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    if tokens[idx].nesting == 1:
        return f'<div lang="{html.escape(container_language(tokens[idx]))}">\n'
    return "</div>\n"


def break_verse_lines(tokens: list[Token], whole: bool) -> None:
    """In verse every line break is meant: soft breaks become hard ones (in a poem article, everywhere)."""
    depth = 0
    for token in tokens:
        if token.type == "container_verse_open":
            depth += 1
        elif token.type == "container_verse_close":
            depth -= 1
        elif token.type == "inline" and (depth or whole):
            for child in token.children or []:
                if child.type == "softbreak":
                    child.type, child.tag = "hardbreak", "br"


def render_equation_open(self: Any, tokens: list[Token], idx: int, options: Any, env: dict) -> str:
    alt = tokens[idx].info.strip()[len("equation"):].strip()
    return f'<div class="equation" title="{html.escape(alt)}">\n'


def sanitise(html_text: str, marked: bool = False) -> str:
    """`marked`: keep the source-line markers too (the source has none of its own: E051 refuses them)."""
    attributes = ALLOWED_ATTRIBUTES
    if marked:
        attributes = {**ALLOWED_ATTRIBUTES, "*": ALLOWED_ATTRIBUTES["*"] | {source_lines.MARK}}
    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS,
        attributes=attributes,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def markdown_fragment(markdown: str, md: MarkdownIt, parsed: tuple[list[Token], dict] | None = None,
                      first_line: int | None = None, *, fixed: bool = False) -> etree._Element:
    """The Markdown as sanitised XHTML; `parsed` (tokens and env) saves parsing it again. With `first_line`
    its elements carry their source lines (source_lines.MARK) until `unmark` takes them off."""
    tokens, env = parsed if parsed is not None else (md.parse(markdown, env := {}), env)
    if first_line is not None:
        source_lines.mark_tokens(tokens, first_line, fixed=fixed)
    rendered = sanitise(md.renderer.render(tokens, md.options, env), marked=first_line is not None)
    container = lxml_html.fragment_fromstring(rendered or "<p></p>", create_parent="div")
    return to_xhtml(container)
