"""MARC 21 bibliographic records, with pymarc: one for the e-book, one for the audiobook.

The e-book record (leader `nam`) describes the EPUBs, the text of every reading profile and the narrated
book; the audiobook record (`nim`) the MP3 audiobook and the other audio products. Accessibility comes
from each product's `AccessibilityMetadata`: field 341 once per access mode, with the schema.org terms of
the features that adapt it (`$2 sapdv`), and field 532 for the summary, the conformance claim and the
hazards. Names are kept as printed, in direct order (first indicator 0): inverting them and matching them
to authority records is a cataloguer's work, not a guess to make here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC
from pathlib import Path

from pymarc import Field, Indicators, MARCReader, Record, Subfield, XMLWriter

from builder.book.accessibility import AccessibilityMetadata
from builder.book.render import byline as credit_line
from builder.distribution.products import Kind, Product, Release, bibliographic_language, credits

TEXT_KINDS = (Kind.EPUB, Kind.NARRATED_EPUB)
AUDIO_KINDS = (Kind.AUDIOBOOK, Kind.M4B, Kind.DAISY)
# Relator terms and codes (MARC Code List for Relators) for the roles the sources give.
RELATORS = {"author": ("author", "aut"), "editor": ("editor", "edt"), "interviewer": ("interviewer", "ivr"),
            "interviewee": ("interviewee", "ive"), "compiler": ("compiler", "com"),
            "transcriber": ("transcriber", "trc")}
# Which subfield of 341 carries a feature: $b textual, $c visual, $d auditory assistive features.
FEATURE_SUBFIELD = {"synchronizedAudioText": "d", "displayTransformability": "c", "highContrastDisplay": "c",
                    "largePrint": "c"}
# For each access mode, the features that adapt it (schema.org accessibilityFeature).
ADAPTS = {
    "textual": ("tableOfContents", "readingOrder", "structuralNavigation", "printPageNumbers", "pageNavigation",
                "MathML", "displayTransformability", "synchronizedAudioText"),
    "visual": ("alternativeText", "longDescription"),
    "auditory": ("transcript", "tableOfContents"),
}
FILE_FORMATS = {Kind.EPUB: ("text file", "EPUB"), Kind.NARRATED_EPUB: ("text file", "EPUB"),
                Kind.AUDIOBOOK: ("audio file", "MP3"), Kind.M4B: ("audio file", "AAC"),
                Kind.DAISY: ("text file", "DAISY 2.02")}
CONTENTS_FIELD_BYTES = 9000  # under MARC 21's 9,999-byte field length, with room for indicators and terminator
LABELS = {Kind.EPUB: "EPUB 3", Kind.NARRATED_EPUB: "EPUB 3 with synchronised narration",
          Kind.AUDIOBOOK: "MP3 audiobook, whole edition with chapters", Kind.M4B: "M4B audiobook (AAC) with chapters",
          Kind.DAISY: "DAISY 2.02 talking book, full text and full audio"}


def write(release: Release, folder: Path) -> list[str]:
    slug = release.edition.slug
    binary = b"".join(record.as_marc() for record in marc_records(release))
    (folder / f"{slug}.mrc").write_bytes(binary)
    with (folder / f"{slug}.marcxml").open("wb") as target:
        writer = XMLWriter(target)
        for record in MARCReader(binary, to_unicode=True, force_utf8=True):  # read back: leaders with their lengths
            writer.write(record)
        writer.close(close_fh=False)
    return [f"{slug}.mrc", f"{slug}.marcxml"]


def marc_records(release: Release) -> list[Record]:
    records = []
    if release.of_kind(*TEXT_KINDS):
        records.append(ebook_record(release))
    if release.of_kind(*AUDIO_KINDS):
        records.append(audiobook_record(release))
    return records


def ebook_record(release: Release) -> Record:
    items = release.of_kind(*TEXT_KINDS)
    claims = items[0].accessibility  # the standard text EPUB: what every profile claims
    edition = release.edition
    record = Record(leader="     nam a22     7i 4500", force_utf8=True)
    record.add_field(
        Field("001", data=f"{edition.slug}-ebook"),
        Field("005", data=release.modified.astimezone(UTC).strftime("%Y%m%d%H%M%S.0")),
        Field("006", data="m     o  d        "),  # computer file: online, a document
        Field("007", data="cr cn|||||||||"),  # electronic resource, remote, in colour
        Field("008", data=fixed_fields(release, books_part(claims))),
        *identifier_fields(items),
        *description_fields(release),
        Field("300", Indicators(" ", " "), extent(release, None, claims)),
        *content_fields("text", "txt", (product for product in items if product.kind is Kind.NARRATED_EPUB)),
        *(Field("347", Indicators(" ", " "), file_type(item)) for item in unique_forms(items)),
        *grouped_accessibility_fields(items),
        *notes(release),
        *people(release),
        *(link_field(item) for item in items),
        *related(release, release.of_kind(*AUDIO_KINDS), "Audiobook version", f"{edition.slug}-audio"),
    )
    return in_tag_order(record)


def audiobook_record(release: Release) -> Record:
    items = release.of_kind(*AUDIO_KINDS)
    audiobook = items[0]
    claims = audiobook.accessibility
    edition = release.edition
    record = Record(leader="     nim a22     7i 4500", force_utf8=True)
    record.add_field(
        Field("001", data=f"{edition.slug}-audio"),
        Field("005", data=release.modified.astimezone(UTC).strftime("%Y%m%d%H%M%S.0")),
        Field("006", data="m     o  h        "),  # computer file: online, sound
        Field("007", data="cr una||||||||"),  # electronic resource, remote, with sound
        Field("008", data=fixed_fields(release, sound_part(release))),
        *identifier_fields(items),
        *description_fields(release),
        Field("300", Indicators(" ", " "), extent(release, audiobook.duration, claims)),
        Field("306", Indicators(" ", " "), [Subfield("a", hhmmss(audiobook.duration or 0))]),
        Field("336", Indicators(" ", " "), [Subfield("a", "spoken word"), Subfield("b", "spw"),
                                          Subfield("2", "rdacontent")]),
        *(Field("336", Indicators(" ", " "), [Subfield("3", LABELS[item.kind]), Subfield("a", "text"),
                                              Subfield("b", "txt"), Subfield("2", "rdacontent")])
          for item in items if item.form.text),  # the DAISY book's full text
        Field("337", Indicators(" ", " "), [Subfield("a", "computer"), Subfield("b", "c"), Subfield("2", "rdamedia")]),
        Field("338", Indicators(" ", " "), [Subfield("a", "online resource"), Subfield("b", "cr"),
                                          Subfield("2", "rdacarrier")]),
        Field("344", Indicators(" ", " "), [Subfield("a", "digital"), Subfield("2", "rdatr")]),
        Field("344", Indicators(" ", " "), [Subfield("g", "mono"), Subfield("2", "rdacpc")]),
        *(Field("347", Indicators(" ", " "), file_type(item)) for item in unique_forms(items)),
        Field("511", Indicators("0", " "), [Subfield("a", audiobook.narrators.line_in_english)]),
        *grouped_accessibility_fields(items),
        *notes(release),
        *people(release),
        Field("655", Indicators(" ", "7"), [Subfield("a", "Audiobooks."), Subfield("2", "lcgft")]),
        *(link_field(item) for item in items),
        *related(release, release.of_kind(*TEXT_KINDS), "E-book version", f"{edition.slug}-ebook"),
    )
    return in_tag_order(record)


def in_tag_order(record: Record) -> Record:
    record.fields.sort(key=lambda field: field.tag)  # stable: repeated fields keep their order
    return record


def fixed_fields(release: Release, specific: str) -> str:
    """008: entered, a single date, no place identified, the form-specific part, language, other source."""
    entered = release.modified.astimezone(UTC).strftime("%y%m%d")
    year = release.edition.date[:4]
    language = bibliographic_language(release.languages[0])
    data = f"{entered}s{year}    xx {specific}{language} d"
    assert len(data) == 40, data
    return data


def books_part(claims: AccessibilityMetadata) -> str:
    """008/18-34 for books: illustrations, online, no conference, festschrift or index, not fiction."""
    illustrations = "a   " if "visual" in claims.access_modes else "    "
    return f"{illustrations} o     000 0 "


def sound_part(release: Release) -> str:
    """008/18-34 for sound recordings: not music, online, the literary text essays (and interviews)."""
    kinds = {article.kind for article in release.edition.articles}
    text = "et" if "interview" in kinds else "e "
    return f"nnnn o      {text} n "


def identifier_fields(items: Sequence[Product]) -> list[Field]:
    """024 with each product's own identifier, qualified by its form (the edition has no ISBN, so no 020)."""
    return [Field("024", Indicators("7", " "), [Subfield("a", item.identifier), Subfield("q", label(item)),
                                                 Subfield("2", "uri")]) for item in items if item.identifier]


def description_fields(release: Release) -> list[Field]:
    edition = release.edition
    languages = list(dict.fromkeys(bibliographic_language(language) for language in release.languages))
    title = [Subfield("a", f"{edition.title} :" if edition.subtitle else f"{edition.title} /"),
             *([Subfield("b", f"{edition.subtitle} /")] if edition.subtitle else [])]
    editors = [name for name, roles in credits(edition) if "editor" in roles]
    responsibility = f"edited by {join(editors)}." if editors else f"{edition.publisher}."
    fields = [
        Field("040", Indicators(" ", " "), [Subfield("b", "eng"), Subfield("e", "rda")]),
        Field("041", Indicators("0", " "), [Subfield("a", code) for code in languages]),
        Field("245", Indicators("0", "0"), [*title, Subfield("c", responsibility)]),
    ]
    if edition.edition:
        fields.append(Field("250", Indicators(" ", " "), [Subfield("a", f"{edition.edition}.")]))
    fields.append(Field("264", Indicators(" ", "1"), [
        Subfield("a", "[Place of publication not identified] :"), Subfield("b", f"{edition.publisher},"),
        Subfield("c", f"{edition.date[:4]}.")]))
    return fields


def extent(release: Release, duration: float | None, claims: AccessibilityMetadata) -> list[Subfield]:
    if duration is not None:
        return [Subfield("a", f"1 online resource (1 audio file ({playing_time(duration)}))")]
    count = len(release.edition.articles)
    subfields = [Subfield("a", f"1 online resource ({count} articles)" + (" :" if "visual" in claims.access_modes
                                                                         else ""))]
    if "visual" in claims.access_modes:
        subfields.append(Subfield("b", "illustrations"))
    return subfields


def content_fields(term: str, code: str, narrated: Iterable[Product]) -> list[Field]:
    fields = [Field("336", Indicators(" ", " "), [Subfield("a", term), Subfield("b", code),
                                                  Subfield("2", "rdacontent")])]
    for item in narrated:  # the narrated book is spoken word too
        fields.append(Field("336", Indicators(" ", " "), [Subfield("3", LABELS[item.kind]),
                                                          Subfield("a", "spoken word"), Subfield("b", "spw"),
                                                          Subfield("2", "rdacontent")]))
    fields += [
        Field("337", Indicators(" ", " "), [Subfield("a", "computer"), Subfield("b", "c"), Subfield("2", "rdamedia")]),
        Field("338", Indicators(" ", " "), [Subfield("a", "online resource"), Subfield("b", "cr"),
                                          Subfield("2", "rdacarrier")]),
    ]
    return fields


def unique_forms(items: Sequence[Product]) -> list[Product]:
    seen: dict[tuple[str, str], Product] = {}
    for item in items:
        seen.setdefault(FILE_FORMATS[item.kind], item)
    return list(seen.values())


def file_type(item: Product) -> list[Subfield]:
    kind, encoding = FILE_FORMATS[item.kind]
    return [Subfield("a", kind), Subfield("b", encoding), Subfield("2", "rdaft")]


def grouped_accessibility_fields(items: Sequence[Product]) -> list[Field]:
    """One record for several products (the MP3s, the M4B, the DAISY book): products that claim the same share
    their fields; where claims differ, 341 names the products in $3 and 532 in its text."""
    groups: dict[AccessibilityMetadata, list[Product]] = {}
    for item in items:
        groups.setdefault(item.accessibility, []).append(item)
    if len(groups) == 1:
        return accessibility_fields(items[0].accessibility)
    fields = []
    for claims, members in groups.items():
        fields += accessibility_fields(claims, "; ".join(label(member) for member in members))
    return fields


def label(item: Product) -> str:
    return LABELS[item.kind] + (f", {item.profile} profile" if item.profile != "standard" else "")


def accessibility_fields(claims: AccessibilityMetadata, label: str = "") -> list[Field]:
    fields = []
    for mode in claims.access_modes:
        features = [name for name in ADAPTS.get(mode, ()) if name in claims.features]
        subfields = [Subfield("a", mode), *(Subfield(FEATURE_SUBFIELD.get(name, "b"), name) for name in features)]
        materials = [Subfield("3", label)] if label else []
        fields.append(Field("341", Indicators("0", " "),
                            [*materials, *sorted_subfields(subfields), Subfield("2", "sapdv")]))
    prefix = f"{label}: " if label else ""
    fields.append(Field("532", Indicators("8", " "), [Subfield("a", prefix + claims.summary)]))
    if claims.conforms_to:
        certified = f" Certified by {claims.certified_by}." if claims.certified_by else ""
        fields.append(Field("532", Indicators("8", " "),
                            [Subfield("a", f"{prefix}Conforms to {claims.conforms_to}.{certified}")]))
    fields.append(Field("532", Indicators("8", " "), [Subfield("a", prefix + hazard_note(claims.hazards))]))
    return fields


def sorted_subfields(subfields: list[Subfield]) -> list[Subfield]:
    """$a first, then $b, $c, $d: the order MARC gives them."""
    return sorted(subfields, key=lambda subfield: subfield.code)


def hazard_note(hazards: Sequence[str]) -> str:
    if list(hazards) == ["none"]:
        return "No accessibility hazards: no flashing, sound or motion simulation hazards."
    return "Accessibility hazards: " + ", ".join(hazards) + "."


def notes(release: Release) -> list[Field]:
    edition = release.edition
    fields = [Field("546", Indicators(" ", " "), [Subfield("a", language_note(release.languages))])]
    contents: list[Subfield] = []
    for number, article in enumerate(edition.articles):
        last = number == len(edition.articles) - 1
        byline = credit_line(article.authors)
        contents.append(Subfield("t", article.title + (" /" if byline else ("." if last else " --"))))
        if byline:
            contents.append(Subfield("r", byline + ("." if last else " --")))
    fields += contents_fields(contents)
    if edition.description:
        fields.append(Field("520", Indicators(" ", " "), [Subfield("a", edition.description)]))
    return fields


def contents_fields(contents: list[Subfield]) -> list[Field]:
    """The contents note, in as many 505s as MARC's 9,999-byte field length needs: the first says
    "Contents:" (indicator 0), the rest continue it without a display constant (indicator 8), as LC does."""
    fields: list[Field] = []
    chunk: list[Subfield] = []
    size = 0
    for number, subfield in enumerate(contents):
        # a title and its byline stay together; 3 bytes per subfield (delimiter, code) and slack for the rest
        length = len(subfield.value.encode("utf-8")) + 2
        starts_entry = subfield.code == "t" and number > 0
        if chunk and starts_entry and size + length + byline_length(contents, number) > CONTENTS_FIELD_BYTES:
            fields.append(Field("505", Indicators("8" if fields else "0", "0"), chunk))
            chunk, size = [], 0
        chunk.append(subfield)
        size += length
    if chunk:
        fields.append(Field("505", Indicators("8" if fields else "0", "0"), chunk))
    return fields


def byline_length(contents: list[Subfield], number: int) -> int:
    following = contents[number + 1] if number + 1 < len(contents) else None
    return len(following.value.encode("utf-8")) + 2 if following is not None and following.code == "r" else 0


def language_note(languages: Sequence[str]) -> str:
    from builder.i18n.languages import cldr_names, parts  # English names from CLDR, as the builder's checks use

    known = cldr_names().languages
    names = list(dict.fromkeys(known.get(parts(tag)[0], tag) for tag in languages))
    if len(names) == 1:
        return f"In {names[0]}."
    return f"In {names[0]}, with passages in {join(names[1:])}."


def people(release: Release) -> list[Field]:
    fields = []
    for name, roles in credits(release.edition):
        terms = [RELATORS.get(role, (role, ""))[0] for role in roles]
        codes = [code for role in roles if (code := RELATORS.get(role, ("", ""))[1])]
        subfields = [Subfield("a", f"{name},")]
        subfields += [Subfield("e", term + ("," if number < len(terms) - 1 else "."))
                      for number, term in enumerate(terms)]
        subfields += [Subfield("4", code) for code in codes]
        fields.append(Field("700", Indicators("0", " "), subfields))
    return fields


def link_field(item: Product) -> Field:
    return Field("856", Indicators("4", "0"), [Subfield("3", label(item)), Subfield("u", item.file_name),
                                               Subfield("q", item.media_type)])


def related(release: Release, others: Sequence[Product], relation: str, control_number: str) -> list[Field]:
    """776: the other record's form, title and control number (its 001)."""
    if not others:
        return []
    return [Field("776", Indicators("0", "8"), [Subfield("i", f"{relation}:"),
                                                Subfield("t", release.edition.full_title),
                                                Subfield("w", control_number)])]


def hhmmss(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}{whole % 3600 // 60:02d}{whole % 60:02d}"


def playing_time(seconds: float) -> str:
    whole = round(seconds)
    hours, minutes, rest = whole // 3600, whole % 3600 // 60, whole % 60
    parts = ([f"{hours} hr."] if hours else []) + ([f"{minutes} min."] if minutes else []) + [f"{rest} sec."]
    return ", ".join(parts)


def join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
