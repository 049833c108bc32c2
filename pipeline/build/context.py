"""What the stages and the review page both need to know about one episode's run: where its
files are in the build folder, who its people are, the producer's fixes, the mastered audio."""

from __future__ import annotations

from pathlib import Path

from pipeline.build.runner import EpisodeRun
from pipeline.config import CORRECTIONS_FILE
from pipeline.corrections_file import load_fixes
from pipeline.model import Fixes, MasteredAudio

MASTER_FILE = "master.mp3"
SITE_FOLDER = "site"
LISTENS_FILE = "second-listens.json"  # the footnotes stage's second listens, decoded once
REVIEW_FILE = "review.json"  # the run's doubts, for the review page


def mastered(run: EpisodeRun) -> MasteredAudio:
    data = run.artifact("audio")
    return MasteredAudio(**{**data, "path": run.work / data["path"]})


def corrections_file(run: EpisodeRun) -> Path:
    return run.episode.folder / CORRECTIONS_FILE


def people(run: EpisodeRun) -> list[str]:
    """The episode's people, host first: the names its turns and the producer's fixes may take."""
    return [run.show.host, *run.episode.guests]


def producer_fixes(run: EpisodeRun, path: Path | None = None) -> Fixes:
    """The producer's fixes (corrections.toml, or `path` read as it), checked against the episode."""
    return load_fixes(path or corrections_file(run), people(run), run.episode.links)


def site_folder(run: EpisodeRun) -> Path:
    """Where the render stage writes the episode's site."""
    return run.work / SITE_FOLDER
