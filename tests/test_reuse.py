"""Reuse of unchanged products (builder.run.reuse): a rebuild with nothing changed takes the books, the DAISY
zip and each document's sentence marking from the cache, byte-identical to a fresh build; any change of what
goes into a product gives a fresh one.

The synthesizer is the fast fake tone (narration itself is tested elsewhere, with the real engine too);
packaging, marking, the cache and the build are real."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from edition_fixtures import article, snapshot, write_edition

from builder.book import package
from builder.distribution import daisy202, files, m4b, podcast
from builder.narration import audio, speech, synthesis
from builder.narration.engines import espeak_ng
from builder.run import cache, reuse
from builder.run.build import build
from builder.run.records import BuildOptions

EPOCH = "1700000000"
BODY = "The first sentence is here. A second one follows it.\n\nAnother paragraph, with its own sentence.\n"
NARRATED = "fixture-edition-narrated.epub"
TEXT = "fixture-edition.epub"
DAISY = "fixture-edition-daisy202.zip"


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(espeak_ng, "Pyttsx3Synthesizer", synthesis.FakeSynthesizer)
    yield


class Counted:
    """How often each writer and the sentence marker really ran (they still run: this only counts)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, int] = {"epub": 0, "daisy": 0, "m4b": 0, "marks": 0, "audiobook": 0, "feed": 0,
                                      "records": 0}
        for name, module, function in (("epub", package, "write_epub"), ("daisy", daisy202, "write_daisy202"),
                                       ("m4b", m4b, "write_m4b"),
                                       ("marks", speech, "mark_sentences"), ("audiobook", audio, "write_audiobook"),
                                       ("feed", podcast, "write_podcast"), ("records", files, "write_all")):
            original = getattr(module, function)
            monkeypatch.setattr(module, function, self.counting(name, original))

    def counting(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return original(*args, **kwargs)
        return counted

    def taken(self) -> dict[str, int]:
        calls, self.calls = self.calls, dict.fromkeys(self.calls, 0)
        return calls


def edition(root: Path, body: str = BODY) -> Path:
    return write_edition(root, {"first": article(body), "second": article("A short second article.\n")})


def narrated_build(source: Path, output: Path, cache_dir: Path | None, volume: float | None = None) -> dict[str, str]:
    build(BuildOptions(source=source, output=output, validate=False, jobs=1, cache_dir=cache_dir, volume=volume))
    return snapshot(output)


def stored_products(store: Path) -> list[str]:
    """The products' files (not the note of which one each output has: .published/)."""
    return sorted(path.name for path in (store / reuse.PRODUCTS).iterdir() if not path.name.startswith("."))


def book_text(epub: Path) -> str:
    with zipfile.ZipFile(epub) as book:
        return "".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xhtml"))


def test_an_unchanged_rebuild_takes_every_book_from_the_cache_byte_for_byte(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    counted = Counted(monkeypatch)
    first = narrated_build(source, tmp_path / "out", store)
    # two EPUBs, the DAISY zip, the audio folder (its audiobook, its feed), the records; two articles and the
    # spoken title page marked
    assert counted.taken() == {"epub": 2, "daisy": 1, "m4b": 1, "marks": 3, "audiobook": 1, "feed": 1,
                               "records": 1}
    products = stored_products(store)
    # the books, the DAISY zip and the M4B; the audiobook's 7 files, the feed's 4 and the records' 7 (ONIX 3.1
    # and 3.0, MARC and MARCXML, OPDS 2 and 1.2, the cover), each set with its list of names
    assert len(products) == 4 + 7 + 1 + 4 + 1 + 7 + 1

    again = narrated_build(source, tmp_path / "out", store)
    assert counted.taken() == {"epub": 0, "daisy": 0, "m4b": 0, "marks": 0, "audiobook": 0, "feed": 0,
                               "records": 0}
    assert stored_products(store) == products
    assert again == first
    fresh = narrated_build(source, tmp_path / "fresh", None)  # --no-cache: every product written anew
    assert counted.taken()["epub"] == 2
    assert fresh == first


def test_a_one_byte_change_of_an_article_gives_fresh_correct_books(tmp_path: Path) -> None:
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    before = narrated_build(source, tmp_path / "out", store)
    edition(source, BODY.replace("its own", "its owN"))
    after = narrated_build(source, tmp_path / "out", store)
    for name in (TEXT, NARRATED, DAISY):
        assert after[name] != before[name], name
    assert "its owN sentence" in book_text(tmp_path / "out" / NARRATED)
    assert "its owN sentence" in book_text(tmp_path / "out" / TEXT)
    assert after == narrated_build(source, tmp_path / "cold", None)  # what a build without any cache writes


def test_a_changed_setting_or_time_gives_a_fresh_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    before = narrated_build(source, tmp_path / "out", store)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400))
    later = narrated_build(source, tmp_path / "out", store)
    assert later[TEXT] != before[TEXT] and later[DAISY] != before[DAISY]
    assert later == narrated_build(source, tmp_path / "cold", None)


def test_changed_audio_alone_gives_fresh_books(tmp_path: Path) -> None:
    """The fake tone's loudness follows the volume: the same words, timings and XHTML, other MP3 bytes. The
    narrated books hold the articles' audio by its content address, so they must change too."""
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    before = narrated_build(source, tmp_path / "out", store)
    quieter = narrated_build(source, tmp_path / "out", store, volume=0.5)
    assert quieter[NARRATED] != before[NARRATED] and quieter[DAISY] != before[DAISY]
    assert quieter[TEXT] == before[TEXT]
    assert quieter == narrated_build(source, tmp_path / "cold", None, volume=0.5)


def test_a_damaged_product_in_the_cache_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    first = narrated_build(source, tmp_path / "out", store)
    (stored,) = [path for path in (store / reuse.PRODUCTS).iterdir() if path.is_file() and path.stat().st_size == (
        tmp_path / "out" / TEXT).stat().st_size]
    data = bytearray(stored.read_bytes())
    stored.unlink()  # a fresh file, not the published book's hard link: the output itself stays intact
    data[len(data) // 2] ^= 0x20
    stored.write_bytes(bytes(data))
    counted = Counted(monkeypatch)
    assert narrated_build(source, tmp_path / "again", store) == first
    assert counted.taken()["epub"] == 1  # the damaged text book was written again, the narrated one taken
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.suffix[1:]  # replaced by the right bytes


def test_the_cache_counts_and_prunes_products_and_marks(tmp_path: Path) -> None:
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    narrated_build(source, tmp_path / "out", store)
    usage = cache.usage(store)
    # 25 files and, for each of the 7 products, which of them its output has; the two articles, the spoken title
    assert usage["products"].files == 25 + 7 and usage["marks"].files == 3
    assert usage["prepared"].files == 1  # the documents rendered from the sources
    cache.prune(store, 0)
    assert sum(held.files for held in cache.usage(store).values()) == 0
    assert (tmp_path / "out" / NARRATED).is_file()  # the published book is not the cache's to remove


def test_a_rebuild_after_a_change_keeps_one_product_per_output(tmp_path: Path) -> None:
    """An editor rebuilds after every correction: each output keeps the product last made for it, not one more
    copy of every book per edit."""
    source, store = edition(tmp_path / "source"), tmp_path / "cache"
    narrated_build(source, tmp_path / "out", store)
    kept = stored_products(store)
    for word in ("owN", "OwN"):
        edition(source, BODY.replace("its own", f"its {word}"))
        narrated_build(source, tmp_path / "out", store)
        now = stored_products(store)
        assert len(now) == len(kept) and now != kept
    assert narrated_build(source, tmp_path / "out", store) == narrated_build(source, tmp_path / "cold", None)


def test_a_key_covers_content_not_places(tmp_path: Path) -> None:
    one, other = tmp_path / "one.txt", tmp_path / "other.txt"
    one.write_text("same words", encoding="utf-8")
    other.write_text("same words", encoding="utf-8")
    assert reuse.digest(one) == reuse.digest(other)  # a file counts as its content
    other.write_text("same word!", encoding="utf-8")
    assert reuse.digest(one) != reuse.digest(other)
    assert reuse.digest({"a": 1, "b": 2}) != reuse.digest({"b": 2, "a": 1})  # writers may follow the order
    assert reuse.digest((1, 2)) != reuse.digest((2, 1)) and reuse.digest(1) != reuse.digest("1")
    assert reuse.digest(frozenset({"x", "y"})) == reuse.digest(frozenset({"y", "x"}))
    with pytest.raises(TypeError, match="cannot cover"):
        reuse.digest(object())  # never a key that silently leaves something out


def test_a_change_to_the_builder_itself_gives_fresh_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "module.py").write_text("WORDS = 1\n", encoding="utf-8")
    monkeypatch.setattr(reuse, "PACKAGE", tmp_path)
    reuse.code_identity.cache_clear()
    try:
        before = reuse.digest("epub")
        (tmp_path / "module.py").write_text("WORDS = 2\n", encoding="utf-8")
        reuse.code_identity.cache_clear()
        assert reuse.digest("epub") != before
    finally:
        reuse.code_identity.cache_clear()
