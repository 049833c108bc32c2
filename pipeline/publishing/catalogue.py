"""The show-level step: what spans episodes (catalogue.json, the search index, the home page,
the feed), made after the episodes' own files are published, from the destination's catalogue.

`catalogue.json` at the site root holds every published episode's feed entry (render's item,
plus the GUID given at its first publication), keyed by slug; the home page and the feed are
built from it. Several publishers may run at once (two producers, two CI tags): each merges its
episodes into the catalogue it reads, writes it only if nobody changed it since (a lock file on
a folder; a conditional write on a bucket, read again and merged on a lost race), then writes
the home page and the feed, last. If the catalogue changed meanwhile, the feed is built again
from the new one, so the last feed written always lists every published episode.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.model import FeedEntry, Show, feed_entry_from_data, to_data
from pipeline.publishing.feed import build_feed, episode_guid
from pipeline.publishing.search import build_search_index, transcript_name
from pipeline.publishing.targets import Target
from pipeline.rendering.episode import render_index
from pipeline.rendering.layout import (
    CATALOGUE_FILE,
    FEED_FILE,
    LEGACY_ITEM_FILE,
    PAGE_FILE,
    SEARCH_ENTRY,
)

MAX_ROUNDS = 20  # merges after lost races before giving up: publishers would have to be many


def parse_catalogue(data: bytes | None, target: Target, destination: str) -> dict[str, FeedEntry]:
    """The published episodes' feed entries by slug; empty before the first publish."""
    if data is None:
        return _catalogue_from_item_files(target)
    try:
        return {slug: feed_entry_from_data(entry) for slug, entry in json.loads(data).items()}
    except (json.JSONDecodeError, AttributeError, TypeError) as error:
        where = f"{destination.rstrip('/')}/{CATALOGUE_FILE}"
        raise PipelineError(where, f"not valid JSON ({error}): restore it, or delete it and "
                            "publish every episode again (--all)") from None


def _catalogue_from_item_files(target: Target) -> dict[str, FeedEntry]:
    """A site published before catalogue.json: its entries are in <slug>/item.json. Read once, side
    by side (one request each on a bucket); the catalogue this publish writes replaces them."""
    names = target.names(f"/{LEGACY_ITEM_FILE}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        items = [feed_entry_from_data(json.loads(data)) for data in pool.map(target.read, names) if data is not None]
    return {item.slug: item for item in items}


def merged(catalogue: dict[str, FeedEntry], entries: dict[str, FeedEntry], show: Show) -> dict[str, FeedEntry]:
    """The catalogue with these episodes' entries (slug -> render's item) in it. A draft is
    taken out: catalogue.json is public, and must not tell a draft's title or audio URL."""
    catalogue = dict(catalogue)
    for slug, item in entries.items():
        if item.draft:
            catalogue.pop(slug, None)
        else:
            # The GUID is the episode's identity in every listener's app: once published, it stays.
            guid = catalogue[slug].guid if slug in catalogue else episode_guid(show, slug)
            catalogue[slug] = replace(item, guid=guid)
    return catalogue


def catalogue_json(catalogue: dict[str, FeedEntry]) -> bytes:
    """Sorted, so the same entries give the same bytes and an unchanged catalogue is not sent."""
    return json.dumps(to_data(catalogue), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def show_files(show: Show, catalogue: dict[str, FeedEntry], site: Path) -> dict[str, Path]:
    """The show's own files written into `site`, in publishing order: the feed last."""
    items = list(catalogue.values())
    files = {}
    for name, data in [(CATALOGUE_FILE, catalogue_json(catalogue)), (PAGE_FILE, render_index(show, items)),
                       (FEED_FILE, build_feed(show, items))]:
        (site / name).write_bytes(data)
        files[name] = site / name
    return files


def publish_show(show: Show, entries: dict[str, FeedEntry], target: Target, destination: str, site: Path,
                 *, dry_run: bool = False, read: tuple[bytes | None, str | None] | None = None,
                 sent_here: dict[str, Path] | None = None) -> tuple[list[str], dict[str, FeedEntry]]:
    """The show's files sent (in a dry run: that would be), and the catalogue they list.
    `read`: the catalogue as just read (bytes, version), to start from without reading it again;
    `sent_here`: this publish's episode files (name -> local path), read instead of the published."""
    sent_here = sent_here or {}

    def transcript_of(slug: str) -> bytes | None:
        name = transcript_name(slug)
        return sent_here[name].read_bytes() if name in sent_here else target.read(name)

    with target.show_lock():
        for _ in range(MAX_ROUNDS):
            data, version = read or target.read_versioned(CATALOGUE_FILE)
            read = None
            catalogue = merged(parse_catalogue(data, target, destination), entries, show)
            files = show_files(show, catalogue, site)
            changed = target.changed(files)
            # The index is made again only when an episode changed (the catalogue then changes).
            if not dry_run and (CATALOGUE_FILE in changed or not target.names(SEARCH_ENTRY.split("/")[-1])):
                search = build_search_index(catalogue, transcript_of, show.language, site)
                # After the catalogue, before the home page and the feed that offer it.
                files = {CATALOGUE_FILE: files.pop(CATALOGUE_FILE), **search, **files}
                changed = target.changed(files)
            if dry_run or not changed:
                return changed, catalogue
            if CATALOGUE_FILE in changed:
                version = target.put_if_version(CATALOGUE_FILE, files[CATALOGUE_FILE], version)
                if version is None:
                    continue  # another publisher wrote it first: merge into theirs
            target.put({name: files[name] for name in changed if name != CATALOGUE_FILE})
            if target.read_versioned(CATALOGUE_FILE)[1] == version:
                return changed, catalogue
            # The catalogue changed while the feed went out: build the feed again from it.
    raise PipelineError(f"{destination.rstrip('/')}/{CATALOGUE_FILE}",
                        f"changed under this publish {MAX_ROUNDS} times in a row; run the same command again")
