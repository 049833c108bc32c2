"""Transcription speed and accuracy: the transcribe stage against bare faster-whisper.

    .venv/bin/python bench/transcribe.py [--episode DIR] [--seconds N] [--batch-sizes 0 8] [--no-publish]

On ../shared/data/sample-episode/excerpt.mp3 (11 min, two espeak-ng voices), or an episode folder
made by synth_episode.py (episode.mp3, episode.ref.json, episode.toml), it prints, for sequential
decoding (batch 0) and batched decoding: the real-time factor of bare faster-whisper and of the
stage with the same options, and the word error rate of each against the reference. Then, back
to back: plain sequential faster-whisper (beam 5, VAD, what a new user runs) and a whole
`publish episode` of the same audio with the defaults (a fresh project, the model loaded in it),
wall and CPU seconds (the machine is shared: CPU seconds are the steadier figure).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scoring import wer

from pipeline.engines.mastering import ffmpeg_exe
from pipeline.engines.transcribe import TranscribeOptions, decode, transcribe
from pipeline.engines.whisper_model import load_model
from pipeline.model import join_words

REPO = Path(__file__).resolve().parents[1]
EXCERPT = REPO.parent / "shared" / "data" / "sample-episode" / "excerpt.mp3"


@dataclass
class Timed:
    wall: float
    cpu: float  # this process's and its children's

    def __truediv__(self, other: Timed) -> str:
        return f"{self.wall / other.wall:.2f} (CPU {self.cpu / other.cpu:.2f})"


def timed(work, *args) -> tuple[Timed, object]:
    """`work(*args)`'s result, and its wall and CPU seconds."""
    before = time.perf_counter(), time.process_time(), _children_cpu()
    result = work(*args)
    cpu = time.process_time() - before[1] + _children_cpu() - before[2]
    return Timed(time.perf_counter() - before[0], cpu), result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reference_turns(audio: Path, seconds: float | None) -> list[dict]:
    """The reference turns, cut to whole turns within the first `seconds` (at least one)."""
    turns = json.loads(audio.with_suffix(".ref.json").read_text(encoding="utf-8"))["turns"]
    if seconds is None:
        return turns
    return turns[:1] + [t for t in turns[1:] if t["end"] <= seconds]


def bare(audio: Path, options: TranscribeOptions) -> str:
    segments, _ = decode(audio, options)
    return " ".join(segment.text.strip() for segment in segments)


def plain_faster_whisper(audio: Path, language: str = "fr") -> str:
    """Sequential faster-whisper as a new user runs it: beam 5, VAD, no word timestamps."""
    segments, _ = load_model("base", "auto").transcribe(str(audio), language=language, beam_size=5, vad_filter=True)
    return " ".join(segment.text.strip() for segment in segments)


def stage(audio: Path, options: TranscribeOptions) -> str:
    return join_words(transcribe(audio, options, progress=False).words)


def whole_publish(audio: Path, folder: Path | None) -> None:
    """`publish episode` on a fresh project holding only this audio: the episode folder's
    episode.toml (its links) when there is one, else the sample episode's."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(REPO / "feeds", root / "feeds")
        episode = root / "episodes" / "bench"
        shutil.copytree(REPO / "episodes" / "exemple", episode)
        if folder is not None and (folder / "episode.toml").exists():
            toml = (folder / "episode.toml").read_text(encoding="utf-8")
            (episode / "episode.toml").write_text(toml.replace('"episode.mp3"', '"audio.mp3"'), encoding="utf-8")
        shutil.copyfile(audio, episode / "audio.mp3")
        subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "-q", "episode", "bench", "--show",
             str(root / "feeds" / "show.toml"), "--episodes", str(root / "episodes"),
             "--work", str(root / "build"), "--to", str(root / "site")],
            check=True,
        )


def publish_against_bare(audio: Path, folder: Path | None, duration: float) -> None:
    bare_time, _ = timed(plain_faster_whisper, audio)
    publish_time, _ = timed(whole_publish, audio, folder)
    for name, t in (("bare sequential faster-whisper", bare_time), ("whole `publish episode`", publish_time)):
        print(f"{name:32} {t.wall:7.1f} s wall (RTF {t.wall / duration:.3f}), "
              f"{t.cpu:7.1f} s CPU (RTF {t.cpu / duration:.3f})")
    print(f"publish / bare: wall {publish_time / bare_time}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", type=Path, help="an episode folder from synth_episode.py (default: the excerpt)")
    parser.add_argument("--seconds", type=float, help="only the first N seconds of the audio")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[0, 8],
                        help="0 is sequential decoding; none skips this part")
    parser.add_argument("--no-publish", action="store_true", help="skip the whole-publish run")
    args = parser.parse_args()
    source = args.episode / "episode.mp3" if args.episode else EXCERPT
    if not source.exists():
        sys.exit(f"needs {source} (the shared data folder)")

    with tempfile.TemporaryDirectory() as scratch:
        turns = reference_turns(source, args.seconds)
        reference = " ".join(t["text"] for t in turns)
        audio, duration = source, json.loads(source.with_suffix(".ref.json").read_text(encoding="utf-8"))["duration"]
        if args.seconds:
            audio, duration = Path(scratch) / source.name, turns[-1]["end"] + 0.5
            subprocess.run([ffmpeg_exe(), "-v", "error", "-t", str(duration), "-i",
                            str(source), str(audio)], check=True)
        load_model("base", "auto")  # loading is not part of the real-time factor

        print(f"audio: {audio.name}, {duration:.0f} s, model base, device {TranscribeOptions().device}")
        print(f"{'decoding':<16}{'bare RTF':>10}{'stage RTF':>11}{'stage/bare':>22}"
              f"{'bare WER':>10}{'stage WER':>11}")
        for batch_size in args.batch_sizes:
            options = TranscribeOptions(batch_size=batch_size)
            bare_time, bare_text = timed(bare, audio, options)
            stage_time, stage_text = timed(stage, audio, options)
            name = "sequential" if batch_size == 0 else f"batched x{batch_size}"
            print(f"{name + ', beam 5':<16}{bare_time.wall / duration:>10.3f}"
                  f"{stage_time.wall / duration:>11.3f}{stage_time / bare_time:>22}"
                  f"{wer(reference, bare_text):>10.1%}{wer(reference, stage_text):>11.1%}")
        if not args.no_publish:
            publish_against_bare(audio, args.episode, duration)


if __name__ == "__main__":
    main()
