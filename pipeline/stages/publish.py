"""Publish stage: the rendered episode to its destination, then the feed with every episode."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PipelineError
from ..feed_check import ensure_publishable
from ..model import Show
from ..targets import Target
from .feed import FEED_FILE, build_feed, episode_guid, feed_url
from .render import ITEM_FILE, RenderedEpisode, render_index

INDEX_FILE = "index.html"


@dataclass
class Publication:
    destination: str
    feed_url: str
    sent: list[str]  # files that changed and were sent (in a dry run: would be), in that order
    episodes_in_feed: int
    deleted: list[str] = field(default_factory=list)  # --prune: published files the site dropped
    dry_run: bool = False


def _read_items(target: Target, names: list[str]) -> list[dict]:
    # One request per episode on a bucket: read them side by side.
    with ThreadPoolExecutor(max_workers=8) as pool:
        return [json.loads(data) for data in pool.map(target.read, names) if data is not None]


def publish(
    show: Show,
    rendered: RenderedEpisode,
    site: Path,
    target: Target,
    destination: str,
    *,
    dry_run: bool = False,
    prune: bool = False,
) -> Publication:
    slug = rendered.item["slug"]
    own_item = f"{slug}/{ITEM_FILE}"
    previous = target.read(own_item)
    # The GUID is the episode's identity in every listener's app: once published, it stays.
    guid = json.loads(previous)["guid"] if previous else episode_guid(show, slug)
    item = {**rendered.item, "guid": guid}
    (site / own_item).write_text(json.dumps(item, ensure_ascii=False, indent=1), encoding="utf-8")

    catalogue = _read_items(target, [name for name in target.names(ITEM_FILE) if name != own_item])
    feed = build_feed(show, [*catalogue, item])
    ensure_publishable(feed, feed_url(show))  # before any file is put: a refused feed changes nothing

    files = {name: site / name for name in rendered.files}
    (site / INDEX_FILE).write_bytes(render_index(show, [*catalogue, item]))
    files[INDEX_FILE] = site / INDEX_FILE
    if show.artwork:
        shutil.copyfile(show.artwork, site / show.artwork.name)
        files[show.artwork.name] = site / show.artwork.name
    (site / FEED_FILE).write_bytes(feed)
    files[FEED_FILE] = site / FEED_FILE
    # The episode's files first; then its item.json, which adds it to the catalogue that other
    # episodes' feeds are built from; then the home page and the feed that point at them all.
    last = [own_item, INDEX_FILE, FEED_FILE]
    files = {name: path for name, path in files.items() if name not in last} | {n: files[n] for n in last}
    sent = target.changed(files)
    # Only this episode's folder: the other episodes' files are not in this build's site.
    deleted = [n for n in target.names() if n.startswith(f"{slug}/") and n not in files] if prune else []
    if not dry_run:
        try:
            target.put({name: files[name] for name in sent})
        except PipelineError as error:
            raise PipelineError(error.where, f"{error.message}; the feed was left as it was, "
                                "run the same command again to finish") from None
        target.delete(deleted)  # after the feed: the old one may still have pointed at them
    return Publication(
        destination=destination,
        feed_url=feed_url(show),
        sent=sent,
        episodes_in_feed=sum(1 for i in [*catalogue, item] if not i.get("draft")),
        deleted=deleted,
        dry_run=dry_run,
    )
