"""Diarize stage: every word of the transcript gets the name of who said it.

Who spoke when comes from the audio alone (`pipeline.engines.diarize`); each word then takes the
speaker it overlaps most. A change of speaker may then move by up to max_boundary_shift words to
the nearest sentence end or pause: one or two boundary words on the wrong side is the commonest
complaint about word-level diarization. Only words heard near where the voices change move (on
real conversations, recognition's sentence ends often fall elsewhere). The dialogue also keeps
the speech heard near the words, so that each turn can be timed by its voice
(pipeline.model.heard_spans, speakers.rttm).

The audio is split into as many voices as the episode has people: the host plus its guests.

Naming the voices:
- Labels: the voices found are labelled S1, S2, ... in the order they are first heard (S1 speaks
  first). An episode file's `[speakers]` table maps labels to names (`S3 = "Jane Doe"`), and it
  always wins. Every threshold here is a field of `DiarizeOptions`.
- Host: the voice closest to the host voiceprint (`publish enroll-host CLIP`) when the show has
  one; otherwise the intro speaker, since the host opens every episode: the first voice heard
  for opening_turn_s at a stretch, S1 nearly always.
- Guests: the other voices, named in the order the episode file lists the guests, matched to the
  order they are first heard. With one guest that is certain; with several it is a guess, said in
  a warning that gives each label's first words' time so the producer can fix it in `[speakers]`.
  A guest whose voice was not told apart from another's (someone barely heard) gets no words,
  and a warning says so.
- `Dialogue.confidence` (0-1) combines how clearly the voices separate with how sure the naming
  is; under low_confidence the dialogue carries a warning instead of a silent guess.
- Each turn carries a confidence too (0-1): how much more its voice resembles its speaker than
  the other, over its words (see pipeline.engines.diarize: votes' lead). A turn under doubted_turn becomes a
  doubt for the producer (build/<slug>/review.json), with the transcript's own doubts.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from pipeline.engines.diarize import (
    Diarization,
    DiarizeOptions,
    SpeakerSegment,
    diarize_audio,
    load_audio,
    speaker_label,
    voice_vector,
    voiceprint_dimension,
)
from pipeline.errors import PipelineError
from pipeline.model import (
    Dialogue,
    Doubt,
    Transcript,
    Turn,
    Word,
    clock,
    glued_to_previous,
    joined_spans,
)

_SENTENCE_END = re.compile(r"[.!?…][»”\"')\]]*$")


def diarize(
    audio: Path,
    transcript: Transcript,
    host: str,
    guests: list[str],
    *,
    host_voiceprint: Path | None = None,
    mapping: dict[str, str] | None = None,
    options: DiarizeOptions | None = None,
) -> Dialogue:
    """The transcript as named turns: who said each word, by name."""
    options = options or DiarizeOptions()
    mapping = _checked_mapping(mapping or {})
    diarization = diarize_audio(load_audio(audio), 1 + len(guests), options)
    words = transcript.words
    if not diarization.segments:
        named = [dataclasses.replace(w, speaker=host) for w in words]
        warning = f"{audio}: no speech heard, so every word is given to the host"
        return Dialogue(turns=turns_of(named), warnings=[warning], confidence=0.0, doubts=transcript.doubts)
    heard_in = [diarization.segments[i] for i in segments_of_words(words, diarization.segments)]
    speakers = settle_boundaries(words, heard_in, options)
    voiceprint = load_voiceprint(host_voiceprint) if host_voiceprint else None
    names, naming_confidence, warnings = name_speakers(
        diarization, host, guests, voiceprint, mapping, options
    )
    confidence = round(naming_confidence * diarization.separation, 2)
    if confidence < options.low_confidence:
        warnings.append(
            f"speaker naming is uncertain (confidence {confidence:.2f}): check who says what; "
            "`publish enroll-host CLIP` or a [speakers] table in the episode file fixes it"
        )
    named = [dataclasses.replace(w, speaker=names[s]) for w, s in zip(words, speakers)]
    turns = turns_of(named, [segment.confidence for segment in heard_in])
    return Dialogue(turns=turns, warnings=warnings, confidence=confidence,
                    doubts=sorted([*transcript.doubts, *speaker_doubts(turns, options.doubted_turn)], key=lambda d: d.start),
                    speech=speech_near_words(diarization.segments, words, options.speech_reach_s))


def speech_near_words(segments: list[SpeakerSegment], words: list[Word], reach_s: float) -> list[tuple[float, float]]:
    """Where a voice is heard within reach_s of a word: the speech the words stand for. Speech
    farther from every word is left out; the review page lists it as speech without words."""
    speech = joined_spans([(segment.start, segment.end) for segment in segments])
    near = joined_spans([(word.start - reach_s, word.end + reach_s) for word in words])
    found, i, j = [], 0, 0
    while i < len(speech) and j < len(near):
        start, end = max(speech[i][0], near[j][0]), min(speech[i][1], near[j][1])
        if start < end:
            found.append((round(start, 3), round(end, 3)))
        if speech[i][1] < near[j][1]:
            i += 1
        else:
            j += 1
    return found


def voiceprint(clip: Path, options: DiarizeOptions | None = None) -> np.ndarray:
    """The voice vector of the one person speaking in `clip`, to recognise the host by."""
    options = options or DiarizeOptions()
    vector, seconds = voice_vector(load_audio(clip), options)
    if seconds < options.min_enroll_speech_s:
        raise PipelineError(
            clip,
            f"only {seconds:.1f} s of speech; give at least {options.min_enroll_speech_s:.0f} s of the "
            "host speaking alone (30 s or more is better)",
        )
    return vector


def load_voiceprint(path: Path) -> np.ndarray:
    try:
        vector = np.load(path)
    except (OSError, ValueError) as exc:
        raise PipelineError(path, f"cannot read the host voiceprint ({exc})") from exc
    if vector.ndim != 1 or not np.isfinite(vector).all():
        raise PipelineError(path, "not a host voiceprint; make one with `publish enroll-host CLIP`")
    if vector.shape != (voiceprint_dimension(),):
        raise PipelineError(path, f"this host voiceprint was made by an older speaker model ({len(vector)} values, "
                                  f"{voiceprint_dimension()} now); enroll the host again: `publish enroll-host CLIP`")
    return vector


def segments_of_words(words: list[Word], segments: list[SpeakerSegment]) -> list[int]:
    """Each word's segment (its index): the one it overlaps most, else the nearest one in time."""
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    found = []
    for word in words:
        overlap = np.minimum(ends, word.end) - np.maximum(starts, word.start)
        if overlap.max() > 0:
            found.append(int(np.argmax(overlap)))
        else:
            found.append(int(np.argmin(np.maximum(starts - word.end, word.start - ends))))
    return found


def settle_boundaries(words: list[Word], heard_in: list[SpeakerSegment],
                      options: DiarizeOptions = DiarizeOptions()) -> list[int]:
    """Each word's speaker, from the segment it was heard in (`heard_in`, one per word), each
    change of speaker moved by up to max_boundary_shift words onto the best break nearby: a
    sentence end, and the longer the pause the better. Only words whose middle lies within
    boundary_reach_s of where the voices change move: farther from it, the voice is clear and
    recognition's punctuation is no better a guess. No turn is emptied."""
    speakers, shift = [segment.speaker for segment in heard_in], options.max_boundary_shift
    for change in range(1, len(words)):
        if speakers[change] == speakers[change - 1]:
            continue
        before, after = speakers[change - 1], speakers[change]
        changes_at = (heard_in[change - 1].end + heard_in[change].start) / 2
        run_start = change - 1
        while (run_start > 0 and speakers[run_start - 1] == before and change - run_start <= shift
               and _near(words[run_start], changes_at, options.boundary_reach_s)):
            run_start -= 1
        run_end = change
        while (run_end + 1 < len(words) and speakers[run_end + 1] == after and run_end - change < shift
               and _near(words[run_end], changes_at, options.boundary_reach_s)):
            run_end += 1
        candidates = range(run_start + 1, run_end + 1)
        best = max(
            candidates, key=lambda c: _break_score(words, c) - options.shift_penalty * abs(c - change)
        )
        speakers[min(best, change) : max(best, change)] = [
            after if best < change else before
        ] * abs(best - change)
    for index in range(1, len(words)):  # never between "j" and "'ai": the rest of a word is its own
        if glued_to_previous(words[index].text):
            speakers[index] = speakers[index - 1]
    return speakers


def _near(word: Word, time: float, reach_s: float) -> bool:
    return abs((word.start + word.end) / 2 - time) <= reach_s


def _break_score(words: list[Word], boundary: int) -> float:
    """How good a place for a turn to start is `words[boundary]`: a sentence end scores 1, plus
    the pause before it in seconds (up to 1)."""
    sentence_end = 1.0 if _SENTENCE_END.search(words[boundary - 1].text) else 0.0
    pause = min(max(words[boundary].start - words[boundary - 1].end, 0.0), 1.0)
    return sentence_end + pause


def name_speakers(
    diarization: Diarization,
    host: str,
    guests: list[str],
    voiceprint: np.ndarray | None,
    mapping: dict[str, str],
    options: DiarizeOptions = DiarizeOptions(),
) -> tuple[list[str], float, list[str]]:
    """A name per speaker index, the confidence in that naming (0-1), and warnings."""
    labels = [speaker_label(i) for i in range(diarization.speakers)]
    warnings = _unknown_label_warnings(mapping, labels)
    names = {i: mapping[label] for i, label in enumerate(labels) if label in mapping}
    free = [i for i in range(len(labels)) if i not in names]
    confidence = 1.0
    if host not in names.values() and free:
        host_index, confidence = find_host(diarization, free, voiceprint, options)
        names[host_index] = host
        free.remove(host_index)
    guests_left = [g for g in guests if g not in names.values()]
    if len(free) > 1 and len(guests_left) > 1:
        confidence = min(confidence, options.order_confidence)
        warnings.append(_order_guess_warning(diarization, labels, free, guests_left))
    names.update(zip(free, guests_left))
    warnings += _voiceless_warnings([host, *guests], set(names.values()), len(labels))
    return [names.get(i, f"Voice {label}") for i, label in enumerate(labels)], confidence, warnings


def _unknown_label_warnings(mapping: dict[str, str], labels: list[str]) -> list[str]:
    return [
        f"[speakers] names {label}, but only {len(labels)} voices were told apart"
        for label in mapping
        if label not in labels
    ]


def _voiceless_warnings(people: list[str], named: set[str], voices: int) -> list[str]:
    voiceless = [name for name in people if name not in named]
    if not voiceless:
        return []
    return [f"{len(people)} people are named but only {voices} voices were told apart: {', '.join(voiceless)}"
            " given no words; if they speak, fix their turns on the review page"]


def _order_guess_warning(
    diarization: Diarization, labels: list[str], free: list[int], guests: list[str]
) -> str:
    """The warning that the guests were named in the order their voices are first heard."""
    first_heard = {s.speaker: s.start for s in reversed(diarization.segments)}
    guesses = ", ".join(
        f"{labels[i]} (first heard at {clock(first_heard.get(i, 0.0))}) = {name}"
        for i, name in zip(free, guests)
    )
    return f"guests named in the order they first speak: {guesses}; fix in [speakers]"


def find_host(
    diarization: Diarization, candidates: list[int], voiceprint: np.ndarray | None,
    options: DiarizeOptions = DiarizeOptions(),
) -> tuple[int, float]:
    """The host's speaker index and how sure that is: the voice nearest the voiceprint, by its
    lead over the next voice; without a voiceprint the intro speaker, the first one heard
    holding the floor for opening_turn_s (a "hello" across a phone line opens nothing)."""
    if voiceprint is None:
        opening = (s.speaker for s in diarization.segments
                   if s.speaker in candidates and s.end - s.start >= options.opening_turn_s)
        return next(opening, candidates[0]), options.intro_confidence if diarization.speakers > 1 else 1.0
    similarity = diarization.similarity(voiceprint)
    host = max(candidates, key=lambda i: similarity[i])
    others = np.delete(similarity, host)
    margin = similarity[host] - others.max() if len(others) else options.voiceprint_margin
    return host, float(np.clip(margin / options.voiceprint_margin, 0.0, 1.0))


def turns_of(words: list[Word], confidences: list[float] | None = None) -> list[Turn]:
    """Consecutive words of a speaker as one turn; its confidence, the mean of its words' (each
    word's is its diarization segment's), weighted by their length."""
    turns: list[Turn] = []
    weights: list[list[tuple[float, float]]] = []
    for word, confidence in zip(words, confidences or [None] * len(words)):
        if not (turns and turns[-1].speaker == word.speaker):
            turns.append(Turn(word.speaker, []))
            weights.append([])
        turns[-1].words.append(word)
        if confidence is not None:
            weights[-1].append((confidence, max(word.end - word.start, 0.01)))
    for turn, weighted in zip(turns, weights):
        if weighted:
            turn.confidence = round(sum(c * w for c, w in weighted) / sum(w for _, w in weighted), 2)
    return turns


def speaker_doubts(turns: list[Turn], doubted_turn: float) -> list[Doubt]:
    """A doubt for each turn whose speaker is uncertain (under doubted_turn)."""
    return [Doubt("speaker", turn.start, turn.end, turn.text, turn.speaker,
                  f"voice unclear (confidence {turn.confidence:.2f}): is it {turn.speaker}?")
            for turn in turns if turn.confidence is not None and turn.confidence < doubted_turn]


def _checked_mapping(mapping: dict[str, str]) -> dict[str, str]:
    for label in mapping:
        if not re.fullmatch(r"S[1-9][0-9]*", label):
            raise PipelineError(
                None,
                f"episode file [speakers]: '{label}' is not a voice label; use S1, S2, ... "
                "(S1 is the first voice heard)",
            )
    return mapping


