"""Render stage: the files a listener gets for one episode, and its entry for the feed.

Everything lands under `<site>/<slug>/`: the tagged MP3 (with its chapters), the transcript
page, the transcript files, the chapters; and it returns the episode's feed entry, which the
publish stage merges into the show's catalogue. The page's stylesheet and script go to
`<site>/assets/`, shared with the show's index page (render_index, called at publish time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_text
import json
import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2
import markdown
import nh3
from mutagen.id3 import APIC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TRCK

from pipeline.build.files import file_digest
from pipeline.config import EPISODE_FILE
from pipeline.errors import PipelineError
from pipeline.model import (
    Chapter,
    Dialogue,
    Episode,
    FeedEntry,
    MasteredAudio,
    Person,
    Show,
    TranscriptLink,
    clock,
    feed_entry_from_data,
)
from pipeline.rendering import chapters as chapter_files
from pipeline.rendering import transcript_files
from pipeline.rendering.layout import (
    ASSETS_FOLDER,
    AUDIO_TYPE,
    CHAPTERS_FILE,
    FEED_FILE,
    PAGE_FILE,
    SPEAKERS_FILE,
    TRANSCRIPT_FILES,
    TRANSCRIPT_JSON,
)

ASSETS = ("style.css", "player.js", "search.js", "embed.js")
EMBED_FOLDER = "embed"  # <slug>/embed/index.html: the player other sites put in an <iframe>
EMBED_HEIGHT = 300  # pixels: the iframe snippet's height (player, current line, chapters)
DESCRIPTION_CHARACTERS = 200  # a link preview's description

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline", "templates"),
    autoescape=True,  # every template is HTML; a name or a word with '<' must print as text
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The page's own words, in the show's language (English when the language is not listed).
LABELS = {
    "fr": {
        "with": "Avec", "notes": "Notes de l’épisode", "chapters": "Chapitres",
        "transcript": "Transcription", "references": "Références", "back": "Retour au texte",
        "files": "Fichiers", "feed": "S’abonner (flux RSS)",
        "episodes": "Épisodes", "episode": "Épisode",
        "play_from": "Écouter à partir de", "no_audio": "Votre navigateur ne lit pas l’audio : ",
        "search": "Rechercher dans les transcriptions", "embed": "Intégrer le lecteur",
        "embed_code": "Code à coller dans une page", "player": "Lecteur", "now": "En ce moment",
        "support": "Soutenir", "listen_on": "Écouter sur", "open_page": "Page de l’épisode",
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre"],
        "date": "{day} {month} {year}",
    },
    "en": {
        "with": "With", "notes": "Show notes", "chapters": "Chapters",
        "transcript": "Transcript", "references": "References", "back": "Back to the text",
        "files": "Files", "feed": "Subscribe (RSS feed)",
        "episodes": "Episodes", "episode": "Episode",
        "play_from": "Play from", "no_audio": "Your browser does not play audio: ",
        "search": "Search the transcripts", "embed": "Embed the player",
        "embed_code": "Code to paste in a page", "player": "Player", "now": "Now playing",
        "support": "Support the show", "listen_on": "Listen on", "open_page": "Episode page",
        "months": ["January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December"],
        "date": "{month} {day}, {year}",
    },
}


@dataclass
class RenderedEpisode:
    files: list[str]  # paths relative to the site root
    item: FeedEntry
    warnings: list[str] = field(default_factory=list)
    # Each file's sha256: what publishing depends on, so a changed page is never "up to date".
    digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict) -> RenderedEpisode:
        return cls(**{**data, "item": feed_entry_from_data(data["item"])})


@dataclass
class Marker:
    number: int
    anchor: str | None  # 'note-n' on the number's first marker: its reference links back there


@dataclass
class Paragraph:
    """A turn as the page shows it."""

    speaker: str
    role: str  # "host" or "guest", styled apart
    start: float
    anchor: str | None  # 't=N', what timestamp links point at; on the first paragraph of second N
    pieces: list[str | Marker]


def page_paragraphs(dialogue: Dialogue, host: str) -> list[Paragraph]:
    paragraphs = []
    anchors: set[str] = set()
    for turn in dialogue.turns:
        pieces: list[str | Marker] = []
        for piece in transcript_files.text_with_markers(turn):
            if isinstance(piece, int):
                piece = Marker(piece, _first(f"note-{piece}", anchors))
            pieces.append(piece)
        anchor = _first(f"t={int(turn.start)}", anchors)
        role = "host" if turn.speaker == host else "guest"
        paragraphs.append(Paragraph(turn.speaker, role, turn.start, anchor, pieces))
    return paragraphs


def _first(anchor: str, taken: set[str]) -> str | None:
    """The anchor if no element has it yet (HTML ids are unique), else None."""
    if anchor in taken:
        return None
    taken.add(anchor)
    return anchor


def labels(show: Show) -> dict:
    return LABELS.get(show.language.split("-")[0], LABELS["en"])


def long_date(day: dt.date, words: dict) -> str:
    return words["date"].format(day=day.day, month=words["months"][day.month - 1], year=day.year)


_templates.filters["clock"] = clock


# The HTML Apple Podcasts lists for episode descriptions; other tags are unwrapped, text kept.
FEED_TAGS = {"p", "ol", "ul", "li", "a"}


def notes_html(notes_markdown: str, tags: set[str] | None = None) -> str:
    """The producer's notes as HTML: Markdown allows raw HTML, so it is sanitised (no script,
    no event handler, no javascript: link) before it reaches a page or a feed; `tags` limits
    the elements kept (default: nh3's safe set)."""
    html = markdown.markdown(notes_markdown)
    return nh3.clean(html) if tags is None else nh3.clean(html, tags=tags, attributes={"a": {"href"}})


def asset_version(name: str) -> str:
    """A digest of the shipped asset, appended to its URL so browsers fetch a changed one."""
    data = resources.files("pipeline").joinpath(ASSETS_FOLDER, name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def write_assets(site: Path) -> list[str]:
    folder = site / ASSETS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        source = resources.files("pipeline").joinpath(ASSETS_FOLDER, name)
        (folder / name).write_bytes(source.read_bytes())
    return [f"{ASSETS_FOLDER}/{name}" for name in ASSETS]


def tag_mp3(path: Path, show: Show, episode: Episode, chapters: list[Chapter], duration: float) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=episode.title))
    tags.add(TPE1(encoding=3, text=show.title))
    tags.add(TALB(encoding=3, text=show.title))
    tags.add(TRCK(encoding=3, text=str(episode.number)))
    tags.add(TDRC(encoding=3, text=episode.date.isoformat()))
    tags.add(TLAN(encoding=3, text=show.language))
    artwork = episode.artwork or show.artwork
    if artwork:
        mime = "image/png" if artwork.suffix.lower() == ".png" else "image/jpeg"
        tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=artwork.read_bytes()))
    for frame in chapter_files.id3_frames(chapters, duration):
        tags.add(frame)
    tags.save(path, v2_version=4)
    chapter_files.in_time_order(path)


def episode_url(show: Show, episode: Episode, name: str) -> str:
    return f"{show.base_url}/{episode.slug}/{name}"


def show_artwork_url(show: Show) -> str | None:
    return f"{show.base_url}/{show.artwork.name}" if show.artwork else None


def persons(show: Show, episode: Episode) -> list[Person]:
    """The host, then the guests, with the page and picture the files give them."""
    details = {person.name: person for person in episode.people}
    guests = [Person(name, "guest", details[name].href, details[name].img) if name in details
              else Person(name, "guest") for name in episode.guests]
    return [Person(show.host, "host", show.host_href, show.host_img), *guests]


def summary(episode: Episode, words: dict) -> str:
    """A link preview's description: the notes' first words as plain text, or who is in it."""
    text = re.sub(r"\s+", " ", html_text.unescape(nh3.clean(notes_html(episode.notes_markdown), tags=set()))).strip()
    if not text:
        return f"{episode.title} · {words['with']} {', '.join(episode.guests)}"
    if len(text) <= DESCRIPTION_CHARACTERS:
        return text
    return text[:DESCRIPTION_CHARACTERS].rsplit(" ", 1)[0] + "…"


def iso_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"PT{hours}H{minutes}M{secs}S" if hours else f"PT{minutes}M{secs}S"


def json_ld(data: dict) -> str:
    """JSON for a <script type="application/ld+json">: nothing in it can close the element."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass
class Card:
    """What a link preview (OpenGraph, Twitter card) and a search engine (JSON-LD) read."""

    url: str  # the canonical page
    title: str
    description: str
    image: str | None
    audio: str
    embed: str
    structured: str  # JSON-LD


def episode_card(show: Show, episode: Episode, audio_name: str, image: str | None,
                 duration: float, words: dict) -> Card:
    url = episode_url(show, episode, "")
    description = summary(episode, words)
    data = {
        "@context": "https://schema.org", "@type": "PodcastEpisode", "url": url,
        "name": episode.title, "description": description, "datePublished": episode.date.isoformat(),
        "episodeNumber": episode.number, "timeRequired": iso_duration(duration),
        "inLanguage": show.language,
        "associatedMedia": {"@type": "MediaObject", "contentUrl": episode_url(show, episode, audio_name),
                            "encodingFormat": AUDIO_TYPE},
        "partOfSeries": {"@type": "PodcastSeries", "name": show.title, "url": show.base_url + "/"},
        "actor": [{"@type": "Person", "name": person.name, **({"url": person.href} if person.href else {})}
                  for person in persons(show, episode)],
    }
    if episode.season:
        data["partOfSeason"] = {"@type": "PodcastSeason", "seasonNumber": episode.season}
    if image:
        data["image"] = image
    return Card(url, episode.title, description, image, episode_url(show, episode, audio_name),
                episode_url(show, episode, f"{EMBED_FOLDER}/"), json_ld(data))


def _episode_artwork(episode: Episode, folder: Path) -> str | None:
    """The episode's own artwork copied beside its page: its file name there."""
    if not episode.artwork:
        return None
    name = f"cover{episode.artwork.suffix.lower()}"
    shutil.copyfile(episode.artwork, folder / name)
    return name


def _checked_chapters(episode: Episode, dialogue: Dialogue, host: str, duration: float) -> list[Chapter]:
    chapters = chapter_files.episode_chapters(episode, dialogue, host)
    late = [chapter for chapter in chapters if chapter.start >= duration]
    if late:
        where = episode.folder / EPISODE_FILE if episode.folder else episode.slug
        raise PipelineError(
            where, f"chapter '{late[0].title}' starts at {clock(late[0].start)}, after the audio's "
                   f"end ({clock(duration)}); fix its start"
        )
    return chapters


def _write_transcript_files(folder: Path, episode: Episode, dialogue: Dialogue, chapters: list[Chapter],
                            words: dict) -> list[str]:
    """The transcript in every format (and the chapters), written into the episode's folder."""
    texts = {
        "transcript.vtt": transcript_files.webvtt(dialogue),
        "transcript.srt": transcript_files.subrip(dialogue),
        TRANSCRIPT_JSON: transcript_files.podcasting20_json(dialogue),
        "transcript.txt": transcript_files.plain_text(episode.title, dialogue, words["references"]),
        SPEAKERS_FILE: transcript_files.rttm(dialogue, episode.slug),
    }
    if chapters:
        texts[CHAPTERS_FILE] = chapter_files.podcasting20_json(chapters)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return list(texts)


def _write_pages(folder: Path, show: Show, episode: Episode, dialogue: Dialogue, common: dict,
                 files: list[str], cover: str | None) -> None:
    """The episode page and its embeddable player page."""
    paragraphs = page_paragraphs(dialogue, show.host)
    marked = {piece.number for p in paragraphs for piece in p.pieces if isinstance(piece, Marker)}
    page = _templates.get_template("episode.html").render(
        root="../", paragraphs=paragraphs, marked=marked, references=dialogue.references,
        notes=notes_html(episode.notes_markdown), files=files, date=long_date(episode.date, common["words"]),
        **common,
    )
    (folder / PAGE_FILE).write_text(page, encoding="utf-8")
    (folder / EMBED_FOLDER).mkdir()
    # The embed's picture by a relative path: it shows in a preview (publish serve) too.
    embed_image = f"../{cover}" if cover else f"../../{show.artwork.name}" if show.artwork else None
    embed = _templates.get_template("embed.html").render(root="../../", embed_image=embed_image, **common)
    (folder / EMBED_FOLDER / PAGE_FILE).write_text(embed, encoding="utf-8")


def _feed_entry(show: Show, episode: Episode, dialogue: Dialogue, folder: Path, audio_name: str,
                duration: float, chapters: list[Chapter], cover: str | None, words: dict) -> FeedEntry:
    description = _templates.get_template("description.html").render(
        notes=notes_html(episode.notes_markdown, FEED_TAGS), references=dialogue.references, words=words
    )
    return FeedEntry(
        slug=episode.slug,
        title=episode.title,
        number=episode.number,
        season=episode.season,
        episode_type=episode.episode_type,
        date=episode.date.isoformat(),
        draft=episode.draft,
        explicit=episode.explicit,
        description_html=description.strip(),
        link=episode_url(show, episode, ""),
        audio_url=episode_url(show, episode, audio_name),
        audio_length=(folder / audio_name).stat().st_size,
        audio_type=AUDIO_TYPE,
        duration=round(duration),
        transcripts=[
            TranscriptLink(episode_url(show, episode, name), mime, rel, show.language)
            for name, mime, rel in [*TRANSCRIPT_FILES, ("", "text/html", None)]
        ],
        chapters_url=episode_url(show, episode, CHAPTERS_FILE) if chapters else None,
        persons=persons(show, episode),
        image_url=episode_url(show, episode, cover) if cover else None,
    )


def render(
    show: Show, episode: Episode, dialogue: Dialogue, audio: MasteredAudio, site: Path
) -> RenderedEpisode:
    folder = site / episode.slug
    if folder.exists():
        shutil.rmtree(folder)  # a re-render must not leave files of an older one behind
    folder.mkdir(parents=True)
    words = labels(show)
    chapters = _checked_chapters(episode, dialogue, show.host, audio.duration)

    audio_name = f"{episode.slug}.mp3"
    shutil.copyfile(audio.path, folder / audio_name)
    tag_mp3(folder / audio_name, show, episode, chapters, audio.duration)
    texts = _write_transcript_files(folder, episode, dialogue, chapters, words)

    cover = _episode_artwork(episode, folder)
    image = episode_url(show, episode, cover) if cover else show_artwork_url(show)
    common = dict(show=show, episode=episode, chapters=chapters, audio_name=audio_name, words=words,
                  feed=FEED_FILE, card=episode_card(show, episode, audio_name, image, audio.duration, words),
                  embed_height=EMBED_HEIGHT, assets={name: asset_version(name) for name in ASSETS})
    _write_pages(folder, show, episode, dialogue, common, texts, cover)
    item = _feed_entry(show, episode, dialogue, folder, audio_name, audio.duration, chapters, cover, words)
    files = [*write_assets(site), *sorted(str(p.relative_to(site)) for p in folder.rglob("*") if p.is_file())]
    digests = {name: file_digest(site / name) for name in files}
    # What the search index is made from: a changed transcript changes the catalogue entry.
    item.transcript_digest = digests[f"{episode.slug}/{TRANSCRIPT_JSON}"]
    return RenderedEpisode(files=files, item=item, digests=digests)


def render_index(show: Show, items: list[FeedEntry]) -> bytes:
    """The show's home page: its episodes newest first (drafts left out), and the feed.
    It lists the whole catalogue, so publish renders it, with the feed."""
    published = sorted(
        (item for item in items if not item.draft),
        key=lambda item: (item.date, item.number),
        reverse=True,
    )
    words = labels(show)
    page = _templates.get_template("index.html").render(
        root="", show=show, items=published, words=words, feed=FEED_FILE,
        dates={item.slug: long_date(dt.date.fromisoformat(item.date), words) for item in published},
        assets={name: asset_version(name) for name in ASSETS},
    )
    return page.encode("utf-8")
