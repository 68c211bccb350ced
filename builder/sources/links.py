"""Links in an article: where each may point (E030, E038, W052), and whether its text tells a screen reader's
user where it goes (W037)."""

from __future__ import annotations

import re
import urllib.parse

from markdown_it.token import Token

from builder.book.images import url_scheme
from builder.errors import Diagnostic, error, shown, warning
from builder.model import Article

URL_SCHEMES = {"http", "https", "mailto"}  # the links a book keeps (the sanitiser's policy too)


def check_link(href: str, article: Article, line: int) -> list[Diagnostic]:
    scheme = url_scheme(href)
    if scheme is None and not href.startswith("#"):
        # A relative link has nothing to point to in the book: articles become files named by the builder.
        raise error("E030", f"link to '{shown(href)}' goes nowhere",
                    "Link to a full https:// address, or to an {#id} in this article with '#id'.",
                    article.source, line)
    problem = url_problem(href) if scheme in URL_SCHEMES else ""
    if problem:
        raise error("E038", f"the address '{shown(href)}' is not valid: {problem}",
                    "Correct the address (copy it from the browser's address bar), or write it as plain text.",
                    article.source, line)
    if scheme is not None and scheme not in URL_SCHEMES:
        return [warning("W052", f"link '{shown(href)}' is removed: '{scheme}:' links are not allowed",
                        "Use an https:// or mailto: link, or write the address as plain text.", article.source, line)]
    return []  # '#id' links are checked against the finished document by check_ids


# RFC 3986's characters (and '%' escapes); anything else in an address EPUBCheck refuses (RSC-020).
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
NAMED_CHARACTERS = {" ": "a space", "\\": "a backslash", "`": "a backtick", '"': "a quotation mark",
                    "\t": "a tab", "\n": "a line break"}


def url_problem(href: str) -> str:
    """What is wrong with an http(s) or mailto address, in an editor's words; '' when nothing is."""
    for character in href:
        if ord(character) < 128 and not URL_CHARACTERS.fullmatch(character):
            return f"it contains {NAMED_CHARACTERS.get(character, repr(character))}"
    scheme, _, rest = href.partition(":")
    if scheme.lower() == "mailto":
        return ""
    if not rest.startswith("//"):
        return f"'{scheme}:' must be followed by '//'"
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if not host.startswith("["):
        host, _, port = host.partition(":")
        if port and not port.isdigit():
            return f"its port '{shown(port)}' is not a number"
    decoded = urllib.parse.unquote(host)
    if not host:
        return "it has no host name"
    for character in decoded:
        if ord(character) < 128 and not (character.isalnum() or character in "-._[]:"):
            return f"its host name contains {NAMED_CHARACTERS.get(character, repr(character))}"
    if "" in decoded.rstrip(".").split(".") or decoded.startswith("."):
        return f"its host name '{shown(decoded)}' has an empty part (two dots together, or a dot at the start)"
    return ""


# A screen reader lists a page's links by their text alone: these say nothing about where they go.
TEXT_SAYING_NOTHING = {"link", "here", "click here", "this link", "click", "more", "read more"}
RAW_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
RAW_ADDRESS_LIMIT = 40  # characters: past this, an address spelled out takes seconds to hear


def link_text(children: list[Token], opening: Token) -> str:
    """The words between a link_open token and its link_close."""
    start = children.index(opening)
    words, depth = [], 0
    for token in children[start + 1:]:
        if token.type == "link_close" and depth == 0:
            break
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        words.append(token.content if token.type in ("text", "code_inline") else " ")
    return " ".join("".join(words).split())


def check_link_text(text: str, article: Article, line: int) -> list[Diagnostic]:
    """A link is named by its text: 'link' or a 150-character address is what a screen reader says for it."""
    if text.lower().strip(" .:!") in TEXT_SAYING_NOTHING:
        return [warning("W037", f"the link text '{shown(text)}' does not say where the link goes",
                        "Put the link on words that name its destination (the event, the document, the site).",
                        article.source, line)]
    if RAW_ADDRESS.match(text) and len(text) > RAW_ADDRESS_LIMIT:
        return [warning("W037", f"the link text is an address of {len(text)} characters, spelled out by screen readers",
                        "Put the link on words that name its destination; keep a printed address as plain text.",
                        article.source, line)]
    return []
