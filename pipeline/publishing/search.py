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
import functools
import hashlib
import html
import json
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.config import RESERVED_SLUGS, SLUG
from pipeline.errors import PipelineError
from pipeline.model import FeedEntry, clock
from pipeline.rendering.layout import PAGE_FILE, SEARCH_ENTRY, SEARCH_FOLDER, TRANSCRIPT_JSON

# What the published index was made from, written last into its folder: the show-level step
# compares it (and the files it names) with what it would build, so a lost or broken index is
# sent again by the next publish of any episode. Not Pagefind's own: a name Pagefind never writes.
SEARCH_MANIFEST = f"{SEARCH_FOLDER}/publish-manifest.json"


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
                _check_slug(slug)  # a remote key never becomes a local path
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
    files = {str(p.relative_to(site)): p for p in sorted(folder.rglob("*")) if p.is_file()}
    # The entry names the other files: it goes after them, and the manifest after it.
    files[SEARCH_ENTRY] = files.pop(SEARCH_ENTRY)
    manifest = {"inputs": index_inputs(catalogue, language), "episodes": sorted(catalogue),
                "files": {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}}
    (site / SEARCH_MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    files[SEARCH_MANIFEST] = site / SEARCH_MANIFEST
    return files


def index_inputs(catalogue: dict[str, FeedEntry], language: str) -> str:
    """A digest of what the index is made from: each episode's title and transcript digest,
    the language and Pagefind's version (the same inputs give the same files)."""
    made_from = {"language": language.split("-")[0], "pagefind": _pagefind_version(),
                 "episodes": {slug: [item.title, item.transcript_digest] for slug, item in sorted(catalogue.items())}}
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode("utf-8")).hexdigest()


@functools.cache
def _pagefind_version() -> str:
    from importlib.metadata import version

    return version("pagefind")


def _check_slug(slug: str) -> None:
    if not SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise PipelineError(repr(slug), "not an episode slug: left out of the search index")


def transcript_name(slug: str) -> str:
    return f"{slug}/{TRANSCRIPT_JSON}"
