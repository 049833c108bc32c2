"""Audio stage: the producer's raw file, mastered (pipeline.engines.mastering)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.build.context import MASTER_FILE
from pipeline.build.files import file_digest
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.engines import mastering
from pipeline.model import MasteredAudio


def _master(run: EpisodeRun) -> MasteredAudio:
    """The artifact names the file relative to the episode's build folder: a build cache moved
    to another machine (a CI job's) keeps its keys."""
    return replace(mastering.master(run.episode.audio, run.work / MASTER_FILE), path=Path(MASTER_FILE))


STAGE = Stage(
    "audio",
    inputs=lambda run: {
        "source": file_digest(run.episode.audio),
        "loudness": mastering.TARGET_LUFS,
        "true_peak": mastering.TARGET_TRUE_PEAK,
        "bitrate": mastering.MP3_BITRATE,
    },
    make=_master,
    outputs=lambda run: [run.work / MASTER_FILE],
    revision=2,  # 2: its file named relative to the build folder
)
