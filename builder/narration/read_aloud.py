"""The speech branch of the build: enriched documents → sentences → audio → narrated EPUB and audiobook."""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import ModuleType

from builder import __version__
from builder.book import accessibility, navigation
from builder.book.package import Book, Narration
from builder.book.styles import stylesheet
from builder.distribution import daisy202, m4b, podcast
from builder.i18n import Words, primary_language
from builder.model import Document, Edition, Resource
from builder.narration import audio, credits, engines, lexicon, overlays, speech, synthesis, voices
from builder.run import reuse
from builder.run.records import BuildOptions, Prepared, Progress

LEXICON = "lexicon.pls"  # the edition language's; another language's is lexicon-<language>.pls


@dataclass(frozen=True)
class Narrated:
    book: Book
    audio_folder: Path
    report: dict
    duration: float = 0.0  # seconds, the whole narration
    narrators: credits.NarratorCredits = credits.NO_CREDITS  # who reads it, for the records
    audio_files: tuple[Path, ...] = ()  # the audiobook folder's files, main MP3 first
    formats: dict[str, str] = field(default_factory=dict)  # further outputs in staging: path → what it is
    pending: tuple[Future, ...] = ()  # the formats still being written: wait for them before publishing


def narrated_edition(prepared: Prepared, options: BuildOptions) -> Edition:
    """The edition with --engine and --voice applied to its narration settings."""
    return voices.with_engine(prepared.edition, options.engine, options.voice)


def engine_of(prepared: Prepared, options: BuildOptions) -> ModuleType:
    return engines.engine(narrated_edition(prepared, options).narration.engine)


def voice_for(prepared: Prepared, options: BuildOptions) -> synthesis.Voice:
    settings = narrated_edition(prepared, options).narration
    return synthesis.Voice(
        voice=settings.voice,
        rate=options.rate or settings.rate,
        volume=settings.volume if options.volume is None else options.volume,
    )


def lexicon_name(language: str, edition_language: str) -> str:
    if primary_language(language) == primary_language(edition_language):
        return LEXICON
    return f"lexicon-{primary_language(language)}.pls"


def with_lexicon_link(xhtml: str, languages: dict[str, str]) -> str:
    """Point the document at the pronunciation lexicons of its languages (EPUB 3 PLS support): language → file."""
    links = "".join(f'<link rel="pronunciation" type="application/pls+xml" hreflang="{language}" href="../{name}"/>'
                    for language, name in languages.items())
    return xhtml.replace("</head>", f"{links}</head>", 1)


def voice_chooser(prepared: Prepared, options: BuildOptions) -> Callable[[str, str], synthesis.Voice]:
    """(Language tag, role) → the voice that speaks it, at the edition's rate and volume (checked by `check`):
    a question (speech.QUESTION) in the edition's question voice."""
    base = voice_for(prepared, options)
    edition = narrated_edition(prepared, options)
    table = voices.voice_table(edition)
    engine, listed = engines.engine(edition.narration.engine), voices.edition_voices(edition)

    @functools.cache
    def choose(language: str, role: str = "") -> synthesis.Voice:
        configured = table.voice_for(language or edition.language, listed, role)
        return engine.speakable(voices.resolve_voice(configured, listed), configured, base)

    return choose


Marked = dict[str, tuple[Document, list[speech.SpokenSentence]]]


def mark_articles(prepared: Prepared, cache_dir: Path | None = None) -> tuple[Marked, dict[str, str]]:
    """Every article's sentences marked (document file → marked document, its spoken sentences), and the
    languages they are in (primary language → the first tag that uses it). What narration sends the engine.
    With a cache, an unchanged document's marking (same XHTML, lexicons and settings) is read back from it."""
    edition = prepared.edition
    lexicons = lexicon.load_lexicons(edition.root, edition.language)
    settings = speech.SpeechSettings(edition.narration.read_emoji, edition.narration.read_code)
    marks = reuse.marks(cache_dir)
    marked: Marked = {}
    used: dict[str, str] = {}
    for document in prepared.articles:
        assert document.article is not None
        xhtml, sentences = marked_document(document.xhtml, lexicons, document.article.slug, settings, marks)
        languages = {primary_language(s.language or edition.language): s.language or edition.language
                     for s in sentences}
        for code, tag in languages.items():
            used.setdefault(code, tag)
        links = {tag: lexicon_name(tag, edition.language) for tag in languages.values()}
        marked[document.file_name] = (replace(document, xhtml=with_lexicon_link(xhtml, links)), sentences)
    return marked, used


def marked_document(xhtml: str, lexicons: lexicon.Lexicons, slug: str, settings: speech.SpeechSettings,
                    marks: reuse.ProductCache | None) -> tuple[str, list[speech.SpokenSentence]]:
    """speech.mark_sentences, or its result for the same inputs from `marks`."""
    if marks is None:
        return speech.mark_sentences(xhtml, lexicons, slug, settings)
    key = reuse.digest("marks", xhtml, lexicons, slug, settings)
    if (stored := marks.read(key)) is not None:
        found = json.loads(stored)
        return found["xhtml"], [speech.SpokenSentence(*fields) for fields in found["sentences"]]
    xhtml, sentences = speech.mark_sentences(xhtml, lexicons, slug, settings)
    record = {"xhtml": xhtml, "sentences": [dataclasses.astuple(sentence) for sentence in sentences]}
    marks.store(key, json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return xhtml, sentences


def narrate_edition(prepared: Prepared, options: BuildOptions, staging: Path, modified: datetime,
                    progress: Progress | None = None) -> Narrated:
    edition = prepared.edition
    lexicons = lexicon.load_lexicons(edition.root, edition.language)
    marked, used = mark_articles(prepared, options.cache_dir)

    choose = voice_chooser(prepared, options)
    voice = choose(edition.language)  # the edition's own voice, as its engine speaks it
    title_xhtml, title_sentences = marked_document(
        daisy202.title_xhtml(edition.full_title, edition.publisher, edition.language), lexicons, daisy202.TITLE_NAME,
        speech.SpeechSettings(), reuse.marks(options.cache_dir))
    spoken = [(daisy202.TITLE_NAME, title_sentences)]  # the talking book's spoken title
    spoken += [(document.article.slug, sentences) for document, sentences in marked.values() if document.article]
    engine = engine_of(prepared, options)
    if engine.ACCEPTS_PHONEMES:  # lexicon entries with an IPA form are said through it
        spoken = [(slug, [replace(sentence, spoken=lexicon.with_phonemes(sentence.spoken,
                                                                         lexicons.of(sentence.language)))
                          for sentence in sentences]) for slug, sentences in spoken]
    parts = staging / ".audio-parts"  # the articles' MP3s, for both the EPUB and the audiobook
    parts.mkdir()
    # Each article's AAC for the M4B is encoded by the pool worker that narrated it (on the pool's cores), or
    # here as its narration arrives (one process, or a cluster), beside the narration of the others.
    engines.base.give_back_big_blocks()  # this process holds each article's MP3 and AAC a while, one after another
    encoding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aac")
    aac: dict[str, Future[m4b.EncodedArticle]] = {}
    aac_folder = options.cache_dir / "aac" if options.cache_dir is not None else staging / ".aac"
    store = synthesis.store_audio(parts)

    def keep(made: synthesis.ArticleAudio) -> synthesis.StoredAudio:
        stored = store(made)  # read back by the encoder: no article's MP3 waits in memory for its turn
        if made.slug != daisy202.TITLE_NAME:  # the talking book's spoken title is no chapter of the M4B
            aac[made.slug] = encoding.submit(m4b.encode_article, stored.path, synthesis.clip_starts(stored.timings),
                                             aac_folder)
        return stored

    try:
        title_audio, *audios = synthesis.narrate(spoken, voice, engine.synthesizer(edition.root), options.cache_dir,
                                                 options.jobs, progress, keep=keep, scheduler=options.scheduler,
                                                 voice_for=choose, in_worker=functools.partial(
                                                     m4b.encode_narrated, aac_folder, {daisy202.TITLE_NAME}))
    except BaseException:
        encoding.shutdown(wait=False, cancel_futures=True)  # no encoding for a build that stops here
        raise
    encoding.shutdown(wait=False)  # the queued articles are still encoded
    by_slug = {item.slug: item for item in audios}

    resources = [stylesheet("standard"), *prepared.resources]
    for _, tag in sorted(used.items()):
        resources.append(Resource(lexicon_name(tag, edition.language), "application/pls+xml",
                                  lexicon.lexicon_pls(lexicons.of(tag), tag).encode("utf-8")))
    overlay_for, durations = {}, {}
    for document, sentences in marked.values():
        slug = document.article.slug if document.article else ""
        clip = by_slug[slug]
        audio_name, smil_name = f"audio/{slug}.mp3", f"smil/{slug}.smil"
        smil = overlays.smil_document(f"../{document.file_name}", f"../{audio_name}", clip.timings, sentences)
        resources += [Resource(audio_name, "audio/mpeg", b"", path=clip.path),
                      Resource(smil_name, "application/smil+xml", smil.encode("utf-8"))]
        overlay_for[document.file_name] = smil_name
        durations[smil_name] = overlays.format_clock(clip.duration)

    asked = question_languages(marked, edition.language)
    who = credits.narrator_credits(narrators(sorted(used.values()), asked, choose, engine), edition.language)
    documents = tuple(with_listening_time(marked[document.file_name][0], by_slug, edition.language)
                      if document.file_name in marked else document for document in prepared.documents)
    total = sum(item.duration for item in audios)
    book = Book(
        edition=edition,
        documents=documents,
        nav=navigation.nav_document(edition, documents),
        resources=tuple(resources),
        accessibility=accessibility.describe(documents, narrated=True, checked=options.validate,
                                             print_source=bool(edition.print_source),
                                             print_pages=edition.print_pages,
                                             questions_voiced=bool(who_asks(asked, choose))),
        cover=prepared.cover,
        narration=Narration(overlay_for, durations, overlays.format_clock(total), narrators=who.names),
        rendition="narrated",
    )
    folder = staging / f"{edition.slug}-audio"
    folder.mkdir()
    chapters = [audio.Chapter(document.article.title, by_slug[document.article.slug], sentences,
                              tuple(author.name for author in document.article.authors),
                              document.language or edition.language)
                for document, sentences in marked.values() if document.article]
    kept = reuse.products(options.cache_dir)  # an unchanged audiobook and feed are taken from there
    published = options.output / folder.name
    written = [folder / name for name in reuse.files_made(
        kept, reuse.digest("audiobook", edition, chapters, who), folder,
        lambda target: [path.name for path in audio.write_audiobook(
            target, edition.full_title, edition.publisher, chapters, edition.date[:4], edition.language, who)],
        published)]
    # The feed reads the audiobook's files, which the audiobook's key fixes: this key covers that key's inputs.
    feed = folder / reuse.files_made(kept, reuse.digest("podcast", edition, chapters, who, prepared.cover, marked),
                                     folder, functools.partial(write_feed, prepared, who, marked, by_slug),
                                     published / podcast.FEED)[-1]
    title_part = daisy202.Part(daisy202.TITLE_NAME, edition.full_title, title_xhtml, "title.xhtml", title_audio,
                               tuple(sentence.id for sentence in title_sentences))
    daisy_name, m4b_name = daisy202.file_name(edition.slug), m4b.file_name(edition.slug)
    # Beside the EPUB packaging, on the other core: PyAV and zlib release the GIL while they work.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="formats")
    pending = (
        pool.submit(write_daisy, talking_book(edition, prepared, marked, by_slug, title_part, who.names), modified,
                    staging / daisy_name, options),
        pool.submit(write_m4b, staging / m4b_name, [chapter.title for chapter in chapters],
                    [aac[chapter.audio.slug] for chapter in chapters], audiobook_tags(prepared, who), options),
    )
    pool.shutdown(wait=False)
    report = {
        "voice": f"{engine.credit(voice).voice}, {voice.rate} words a minute, volume {voice.volume}",
        "voices": voices_used(sorted(used.values()), choose,
                              voices.edition_voices(narrated_edition(prepared, options)), engine),
        "sentences": sum(len(sentences) for _, sentences in marked.values()),
        "duration": overlays.format_clock(total),
        "articles": {item.slug: overlays.format_clock(item.duration) for item in audios},
    }
    if asked:  # an interview: its questions' voices too
        report["question voices"] = voices_used(asked, lambda language: choose(language, speech.QUESTION),
                                                voices.edition_voices(narrated_edition(prepared, options)), engine)
    formats = {daisy_name: "DAISY 2.02 talking book, full text and full audio",
               m4b_name: "M4B audiobook (AAC), a chapter per article",
               f"{folder.name}/{feed.name}": "podcast feed (RSS 2.0, Podcasting 2.0 chapters and transcripts)"}
    main = [path for path in written if path.name == audio.edition_file_name(edition.full_title)]
    return Narrated(book, folder, report, total, who,
                    (*main, *(path for path in written if path not in main)), formats, pending)


def write_m4b(target: Path, titles: list[str], encoded: list[Future[m4b.EncodedArticle]], tags: m4b.Tags,
              options: BuildOptions) -> None:
    """The M4B once its articles' AAC is encoded, or the same bytes from the cache when its pieces, titles and
    tags are unchanged (builder.run.reuse)."""
    articles = [future.result() for future in encoded]
    reuse.made(reuse.products(options.cache_dir), reuse.digest("m4b", m4b.made_from(titles, articles, tags)), target,
               functools.partial(m4b.write_m4b, titles=titles, articles=articles, tags=tags),
               options.output / target.name)


def write_daisy(book: daisy202.TalkingBook, modified: datetime, target: Path, options: BuildOptions) -> None:
    """The DAISY zip, or the same bytes from the cache when the talking book is unchanged (builder.run.reuse)."""
    reuse.made(reuse.products(options.cache_dir), reuse.digest("daisy202", book, modified), target,
               functools.partial(daisy202.write_daisy202, book, modified), options.output / target.name)


def write_feed(prepared: Prepared, who: credits.NarratorCredits, marked: Marked,
               audio_of: dict[str, synthesis.StoredAudio], folder: Path) -> list[str]:
    """The podcast feed, each episode's chapters and the show's artwork, into the audiobook's folder: their
    names, the feed's last."""
    show = podcast_show(prepared, who.names, folder)
    return [show.image, *(path.name for path in podcast.write_podcast(folder, show, episodes(marked, audio_of,
                                                                                             folder)))]


def podcast_show(prepared: Prepared, readers: tuple[str, ...], folder: Path) -> podcast.Show:
    """The feed's channel; the cover is copied beside it as the show's artwork."""
    edition, cover = prepared.edition, prepared.cover
    image = f"cover{Path(cover.file_name).suffix.lower()}"
    (folder / image).write_bytes(cover.content)
    return podcast.Show(title=edition.full_title, description=edition.description, language=edition.language,
                        publisher=edition.publisher, identifier=edition.identifier, date=edition.date,
                        narrators=readers, image=image)


def episodes(marked: dict[str, tuple[Document, list[speech.SpokenSentence]]],
             audio_of: dict[str, synthesis.StoredAudio], folder: Path) -> list[podcast.Episode]:
    documents = [document for document, _ in marked.values() if document.article]
    names = audio.track_names([document.article.slug for document in documents if document.article])
    found = []
    for number, (document, name) in enumerate(zip(documents, names, strict=True), start=1):
        article = document.article
        assert article is not None
        clip = audio_of[article.slug]
        found.append(podcast.Episode(
            number=number, title=article.title, summary=article.summary,
            authors=tuple(author.name for author in article.authors), audio=folder / f"{name}.mp3",
            transcript=f"{name}.vtt", duration=clip.duration,
            chapters=podcast.chapters_of(document.xhtml, clip.timings)))
    return found


def audiobook_tags(prepared: Prepared, who: credits.NarratorCredits) -> m4b.Tags:
    edition = prepared.edition
    return m4b.Tags(title=edition.full_title, artist=edition.publisher, publisher=edition.publisher,
                    year=edition.date[:4], description=edition.description, comment=who.line,
                    cover=prepared.cover.content, cover_type=prepared.cover.media_type, narrators=who.names)


def talking_book(edition: Edition, prepared: Prepared,
                 marked: dict[str, tuple[Document, list[speech.SpokenSentence]]],
                 audio: dict[str, synthesis.StoredAudio], title: daisy202.Part,
                 readers: tuple[str, ...]) -> daisy202.TalkingBook:
    parts = [title] + [
        daisy202.Part(document.article.slug, document.article.title, document.xhtml, document.file_name,
                      audio[document.article.slug], tuple(sentence.id for sentence in sentences))
        for document, sentences in marked.values() if document.article
    ]
    images = {resource.file_name: resource.path or resource.content for resource in prepared.resources
              if resource.media_type.startswith("image/")}
    return daisy202.TalkingBook(
        identifier=edition.identifier, title=edition.full_title, language=edition.language,
        publisher=edition.publisher, date=edition.date, creators=edition.creators(), narrators=readers,
        generator=f"edition-builder {__version__}", parts=tuple(parts), images=images)


LISTENING_TIME = re.compile(r'(<span class="listening-time">)[^<]*(</span>)')


def with_listening_time(document: Document, audio: dict[str, synthesis.StoredAudio], language: str) -> Document:
    """The measured length of the article's narration, in place of the text book's estimate, in the
    document's language ("1 minute 45 seconds"; `language` is the edition's, for a document without its own)."""
    assert document.article is not None
    say = Words(document.language or language)
    seconds = round(audio[document.article.slug].duration)
    spoken = html.escape(duration(say, seconds))
    return replace(document, xhtml=LISTENING_TIME.sub(lambda found: f"{found[1]}{spoken}{found[2]}", document.xhtml,
                                                      count=1))


def duration(say: Words, seconds: int) -> str:
    """'1 minute 45 seconds', '45 seconds', '2 minutes': CLDR plurals, no zero part."""
    parts = []
    if seconds >= 60:
        parts.append(say.plural("{n} minute", "{n} minutes", seconds // 60))
    if seconds % 60 or not parts:
        parts.append(say.plural("{n} second", "{n} seconds", seconds % 60))
    return say("{minutes} {seconds}", minutes=parts[0], seconds=parts[1]) if len(parts) == 2 else parts[0]


def voices_used(languages: list[str], choose: Callable[[str], synthesis.Voice],
                listed: Sequence[voices.EngineVoice], engine: ModuleType) -> str:
    """"en-GB: English (Great Britain) (gmw/en); fr: French (France) (roa/fr)": each language and its voice."""
    names = {voice_id: name for voice_id, name, _ in listed}
    parts = []
    for language in languages:
        voice_id = voices.resolve_voice(choose(language).voice, listed)
        parts.append(f"{language}: {engine.voice_label(voice_id, names.get(voice_id, voice_id))}")
    return "; ".join(parts)


def question_languages(marked: Marked, edition_language: str) -> list[str]:
    """The languages the interviews' questions are asked in (none: the edition has no interview)."""
    return sorted({sentence.language or edition_language for _, sentences in marked.values()
                   for sentence in sentences if sentence.role == speech.QUESTION})


def narrators(languages: list[str], asked: list[str], choose: Callable[[str, str], synthesis.Voice],
              engine: ModuleType) -> credits.Narrators:
    """Every voice that reads, as its engine credits it: each language's, then each question voice (`asked`: the
    questions' languages)."""
    return credits.Narrators(
        tuple(dict.fromkeys(engine.credit(choose(language, "")) for language in languages)),
        tuple(dict.fromkeys(engine.credit(choose(language, speech.QUESTION)) for language in asked)))


def who_asks(asked: list[str], choose: Callable[[str, str], synthesis.Voice]) -> list[str]:
    """The questions' languages whose questions are read in another voice than their answers."""
    return [language for language in asked if choose(language, speech.QUESTION) != choose(language, "")]
