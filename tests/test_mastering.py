"""Mastering through the real ffmpeg: the loudness target reached however much the limiter takes."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from pipeline.engines.mastering import LOUDNESS_TOLERANCE_LU, TARGET_LUFS, TARGET_TRUE_PEAK, master


def _quiet_voice_with_peaks(path: Path, seconds: int = 20, rate: int = 16000) -> Path:
    """Quiet, peaky sound (a Laplacian hiss shaped in 0.1 s syllables, with rare loud samples):
    it needs some 18 dB of gain, and the limiter then takes back several LU of loudness."""
    rng = np.random.default_rng(0)
    count = seconds * rate
    envelope = np.repeat(rng.uniform(0.2, 1.0, count // 1600), 1600)
    samples = rng.laplace(0, 0.01, count) * envelope * np.where(rng.random(count) < 0.002, 30, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


def test_a_quiet_peaky_recording_is_mastered_onto_the_loudness_target(tmp_path: Path):
    mastered = master(_quiet_voice_with_peaks(tmp_path / "raw.wav"), tmp_path / "master.mp3")
    assert abs(mastered.loudness_lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU
    assert mastered.true_peak_dbtp <= TARGET_TRUE_PEAK
    assert not (tmp_path / "master.partial.mp3").exists() and mastered.path.is_file()
