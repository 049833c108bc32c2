"""The show-level step: what spans episodes (catalogue.json, the search index, the home page,
the feed), made after the episodes' own files are published, from the destination's catalogue.

`catalogue.json` at the site root holds every published episode's feed entry (render's item,
plus the GUID given at its first publication), keyed by slug; the home page and the feed are
built from it. Several publishers may run at once (two producers, two CI tags): each merges its
episodes into the catalogue it reads, writes it only if nobody changed it since (a lock file on
a folder; a conditional write on a bucket, read again and merged on a lost race), then writes
the home page and the feed, last. If the catalogue changed meanwhile, the feed is built again
from the new one, so the last feed written always lists every published episode.

What is published is checked, not only whether the catalogue moved: the search index's manifest
(what it was made from, and its files) is compared with the index this catalogue would give, and
a missing or stale index is built and sent again, the files the entry names before the entry,
the index before the home page and the feed; a dropped episode's (a draft's) files are removed.
So a publisher killed, refused or overtaken mid-way is repaired by the next publish of any episode.

The destination's catalogue is untrusted input (anyone with write access to the bucket, a hand
edit): every entry is validated as a FeedEntry; one that fails is reported and left out, and a
catalogue that lost episodes the destination still serves is refused rather than shrunk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import nh3
import pydantic

from pipeline.config import EPISODE_TYPES, RESERVED_SLUGS, SLUG, unprintable
from pipeline.errors import PipelineError
from pipeline.model import FeedEntry, Show, to_data
from pipeline.publishing.feed import build_feed, episode_guid
from pipeline.publishing.search import SEARCH_MANIFEST, build_search_index, index_inputs, transcript_name
from pipeline.publishing.targets import Target
from pipeline.rendering.episode import FEED_TAGS, render_index
from pipeline.rendering.layout import (
    CATALOGUE_FILE,
    FEED_FILE,
    LEGACY_ITEM_FILE,
    PAGE_FILE,
    SEARCH_ENTRY,
    SEARCH_FOLDER,
)

log = logging.getLogger("publish.catalogue")

MAX_ROUNDS = 20  # merges after lost races before giving up: publishers would have to be many


def parse_catalogue(data: bytes | None, target: Target, destination: str, show: Show,
                    *, report: bool = True) -> dict[str, FeedEntry]:
    """The published episodes' feed entries by slug; empty before the first publish. Each entry
    is checked (see checked_entry): one that fails is left out, and reported in one line."""
    where = f"{destination.rstrip('/')}/{CATALOGUE_FILE}"
    if data is None:
        return _catalogue_from_item_files(target, show, destination, report)
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PipelineError(where, f"not valid JSON ({error}): restore it, or delete it and "
                            "publish every episode again (--all)") from None
    if not isinstance(raw, dict):
        raise PipelineError(where, "not a JSON object of entries by slug: restore it, or delete it and "
                            "publish every episode again (--all)")
    return _checked_entries(raw, show, where, report)


class Catalogue(dict):
    """Entries by slug, and the GUIDs of the entries left out (an episode keeps its GUID when it
    is published again, after a move of the show's base_url for instance)."""

    guids: dict[str, str]


def _checked_entries(raw: dict, show: Show, where: str, report: bool) -> Catalogue:
    catalogue, problems = _checked(json.dumps(raw, allow_nan=True, sort_keys=True), show.base_url)
    for key, why in problems if report else []:
        log.warning("%s: key %s: %s; left out of the feed, the home page and the search", where, _shown(key), why)
    return catalogue


@functools.lru_cache(maxsize=4)  # the same catalogue is read before the episodes go, then by the show step
def _checked(raw_json: str, base_url: str) -> tuple[Catalogue, tuple[tuple[str, str], ...]]:
    catalogue, problems = Catalogue(), []
    catalogue.guids = {}
    for key, value in json.loads(raw_json).items():
        try:
            catalogue[key] = checked_entry(key, value, base_url)
        except ValueError as error:
            guid = value.get("guid") if isinstance(value, dict) else None
            if SLUG.fullmatch(key) and isinstance(guid, str) and guid.isprintable():
                catalogue.guids[key] = guid[:200]
            problems.append((key, str(error)))
    return catalogue, tuple(problems)


def _shown(key: str) -> str:
    """A key as a log line may print it: quoted, escapes visible, cut short."""
    return ascii(key[:80] + ("…" if len(key) > 80 else ""))


_FEED_ENTRY = pydantic.TypeAdapter(pydantic.dataclasses.dataclass(FeedEntry, config=pydantic.ConfigDict(strict=True)))


def checked_entry(key: str, value: Any, base_url: str) -> FeedEntry:
    """An entry read from the destination, as a FeedEntry, or ValueError saying what is wrong:
    types exactly (no string for a number, no NaN), the slug by the slug rule and equal to its
    key, an ISO date, numbers in range, URLs under the show's base URL, printable text, and the
    description sanitised as render does it."""
    if not isinstance(key, str) or not SLUG.fullmatch(key) or key in RESERVED_SLUGS:
        raise ValueError("not an episode slug")
    try:
        checked = _FEED_ENTRY.validate_json(json.dumps(value, allow_nan=True), strict=True)
    except (pydantic.ValidationError, TypeError, ValueError) as error:
        first = error.errors()[0] if isinstance(error, pydantic.ValidationError) else {"loc": (), "msg": str(error)}
        raise ValueError(f"'{'.'.join(map(str, first['loc'])) or 'entry'}': {first['msg']}") from None
    entry = FeedEntry(**{f.name: getattr(checked, f.name) for f in dataclasses.fields(FeedEntry)})
    _check_fields(key, entry, base_url)
    return replace(entry, description_html=sanitised(entry.description_html))


def _check_fields(key: str, entry: FeedEntry, base_url: str) -> None:
    if entry.slug != key:
        raise ValueError(f"its slug {_shown(entry.slug)} is not its key")
    try:
        dt.date.fromisoformat(entry.date)
    except ValueError:
        raise ValueError(f"'date': {_shown(entry.date)} is not an ISO date like 2026-11-28") from None
    for name in ("number", "audio_length", "duration"):
        if not 0 <= getattr(entry, name) < 2**53:
            raise ValueError(f"'{name}': out of range")
    if entry.season is not None and not 1 <= entry.season < 2**53:
        raise ValueError("'season': out of range")
    if entry.episode_type not in EPISODE_TYPES:
        raise ValueError(f"'episode_type': not one of {', '.join(EPISODE_TYPES)}")
    base = base_url.rstrip("/") + "/"
    urls = {"link": entry.link, "audio_url": entry.audio_url, "chapters_url": entry.chapters_url or base,
            "image_url": entry.image_url or base,
            **{f"transcripts[{i}].url": t.url for i, t in enumerate(entry.transcripts, start=1)}}
    for name, url in urls.items():
        if not url.startswith(base) or any(c in url for c in ' "<>\'\\`'):
            raise ValueError(f"'{name}': not a URL under the show's base_url {base} (after a move: publish "
                             "every episode again, --all)")
    _check_people(entry)
    _check_text(to_data(entry))


def _check_people(entry: FeedEntry) -> None:
    """A person's page or picture (where the model has them) may be anywhere, but over http(s)."""
    for index, person in enumerate(entry.persons, start=1):
        for name in ("href", "img"):
            url = getattr(person, name, None)
            if url is not None and not re.fullmatch(r"https?://[^\s\"'<>\\`]+", url):
                raise ValueError(f"'persons[{index}].{name}': not an http(s) URL")


def _check_text(value: Any, key: str = "") -> None:
    if isinstance(value, str) and unprintable(value):
        raise ValueError(f"'{key}': {unprintable(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"'{key}': not a finite number")
    items = value.items() if isinstance(value, dict) else enumerate(value, 1) if isinstance(value, list) else []
    for name, item in items:
        _check_text(item, f"{key}.{name}" if key else str(name))


def sanitised(description_html: str) -> str:
    """The description as render leaves it, cleaned again: the feed's few elements, no script,
    no event handler, no javascript: link (every entry goes through it, so it is stable)."""
    return nh3.clean(description_html, tags=FEED_TAGS, attributes={"a": {"href"}})


def _catalogue_from_item_files(target: Target, show: Show, destination: str, report: bool) -> dict[str, FeedEntry]:
    """A site published before catalogue.json: its entries are in <slug>/item.json. Read once, side
    by side (one request each on a bucket); the catalogue this publish writes replaces them."""
    names = target.names(f"/{LEGACY_ITEM_FILE}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = dict(zip(names, pool.map(target.read, names)))
    raw = {}
    for name, data in found.items():
        try:
            raw[name.split("/", 1)[0]] = json.loads(data) if data is not None else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raw[name.split("/", 1)[0]] = None
    return _checked_entries(raw, show, f"{destination.rstrip('/')}/<slug>/{LEGACY_ITEM_FILE}", report)


def merged(catalogue: dict[str, FeedEntry], entries: dict[str, FeedEntry], show: Show) -> dict[str, FeedEntry]:
    """The catalogue with these episodes' entries (slug -> render's item) in it. A draft is
    taken out: catalogue.json is public, and must not tell a draft's title or audio URL."""
    guids = getattr(catalogue, "guids", {})
    catalogue = dict(catalogue)
    for slug, item in entries.items():
        if item.draft:
            catalogue.pop(slug, None)
        else:
            # The GUID is the episode's identity in every listener's app: once published, it stays.
            guid = catalogue[slug].guid if slug in catalogue else guids.get(slug) or episode_guid(show, slug)
            catalogue[slug] = replace(item, guid=guid, description_html=sanitised(item.description_html))
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


def lost_episodes(data: bytes | None, catalogue: dict[str, FeedEntry], manifest: dict,
                  entries: dict[str, FeedEntry], target: Target) -> list[str]:
    """Episodes the catalogue lost although the destination still serves them: the search
    index's manifest lists the episodes last published; one neither in the catalogue (valid or
    not) nor published now, whose page is still there, was lost (a hand edit, `{}`)."""
    try:
        listed = set(json.loads(data)) if data is not None else set(catalogue)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError):
        listed = set(catalogue)
    before = {slug for slug in manifest.get("episodes") or [] if isinstance(slug, str) and SLUG.fullmatch(slug)}
    missing = before - listed - set(entries)
    served = {name.split("/", 1)[0] for name in target.names(f"/{PAGE_FILE}")} if missing else set()
    return sorted(missing & served)


def _published_state(data: bytes | None, version: str | None, target: Target, destination: str, show: Show,
                     entries: dict[str, FeedEntry]) -> tuple[dict[str, FeedEntry], dict] | None:
    """The catalogue read and the search index's manifest; None when episodes seem lost but the
    catalogue has changed since it was read (another publisher's: read it again)."""
    published = parse_catalogue(data, target, destination, show)
    manifest = _published_manifest(target) or {}
    lost = lost_episodes(data, published, manifest, entries, target)
    if not lost:
        return published, manifest
    if target.read_versioned(CATALOGUE_FILE)[1] == version:
        _refuse_lost(lost, destination)
    return None


def _refuse_lost(lost: list[str], destination: str) -> None:
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    raise PipelineError(f"{destination.rstrip('/')}/{CATALOGUE_FILE}",
                        f"lost {len(lost)} episode(s) the destination still serves ({', '.join(lost[:5])}{more}); "
                        "refused rather than dropping them from the feed: restore it, or publish them "
                        "again together with this one (or --all)")


def _published_manifest(target: Target) -> dict | None:
    """The search index's manifest as published (untrusted: only compared), or None."""
    data = target.read(SEARCH_MANIFEST)
    try:
        manifest = json.loads(data) if data is not None else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _search_index(show: Show, catalogue: dict[str, FeedEntry], target: Target, site: Path,
                  transcript_of, manifest: dict) -> tuple[dict[str, Path], set[str], set[str] | None]:
    """The index files to compare with the published ones (none when the published index is
    whole and made from the same inputs), the names of the index that should be published, and
    the published names when they were listed."""
    named = manifest.get("files")
    if manifest.get("inputs") == index_inputs(catalogue, show.language) and isinstance(named, dict):
        published = set(target.names())
        entry = target.read(SEARCH_ENTRY) if SEARCH_ENTRY in named else None
        if (entry is not None and hashlib.sha256(entry).hexdigest() == named[SEARCH_ENTRY]
                and all(name in published for name in named)):
            return {}, {*named, SEARCH_MANIFEST}, published
    search = build_search_index(catalogue, transcript_of, show.language, site)
    return search, set(search), None


def _remove_stale_index(target: Target, keep: set[str], version: str | None, names: set[str] | None = None) -> None:
    """Index files that are not the current index's (a draft's or a removed episode's fragments,
    an older index's), removed while the catalogue is still the one the index was made from.
    `names`: the published names, when they were just listed."""
    names = target.names() if names is None else names
    stale = [name for name in names if name.startswith(f"{SEARCH_FOLDER}/") and name not in keep]
    if stale and target.read_versioned(CATALOGUE_FILE)[1] == version:
        target.delete(stale)
        log.info("search: %d file(s) of an older index removed", len(stale))


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
            state = _published_state(data, version, target, destination, show, entries)
            if state is None:
                continue  # read before another publisher's catalogue: merge into theirs
            published, manifest = state
            catalogue = merged(published, entries, show)
            files = show_files(show, catalogue, site)
            search, keep, listed = ({}, set(), None) if dry_run else _search_index(
                show, catalogue, target, site, transcript_of, manifest)
            # The index after the catalogue, before the home page and the feed that offer it.
            files = {CATALOGUE_FILE: files.pop(CATALOGUE_FILE), **search, **files}
            changed = target.changed(files)
            if dry_run:
                return changed, catalogue
            if not changed:
                _remove_stale_index(target, keep, version, listed)
                return changed, catalogue
            if CATALOGUE_FILE in changed:
                version = target.put_if_version(CATALOGUE_FILE, files[CATALOGUE_FILE], version)
                if version is None:
                    continue  # another publisher wrote it first: merge into theirs
            target.put({name: files[name] for name in changed if name != CATALOGUE_FILE})
            _remove_stale_index(target, keep, version)
            if target.read_versioned(CATALOGUE_FILE)[1] == version:
                return changed, catalogue
            # The catalogue changed while the feed went out: build the feed again from it.
    raise PipelineError(f"{destination.rstrip('/')}/{CATALOGUE_FILE}",
                        f"changed under this publish {MAX_ROUNDS} times in a row; run the same command again")
