"""Render stage: the files a listener gets for one episode, and its entry for the feed.

Everything lands under `<site>/<slug>/`: the tagged MP3, the transcript page, the transcript
files, and `item.json`, the episode's feed entry, which the publish stage merges into the
show's catalogue.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markdown
from mutagen.id3 import APIC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TRCK

from ..model import Dialogue, Episode, MasteredAudio, Show

NBSP = "\u00a0"
ITEM_FILE = "item.json"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    keep_trailing_newline=True,
)


@dataclass
class RenderedEpisode:
    files: list[str]  # paths relative to the site root
    item: dict  # the feed entry, see stages/feed.py
    warnings: list[str] = field(default_factory=list)


def speaker_label(name: str) -> str:
    """'Gérald Holubowicz : ' with the no-break spaces French typography (and the seed) uses."""
    return f"{name.replace(' ', NBSP)}{NBSP}: "


def plain_transcript(episode: Episode, dialogue: Dialogue) -> str:
    paragraphs = [episode.title]
    paragraphs += [speaker_label(turn.speaker) + turn.text for turn in dialogue.turns]
    return "\n\n".join(paragraphs) + "\n"


def tag_mp3(path: Path, show: Show, episode: Episode) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=episode.title))
    tags.add(TPE1(encoding=3, text=show.title))
    tags.add(TALB(encoding=3, text=show.title))
    tags.add(TRCK(encoding=3, text=str(episode.number)))
    tags.add(TDRC(encoding=3, text=episode.date.isoformat()))
    tags.add(TLAN(encoding=3, text=show.language))
    if show.artwork:
        mime = "image/png" if show.artwork.suffix.lower() == ".png" else "image/jpeg"
        tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=show.artwork.read_bytes()))
    tags.save(path, v2_version=4)


def episode_url(show: Show, episode: Episode, name: str) -> str:
    return f"{show.base_url}/{episode.slug}/{name}"


def render(
    show: Show, episode: Episode, dialogue: Dialogue, audio: MasteredAudio, site: Path
) -> RenderedEpisode:
    folder = site / episode.slug
    if folder.exists():
        shutil.rmtree(folder)  # a re-render must not leave files of an older one behind
    folder.mkdir(parents=True)
    audio_name = f"{episode.slug}.mp3"
    shutil.copyfile(audio.path, folder / audio_name)
    tag_mp3(folder / audio_name, show, episode)

    (folder / "transcript.txt").write_text(plain_transcript(episode, dialogue), encoding="utf-8")
    page = _templates.get_template("episode.html").render(
        show=show, episode=episode, dialogue=dialogue, audio_name=audio_name
    )
    (folder / "index.html").write_text(page, encoding="utf-8")

    item = {
        "slug": episode.slug,
        "title": episode.title,
        "number": episode.number,
        "date": episode.date.isoformat(),
        "draft": episode.draft,
        "description_html": markdown.markdown(episode.notes_markdown),
        "link": episode_url(show, episode, ""),
        "audio_url": episode_url(show, episode, audio_name),
        "audio_length": (folder / audio_name).stat().st_size,
        "audio_type": "audio/mpeg",
        "duration": round(audio.duration),
        "transcripts": [
            {"url": episode_url(show, episode, "transcript.txt"), "type": "text/plain"},
            {"url": episode_url(show, episode, "index.html"), "type": "text/html"},
        ],
    }
    files = sorted(str(p.relative_to(site)) for p in folder.rglob("*") if p.is_file())
    return RenderedEpisode(files=[*files, f"{episode.slug}/{ITEM_FILE}"], item=item)
