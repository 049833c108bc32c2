"""Local speaker activity: pyannote's segmentation-3.0 (MIT, see
speaker_model/LICENSE-pyannote-segmentation) on onnxruntime, and the "pieces" of solo speech
the speaker encoder embeds.

segmentation-3.0 reads 10 s windows; each of its 589 frames (16.875 ms apart) gets one of 7
"powerset" classes: nobody, one of three local speakers, or a pair of them at once. Local
speakers are only consistent inside one window: the clustering links them across windows.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.engines.diarize.speaker_model.onnx_file import checked_session

SAMPLE_RATE = 16_000
MODEL_FILE = Path(__file__).with_name("speaker_model") / "segmentation-3.0.onnx"
MODEL_SHA256 = "19809ec41ea14c60c0e0f7f3c1d9d818003ed1b39a3781694c94bdcded9c1e63"
# Geometry of segmentation-3.0 (fixed by the network, not tunable): 10 s in, 589 frames out.
CHUNK_SAMPLES = 160_000
CHUNK_FRAMES = 589
FRAME_STEP = 270  # samples between output frames (SincNet strides 10 * 3 * 3 * 3)
FRAME_SPAN = 991  # samples each output frame sees
FRAME_S = FRAME_STEP / SAMPLE_RATE
# Powerset class -> which of the 3 local speakers are active (segmentation-3.0's class order).
POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], np.float32
)


class Segmenter:
    """segmentation-3.0 on onnxruntime: 10 s windows in, per-frame local speaker activity out."""

    def __init__(self, threads: int = 2, model_file: Path = MODEL_FILE, sha256: str = MODEL_SHA256) -> None:
        self.session = checked_session(model_file, sha256, threads)

    def activity(self, audio: np.ndarray, starts: np.ndarray, batch: int = 8) -> np.ndarray:
        """(windows, 589, 3) 0/1 activity of each local speaker, from the likeliest powerset
        class of each frame (as pyannote binarises it). Small batches: SincNet's first layer
        holds 80 x 16,000 floats per window, so big batches cost memory, not speed."""
        out = np.zeros((len(starts), CHUNK_FRAMES, 3), np.float32)
        padded = np.pad(audio.astype(np.float32), (0, CHUNK_SAMPLES))
        for first in range(0, len(starts), batch):
            chunk_starts = starts[first : first + batch]
            chunks = np.stack([padded[s : s + CHUNK_SAMPLES] for s in chunk_starts])[:, None]
            scores = self.session.run(None, {"waveforms": chunks})[0]
            out[first : first + len(chunk_starts)] = POWERSET[scores.argmax(axis=-1)]
        return out


@functools.cache
def default_segmenter(threads: int = 2) -> Segmenter:
    return Segmenter(threads)


def window_starts(samples: int, step_frames: int) -> np.ndarray:
    """Window starts in samples, a whole number of frames apart so every window's frames land
    on the same global frame grid; the last window reaches the end of the audio."""
    step = step_frames * FRAME_STEP
    last = max(0, samples - CHUNK_SAMPLES)
    starts = list(range(0, last + 1, step))
    if starts[-1] < last:
        starts.append(starts[-1] + step)
    return np.array(starts, np.int64)


def frame_count(samples: int) -> int:
    return (samples - FRAME_SPAN) // FRAME_STEP + 1 if samples >= FRAME_SPAN else 1


def frame_time(frame: int) -> float:
    """Seconds at the boundary before this frame: frames own FRAME_STEP samples at the centre
    of what they see."""
    return ((FRAME_SPAN - FRAME_STEP) / 2 + frame * FRAME_STEP) / SAMPLE_RATE


@dataclass(frozen=True)
class Piece:
    """A stretch of one local speaker's solo speech inside one window: the clustering unit.
    Pieces end at the speaker's pauses (turns change there) and are at most max_piece_s long,
    so a change of voice the segmentation missed still shows as pieces of different voices."""

    window: int
    local: int
    first: int  # window frames, last excluded
    last: int


def clean_frames(activity: np.ndarray, speaker: int) -> np.ndarray:
    """The frames where this local speaker talks alone (overlap would blend two voices)."""
    return (activity[:, speaker] > 0) & (activity.sum(axis=1) == 1)


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last+1) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def window_pieces(activity: np.ndarray, window: int, min_piece_s: float, max_piece_s: float) -> list[Piece]:
    """The pieces of every local speaker of one window: runs of solo speech long enough to
    embed, cut into equal parts of at most max_piece_s."""
    shortest, longest = min_piece_s / FRAME_S, max_piece_s / FRAME_S
    pieces = []
    for local in range(3):
        for first, last in true_runs(clean_frames(activity, local)):
            if last - first < shortest:
                continue
            bounds = np.linspace(first, last, int(np.ceil((last - first) / longest)) + 1).round().astype(int)
            pieces += [Piece(window, local, int(a), int(b)) for a, b in itertools.pairwise(bounds.tolist())]
    return pieces


def piece_span(start: int, piece: Piece) -> tuple[int, int]:
    """(first, last+1) samples a piece's frames own (each frame the FRAME_STEP samples at its
    centre), `start` being its window's first sample."""
    first = start + piece.first * FRAME_STEP + (FRAME_SPAN - FRAME_STEP) // 2
    return first, first + (piece.last - piece.first) * FRAME_STEP
