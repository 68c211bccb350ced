"""ONIX for Books 3.1 and 3.0: one <Product> per product the build writes, accessibility from the one model.

The claims are the EPUB's own schema.org accessibility metadata (`AccessibilityMetadata`), carried into
ONIX List 196 through the W3C crosswalk (Schema.org Accessibility Properties to ONIX): each feature to its
code, the conformance claim to 04 + 82 + 85, the certifier to 90, the build's date to 91, the summary to 00,
hazards to List 143. The same message is written in both releases: ONIX 3.1 is current, 3.0 is what many
recipients still take; they differ only in namespace and release here (nothing we send changed between them).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from lxml import etree

from builder.book.accessibility import CONFORMS_TO, AccessibilityMetadata
from builder.distribution.products import Kind, Product, Release, bibliographic_language, credits

VERSIONS = ("3.1", "3.0")
NAMESPACE = "http://ns.editeur.org/onix/{version}/reference"
PROPRIETARY_ID = "Edition builder product"  # IDTypeName of our own product identifiers (ProductIDType 01)

# schema.org accessibilityFeature → ONIX List 196 (W3C crosswalk). Features without an ONIX code are left out.
FEATURES = {
    "tableOfContents": "11",
    "index": "12",
    "readingOrder": "13",
    "alternativeText": "14",
    "longDescription": "15",
    "MathML": "17",
    "chemML": "18",
    "printPageNumbers": "19",
    "synchronizedAudioText": "20",
    "ttsMarkup": "21",
    "highContrastDisplay": "26",
    "structuralNavigation": "29",
    "ARIA": "30",
    "displayTransformability": "36",
    "pageNavigation": "41",
    "describedMath": "53",
}
# dcterms:conformsTo → List 196: the specification, the WCAG version, the level.
CONFORMANCE = {CONFORMS_TO: ("04", "82", "85")}
# schema.org accessibilityHazard → List 143.
HAZARDS = {
    "none": "00",
    "flashing": "13", "noFlashingHazard": "14",
    "sound": "15", "noSoundHazard": "16",
    "motionSimulation": "17", "noMotionSimulationHazard": "18",
    "unknownFlashingHazard": "24", "unknownSoundHazard": "25", "unknownMotionSimulationHazard": "26",
}
ROLES = {"author": "A01", "editor": "B01", "interviewer": "A43", "interviewee": "A44", "compiler": "C01",
         "transcriber": "B33"}
SYNTHESISED_VOICE = "07"  # List 19: synthesised voice, unspecified
DESCRIPTIONS = {
    Kind.EPUB: "EPUB 3 e-book",
    Kind.NARRATED_EPUB: "EPUB 3 e-book with synchronised narration (Media Overlays)",
    Kind.AUDIOBOOK: "Audiobook: one MP3 per article and the whole edition as one MP3 with chapters",
    Kind.DAISY: "DAISY 2.02 talking book, full text and full audio",
    Kind.M4B: "Audiobook: AAC in MP4 (M4B) with chapters",
}


def file_name(slug: str, version: str) -> str:
    return f"{slug}-onix.xml" if version == VERSIONS[0] else f"{slug}-onix-{version}.xml"


def write(release: Release, folder: Path) -> list[str]:
    names = []
    for version in VERSIONS:
        name = file_name(release.edition.slug, version)
        (folder / name).write_bytes(message(release, version))
        names.append(name)
    return names


def message(release: Release, version: str = VERSIONS[0]) -> bytes:
    namespace = NAMESPACE.format(version=version)
    root = etree.Element(f"{{{namespace}}}ONIXMessage", nsmap={None: namespace}, release=version)
    header = sub(root, "Header")
    sub(sub(header, "Sender"), "SenderName", release.edition.publisher)
    sub(header, "SentDateTime", release.modified.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    for item in release.products:
        product(release, item, sub(root, "Product"))
    for element in root.iterdescendants():
        element.tag = f"{{{namespace}}}{element.tag}"  # built plain, all in the message's one namespace
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def product_id(release: Release, item: Product) -> str:
    """Our product number (the record reference too): the edition's identifier and the product's key."""
    return f"{release.edition.identifier}#{item.key}"


def identifiers(parent: etree._Element, release: Release, item: Product) -> None:
    """Our own product number (the edition has no ISBN), and the URN the product carries inside, if any."""
    proprietary = sub(parent, "ProductIdentifier")
    sub(proprietary, "ProductIDType", "01")
    sub(proprietary, "IDTypeName", PROPRIETARY_ID)
    sub(proprietary, "IDValue", product_id(release, item))
    if item.identifier.startswith("urn:"):
        urn = sub(parent, "ProductIdentifier")
        sub(urn, "ProductIDType", "22")  # URN: the EPUB's own dc:identifier
        sub(urn, "IDValue", item.identifier)


def product(release: Release, item: Product, element: etree._Element) -> None:
    sub(element, "RecordReference", product_id(release, item))
    sub(element, "NotificationType", "03")  # confirmed on publication
    sub(element, "RecordSourceType", "01")  # the publisher
    identifiers(element, release, item)
    descriptive(release, item, sub(element, "DescriptiveDetail"))
    collateral(release, sub(element, "CollateralDetail"))
    if item.form.text:
        contents(release, sub(element, "ContentDetail"))
    publishing(release, sub(element, "PublishingDetail"))
    others = [other for other in release.products if other is not item]
    if others:
        material = sub(element, "RelatedMaterial")
        for other in others:
            related = sub(material, "RelatedProduct")
            sub(related, "ProductRelationCode", "06")  # alternative format
            identifiers(related, release, other)


def descriptive(release: Release, item: Product, element: etree._Element) -> None:
    edition, form = release.edition, item.form
    sub(element, "ProductComposition", "00")  # a single-component retail product
    sub(element, "ProductForm", form.onix_form)
    for detail in form.onix_details:
        sub(element, "ProductFormDetail", detail)
    if form.epub_version:
        feature(element, "15", form.epub_version)
    for value, description in accessibility_features(item.accessibility, release):
        feature(element, "09", value, description)
    for value in hazards(item.accessibility):
        feature(element, "12", value)
    description = DESCRIPTIONS[item.kind] + (f", {item.profile} profile" if item.profile != "standard" else "")
    sub(element, "ProductFormDescription", description)
    for content in content_types(item):
        sub(element, "PrimaryContentType" if content is content_types(item)[0] else "ProductContentType", content)
    if item.kind in (Kind.EPUB, Kind.NARRATED_EPUB):
        sub(element, "EpubTechnicalProtection", "00")  # no DRM
    title = sub(element, "TitleDetail")
    sub(title, "TitleType", "01")
    title_element = sub(title, "TitleElement")
    sub(title_element, "TitleElementLevel", "01")
    sub(title_element, "TitleText", edition.title)
    if edition.subtitle:
        sub(title_element, "Subtitle", edition.subtitle)
    contributors(release, item, element)
    if edition.edition:
        sub(element, "EditionStatement", edition.edition)
    for code in dict.fromkeys(bibliographic_language(language) for language in release.languages):
        entry = sub(element, "Language")
        sub(entry, "LanguageRole", "01")  # language of the text (of an audiobook: of the spoken words)
        sub(entry, "LanguageCode", code)
    if item.duration is not None:
        extent = sub(element, "Extent")
        sub(extent, "ExtentType", "09")  # duration
        sub(extent, "ExtentValue", hhhmmss(item.duration))
        sub(extent, "ExtentUnit", "16")  # HHHMMSS


def feature(parent: etree._Element, kind: str, value: str, description: str = "") -> None:
    element = sub(parent, "ProductFormFeature")
    sub(element, "ProductFormFeatureType", kind)
    sub(element, "ProductFormFeatureValue", value)
    if description:
        sub(element, "ProductFormFeatureDescription", description)


def accessibility_features(claims: AccessibilityMetadata, release: Release) -> list[tuple[str, str]]:
    """List 196 codes (with a description where the code needs one), in the order of the code list."""
    codes: dict[str, str] = {"00": claims.summary}
    for code in CONFORMANCE.get(claims.conforms_to, ()):
        codes[code] = ""
    for name in claims.features:
        if name in FEATURES:
            codes[FEATURES[name]] = ""
    if claims.language_tagged:
        codes["22"] = ""
    sufficient = {frozenset(mode.split(",")) for mode in claims.access_modes_sufficient}
    if frozenset({"auditory"}) in sufficient:
        codes["51"] = ""  # all non-decorative content can be read through the (synthesised, pre-recorded) audio
    if frozenset({"textual"}) in sufficient:
        codes["52"] = ""  # all of it can be read without sight
    if claims.certified_by:
        codes["90"] = claims.certified_by
        codes["91"] = release.modified.astimezone(UTC).strftime("%Y%m%d")
    return sorted(codes.items())


def hazards(claims: AccessibilityMetadata) -> list[str]:
    return sorted({HAZARDS[name] for name in claims.hazards if name in HAZARDS})


def content_types(item: Product) -> tuple[str, ...]:
    """List 81: text, audiobook, or both (the narrated EPUB, the DAISY book)."""
    return ("10", "01") if item.form.text and item.form.audio else ("10",) if item.form.text else ("01",)


def contributors(release: Release, item: Product, element: etree._Element) -> None:
    number = 0
    for number, (name, roles) in enumerate(credits(release.edition), start=1):
        contributor = sub(element, "Contributor")
        sub(contributor, "SequenceNumber", str(number))
        for role in roles:
            sub(contributor, "ContributorRole", ROLES.get(role, "Z99"))
        sub(contributor, "PersonName", name)
    for sequence, narrator in enumerate(item.narrators.names, start=number + 1):  # each synthetic voice
        contributor = sub(element, "Contributor")
        sub(contributor, "SequenceNumber", str(sequence))
        sub(contributor, "ContributorRole", "E07")  # read by
        sub(contributor, "UnnamedPersons", SYNTHESISED_VOICE)
        sub(contributor, "BiographicalNote", narrator)


def contents(release: Release, element: etree._Element) -> None:
    """Block 3: each article a content item, with its title, its contributors and its print start page."""
    for number, article in enumerate(release.edition.articles, start=1):
        item = sub(element, "ContentItem")
        sub(item, "LevelSequenceNumber", str(number))
        text = sub(item, "TextItem")
        sub(text, "TextItemType", "03")  # body matter
        if article.page_label.isdigit():
            sub(sub(text, "PageRun"), "FirstPageNumber", article.page_label)
        sub(item, "ComponentTypeName", "Article")
        title = sub(item, "TitleDetail")
        sub(title, "TitleType", "01")
        title_element = sub(title, "TitleElement")
        sub(title_element, "TitleElementLevel", "04")  # a content item
        sub(title_element, "TitleText", article.title)
        if article.subtitle:
            sub(title_element, "Subtitle", article.subtitle)
        for sequence, author in enumerate(article.authors, start=1):
            contributor = sub(item, "Contributor")
            sub(contributor, "SequenceNumber", str(sequence))
            sub(contributor, "ContributorRole", ROLES.get(author.role, "Z99"))
            sub(contributor, "PersonName", author.name)


def collateral(release: Release, element: etree._Element) -> None:
    if release.edition.description:
        text = sub(element, "TextContent")
        sub(text, "TextType", "03")  # description
        sub(text, "ContentAudience", "00")  # unrestricted
        sub(text, "Text", release.edition.description)


def publishing(release: Release, element: etree._Element) -> None:
    edition = release.edition
    publisher = sub(element, "Publisher")
    sub(publisher, "PublishingRole", "01")
    sub(publisher, "PublisherName", edition.publisher)
    sub(element, "PublishingStatus", "04")  # active
    date = sub(element, "PublishingDate")
    sub(date, "PublishingDateRole", "01")  # publication date
    sub(date, "Date", edition.date.replace("-", ""))


def hhhmmss(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:03d}{whole % 3600 // 60:02d}{whole % 60:02d}"
