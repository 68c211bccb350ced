"""Chromium's accessibility tree of a book's documents, read and judged as a screen-reader user would.

tests/reader/axtree.mjs opens each document in headless Chromium and prints CDP's full tree (and
axe-core's results); this module turns that JSON into `Tree`s, a readable text dump, and the list of
problems tests/test_accessibility_tree.py asserts empty.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

PROJECT = Path(__file__).resolve().parent.parent
AXTREE = PROJECT / "tests" / "reader" / "axtree.mjs"
NODE_MODULES = PROJECT / "tools" / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")

# Roles the dump leaves out: layout-only and per-line text boxes say nothing a listener hears.
UNSPOKEN_ROLES = {"InlineTextBox", "LineBreak"}
LANDMARKS_OUTSIDE_A_CHAPTER = {"banner", "contentinfo"}
BAD_LINK_NAMES = {"link", "here", "click here", "read more", "more"}
RAW_ADDRESS = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
RAW_ADDRESS_LIMIT = 40  # characters: longer is a long spelled-out string in a screen reader


@dataclass
class Node:
    id: str
    role: str
    name: str
    description: str
    ignored: bool
    properties: dict[str, Any]
    tag: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    def ancestors(self) -> list[Node]:
        out, node = [], self.parent
        while node is not None:
            out.append(node)
            node = node.parent
        return out

    def descendants(self) -> list[Node]:
        out = []
        for child in self.children:
            out.append(child)
            out += child.descendants()
        return out

    def dom_roles(self) -> set[str]:
        return set(self.attributes.get("role", "").split())

    def classes(self) -> set[str]:
        return set(self.attributes.get("class", "").split())


@dataclass
class Tree:
    document: str
    root: Node
    axe: list[dict[str, Any]]
    errors: list[str]

    def nodes(self) -> list[Node]:
        return [self.root, *self.root.descendants()]

    def exposed(self) -> list[Node]:
        return [node for node in self.nodes() if not node.ignored]


def tools_missing() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("node (Node.js) on PATH")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM}")
    for package in ("playwright-core", "@daisy/axe-core-for-ace"):
        if not (NODE_MODULES / package / "package.json").exists():
            missing.append(f"tools/node_modules/{package}")
    return missing


def language_of(folder: Path, document: str) -> str:
    root = etree.parse(str(folder / document)).getroot()
    return root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "en"


def unpack(epub: Path, target: Path) -> tuple[Path, list[str], dict[str, str]]:
    """The book unpacked: (publication folder, its XHTML documents in spine order then nav, page list
    {page label: "document#id"})."""
    with zipfile.ZipFile(epub) as book:
        book.extractall(target)
    container = etree.parse(str(target / "META-INF" / "container.xml"))
    opf_path = target / container.xpath("//*[local-name()='rootfile']/@full-path")[0]
    opf = etree.parse(str(opf_path))
    items = {item.get("id"): item for item in opf.xpath("//*[local-name()='item']")}
    spine = [items[ref].get("href") for ref in opf.xpath("//*[local-name()='itemref']/@idref")]
    nav = [item.get("href") for item in items.values() if "nav" in (item.get("properties") or "").split()]
    folder = opf_path.parent
    return folder, spine + nav, page_list(folder / nav[0]) if nav else {}


def page_list(nav: Path) -> dict[str, str]:
    tree = etree.parse(str(nav))
    links = tree.xpath("//*[local-name()='nav'][@*[local-name()='type']='page-list']//*[local-name()='a']")
    return {"".join(link.itertext()).strip(): link.get("href") for link in links}


def read_trees(folder: Path, documents: list[str], axe: bool = True, timeout: int = 600,
               opened: bool = False) -> tuple[dict[str, Tree], dict]:
    """Run the Node side on the documents (`opened`: every <details> open); return their trees and the
    run's facts (versions)."""
    command = ["node", str(AXTREE), str(folder), *documents] + (["--axe"] if axe else []) + (
        ["--open"] if opened else [])
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        facts: dict = json.loads(proc.stdout)
    except json.JSONDecodeError as failure:
        raise RuntimeError(f"axtree.mjs printed no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}") from failure
    if proc.returncode != 0:
        raise RuntimeError(f"axtree.mjs failed (exit {proc.returncode}): {facts.get('error')}")
    trees = {name: tree_of(name, entry) for name, entry in facts.pop("documents").items()}
    return trees, facts


def tree_of(document: str, entry: dict[str, Any]) -> Tree:
    nodes: dict[str, Node] = {}
    for raw in entry["nodes"]:
        dom = entry["dom"].get(raw["id"], {})
        nodes[raw["id"]] = Node(raw["id"], raw["role"], raw["name"], raw["description"], raw["ignored"],
                                raw["properties"], dom.get("tag", ""), dom.get("attributes", {}))
    root = None
    for raw in entry["nodes"]:
        node = nodes[raw["id"]]
        node.children = [nodes[child] for child in raw["children"] if child in nodes]
        for child in node.children:
            child.parent = node
        if raw["parent"] is None:
            root = node
    assert root is not None, f"{document}: no root in the tree"
    return Tree(document, root, entry.get("axe") or [], entry.get("errors", []))


# --------------------------------------------------------------------------- the readable dump


def describe(node: Node) -> str:
    """One line, as an auditor reads a tree: role "name" (description) [states]."""
    words = [node.role]
    if node.name:
        words.append(json.dumps(node.name, ensure_ascii=False))
    if node.description:
        words.append(f"description={json.dumps(node.description, ensure_ascii=False)}")
    states = {key: value for key, value in node.properties.items()
              if key in ("level", "expanded", "hidden", "roledescription", "url", "details", "describedby",
                         "labelledby") and value not in ("", None)}
    if "url" in states:
        states["url"] = str(states["url"]).rsplit("/", 1)[-1]
    if states:
        words.append("[" + ", ".join(f"{key}={value}" for key, value in states.items()) + "]")
    return " ".join(words)


def dump(node: Node, depth: int = 0) -> list[str]:
    """The tree as indented lines; ignored and layout-only nodes are left out, their children kept."""
    shown = not node.ignored and node.role not in UNSPOKEN_ROLES and not (
        node.role in ("generic", "none") and not node.name)
    lines = ["  " * depth + describe(node)] if shown else []
    for child in node.children:
        lines += dump(child, depth + 1 if shown else depth)
    return lines


def excerpt(tree: Tree, test: Any) -> list[str]:
    """The dump of each node of the tree whose element passes `test(node)` (outermost only)."""
    lines: list[str] = []
    for node in tree.nodes():
        if test(node) and not any(test(above) for above in node.ancestors()):
            lines += dump(node) if not node.ignored else [f"(ignored) {describe(node)}", *dump(node)]
    return lines


# --------------------------------------------------------------------------- what a listener must get


def in_chapter(node: Node) -> bool:
    return any(above.role == "doc-chapter" or "doc-chapter" in above.dom_roles() for above in node.ancestors())


def page_number(href: str) -> tuple[str, str]:
    document, _, fragment = href.partition("#")
    return document, fragment


def problems(tree: Tree, pages: dict[str, str], page_name: Any = "Page {n}".format) -> list[str]:
    """Everything in one document's tree a screen-reader user would trip over (issue 13's list).
    `page_name(n=label)`: what a page-break marker is called in the document's language."""
    found: list[str] = []
    exposed = tree.exposed()
    for node in exposed:
        if node.role in LANDMARKS_OUTSIDE_A_CHAPTER and in_chapter(node):
            found.append(f"{node.role} landmark inside a chapter (<{node.tag}>)")
    seen: dict[tuple[object, str], int] = {}
    for node in exposed:
        if node.role == "heading" and node.name:
            key = (node.properties.get("level"), " ".join(node.name.split()).lower())
            seen[key] = seen.get(key, 0) + 1
    found += [f"heading {name!r} at level {level} {count} times" for (level, name), count in seen.items() if count > 1]
    for node in exposed:
        if (node.role in ("math", "MathMLMath") or node.tag == "math") and not node.name.strip():
            found.append(f"math without a name: {node.attributes.get('alttext', '')[:60]!r}")
        if node.role == "figure" and not node.name.strip():
            found.append(f"figure without a name (<{node.tag} id={node.attributes.get('id')!r}>)")
    found += link_problems(exposed)
    found += description_problems(exposed)
    found += page_break_problems(tree, pages, page_name)
    found += note_link_problems(exposed)
    return found


def link_problems(exposed: list[Node]) -> list[str]:
    found = []
    for node in exposed:
        if node.role != "link":
            continue
        name = " ".join(node.name.split())
        if name.lower().strip(" .:!") in BAD_LINK_NAMES:
            found.append(f"link named {name!r} ({node.attributes.get('href', '')[:60]})")
        elif RAW_ADDRESS.match(name) and len(name) > RAW_ADDRESS_LIMIT:
            found.append(f"link named by a raw address of {len(name)} characters: {name[:60]}…")
    return found


def description_problems(exposed: list[Node]) -> list[str]:
    """A description that only says again what a control (or the node itself) is called tells nothing."""
    controls = {" ".join(node.name.split()).lower() for node in exposed
                if node.role in ("button", "DisclosureTriangle", "link", "checkbox", "tab") and node.name}
    found = []
    for node in exposed:
        description = " ".join(node.description.split()).lower()
        if description and (description in controls or description == " ".join(node.name.split()).lower()):
            found.append(f"{node.role} {node.name[:40]!r}: its description {node.description!r} only repeats a label")
    return found


def page_break_problems(tree: Tree, pages: dict[str, str], page_name: Any) -> list[str]:
    """Each page-break marker is named "Page N" (in the document's language), N as the page list gives the
    page it is the target of."""
    here = tree.document.rsplit("/", 1)[-1]
    listed = {page_number(href)[1]: label for label, href in pages.items()
              if page_number(href)[0].rsplit("/", 1)[-1] == here}
    found = []
    markers = [node for node in tree.nodes() if "doc-pagebreak" in node.dom_roles() or node.role == "doc-pagebreak"]
    for node in markers:
        identifier = node.attributes.get("id", "")
        if node.ignored:
            found.append(f"page break {identifier!r} is not in the tree")
        elif identifier not in listed:
            found.append(f"page break {identifier!r} ({node.name!r}) is not in the page list")
        elif node.name != page_name(n=listed[identifier]):
            found.append(f"page break {identifier!r} is named {node.name!r}, the page list says {listed[identifier]!r}")
    marked = {node.attributes.get("id", "") for node in markers}
    found += [f"the page list's page {label!r} has no marker here" for fragment, label in listed.items()
              if fragment not in marked]
    return found


def note_link_problems(exposed: list[Node]) -> list[str]:
    """A note reference or back link is heard out of context (a links list): a number or an arrow alone
    says nothing; the name must hold a word."""
    found = []
    for node in exposed:
        roles = node.dom_roles() | {node.role}
        if roles & {"doc-noteref", "doc-backlink"} and not re.search(r"[^\W\d_]{3,}", node.name):
            found.append(f"{sorted(roles & {'doc-noteref', 'doc-backlink'})[0]} named {node.name!r}")
    return found
