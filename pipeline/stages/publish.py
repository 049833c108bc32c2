"""Publish stage: rendered episodes to their destination, then the show's catalogue, home page and feed.

The destination keeps the show's catalogue in `catalogue.json` at the site root: every published
episode's feed entry (render's item, plus the GUID publish gave it), keyed by slug. A publish
reads it once, updates the entries of the episodes it publishes, and builds the home page and
the feed from it: one request, however many episodes the show has.

Two publishes to one destination at once would each write a catalogue without the other's
episode. Nothing here locks: publishes are serialised where they run (the CI workflow's
`concurrency: publish` group; a producer runs one command at a time).
"""

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
from .render import RenderedEpisode, render_index

CATALOGUE_FILE = "catalogue.json"
INDEX_FILE = "index.html"
LEGACY_ITEM_FILE = "item.json"  # where each episode's entry was kept (<slug>/) before catalogue.json


@dataclass
class Publication:
    destination: str
    feed_url: str
    sent: list[str]  # files that changed and were sent (in a dry run: would be), in that order
    episodes_in_feed: int
    deleted: list[str] = field(default_factory=list)  # --prune: published files the sites dropped
    dry_run: bool = False


def read_catalogue(target: Target, destination: str) -> dict[str, dict]:
    """The published episodes' feed entries by slug; empty before the first publish."""
    data = target.read(CATALOGUE_FILE)
    if data is None:
        return _catalogue_from_item_files(target)
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        where = f"{destination.rstrip('/')}/{CATALOGUE_FILE}"
        raise PipelineError(where, f"not valid JSON ({error}): restore it, or delete it and "
                            "publish every episode again (--all)") from None


def _catalogue_from_item_files(target: Target) -> dict[str, dict]:
    """A site published before catalogue.json: its entries are in <slug>/item.json. Read once, side
    by side (one request each on a bucket); the catalogue this publish writes replaces them."""
    names = target.names(f"/{LEGACY_ITEM_FILE}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        items = [json.loads(data) for data in pool.map(target.read, names) if data is not None]
    return {item["slug"]: item for item in items}


def catalogue_json(catalogue: dict[str, dict]) -> bytes:
    """Sorted, so the same entries give the same bytes and an unchanged catalogue is not sent."""
    return json.dumps(catalogue, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


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
    """One rendered episode, from the site folder it was rendered into."""
    return publish_episodes(show, [(rendered, site)], target, destination, dry_run=dry_run, prune=prune)


def publish_episodes(
    show: Show,
    episodes: list[tuple[RenderedEpisode, Path]],
    target: Target,
    destination: str,
    *,
    dry_run: bool = False,
    prune: bool = False,
) -> Publication:
    """Rendered episodes, each with the site folder it was rendered into, in one go: one catalogue
    read and one comparison with the destination for them all. The show's own files (catalogue,
    home page, artwork, feed) are written into the first episode's site folder, then sent."""
    catalogue = read_catalogue(target, destination)
    files: dict[str, Path] = {}
    for rendered, site in episodes:
        slug = rendered.item["slug"]
        if rendered.item.get("draft"):
            # catalogue.json is public: a draft's title and audio URL must not be read there.
            catalogue.pop(slug, None)
        else:
            # The GUID is the episode's identity in every listener's app: once published, it stays.
            guid = catalogue[slug]["guid"] if slug in catalogue else episode_guid(show, slug)
            catalogue[slug] = {**rendered.item, "guid": guid}
        files |= {name: site / name for name in rendered.files}

    items = list(catalogue.values())
    feed = build_feed(show, items)
    ensure_publishable(feed, feed_url(show))  # before any file is put: a refused feed changes nothing

    # The episodes' files first; then the catalogue that lists them, and the home page and the
    # feed that point at them: a listener never sees a feed entry whose files are not there yet.
    site = episodes[0][1]
    if show.artwork:
        shutil.copyfile(show.artwork, site / show.artwork.name)
        files[show.artwork.name] = site / show.artwork.name
    for name, data in [(CATALOGUE_FILE, catalogue_json(catalogue)),
                       (INDEX_FILE, render_index(show, items)), (FEED_FILE, feed)]:
        (site / name).write_bytes(data)
        files[name] = site / name

    sent = target.changed(files)
    # Only the published episodes' folders: the other episodes' files are not in these sites.
    folders = {rendered.item["slug"] for rendered, _ in episodes}
    deleted = [
        n for n in target.names() if "/" in n and n.split("/", 1)[0] in folders and n not in files
    ] if prune else []
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
        episodes_in_feed=sum(1 for item in items if not item.get("draft")),
        deleted=deleted,
        dry_run=dry_run,
    )
