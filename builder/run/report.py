"""The build report: what was built, what it claims, and how the validators judged it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.errors import Diagnostic, shown
from builder.model import Document
from builder.run import reuse
from builder.sources import lines as source_lines

if TYPE_CHECKING:
    from builder.book.package import Book
    from builder.distribution.products import Release
    from builder.run.records import Prepared

REPORT_FILES = ["report.json", "report.md"]
Verdicts = dict[str, dict[str, Any]]  # book → validator → its verdict


def report(prepared: Prepared, books: Mapping[str, Book], staging: Path, run_validators: bool,
           narration: dict, cache_dir: Path | None = None, release: Release | None = None,
           records: Sequence[str] = (), judged: Future[Verdicts] | None = None) -> dict[str, Any]:
    edition = prepared.edition
    articles = prepared.articles
    placed = [document.article.page for document in articles if document.article and document.article.page]
    return {
        "edition": {"title": edition.full_title, "identifier": edition.identifier, "language": edition.language,
                    "articles": len(articles)},
        "languages": languages_report(prepared),
        "books": books_report(books, staging, run_validators, cache_dir, judged),
        "images": [
            {"document": document.file_name, "src": image.src, "alt": image.alt, "decorative": image.decorative,
             "caption": image.caption, "long_description": image.has_long_description}
            for document in prepared.documents for image in document.images
        ],
        "page_list": {
            "pages": [label for document in prepared.documents for label in document.pages],
            "articles_with_start_page": f"{len(placed)}/{len(articles)}",
        },
        "narration": narration,
        "formats": {},  # see formats_report
        "products": products_report(release) if release else [],
        "records": list(records),
        "warnings": [str(warning) for warning in prepared.warnings],
        "suppressed_warnings": [str(warning) for warning in prepared.suppressed],  # by edition.toml
    }


def languages_report(prepared: Prepared) -> dict[str, dict[str, list[str]]]:
    """Every language of the book, the edition's first: the documents written in it, and those that hold
    passages in it."""
    found: dict[str, dict[str, list[str]]] = {}
    for document in prepared.documents:
        own = document.language or prepared.edition.language
        for language in (own, *document.languages):
            entry = found.setdefault(language, {"documents": [], "passages_in": []})
            where = entry["documents"] if language == own else entry["passages_in"]
            if document.file_name not in where:
                where.append(document.file_name)
    return found


VALIDATORS = ("epubcheck", "ace")


def products_report(release: Release) -> list[dict[str, Any]]:
    """Each product with the Display Guide's statements for people, from the claims it carries."""
    from builder.distribution import statements

    return [{"file": item.file_name, "kind": item.kind.value, "profile": item.profile,
             "media_type": item.media_type, "duration": item.duration,
             "accessibility": asdict(item.accessibility),
             "statements": statements.as_dicts(statements.sections(item.accessibility, release.edition.language,
                                                                   release.modified))}
            for item in release.products]


def books_report(books: Mapping[str, Book], staging: Path, run_validators: bool,
                 cache_dir: Path | None = None, judged: Future[Verdicts] | None = None) -> dict[str, Any]:
    """Each book's size, digest, claims and verdicts; verdicts on books already judged come from the
    verdict cache in `cache_dir`, those on books judged while the build went on from `judged` (judge_soon)."""
    entries = {name: book_entry(book, staging / name) for name, book in books.items()}
    if not run_validators:
        for entry in entries.values():
            entry["validators"] = dict.fromkeys(VALIDATORS, "not run (--no-validate)")
        return entries
    verdicts = dict(judged.result()) if judged is not None else {}
    verdicts |= judge({name: (staging / name, entry["sha256"]) for name, entry in entries.items()
                       if name not in verdicts}, cache_dir)
    for name, entry in entries.items():
        entry["validators"] = verdicts[name]
    return entries


def judge_soon(names: Sequence[str], staging: Path, cache_dir: Path | None) -> Future[Verdicts]:
    """The verdicts on books already written in `staging`, judged in a thread of their own while the build goes
    on (the text books, while the narration speaks: the validators are other processes)."""
    books = {name: (staging / name, file_entry(staging / name)["sha256"]) for name in names}
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="validators")
    judged = thread.submit(judge, books, cache_dir)
    thread.shutdown(wait=False)  # the thread ends with its one task
    return judged


def judge(books: Mapping[str, tuple[Path, str]], cache_dir: Path | None) -> Verdicts:
    from builder.run import validation  # only when validating: keeps text builds' start-up short

    if not books:
        return {}
    return validation.judge(books, lambda validator, path: validator_result(validator, path),  # looked up per call
                            validation.VerdictCache(cache_dir) if cache_dir is not None else None)


def formats_report(staging: Path, formats: Mapping[str, str]) -> dict[str, Any]:
    """The other outputs written into staging (path → what it is: DAISY, M4B, podcast feed)."""
    return {name: {"format": what, **file_entry(staging / name)} for name, what in formats.items()}


def book_entry(book: Book, path: Path) -> dict[str, Any]:
    return {**file_entry(path), "accessibility": asdict(book.accessibility), "validators": {}}


def file_entry(path: Path) -> dict[str, Any]:
    # Streamed, and read once: a product this build wrote or took from the cache is already hashed.
    return {"bytes": path.stat().st_size, "sha256": reuse.sha256_of(path)}


def validation_failures(data: Mapping[str, Any],
                        documents: Mapping[str, Sequence[Document]] | None = None) -> list[Diagnostic]:
    """Why a validating build must publish nothing: one E070 per book a validator faults (errors, fatal
    errors or accessibility violations; warnings pass), one E071 per reason a validator could not run.
    With each book's documents, an E070 names the article file and source line of what failed first."""
    failures: list[Diagnostic] = []
    unavailable: dict[str, None] = {}  # each reason once, however many books it kept unchecked
    for name, book in data["books"].items():
        for result in book["validators"].values():
            if isinstance(result, str):
                unavailable.setdefault(result.removeprefix("not run: ").rstrip("."))  # the line adds its own
            elif faults(result):
                failures.append(book_failure(name, result, (documents or {}).get(name, ())))
    failures += [Diagnostic("E071", f"cannot validate the books: {reason}",
                            "Or build with --no-validate: the books then say they were not checked.")
                 for reason in unavailable]
    return failures


def book_failure(name: str, result: Mapping[str, Any], documents: Sequence[Document]) -> Diagnostic:
    """E070 for one book, at the source line of the first fault found in an article (its message quoted)."""
    messages = list(result["messages"])
    located = [(message, source_lines.locate(documents, where))
               for message, where in zip(messages, result.get("locations") or [], strict=False)
               if where and not message.startswith(("WARNING", "USAGE"))]
    message, place = next(((message, place) for message, place in located if place), (
        messages[0] if messages else "", None))
    first = f"; first: {shown(message, 160)}" if message else ""
    if place is None:
        return Diagnostic("E070", f"{name} fails {validator_line(result)}{first}",
                          "The sources passed their checks, so this is a builder bug: please report it."
                          " --no-validate publishes the books marked as unchecked.")
    return Diagnostic("E070", f"{name} fails {validator_line(result)}{first}",
                      "Check what is written at this line (raw HTML goes into the book as written); if it is plain"
                      " Markdown, this is a builder bug: please report it. --no-validate publishes the books"
                      " marked as unchecked.", place[0], place[1])


def faults(result: Mapping[str, Any]) -> int:
    if "fatal" in result:
        return result["fatal"] + result["errors"]
    return sum(result["violations"].values())


def validator_result(validator: str, path: Path) -> dict[str, Any] | str:
    from builder.run import (
        validate,  # only builds that validate pay for importing the runners
        validation,
    )

    try:
        return asdict(validation.session(validator).check(path))  # one JVM, one browser for every book
    except (validate.ValidatorUnavailable, validate.ValidatorFailed) as exc:  # missing, or could not start or finish
        return f"not run: {exc}"


def write_report(data: dict[str, Any], folder: Path) -> None:
    (folder / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                                        encoding="utf-8")
    (folder / "report.md").write_text(markdown(data), encoding="utf-8")


def markdown(data: dict[str, Any]) -> str:
    lines = [f"# Build report: {data['edition']['title']}", "",
             f"{data['edition']['articles']} articles, language {data['edition']['language']}.", "",
             "## Languages", ""]
    for language, used in data["languages"].items():
        count = len(used["documents"])
        where = [f"{count} document{'s' if count != 1 else ''}"] if count else []
        where += [f"passages in {', '.join(used['passages_in'])}"] if used["passages_in"] else []
        lines.append(f"- {language}: {'; '.join(where)}")
    lines.append("")
    for name, book in data["books"].items():
        lines += [f"## {name}", "", f"- Size: {book['bytes']:,} bytes; SHA-256 `{book['sha256'][:16]}…`"]
        for validator, result in book["validators"].items():
            lines.append(f"- {validator}: {validator_line(result)}")
        claims = book["accessibility"]
        lines += [f"- Access modes: {', '.join(claims['access_modes'])}; sufficient: "
                  f"{' | '.join(claims['access_modes_sufficient'])}",
                  f"- Features: {', '.join(claims['features'])}",
                  f"- Hazards: {', '.join(claims['hazards'])}",
                  f"- Conforms to: {claims['conforms_to']}", "",
                  f"> {claims['summary']}", ""]
    if data.get("formats"):
        lines += ["## Talking book and audiobook formats", ""]
        lines += [f"- `{name}`: {entry['format']}; {entry['bytes']:,} bytes; SHA-256 `{entry['sha256'][:16]}…`"
                  for name, entry in data["formats"].items()] + [""]
    lines += ["## Images", ""]
    for image in data["images"]:
        alt = "decorative" if image["decorative"] else f"alt: {image['alt']}"
        lines.append(f"- `{image['src']}` in `{image['document']}` ({alt})")
    page_list = data["page_list"]
    lines += ["", "## Page list", "", f"Pages: {', '.join(page_list['pages'])}; articles with their print start"
              f" page: {page_list['articles_with_start_page']}.", ""]
    if data["narration"]:
        lines += ["## Narration", ""] + [f"- {key}: {value}" for key, value in data["narration"].items()] + [""]
    lines += statements_markdown(data.get("products", []))
    if data.get("records"):
        lines += ["## Records for libraries and distributors", ""] + [f"- `{name}`" for name in data["records"]]
        lines.append("")
    if data["warnings"]:
        lines += ["## Warnings", ""] + [f"- {warning}" for warning in data["warnings"]] + [""]
    if data["suppressed_warnings"]:
        lines += ["## Warnings suppressed by edition.toml", ""]
        lines += [f"- {warning}" for warning in data["suppressed_warnings"]] + [""]
    return "\n".join(lines)


def validator_line(result: Any) -> str:
    if isinstance(result, str):
        return result
    if "fatal" in result:
        return (f"EPUBCheck {result['version']}: {result['fatal']} fatal, {result['errors']} errors,"
                f" {result['warnings']} warnings")
    violations = result["violations"]
    counts = ", ".join(f"{count} {impact}" for impact, count in violations.items())
    return f"Ace {result['version']}: {sum(violations.values())} violations ({counts})"


def statements_markdown(products: Sequence[dict[str, Any]]) -> list[str]:
    """The accessibility statements once per distinct set of claims, naming the products that carry it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for product in products:
        groups.setdefault(json.dumps(product["statements"], sort_keys=True), []).append(product)
    if not groups:
        return []
    lines = ["## Accessibility statements", "",
             "As the W3C Accessibility Metadata Display Guide 2.0 words them, from each product's own claims.", ""]
    for members in groups.values():
        names = ", ".join(f"`{member['file']}`" for member in members)
        lines += [f"### {names}", ""]
        for section in members[0]["statements"]:
            lines += [f"**{section['title']}**", ""]
            lines += [f"- {statement['descriptive']}" for statement in section["statements"]] + [""]
    return lines
