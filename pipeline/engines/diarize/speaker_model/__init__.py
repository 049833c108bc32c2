"""Speaker encoders: 16 kHz audio in, one voice vector per stretch of speech out.

- CAM++ (campplus.py; 3D-Speaker, Apache-2.0, see LICENSE-campplus): 192-d, trained on
  thousands of Chinese and English speakers; the diarizer's main encoder.
- GE2E (encoder.py; Resemblyzer, Apache-2.0, see LICENSE-resemblyzer): 256-d, 1.6 s windows;
  joined to CAM++ because it tells apart some voices CAM++ hears as one.

Both run on onnxruntime from ONNX files exported once with the `[convert]` extra (export.py,
export_pyannote.py) and checked by SHA-256 at load. Another encoder only has to follow
`VoiceEncoder` (the GE2E window-level seam, `encoder.SpeakerEncoder`, stays as it was).
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np

from pipeline.engines.diarize.speaker_model.campplus import CamPlusPlus
from pipeline.engines.diarize.speaker_model.encoder import HOP, WINDOW_FRAMES, SpeakerEncoder, default_encoder

TARGET_DBFS = -30.0  # the loudness Resemblyzer normalises its training utterances to


class VoiceEncoder(Protocol):
    dimension: int

    def embed(self, audio: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
        """(len(spans), dimension) raw voice vectors, one per (first, last+1) span of samples of
        16 kHz mono `audio`."""
        ...


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-9)


class JoinedEncoder:
    """[CAM++ unit vector | GE2E unit vector] per span (GE2E left out when `ge2e` is None)."""

    def __init__(self, campplus: CamPlusPlus, ge2e: SpeakerEncoder | None) -> None:
        self.campplus, self.ge2e = campplus, ge2e
        self.dimension = campplus.dimension + (ge2e.dimension if ge2e else 0)

    def embed(self, audio: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
        cam = _unit(self.campplus.embed([audio[a:b] for a, b in spans]))
        if self.ge2e is None:
            return cam
        return np.concatenate([cam, _unit(self._ge2e(audio, spans))], axis=1)

    def _ge2e(self, audio: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
        """GE2E on each span (at most WINDOW_FRAMES long, as the diarizer's pieces are; longer
        ones are read in windows averaged), the speech brought to GE2E's training loudness. The
        spans are laid end to end (each padded to whole 10 ms frames) so that the mel
        spectrogram covers only them, not the whole recording."""
        clips = [np.pad(audio[a:b], (0, -(b - a) % HOP)) for a, b in spans]
        speech = np.concatenate(clips)
        speech = speech * (10 ** (TARGET_DBFS / 20) / (np.sqrt(np.mean(speech**2)) + 1e-9))
        windows, owners, first = [], [], 0
        for i, clip in enumerate(clips):
            last = first + max(1, len(clip) // HOP)
            for start in range(first, max(first + 1, last - WINDOW_FRAMES + 1), WINDOW_FRAMES // 2):
                windows.append((start, min(start + WINDOW_FRAMES, last)))
                owners.append(i)
            first += len(clip) // HOP
        vectors = self.ge2e.embed(np.pad(speech, (0, HOP)), windows)
        sums = np.zeros((len(spans), vectors.shape[1]), np.float32)
        np.add.at(sums, np.array(owners), vectors)
        return sums


@functools.cache
def default_voice_encoder(threads: int = 2, bucket_s: float = 0.25, with_ge2e: bool = True) -> JoinedEncoder:
    """The encoders, loaded once per process (per option set)."""
    return JoinedEncoder(CamPlusPlus(threads, max(1, round(bucket_s * 100))), default_encoder() if with_ge2e else None)
