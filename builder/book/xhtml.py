"""XHTML trees for the book: the namespaces, element builders (h, sub) and queries, and the finished
content document (xhtml_document)."""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
MATHML = "http://www.w3.org/1998/Math/MathML"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: XHTML, "epub": OPS}
NS = {"h": XHTML, "epub": OPS, "m": MATHML}
STYLESHEET = "../css/edition.css"
Z3998 = "z3998: http://www.daisy.org/z3998/2012/vocab/structure/#"


def to_xhtml(source: lxml_html.HtmlElement) -> etree._Element:
    """Copy an lxml.html tree into the XHTML namespace."""
    element = etree.Element(f"{{{XHTML}}}{source.tag}", nsmap=NSMAP)
    for name, value in source.attrib.items():
        element.set(name, value)
    element.text = source.text
    for child in source:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        copy = to_xhtml(child)
        copy.tail = child.tail
        element.append(copy)
    return element


def h(tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.Element(f"{{{XHTML}}}{tag}", nsmap=NSMAP)
    for name, value in attrs.items():
        element.set(attribute_name(name), value)
    element.text = text
    return element


def attribute_name(name: str) -> str:
    if name == "epub_type":
        return f"{{{OPS}}}type"
    if name == "class_":
        return "class"
    return name.replace("_", "-")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = h(tag, text, **attrs)
    parent.append(child)
    return child


def replace(old: etree._Element, new: etree._Element) -> None:
    new.tail = old.tail
    old.getparent().replace(old, new)


def classes(element: etree._Element) -> list[str]:
    return element.get("class", "").split()


def xpath(element: etree._Element, query: str) -> list[etree._Element]:
    return element.xpath(query, namespaces=NS)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def text_of(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def xhtml_document(title: str, language: str, body_content: etree._Element, stylesheet: str = STYLESHEET) -> str:
    root = etree.Element(f"{{{XHTML}}}html", nsmap=NSMAP)
    root.set("lang", language)
    root.set(f"{{{XML}}}lang", language)
    if any("z3998:" in element.get(f"{{{OPS}}}type", "") for element in body_content.iter()):
        root.set(f"{{{OPS}}}prefix", Z3998)  # verse's semantics: a vocabulary EPUB wants declared
    head = sub(root, "head")
    sub(head, "meta", charset="utf-8")
    sub(head, "title", title)
    sub(head, "link", rel="stylesheet", type="text/css", href=stylesheet)
    body = sub(root, "body")
    body.append(body_content)
    markup = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n{markup}\n'


def with_language(element: etree._Element, language: str) -> etree._Element:
    """Mark an element as written in `language` (HTML's lang and XML's xml:lang, as EPUB wants both)."""
    element.set("lang", language)
    element.set(f"{{{XML}}}lang", language)
    return element
