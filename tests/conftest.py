"""Shared fixtures: a throwaway project (show file + a short real clip) and the CLI in-process;
an S3 server on loopback (moto's) with a bucket per test; a headless Chromium.

The CLI runs in this process (pipeline.cli.main) so the Whisper model loads once per session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_show
from pipeline.engines.mastering import ffmpeg_exe
from pipeline.model import FeedEntry, Person, Show, TranscriptLink
from pipeline.publishing.targets.s3 import S3Folder
from pipeline.rendering.episode import RenderedEpisode

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "episodes" / "exemple"
PREFIX = "podcast"  # the S3 tests publish under s3://<bucket>/podcast/
CDN = "https://cdn.example.org/podcast"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def make_show(**changes) -> Show:
    """The repository's show file as the pipeline loads it, with some fields changed."""
    return dataclasses.replace(load_show(REPO / "feeds" / "show.toml"), **changes)


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or a clean skip where that folder is absent (a user's machine)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{relative} (shared test data not present)")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Project:
    root: Path

    @property
    def show(self) -> Path:
        return self.root / "feeds" / "show.toml"

    @property
    def episodes(self) -> Path:
        return self.root / "episodes"

    @property
    def work(self) -> Path:
        return self.root / "build"

    @property
    def site(self) -> Path:
        return self.root / "site"

    def publish(self, capsys, *argv: str) -> Result:
        """`publish VERB ...` with this project's files; returns exit code, stdout, stderr."""
        capsys.readouterr()
        verb, *rest = argv
        code = main([verb, *rest, "--show", str(self.show), "--episodes", str(self.episodes),
                     "--work", str(self.work)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def add_episode(self, slug: str, audio: Path | None, extra_toml: str = "") -> Path:
        """An episode folder copied from the sample's files, with `audio` as its audio."""
        folder = self.episodes / slug
        folder.mkdir(parents=True)
        toml = (SAMPLE / "episode.toml").read_text(encoding="utf-8")
        (folder / "episode.toml").write_text(toml + extra_toml, encoding="utf-8")
        shutil.copyfile(SAMPLE / "notes.md", folder / "notes.md")
        if audio is not None:
            shutil.copyfile(audio, folder / "audio.mp3")
        return folder


def make_project(root: Path) -> Project:
    (root / "feeds").mkdir(parents=True)
    show = (REPO / "feeds" / "show.toml").read_text(encoding="utf-8")
    (root / "feeds" / "show.toml").write_text(
        show.replace('destination = "site"', f'destination = "{root / "site"}"'), encoding="utf-8"
    )
    shutil.copyfile(REPO / "feeds" / "artwork.jpg", root / "feeds" / "artwork.jpg")
    return Project(root)


def cut_audio(source: Path, target: Path, seconds: float, start: float = 0.0) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-ss", str(start), "-t", str(seconds), "-i", str(source),
         "-c:a", "libmp3lame", "-b:a", "64k", str(target)],
        check=True,
    )
    return target


def make_silence(target: Path, seconds: float) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono",
         "-t", str(seconds), "-b:a", "64k", str(target)],
        check=True,
    )
    return target


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory) -> Path:
    """The sample episode's first 30 s: the host's intro and the guest's first answer."""
    return cut_audio(SAMPLE / "audio.mp3", tmp_path_factory.mktemp("clip") / "clip.mp3", 30)


@pytest.fixture
def project(tmp_path) -> Project:
    return make_project(tmp_path)


def publish_one(show, rendered, site, target, destination, **options):
    """One rendered episode published as `publish episode` does it (a list of one)."""
    from pipeline.publishing.publish import publish_episodes

    return publish_episodes(show, [(rendered, site)], target, destination, **options)


# S3: moto's server on loopback, a fresh bucket per test, and a hand-made rendered episode.

@pytest.fixture(scope="session")
def endpoint():
    """moto's S3 server on a free loopback port, with dummy credentials (never a real account's)."""
    from moto.server import ThreadedMotoServer

    env = pytest.MonkeyPatch()
    env.setenv("AWS_ACCESS_KEY_ID", "testing")
    env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    env.setenv("AWS_CONFIG_FILE", "/nonexistent")
    env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.delenv(name, raising=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    env.undo()


@pytest.fixture
def s3(endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


@pytest.fixture
def bucket(s3) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def s3_folder(bucket: str, endpoint: str, **options) -> S3Folder:
    """The publishing target for s3://<bucket>/podcast/ on the loopback server."""
    return S3Folder(bucket, PREFIX, endpoint_url=endpoint, **options)


def make_cdn_show(**changes) -> Show:
    """The show file, served from the CDN the S3 tests publish to."""
    return make_show(**{"base_url": CDN, **changes})


def render_by_hand(site: Path, slug: str, number: int, notes: str = "Les notes.",
                   audio: bytes | None = None) -> RenderedEpisode:
    """What the render stage leaves for one episode: its files under site/<slug>/ and its item."""
    base = f"{CDN}/{slug}/"
    spelled = "".join("abcdefghij"[int(digit)] for digit in str(number))  # apps frown on numbered titles
    contents = {
        f"{slug}.mp3": audio if audio is not None else bytes(range(256)) * 64 + slug.encode(),
        "index.html": f"<!doctype html><title>{slug}</title><p>{notes}</p>\n".encode(),
        "transcript.txt": f"Épisode {number}\n\nGérald : bonjour.\n".encode(),
        "transcript.vtt": b"WEBVTT\n\n00:00.000 --> 00:01.000\n<v Host>bonjour.\n",
        "transcript.srt": b"1\n00:00:00,000 --> 00:00:01,000\nbonjour.\n",
        "chapters.json": json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0}]}).encode(),
    }
    (site / slug).mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (site / slug / name).write_bytes(data)
    item = FeedEntry(
        slug=slug, title=f"Conversation {spelled}", number=number,
        date=(dt.date(2026, 1, 1) + dt.timedelta(days=number)).isoformat(),
        description_html=f"<p>{notes}</p>", link=base,
        audio_url=base + f"{slug}.mp3", audio_length=len(contents[f"{slug}.mp3"]), duration=60,
        transcripts=[TranscriptLink(base + "transcript.vtt", "text/vtt", "captions", "fr")],
        chapters_url=base + "chapters.json", persons=[Person("Gérald Holubowicz", "host")],
    )
    return RenderedEpisode(files=sorted(f"{slug}/{name}" for name in contents), item=item)


# Chromium, headless, for the page tests (skipped without playwright or Debian's chromium).

@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package: pip install -e '.[test]'"
    )
    if not CHROMIUM.is_file():
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
