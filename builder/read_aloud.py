"""The speech branch of the build: enriched documents → sentences → audio → narrated EPUB and audiobook."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from pathlib import Path

from builder import accessibility, audio, narration, navigation, overlays, speech
from builder.i18n import Words
from builder.model import Document, Resource
from builder.package import Book, Narration
from builder.records import BuildOptions, Prepared, Progress
from builder.styles import stylesheet

LEXICON = "lexicon.pls"
LEXICON_SOURCE = "pronunciation.toml"


@dataclass(frozen=True)
class Narrated:
    book: Book
    audio_folder: Path
    report: dict
    duration: float = 0.0  # seconds, the whole narration
    narrator: str = ""
    audio_files: tuple[Path, ...] = ()  # the audiobook folder's files, main MP3 first


def voice_for(prepared: Prepared, options: BuildOptions) -> narration.Voice:
    settings = prepared.edition.narration
    return narration.Voice(
        voice=options.voice or settings.voice,
        rate=options.rate or settings.rate,
        volume=settings.volume if options.volume is None else options.volume,
    )


def with_lexicon_link(xhtml: str, language: str) -> str:
    """Point the document at the edition's pronunciation lexicon (EPUB 3 PLS support)."""
    link = f'<link rel="pronunciation" type="application/pls+xml" hreflang="{language}" href="../{LEXICON}"/>'
    return xhtml.replace("</head>", f"{link}</head>", 1)


def narrate_edition(prepared: Prepared, options: BuildOptions, staging: Path,
                    progress: Progress | None = None) -> Narrated:
    edition = prepared.edition
    lexicon = speech.load_lexicon(edition.root / LEXICON_SOURCE)
    marked: dict[str, tuple[Document, list[speech.SpokenSentence]]] = {}
    for document in prepared.articles:
        assert document.article is not None
        xhtml, sentences = speech.mark_sentences(document.xhtml, lexicon, document.article.slug)
        marked[document.file_name] = (replace(document, xhtml=with_lexicon_link(xhtml, edition.language)), sentences)

    voice = voice_for(prepared, options)
    spoken = [(document.article.slug, sentences) for document, sentences in marked.values() if document.article]
    parts = staging / ".audio-parts"  # the articles' MP3s, for both the EPUB and the audiobook
    parts.mkdir()
    audios = narration.narrate(spoken, voice, narration.Pyttsx3Synthesizer, options.cache_dir, options.jobs,
                               progress, keep=narration.store_audio(parts), scheduler=options.scheduler)
    by_slug = {item.slug: item for item in audios}

    resources = [stylesheet("standard"), *prepared.resources]
    resources.append(Resource(LEXICON, "application/pls+xml",
                              speech.lexicon_pls(lexicon, edition.language).encode("utf-8")))
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
                                             print_pages=edition.print_pages),
        cover=prepared.cover,
        narration=Narration(overlay_for, durations, overlays.format_clock(total), narrator=narrator(voice)),
        rendition="narrated",
    )
    folder = staging / f"{edition.slug}-audio"
    folder.mkdir()
    chapters = [audio.Chapter(document.article.title, by_slug[document.article.slug], sentences,
                              tuple(author.name for author in document.article.authors),
                              document.language or edition.language)
                for document, sentences in marked.values() if document.article]
    written = audio.write_audiobook(folder, edition.full_title, edition.publisher, chapters, edition.date[:4],
                                    edition.language)
    report = {
        "voice": f"{voice.voice}, {voice.rate} words a minute, volume {voice.volume}",
        "sentences": sum(len(sentences) for _, sentences in marked.values()),
        "duration": overlays.format_clock(total),
        "articles": {item.slug: overlays.format_clock(item.duration) for item in audios},
    }
    main = [path for path in written if path.name == audio.edition_file_name(edition.full_title)]
    return Narrated(book, folder, report, total, narrator(voice),
                    (*main, *(path for path in written if path not in main)))


LISTENING_TIME = re.compile(r'(<span class="listening-time">)[^<]*(</span>)')


def with_listening_time(document: Document, audio: dict[str, narration.StoredAudio], language: str) -> Document:
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


def narrator(voice: narration.Voice) -> str:
    return f"eSpeak NG synthetic voice ({voice.voice}) via pyttsx3"
