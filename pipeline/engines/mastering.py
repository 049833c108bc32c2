"""Audio stage: the producer's raw file, checked, loudness-normalised and encoded as MP3.

Loudness follows the podcast norm (-16 LUFS integrated, true peak at most -1.5 dBTP). ffmpeg's
EBU R128 meter measures, then a gain and a true-peak limiter reach the target: ffmpeg's two-pass
`loudnorm` undershoots speech with high peaks by a whole LU, which listeners hear as a quiet show.
ID3 tags are written later, on the published copy (stages/render.py), so that retitling an
episode never re-encodes or re-transcribes it.
"""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
from pathlib import Path

import av
import imageio_ffmpeg

from pipeline.build.files import file_digest
from pipeline.errors import PipelineError
from pipeline.model import MasteredAudio

TARGET_LUFS = -16.0
TARGET_TRUE_PEAK = -1.5
# Within half an LU of the target is on it (podcast platforms ask for -16 LUFS within 1 LU): a
# closer aim would encode most episodes twice.
LOUDNESS_TOLERANCE_LU = 0.5
# The MP3 encoder adds a few tenths of a dB of overshoot, so the limiter aims below the limit.
_FILTER_TRUE_PEAK = -2.0
MP3_BITRATE = "128k"
SAMPLE_RATE = 44100


def ffmpeg_exe() -> str:
    """ffmpeg from PyPI (imageio-ffmpeg), so a user's set-up stays one pip command."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def decoded_duration(source: Path) -> float:
    """Seconds of audio that actually decode; raises a one-line error for anything unreadable."""
    if not source.is_file():
        raise PipelineError(source, "audio file not found")
    if source.stat().st_size == 0:
        raise PipelineError(source, "audio file is empty; export the episode again")
    try:
        with av.open(str(source)) as container:
            if not container.streams.audio:
                raise PipelineError(source, "no audio stream in this file; export it as WAV or MP3")
            announced = (container.duration or 0) / av.time_base
            samples = 0
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                samples += frame.samples
            rate = stream.rate or stream.codec_context.sample_rate
    except av.FFmpegError as exc:
        raise PipelineError(
            source, f"not a readable audio file ({exc.strerror or exc}); export it as WAV or MP3"
        ) from None
    decoded = samples / rate if rate else 0.0
    if decoded < 0.5:
        raise PipelineError(source, "no decodable audio in this file; export the episode again")
    if announced - decoded > max(1.0, 0.02 * announced):
        # A listener would hear the episode stop mid-sentence: refuse rather than publish it.
        raise PipelineError(
            source,
            f"audio ends early: {decoded:.1f} s decode of the {announced:.1f} s the file announces "
            "(truncated upload?); copy or export the file again",
        )
    return decoded


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """In the child, before ffmpeg starts (Linux): killed when the publisher dies, even by
    kill -9, so no ffmpeg is left encoding for nobody. Elsewhere the child runs on its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def child_options() -> dict:
    """subprocess options that tie a child process's life to this one's (Linux)."""
    return {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}


def _run_ffmpeg(args: list[str], source: Path) -> str:
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args],
        capture_output=True,
        text=True,
        **child_options(),
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise PipelineError(source, f"ffmpeg failed: {last}")
    return result.stderr


def measure_loudness(path: Path, true_peak: bool = True) -> tuple[float, float | None]:
    """Integrated loudness (LUFS) and true peak (dBTP; None unless `true_peak`, whose 4x
    oversampling costs more than the loudness itself), by ffmpeg's EBU R128 meter."""
    meter = "ebur128=peak=true:framelog=quiet" if true_peak else "ebur128=framelog=quiet"
    log = _run_ffmpeg(["-nostats", "-i", str(path), "-af", meter, "-f", "null", "-"], path)
    summary = log[log.rfind("Summary:"):]
    loudness = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not (loudness and (peak or not true_peak)):
        raise PipelineError(path, "ffmpeg printed no loudness measurement")
    return float(loudness.group(1)), float(peak.group(1)) if true_peak else None


def _limited_gain(gain_db: float) -> str:
    """Gain, then a peak limiter at 4x oversampling (so sample peaks stand for true peaks)."""
    ceiling = 10 ** (_FILTER_TRUE_PEAK / 20)
    return (
        f"aresample={SAMPLE_RATE * 4},volume={gain_db:.2f}dB,"
        f"alimiter=limit={ceiling:.4f}:attack=1:release=50:level=disabled,aresample={SAMPLE_RATE}"
    )


def _encode(source: Path, audio_filter: str, output: Path) -> None:
    _run_ffmpeg(
        ["-i", str(source), "-vn", "-map_metadata", "-1", "-af", audio_filter,
         "-c:a", "libmp3lame", "-b:a", MP3_BITRATE, str(output)],
        source,
    )


def _limited_to_target(source: Path, partial: Path, gain: float, tries: int = 3) -> tuple[float, float]:
    """(loudness, true peak) of `partial`, encoded from `source` through the gain and limiter.
    Limiting speech peaks lowers loudness, the more so the higher the gain, so a miss of more
    than LOUDNESS_TOLERANCE_LU is corrected along the slope the last two tries measured (a gain
    raised by the miss alone creeps up on the target: -18.0, -17.1, -16.7 LUFS on a 43-min
    episode with loud peaks)."""
    slope, last = 1.0, None
    for _ in range(tries):
        _encode(source, _limited_gain(gain), partial)
        loudness, peak = measure_loudness(partial)
        if abs(TARGET_LUFS - loudness) <= LOUDNESS_TOLERANCE_LU:
            break
        if last is not None and gain != last[0]:
            slope = min(1.0, max(0.2, (loudness - last[1]) / (gain - last[0])))
        last = (gain, loudness)
        gain += (TARGET_LUFS - loudness) / slope
    return loudness, peak


def master(source: Path, output: Path) -> MasteredAudio:
    """Normalise loudness and encode `source` to an MP3 at `output`.

    Pass one measures; pass two applies the gain that reaches the target through a true-peak
    limiter (see `_limited_to_target`).
    """
    duration = decoded_duration(source)
    loudness, _ = measure_loudness(source, true_peak=False)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial.mp3")
    warnings = []
    if loudness < -70:  # digital silence: there is no loudness to normalise
        warnings.append(f"{source}: the audio is silent; check the export")
        _encode(source, f"aresample={SAMPLE_RATE}", partial)
        loudness, peak = measure_loudness(partial)
    else:
        loudness, peak = _limited_to_target(source, partial, TARGET_LUFS - loudness)
    partial.replace(output)
    return MasteredAudio(
        path=output,
        duration=round(duration, 3),
        loudness_lufs=loudness,
        true_peak_dbtp=peak,
        digest=file_digest(output),
        warnings=warnings,
    )
