"""Speaker encoders: 16 kHz audio in, one unit voice vector per window out.

The default is Resemblyzer's pretrained GE2E encoder (Apache-2.0, see LICENSE-resemblyzer): a
3-layer LSTM over 40 power-mel bands, trained on 1.6 s windows, giving 256-d vectors. It was
exported once to `ge2e.onnx` (export.py, with the `[convert]` extra) and runs on onnxruntime,
which faster-whisper already brings, so the runtime needs neither torch nor librosa. Another
encoder (a pyannote model, say) only has to follow the `SpeakerEncoder` protocol.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.engines.diarize.speaker_model.onnx_file import checked_session

SAMPLE_RATE = 16_000
HOP = 160  # samples per mel frame: windows are counted in 10 ms frames
N_FFT = 400  # 25 ms analysis windows
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s, the partial-utterance length GE2E was trained on
MODEL_FILE = Path(__file__).with_name("ge2e.onnx")
MODEL_SHA256 = "9504796a8981bb5433690ec47012e7ade1cdd716bb8e7134c48bfd043d846cb2"


class SpeakerEncoder(Protocol):
    dimension: int

    def embed(self, audio: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
        """(len(windows), dimension) unit vectors, one per window (first, last+1 in 10 ms
        frames) of 16 kHz mono `audio`."""
        ...


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear to 1 kHz, logarithmic above (as librosa's default)."""
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1000.0) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@functools.cache
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, area-normalised ("slaney"), as
    librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), with which Resemblyzer was trained."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(SAMPLE_RATE / 2)), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def power_mel(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram as Resemblyzer computes it: 25 ms Hann windows every
    10 ms, centred."""
    padded = np.pad(audio, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT + 1)[:-1], axis=1)) ** 2
    return (power @ mel_filters().T).astype(np.float32)


class GE2EEncoder:
    """Resemblyzer's GE2E encoder on onnxruntime."""

    dimension = 256

    def __init__(self, model_file: Path = MODEL_FILE, sha256: str = MODEL_SHA256):
        self.session = checked_session(model_file, sha256)

    def embed(self, audio: np.ndarray, windows: list[tuple[int, int]], batch: int = 256) -> np.ndarray:
        """A short window's frames repeat to fill WINDOW_FRAMES (padding with silence instead
        would make every short burst sound alike)."""
        mel = power_mel(audio)
        mels = np.zeros((len(windows), WINDOW_FRAMES, N_MELS), np.float32)
        for i, (first, last) in enumerate(windows):
            mels[i] = np.resize(mel[first:last], (WINDOW_FRAMES, N_MELS))
        out = [self.session.run(None, {"mels": mels[i : i + batch]})[0] for i in range(0, len(mels), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.dimension), np.float32)


@functools.cache
def default_encoder() -> SpeakerEncoder:
    return GE2EEncoder()
