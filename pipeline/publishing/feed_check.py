"""Check a podcast feed against the rules Apple Podcasts and PSP-1 (Podcasting 2.0) publish.

Run before anything is published (publishing/publish.py) and by `publish feed --check`.
Errors are what makes a directory or an app refuse or misread the show; warnings are the
recommended tags that are missing or deprecated values still accepted. The rules are listed in
/work/shared/research/podcast-publishing.md, section 2; the server-side ones (byte ranges, HEAD,
artwork pixels) need the files served and are not checked here.
"""

from __future__ import annotations

import email.utils
import logging
import re
import uuid
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlparse

from lxml import etree

from pipeline.config import EPISODE_TYPES
from pipeline.errors import PipelineError
from pipeline.publishing.feed import ITUNES_NAMESPACE
from pipeline.publishing.podcast20 import NAMESPACE as PODCAST_NAMESPACE
from pipeline.rendering.layout import CHAPTERS_TYPE

ITUNES = ITUNES_NAMESPACE
PODCAST = PODCAST_NAMESPACE
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}

MAX_TEXT = 255  # characters, for any value the specs do not give another limit
MAX_DESCRIPTION = 4000  # bytes
MAX_PERSON = 128
MAX_FUNDING = 128  # characters of a podcast:funding label
MAX_TXT = 4000  # characters of a podcast:txt
SHOW_TYPES = ("episodic", "serial")
APPLE_CATEGORIES = {
    "Arts", "Business", "Comedy", "Education", "Fiction", "Government", "Health & Fitness",
    "History", "Kids & Family", "Leisure", "Music", "News", "Religion & Spirituality", "Science",
    "Society & Culture", "Sports", "Technology", "True Crime", "TV & Film",
}
MEDIA_TYPES = {  # Apple's accepted enclosure types, by the file extension they go with
    ".m4a": "audio/x-m4a", ".mp3": "audio/mpeg", ".mov": "video/quicktime",
    ".mp4": "video/mp4", ".m4v": "video/x-m4v", ".pdf": "application/pdf",
}
TRANSCRIPT_TYPES = {"text/plain", "text/html", "text/vtt", "application/json", "application/x-subrip"}
ARTWORK_EXTENSIONS = {".jpg", ".jpeg", ".png"}
RFC2822_DATE = re.compile(
    r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(?::\d{2})? (?:[+-]\d{4}|GMT|UT|[A-Z]{3})$"
)
DURATION = re.compile(r"^(?:\d+|(?:\d+:)?[0-5]?\d:[0-5]\d)$")  # seconds, or [H:]MM:SS
NUMBER_IN_TITLE = re.compile(r"(?i)\b(?:episode|épisode|ep)\.?\s*\d+|#\s*\d+|\bS\d+E\d+\b")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$")  # ISO 639, optional region

log = logging.getLogger("publish.feed")  # a child of the CLI's "publish" logger


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    rule: str
    message: str
    where: str  # "feed", "channel", or the item: "item 2 'Its title'"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.rule}]"


@dataclass
class _Report:
    findings: list[Finding] = field(default_factory=list)

    def error(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding("error", rule, message, where))

    def warning(self, rule: str, where: str, message: str) -> None:
        self.findings.append(Finding("warning", rule, message, where))

    def url(self, url: str | None, where: str, what: str) -> None:
        parts = urlparse(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.error("absolute-url", where, f"{what} '{url}' is not an absolute http(s) URL")

    def text(self, value: str | None, where: str, what: str, limit: int = MAX_TEXT) -> None:
        if value is None:
            return
        if len(value) > limit:
            self.error("length", where, f"{what} is {len(value)} characters; the limit is {limit}")
        if value != value.strip():
            self.warning("whitespace", where, f"{what} has leading or trailing spaces")


def _text(parent: etree._Element, path: str) -> str | None:
    element = parent.find(path, NS)
    return element.text if element is not None else None


def _item_name(index: int, item: etree._Element) -> str:
    return f"item {index} '{_text(item, 'title') or _text(item, 'guid')}'"


def _explicit(report: _Report, value: str | None, where: str) -> None:
    if value in ("true", "false"):
        return
    if value in ("yes", "no", "clean"):
        report.warning("explicit", where, f"itunes:explicit '{value}': Apple now wants true or false")
    else:
        report.error("explicit", where, f"itunes:explicit is '{value}'; use true or false")


def check_feed(data: bytes, expected_url: str | None = None) -> list[Finding]:
    """The feed's findings, errors first; `expected_url` is where the feed will be served."""
    report = _Report()
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:  # also catches stray content after the document
        report.error("xml", "feed", f"not well-formed XML: {exc}")
        return report.findings
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        report.error("rss", "feed", "not an RSS 2.0 document (<rss version=\"2.0\"><channel>)")
        return report.findings
    encoding = root.getroottree().docinfo.encoding
    if encoding.upper() != "UTF-8":
        report.error("encoding", "feed", f"encoded as {encoding}; podcast apps expect UTF-8")
    declared = set(root.nsmap.values())
    for prefix in ("itunes", "podcast", "atom"):
        if NS[prefix] not in declared:
            report.error("namespaces", "feed", f"the {prefix} namespace must be declared exactly as "
                         f"xmlns:{prefix}=\"{NS[prefix]}\"")
    _check_channel(report, channel, expected_url)
    items = channel.findall("item")
    for index, item in enumerate(items, start=1):
        _check_item(report, item, _item_name(index, item))
    _check_catalogue(report, channel, items)
    return sorted(report.findings, key=lambda f: f.severity != "error")


# The channel's rules and the item's, in the order their findings are reported.

def _channel_basics(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    where = "channel"
    for tag in ("title", "description", "language", "link"):
        if not (_text(channel, tag) or "").strip():
            report.error("required-channel", where, f"<{tag}> is missing or empty")
    report.text(_text(channel, "title"), where, "the title")
    report.text(_text(channel, "itunes:author"), where, "itunes:author")
    if len((_text(channel, "description") or "").encode("utf-8")) > MAX_DESCRIPTION:
        report.error("description-length", where, f"<description> is over {MAX_DESCRIPTION} bytes")
    language = _text(channel, "language")
    if language and not LANGUAGE.match(language):
        report.error("language", where, f"<language> '{language}' is not an ISO 639 code like 'fr'")
    if _text(channel, "link"):
        report.url(_text(channel, "link"), where, "<link>")


def _channel_self_link(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    self_link = channel.find("atom:link[@rel='self']", NS)
    if self_link is None:
        report.error("self-link", "channel", "<atom:link rel=\"self\"> is missing")
    elif expected_url and self_link.get("href") != expected_url:
        report.error("self-link", "channel",
                     f"atom:link rel=self is '{self_link.get('href')}', the feed is served at {expected_url}")


def _channel_image(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    where = "channel"
    image = channel.find("itunes:image", NS)
    if image is None or not image.get("href"):
        report.error("image", where, "itunes:image is missing: set 'artwork' in the show file "
                     "(a .jpg or .png, 1400 to 3000 px square)")
        return
    report.url(image.get("href"), where, "itunes:image")
    if PurePosixPath(urlparse(image.get("href")).path).suffix.lower() not in ARTWORK_EXTENSIONS:
        report.error("image", where, "itunes:image must be a .jpg or .png file")


def _channel_category(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    category = channel.find("itunes:category", NS)
    if category is None:
        report.error("category", "channel", "itunes:category is missing")
    elif category.get("text") not in APPLE_CATEGORIES:
        report.error("category", "channel", f"itunes:category '{category.get('text')}' is not one of "
                     "Apple's categories")
    _explicit(report, _text(channel, "itunes:explicit"), "channel")


def _channel_owner(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    where = "channel"
    owner_name = _text(channel, "itunes:owner/itunes:name")
    owner_email = _text(channel, "itunes:owner/itunes:email")
    if not owner_name or not owner_email or not EMAIL.match(owner_email):
        report.error("owner", where, "itunes:owner needs a name and a valid email")
    if not _text(channel, "itunes:author"):
        report.warning("author", where, "itunes:author is missing")
    if _text(channel, "itunes:type") not in (None, "episodic", "serial"):
        report.error("type", where, "itunes:type must be episodic or serial")


def _parse_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if len(text) == 36 else None
    except ValueError:
        return None


def _channel_podcast_guid(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    where = "channel"
    guid = _text(channel, "podcast:guid")
    if guid is None:
        report.warning("podcast-guid", where, "podcast:guid is missing")
        return
    parsed = _parse_uuid(guid)
    if parsed is None:
        report.error("podcast-guid", where, f"podcast:guid '{guid}' is not a UUID")
    elif parsed.version != 5:
        report.warning("podcast-guid", where, f"podcast:guid is a version {parsed.version} UUID, not 5")


def _channel_locked(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    where = "channel"
    locked = channel.find("podcast:locked", NS)
    if locked is None:
        report.warning("locked", where, "podcast:locked is missing")
        return
    if locked.text not in ("yes", "no"):
        report.error("locked", where, f"podcast:locked is '{locked.text}'; use yes or no")
    if locked.get("owner") is not None and not EMAIL.match(locked.get("owner")):
        report.error("locked", where, f"podcast:locked owner '{locked.get('owner')}' is not an email")


def _channel_persons(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    for person in channel.findall("podcast:person", NS):
        _check_person(report, person, "channel")


def _channel_type(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    show_type = _text(channel, "itunes:type")
    if show_type is not None and show_type not in SHOW_TYPES:
        report.error("show-type", "channel", f"itunes:type '{show_type}' is not episodic or serial")


def _channel_funding_and_txt(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    for funding in channel.findall("podcast:funding", NS):
        report.url(funding.get("url"), "channel", "podcast:funding url")
        if not (funding.text or "").strip():
            report.error("funding", "channel", "podcast:funding has no label")
        report.text(funding.text, "channel", "podcast:funding", limit=MAX_FUNDING)
    for txt in channel.findall("podcast:txt", NS):
        if not (txt.text or "").strip():
            report.error("txt", "channel", "podcast:txt is empty")
        report.text(txt.text, "channel", "podcast:txt", limit=MAX_TXT)
        report.text(txt.get("purpose"), "channel", "podcast:txt purpose", limit=128)


CHANNEL_RULES = (
    _channel_basics, _channel_self_link, _channel_image, _channel_category, _channel_owner,
    _channel_podcast_guid, _channel_locked, _channel_persons, _channel_type, _channel_funding_and_txt,
)


def _check_channel(report: _Report, channel: etree._Element, expected_url: str | None) -> None:
    for rule in CHANNEL_RULES:
        rule(report, channel, expected_url)


def _item_title(report: _Report, item: etree._Element, where: str) -> None:
    title = _text(item, "title")
    if not (title or "").strip():
        report.error("required-item", where, "<title> is missing or empty")
        return
    report.text(title, where, "the title")
    if NUMBER_IN_TITLE.search(title):
        report.warning("title-number", where, "the title carries an episode number; "
                       "itunes:episode says it already")


def _item_guid_link_description(report: _Report, item: etree._Element, where: str) -> None:
    if not (_text(item, "guid") or "").strip():
        report.error("required-item", where, "<guid> is missing or empty")
    if _text(item, "link"):
        report.url(_text(item, "link"), where, "<link>")
    description = _text(item, "description")
    if description is None:
        report.warning("description", where, "<description> is missing")
    elif len(description.encode("utf-8")) > MAX_DESCRIPTION:
        report.error("description-length", where,
                     f"<description> is {len(description.encode('utf-8'))} bytes; the limit is "
                     f"{MAX_DESCRIPTION}: shorten the episode's notes.md")


def _item_enclosure(report: _Report, item: etree._Element, where: str) -> None:
    _check_enclosure(report, item.find("enclosure"), where)


def _item_pubdate(report: _Report, item: etree._Element, where: str) -> None:
    published = _text(item, "pubDate")
    if published is None:
        report.warning("pubdate", where, "<pubDate> is missing")
    elif not RFC2822_DATE.match(published) or email.utils.parsedate_tz(published) is None:
        report.error("pubdate", where, f"<pubDate> '{published}' is not an RFC 2822 date")


def _item_duration(report: _Report, item: etree._Element, where: str) -> None:
    duration = _text(item, "itunes:duration")
    if duration is None:
        report.warning("duration", where, "itunes:duration is missing")
    elif not DURATION.match(duration) or not any(c not in "0:" for c in duration):
        report.error("duration", where, f"itunes:duration '{duration}' is not a non-zero time "
                     "in seconds or [H:]MM:SS")


def _item_itunes(report: _Report, item: etree._Element, where: str) -> None:
    for tag in ("itunes:episode", "itunes:season", "podcast:season", "podcast:episode"):
        number = _text(item, tag)
        if number is not None and not (number.isdigit() and int(number) > 0):
            report.error("episode-number", where, f"{tag} '{number}' is not a non-zero whole number")
    episode_type = _text(item, "itunes:episodeType")
    if episode_type is not None and episode_type not in EPISODE_TYPES:
        report.error("episode-type", where, f"itunes:episodeType '{episode_type}' is not one of "
                     f"{', '.join(sorted(EPISODE_TYPES))}")
    if item.find("itunes:explicit", NS) is not None:
        _explicit(report, _text(item, "itunes:explicit"), where)
    image = item.find("itunes:image", NS)
    if image is not None:
        report.url(image.get("href"), where, "itunes:image href")
        extension = PurePosixPath(urlparse(image.get("href") or "").path).suffix.lower()
        if extension not in ARTWORK_EXTENSIONS:
            report.error("artwork", where, f"itunes:image '{image.get('href')}' is not a .jpg or .png")


def _item_transcripts(report: _Report, item: etree._Element, where: str) -> None:
    for transcript in item.findall("podcast:transcript", NS):
        if not transcript.get("url") or not transcript.get("type"):
            report.error("transcript", where, "podcast:transcript needs both url and type")
            continue
        report.url(transcript.get("url"), where, "podcast:transcript url")
        if transcript.get("type") not in TRANSCRIPT_TYPES:
            report.warning("transcript", where, f"podcast:transcript type '{transcript.get('type')}' "
                           f"is not one apps know ({', '.join(sorted(TRANSCRIPT_TYPES))})")
        if transcript.get("rel") not in (None, "captions"):
            report.warning("transcript", where, "podcast:transcript rel can only be 'captions'")


def _item_chapters(report: _Report, item: etree._Element, where: str) -> None:
    chapters = item.find("podcast:chapters", NS)
    if chapters is not None:
        report.url(chapters.get("url"), where, "podcast:chapters url")
        if chapters.get("type") != CHAPTERS_TYPE:
            report.error("chapters", where, f"podcast:chapters type must be {CHAPTERS_TYPE}")


def _item_persons(report: _Report, item: etree._Element, where: str) -> None:
    for person in item.findall("podcast:person", NS):
        _check_person(report, person, where)


ITEM_RULES = (
    _item_title, _item_guid_link_description, _item_enclosure, _item_pubdate, _item_duration,
    _item_itunes, _item_transcripts, _item_chapters, _item_persons,
)


def _check_item(report: _Report, item: etree._Element, where: str) -> None:
    for rule in ITEM_RULES:
        rule(report, item, where)


def _check_enclosure(report: _Report, enclosure: etree._Element | None, where: str) -> None:
    if enclosure is None:
        report.error("required-item", where, "<enclosure> is missing")
        return
    url, length, media_type = enclosure.get("url"), enclosure.get("length"), enclosure.get("type")
    report.url(url, where, "the enclosure url")
    if not (length or "").isdigit() or int(length) == 0:
        report.error("enclosure", where, f"enclosure length '{length}' is not a size in bytes")
    extension = PurePosixPath(urlparse(url or "").path).suffix.lower()
    if media_type not in MEDIA_TYPES.values():
        report.error("enclosure", where, f"enclosure type '{media_type}' is not one Apple accepts")
    elif MEDIA_TYPES.get(extension) != media_type:
        report.error("enclosure-type", where,
                     f"enclosure type {media_type} does not match the file extension '{extension}'")


def _check_person(report: _Report, person: etree._Element, where: str) -> None:
    if not (person.text or "").strip():
        report.error("person", where, "podcast:person has no name")
    report.text(person.text, where, "podcast:person", limit=MAX_PERSON)
    for attribute in ("href", "img"):
        if person.get(attribute) is not None:
            report.url(person.get(attribute), where, f"podcast:person {attribute}")


def _check_catalogue(report: _Report, channel: etree._Element, items: list[etree._Element]) -> None:
    seen_guids: set[str] = set()
    seen_urls: set[str] = set()
    serial = _text(channel, "itunes:type") == "serial"
    for index, item in enumerate(items, start=1):
        where = _item_name(index, item)
        guid, enclosure = _text(item, "guid"), item.find("enclosure")
        if guid and guid in seen_guids:
            report.error("guid-unique", where, f"GUID '{guid}' is used by another episode")
        seen_guids.add(guid)
        url = enclosure.get("url") if enclosure is not None else None
        if url and url in seen_urls:
            report.error("enclosure-unique", where, f"the enclosure {url} is used by another episode; "
                         "apps ignore a URL they have seen")
        seen_urls.add(url)
        if serial and _text(item, "itunes:episode") is None:
            report.error("serial", where, "a serial show needs itunes:episode on every episode")


def ensure_publishable(data: bytes, feed_url: str) -> None:
    """Refuse a feed with errors (PipelineError naming it and its first errors); log warnings."""
    findings = check_feed(data, feed_url)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        shown = "; ".join(f"{f.where}: {f.message} [{f.rule}]" for f in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise PipelineError(feed_url, f"podcast apps would refuse this feed, nothing was published: "
                            f"{shown}{more}")
    for finding in findings:
        log.warning("%s: %s", feed_url, finding)
