"""Transcribe stage: speech to timed words with faster-whisper, on the GPU when there is one.

Silence must never turn into invented text, the commonest complaint about Whisper: voice
activity detection cuts silence out before decoding, the hallucination-silence threshold drops
words floating over long pauses, and segments the model itself rates as probably-not-speech
are discarded.
"""

from __future__ import annotations

import functools
import json
import math
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm import tqdm

from pipeline.build.files import data_digest, file_digest, write_json_atomically
from pipeline.engines.spelling import plain_tokens
from pipeline.engines.whisper_model import OFFLINE_MODEL, resolve_model
from pipeline.errors import PipelineError
from pipeline.model import Doubt, Segment, Transcript, Word, clock, to_data

# Segments scored as likely non-speech *and* decoded with low confidence are hallucinations.
_NO_SPEECH_PROBABILITY = 0.6
_LOW_LOGPROB = -1.0
_MAX_COMPRESSION_RATIO = 2.4  # Whisper's own bar for text too repetitive to be speech
_MAX_VOCABULARY_CHARS = 600  # the decoder's prompt is 224 tokens; keep hotwords well inside
_VAD_RATE = 16000
MIN_UNHEARD_S = 2.0  # seconds of speech with no word in them: decoded again, then reported
# Where a retry loops or writes nothing (a hard voice, a music bed), the stretch
# is decoded in short pieces with repeated tokens penalised: chosen on the tuning variants, where
# pieces of 6 s at 1.3 left no stretch without words and whole stretches still looped.
_PUSHED_PIECE_S = 6.0
_PUSHED_REPETITION_PENALTY = 1.3
_MAX_TOKENS_PER_S = 8  # French speech is about 5 Whisper tokens a second


@dataclass(frozen=True)
class TranscribeSettings:
    model: str = "base"
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = "auto"  # auto (int8 on the CPU, float16 on CUDA) or a CTranslate2 type
    language: str = "fr"
    beam_size: int = 5
    batch_size: int = 0  # 0: sequential decoding; >0: batched (faster, no cross-window context)
    vocabulary: tuple[str, ...] = ()  # names and terms to favour, passed as hotwords

    def key(self) -> dict:
        """The settings that shape the words, the device as resolved (CPU and GPU differ)."""
        return {**asdict(self), "device": device_and_compute_type(self.device, self.compute_type)}


def device_and_compute_type(device: str, compute_type: str = "auto") -> tuple[str, str]:
    """`auto` picks CUDA with float16 when a GPU is visible, else the CPU with int8."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@functools.lru_cache(maxsize=2)
def load_model(model: str, device: str, compute_type: str = "auto"):
    """One WhisperModel per process: loading costs seconds, and tests share it."""
    from faster_whisper import WhisperModel

    device, compute_type = device_and_compute_type(device, compute_type)
    try:
        return WhisperModel(
            resolve_model(model), device=device, compute_type=compute_type,
            local_files_only=model == OFFLINE_MODEL,  # other names may be fetched once, online
        )
    except (OSError, RuntimeError, ValueError) as exc:
        raise PipelineError(
            None, f"cannot load the Whisper model '{model}' on {device} ({exc}); set the show "
            f"file's 'model' to {OFFLINE_MODEL}, a faster-whisper model name or a model folder"
        ) from None


def _hotwords(vocabulary: tuple[str, ...]) -> str | None:
    text = ""
    for term in dict.fromkeys(v.strip() for v in vocabulary if v.strip()):
        longer = f"{text}, {term}" if text else term
        if len(longer) > _MAX_VOCABULARY_CHARS:
            break
        text = longer
    return text or None


def copies_hotwords(text: str, vocabulary: tuple[str, ...]) -> bool:
    """Whether a segment reads like the hotwords copied out: two of them in a row, in the
    order and with the separator the decoder was given them in."""
    terms = (_hotwords(vocabulary) or "").split(", ")
    return any(f"{first}, {second}" in text for first, second in zip(terms, terms[1:]))


def decode(source, settings: TranscribeSettings, clip: list[float] | None = None, pushed: bool = False):
    """faster-whisper's lazy (segments, info) for `source` (a file, or samples at 16 kHz), with
    the stage's guards.

    A `clip` ([start, end, start, end...] in seconds) is where the VAD heard speech: there the
    model's own no-speech guess, which can skip a whole 30 s window of real speech, is not
    allowed to. A `pushed` decoding is the last try on such a clip (see _PUSHED_PIECE_S).
    """
    from faster_whisper import BatchedInferencePipeline

    audio = str(source) if isinstance(source, Path) else source
    model = load_model(settings.model, settings.device, settings.compute_type)
    options = dict(
        language=settings.language,
        beam_size=settings.beam_size,
        word_timestamps=True,
        vad_filter=True,
        hotwords=_hotwords(settings.vocabulary),
        no_speech_threshold=None if clip else _NO_SPEECH_PROBABILITY,
        log_prob_threshold=_LOW_LOGPROB,
    )
    if settings.batch_size and clip is None:
        return BatchedInferencePipeline(model).transcribe(
            audio, batch_size=settings.batch_size, **options
        )
    if clip:  # one try each, a loop cut short: warmer tries cost 2-3 times more for no better text
        longest = max(end - start for start, end in zip(clip[::2], clip[1::2]))
        return model.transcribe(
            audio, condition_on_previous_text=False, clip_timestamps=clip, temperature=0.0,
            repetition_penalty=_PUSHED_REPETITION_PENALTY if pushed else 1.0,
            max_new_tokens=round(_MAX_TOKENS_PER_S * min(longest, 30.0)), **options,
        )
    return model.transcribe(
        audio,
        condition_on_previous_text=False,  # stops one misheard phrase repeating in a loop
        hallucination_silence_threshold=2.0,
        **options,
    )


def compression_ratio(text: str) -> float:
    """Whisper's measure of repetition, of one segment's text (faster-whisper gives each segment
    its whole 30 s window's: one loop would condemn every segment of its window)."""
    encoded = text.encode("utf-8")
    return len(encoded) / len(zlib.compress(encoded)) if encoded else 0.0


def _kept_segments(segments, bar: tqdm, heard_as_speech: bool = False,
                   offset: float = 0.0) -> tuple[list[Segment], int]:
    """Segments with their words, less those the model rates as probably not speech (unless
    the voice detector heard speech there), and less the decoder's loops: over music or noise it
    repeats one sentence ("C'est la même chose que l'on a fait." four times in a row on a
    variant with a music bed), as segments repeating the one before word for word or as a
    segment of its own ("Ah ah ah ah ..." for 28 s, which compresses too well to be speech).
    `offset`: where in the episode the decoded audio starts."""
    kept, dropped = [], 0
    for segment in segments:
        bar.update(max(0, round(offset + segment.end) - bar.n))
        unlikely = segment.no_speech_prob > _NO_SPEECH_PROBABILITY and segment.avg_logprob < _LOW_LOGPROB
        tokens = plain_tokens(segment.text)
        repeated = bool(kept) and len(tokens) >= 3 and tokens == plain_tokens(kept[-1].text)  # not "Merci."
        looping = compression_ratio(segment.text) > _MAX_COMPRESSION_RATIO  # "ah ah ah ah ..."
        if (unlikely and not heard_as_speech) or repeated or looping:
            dropped += 1
            continue
        words = [
            Word(w.word.strip(), round(offset + w.start, 3), round(offset + w.end, 3), round(w.probability, 3))
            for w in segment.words or []
            if any(c.isalnum() for c in w.word)  # "..." alone is no word
        ]
        if words:
            kept.append(Segment(round(offset + segment.start, 3), round(offset + segment.end, 3),
                                segment.text.strip(), words,
                                round(segment.avg_logprob, 3), round(segment.no_speech_prob, 3)))
    return kept, dropped


def samples_of(source: Path):
    """The audio as 16 kHz samples, as the voice detector and the decoder take it."""
    from faster_whisper.audio import decode_audio

    return decode_audio(str(source), sampling_rate=_VAD_RATE)


def speech_heard(source) -> list[tuple[float, float]]:
    """(start, end) in seconds of what the voice detector hears as speech (a file, or samples)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    audio = samples_of(source) if isinstance(source, Path) else source
    return [(r["start"] / _VAD_RATE, r["end"] / _VAD_RATE) for r in get_speech_timestamps(audio, VadOptions())]


def unheard_speech(speech: list[tuple[float, float]], segments: list[Segment],
                   duration: float) -> list[tuple[float, float]]:
    """Stretches between words where the VAD hears at least MIN_UNHEARD_S of `speech`."""
    edges = [0.0, *(t for s in segments for w in s.words for t in (w.start, w.end)), duration]
    gaps = list(zip(edges[::2], edges[1::2]))
    unheard = []
    for start, end in gaps:
        spoken = sum(max(0.0, min(end, b) - max(start, a)) for a, b in speech)
        if spoken >= MIN_UNHEARD_S:
            unheard.append((start, end))
    return unheard


def pieces(stretch: tuple[float, float], longest: float = _PUSHED_PIECE_S) -> list[float]:
    """The stretch cut into equal pieces of at most `longest` seconds, as faster-whisper's clips."""
    start, end = stretch
    count = max(1, math.ceil((end - start) / longest))
    step = (end - start) / count
    return [t for k in range(count) for t in (start + k * step, start + (k + 1) * step)]


def _decoded_again(samples, settings: TranscribeSettings, stretch: tuple[float, float], bar: tqdm,
                   pushed: bool = False) -> list[Segment]:
    """A stretch the VAD hears speech in, decoded again alone (pushed: see _PUSHED_PIECE_S)."""
    start, end = stretch
    clip = samples[int(start * _VAD_RATE) : int(end * _VAD_RATE)]
    whole = (0.0, len(clip) / _VAD_RATE)
    again, _ = decode(clip, settings, pieces(whole) if pushed else list(whole), pushed)
    return _kept_segments(again, bar, heard_as_speech=True, offset=start)[0]


def _words_within(segments: list[Segment], start: float, end: float) -> str:
    return " ".join(w.text for s in segments for w in s.words if start <= w.start < end)


def transcribe(source: Path, settings: TranscribeSettings, progress: bool = True) -> Transcript:
    samples = samples_of(source)  # decoded once: the first pass, the voice detector and the retries read it
    segments, info = decode(samples, settings)
    warnings = []
    # disable=None: a bar on a terminal only, never in a log.
    with tqdm(total=round(info.duration), unit="s", desc="transcribe", leave=False,
              disable=None if progress else True) as bar:
        kept, dropped = _kept_segments(segments, bar)
        plain = replace(settings, vocabulary=())  # on a short clip hotwords prime loops, or get written
        # Where the audio is hard, the decoder may copy its prompt, the hotwords, out as text
        # ("Amazon Mechanical Turk, ChatGPT, platformer..."): such a segment is decoded again
        # without them.
        copied = [segment for segment in kept if copies_hotwords(segment.text, settings.vocabulary)]
        for segment in copied:
            kept.remove(segment)
            kept += _decoded_again(samples, plain, (segment.start, segment.end), bar)
        if copied:
            kept.sort(key=lambda segment: segment.start)
            warnings.append(f"{source}: {len(copied)} segment(s) that copied the hotwords out were decoded "
                            "again without them")
        # Whisper may rate a whole 30 s window of real speech as "no speech" and skip it, or
        # drop a few sentences inside one (synthetic or unusual voices especially): every
        # stretch where the VAD hears speech and no word was written is decoded again, alone, and
        # where that loops or writes nothing, in short pieces pushed not to repeat themselves.
        speech = speech_heard(samples)
        unheard = unheard_speech(speech, kept, info.duration)
        for stretch in unheard:
            kept += _decoded_again(samples, plain, stretch, bar)
        kept.sort(key=lambda segment: segment.start)
        still = unheard_speech(speech, kept, info.duration)
        for stretch in still:
            kept += _decoded_again(samples, plain, stretch, bar, pushed=True)
        kept.sort(key=lambda segment: segment.start)
        left = unheard_speech(speech, kept, info.duration)
        if unheard:
            warnings.append(
                f"{source}: {len(unheard) - len(left)} stretch(es) of speech the first pass left "
                f"without words were transcribed again, {len(still) - len(left)} of them only when pushed"
            )
        if left:
            warnings.append(
                f"{source}: speech heard but no words recognised at "
                + ", ".join(f"{clock(a)}-{clock(b)}" for a, b in left)
                + " (music or noise?): listen, and correct the transcript if words are missing"
            )
        doubts = [Doubt("unheard", round(a, 2), round(b, 2), "", "no words",
                        "the voice detector hears speech here, recognition wrote nothing: music, noise, or missing words?")
                  for a, b in left]
        doubts += [Doubt("guessed", round(a, 2), round(b, 2), heard, heard,
                         "hard to hear: recognition wrote these words only when pushed not to repeat itself")
                   for a, b in still if (heard := _words_within(kept, a, b))]
    if not kept:
        warnings.append(f"{source}: no speech found; the transcript is empty")
    elif dropped:
        warnings.append(f"{source}: {dropped} segment(s) dropped as probable non-speech or repeated word for word")
    return Transcript(
        language=settings.language,
        duration=round(info.duration, 3),
        segments=kept,
        model=settings.model,
        warnings=warnings,
        doubts=doubts,
    )


class Relistener:
    """A second, focused listen to a stretch of the episode, favouring one phrase: the
    footnotes stage's last chance for a name the first pass misheard (see footnotes.py).
    With a `cache` file, each listen is decoded once for this audio and these settings: the
    footnotes stage re-runs in seconds after a producer's fix."""

    def __init__(self, source: Path, settings: TranscribeSettings, cache: Path | None = None):
        self.source = source
        self.settings = settings
        self.cache = cache

    @functools.cached_property
    def _audio(self):
        return samples_of(self.source)

    @functools.cached_property
    def _heard(self) -> dict[str, list[dict]]:
        """Listens already decoded for this audio and these settings, by clip and phrase."""
        if self.cache is None or not self.cache.is_file():
            return {}
        try:
            stored = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stored.get("listens", {}) if stored.get("for") == self._identity else {}

    @functools.cached_property
    def _identity(self) -> str:
        return data_digest([file_digest(self.source), self.settings.key()])

    def __call__(self, start: float, end: float, phrase: str) -> list[Word]:
        key = f"{start:.3f} {end:.3f} {phrase}"
        if key not in self._heard:
            self._heard[key] = [to_data(word) for word in self._listen(start, end, phrase)]
            if self.cache is not None:
                write_json_atomically(self.cache, {"for": self._identity, "listens": self._heard})
        return [Word(**word) for word in self._heard[key]]

    def _listen(self, start: float, end: float, phrase: str) -> list[Word]:
        model = load_model(self.settings.model, self.settings.device, self.settings.compute_type)
        clip = self._audio[int(start * _VAD_RATE) : int(end * _VAD_RATE)]
        segments, _ = model.transcribe(
            clip, language=self.settings.language, beam_size=self.settings.beam_size,
            word_timestamps=True, hotwords=phrase, condition_on_previous_text=False, vad_filter=True,
            temperature=0.0,  # one pass, no fallbacks: a second chance, not a search
            # A clip cut mid-sentence can set the decoder repeating itself: bound its cost.
            max_new_tokens=round(_MAX_TOKENS_PER_S * (end - start)),
        )
        return [
            Word(w.word.strip(), round(start + float(w.start), 3), round(start + float(w.end), 3),
                 round(float(w.probability), 3))
            for segment in segments for w in segment.words or [] if w.word.strip()
        ]
