"""Rooms taken for voices: a recording whose part was made elsewhere (a session resumed another
day, another microphone, a fan) can be clustered into that part and the rest instead of into
speakers. The part is the stretch whose mean voice vector lies furthest from the rest's; the
labelling is taken to be the rooms when its voices fall on either side of that part's edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pipeline.engines.diarize import DiarizeOptions


def room_part(vectors: np.ndarray, starts: np.ndarray, seconds: np.ndarray,
              options: DiarizeOptions) -> tuple[int, int] | None:
    """(first, last + 1) of the pieces, in time order (`starts` and lengths `seconds` in
    seconds), whose mean unit vector lies furthest from the mean of the others, the part and
    the rest each lasting `room_min_s` and holding `room_min_share` of the speech (edges tried
    every 1/200 of the pieces); None when no part is that long."""
    count = len(vectors)
    edges = np.unique(np.r_[np.arange(0, count, max(1, count // 200)), count])
    sums = np.vstack([np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0)])
    spoken = np.r_[0.0, np.cumsum(seconds)]
    ends = np.r_[starts, starts[-1] + seconds[-1]]  # the part from piece i to piece j lasts ends[j] - ends[i]
    total_s, total_speech = ends[-1] - ends[0], spoken[-1]
    best, best_jump = None, -1.0
    for first in edges:  # one row of parts at a time: the whole grid of means would take hundreds of MB
        last = edges[edges > first]
        part_s, part_speech = ends[last] - ends[first], spoken[last] - spoken[first]
        last = last[(np.minimum(part_s, total_s - part_s) >= options.room_min_s)
                    & (np.minimum(part_speech, total_speech - part_speech) >= options.room_min_share * total_speech)]
        if not len(last):
            continue
        inside = (sums[last] - sums[first]) / (last - first)[:, None]
        outside = (sums[-1] - sums[last] + sums[first]) / (count - last + first)[:, None]
        jumps = np.linalg.norm(inside - outside, axis=1)
        if jumps.max() > best_jump:
            best, best_jump = (int(first), int(last[jumps.argmax()])), float(jumps.max())
    return best


def rooms_taken_for_voices(labels: np.ndarray, inside: np.ndarray, seconds: np.ndarray,
                           options: DiarizeOptions) -> bool:
    """Whether the voices found are the part and the rest: some speak (by `room_agreement` of
    the speech, all voices together) only inside the part, the others only outside it. On the
    tuning set such labellings agreed 0.999-1.0 with the part, right ones at most 0.81 (a
    guest's long answers make a part too, but the host still asks inside it)."""
    voices = np.unique(labels)
    speech_in = np.array([seconds[(labels == v) & inside].sum() for v in voices])
    speech_out = np.array([seconds[(labels == v) & ~inside].sum() for v in voices])
    sides = speech_in > speech_out
    if sides.all() or not sides.any():
        return False
    return float(np.maximum(speech_in, speech_out).sum() / seconds.sum()) >= options.room_agreement


def levelled(raw: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The raw vectors with the part's and the rest's own common vectors taken off instead of the
    whole recording's (which is added back, as VoiceSpace takes it off)."""
    common, result = raw.mean(axis=0), raw.copy()
    for side in (inside, ~inside):
        result[side] += common - raw[side].mean(axis=0)
    return result
