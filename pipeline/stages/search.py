"""Search across every episode on the static site, with Pagefind.

Every transcript turn of every published episode is one record: its words, with the episode's
title, the speaker and the time as its title, and `<slug>/#t=SECONDS` as its address, which
opens the episode page and plays from there. Pagefind was chosen because it is made for static
sites: the index is cut into small content-addressed files that a browser fetches only as a
query needs them (a phone does not download every transcript), search runs in the browser
(WebAssembly), it ships its own search box, and its PyPI package carries its binary, so the
install stays one pip command. The index lives in `pagefind/` at the site root.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..model import FeedEntry, clock
from ..site import SEARCH_FOLDER, TRANSCRIPT_JSON


def turn_records(item: FeedEntry, transcript: bytes) -> list[dict]:
    """One record per turn of an episode's Podcasting 2.0 JSON transcript (whole turns)."""
    records = []
    for segment in json.loads(transcript)["segments"]:
        start = int(segment["startTime"])
        records.append({
            "url": f"{item.slug}/#t={start}",
            "content": segment["body"],
            "meta": {"title": f"{item.title} · {segment['speaker']} · {clock(start)}",
                     "episode": item.title, "speaker": segment["speaker"], "time": clock(start)},
        })
    return records


def build_search_index(catalogue: dict[str, FeedEntry], transcript_of: Callable[[str], bytes | None],
                       language: str, site: Path) -> dict[str, Path]:
    """The index of every catalogued episode's turns, written under `site/pagefind/`; its files
    by name relative to the site. `transcript_of(slug)` gives an episode's transcript JSON."""
    from pagefind.index import IndexConfig, PagefindIndex

    slugs = sorted(catalogue)
    with ThreadPoolExecutor(max_workers=8) as pool:  # one request each on a bucket: side by side
        transcripts = list(pool.map(transcript_of, slugs))
    records = [record for slug, transcript in zip(slugs, transcripts) if transcript is not None
               for record in turn_records(catalogue[slug], transcript)]

    with tempfile.TemporaryDirectory(dir=site) as scratch:
        output = Path(scratch) / SEARCH_FOLDER

        async def index() -> None:
            config = IndexConfig(output_path=str(output), force_language=language.split("-")[0])
            async with PagefindIndex(config=config) as pagefind:
                for record in records:
                    await pagefind.add_custom_record(language=language.split("-")[0], **record)

        # In a thread of its own: the caller may already run an event loop (a notebook, a test
        # driving a browser), where asyncio.run is refused.
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(asyncio.run, index()).result()
        folder = site / SEARCH_FOLDER
        if folder.exists():
            shutil.rmtree(folder)
        output.rename(folder)
    return {str(p.relative_to(site)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def transcript_name(slug: str) -> str:
    return f"{slug}/{TRANSCRIPT_JSON}"
