"""From piece labels back to one exclusive timeline: frame votes, speech frames, smoothing,
segments."""

from __future__ import annotations

import itertools

import numpy as np

from pipeline.engines.diarize.segmentation import CHUNK_FRAMES, FRAME_STEP, Piece


def nearest_labels(active: np.ndarray, labelled: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each active frame index, the label of the nearest labelled frame index (sorted)."""
    if len(labelled) < 2:
        return np.full(len(active), labels[0])
    at = np.clip(np.searchsorted(labelled, active), 1, len(labelled) - 1)
    left_closer = (active - labelled[at - 1]) <= (labelled[at] - active)
    return np.where(left_closer, labels[at - 1], labels[at])


def speaker_votes(activity: np.ndarray, starts: np.ndarray, pieces: list[Piece], labels: np.ndarray,
                  weights: np.ndarray, speakers: int, frames: int) -> np.ndarray:
    """(frames, speakers) votes: every active frame of a local speaker in an embedded window
    votes, with its piece's match weight, for the speaker of its nearest piece (overlap and
    short runs included)."""
    votes = np.zeros((frames + CHUNK_FRAMES, speakers), np.float32)
    tracks: dict[tuple[int, int], list[int]] = {}
    for i, piece in enumerate(pieces):
        tracks.setdefault((piece.window, piece.local), []).append(i)
    for (window, local), members in tracks.items():
        spans = [np.arange(pieces[i].first, pieces[i].last) for i in members]
        labelled = np.concatenate(spans)
        owner = np.concatenate([np.full(len(span), j) for j, span in enumerate(spans)])
        active = np.flatnonzero(activity[window, :, local] > 0)
        chosen = np.array(members)[nearest_labels(active, labelled, owner)]
        first = int(starts[window]) // FRAME_STEP
        np.add.at(votes, (first + active, labels[chosen]), weights[chosen])
    return votes[:frames]


def coverage(starts: np.ndarray, frames: int) -> np.ndarray:
    """(frames,) how many windows cover each frame."""
    cover = np.zeros(frames + CHUNK_FRAMES, np.float32)
    for start in starts:
        first = int(start) // FRAME_STEP
        cover[first : first + CHUNK_FRAMES] += 1
    return cover[:frames]


def speech_frames(activity: np.ndarray, starts: np.ndarray, frames: int, threshold: float) -> np.ndarray:
    """Frames where the mean number of local speakers over the covering windows reaches the
    threshold (pyannote's speaker count, rounded, being at least one)."""
    total = np.zeros(frames + CHUNK_FRAMES, np.float32)
    for w, start in enumerate(starts):
        first = int(start) // FRAME_STEP
        total[first : first + CHUNK_FRAMES] += activity[w].sum(axis=1)
    return total[:frames] / np.maximum(coverage(starts, frames), 1) >= threshold


def frame_path(votes: np.ndarray, speech: np.ndarray, switch_cost: float = 0.0) -> np.ndarray:
    """The speaker of each frame (-1 for silence): inside each run of speech, the path that
    gathers most votes less `switch_cost` (in frames of full votes) per change of speaker
    (Viterbi), so one piece heard as the other voice does not break a turn, while a change at
    a pause costs nothing; speech frames no embedded window voted on take the speaker of the
    nearest voted frame."""
    path = np.where(speech, np.argmax(votes, axis=1), -1)
    voted = np.flatnonzero(votes.max(axis=1) > 0)
    orphans = np.flatnonzero(speech & (votes.max(axis=1) <= 0))
    if len(orphans) and len(voted):
        path[orphans] = nearest_labels(orphans, voted, np.argmax(votes[voted], axis=1))
    if switch_cost <= 0 or votes.shape[1] < 2:
        return path
    for first, last, is_speech in runs(speech.astype(int)):
        if is_speech:
            heard = votes[first:last].max(axis=1) > 0
            path[first:last] = np.where(heard, _best_path(votes[first:last], switch_cost), path[first:last])
    return path


def _best_path(votes: np.ndarray, switch_cost: float) -> np.ndarray:
    """argmax over speaker sequences of the votes gathered less switch_cost per change."""
    frames, speakers = votes.shape
    score, came_from = votes[0].astype(np.float64), np.zeros((frames, speakers), np.int32)
    stay = np.arange(speakers)
    for t in range(1, frames):
        leader = int(score.argmax())
        switch = score[leader] - switch_cost
        came_from[t] = np.where(score >= switch, stay, leader)
        score = np.maximum(score, switch) + votes[t]
    path = np.empty(frames, np.int32)
    path[-1] = int(score.argmax())
    for t in range(frames - 1, 0, -1):
        path[t - 1] = came_from[t, path[t]]
    return path


def runs(path: np.ndarray) -> list[tuple[int, int, int]]:
    """(first, last+1, value) for each run of equal values."""
    change = np.flatnonzero(np.diff(path)) + 1
    bounds = [0, *change.tolist(), len(path)]
    return [(a, b, int(path[a])) for a, b in itertools.pairwise(bounds)]


def smooth(path: np.ndarray, max_gap: int, min_turn: int) -> np.ndarray:
    """The path with short turns after another given to the previous speaker, short ones alone
    between pauses dropped (a click is no word, and would decide who is heard first), then a
    speaker's short pauses filled, so turns do not flicker."""
    path = path.copy()
    for first, last, speaker in runs(path):
        if speaker >= 0 and last - first < min_turn:
            after_speech = first > 0 and path[first - 1] >= 0
            before_speech = last < len(path) and path[last] >= 0
            if after_speech or not before_speech:
                path[first:last] = path[first - 1] if after_speech else -1
    pieces = runs(path)
    for i, (first, last, speaker) in enumerate(pieces):
        inside = speaker < 0 and 0 < i < len(pieces) - 1 and last - first < max_gap
        if inside and pieces[i - 1][2] == pieces[i + 1][2]:
            path[first:last] = pieces[i - 1][2]
    return path


def frame_confidence(votes: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """(frames,) lead of the best-voted speaker over the runner-up, per covering window."""
    ordered = np.sort(votes, axis=1)
    lead = ordered[:, -1] - (ordered[:, -2] if votes.shape[1] > 1 else 0.0)
    return np.clip(lead / np.maximum(cover, 1), 0.0, 1.0)
