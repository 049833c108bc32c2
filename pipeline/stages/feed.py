"""The show's RSS feed, built from the catalogue of published episodes' entries (item.json)."""

from __future__ import annotations

import datetime as dt
import uuid

from feedgen.feed import FeedGenerator

from ..model import Show

FEED_FILE = "feed.xml"


def feed_url(show: Show) -> str:
    return f"{show.base_url}/{FEED_FILE}"


def episode_guid(show: Show, slug: str) -> str:
    """A GUID for an episode's first publication; later runs keep the published one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{show.base_url}/{slug}"))


def _published_at(item: dict) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(item["date"]), dt.time(6, 0), dt.timezone.utc)


def build_feed(show: Show, items: list[dict]) -> bytes:
    """RSS 2.0 with the iTunes tags; episodes newest first, drafts left out."""
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(show.title)
    fg.description(show.description)
    fg.language(show.language)
    fg.link(href=show.base_url + "/", rel="alternate")
    fg.link(href=feed_url(show), rel="self")
    fg.author(name=show.author, email=show.owner_email)
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.owner_name, email=show.owner_email)
    fg.podcast.itunes_category(show.category, show.subcategory)
    fg.podcast.itunes_explicit("yes" if show.explicit else "no")
    if show.artwork:
        fg.podcast.itunes_image(f"{show.base_url}/{show.artwork.name}")
    published = sorted((i for i in items if not i.get("draft")), key=_published_at)
    for item in published:  # feedgen prepends each entry, so oldest first gives newest first
        entry = fg.add_entry()
        entry.guid(item["guid"], permalink=False)
        entry.title(item["title"])
        entry.link(href=item["link"])
        entry.description(item["description_html"] or item["title"])
        entry.enclosure(item["audio_url"], str(item["audio_length"]), item["audio_type"])
        entry.pubDate(_published_at(item))
        entry.podcast.itunes_duration(item["duration"])
        entry.podcast.itunes_episode(item["number"])
    return fg.rss_str(pretty=True)
