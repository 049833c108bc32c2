"""A phrase scored against the audio, not only against the text.

Teacher-forced, Whisper gives each token of a given text its probability given the audio and
the tokens before it (CTranslate2's `Whisper.align`, which faster-whisper uses for word
timestamps). So for a stretch of heard words, how well the audio supports the words as heard
is compared with how well it supports the same stretch with a link's phrase in their place:

    margin = log P(phrase + next words | words heard since the window's start, audio)
           - log P(words as heard + next words | the same, audio)

The margin ranks the spots where a phrase may be said, but cannot decide alone: at a true
mention it is mostly negative (the first pass is the decoder's own best path), and where
recognition is unsure any name gains. What decides is the contrast: the phrase's margin per
token less the best margin of a few unrelated names at the same stretch (second_chance.py).

Costs: the encoder runs once per window (window_s of audio, unpadded, every step_s), shared by
every text scored there; each text then costs one decoder pass. Two gotchas: the decoder is
given the words heard from the window's start (encoder output sliced to begin later makes every
token improbable), and an elided word's rest joins on unspaced ("l'arrière"), else the heard
text is improbable and every substitution wins.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.model import Word

SAMPLE_RATE = 16000
LONGEST_WINDOW_S = 30.0  # Whisper's window


@dataclass(frozen=True)
class Margin:
    """How much better the audio supports a text than the words heard: in total log-probability,
    and per token (each side's mean)."""

    total: float
    per_token: float


class PhraseScores(Protocol):
    """An episode's audio, asked how well texts fit in place of heard words."""

    def margins(self, first: int, last: int, texts: Sequence[str]) -> list[Margin]:
        """Each text's margin in place of the heard words `first`..`last` (indexes into the
        episode's words)."""


ScoreAudio = Callable[[list[Word]], PhraseScores]  # the episode's words -> its scores


def continues(word: Word) -> bool:
    """Whether the word is the rest of the one before ("l" then "'arrière", "là" then "-bas")."""
    return word.text.startswith(("'", "’", "-"))


def text_of(words: Sequence[Word], first: int, last: int) -> str:
    """The heard words as written, an elided word's rest joined on unspaced."""
    return "".join(w.text if k == first or continues(w) else " " + w.text
                   for k, w in enumerate(words[first : last + 1], start=first))


@dataclass
class _Window:
    start: float
    end: float
    words: range  # the heard words wholly inside it
    encoded: object = None  # encoder output, [1, positions, width], when first needed
    scored: dict[tuple, float] = field(default_factory=dict)  # token sequences -> log-probability


class AudioScorer:
    """PhraseScores over one episode's samples (16 kHz mono) with a faster-whisper model, both
    loaded only when a text is first scored that earlier runs had not: a run whose links are all
    in the words, or one after a producer's fix, loads neither."""

    def __init__(self, load_whisper: Callable[[], object], load_samples: Callable[[], object], words: list[Word],
                 language: str, options: FootnoteOptions = FootnoteOptions(), kept: dict[str, list] | None = None):
        """`load_whisper`, `load_samples`: the model and the samples, when needed. `kept`: scores
        of earlier runs on this audio (text key -> [log-probability, tokens]), read and added to,
        so that a run after a producer's fix encodes and decodes only what it had not scored."""
        self._load_whisper, self._load_samples = load_whisper, load_samples
        self.words, self.language, self.options = words, language, options
        self.starts = self._window_starts()
        self._windows: dict[int, _Window] = {}
        self.kept = {} if kept is None else kept

    @functools.cached_property
    def whisper(self):
        return self._load_whisper()

    @functools.cached_property
    def samples(self):
        return self._load_samples()

    @functools.cached_property
    def tokenizer(self):
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(self.whisper.hf_tokenizer, multilingual=True, task="transcribe", language=self.language)

    def margins(self, first: int, last: int, texts: Sequence[str]) -> list[Margin]:
        window = self._window(self._window_of(first))
        if last >= window.words.stop:
            return [Margin(-math.inf, -math.inf) for _ in texts]
        after = min(last + self.options.after_words, window.words.stop - 1)
        tail = text_of(self.words, last + 1, after) if after > last else ""
        prefix = text_of(self.words, window.words.start, first - 1) if first > window.words.start else ""
        heard, *said = self._scores(window, prefix, [" ".join(filter(None, (t, tail)))
                                                    for t in (text_of(self.words, first, last), *texts)])
        return [Margin(total - heard[0], total / count - heard[0] / heard[1]) for total, count in said]

    def _window_starts(self) -> list[int]:
        """The first heard word of each window: one every step_s."""
        starts, grid = [], -math.inf
        for k, word in enumerate(self.words):
            if word.start >= grid and not continues(word):
                starts.append(k)
                grid = word.start + self.options.score_step_s
        return starts or [0]

    def _window_of(self, first: int) -> int:
        """The window whose own spans hold a span starting at word `first`: a window owns the
        spans starting at least lead_s after its start."""
        at = self.words[first].start
        own = [k for k, s in enumerate(self.starts) if at >= self.words[s].start + (self.options.score_lead_s if k else 0)]
        return own[-1] if own else 0

    def _window(self, index: int) -> _Window:
        if index not in self._windows:
            options, first = self.options, self.starts[index]
            start = max(0.0, self.words[first].start - options.score_slack_s)
            end = start + min(options.score_window_s, LONGEST_WINDOW_S)
            last = max((k for k in range(first, len(self.words)) if self.words[k].end <= end - options.score_edge_s),
                       default=first)
            self._windows[index] = _Window(start, end, range(first, last + 1))
        return self._windows[index]

    def _encode(self, start: float, end: float):
        import ctranslate2
        import numpy as np

        clip = self.samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        extractor = self.whisper.feature_extractor
        features = extractor(clip)[:, : extractor.nb_max_frames]
        features = features[:, : features.shape[-1] - features.shape[-1] % 2]
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
        return np.array(self.whisper.model.encode(view, to_cpu=True))

    def _tokens(self, text: str) -> tuple[int, ...]:
        return tuple(self.tokenizer.encode(" " + text.strip())) if text.strip() else ()

    def _scores(self, window: _Window, prefix: str, texts: list[str]) -> list[tuple[float, int]]:
        """Each text's log-probability after the prefix in the window's audio, and its tokens."""
        keys = [f"{window.start:.3f} {window.end:.3f}|{prefix}|{text}" for text in texts]
        if any(key not in self.kept for key in keys):
            for key, scored in zip(keys, self._scored(window, prefix, texts), strict=True):
                self.kept[key] = [round(scored[0], 4), scored[1]]
        return [tuple(self.kept[key]) for key in keys]

    def _scored(self, window: _Window, prefix: str, texts: list[str]) -> list[tuple[float, int]]:
        if window.encoded is None:
            window.encoded = self._encode(window.start, window.end)
        head = self._tokens(prefix)
        pairs = [(head, self._tokens(text)) for text in texts]
        todo = [pair for pair in dict.fromkeys(pairs) if pair not in window.scored]
        for batch in _batches(todo, self.options.score_batch):
            window.scored.update(zip(batch, self._log_probs(window, batch), strict=True))
        return [(window.scored[pair], max(len(pair[1]), 1)) for pair in pairs]

    def _log_probs(self, window: _Window, pairs: list[tuple[tuple[int, ...], tuple[int, ...]]]) -> list[float]:
        import ctranslate2
        import numpy as np

        encoded = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(window.encoded, len(pairs), axis=0)))
        frames = 2 * window.encoded.shape[1]
        results = self.whisper.model.align(encoded, list(self.tokenizer.sot_sequence),
                                           [[*head, *tail] for head, tail in pairs], [frames] * len(pairs))
        return [sum(math.log(max(p, 1e-12)) for p in result.text_token_probs[len(head) : len(head) + len(tail)])
                for result, (head, tail) in zip(results, pairs, strict=True)]


def _batches(items: list, size: int) -> Iterator[list]:
    for k in range(0, len(items), size):
        yield items[k : k + size]
