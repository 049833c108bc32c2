"""Accuracy across episodes: every stage of `publish episode`, on episodes tuned on and held out.

    .venv/bin/python bench/accuracy.py [--held-out DIR]... [--tuned-on DIR]... [--only NAME] [--no-real] [--rerun STAGE]

Each episode goes through the real stages (audio, transcribe, diarize, footnotes) in its own
project under bench/.cache/accuracy/<name>/, whose build cache keeps the transcription between
runs: a change to the diarize or footnotes code re-runs only those stages. Per episode it prints:
- WER of the published transcript and of bare faster-whisper (same model, beam 5, VAD, no
  hotwords) against the reference text;
- DER of who spoke when (the named turns over the speech heard around their words, as
  speakers.rttm publishes them) against the reference timeline, collar 0.25 s and none (pyannote.metrics),
  and the collar-0 DER's shares of speaker confusion, missed speech and false alarm ("conf",
  "miss", "FA", as fractions of the reference speech: they add up to DER0); "WDER", the share
  of words printed under the wrong name (what a listener reads: DER also counts speech heard
  without words and the edges of each stretch of speech);
  "host" says whether the host's name went to the reference host (the first speaker);
  "named", the share of reference speech not published under its speaker's own name (the
  identification error rate, ±0.25 s: names as printed, not the best mapping; synthetic
  episodes only, whose references name the episode file's people: with two guests, the second
  taken for the first counts here and not in DER);
- seconds of reference speech with no word within 0.5 s ("unworded");
- for episodes with gold footnotes: links numbered as in the seed and marked within 3 words of
  their first mention ("right"), gold markers hit within 3 words whatever their number ("in3w"),
  false markers, link terms spelled right;
- real-time factor per stage (the last time the stage ran) and the run's review items.
Then the worst case and the mean for each set.

Sets, printed beside each episode: "tuning" is what settings and thresholds were chosen on (the
11-minute excerpt, ../shared/data/variants/v101-v104); "held-out" are episodes given with
--held-out (`../shared/tools/synth_episode.py DIR --seed N`, fresh seeds), never used to choose
anything (once a setting has been chosen looking at one, pass it with --tuned-on: it is
tuning from then on); "real" are ../shared/data/real-speech recordings (WER against their human references,
DER against their RTTM).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from diarize import reference_host, reference_of
from footnotes import LINKS, BenchEpisode, score
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate
from pyannote.metrics.identification import IdentificationErrorRate
from scoring import wer

from pipeline.build.context import LISTENS_FILE, REVIEW_FILE
from pipeline.build.project import Project
from pipeline.build.runner import run_stages
from pipeline.engines.transcribe import load_model
from pipeline.model import dialogue_from_data, join_words, who_spoke_when

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / ".cache" / "accuracy"
STAGES = ("audio", "transcribe", "diarize", "footnotes")
HOST = "Gérald Holubowicz"
GUESTS = ["Antonio Casilli", "Claire Dumas", "Léa Martin"]  # for recordings with more voices
UNWORDED_TOLERANCE_S = 0.5  # a word covers this much either side of it: pauses are not gaps
# Real recordings: file, language, reference text (None: DER only)
REAL = [
    ("pyannote-sample.wav", "en", "stm"),
    ("ami-dev00.wav", "en", None),
    ("ami-tst00.wav", "en", None),
    ("tcof-3speakers.wav", "fr", "ref.txt"),
    ("france-inter-1998.wav", "fr", "ref.txt"),
    ("sppas-F_F_B003_P8.wav", "fr", "ref.txt"),
    ("sppas-F_F_B003_P9.wav", "fr", "ref.txt"),
    ("sppas-F_F_C006_P6.wav", "fr", "ref.txt"),
    ("picovoice-test_fr.wav", "fr", "ref.txt"),
]


@dataclass
class Case:
    """One recording to bench: where it is, which set, and what it is scored against."""

    name: str
    set: str  # tuning | held-out | real
    audio: Path
    language: str
    reference_text: str | None
    timeline: Annotation | None  # reference speakers; the host speaks first
    episode_file: str  # the episode.toml to publish it with
    gold: BenchEpisode | None = None  # reference turns with the seed's markers
    figures: dict = field(default_factory=dict)


def synthetic(folder: Path, set_name: str) -> Case:
    episode = BenchEpisode.at(folder)
    toml = (folder / "episode.toml").read_text(encoding="utf-8").replace('"episode.mp3"', '"audio.mp3"')
    return Case(folder.name.lower(), set_name, episode.audio, "fr", episode.text,
                reference_of(folder / "episode.rttm"), toml, episode)


def excerpt() -> Case:
    audio = DATA / "sample-episode" / "excerpt.mp3"
    episode = BenchEpisode.at(audio)
    links = json.loads(LINKS.read_text(encoding="utf-8"))["links"]
    toml = 'title = "Les travailleurs invisibles de l\'IA"\nnumber = 1\ndate = 2026-11-20\n'
    toml += 'guests = ["Antonio Casilli"]\naudio = "audio.mp3"\n'
    for link in links:
        toml += f"\n[[links]]\nphrase = {json.dumps(link['anchor'])}\nalso = {json.dumps(link.get('also', []))}\n"
        toml += f"title = {json.dumps(link['title'])}\nurl = {json.dumps(link['url'])}\n"
    return Case("excerpt", "tuning", audio, "fr", episode.text, reference_of(audio.with_suffix(".rttm")), toml, episode)


def plain_reference(text: str) -> str:
    """A human reference as words: no tags (<noise>), pauses (+), laughs (@); [a,b] read as a."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"\[([^,\]]*),[^\]]*\]", r"\1", text)
    return re.sub(r"(?<!\S)[+@*#](?!\S)", " ", text)


def real(file: str, language: str, reference: str | None) -> Case:
    audio = DATA / "real-speech" / file
    rttm = audio.with_suffix(".rttm")
    timeline = reference_of(rttm) if rttm.exists() else None
    text = None
    if reference == "stm":
        text = " ".join(line.split(maxsplit=5)[5] for line in audio.with_suffix(".stm").read_text().splitlines())
    elif reference:
        text = plain_reference(audio.with_suffix(".ref.txt").read_text(encoding="utf-8"))
    voices = len(timeline.labels()) if timeline else 1
    guests = json.dumps(GUESTS[: max(1, voices - 1)], ensure_ascii=False)
    toml = f'title = "{audio.stem}"\nnumber = 1\ndate = 2026-11-20\nguests = {guests}\naudio = "audio{audio.suffix}"\n'
    return Case(audio.stem.lower(), "real", audio, language, text, timeline, toml)


def project_for(case: Case, batch_size: int | None = None) -> Project:
    """The case as a one-episode project: its show file in the case's language, its episode
    (with `batch_size`, the transcribe stage's, in a folder of its own)."""
    root = WORK / case.name if batch_size is None else WORK / f"batch-{batch_size}" / case.name
    folder = root / "episodes" / case.name
    folder.mkdir(parents=True, exist_ok=True)
    (root / "feeds").mkdir(exist_ok=True)
    show = (ROOT / "feeds" / "show.toml").read_text(encoding="utf-8")
    show = re.sub(r'(?m)^language = .*$', f'language = "{case.language}"', show)
    show = re.sub(r'(?m)^artwork = .*\n', "", show)
    show = show.replace('device = "auto"', 'device = "cpu"' + ("" if batch_size is None else f"\nbatch_size = {batch_size}"))
    (root / "feeds" / "show.toml").write_text(show, encoding="utf-8")
    (folder / "episode.toml").write_text(case.episode_file, encoding="utf-8")
    (folder / "notes.md").write_text("Bench episode.\n", encoding="utf-8")
    audio = folder / f"audio{case.audio.suffix}"
    if not audio.exists() or audio.stat().st_size != case.audio.stat().st_size:
        shutil.copyfile(case.audio, audio)
    return Project(root / "feeds" / "show.toml", root / "episodes", root / "build")


def run_case(case: Case, rerun: tuple[str, ...], batch_size: int | None = None) -> None:
    """Publish the case up to footnotes (the stages cached), timing each stage that runs."""
    project = project_for(case, batch_size)
    run = project.open_run(case.name, str(project.work.parent / "site"))
    timings_file = run.work / "bench-timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    # The footnotes stage is timed with no second listen cached. (A run of its own for the check:
    # a run keeps the keys it computed, and the stages before may change what footnotes reads.)
    check = project.open_run(case.name, str(project.work.parent / "site"))
    if "footnotes" in rerun or any(check.state(stage) != "done" for stage in check.stages[:4]):
        (run.work / LISTENS_FILE).unlink(missing_ok=True)
    for stage in STAGES:
        began = time.perf_counter()
        if stage in run_stages(run, until=stage, force=tuple(s for s in rerun if s == stage)) or stage not in timings:
            timings[stage] = time.perf_counter() - began
    timings_file.write_text(json.dumps(timings))
    duration = run.artifact("transcribe")["duration"]
    dialogue = dialogue_from_data(run.artifact("footnotes"))
    diarized = dialogue_from_data(run.artifact("diarize"))
    case.figures.update(score_case(case, dialogue, diarized, duration))
    case.figures["rtf"] = {stage: timings[stage] / duration for stage in STAGES if stage in timings}
    review = run.work / REVIEW_FILE
    case.figures["review"] = len(json.loads(review.read_text())["items"]) if review.exists() else None


def score_case(case: Case, dialogue, diarized, duration: float) -> dict:
    words = [w for turn in dialogue.turns for w in turn.words]
    figures: dict = {}
    if case.reference_text:
        figures["wer"] = wer(case.reference_text, " ".join(join_words(t.words) for t in dialogue.turns))
        figures["bare wer"] = wer(case.reference_text, bare_text(case))
    if case.timeline is not None:
        hypothesis = Annotation()
        for start, end, name in who_spoke_when(diarized):
            hypothesis[Segment(start, end)] = name
        whole = Timeline([Segment(0, duration)])
        figures["der"] = DiarizationErrorRate(collar=0.5)(case.timeline, hypothesis, uem=whole)  # ±0.25 s
        figures["wder"] = words_to_the_wrong_speaker(case.timeline, hypothesis, diarized.turns)
        named = under_the_wrong_name(case, hypothesis, whole)
        if named is not None:
            figures["named"] = named
        detail = DiarizationErrorRate(collar=0.0)(case.timeline, hypothesis, uem=whole, detailed=True)
        figures["der0"] = detail["diarization error rate"]
        total = detail["total"] or 1.0  # the shares of the collar-0 DER: they add up to it
        figures.update(confusion=detail["confusion"] / total, miss=detail["missed detection"] / total,
                       fa=detail["false alarm"] / total)
        host = reference_host(case.timeline)
        said_by_host = case.timeline.label_timeline(host)
        named = hypothesis.label_timeline(HOST) if HOST in hypothesis.labels() else Timeline()
        others = [hypothesis.label_timeline(label) for label in hypothesis.labels() if label != HOST]
        best_other = max((said_by_host.crop(t.support()).duration() for t in others), default=0.0)
        figures["host"] = said_by_host.crop(named.support()).duration() > best_other
        speech = case.timeline.get_timeline().support()
        covered = Timeline([Segment(max(0.0, w.start - UNWORDED_TOLERANCE_S), w.end + UNWORDED_TOLERANCE_S)
                            for w in words]).support()
        figures["unworded"] = speech.duration() - speech.crop(covered).duration()
        figures["unworded share"] = figures["unworded"] / max(speech.duration(), 1e-9)
    if case.gold:
        figures["footnotes"] = score(dialogue, diarized, case.gold)
    return figures


def under_the_wrong_name(case: Case, hypothesis: Annotation, whole: Timeline) -> float | None:
    """The share of the reference speech not published under its speaker's own name (the
    identification error rate, ±0.25 s): DER takes the best mapping of names to voices, this
    takes the names as the episode prints them, so a guest named as another counts. None for
    recordings whose reference does not name the episode's people."""
    people = [HOST, *tomllib.loads(case.episode_file).get("guests", [])]
    labels = {name: name.replace(" ", "_") for name in people}
    if not set(case.timeline.labels()) <= set(labels.values()):
        return None
    named = hypothesis.rename_labels({name: labels.get(name, name) for name in hypothesis.labels()})
    return IdentificationErrorRate(collar=0.5)(case.timeline, named, uem=whole)


def words_to_the_wrong_speaker(reference: Annotation, hypothesis: Annotation, turns) -> float:
    """The share of words printed under the wrong name (the word diarization error rate): of
    the words whose middle falls where one reference speaker talks alone, those whose turn's
    speaker is not that one under the mapping of names that minimises DER. Speech left without
    words or a stretch's edges count in DER but mislabel nothing a listener reads."""
    mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis)
    spans = [(segment.start, segment.end, label) for segment, _, label in reference.itertracks(yield_label=True)]
    scored = wrong = 0
    for turn in turns:
        for word in turn.words:
            middle = (word.start + word.end) / 2
            speaking = {label for start, end, label in spans if start <= middle < end}
            if len(speaking) == 1:
                scored += 1
                wrong += mapping.get(turn.speaker) not in speaking
    return wrong / max(scored, 1)


def bare_text(case: Case) -> str:
    """Bare faster-whisper's text (same model, beam 5, VAD, no hotwords), cached per file."""
    cache = WORK / case.name / "bare.txt"
    if cache.exists():
        return cache.read_text(encoding="utf-8")
    model = load_model("base", "cpu", "auto")
    segments, _ = model.transcribe(str(case.audio), language=case.language, beam_size=5, vad_filter=True)
    text = " ".join(segment.text.strip() for segment in segments)
    cache.write_text(text, encoding="utf-8")
    return text


def fraction(text: str) -> tuple[int, int]:
    got, out_of = text.split("/")
    return int(got), int(out_of)


def row(case: Case) -> str:
    f = case.figures
    cells = [f"{case.name:22}", f"{case.set:9}"]
    cells.append(f"{f['wer']:6.1%} {f['bare wer']:6.1%}" if "wer" in f else f"{'-':>6} {'-':>6}")
    if "der" in f:
        cells.append(f"{f['der']:6.1%} {f['der0']:6.1%} {f['confusion']:5.1%} {f['miss']:5.1%} {f['fa']:5.1%} {f['wder']:5.1%}"
                     f" {'yes' if f['host'] else 'NO':>4}")
        cells.append(f"{f['named']:6.1%}" if "named" in f else f"{'-':>6}")
        cells.append(f"{f['unworded']:6.1f} s {f['unworded share']:5.1%}")
    else:
        cells.append(f"{'-':>6} {'-':>6} {'-':>5} {'-':>5} {'-':>5} {'-':>5} {'-':>4} {'-':>6} {'-':>8} {'-':>5}")
    if "footnotes" in f:
        notes = f["footnotes"]
        cells.append(f"{notes['numbered as in the seed and marked within 3 words']:>6} {notes['gold markers hit within 3 words (any number)']:>6}"
                     f" {len(notes['false markers']):>3} {notes['link terms spelled right']:>6}")
    else:
        cells.append(f"{'-':>6} {'-':>6} {'-':>3} {'-':>6}")
    rtf = f.get("rtf", {})
    cells.append(" ".join(f"{rtf.get(s, float('nan')):5.3f}" for s in STAGES[1:]))
    cells.append(f"{f['review'] if f.get('review') is not None else '-':>6}")
    return " ".join(cells)


HEADER = (f"{'episode':22} {'set':9} {'WER':>6} {'bare':>6} {'DER':>6} {'DER0':>6} {'conf':>5} {'miss':>5} {'FA':>5} {'WDER':>5} {'host':>4} {'named':>6} {'unworded':>8} {'share':>5}"
          f" {'right':>6} {'in3w':>6} {'fls':>3} {'terms':>6} {'RTF tr':>5} {'diar':>5} {'foot':>5} {'review':>6}")


def summary(cases: list[Case]) -> None:
    for set_name in ("tuning", "held-out", "real"):
        chosen = [c for c in cases if c.set == set_name]
        if not chosen:
            continue
        print(f"\n{set_name}: {len(chosen)} recordings")
        _summary_rates(chosen)
        _summary_margin_and_host(chosen)
        _summary_footnotes([c.figures["footnotes"] for c in chosen if "footnotes" in c.figures])
        _summary_rtf(chosen)


def _summary_rates(chosen: list[Case]) -> None:
    for key, label, worst in (("wer", "WER", max), ("der", "DER ±0.25 s", max), ("der0", "DER no collar", max),
                              ("confusion", "  of it confusion", max), ("miss", "  of it missed speech", max),
                              ("fa", "  of it false alarm", max), ("wder", "words to the wrong name", max),
                              ("named", "speech under another name", max),
                              ("unworded share", "speech without words", max)):
        values = [c.figures[key] for c in chosen if key in c.figures]
        if values:
            print(f"  {label:22} worst {worst(values):6.1%}  mean {statistics.mean(values):6.1%}")


def _summary_margin_and_host(chosen: list[Case]) -> None:
    margins = [c.figures["wer"] - c.figures["bare wer"] for c in chosen if "wer" in c.figures]
    if margins:
        print(f"  {'WER stage - bare':22} worst {max(margins):+6.1%}  mean {statistics.mean(margins):+6.1%}")
    hosts = [c.figures["host"] for c in chosen if "host" in c.figures]
    if hosts:
        print(f"  host named right       {sum(hosts)}/{len(hosts)}")


def _summary_footnotes(notes: list[dict]) -> None:
    if not notes:
        return
    for key in ("numbered as in the seed and marked within 3 words", "gold markers hit within 3 words (any number)"):
        pairs = [fraction(n[key]) for n in notes]
        print(f"  {key:22}: worst {min(g / o for g, o in pairs):.0%}, total {sum(g for g, _ in pairs)}/{sum(o for _, o in pairs)}")
    print(f"  false markers: worst {max(len(n['false markers']) for n in notes)}, total {sum(len(n['false markers']) for n in notes)}")


def _summary_rtf(chosen: list[Case]) -> None:
    for stage in STAGES[1:]:
        rtfs = [c.figures["rtf"][stage] for c in chosen if stage in c.figures.get("rtf", {})]
        if rtfs:
            print(f"  RTF {stage:18} worst {max(rtfs):.3f}  mean {statistics.mean(rtfs):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", type=Path, action="append", default=[],
                        help="an episode folder made by synth_episode.py with a fresh seed (repeatable)")
    parser.add_argument("--tuned-on", type=Path, action="append", default=[],
                        help="a synthesised episode folder that settings were chosen on (repeatable)")
    parser.add_argument("--only", default="", help="only the episodes whose name has this")
    parser.add_argument("--no-real", action="store_true", help="leave out the real recordings")
    parser.add_argument("--no-tuning", action="store_true", help="leave out the tuning episodes")
    parser.add_argument("--rerun", action="append", default=[], choices=STAGES, help="run this stage again")
    parser.add_argument("--batch-size", type=int, help="the transcribe stage's batch size (0: sequential; "
                        "default: the show's); its projects under bench/.cache/accuracy/batch-N/")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each episode's footnote details")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: the bench needs ../shared/data beside the project")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cases = []
    if not args.no_tuning:
        cases += [excerpt(), *(synthetic(DATA / "variants" / f"v10{k}", "tuning") for k in range(1, 5))]
    cases += [synthetic(folder, "tuning") for folder in args.tuned_on]
    cases += [synthetic(folder, "held-out") for folder in args.held_out]
    if not args.no_real:
        cases += [real(*entry) for entry in REAL]
    cases = [c for c in cases if args.only in c.name]
    load_model("base", "cpu", "auto")  # once, outside every stage's time
    print(HEADER)
    for case in cases:
        run_case(case, tuple(args.rerun), args.batch_size)
        print(row(case), flush=True)
        if args.verbose and "footnotes" in case.figures:
            for key in ("placement error in words, per link", "false markers", "gold markers missed"):
                print(f"    {key}: {case.figures['footnotes'][key]}")
    summary(cases)


if __name__ == "__main__":
    main()
