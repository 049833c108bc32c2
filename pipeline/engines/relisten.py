"""Second listens: a stretch of the episode decoded again, favouring one phrase; and the
episode's audio scoring a phrase in place of heard words (PhraseScorer), the footnotes stage's
last chance at a name the first pass misheard (see engines/footnotes).

Each listen costs a decode of a few seconds of audio; the footnotes stage re-runs after every
producer's fix, so with a cache file each listen is decoded once for this audio and these
options.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from pipeline.build.files import data_digest, file_digest, write_json_atomically
from pipeline.engines.footnotes import AudioScorer, FootnoteOptions
from pipeline.engines.transcribe import SAMPLE_RATE, TranscribeOptions, samples_of
from pipeline.engines.whisper_model import load_model
from pipeline.model import Word, to_data

Listen = Callable[[float, float, str], list[Word]]  # (start, end, phrase) -> the words heard


class SecondListener:
    """`listener(start, end, phrase)`: the words heard between `start` and `end` seconds with
    `phrase` as the decoder's hotwords. `cache`: the file the listens are kept in; `listen`:
    what decodes one (faster-whisper by default; a test passes its own)."""

    def __init__(self, source: Path, options: TranscribeOptions, cache: Path | None = None,
                 listen: Listen | None = None):
        self.source = source
        self.options = options
        self.cache = cache
        self._listen = listen or self._focused_listen

    def __call__(self, start: float, end: float, phrase: str) -> list[Word]:
        key = f"{start:.3f} {end:.3f} {phrase}"
        if key not in self._heard:
            self._heard[key] = [to_data(word) for word in self._listen(start, end, phrase)]
            if self.cache is not None:
                write_json_atomically(self.cache, {"for": self._identity, "listens": self._heard})
        return [Word(**word) for word in self._heard[key]]

    @functools.cached_property
    def _identity(self) -> str:
        """The audio and the options the cached listens were decoded for."""
        return data_digest([file_digest(self.source), self.options.key()])

    @functools.cached_property
    def _heard(self) -> dict[str, list[dict]]:
        """Listens already decoded for this audio and these options, by clip and phrase; none
        when the cache file is missing, unreadable or for other audio or options."""
        if self.cache is None or not self.cache.is_file():
            return {}
        try:
            stored = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stored.get("listens", {}) if stored.get("for") == self._identity else {}

    @functools.cached_property
    def _audio(self):
        return samples_of(self.source)

    def _focused_listen(self, start: float, end: float, phrase: str) -> list[Word]:
        """One pass, no temperature fallbacks (a second chance, not a search), its tokens bounded:
        a clip cut mid-sentence can set the decoder repeating itself."""
        options = self.options
        model = load_model(options.model, options.device, options.compute_type)
        clip = self._audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        segments, _ = model.transcribe(
            clip, language=options.language, beam_size=options.beam_size,
            word_timestamps=True, hotwords=phrase, condition_on_previous_text=False, vad_filter=True,
            temperature=0.0, max_new_tokens=round(options.max_tokens_per_s * (end - start)),
        )
        return [
            Word(w.word.strip(), round(start + float(w.start), 3), round(start + float(w.end), 3),
                 round(float(w.probability), 3))
            for segment in segments for w in segment.words or [] if w.word.strip()
        ]


class PhraseScorer:
    """`scorer(words)`: the episode's audio, asked how well a link's phrase fits in place of
    heard words (engines/footnotes/audio_score.py), with the transcription's model, loaded once
    per process. With a cache file, each text is scored once for this audio, model and options:
    the footnotes stage re-runs after every producer's fix; `save()` writes what was scored."""

    def __init__(self, source: Path, options: TranscribeOptions, footnote_options: FootnoteOptions = FootnoteOptions(),
                 cache: Path | None = None):
        self.source = source
        self.options = options
        self.footnote_options = footnote_options
        self.cache = cache

    def __call__(self, words: list[Word]) -> AudioScorer:
        options = self.options
        model = load_model(options.model, options.device, options.compute_type)
        return AudioScorer(model, samples_of(self.source), words, options.language or "fr", self.footnote_options,
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
        if self.cache is None or not self.cache.is_file():
            return {}
        try:
            stored = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stored.get("scores", {}) if stored.get("for") == self._identity else {}
