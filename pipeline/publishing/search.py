"""Search across every episode on the static site, with Pagefind.

Every published episode is indexed as a page whose sections are its transcript turns, each
titled by its speaker and time and anchored `t=SECONDS`: a result is the turn, and its address
`<slug>/#t=SECONDS` opens the episode page and plays from there. Pagefind was chosen because it is made for static
sites: the index is cut into small content-addressed files that a browser fetches only as a
query needs them (a phone does not download every transcript), search runs in the browser
(WebAssembly), it ships its own search box, and its PyPI package carries its binary, so the
install stays one pip command. The index lives in `pagefind/` at the site root.
"""

from __future__ import annotations

import asyncio
import html
import json
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.model import FeedEntry, clock
from pipeline.rendering.layout import PAGE_FILE, SEARCH_FOLDER, TRANSCRIPT_JSON


def episode_page(item: FeedEntry, transcript: bytes, language: str) -> str:
    """What the index reads for an episode: its turns as sections, each titled by speaker and
    time, whose id is the episode page's own anchor for that time (`t=SECONDS`)."""
    sections = []
    for segment in json.loads(transcript)["segments"]:
        start = int(segment["startTime"])
        sections.append(f'<h2 id="t={start}">{html.escape(segment["speaker"])} · {clock(start)}</h2>\n'
                        f'<p>{html.escape(segment["body"])}</p>')
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(item.title)}</title></head><body><h1>{html.escape(item.title)}</h1>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def build_search_index(catalogue: dict[str, FeedEntry], transcript_of: Callable[[str], bytes | None],
                       language: str, site: Path) -> dict[str, Path]:
    """The index of every catalogued episode's turns, written under `site/pagefind/`; its files
    by name relative to the site. `transcript_of(slug)` gives an episode's transcript JSON."""
    from pagefind.index import IndexConfig, PagefindIndex

    slugs = sorted(catalogue)
    with ThreadPoolExecutor(max_workers=8) as pool:  # one request each on a bucket: side by side
        transcripts = list(pool.map(transcript_of, slugs))
    language = language.split("-")[0]
    with tempfile.TemporaryDirectory(dir=site) as scratch:
        # One page per episode, indexed as a folder in one request: Pagefind's service answers
        # one request every tenth of a second, so a record per turn took minutes.
        pages = Path(scratch) / "pages"
        for slug, transcript in zip(slugs, transcripts):
            if transcript is not None:
                (pages / slug).mkdir(parents=True)
                (pages / slug / PAGE_FILE).write_text(episode_page(catalogue[slug], transcript, language),
                                                      encoding="utf-8")
        output = Path(scratch) / SEARCH_FOLDER

        async def index() -> None:
            config = IndexConfig(output_path=str(output), force_language=language)
            async with PagefindIndex(config=config) as pagefind:
                if pages.is_dir():
                    await pagefind.add_directory(str(pages))

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
