"""Who spoke when, from the audio alone.

1. Speech regions: Silero VAD (bundled with faster-whisper) splits the audio at pauses.
2. Voice vectors: a speaker encoder (by default Resemblyzer's pretrained GE2E on onnxruntime,
   see speaker_model/encoder.py) embeds 1.6 s windows sliding over every region, so a change of
   speaker inside a long region shows. The vector every voice of the recording shares is
   subtracted: what is left tells voices apart.
3. Clustering: regions are cut into pieces of up to 2 s, each piece gets the mean vector of its
   windows, and agglomerative clustering (cosine, average linkage) groups the pieces into the
   known number of speakers; a few k-means style passes then settle the speakers' centroids.
   When the number is not known, the count from 2 to MAX_SPEAKERS whose clusters stand apart
   best (silhouette) wins. That count is rough: with the shared vector removed, even one voice
   splits into look-alike groups, so one voice is seldom recognised as one. Give the count.
4. Re-segmentation: each 10 ms frame scores each speaker by how much its covering windows
   resemble them, and the likeliest speaker path (Viterbi) pays SWITCH_COST for a change of
   speaker inside a region but nothing across a pause; a change left inside a region moves to
   the quietest frame nearby, so boundaries land on pauses.

Each segment gets a confidence: the mean lead, over its frames, of its speaker's similarity
over the likeliest other one, SURE_MARGIN making it certain. The result is exclusive (one
speaker at a time): overlapping speech goes to the voice that dominates it. Speakers are numbered by first appearance: label "S1" speaks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.engines.diarize.speaker_model.encoder import (
    HOP,
    SAMPLE_RATE,
    WINDOW_FRAMES,
    SpeakerEncoder,
    default_encoder,
    power_mel,
)
from pipeline.errors import PipelineError

FRAME_S = HOP / SAMPLE_RATE  # the timeline's resolution: 10 ms
STEP_FRAMES = 75  # a new window every 0.75 s
PIECE_FRAMES = 200  # clustering works on pieces of speech up to 2 s long
MIN_REGION_S = 0.3  # shorter speech bursts carry too little voice to embed
VAD_THRESHOLD = 0.5
VAD_PAD_MS = 150  # speech kept either side of what the VAD hears: word edges are quiet
SWITCH_COST = 1.0  # in seconds of clear voice evidence (similarity summed over time)
MAX_PAUSE_IN_TURN_S = 1.0  # a speaker's pause shorter than this stays inside the turn
SNAP_S = 0.3  # how far a change point may move to reach a pause
MAX_SPEAKERS = 8  # tried when the number of speakers is not known
MIN_SILHOUETTE = 0.1  # under it, the unknown count is taken to be one voice
SURE_MARGIN = 0.2  # a similarity lead over the next speaker that makes a turn's speaker certain
TARGET_DBFS = -30.0  # the loudness Resemblyzer normalises its training utterances to


@dataclass
class SpeakerSegment:
    start: float  # seconds
    end: float
    speaker: int  # 0 is the first voice heard
    confidence: float = 1.0  # 0-1: how much more its voice is this speaker's than another's


@dataclass
class Diarization:
    segments: list[SpeakerSegment]  # sorted, non-overlapping
    centroids: np.ndarray  # (speakers, the encoder's dimension): unit voice vectors, row i for speaker i
    common: np.ndarray  # the voice vector all speakers share, removed before comparing
    separation: float  # 0-1: how cleanly the speech falls into the speakers found

    @property
    def speakers(self) -> int:
        return len(self.centroids)

    def similarity(self, voice: np.ndarray) -> np.ndarray:
        """Cosine similarity of a voice vector (e.g. an enrolled voiceprint) to each speaker."""
        return self.centroids @ unit(voice - self.common)


def speaker_label(speaker: int) -> str:
    """The name a producer uses for a cluster in the episode file: S1 is the first voice heard."""
    return f"S{speaker + 1}"


def load_audio(path: Path) -> np.ndarray:
    """Mono 16 kHz float samples of any file ffmpeg reads."""
    from faster_whisper.audio import decode_audio

    if not Path(path).is_file():
        raise PipelineError(path, "audio file not found")
    try:
        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # PyAV raises many types for unreadable input
        raise PipelineError(
            path, f"cannot read this audio ({exc}); give a WAV, MP3 or FLAC"
        ) from exc


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """Speech as (first, last+1) frame pairs, split wherever the speaker pauses a quarter second."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=VAD_THRESHOLD, min_silence_duration_ms=250, speech_pad_ms=VAD_PAD_MS
    )
    regions = []
    for speech in get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE):
        first, last = speech["start"] // HOP, -(-speech["end"] // HOP)
        if (last - first) * FRAME_S >= MIN_REGION_S:
            regions.append((first, last))
    return regions


def at_training_loudness(audio: np.ndarray, regions: list[tuple[int, int]]) -> np.ndarray:
    """The audio with its speech brought to the loudness GE2E was trained on."""
    speech = np.concatenate([audio[a * HOP : b * HOP] for a, b in regions]) if regions else audio
    return audio * (10 ** (TARGET_DBFS / 20) / (np.sqrt(np.mean(speech**2)) + 1e-9))


def embedding_windows(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows of WINDOW_FRAMES sliding over each region; a short region is one shorter window."""
    windows = []
    for first, last in regions:
        if last - first <= WINDOW_FRAMES:
            windows.append((first, last))
            continue
        starts = list(range(first, last - WINDOW_FRAMES, STEP_FRAMES)) + [last - WINDOW_FRAMES]
        windows.extend((s, s + WINDOW_FRAMES) for s in starts)
    return windows


def clustering_pieces(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Regions cut into equal pieces of at most PIECE_FRAMES: short enough to hold one voice
    mostly, long enough for a steady voice vector."""
    pieces = []
    for first, last in regions:
        count = -(-(last - first) // PIECE_FRAMES)
        bounds = np.linspace(first, last, count + 1).round().astype(int)
        pieces.extend(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
    return pieces


def piece_vectors(
    pieces: list[tuple[int, int]], windows: list[tuple[int, int]], vectors: np.ndarray
) -> np.ndarray:
    """The mean voice vector of the windows centred in each piece (or of the nearest window)."""
    centres = np.array([(a + b) / 2 for a, b in windows])
    means = []
    for first, last in pieces:
        inside = (centres >= first) & (centres < last)
        if not inside.any():
            inside = (
                np.abs(centres - (first + last) / 2) == np.abs(centres - (first + last) / 2).min()
            )
        means.append(vectors[inside].mean(axis=0))
    return unit(np.array(means))


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-9)


def cluster(vectors: np.ndarray, speakers: int | None) -> np.ndarray:
    """A cluster index per vector: `speakers` clusters or, when that is unknown, the count whose
    clusters stand apart best (silhouette), one if none stands out by MIN_SILHOUETTE."""
    from sklearn.metrics import silhouette_score

    if speakers is not None:
        return _clusters(vectors, speakers)
    candidates = [_clusters(vectors, k) for k in range(2, min(MAX_SPEAKERS, len(vectors) - 1) + 1)]
    candidates = [labels for labels in candidates if len(np.unique(labels)) > 1]
    scores = [silhouette_score(vectors, labels, metric="cosine") for labels in candidates]
    if not scores or max(scores) < MIN_SILHOUETTE:
        return np.zeros(len(vectors), int)
    return candidates[int(np.argmax(scores))]


def _clusters(vectors: np.ndarray, count: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if count < 2 or len(vectors) < 2:
        return np.zeros(len(vectors), int)
    clustering = AgglomerativeClustering(
        n_clusters=min(count, len(vectors)), metric="cosine", linkage="average"
    )
    labels = clustering.fit_predict(vectors)
    for _ in range(5):  # refine against centroids, as k-means would
        labels = np.argmax(vectors @ centroids_of(vectors, labels).T, axis=1)
    return labels


def centroids_of(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return unit(np.stack([vectors[labels == c].mean(axis=0) for c in np.unique(labels)]))


def frame_similarity(
    windows: list[tuple[int, int]], vectors: np.ndarray, centroids: np.ndarray, frames: int
) -> np.ndarray:
    """(frames, speakers): mean similarity to each speaker of the windows covering each frame."""
    similarity = vectors @ centroids.T
    total = np.zeros((frames + 1, len(centroids)))
    count = np.zeros(frames + 1)
    for (first, last), row in zip(windows, similarity):
        total[first] += row
        total[last] -= row
        count[first] += 1
        count[last] -= 1
    return np.cumsum(total, axis=0)[:frames] / np.maximum(np.cumsum(count)[:frames, None], 1)


def resegment(
    regions: list[tuple[int, int]], similarity: np.ndarray, loudness: np.ndarray
) -> list[tuple[int, int, int]]:
    """(first, last, speaker) turns along the likeliest speaker path through the speech frames.

    A change of speaker costs SWITCH_COST (in seconds of clear voice evidence) inside a region and
    nothing across a pause, so turns change at pauses unless the voice says otherwise; a change
    left inside a region then moves to the quietest frame within SNAP_S.
    """
    speech = np.concatenate([np.arange(a, b) for a, b in regions])
    switch_cost = np.full(len(speech), SWITCH_COST)
    switch_cost[np.cumsum([0] + [b - a for a, b in regions[:-1]])] = 0.0
    path = np.empty(len(similarity), int)
    path[speech] = best_path(similarity[speech] * FRAME_S, switch_cost)
    snap = round(SNAP_S / FRAME_S)
    turns = []
    for first, last in regions:
        changes = np.flatnonzero(np.diff(path[first:last])) + 1
        bounds = [first, *(first + changes).tolist(), last]
        speakers = [int(path[b]) for b in bounds[:-1]]
        for i in range(1, len(bounds) - 1):
            lo, hi = (
                max(bounds[i] - snap, bounds[i - 1] + 1),
                min(bounds[i] + snap, bounds[i + 1] - 1),
            )
            bounds[i] = lo + int(np.argmin(loudness[lo : hi + 1]))
        turns += list(zip(bounds, bounds[1:], speakers))
    return turns


def best_path(scores: np.ndarray, switch_cost: np.ndarray) -> np.ndarray:
    """Viterbi: the label sequence maximising the summed scores minus the switches' costs."""
    frames, labels = scores.shape
    came_from = np.zeros((frames, labels), int)
    total = scores[0].copy()
    for t in range(1, frames):
        leader = int(np.argmax(total))
        switched = total[leader] - switch_cost[t]
        came_from[t] = np.where(total >= switched, np.arange(labels), leader)
        total = np.maximum(total, switched) + scores[t]
    path = np.empty(frames, int)
    path[-1] = int(np.argmax(total))
    for t in range(frames - 1, 0, -1):
        path[t - 1] = came_from[t, path[t]]
    return path


def _joined(turns: list[tuple[int, int, int]], max_gap: int) -> list[tuple[int, int, int]]:
    """One turn for a speaker's speech across pauses shorter than max_gap frames."""
    joined: list[tuple[int, int, int]] = []
    for first, last, speaker in turns:
        if joined and joined[-1][2] == speaker and first - joined[-1][1] < max_gap:
            joined[-1] = (joined[-1][0], last, speaker)
        else:
            joined.append((first, last, speaker))
    return joined


def separation(vectors: np.ndarray, centroids: np.ndarray) -> float:
    """0-1: the median margin by which a window resembles its own speaker over the next one."""
    if len(centroids) < 2:
        return 1.0
    similarity = np.sort(vectors @ centroids.T, axis=1)
    margin = float(np.median(similarity[:, -1] - similarity[:, -2]))
    return float(np.clip(margin / SURE_MARGIN, 0.0, 1.0))


def turn_confidence(similarity: np.ndarray, speech: np.ndarray, first: int, last: int, speaker: int) -> float:
    """0-1: the mean lead of the turn's speaker over the likeliest other one, on its speech frames."""
    if similarity.shape[1] < 2:
        return 1.0
    frames = similarity[first:last][speech[first:last]]
    if not len(frames):
        return 0.0
    others = np.delete(frames, speaker, axis=1).max(axis=1)
    return float(np.clip(np.mean(frames[:, speaker] - others) / SURE_MARGIN, 0.0, 1.0))


def diarize_audio(audio: np.ndarray, speakers: int | None = None,
                  encoder: SpeakerEncoder | None = None) -> Diarization:
    """Who spoke when in `audio` (16 kHz mono), with `speakers` voices if known."""
    encoder = encoder or default_encoder()
    regions = speech_regions(audio)
    if not regions:
        return Diarization([], np.zeros((0, encoder.dimension), np.float32),
                           np.zeros(encoder.dimension, np.float32), 0.0)
    audio = at_training_loudness(audio, regions)
    windows = embedding_windows(regions)
    raw = encoder.embed(audio, windows)
    # What all voices of the recording share (room, channel, the encoder's bias) hides what
    # tells them apart: take it out before comparing.
    common = raw.mean(axis=0)
    vectors = unit(raw - common)
    pieces = clustering_pieces(regions)
    piece_vecs = piece_vectors(pieces, windows, vectors)
    labels = cluster(piece_vecs, speakers)
    centroids = centroids_of(piece_vecs, labels)
    loudness = np.log(power_mel(audio).sum(axis=1) + 1e-6)
    similarity = frame_similarity(windows, vectors, centroids, len(loudness))
    turns = _joined(resegment(regions, similarity, loudness), round(MAX_PAUSE_IN_TURN_S / FRAME_S))
    order = list(dict.fromkeys(speaker for _, _, speaker in turns))  # by first appearance
    order += [c for c in range(len(centroids)) if c not in order]
    speech = np.zeros(len(similarity), bool)
    for first, last in regions:
        speech[first:last] = True
    segments = [SpeakerSegment(a * FRAME_S, b * FRAME_S, order.index(s),
                               round(turn_confidence(similarity, speech, a, b, s), 2)) for a, b, s in turns]
    centroids = centroids[order]
    return Diarization(segments, centroids, common, separation(vectors, centroids))


def voice_vector(audio: np.ndarray, encoder: SpeakerEncoder | None = None) -> tuple[np.ndarray, float]:
    """One voice vector for all the speech in `audio` (to enroll a known speaker), and how many
    seconds of speech it was made from."""
    encoder = encoder or default_encoder()
    regions = speech_regions(audio)
    if not regions:
        return np.zeros(encoder.dimension, np.float32), 0.0
    vectors = encoder.embed(at_training_loudness(audio, regions), embedding_windows(regions))
    seconds = sum(b - a for a, b in regions) * FRAME_S
    return unit(vectors.mean(axis=0)).astype(np.float32), seconds
