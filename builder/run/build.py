"""The build: sources → model → XHTML → packages (+ the narration branch), staged then moved into place."""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import shutil
import tempfile
from concurrent.futures import Future, wait
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from builder import i18n
from builder.book import accessibility, images, mathml, navigation, package
from builder.book.styles import stylesheet
from builder.distribution import products
from builder.errors import BuildError, Diagnostic, Problems, Severity, warning
from builder.i18n import languages
from builder.model import Article, Edition, Resource
from builder.narration.engines import DEFAULT_ENGINE
from builder.run import report as build_report
from builder.run import reuse
from builder.run.records import BuildOptions, BuildResult, Prepared, Progress, Rendered
from builder.sources.config import line_of, read_text

if TYPE_CHECKING:
    from builder.narration.read_aloud import Narrated

DRAWN_COVER = "images/drawn-cover.jpg"  # a name no edition image is likely to have


def source_date(edition: Edition) -> datetime:
    """SOURCE_DATE_EPOCH when set, else the edition's date: never the wall clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.fromisoformat(edition.date).replace(tzinfo=UTC)


def render_edition(source: Path) -> Rendered:
    """Load and render every article: all the source validation there is, and nothing drawn or packaged.
    Every article is checked even when another has failed: one run reports every independent mistake."""
    from builder.book.markdown import markdown_parser  # the renderer: not loaded when the documents are reused
    from builder.book.render import Neighbourhood, render_article
    from builder.sources import load_sources

    problems = Problems()
    loaded = load_sources(source, problems)
    edition = loaded.edition
    md = markdown_parser()
    warnings = list(loaded.warnings)
    articles, image_files = [], {}
    for number, article in enumerate(edition.articles):
        following = edition.articles[number + 1] if number + 1 < len(edition.articles) else None
        around = Neighbourhood(f"{following.slug}.xhtml" if following else "", following.title if following else "",
                               edition.narration.rate, next_language(edition, article, following))
        with problems.check():
            rendered = render_article(article, edition.language, md, around)
            articles.append(rendered.document)
            warnings += rendered.warnings
            for path in rendered.images:
                image_files[path.relative_to(source.resolve()).as_posix()] = path
    problems.raise_any()
    warnings += untranslated_languages(edition)
    silenced = set(edition.suppressed_warnings)
    return Rendered(edition, tuple(articles), image_files,
                    tuple(warning for warning in warnings if warning.code not in silenced),
                    tuple(warning for warning in warnings if warning.code in silenced))


def next_language(edition: Edition, article: Article, following: Article | None) -> str:
    """The next article's language when it differs from this one's: its title in the skip link is marked."""
    if following is None or edition.language_of(following).lower() == edition.language_of(article).lower():
        return ""
    return edition.language_of(following)


def untranslated_languages(edition: Edition) -> list[Diagnostic]:
    """One W005 per document language the builder has no words for (its labels stay English)."""
    places = [(edition.language, edition.manifest, "language")]
    places += [(article.language, article.source, "language") for article in edition.articles if article.language]
    found: dict[str, Diagnostic] = {}
    for language, path, key in places:
        primary = i18n.primary_language(language)
        if primary in found or i18n.has_catalogue(language):
            continue
        found[primary] = warning(
            "W005", f"the builder has no words for {languages.name(language)} ('{primary}'): the labels it writes"
                    " (reading time, notes, contents…) are in English",
            f"Add builder/i18n/locale/{primary}/LC_MESSAGES/builder.po (see builder/i18n), or use a language"
            f" it has: {', '.join(i18n.catalogue_languages())}.", path, line_of(read_text(path), key))
    return list(found.values())


def prepare(source: Path, cache_dir: Path | None = None) -> Prepared:
    """Every document rendered and enriched, the resources read. With a cache, sources whose every file is as
    before (content and names) give the documents made from them last time (builder.run.reuse)."""
    kept = reuse.prepared(cache_dir)
    key = reuse.prepared_key(source) if kept is not None else ""
    if kept is not None and (stored := kept.read(key)) is not None:
        return pickle.loads(stored)  # the cache's own bytes, as stored (checked against their SHA-256)
    prepared = prepare_fresh(source)
    if kept is not None:
        kept.store(key, pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    return prepared


def prepare_fresh(source: Path) -> Prepared:
    rendered = render_edition(source)
    edition = rendered.edition
    cover, cover_alt = cover_image(edition)
    title = navigation.title_page(edition, cover.file_name, cover_alt)
    contents = navigation.contents_page(edition, rendered.articles)
    resources = [Resource(name, images.IMAGE_TYPES[path.suffix.lower()], path.read_bytes())
                 for name, path in sorted(rendered.images.items()) if name != cover.file_name]
    return Prepared(edition, (title, contents, *rendered.articles), tuple(resources), cover, rendered.warnings,
                    rendered.suppressed)


def cover_image(edition: Edition) -> tuple[Resource, str]:
    """The cover the manifest names (at its own path, so an article may show it too), or one drawn for the
    edition; and its alt text."""
    if edition.cover is None:
        drawn = Resource(DRAWN_COVER, "image/jpeg", images.cover_jpeg(edition), ("cover-image",))
        return drawn, images.cover_alt(edition)
    name = edition.cover.relative_to(edition.root.resolve()).as_posix()
    media_type = images.IMAGE_TYPES[edition.cover.suffix.lower()]
    return Resource(name, media_type, edition.cover.read_bytes(), ("cover-image",)), edition.cover_alt


def book_name(slug: str, profile: str, narrated: bool = False) -> str:
    suffix = "" if profile == "standard" else f"-{profile}"
    return f"{slug}{'-narrated' if narrated else ''}{suffix}.epub"


def text_book(prepared: Prepared, profile: str = "standard", checked: bool = False) -> package.Book:
    documents = prepared.documents
    return package.Book(
        edition=prepared.edition,
        documents=documents,
        nav=navigation.nav_document(prepared.edition, documents),
        resources=(stylesheet(profile), *prepared.resources),
        accessibility=accessibility.describe(documents, narrated=False, checked=checked,
                                             print_source=bool(prepared.edition.print_source),
                                             print_pages=prepared.edition.print_pages),
        cover=prepared.cover,
        rendition=profile,
    )


def check(source: Path, engine: str | None = None) -> tuple[Diagnostic, ...]:
    """Every source validation, without packaging: for editors' save-and-check loops. An engine the edition
    (or `engine`) asks for by name that this machine lacks is an error (E060); the default one, a warning."""
    rendered = render_edition(source)
    found = narration_sources(rendered.edition, engine=engine)
    missing = [diagnostic for diagnostic in found if diagnostic.code == "W060"]
    chosen = engine or rendered.edition.narration.engine
    if missing and chosen != DEFAULT_ENGINE:
        from builder.narration import engines

        hint = engines.engine(chosen).INSTALL_HINT
        raise BuildError(*(replace(diagnostic, code="E060", severity=Severity.ERROR,
                                   message=diagnostic.message.replace("voices not checked: ", "no speech engine: "),
                                   remedy=f'{hint[0].upper()}{hint[1:]}, or narrate with engine = "{DEFAULT_ENGINE}".')
                           for diagnostic in missing))
    return rendered.warnings + found


def narration_sources(edition: Edition, voice: str | None = None, engine: str | None = None) -> tuple[Diagnostic, ...]:
    """The narration's sources checked as edition.toml is: pronunciation.toml's sections and entries, and a
    voice for every language the sources use. Every error is raised together; warnings are returned."""
    from builder.narration import (
        lexicon,  # the speech engine's list is read only here
        voices,
    )

    found: list[Diagnostic] = []
    try:
        lexicon.load_lexicons(edition.root, edition.language)
    except BuildError as failed:
        found += failed.diagnostics
    found += voices.check_voices(voices.with_engine(edition, engine, voice))[0]
    errors = [diagnostic for diagnostic in found if diagnostic.severity is Severity.ERROR]
    if errors:
        raise BuildError(*errors)
    return tuple(found)


def build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    prepared = prepare(options.source, options.cache_dir)
    mathml.converter.stop_helper()  # every formula is converted: free its memory before narration
    # A wrong voice or lexicon entry is a source error, as a wrong rate is, and stops a narrated build before
    # anything is written; a machine without a speech engine is E060's business when narrating. A build without
    # audio reads no narration sources (`check` still does): listing the engine's voices is a tenth of its time.
    narration_warnings = tuple(found for found in narration_sources(prepared.edition, options.voice, options.engine)
                               if found.code != "W060") if options.audio else ()
    prepared = dataclasses.replace(prepared, warnings=prepared.warnings + narration_warnings)
    if options.strict and prepared.warnings:
        raise BuildError(*prepared.warnings)
    edition = prepared.edition
    modified = source_date(edition)
    options.output.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(options.output)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=options.output))
    pending: tuple[Future, ...] = ()  # formats the speech branch still writes, beside the packaging
    try:
        books = {book_name(edition.slug, profile): text_book(prepared, profile, options.validate)
                 for profile in options.profiles}
        kept = reuse.products(options.cache_dir)  # an unchanged book is taken from there, not written again
        write_books(books, kept, staging, options.output, modified)
        judged = None
        if options.validate and options.audio:  # the text books are judged while the narration speaks
            judged = build_report.judge_soon(list(books), staging, options.cache_dir)
            pending += (judged,)
        audio_folder = None
        formats: dict[str, str] = {}  # the speech branch's other outputs (name → what): DAISY, M4B, podcast feed
        narrated = None
        narration_report: dict = {}
        failures: tuple[Diagnostic, ...] = ()
        if options.audio:
            from builder.narration import (
                read_aloud,
                synthesis,  # the speech branch; imported only when narrating
            )

            try:
                narrated = read_aloud.narrate_edition(prepared, options, staging, modified, progress)
                narrated_name = book_name(edition.slug, "standard", narrated=True)
                write_books({narrated_name: narrated.book}, kept, staging, options.output, modified)
                books[narrated_name] = narrated.book
                audio_folder = narrated.audio_folder
                narration_report = narrated.report
                formats, pending = narrated.formats, pending + narrated.pending
            except synthesis.EngineUnavailable as missing:  # the text book is still worth publishing
                failures = (Diagnostic("E060", f"no speech engine: {missing}",
                                       "The text EPUB was built; --no-audio skips narration."),)
                narration_report = {"status": f"not built: {missing}"}
        release = products.release(edition, prepared.documents, build_products(prepared, options, books, narrated),
                                   modified, options.validate, prepared.cover)
        records: list[str] = []
        if narrated is not None:  # full builds only
            records = reuse.files_made(kept, reuse.digest("records", release), staging,
                                       functools.partial(write_records, release), options.output / "records")
        report = build_report.report(prepared, books, staging, options.validate, narration_report, options.cache_dir,
                                     release=release, records=records, judged=judged)
        for job in pending:  # written beside the packaging and the validators
            job.result()  # raises what the job raised
        report["formats"] = build_report.formats_report(staging, formats)
        if options.validate and (refused := build_report.validation_failures(
                report, {name: book.documents for name, book in books.items()})):
            raise BuildError(*refused)  # their metadata says they were checked: publish none of them
        build_report.write_report(report, staging)
        top_level = [name for name in formats if "/" not in name]  # the rest are inside the audio folder
        outputs = publish(staging, options.output, [*books, *records, *top_level, *build_report.REPORT_FILES],
                          audio_folder.name if audio_folder else None)
    finally:
        wait(pending)  # a failed build still lets them finish before their folder goes
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(outputs, prepared.warnings, report, failures, release)


def write_books(books: dict[str, package.Book], kept: reuse.ProductCache | None, staging: Path, output: Path,
                modified: datetime) -> None:
    for name, book in books.items():
        key = reuse.digest("epub", book, modified) if kept is not None else ""  # no cache: no key to look up
        reuse.made(kept, key, staging / name, functools.partial(package.write_epub, book, modified), output / name)


def build_products(prepared: Prepared, options: BuildOptions, books: dict[str, package.Book],
                   narrated: Narrated | None) -> list[products.Product]:
    """What this build publishes, for the records (builder.distribution): each book with its claims."""
    slug = prepared.edition.slug
    own = prepared.edition.identifier
    items = [replace(products.text_epub(name, books[name].accessibility, profile),
                     identifier=package.rendition_identifier(own, books[name].rendition))
             for profile in options.profiles if (name := book_name(slug, profile)) in books]
    if narrated is None:
        return items
    name = book_name(slug, "standard", narrated=True)
    items.append(replace(products.narrated_epub(name, narrated.book.accessibility, narrated.duration,
                                                narrated.narrators),
                         identifier=package.rendition_identifier(own, narrated.book.rendition)))
    folder = narrated.audio_folder.name
    main, *others = [f"{folder}/{path.name}" for path in narrated.audio_files]
    items.append(products.audiobook(main, prepared.documents, narrated.duration, narrated.narrators,
                                    [products.File(name, AUDIOBOOK_FILE_TYPES[Path(name).suffix]) for name in others]))
    from builder.distribution import daisy202, m4b  # written by the speech branch, beside the packaging

    items.append(products.daisy(daisy202.file_name(slug), prepared.documents, narrated.duration, narrated.narrators))
    items.append(products.m4b(m4b.file_name(slug), prepared.documents, narrated.duration, narrated.narrators))
    return items


def write_records(release: products.Release, folder: Path) -> list[str]:
    from builder.distribution import files as record_files  # only when written: start-up stays free of pymarc and co.

    return record_files.write_all(release, folder)


AUDIOBOOK_FILE_TYPES = {".mp3": "audio/mpeg", ".vtt": "text/vtt", ".m3u8": "audio/mpegurl",
                        ".json": "application/audiobook+json"}  # the Readium audiobook manifest


def remove_abandoned_staging(output: Path) -> None:
    """Staging folders of builds that were killed (their process is gone) hold nothing worth keeping."""
    for folder in output.glob(".staging-*"):
        pid = folder.name.split("-")[1]
        if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            shutil.rmtree(folder, ignore_errors=True)


def publish(staging: Path, output: Path, files: list[str], folder: str | None) -> list[Path]:
    """Move finished outputs into place, each with one rename, so readers never see half a file."""
    outputs = []
    for name in files:
        os.replace(staging / name, output / name)
        outputs.append(output / name)
    if folder:
        target = output / folder
        retired = staging / f"{folder}.previous"
        if target.exists():
            os.replace(target, retired)
        os.replace(staging / folder, target)
        outputs.append(target)
    return outputs

