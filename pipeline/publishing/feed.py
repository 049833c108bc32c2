"""The show's RSS feed, built from the catalogue of published episodes' entries (catalogue.json).

RSS 2.0 with the iTunes tags (feedgen's podcast extension) and the Podcasting 2.0 ones
(pipeline/publishing/podcast20.py). The output depends on the items alone, not on the clock (even
lastBuildDate is the newest episode's date), so the same catalogue gives the same bytes and
publishing one episode leaves every other episode's <item> byte-identical.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid

import lxml.etree  # noqa: F401  (before feedgen: feedgen.util uses lxml.etree without importing it)
from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml.etree import CDATA, _Element

from pipeline.model import FeedEntry, Show
from pipeline.publishing.podcast20 import (
    Podcast20EntryExtension,
    Podcast20Extension,
    podcast_guid,
)
from pipeline.rendering.layout import FEED_FILE

ITUNES_NAMESPACE = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def feed_url(show: Show) -> str:
    return f"{show.base_url}/{FEED_FILE}"


def episode_guid(show: Show, slug: str) -> str:
    """A GUID for an episode's first publication; later runs keep the published one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{show.base_url}/{slug}"))


def _add_explicit(parent: _Element, explicit: bool | None) -> None:
    if explicit is not None:
        xml_elem(f"{{{ITUNES_NAMESPACE}}}explicit", parent).text = "true" if explicit else "false"


class _Itunes(PodcastExtension):
    """feedgen's iTunes channel tags, with itunes:explicit written true/false as Apple now
    asks (feedgen only knows the older yes/no/clean)."""

    explicit: bool | None = None

    def extend_rss(self, rss_feed: _Element) -> _Element:
        _add_explicit(super().extend_rss(rss_feed)[0], self.explicit)
        return rss_feed


class _ItunesEntry(PodcastEntryExtension):
    explicit: bool | None = None  # None: the episode inherits the show's

    def extend_rss(self, entry: _Element) -> _Element:
        _add_explicit(super().extend_rss(entry), self.explicit)
        return entry


def _published_at(item: FeedEntry) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(item.date), dt.time(6, 0), dt.timezone.utc)


def _newest_first(items: list[FeedEntry]) -> list[FeedEntry]:
    published = [item for item in items if not item.draft]
    return sorted(published, key=lambda i: (_published_at(i), i.number), reverse=True)


def artwork_url(show: Show) -> str | None:
    return f"{show.base_url}/{show.artwork.name}" if show.artwork else None


def _add_item(fg: FeedGenerator, show: Show, item: FeedEntry) -> None:
    entry = fg.add_entry(order="append")
    entry.guid(item.guid, permalink=False)
    entry.title(item.title)
    entry.link(href=item.link)
    # A title is text, the description HTML: a title standing in for it must be escaped.
    description = item.description_html or f"<p>{html.escape(item.title)}</p>"
    # lxml writes a CDATA object as a CDATA section: Apple reads HTML only inside one.
    entry.description(CDATA(description))
    entry.content(description, type="CDATA")
    entry.enclosure(item.audio_url, str(item.audio_length), item.audio_type)
    entry.pubDate(_published_at(item))
    entry.podcast.itunes_duration(item.duration)
    entry.podcast.itunes_episode(item.number)
    entry.podcast.itunes_episode_type(item.episode_type)
    if item.season:
        entry.podcast.itunes_season(item.season)
    # Apple asks each item for its own explicit flag and image; they default to the show's.
    entry.podcast.explicit = show.explicit if item.explicit is None else item.explicit
    if item.image_url or show.artwork:
        entry.podcast.itunes_image(item.image_url or artwork_url(show))
    if item.season:
        entry.podcast20.season(item.season)
    entry.podcast20.episode(item.number)
    for transcript in item.transcripts:
        entry.podcast20.transcript(transcript.url, transcript.type, transcript.language, transcript.rel)
    for person in item.persons:
        entry.podcast20.person(person.name, person.role, person.href, person.img)
    if item.chapters_url:
        entry.podcast20.chapters(item.chapters_url)


def build_feed(show: Show, items: list[FeedEntry]) -> bytes:
    """The feed of every published episode, newest first; drafts are left out."""
    fg = FeedGenerator()
    fg.register_extension("podcast", _Itunes, _ItunesEntry)
    fg.register_extension("podcast20", Podcast20Extension, Podcast20EntryExtension)
    fg.title(show.title)
    fg.description(show.description)
    fg.language(show.language)
    fg.link(href=feed_url(show), rel="self", type="application/rss+xml")
    fg.link(href=show.base_url + "/", rel="alternate")  # last: feedgen's <link> is the last one
    fg.author(name=show.author, email=show.owner_email)
    fg.copyright(show.copyright or f"© {show.author}")
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner_name, email=show.owner_email)
    fg.podcast.itunes_category(show.category, show.subcategory)
    fg.podcast.itunes_type(show.show_type)
    fg.podcast.explicit = show.explicit
    if show.artwork:
        fg.podcast.itunes_image(artwork_url(show))
        fg.image(artwork_url(show), title=show.title, link=show.base_url + "/")
    # The show's identity across hosts: set podcast_guid in the show file before a move.
    fg.podcast20.guid(show.podcast_guid or podcast_guid(feed_url(show)))
    fg.podcast20.locked(show.locked, owner=show.owner_email)
    for link in show.funding:
        fg.podcast20.funding(link.url, link.label)
    if show.verify:
        fg.podcast20.txt(show.verify, "verify")
    fg.podcast20.person(show.host, "host", show.host_href, show.host_img)

    episodes = _newest_first(items)
    if episodes:
        fg.lastBuildDate(_published_at(episodes[0]))
    for item in episodes:
        _add_item(fg, show, item)
    return fg.rss_str(pretty=True)
