"""Diarization error rate and speed of pipeline.diarization on the shared recordings.

Prints, per file: DER with a ±0.25 s forgiveness collar around reference boundaries (NIST
md-eval's `-c 0.25`) and with none (overlapped speech scored, as pyannote's model cards do),
the number of speakers found, and the real-time factor of diarization alone (decoding
excluded). The number of speakers is given from the reference, as the episode file gives it;
`--auto` lets the clustering count them. "host named" says whether the voice the stage names
the host without a voiceprint (S1, the first heard) is the reference's first speaker, the host
of a podcast. Run: python bench/diarize.py [--auto] [--only NAME]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from pipeline.engines.diarize import diarize_audio, load_audio

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = [
    "sample-episode/excerpt.mp3",
    "real-speech/pyannote-sample.wav",
    "real-speech/ami-dev00.wav",
    "real-speech/ami-tst00.wav",
    "real-speech/tcof-3speakers.wav",
]


def reference_of(rttm: Path) -> Annotation:
    reference = Annotation()
    for line in rttm.read_text().splitlines():
        fields = line.split()
        start, duration, speaker = float(fields[3]), float(fields[4]), fields[7]
        reference[Segment(start, start + duration)] = speaker
    return reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auto", action="store_true", help="let the clustering count speakers")
    parser.add_argument("--only", default="", help="bench only the files whose name has this")
    args = parser.parse_args()

    warm_up = DATA / "real-speech" / "pyannote-sample.wav"
    if not warm_up.exists():
        raise SystemExit(f"{DATA} is absent: nothing to bench")
    started = time.perf_counter()  # models, imports and kernels load once per process
    diarize_audio(load_audio(warm_up), 2)
    print(f"one-time load and warm-up: {time.perf_counter() - started:.1f} s (not in the RTF)")

    print(f"{'file':34} {'DER±0.25s':>9} {'DER':>6} {'spk ref/hyp':>11} {'RTF':>6} {'host named':>11}")
    for name in [f for f in FILES if args.only in f]:
        audio_path = DATA / name
        if not audio_path.exists():
            print(f"{name:34} missing (../shared/data not here)")
            continue
        reference = reference_of(audio_path.with_suffix(".rttm"))
        audio = load_audio(audio_path)
        started = time.perf_counter()
        result = diarize_audio(audio, None if args.auto else len(reference.labels()))
        rtf = (time.perf_counter() - started) / (len(audio) / 16000)
        hypothesis = Annotation()
        for segment in result.segments:
            hypothesis[Segment(segment.start, segment.end)] = segment.speaker
        whole = Timeline([Segment(0, len(audio) / 16000)])
        collared = DiarizationErrorRate(collar=0.5)(reference, hypothesis, uem=whole)  # ±0.25 s
        strict = DiarizationErrorRate(collar=0.0)(reference, hypothesis, uem=whole)
        speakers = f"{len(reference.labels())}/{result.speakers}"
        first_heard = reference.itertracks(yield_label=True).__next__()[2]
        mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis)
        host = "right" if mapping.get(0) == first_heard else "wrong"
        print(f"{name:34} {collared:9.1%} {strict:6.1%} {speakers:>11} {rtf:6.3f} {host:>11}")


if __name__ == "__main__":
    main()
