"""The published site's layout, in one place: its file names and folders, the transcript
formats, and the content type each file is served with.

    <site>/feed.xml, catalogue.json, index.html (the home page), <artwork>
    <site>/assets/        the pages' stylesheet and scripts
    <site>/pagefind/      the search index
    <site>/<slug>/        an episode: index.html, <slug>.mp3, chapters.json, transcript.*, speakers.rttm
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

FEED_FILE = "feed.xml"
CATALOGUE_FILE = "catalogue.json"  # every published episode's feed entry, by slug
PAGE_FILE = "index.html"  # the home page, and each episode's page in its folder
CHAPTERS_FILE = "chapters.json"
ASSETS_FOLDER = "assets"
SEARCH_FOLDER = "pagefind"
SEARCH_ENTRY = f"{SEARCH_FOLDER}/pagefind-entry.json"  # present once an index was published
LEGACY_ITEM_FILE = "item.json"  # where each episode's entry was kept (<slug>/) before catalogue.json

TRANSCRIPT_JSON = "transcript.json"  # whole turns: also what the search index is made from
# (file name, MIME type, rel) of each transcript file render writes; the feed lists them all.
TRANSCRIPT_FILES = [
    ("transcript.vtt", "text/vtt", "captions"),
    ("transcript.srt", "application/x-subrip", "captions"),
    (TRANSCRIPT_JSON, "application/json", None),
    ("transcript.txt", "text/plain", None),
]
SPEAKERS_FILE = "speakers.rttm"  # who spoke when, by name (not a transcript: the feed leaves it out)
CHAPTERS_TYPE = "application/json+chapters"  # Podcasting 2.0 chapters
AUDIO_TYPE = "audio/mpeg"

CONTENT_TYPES = {
    ".mp3": AUDIO_TYPE,
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",  # Python's own table says text/plain
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".rttm": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
CONTENT_TYPES_BY_NAME = {FEED_FILE: "application/rss+xml", CHAPTERS_FILE: CHAPTERS_TYPE}


def content_type(name: str) -> str:
    """The Content-Type a published file is served with."""
    base = name.rsplit("/", 1)[-1]
    return (
        CONTENT_TYPES_BY_NAME.get(base)
        or CONTENT_TYPES.get(Path(base).suffix.lower())
        or mimetypes.guess_type(base)[0]
        or "application/octet-stream"
    )
