"""Diarize stage: every word of the transcript gets the name of who said it
(pipeline.engines.diarize). It listens to the producer's file, as transcription does: the
mastered MP3's limiter and encoding are for listeners, and the speaker models were trained on
recordings as made (docs/benchmarks.md has the figures)."""

from __future__ import annotations

from pathlib import Path

from pipeline.build.files import file_digest
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.engines.diarize import DiarizeOptions
from pipeline.engines.diarize.turns import diarize
from pipeline.model import Dialogue, transcript_from_data

OPTIONS = DiarizeOptions()  # every tuning number of the diarizer: in the cache key


def optional_file_digest(path: Path | None) -> str | None:
    return file_digest(path) if path and path.is_file() else None


def _diarize(run: EpisodeRun) -> Dialogue:
    return diarize(
        run.episode.audio,
        transcript_from_data(run.artifact("transcribe")),
        run.show.host,
        run.episode.guests,
        host_voiceprint=run.show.host_voiceprint,
        mapping=run.episode.speakers,
        options=OPTIONS,
    )


STAGE = Stage(
    "diarize",
    inputs=lambda run: {
        "source": file_digest(run.episode.audio),  # the raw file's, as transcription's
        "transcript": run.upstream_key("transcribe"),
        "host": run.show.host,
        "guests": run.episode.guests,
        "voiceprint": optional_file_digest(run.show.host_voiceprint),
        "mapping": run.episode.speakers,
        "options": OPTIONS.key(),
    },
    make=_diarize,
    revision=11,  # 3: no turn starts mid-word; 4: segmentation-3.0 + CAM++/GE2E; 5: best path, GE2E fallback;
    # 6: no lone clicks, the host the first voice to hold the floor; 7: labellings weighed by separation too;
    # 8: slow features, not GE2E alone, when the voices blend; 9: ... whenever the joined vector blends them;
    # 10: pieces relabelled by a linear model learnt from the labelling; 11: the speech heard near the words,
    # only words near a change of voice moved to a sentence end; the producer's file, not the mastered one
)
