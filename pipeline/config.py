"""Load and validate the producer's files: `feeds/show.toml` and `episodes/<slug>/episode.toml`.

The TOML keys are the fields of Show and Episode (see model.py); pydantic checks them at load so
that a typo or a wrong type stops the run with the file and the key named, before any work starts.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydantic

from pipeline.errors import PipelineError
from pipeline.model import Chapter, Episode, Link, Person, Show

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # whole (fullmatch); short enough for any file system
RESERVED_SLUGS = {"assets"}  # the site's own folder
EPISODE_FILE = "episode.toml"
NOTES_FILE = "notes.md"
CORRECTIONS_FILE = "corrections.toml"
GLOSSARY_FILE = "glossary.toml"  # beside the show file
VOICEPRINT_FILE = "host-voiceprint.npy"  # beside the show file, made by `publish enroll-host`
EPISODE_TYPES = ("full", "trailer", "bonus")
ARTWORK_PIXELS = (1400, 3000)  # Apple's bounds for a square show image
# No control character has a place in a title or a note (tab and newline aside), and the old
# bidirectional embeddings and overrides can disguise text ("gpj.exe" read as "exe.jpg").
FORBIDDEN_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e]")
# Caps on what the producer (or a fixes file) gives: a mistaken export of hundreds of MB must
# stop at once with a line, not run for minutes and gigabytes.
MAX_FILE_BYTES = 1_000_000  # a TOML file (show, episode, glossary, corrections) or notes.md
MAX_TEXT_CHARS = 10_000  # any one string of a TOML file


def endpoint_problem(url: str) -> str | None:
    """What is wrong with an s3_endpoint_url, if anything; the URL itself is never quoted (it
    may hold a password)."""
    if "@" in url:
        # Never printed: S3 signs requests with AWS credentials, a password in a URL only leaks.
        return ("holds a user name or password; remove them and give the credentials as "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return "not a valid URL; write it like https://minio.example.org:9000"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host; write it like https://minio.example.org:9000"
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        return "may not hold '?', '#' or spaces; write it like https://minio.example.org:9000"
    return None


def unprintable(text: str) -> str | None:
    """What is wrong with a text that must print, if anything."""
    found = FORBIDDEN_CHARACTER.search(text)
    if not found:
        return None
    kind = "a bidirectional override" if found.group() >= "\u202a" else "a control character"
    return f"{kind} (U+{ord(found.group()):04X}) cannot be published; remove it"


def _check_printable(value: Any, path: Path, key: str = "") -> None:
    """Every string in a loaded file, at any depth, must print (see FORBIDDEN_CHARACTER)."""
    if isinstance(value, str):
        problem = unprintable(value)
        if problem:
            raise PipelineError(path, f"key '{key or '(top level)'}': {problem}")
        if len(value) > MAX_TEXT_CHARS:
            raise PipelineError(path, f"key '{key or '(top level)'}': {len(value)} characters, more than "
                                f"the {MAX_TEXT_CHARS} allowed; shorten it")
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_printable(item, path, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _check_printable(item, path, f"{key}[{index}]")


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PipelineError(path, f"{size} bytes, more than the {MAX_FILE_BYTES} allowed; is it the right file?")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PipelineError(path, "not UTF-8 text; save it as UTF-8") from None
    except FileNotFoundError:
        raise PipelineError(path, "file not found") from None
    except OSError as exc:
        raise PipelineError(path, f"cannot read it: {exc.strerror}") from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise PipelineError(path, f"malformed TOML: {exc}") from None
    _check_printable(data, path)
    return data


def read_notes(path: Path) -> str:
    text = read_text(path)
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: it splits at \x0c
        problem = unprintable(line)
        if problem:
            raise PipelineError(path, f"line {number}: {problem}")
    return text


def _strict(cls: type) -> pydantic.TypeAdapter:
    """A validator for a model dataclass that rejects unknown keys (typos must not pass silently)."""
    strict = pydantic.dataclasses.dataclass(cls, config=pydantic.ConfigDict(extra="forbid"))
    return pydantic.TypeAdapter(strict)


def invalid(path: Path, exc: pydantic.ValidationError) -> PipelineError:
    """The first validation error as one line: the file, the key (lists counted from 1), why."""
    error = exc.errors()[0]
    key = ""
    for part in error["loc"]:
        key += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if key else str(part)
    return PipelineError(path, f"key '{key or '(top level)'}': {error['msg']}")


def read_validated(path: Path, model: type[pydantic.BaseModel]) -> pydantic.BaseModel:
    try:
        return model.model_validate(read_toml(path))
    except pydantic.ValidationError as exc:
        raise invalid(path, exc) from None


def _validate(adapter: pydantic.TypeAdapter, data: dict, path: Path, result_type: type):
    try:
        checked = adapter.validate_python(data)
    except pydantic.ValidationError as exc:
        raise invalid(path, exc) from None
    fields = {f.name: getattr(checked, f.name) for f in dataclasses.fields(result_type)}
    return result_type(**fields)


_SHOW = _strict(Show)


def load_show(path: Path) -> Show:
    data = read_toml(path)
    for key in ("source", "glossary"):
        if key in data:
            raise PipelineError(path, f"key '{key}' is set by the pipeline, remove it")
    show = _validate(_SHOW, data, path, Show)
    show.source = path
    if not show.language or not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2})?", show.language):
        raise PipelineError(path, f"key 'language': '{show.language}' is not an ISO 639 code like 'fr'")
    if not re.match(r"^https?://", show.base_url):
        raise PipelineError(path, "key 'base_url': must be an absolute http(s) URL")
    show.base_url = show.base_url.rstrip("/")
    problem = endpoint_problem(show.s3_endpoint_url) if show.s3_endpoint_url is not None else None
    if problem:
        raise PipelineError(path, f"key 's3_endpoint_url': {problem}")
    for key in ("artwork", "host_voiceprint"):
        value = getattr(show, key)
        if value is not None:
            setattr(show, key, file_within(path.parent, value, path, key))
    if show.artwork:
        check_artwork(show.artwork, path)
    _check_show_links(show, path)
    enrolled = path.parent / VOICEPRINT_FILE
    if show.host_voiceprint is None and enrolled.is_file():
        show.host_voiceprint = enrolled
    show.glossary = load_glossary(path.parent / GLOSSARY_FILE)
    return show


def _check_show_links(show: Show, path: Path) -> None:
    """Funding and subscribe links, and the host's page and picture: absolute http(s) URLs with
    a label, as podcast apps and the pages need them."""
    keyed = [(f"{key}[{index}]", link) for key in ("funding", "subscribe")
             for index, link in enumerate(getattr(show, key), start=1)]
    for key, link in keyed:
        if not link.label.strip():
            raise PipelineError(path, f"key '{key}.label': must not be empty")
        if not re.match(r"^https?://[^/\s]", link.url):
            raise PipelineError(path, f"key '{key}.url': '{link.url}' is not an absolute http(s) URL")
    for key in ("host_href", "host_img"):
        value = getattr(show, key)
        if value is not None and not re.match(r"^https?://[^/\s]", value):
            raise PipelineError(path, f"key '{key}': '{value}' is not an absolute http(s) URL")


class _EpisodeFile(pydantic.BaseModel):
    """The episode file's own shape: links name their phrases; chapters accept 'MM:SS'."""

    model_config = pydantic.ConfigDict(extra="forbid")

    class LinkEntry(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        phrase: str
        also: list[str] = []
        title: str
        url: pydantic.AnyHttpUrl

    class GuestEntry(pydantic.BaseModel):
        """A guest as a table: `{ name = "…", href = "https://…", img = "https://…" }`."""

        model_config = pydantic.ConfigDict(extra="forbid")
        name: str = pydantic.Field(min_length=1)
        href: pydantic.AnyHttpUrl | None = None
        img: pydantic.AnyHttpUrl | None = None

    class ChapterEntry(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        start: float | str
        title: str
        url: pydantic.AnyHttpUrl | None = None

        @pydantic.field_validator("start")
        @classmethod
        def seconds(cls, value: float | str) -> float:
            return parse_timestamp(value)

    title: str = pydantic.Field(min_length=1)
    number: int = pydantic.Field(ge=1)
    date: Any
    guests: list[str | GuestEntry] = pydantic.Field(min_length=1)
    audio: str
    artwork: str | None = None
    links: list[LinkEntry] = []
    chapters: list[ChapterEntry] = []
    season: int | None = pydantic.Field(default=None, ge=1)
    episode_type: str = "full"
    explicit: bool | None = None
    draft: bool = False
    speakers: dict[str, str] = {}

    @pydantic.field_validator("date")
    @classmethod
    def calendar_date(cls, value: Any):
        import datetime as dt

        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        raise ValueError("must be a TOML date like 2026-11-28")

    @pydantic.field_validator("speakers")
    @classmethod
    def known_labels(cls, value: dict[str, str]) -> dict[str, str]:
        for label in value:
            if not re.fullmatch(r"S[1-9]\d*", label):
                raise ValueError(
                    f"'{label}' is not a voice label: use S1, S2, ... (S1 speaks first)"
                )
        return value

    @pydantic.field_validator("episode_type")
    @classmethod
    def known_type(cls, value: str) -> str:
        if value not in EPISODE_TYPES:
            raise ValueError(f"must be one of {', '.join(EPISODE_TYPES)}")
        return value


def parse_timestamp(value: float | str) -> float:
    """Seconds from a number or from 'H:MM:SS' / 'MM:SS' (fractions allowed)."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    parts = value.strip().split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"'{value}' is not a time like 12:30 or 1:02:03") from None
    if len(numbers) > 3 or any(n < 0 for n in numbers):
        raise ValueError(f"'{value}' is not a time like 12:30 or 1:02:03")
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds


class _GlossaryFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    terms: list[pydantic.constr(strip_whitespace=True, min_length=1)] = []


def load_glossary(path: Path) -> list[str]:
    """The show's recurring names and terms (`terms = [...]`); a missing file means none."""
    return read_validated(path, _GlossaryFile).terms if path.is_file() else []


def file_within(folder: Path, value: str | Path, source: Path, key: str) -> Path:
    """A file named in `source` under `key`, which must lie inside `folder` once links are
    followed: a project's files are published, so they must not come from anywhere else."""
    named = folder / value
    resolved = named.resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise PipelineError(source, f"key '{key}': {value} is outside {folder}; put the file in that folder")
    if not resolved.is_file():
        raise PipelineError(source, f"key '{key}': file {named} not found")
    return named


def check_artwork(artwork: Path, show_file: Path) -> None:
    """A square JPEG or PNG within Apple's pixel bounds, as apps require, before anything is published."""
    from PIL import Image, UnidentifiedImageError

    low, high = ARTWORK_PIXELS
    try:
        with Image.open(artwork) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise PipelineError(show_file, f"key 'artwork': {artwork.name} is not a readable image ({exc}); "
                            "give a JPEG or PNG") from None
    if kind not in ("JPEG", "PNG"):
        raise PipelineError(show_file, f"key 'artwork': {artwork.name} is {kind}; give a JPEG or PNG")
    if width != height or not low <= width <= high:
        raise PipelineError(show_file, f"key 'artwork': {artwork.name} is {width}x{height} pixels; "
                            f"podcast apps need a square of {low} to {high}")


def episode_folder(episodes: Path, slug: str) -> Path:
    if not SLUG.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise PipelineError(
            repr(slug) if not slug.isprintable() else slug,
            "not a valid episode slug: 1 to 64 lowercase letters, digits, '-' and '_', starting "
            "with a letter or digit",
        )
    folder = episodes / slug
    if not (folder / EPISODE_FILE).is_file():
        raise PipelineError(
            folder / EPISODE_FILE, f"unknown episode '{slug}': create this file (see README)"
        )
    return folder


def load_episode(episodes: Path, slug: str) -> Episode:
    folder = episode_folder(episodes, slug)
    path = folder / EPISODE_FILE
    checked = read_validated(path, _EpisodeFile)
    audio = file_within(folder, checked.audio, path, "audio")
    artwork = file_within(folder, checked.artwork, path, "artwork") if checked.artwork else None
    if artwork:
        check_artwork(artwork, path)
    guests = [guest if isinstance(guest, str) else guest.name for guest in checked.guests]
    people = [Person(guest.name, "guest", str(guest.href) if guest.href else None,
                     str(guest.img) if guest.img else None)
              for guest in checked.guests if not isinstance(guest, str)]
    notes = folder / NOTES_FILE
    return Episode(
        slug=slug,
        title=checked.title,
        number=checked.number,
        date=checked.date,
        guests=guests,
        audio=audio,
        links=[Link([link.phrase, *link.also], link.title, str(link.url)) for link in checked.links],
        chapters=[Chapter(c.start, c.title, str(c.url) if c.url else None) for c in checked.chapters],
        notes_markdown=read_notes(notes) if notes.is_file() else "",
        season=checked.season,
        episode_type=checked.episode_type,
        explicit=checked.explicit,
        draft=checked.draft,
        speakers=checked.speakers,
        folder=folder,
        artwork=artwork,
        people=people,
    )
