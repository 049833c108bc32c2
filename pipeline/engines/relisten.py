"""The episode's audio scoring a phrase in place of heard words (PhraseScorer): the footnotes
stage's last chance at a name the first pass misheard (see engines/footnotes). The footnotes
stage re-runs after every producer's fix, so with a cache file each text is scored once for
this audio, model and options.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pipeline.build.files import data_digest, file_digest, write_json_atomically
from pipeline.engines.footnotes import AudioScorer, FootnoteOptions
from pipeline.engines.transcribe import TranscribeOptions, samples_of
from pipeline.engines.whisper_model import load_model
from pipeline.model import Word


class PhraseScorer:
    """`scorer(words)`: the episode's audio, asked how well a link's phrase fits in place of
    heard words (engines/footnotes/audio_score.py), with the transcription's model (loaded once
    per process, and only when a text must be scored). With a cache file, each text is scored once for this audio, model and options:
    the footnotes stage re-runs after every producer's fix; `save()` writes what was scored."""

    def __init__(self, source: Path, options: TranscribeOptions, footnote_options: FootnoteOptions = FootnoteOptions(),
                 cache: Path | None = None):
        self.source = source
        self.options = options
        self.footnote_options = footnote_options
        self.cache = cache

    def __call__(self, words: list[Word]) -> AudioScorer:
        options = self.options
        return AudioScorer(lambda: load_model(options.model, options.device, options.compute_type),
                           lambda: samples_of(self.source), words, options.language or "fr", self.footnote_options,
                           self._kept)

    def save(self) -> None:
        if self.cache is not None:
            write_json_atomically(self.cache, {"for": self._identity, "scores": self._kept})

    @functools.cached_property
    def _identity(self) -> str:
        """The audio, model and options the kept scores were computed for."""
        return data_digest([file_digest(self.source), self.options.key(), self.footnote_options.key()])

    @functools.cached_property
    def _kept(self) -> dict[str, list]:
        """Scores already computed for this audio, model and options; none when the cache file
        is missing, unreadable or for other audio or options."""
        if self.cache is None or not self.cache.is_file():
            return {}
        try:
            stored = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stored.get("scores", {}) if stored.get("for") == self._identity else {}
