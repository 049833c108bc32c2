"""Shared fixtures: a throwaway project (show file + a short real clip) and the CLI in-process.

The CLI runs in this process (pipeline.cli.main) so the Whisper model loads once per session.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import load_show
from pipeline.engines.mastering import ffmpeg_exe
from pipeline.model import Show

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "episodes" / "exemple"


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
