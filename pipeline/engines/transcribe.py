"""Transcription: speech to timed words with faster-whisper, on the GPU when there is one.

Silence must never turn into invented text, the commonest complaint about Whisper: voice
activity detection cuts silence out before decoding, the hallucination-silence threshold drops
words floating over long pauses, and segments the model itself rates as probably-not-speech,
or that loop (too repetitive, or a few words over and over), are discarded. Where the first
pass copies its hotwords out, or leaves speech the voice detector hears without words (between
words, or under a word it stretched over seconds), those stretches are decoded again, alone;
what still has no words then is decoded in short pieces pushed not to repeat themselves, and
reported as a doubt.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from pipeline.engines.spelling import plain_tokens
from pipeline.engines.whisper_model import device_and_compute_type, load_model
from pipeline.model import Doubt, Segment, Transcript, Word, clock, join_words

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000  # what Whisper and its voice detector read
_WINDOW_S = 30.0  # Whisper decodes 30 s at a time
_TUNING = {"tuning": True}  # a number chosen on the benchmark, in a cache key only when changed


@dataclass(frozen=True)
class TranscribeOptions:
    """Every choice that shapes the words, with its default: the show's settings, then the
    tuning numbers (chosen on the benchmark's variants, see README.md)."""

    model: str = "base"
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = "auto"  # auto (int8 on the CPU, float16 on CUDA) or a CTranslate2 type
    language: str = "fr"
    beam_size: int = 5
    # 8: batched, 30 s windows side by side (about 3 times faster on 2 cores, as accurate: chosen on
    # bench/accuracy.py, see README.md); 0: sequential, each window after the one before.
    batch_size: int = 8
    vocabulary: tuple[str, ...] = ()  # names and terms to favour, passed as hotwords
    # A segment rated likely non-speech *and* decoded with low confidence is a hallucination.
    no_speech_probability: float = field(default=0.6, metadata=_TUNING)
    low_logprob: float = field(default=-1.0, metadata=_TUNING)
    max_compression_ratio: float = field(default=2.4, metadata=_TUNING)  # Whisper's bar for repetition
    # A loop inside a long segment leaves its ratio low ("FOSF" 22 times in 29 s of speech: 2.1):
    # a group of up to 4 words said this many times in a row is a loop too ("non non non" is not).
    max_repeats: int = field(default=5, metadata=_TUNING)
    max_vocabulary_chars: int = field(default=600, metadata=_TUNING)  # inside the 224-token prompt
    hallucination_silence_s: float = field(default=2.0, metadata=_TUNING)
    min_unheard_s: float = field(default=2.0, metadata=_TUNING)  # speech with no word: decoded again
    # Whisper may stretch a word over seconds of speech it never wrote (99 % of words last under
    # 1 s): only the ends of a longer word count as heard, its middle is decoded again.
    longest_word_s: float = field(default=2.0, metadata=_TUNING)
    pushed_piece_s: float = field(default=6.0, metadata=_TUNING)  # the last try's pieces...
    pushed_repetition_penalty: float = field(default=1.3, metadata=_TUNING)  # ...and their penalty
    max_tokens_per_s: int = field(default=8, metadata=_TUNING)  # French speech is about 5 a second

    def key(self) -> dict:
        """What a cache of decodes is keyed on: the settings, the device as "auto" resolves on
        this machine (CPU and GPU decode differently), and only the tuning numbers set away
        from their defaults (the defaults belong to the stage's revision, so that caches made
        before they were options stay valid)."""
        chosen = {f.name: getattr(self, f.name) for f in fields(self)
                  if not f.metadata.get("tuning") or getattr(self, f.name) != f.default}
        return {**chosen, "device": device_and_compute_type(self.device, self.compute_type)}

    def hotwords(self) -> str | None:
        """The vocabulary as the decoder's hotwords, cut to what fits its prompt."""
        text = ""
        for term in dict.fromkeys(v.strip() for v in self.vocabulary if v.strip()):
            longer = f"{text}, {term}" if text else term
            if len(longer) > self.max_vocabulary_chars:
                break
            text = longer
        return text or None


def copies_hotwords(text: str, options: TranscribeOptions) -> bool:
    """Whether a segment reads like the hotwords copied out: two of them in a row, in the
    order and with the separator the decoder was given them in."""
    terms = (options.hotwords() or "").split(", ")
    return any(f"{first}, {second}" in text for first, second in zip(terms, terms[1:]))


def decode(source, options: TranscribeOptions, clip: list[float] | None = None, pushed: bool = False):
    """faster-whisper's lazy (segments, info) for `source` (a file, or samples at 16 kHz), with
    the guards against invented text; batched when `options.batch_size` is set.

    A `clip` ([start, end, start, end...] in seconds) is where the VAD heard speech: there the
    model's own no-speech guess, which can skip a whole 30 s window of real speech, is not
    allowed to. A `pushed` decoding is the last try on such a clip, with repetition penalised.
    Batched, each piece of a clip is decoded alone (at most 30 s of it), side by side.
    """
    from faster_whisper import BatchedInferencePipeline

    audio = str(source) if isinstance(source, Path) else source
    model = load_model(options.model, options.device, options.compute_type)
    common = dict(
        language=options.language,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=True,
        hotwords=options.hotwords(),
        condition_on_previous_text=False,  # stops one misheard phrase repeating in a loop
        no_speech_threshold=None if clip else options.no_speech_probability,
        log_prob_threshold=options.low_logprob,
        **(_clip_settings(options, clip, pushed) if clip else {}),
    )
    if options.batch_size:
        if clip:
            common["clip_timestamps"] = [{"start": a, "end": b} for a, b in zip(clip[::2], clip[1::2])]
        return BatchedInferencePipeline(model).transcribe(audio, batch_size=options.batch_size, **common)
    if clip:
        return model.transcribe(audio, clip_timestamps=clip, **common)
    return model.transcribe(audio, hallucination_silence_threshold=options.hallucination_silence_s, **common)


def _clip_settings(options: TranscribeOptions, clip: list[float], pushed: bool) -> dict:
    """One try each, a loop cut short: warmer tries cost 2-3 times more for no better text."""
    longest = max(end - start for start, end in zip(clip[::2], clip[1::2]))
    return dict(temperature=0.0, repetition_penalty=options.pushed_repetition_penalty if pushed else 1.0,
                max_new_tokens=round(options.max_tokens_per_s * min(longest, _WINDOW_S)))


def samples_of(source: Path):
    """The audio as 16 kHz samples, as the voice detector and the decoder take it."""
    from faster_whisper.audio import decode_audio

    return decode_audio(str(source), sampling_rate=SAMPLE_RATE)


def speech_heard(source) -> list[tuple[float, float]]:
    """(start, end) in seconds of what the voice detector hears as speech (a file, or samples)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = samples_of(source) if isinstance(source, Path) else source
    return [(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(audio, VadOptions())]


@dataclass(frozen=True)
class Backend:
    """What `transcribe` hears with: faster-whisper's decoder, audio reader and voice detector
    (a test passes its own, to play a decoder that loops)."""

    decode: Callable = decode
    samples_of: Callable = samples_of
    speech_heard: Callable = speech_heard


FASTER_WHISPER = Backend()


def compression_ratio(text: str) -> float:
    """Whisper's measure of repetition, of one segment's text (faster-whisper gives each segment
    its whole 30 s window's: one loop would condemn every segment of its window)."""
    encoded = text.encode("utf-8")
    return len(encoded) / len(zlib.compress(encoded)) if encoded else 0.0


def _is_noise(segment, kept: list[Segment], options: TranscribeOptions, heard_as_speech: bool) -> bool:
    """A segment the model rates as probably not speech (unless the voice detector heard speech
    there), or one of the decoder's loops over music or noise: a sentence repeating the one
    before word for word, or a segment too repetitive to be speech ("Ah ah ah ah ...")."""
    unlikely = segment.no_speech_prob > options.no_speech_probability and segment.avg_logprob < options.low_logprob
    tokens = plain_tokens(segment.text)
    repeated = bool(kept) and len(tokens) >= 3 and tokens == plain_tokens(kept[-1].text)  # not "Merci."
    looping = (compression_ratio(segment.text) > options.max_compression_ratio
               or repeats_in_a_row(tokens) >= options.max_repeats)
    return (unlikely and not heard_as_speech) or repeated or looping


def repeats_in_a_row(tokens: list[str], longest_group: int = 4) -> int:
    """The most times a group of 1 to `longest_group` tokens comes in a row ("a b a b a b": 3)."""
    most = 1 if tokens else 0
    for size in range(1, longest_group + 1):
        for start in range(size):
            groups = [tuple(tokens[k : k + size]) for k in range(start, len(tokens) - size + 1, size)]
            run = 1
            for before, group in zip(groups, groups[1:]):
                run = run + 1 if group == before else 1
                most = max(most, run)
    return most


def _segment_of(segment, offset: float) -> Segment | None:
    """faster-whisper's segment as ours, placed in the episode; None when it has no word
    ("..." alone is no word)."""
    words = [
        Word(w.word.strip(), round(offset + w.start, 3), round(offset + w.end, 3), round(w.probability, 3))
        for w in segment.words or []
        if any(c.isalnum() for c in w.word)
    ]
    if not words:
        return None
    return Segment(round(offset + segment.start, 3), round(offset + segment.end, 3), segment.text.strip(), words,
                   round(segment.avg_logprob, 3), round(segment.no_speech_prob, 3))


def kept_segments(segments: Iterable, options: TranscribeOptions, bar: tqdm | None = None,
                  heard_as_speech: bool = False, offset: float = 0.0) -> tuple[list[Segment], int]:
    """The decoded segments with words, less the noise (see _is_noise), and how many were
    dropped as noise. `offset`: where in the episode the decoded audio starts."""
    kept, dropped = [], 0
    for segment in segments:
        if bar is not None:
            bar.update(max(0, round(offset + segment.end) - bar.n))
        if _is_noise(segment, kept, options, heard_as_speech):
            dropped += 1
        elif ours := _segment_of(segment, offset):
            kept.append(ours)
    return kept, dropped


def unheard_speech(speech: list[tuple[float, float]], segments: list[Segment], duration: float,
                   options: TranscribeOptions = TranscribeOptions()) -> list[tuple[float, float]]:
    """Stretches between words, and inside words longer than `options.longest_word_s` (all but
    their ends), where the VAD hears at least `options.min_unheard_s` of `speech`."""
    edges = [0.0, *(t for s in segments for w in s.words for t in _heard(w, options.longest_word_s)), duration]
    unheard = []
    for start, end in zip(edges[::2], edges[1::2]):
        spoken = sum(max(0.0, min(end, b) - max(start, a)) for a, b in speech)
        if spoken >= options.min_unheard_s:
            unheard.append((start, end))
    return unheard


def _heard(word: Word, longest: float) -> tuple[float, ...]:
    """The edges of the word's span, or of its two ends when it lasts over `longest` seconds."""
    if word.end - word.start <= longest:
        return word.start, word.end
    return word.start, word.start + longest / 2, word.end - longest / 2, word.end


def pieces(stretch: tuple[float, float], longest: float = TranscribeOptions.pushed_piece_s) -> list[float]:
    """The stretch cut into equal pieces of at most `longest` seconds, as faster-whisper's clips."""
    start, end = stretch
    count = max(1, math.ceil((end - start) / longest))
    step = (end - start) / count
    return [t for k in range(count) for t in (start + k * step, start + (k + 1) * step)]


@dataclass
class _Retry:
    """Stretches of the episode decoded again without hotwords (on a short clip they prime
    loops, or get written out): batched, all of a round's stretches in one call, each piece
    alone; sequential, each stretch alone."""

    samples: np.ndarray  # the episode at SAMPLE_RATE
    options: TranscribeOptions
    backend: Backend
    bar: tqdm
    wrote: list[tuple[float, float]] = field(default_factory=list)  # spans of every segment decoded, kept or not

    def __call__(self, stretches: list[tuple[float, float]], pushed: bool = False) -> list[Segment]:
        plain = replace(self.options, vocabulary=())
        if not plain.batch_size or not stretches:
            return [segment for stretch in stretches for segment in self._alone(stretch, plain, pushed)]
        longest = plain.pushed_piece_s if pushed else _WINDOW_S
        clips = [t for stretch in stretches for t in pieces(stretch, longest)]
        again, _ = self.backend.decode(self.samples, plain, clips, pushed)
        return kept_segments(self._noted(again), plain, self.bar, heard_as_speech=True)[0]

    def _alone(self, stretch: tuple[float, float], plain: TranscribeOptions, pushed: bool) -> list[Segment]:
        start, end = stretch
        clip = self.samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        whole = (0.0, len(clip) / SAMPLE_RATE)
        clips = pieces(whole, plain.pushed_piece_s) if pushed else list(whole)
        again, _ = self.backend.decode(clip, plain, clips, pushed)
        return kept_segments(self._noted(again, start), plain, self.bar, heard_as_speech=True, offset=start)[0]

    def _noted(self, segments: Iterable, offset: float = 0.0) -> Iterator:
        for segment in segments:
            self.wrote.append((offset + segment.start, offset + segment.end))
            yield segment

    def worth_pushing(self, stretch: tuple[float, float]) -> bool:
        """Whether pushing can change what a plain try wrote in `stretch`: it cuts a long stretch
        into pieces, and penalises a loop; a stretch of one piece where the plain try wrote
        nothing at all (the decoder ended at once) would be decoded the same way again."""
        start, end = stretch
        return (end - start > self.options.pushed_piece_s
                or any(a < end and b > start for a, b in self.wrote))


def in_time_order(segments: list[Segment]) -> list[Segment]:
    """The segments sorted by start, each cut where another starts inside its span: a retry
    fills speech that a long segment left without words, and its words belong between that
    segment's words before and after it (else the transcript reads them out of place)."""
    starts = sorted(segment.start for segment in segments)
    parts = [part for segment in segments
             for part in _cut(segment, starts[bisect_right(starts, segment.start) : bisect_left(starts, segment.end)])]
    return _ending_where_the_next_starts(sorted(parts, key=lambda segment: segment.start))


def _ending_where_the_next_starts(segments: list[Segment]) -> list[Segment]:
    """Each word cut at the next word's start: a word Whisper stretched over speech it never
    wrote must not overlap what a retry wrote there (its turn would cover the other voice)."""
    next_starts = iter([word.start for segment in segments for word in segment.words][1:] + [math.inf])
    # zip takes a word before a start, so each segment's words meet the starts that follow them.
    return [_with_words(segment, [replace(word, end=max(word.start, later)) if word.end > later else word
                                  for word, later in zip(segment.words, next_starts)])
            for segment in segments]


def _with_words(segment: Segment, words: list[Word]) -> Segment:
    if words == segment.words:
        return segment
    end = words[-1].end if words[-1] != segment.words[-1] else segment.end
    return replace(segment, end=end, words=words)


def _cut(segment: Segment, at: list[float]) -> list[Segment]:
    """The segment's words in runs between the times `at` (sorted), each run a segment."""
    runs: dict[int, list[Word]] = {}
    for word in segment.words:
        runs.setdefault(bisect_right(at, word.start), []).append(word)
    if len(runs) < 2:
        return [segment]
    last = len(runs) - 1
    return [replace(segment, start=segment.start if k == 0 else words[0].start,
                    end=segment.end if k == last else words[-1].end, text=join_words(words), words=words)
            for k, words in enumerate(runs.values())]


@dataclass
class _Outcome:
    """The segments kept, and what the tries after the first pass did, for the warnings."""

    kept: list[Segment]
    dropped: int
    copied: int = 0  # segments that copied the hotwords out, decoded again
    unheard: list[tuple[float, float]] = field(default_factory=list)  # after the first pass
    still: list[tuple[float, float]] = field(default_factory=list)  # after one retry: pushed
    left: list[tuple[float, float]] = field(default_factory=list)  # with no words at the end

    def add(self, segments: list[Segment]) -> None:
        self.kept = in_time_order([*self.kept, *segments])

    def worded(self, stretches: list[tuple[float, float]]) -> int:
        """How many of the stretches now hold a word (a pushed stretch may leave several gaps,
        so gaps are not counted)."""
        starts = [word.start for segment in self.kept for word in segment.words]
        return sum(any(a <= t < b for t in starts) for a, b in stretches)


def _redo_copied_hotwords(outcome: _Outcome, retry: _Retry) -> None:
    """Where the audio is hard, the decoder may write its prompt, the hotwords, out as text
    ("Amazon Mechanical Turk, ChatGPT, platformer..."): such a segment is decoded again
    without them."""
    copied = [segment for segment in outcome.kept if copies_hotwords(segment.text, retry.options)]
    outcome.kept = [segment for segment in outcome.kept if segment not in copied]
    outcome.add(retry([(segment.start, segment.end) for segment in copied]))
    outcome.copied = len(copied)


def _fill_unheard(outcome: _Outcome, retry: _Retry, speech: list[tuple[float, float]], duration: float) -> None:
    """Whisper may rate a whole 30 s window of real speech as "no speech" and skip it, or drop a
    few sentences inside one (synthetic or unusual voices especially): every stretch where the
    VAD hears speech and no word was written is decoded again, and where that loops or writes
    nothing, in short pieces pushed not to repeat themselves; then the gaps those pieces left."""
    def unheard() -> list[tuple[float, float]]:
        return unheard_speech(speech, outcome.kept, duration, retry.options)

    def fill(stretches: list[tuple[float, float]], pushed: bool = False) -> None:
        outcome.add(confident_inside_words(retry(stretches, pushed), outcome.kept, retry.options))

    outcome.unheard = unheard()
    fill(outcome.unheard)
    outcome.still = unheard()
    fill([stretch for stretch in outcome.still if retry.worth_pushing(stretch)], pushed=True)
    # A pushed piece may stop writing before its end: such a gap, narrower than the stretch it
    # was in, is decoded alone, once (a stretch that got no word at all is not tried again).
    fill([gap for gap in unheard() if gap not in outcome.still], pushed=True)
    outcome.left = unheard()


def confident_inside_words(segments: list[Segment], kept: list[Segment], options: TranscribeOptions) -> list[Segment]:
    """The retry's segments, less those inside a word stretched over seconds that were decoded
    with low confidence: on a voice the model barely knows they are guesses, written on top of
    what the stretched word's segment already wrote of that speech."""
    stretched = [(word.start, word.end) for segment in kept for word in segment.words
                 if word.end - word.start > options.longest_word_s]
    return [segment for segment in segments
            if segment.avg_logprob >= options.low_logprob
            or not any(start <= (segment.start + segment.end) / 2 < end for start, end in stretched)]


def _warnings(source: Path, outcome: _Outcome) -> list[str]:
    warnings = []
    if outcome.copied:
        warnings.append(f"{source}: {outcome.copied} segment(s) that copied the hotwords out were decoded "
                        "again without them")
    if outcome.unheard:
        warnings.append(
            f"{source}: {outcome.worded(outcome.unheard)} stretch(es) of speech the first pass left "
            f"without words were transcribed again, {outcome.worded(outcome.still)} of them only when pushed"
        )
    if outcome.left:
        warnings.append(
            f"{source}: speech heard but no words recognised at "
            + ", ".join(f"{clock(a)}-{clock(b)}" for a, b in outcome.left)
            + " (music or noise?): listen, and correct the transcript if words are missing"
        )
    if not outcome.kept:
        warnings.append(f"{source}: no speech found; the transcript is empty")
    elif outcome.dropped:
        warnings.append(f"{source}: {outcome.dropped} segment(s) dropped as probable non-speech, loops, or "
                        "repeated word for word")
    return warnings


def _words_within(segments: list[Segment], start: float, end: float) -> str:
    """The words written in a stretch, as published ("C'est", not "C 'est")."""
    return join_words([w for s in segments for w in s.words if start <= w.start < end])


def _doubts(outcome: _Outcome) -> list[Doubt]:
    """For the review page: speech still without words, and words written only when pushed."""
    doubts = [Doubt("unheard", round(a, 2), round(b, 2), "", "no words",
                    "the voice detector hears speech here, recognition wrote nothing: music, noise, or missing words?")
              for a, b in outcome.left]
    doubts += [Doubt("guessed", round(a, 2), round(b, 2), heard, heard,
                     "hard to hear: recognition wrote these words only when pushed not to repeat itself")
               for a, b in outcome.still if (heard := _words_within(outcome.kept, a, b))]
    return doubts


def transcribe(source: Path, options: TranscribeOptions, progress: bool = True,
               backend: Backend = FASTER_WHISPER) -> Transcript:
    """The episode's timed words: a first pass, then the second tries (see the module's story)."""
    samples = backend.samples_of(source)  # decoded once: the first pass, the voice detector and the retries read it
    segments, info = backend.decode(samples, options)
    # disable=None: a bar on a terminal only, never in a log.
    with tqdm(total=round(info.duration), unit="s", desc="transcribe", leave=False,
              disable=None if progress else True) as bar:
        outcome = _Outcome(*kept_segments(segments, options, bar))
        retry = _Retry(samples, options, backend, bar)
        _redo_copied_hotwords(outcome, retry)
        _fill_unheard(outcome, retry, backend.speech_heard(samples), info.duration)
    return Transcript(
        language=options.language,
        duration=round(info.duration, 3),
        segments=outcome.kept,
        model=options.model,
        warnings=_warnings(source, outcome),
        doubts=_doubts(outcome),
    )
