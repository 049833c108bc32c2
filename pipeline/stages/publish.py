"""Publish stage: the rendered episode to its destination, then the feed with every episode."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..model import Show
from ..targets import Target
from .feed import FEED_FILE, build_feed, episode_guid, feed_url
from .render import ITEM_FILE, RenderedEpisode


@dataclass
class Publication:
    destination: str
    feed_url: str
    sent: list[str]  # files that changed and were sent
    episodes_in_feed: int


def publish(
    show: Show, rendered: RenderedEpisode, site: Path, target: Target, destination: str
) -> Publication:
    slug = rendered.item["slug"]
    own_item = f"{slug}/{ITEM_FILE}"
    previous = target.read(own_item)
    # The GUID is the episode's identity in every listener's app: once published, it stays.
    guid = json.loads(previous)["guid"] if previous else episode_guid(show, slug)
    item = {**rendered.item, "guid": guid}
    (site / own_item).write_text(json.dumps(item, ensure_ascii=False, indent=1), encoding="utf-8")

    catalogue = [json.loads(target.read(name)) for name in target.names(ITEM_FILE) if name != own_item]
    feed = build_feed(show, [*catalogue, item])

    files = {name: site / name for name in rendered.files}
    if show.artwork:
        shutil.copyfile(show.artwork, site / show.artwork.name)
        files[show.artwork.name] = site / show.artwork.name
    sent = target.put(files)
    target.put_feed(FEED_FILE, feed)
    return Publication(
        destination=destination,
        feed_url=feed_url(show),
        sent=sent,
        episodes_in_feed=sum(1 for i in [*catalogue, item] if not i.get("draft")),
    )
