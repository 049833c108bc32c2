"""Publishing: rendered episodes' files to their destination, then the show's own files.

The episodes' files go first; then the show-level step (catalogue.py) merges them into the
destination's catalogue and writes the home page and the feed, last: a listener's app never
sees a feed entry whose files are not there yet. Several publishers may run at once.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.model import Show
from pipeline.publishing.catalogue import merged, parse_catalogue, publish_show
from pipeline.publishing.feed import build_feed, feed_url
from pipeline.publishing.feed_check import ensure_publishable
from pipeline.publishing.targets import Target
from pipeline.rendering.episode import RenderedEpisode
from pipeline.rendering.layout import CATALOGUE_FILE


@dataclass
class Publication:
    destination: str
    feed_url: str
    sent: list[str]  # files that changed and were sent (in a dry run: would be), in that order
    episodes_in_feed: int
    deleted: list[str] = field(default_factory=list)  # --prune: published files the sites dropped
    dry_run: bool = False


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
    entries = {rendered.item.slug: rendered.item for rendered, _ in episodes}
    # A feed the checks refuse changes nothing: checked before any file is put.
    read = target.read_versioned(CATALOGUE_FILE)
    catalogue = merged(parse_catalogue(read[0], target, destination, show, report=False), entries, show)
    ensure_publishable(build_feed(show, list(catalogue.values())), feed_url(show))

    site = episodes[0][1]  # the show's own files are written beside the first episode's
    files = _files_to_send(show, episodes, site)
    sent = target.changed(files)
    deleted = _dropped_files(target, entries, files) if prune else []
    try:
        if not dry_run:
            target.put({name: files[name] for name in sent})
        show_sent, catalogue = publish_show(show, entries, target, destination, site, dry_run=dry_run,
                                            read=read, sent_here=files)
    except PipelineError as error:
        raise PipelineError(error.where, f"{error.message}; the feed was left as it was, "
                            "run the same command again to finish") from None
    if not dry_run:
        target.delete(deleted)  # after the feed: the old one may still have pointed at them
    return Publication(
        destination=destination,
        feed_url=feed_url(show),
        sent=sent + show_sent,
        episodes_in_feed=sum(1 for item in catalogue.values() if not item.draft),
        deleted=deleted,
        dry_run=dry_run,
    )


def _files_to_send(show: Show, episodes: list[tuple[RenderedEpisode, Path]], site: Path) -> dict[str, Path]:
    """Every rendered episode's files by published name, and the show's artwork copied into `site`."""
    files: dict[str, Path] = {}
    for rendered, episode_site in episodes:
        files |= {name: episode_site / name for name in rendered.files}
    if show.artwork:
        shutil.copyfile(show.artwork, site / show.artwork.name)
        files[show.artwork.name] = site / show.artwork.name
    return files


def _dropped_files(target: Target, entries: dict, files: dict[str, Path]) -> list[str]:
    """--prune: the published files of these episodes that their sites no longer have. Only the
    published episodes' folders: the other episodes' files are not in these sites."""
    return [
        n for n in target.names() if "/" in n and n.split("/", 1)[0] in entries and n not in files
    ]
