"""A feedgen extension for the Podcasting 2.0 namespace, which feedgen does not ship.

Channel: podcast:guid, podcast:locked, podcast:funding, podcast:txt, podcast:person. Item:
podcast:season, podcast:episode, podcast:transcript, podcast:person, podcast:chapters. Register it on a FeedGenerator with
`fg.register_extension("podcast20", Podcast20Extension, Podcast20EntryExtension)`, then set
the tags through `fg.podcast20` and `entry.podcast20`.
Spec: https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem
from lxml.etree import _Element

from pipeline.rendering.layout import CHAPTERS_TYPE

NAMESPACE = "https://podcastindex.org/namespace/1.0"  # the URI PSP-1 requires, verbatim
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # the spec's "podcast" namespace


def podcast_guid(feed_url: str) -> str:
    """The show's podcast:guid: a UUIDv5 of its feed URL, scheme and trailing slashes removed."""
    seed = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(GUID_NAMESPACE, seed))


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


@dataclass
class _Person:
    name: str
    role: str
    href: str | None = None
    img: str | None = None


def _add_persons(parent: _Element, persons: list[_Person]) -> None:
    for person in persons:
        attributes = {"role": person.role, "href": person.href, "img": person.img}
        xml_elem(_tag("person"), parent, **{k: v for k, v in attributes.items() if v}).text = person.name


class Podcast20Extension(BaseExtension):
    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str | None] | None = None
        self._persons: list[_Person] = []
        self._funding: list[tuple[str, str]] = []
        self._txt: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": NAMESPACE}

    def funding(self, url: str, label: str) -> None:
        """A page where listeners support the show (Tipeee, HelloAsso, Patreon…)."""
        self._funding.append((url, label))

    def txt(self, text: str, purpose: str | None = None) -> None:
        """Free text; purpose="verify" carries the token a platform asks for to prove ownership."""
        self._txt.append((text, purpose))

    def guid(self, value: str) -> None:
        self._guid = value

    def locked(self, locked: bool, owner: str | None = None) -> None:
        """locked=True asks hosting platforms to refuse importing the feed; owner is the
        email that proves ownership when the show moves."""
        self._locked = (locked, owner)

    def person(self, name: str, role: str = "host", href: str | None = None, img: str | None = None) -> None:
        self._persons.append(_Person(name, role, href, img))

    def extend_rss(self, rss_feed: _Element) -> _Element:
        channel = rss_feed[0]
        if self._guid:
            xml_elem(_tag("guid"), channel).text = self._guid
        if self._locked is not None:
            locked, owner = self._locked
            element = xml_elem(_tag("locked"), channel)
            element.text = "yes" if locked else "no"
            if owner:
                element.attrib["owner"] = owner
        for url, label in self._funding:
            xml_elem(_tag("funding"), channel, url=url).text = label
        for text, purpose in self._txt:
            xml_elem(_tag("txt"), channel, **({"purpose": purpose} if purpose else {})).text = text
        _add_persons(channel, self._persons)
        return rss_feed


class Podcast20EntryExtension(BaseEntryExtension):
    def __init__(self) -> None:
        self._transcripts: list[dict[str, str]] = []
        self._persons: list[_Person] = []
        self._chapters: str | None = None
        self._season: int | None = None
        self._episode: int | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": NAMESPACE}

    def transcript(
        self, url: str, type: str, language: str | None = None, rel: str | None = None
    ) -> None:
        """rel="captions" says the file carries timecodes (VTT, SRT, timed JSON)."""
        attributes = {"url": url, "type": type, "language": language, "rel": rel}
        self._transcripts.append({k: v for k, v in attributes.items() if v})

    def person(self, name: str, role: str = "host", href: str | None = None, img: str | None = None) -> None:
        """An item's persons replace the channel's, so list the host here too."""
        self._persons.append(_Person(name, role, href, img))

    def season(self, number: int) -> None:
        self._season = number

    def episode(self, number: int) -> None:
        self._episode = number

    def chapters(self, url: str) -> None:
        self._chapters = url

    def extend_rss(self, entry: _Element) -> _Element:
        if self._season is not None:
            xml_elem(_tag("season"), entry).text = str(self._season)
        if self._episode is not None:
            xml_elem(_tag("episode"), entry).text = str(self._episode)
        for attributes in self._transcripts:
            xml_elem(_tag("transcript"), entry, **attributes)
        _add_persons(entry, self._persons)
        if self._chapters:
            xml_elem(_tag("chapters"), entry, url=self._chapters, type=CHAPTERS_TYPE)
        return entry
