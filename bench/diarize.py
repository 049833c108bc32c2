"""Diarization error rate and speed of pipeline.engines.diarize on the shared recordings.

Prints, per file: DER with a ±0.25 s forgiveness collar around reference boundaries (NIST
md-eval's `-c 0.25`) and with none (overlapped speech scored, as pyannote's model cards do),
the collar-0 DER's shares of confusion, missed speech and false alarm, the number of speakers
found, and the real-time factor of diarization alone (decoding excluded), by the wall clock and
by the process's CPU time (all threads; the fair figure on a loaded machine), then the peak
resident memory. The number of speakers is given from the reference, as the episode file gives it;
`--auto` lets the clustering count them. "host named" says whether the voice the stage names
the host without a voiceprint (the first voice to hold the floor) is the reference's first speaker, the host
of a podcast. Run: python bench/diarize.py [--auto] [--only NAME] [--option KEY=VALUE]...
[--episode SET=DIR]... [--perturb] (`--option` sets a DiarizeOptions field, e.g. step_s=2.5; `--episode`
adds an episode folder made by ../shared/tools/synth_episode.py, its episode.mp3 scored against
its episode.rttm, under a set's name: `--episode held-out=/tmp/s901` for a fresh seed. Choose
options on the tuning set only: the excerpt, ../shared/data/variants and your tuning seeds.)
`--perturb` diarizes each recording again after each of a few changes nobody would hear (3 dB
quieter or louder, white noise 40 dB under the speech, 0.1 or 0.3 s of silence before it, its
first 0.2 s cut, whose reference speech then counts as missed) and prints the range of DER
±0.25 s they give: how much of a figure is the method and how much the chance of one file.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from pipeline.engines.diarize import DiarizeOptions, diarize_audio, load_audio
from pipeline.engines.diarize.turns import find_host

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = [
    "sample-episode/excerpt.mp3",
    "real-speech/pyannote-sample.wav",
    "real-speech/ami-dev00.wav",
    "real-speech/ami-tst00.wav",
    "real-speech/tcof-3speakers.wav",
    "real-speech/france-inter-1998.wav",
]


def reference_of(rttm: Path) -> Annotation:
    reference = Annotation()
    for line in rttm.read_text().splitlines():
        fields = line.split()
        start, duration, speaker = float(fields[3]), float(fields[4]), fields[7]
        segment = Segment(start, start + duration)
        reference[segment, reference.new_track(segment)] = speaker  # two voices on one segment: two tracks
    return reference


def parse_options(pairs: list[str]) -> DiarizeOptions:
    kinds = {f.name: f.type for f in dataclasses.fields(DiarizeOptions)}
    values = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        kind = kinds[key]
        values[key] = (value.lower() in ("1", "true", "yes") if kind in (bool, "bool")
                       else int(value) if kind in (int, "int") else float(value))
    return DiarizeOptions(**values)


def reference_host(reference: Annotation, opening_s: float = 5.0) -> str:
    """The reference's host: the speaker heard first; when two start together (France Inter
    opens on 0.4 s of both), the one who speaks most in the opening seconds."""
    start = reference.get_timeline().extent().start
    opening = Segment(start, start + opening_s)
    return max((label for label in reference.labels() if reference.label_timeline(label)[0].start == start),
               key=lambda label: reference.label_timeline(label).crop(opening).duration())


def scores(reference: Annotation, segments: list, seconds: float, host: int = 0) -> dict[str, float]:
    hypothesis = Annotation()
    for segment in segments:
        hypothesis[Segment(segment.start, segment.end)] = segment.speaker
    whole = Timeline([Segment(0, seconds)])
    detail = DiarizationErrorRate(collar=0.0)(reference, hypothesis, uem=whole, detailed=True)
    total = detail["total"] or 1.0
    first_heard = reference_host(reference)
    mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis)
    return {"der": DiarizationErrorRate(collar=0.5)(reference, hypothesis, uem=whole),  # ±0.25 s
            "der0": detail["diarization error rate"], "conf": detail["confusion"] / total,
            "miss": detail["missed detection"] / total, "fa": detail["false alarm"] / total,
            "host": mapping.get(host) == first_heard}


def perturbed(audio: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """The recording after each change nobody would hear, with the seconds it moves the speech
    by (to move the hypothesis back before scoring)."""
    silence = {s: np.zeros(round(s * 16000), audio.dtype) for s in (0.1, 0.3)}
    noise = np.random.default_rng(0).standard_normal(len(audio)).astype(audio.dtype)
    return {
        "-3 dB": (audio * 10 ** (-3 / 20), 0.0),
        "+3 dB": (np.clip(audio * 10 ** (3 / 20), -1, 1), 0.0),
        "noise 40 dB": (audio + noise * np.sqrt(np.mean(audio**2)) / 100, 0.0),
        "0.1 s later": (np.concatenate([silence[0.1], audio]), 0.1),
        "0.3 s later": (np.concatenate([silence[0.3], audio]), 0.3),
        "0.2 s cut": (audio[3200:], -0.2),
    }


def perturbed_scores(audio: np.ndarray, reference: Annotation, speakers: int | None,
                     options: DiarizeOptions) -> dict[str, float]:
    """DER ±0.25 s of each perturbed copy, scored on the original's timeline."""
    seconds, figures = len(audio) / 16000, {}
    for change, (copy, shift) in perturbed(audio).items():
        segments = [dataclasses.replace(s, start=s.start - shift, end=s.end - shift)
                    for s in diarize_audio(copy, speakers, options).segments]
        figures[change] = scores(reference, segments, seconds)["der"]
    return figures


def _recordings(episodes: list[str], only: str) -> list[tuple[str, Path]]:
    """(name, audio) of the shared recordings, then of each SET=DIR episode folder."""
    shared = [(name, DATA / name) for name in FILES]
    folders = [(f"{label}: {Path(folder).name}", Path(folder) / "episode.mp3")
               for label, folder in (item.split("=", 1) for item in episodes)]
    return [(name, path) for name, path in [*shared, *folders] if only in name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auto", action="store_true", help="let the clustering count speakers")
    parser.add_argument("--only", default="", help="bench only the files whose name has this")
    parser.add_argument("--option", action="append", default=[], help="a DiarizeOptions field, KEY=VALUE")
    parser.add_argument("--episode", action="append", default=[], help="SET=DIR: a synthetic episode folder")
    parser.add_argument("--perturb", action="store_true", help="also DER's range under changes nobody would hear")
    args = parser.parse_args()
    options = parse_options(args.option)

    warm_up = DATA / "real-speech" / "pyannote-sample.wav"
    if not warm_up.exists():
        raise SystemExit(f"{DATA} is absent: nothing to bench")
    started = time.perf_counter()  # models, imports and kernels load once per process
    diarize_audio(load_audio(warm_up), 2, options)
    print(f"one-time load and warm-up: {time.perf_counter() - started:.1f} s (not in the RTF)")

    print(f"{'file':34} {'DER±0.25s':>9} {'DER':>6} {'conf':>5} {'miss':>5} {'FA':>5} {'spk ref/hyp':>11}"
          f" {'RTF':>6} {'cpuRTF':>6} {'host named':>11}")
    for name, audio_path in _recordings(args.episode, args.only):
        if not audio_path.exists():
            print(f"{name:34} missing (../shared/data not here)")
            continue
        reference = reference_of(audio_path.with_suffix(".rttm"))
        audio = load_audio(audio_path)
        seconds = len(audio) / 16000
        started, cpu = time.perf_counter(), time.process_time()
        result = diarize_audio(audio, None if args.auto else len(reference.labels()), options)
        rtf, cpu_rtf = (time.perf_counter() - started) / seconds, (time.process_time() - cpu) / seconds
        host, _ = find_host(result, list(range(result.speakers)), None, options)
        s = scores(reference, result.segments, seconds, host)
        speakers = f"{len(reference.labels())}/{result.speakers}"
        print(f"{name:34} {s['der']:9.1%} {s['der0']:6.1%} {s['conf']:5.1%} {s['miss']:5.1%} {s['fa']:5.1%}"
              f" {speakers:>11} {rtf:6.3f} {cpu_rtf:6.3f} {'right' if s['host'] else 'wrong':>11}", flush=True)
        if args.perturb:
            figures = perturbed_scores(audio, reference, None if args.auto else len(reference.labels()), options)
            print(f"{'  perturbed: DER ±0.25 s':34} {min(figures.values()):9.1%} to {max(figures.values()):.1%}  "
                  + ", ".join(f"{change} {der:.1%}" for change, der in figures.items()), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
