"""Reuse of unchanged products: what a build would write again byte for byte is taken from the cache.

A product (an EPUB, the DAISY zip, a document's sentence marking) is keyed by the digest of everything its
writer is given (every document, every resource's name and content, the metadata, the modified time), of
the builder's own files and of the libraries that shape its bytes. Same key, same bytes: books are
reproducible. A stored product is checked against its recorded SHA-256 on every read, as clips and articles
are, and a damaged one is made again. Reused files are hard links into the staging folder where the file
system allows (a copy where it does not): the build then publishes them with one rename, as it does a fresh
file, so the output is never written in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
import weakref
import zlib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from builder.run.cache import mark_used

FORMAT = 1  # part of every key: bump when what a key covers changes
PACKAGE = Path(__file__).resolve().parent.parent  # the builder's own files: its code, catalogues and data
# The libraries whose versions shape the bytes of what is reused (packaging, XML, words said, audio tags).
LIBRARIES = ("ebooklib", "lxml", "num2words", "babel", "emoji", "langcodes", "mutagen", "lameenc",
             "markdown-it-py", "mdit-py-plugins", "pillow", "pymarc", "av", "latex2mathml", "pyyaml")
PRODUCTS = "products"  # the cache kinds (builder.run.cache.KINDS): finished files, sentence markings, and
MARKS = "marks"  # the documents rendered from unchanged sources
PREPARED = "prepared"


# --------------------------------------------------------------------------- what a product is made from


@functools.cache
def code_identity() -> str:
    """The builder's files (code, catalogues, data), Python's and zlib's versions and the libraries': any
    change to the builder gives fresh products, a released version or not."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(path.relative_to(PACKAGE).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for installed in library_versions():
        digest.update(f"{installed}\0".encode())
    digest.update(f"{sys.version}\0{zlib.ZLIB_RUNTIME_VERSION}".encode())
    return digest.hexdigest()


def source_tree(root: Path) -> tuple[str, list[tuple[str, str]]]:
    """An edition's folder as a key sees it: its place and every file in it, by name and content (the
    renderer reads nothing outside it: images and the cover must be inside)."""
    root = root.resolve()
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return str(root), [(path.relative_to(root).as_posix(), content_address(path)) for path in files]


def library_versions() -> list[str]:
    """The installed versions of LIBRARIES, as their dist-info folders name them ("lxml-5.3.0"): read from the
    folder listings, which costs less than importing importlib.metadata."""
    wanted = {_project(name) for name in LIBRARIES}
    found = set()
    for entry in sys.path:
        with contextlib.suppress(OSError):
            for name in os.listdir(entry or "."):
                stem = name.removesuffix(".dist-info")
                if stem != name and _project(stem.rsplit("-", 1)[0]) in wanted:
                    found.add(stem)
    return sorted(found)


def _project(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_vouched: dict[tuple[int, int, int, int], str] = {}  # file identity → content address given by its writer
_hashed: dict[tuple[int, int, int, int], str] = {}  # file identity → SHA-256 of its bytes, as read or written


def _identity(path: Path) -> tuple[int, int, int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def vouch(path: Path, address: str) -> None:
    """Record that the file just written at `path` holds the content `address` names (a cache key that fixes
    its bytes, e.g. the article cache's): keys take it instead of reading the file. A later change of the
    file (size or time) voids it."""
    _vouched[_identity(path)] = address


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read once per content: a product written or checked by this process is not
    read again for the report."""
    identity = _identity(path)
    if identity not in _hashed:
        with path.open("rb") as handle:
            _hashed[identity] = hashlib.file_digest(handle, "sha256").hexdigest()
    return _hashed[identity]


def content_address(path: Path) -> str:
    identity = _identity(path)
    return _vouched.get(identity) or f"sha256:{sha256_of(path)}"


def digest(*values: Any) -> str:
    """The key of a product made from `values`: dataclasses (their compared fields), strings, bytes, numbers,
    times, mappings (in their order, which writers may follow), sequences and sets. A path to a file counts
    as its content, any other path as its place. Anything else is refused, so nothing is left out unseen."""
    hasher = hashlib.sha256(f"{FORMAT}\0{code_identity()}\0".encode())
    _feed(hasher.update, values)
    return hasher.hexdigest()


# A frozen dataclass (an edition, a document, an article's audio) is a value that is not changed once made, and
# the same one goes into several products: its digest is worked out once, for as long as it lives.
_digests: dict[int, bytes] = {}
_fields: dict[type, tuple[str, ...]] = {}


def _compared_fields(kind: type) -> tuple[str, ...]:
    if kind not in _fields:  # memos and caches (compare=False) are not what a value is
        _fields[kind] = tuple(field.name for field in dataclasses.fields(kind) if field.compare)
    return _fields[kind]


def _dataclass_digest(value: Any) -> bytes:
    known = _digests.get(id(value))
    if known is not None:
        return known
    hasher = hashlib.sha256(f"D{type(value).__module__}.{type(value).__qualname__}:".encode())
    for name in _compared_fields(type(value)):
        _feed(hasher.update, name)
        _feed(hasher.update, getattr(value, name))
    found = hasher.digest()
    if type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
        with contextlib.suppress(TypeError):  # no weak references (slots): worked out each time
            weakref.finalize(value, _digests.pop, id(value), None)
            _digests[id(value)] = found
    return found


def _feed(update: Callable[[bytes], object], value: Any) -> None:
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
        update(b"s%d:" % len(data))
        update(data)
    elif kind is tuple or kind is list:
        update(b"L%d:" % len(value))
        for item in value:
            _feed(update, item)
    elif value is None or kind is bool or kind is int or kind is float:
        update(f"{kind.__name__}:{value!r};".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        update(b"D" + _dataclass_digest(value))
    elif isinstance(value, str | int | float):  # subclasses: str enums, IntEnum, NamedTuple below
        if isinstance(value, enum.Enum):
            _feed(update, (kind.__qualname__, value.value))
        else:
            _feed(update, (kind.__qualname__, str(value) if isinstance(value, str) else value.__index__()
                           if isinstance(value, int) else float(value)))
    elif isinstance(value, bytes | bytearray | memoryview):
        update(b"b%d:" % len(value))
        update(value)
    elif isinstance(value, tuple):  # a named tuple
        _feed(update, (kind.__qualname__, list(value)))
    elif isinstance(value, PurePath):
        path = Path(value)
        _feed(update, ("file", content_address(path)) if path.is_file() else ("place", str(path)))
    elif isinstance(value, datetime | date):
        _feed(update, ("time", value.isoformat()))
    elif isinstance(value, enum.Enum):
        _feed(update, (kind.__qualname__, value.value))
    elif isinstance(value, Mapping):
        update(b"M%d:" % len(value))
        for key, item in value.items():
            _feed(update, key)
            _feed(update, item)
    elif isinstance(value, set | frozenset):
        _feed(update, ("set", sorted(value, key=repr)))
    elif isinstance(value, list):
        _feed(update, list(value))
    elif isinstance(value, re.Pattern):
        _feed(update, ("pattern", value.pattern, value.flags))
    else:
        raise TypeError(f"a product key cannot cover a {kind.__qualname__}")


# --------------------------------------------------------------------------- the stored products


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, target)


class ProductCache:
    """Finished products by key, each file named `<key>.<SHA-256 of its bytes>` and checked against it on read."""

    def __init__(self, cache_dir: Path, kind: str = PRODUCTS) -> None:
        self.folder = cache_dir / kind
        self._listed: dict[str, str] | None = None  # key → file name, read once: a glob per product costs more

    def _find(self, key: str) -> Path | None:
        if self._listed is None:
            self._listed = {}
            with contextlib.suppress(OSError):
                for name in os.listdir(self.folder):
                    stored, _, sha = name.partition(".")
                    if len(sha) == 64 and not name.startswith("."):
                        self._listed[stored] = name
        name = self._listed.get(key)
        return self.folder / name if name is not None else None

    def _forget(self, key: str, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
        if self._listed is not None:
            self._listed.pop(key, None)

    def _listed_as(self, key: str, path: Path) -> None:
        if self._listed is not None:
            self._listed[key] = path.name

    def _checked(self, key: str) -> Path | None:
        """The stored product, if its bytes are still those recorded; a damaged one is removed."""
        found = self._find(key)
        if found is None:
            return None
        try:
            intact = sha256_of(found) == found.suffix[1:]
        except OSError:  # pruned meanwhile
            self._forget(key, found)
            return None
        if not intact:
            self._forget(key, found)
            return None
        mark_used(found)
        with contextlib.suppress(OSError):
            _hashed[_identity(found)] = found.suffix[1:]  # its new time: still the bytes just checked
        return found

    def take(self, key: str, target: Path) -> bool:
        """Put the product `key` names at `target` (a staging path); False when there is none to take."""
        found = self._checked(key)
        if found is None:
            return False
        try:
            _link_or_copy(found, target)
        except OSError:  # pruned by another build since it was checked: made afresh
            self._forget(key, found)
            return False
        _hashed[_identity(target)] = found.suffix[1:]  # a copy holds the bytes just checked too
        return True

    def keep(self, key: str, made: Path) -> None:
        """Store the file just made at `made` under `key` (a hard link where possible: no copy)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"  # os.link makes the file itself
        try:
            _link_or_copy(made, temporary)
            stored = self.folder / f"{key}.{sha256_of(made)}"
            os.replace(temporary, stored)
            self._listed_as(key, stored)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def take_files(self, key: str, folder: Path) -> list[str] | None:
        """The files stored under `key` (see files_made) put into `folder`, and their names; None, with nothing
        left behind in `folder`, when one of them is missing or damaged."""
        listed = self.read(key)
        if listed is None:
            return None
        names: list[str] = json.loads(listed)
        for index, name in enumerate(names):
            if not self.take(f"{key}-{index}", folder / name):
                for taken in names[:index]:  # so that writing them afresh never writes into the cache's files
                    (folder / taken).unlink()
                return None
        return names

    def claim(self, published: Path | None, key: str) -> None:
        """Make `key` the product kept for the output at `published`, removing the one kept for it before: an
        editor's every rebuild after a change would otherwise leave another copy of each book behind."""
        if published is None:
            return
        marker = self.folder / ".published" / hashlib.sha256(str(published.resolve()).encode()).hexdigest()
        with contextlib.suppress(OSError):
            before = marker.read_text(encoding="ascii")
            if before != key:
                self._drop(before)
        marker.parent.mkdir(parents=True, exist_ok=True)
        temporary = marker.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex}")
        temporary.write_text(key, encoding="ascii")
        os.replace(temporary, marker)

    def _drop(self, key: str) -> None:
        """Remove the product `key` names: its file, or its files and their list."""
        self._find(key)  # the listing read
        for stored in [stored for stored in self._listed or {} if stored == key or stored.startswith(f"{key}-")]:
            self._forget(stored, self.folder / (self._listed or {})[stored])

    def read(self, key: str) -> bytes | None:
        """The stored bytes `key` names, checked as read; None when there are none (a damaged file is removed)."""
        found = self._find(key)
        if found is None:
            return None
        try:
            data = found.read_bytes()
        except OSError:  # pruned meanwhile
            self._forget(key, found)
            return None
        if hashlib.sha256(data).hexdigest() != found.suffix[1:]:
            self._forget(key, found)
            return None
        mark_used(found)
        return data

    def store(self, key: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            stored = self.folder / f"{key}.{hashlib.sha256(data).hexdigest()}"
            os.replace(temporary, stored)
            self._listed_as(key, stored)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def made(cache: ProductCache | None, key: str, target: Path, write: Callable[[Path], object],
         published: Path | None = None) -> bool:
    """Have the product at `target`: taken from `cache` when it holds `key`, else written by `write(target)`
    and kept, in place of the one kept before for the same `published` path. True when it was reused."""
    if cache is not None and cache.take(key, target):
        return True
    write(target)
    if cache is not None:
        cache.keep(key, target)
        cache.claim(published, key)
    return False


def files_made(cache: ProductCache | None, key: str, folder: Path, write: Callable[[Path], list[str]],
               published: Path | None = None) -> list[str]:
    """Have a product of several files in `folder`: `write(folder)` writes them and returns their names
    (relative to `folder`, every file it wrote, in its order); with `cache` holding `key`, the same files are
    taken from it instead (each checked as one product is) and the same names returned. A new set replaces
    the one kept before for the same `published` place."""
    if cache is not None and (names := cache.take_files(key, folder)) is not None:
        return names
    names = write(folder)
    if cache is not None:
        for index, name in enumerate(names):
            cache.keep(f"{key}-{index}", folder / name)
        cache.store(key, json.dumps(names).encode("utf-8"))
        cache.claim(published, key)
    return names


def products(cache_dir: Path | None) -> ProductCache | None:
    return ProductCache(cache_dir) if cache_dir is not None else None


def prepared(cache_dir: Path | None) -> ProductCache | None:
    return ProductCache(cache_dir, PREPARED) if cache_dir is not None else None


def prepared_key(source: Path) -> str:
    return digest("prepared", source_tree(source))


def prepared_known(source: Path, cache_dir: Path) -> bool:
    """Whether the documents of these sources are in the cache (a build will render nothing)."""
    return ProductCache(cache_dir, PREPARED)._find(prepared_key(source)) is not None


def marks(cache_dir: Path | None) -> ProductCache | None:
    return ProductCache(cache_dir, MARKS) if cache_dir is not None else None
