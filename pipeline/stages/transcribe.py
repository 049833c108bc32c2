"""Transcribe stage: the raw audio to timed words (pipeline.engines.transcribe)."""

from __future__ import annotations

from pipeline.build.files import file_digest
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.engines import transcribe
from pipeline.engines.corrections import vocabulary


def transcribe_settings(run: EpisodeRun) -> transcribe.TranscribeSettings:
    return transcribe.TranscribeSettings(
        model=run.show.model,
        device=run.show.device,
        compute_type=run.show.compute_type,
        batch_size=run.show.batch_size,
        language=run.show.language,
        vocabulary=tuple(vocabulary(run.episode.links, run.show.glossary)),
    )


STAGE = Stage(
    "transcribe",
    # The raw file's digest, not the mastered one: re-mastering must not re-transcribe.
    inputs=lambda run: {
        "source": file_digest(run.episode.audio),
        **transcribe_settings(run).key(),
    },
    make=lambda run: transcribe.transcribe(run.episode.audio, transcribe_settings(run)),
    # 7: what a retry leaves without words decoded again in short pieces, pushed not to repeat itself
    revision=7,
)
