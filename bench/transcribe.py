"""Transcription speed and accuracy: the transcribe stage against bare faster-whisper.

    .venv/bin/python bench/transcribe.py [--seconds N] [--batch-sizes 0 8]

On ../shared/data/sample-episode/excerpt.mp3 (11 min, two espeak-ng voices) it prints, for
sequential decoding (batch 0) and batched decoding: the real-time factor of bare faster-whisper
and of the stage with the same options, and the word error rate of each against
excerpt.ref.json. Then the real-time factor of a whole `publish episode` run with the defaults.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scoring import wer

from pipeline.engines.mastering import ffmpeg_exe
from pipeline.engines.transcribe import TranscribeOptions, decode, transcribe
from pipeline.engines.whisper_model import load_model
from pipeline.model import join_words

REPO = Path(__file__).resolve().parents[1]
EXCERPT = REPO.parent / "shared" / "data" / "sample-episode" / "excerpt.mp3"


def reference_turns(seconds: float | None) -> list[dict]:
    """The reference turns, cut to whole turns within the first `seconds` (at least one)."""
    turns = json.loads(EXCERPT.with_suffix(".ref.json").read_text(encoding="utf-8"))["turns"]
    if seconds is None:
        return turns
    return turns[:1] + [t for t in turns[1:] if t["end"] <= seconds]


def bare(audio: Path, options: TranscribeOptions) -> tuple[float, str]:
    started = time.perf_counter()
    segments, _ = decode(audio, options)
    text = " ".join(segment.text.strip() for segment in segments)
    return time.perf_counter() - started, text


def stage(audio: Path, options: TranscribeOptions) -> tuple[float, str]:
    started = time.perf_counter()
    transcript = transcribe(audio, options, progress=False)
    return time.perf_counter() - started, join_words(transcript.words)


def whole_publish(audio: Path, duration: float) -> float:
    """Seconds for `publish episode` on a fresh project holding only this audio."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(REPO / "feeds", root / "feeds")
        folder = root / "episodes" / "bench"
        shutil.copytree(REPO / "episodes" / "exemple", folder)
        shutil.copyfile(audio, folder / "audio.mp3")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "-q", "episode", "bench", "--show",
             str(root / "feeds" / "show.toml"), "--episodes", str(root / "episodes"),
             "--work", str(root / "build"), "--to", str(root / "site")],
            check=True,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="only the first N seconds of the excerpt")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[0, 8],
                        help="0 is sequential decoding; none skips this part")
    parser.add_argument("--no-publish", action="store_true", help="skip the whole-publish run")
    args = parser.parse_args()
    if not EXCERPT.exists():
        sys.exit(f"needs {EXCERPT} (the shared data folder)")

    with tempfile.TemporaryDirectory() as scratch:
        turns = reference_turns(args.seconds)
        reference = " ".join(t["text"] for t in turns)
        audio, duration = EXCERPT, 668.242
        if args.seconds:
            audio, duration = Path(scratch) / "excerpt.mp3", turns[-1]["end"] + 0.5
            subprocess.run([ffmpeg_exe(), "-v", "error", "-t", str(duration), "-i",
                            str(EXCERPT), str(audio)], check=True)
        load_model("base", "auto")  # loading is not part of the real-time factor

        print(f"audio: {audio.name}, {duration:.0f} s, model base, "
              f"device {TranscribeOptions().device}")
        print(f"{'decoding':<16}{'bare RTF':>10}{'stage RTF':>11}{'stage/bare':>12}"
              f"{'bare WER':>10}{'stage WER':>11}")
        for batch_size in args.batch_sizes:
            options = TranscribeOptions(batch_size=batch_size)
            bare_seconds, bare_text = bare(audio, options)
            stage_seconds, stage_text = stage(audio, options)
            name = "sequential" if batch_size == 0 else f"batched x{batch_size}"
            print(f"{name + ', beam 5':<16}{bare_seconds / duration:>10.3f}"
                  f"{stage_seconds / duration:>11.3f}{stage_seconds / bare_seconds:>12.2f}"
                  f"{wer(reference, bare_text):>10.1%}{wer(reference, stage_text):>11.1%}")
        if not args.no_publish:
            seconds = whole_publish(audio, duration)
            print(f"whole `publish episode` (defaults, fresh cache): {seconds:.1f} s, "
                  f"RTF {seconds / duration:.3f}")


if __name__ == "__main__":
    main()
