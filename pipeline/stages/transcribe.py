"""Transcribe stage: the raw audio to timed words (pipeline.engines.transcribe)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from pipeline.build.files import file_digest
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.engines.corrections import vocabulary
from pipeline.engines.transcribe import TranscribeOptions, transcribe

# The show file's transcription settings; one it leaves out keeps TranscribeOptions' default.
SHOW_SETTINGS = ("model", "device", "compute_type", "batch_size")
_OPTIONS: WeakKeyDictionary[EpisodeRun, TranscribeOptions] = WeakKeyDictionary()


def transcribe_options(run: EpisodeRun) -> TranscribeOptions:
    """The run's options, built once: the transcribe and footnotes stages' keys, the decode
    and the phrase scores all read them."""
    if run not in _OPTIONS:
        chosen = {name: getattr(run.show, name) for name in SHOW_SETTINGS if getattr(run.show, name) is not None}
        _OPTIONS[run] = TranscribeOptions(
            language=run.show.language,
            vocabulary=tuple(vocabulary(run.episode.links, run.show.glossary)),
            **chosen,
        )
    return _OPTIONS[run]


STAGE = Stage(
    "transcribe",
    # The raw file's digest, not the mastered one: re-mastering must not re-transcribe.
    inputs=lambda run: {
        "source": file_digest(run.episode.audio),
        **transcribe_options(run).key(),
    },
    make=lambda run: transcribe(run.episode.audio, transcribe_options(run)),
    # 7: what a retry leaves without words decoded again in short pieces, pushed not to repeat itself;
    # 8: then the gaps those pieces leave, alone; retries batched when the first pass is;
    # 9: a segment with a loop inside (a group of words max_repeats times in a row) is decoded again;
    # 10: words a retry writes inside a long segment's span come between its words, in time order;
    # 11: the middle of a word stretched over seconds is decoded again, and each word ends where the next starts
    revision=11,
)
