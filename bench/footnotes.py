"""Footnotes on episodes with gold markers: the 11-minute sample excerpt by default.

    .venv/bin/python bench/footnotes.py [--episode PATH]... [--vocabulary none|hotwords|anchors|all]
                                        [--no-audio] [--audio-compute-type TYPE] [--threshold X]
                                        [--words-dir DIR] [--corrections FILE] [--decoys]

An episode is an audio file with its `.ref.json` beside it, footnoted with
../shared/data/seed/links.json (../shared/data/sample-episode/excerpt.mp3, the default), or an
episode folder with `episode.toml` and `episode.ref.json` (../shared/data/variants/v101, or one
made by ../shared/tools/synth_episode.py OUT --seed N: a held-out episode).
Each is transcribed with the pipeline's transcribe stage (`base` model on the CPU: 3 to 9
minutes per episode and setting on a shared 2-core machine, cached as JSON under bench/.cache/
keyed by the settings), its words given the reference speakers, then footnoted; per episode and
vocabulary setting it prints: references numbered as in the seed, markers within 3 words of
gold (hypothesis aligned to the reference text), false markers, the link terms spelled right
before and after the stage, and WER with and without the stage. Targets: every link numbered as
in the seed, each within 3 words, 0 false markers, term recall >= 90 %, WER no worse than
without the stage; the bar each episode must pass, printed per episode and counted over all:
markers within 3 words for all but 2 of the links said, at most 1 false marker. The stage
scores links missing after the first pass against the audio (engines/footnotes/audio_score.py);
--no-audio measures without it, --audio-compute-type scores with other CTranslate2 kernels
(float32, int8_float32): the int8 kernels differ between CPUs, so a placement that holds under
one type only is luck. --threshold sets the contrast a placement by sound needs (`-inf`: every
missing link placed at its best spot, each printed with its contrast and whether it is right:
how the threshold is chosen). For each link not placed it prints whether its gold mention is
within 5 s of one of its candidate spots (top 3), the mention timed where the first pass heard
the words around it.
--words-dir DIR takes the first pass from DIR/<name>.words.json ([{text, start, end,
probability}]) instead of transcribing. --decoys adds links that are never said, spread
through the list, and counts the markers they get: each is a false marker the gold markers
cannot show.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

from scoring import MARKER, wer, words_for_scoring

from pipeline.config import load_episode
from pipeline.corrections_file import load_corrections
from pipeline.engines.corrections import vocabulary
from pipeline.engines.footnotes import Footnoted, FootnoteOptions, footnote
from pipeline.engines.relisten import PhraseScorer
from pipeline.engines.transcribe import TranscribeOptions, transcribe
from pipeline.model import (
    Dialogue,
    Link,
    Segment,
    Transcript,
    Turn,
    Word,
    join_words,
    to_data,
    transcript_from_data,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
EXCERPT = DATA / "sample-episode" / "excerpt.mp3"
LINKS = DATA / "seed" / "links.json"
CACHE = ROOT / "bench" / ".cache"


# Names the excerpt never says (checked against its reference text), for --decoys.
DECOYS = ["Mastodon", "Le Monde", "Netflix", "Spotify", "Instagram", "TikTok", "LinkedIn", "Mistral AI",
          "Hugging Face", "Midjourney", "Mediapart", "Libération", "Télérama", "Stable Diffusion",
          "DeepMind", "Anthropic", "Nvidia", "Palantir"]


def seed_links(path: Path = LINKS) -> list[Link]:
    entries = json.loads(path.read_text(encoding="utf-8"))["links"]
    return [Link([e["anchor"], *e.get("also", [])], e["title"], e["url"]) for e in entries]


@dataclass(frozen=True)
class BenchEpisode:
    name: str
    audio: Path
    reference: dict  # turns with speaker, start, end, text, raw (with the seed's markers)
    links: list[Link]

    @classmethod
    def at(cls, path: Path) -> BenchEpisode:
        """An audio file with its .ref.json beside it (the seed's links), or an episode folder."""
        if path.is_dir():
            episode = load_episode(path.parent, path.name)
            ref = path / "episode.ref.json"
            return cls(path.name, episode.audio, json.loads(ref.read_text(encoding="utf-8")), episode.links)
        ref = path.with_suffix(".ref.json")
        return cls(path.stem, path, json.loads(ref.read_text(encoding="utf-8")), seed_links())

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(turn["speaker"] for turn in self.reference["turns"]))

    @property
    def text(self) -> str:
        return " ".join(t["text"] for t in self.reference["turns"])


MODES = {
    "none": "no vocabulary",
    "hotwords": "link phrases as hotwords, as the pipeline passes them",
    "anchors": "a shorter vocabulary, the links' first phrases only, as hotwords",
}


def settings_for(mode: str, links: list[Link], names: list[str], compute_type: str = "auto") -> TranscribeOptions:
    """The transcribe stage's settings on the CPU for a vocabulary setting (see MODES)."""
    terms = {
        "none": [],
        "hotwords": vocabulary(links, glossary=[]),
        "anchors": vocabulary([Link(link.phrases[:1], link.title, link.url) for link in links], []),
    }[mode]
    return TranscribeOptions(model="base", device="cpu", compute_type=compute_type, language="fr",
                             vocabulary=tuple(terms))


def cached_transcript(audio: Path, settings: TranscribeOptions) -> Transcript:
    """The pipeline's own transcribe stage, run once per audio and settings."""
    key = json.dumps([audio.name, audio.stat().st_size, settings.key()], sort_keys=True)
    path = CACHE / f"{audio.stem}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.json"
    if path.exists():
        return transcript_from_data(json.loads(path.read_text(encoding="utf-8")))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    began = time.monotonic()
    transcript = transcribe(audio, settings, progress=False)
    print(f"  transcribed {audio.name} in {time.monotonic() - began:.0f} s", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_data(transcript), ensure_ascii=False), encoding="utf-8")
    return transcript


def dialogue_by_reference_speakers(transcript: Transcript, turns: list[dict]) -> Dialogue:
    """Turns from the reference timeline: each word goes to the speaker whose turn is nearest."""
    def speaker_at(time: float) -> str:
        return min(turns, key=lambda t: max(t["start"] - time, time - t["end"], 0))["speaker"]

    dialogue_turns: list[Turn] = []
    for word in transcript.words:
        speaker = speaker_at((word.start + word.end) / 2)
        if not dialogue_turns or dialogue_turns[-1].speaker != speaker:
            dialogue_turns.append(Turn(speaker, []))
        dialogue_turns[-1].words.append(Word(**{**to_data(word), "speaker": speaker}))
    return Dialogue(dialogue_turns)


def marker_positions(tokens: list[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """The words without markers, and (number, index of the word each marker follows)."""
    words, markers = [], []
    for token in tokens:
        match = MARKER.fullmatch(token)
        if match:
            markers.append((int(match.group(1)), len(words) - 1))
        else:
            words.append(token)
    return words, markers


def marker_places(hyp_words: list[str], ref_words: list[str]) -> list[int]:
    """For a marker after each hypothesis word, the reference word it follows: the word's own
    aligned position (longest matching blocks), else just before the next word's, else the
    last aligned position before it plus the words since."""
    matcher = SequenceMatcher(None, hyp_words, ref_words, autojunk=False)
    aligned = {a + k: b + k for a, b, size in matcher.get_matching_blocks() for k in range(size)}
    places, last = [], (-1, -1)
    for index in range(len(hyp_words)):
        if index in aligned:
            last = (index, aligned[index])
            places.append(aligned[index])
        elif index + 1 in aligned:
            places.append(aligned[index + 1] - 1)
        else:
            places.append(last[1] + index - last[0])
    return places


def count(term: str, text: str) -> int:
    return len(re.findall(rf"(?<!\w){re.escape(term)}(?!\w)", text))


def _same(url: str) -> str:
    """A link's URL as compared: the episode file's are normalised ("https://x" -> "https://x/")."""
    return url.rstrip("/")


@dataclass
class _Placement:
    """The stage's markers against the gold ones, link by link."""

    errors: list[str]  # "title: words off" for each marker with a gold marker of its link
    false_markers: list[str]
    open_gold: list[tuple[str, int]]  # gold markers (URL, reference word) no marker took
    hit_urls: set[str]  # links marked within 3 words of gold

    @property
    def hits(self) -> int:
        return sum(int(e.rsplit(" ", 1)[1]) <= 3 for e in self.errors)


def _gold(episode: BenchEpisode) -> tuple[list[str], list[tuple[str, int]], dict[str, int]]:
    """The reference words, the gold markers (link URL, word it follows), and each link's
    expected number: its rank among the links by first gold marker."""
    seed = seed_links()
    ref_words, gold = marker_positions(words_for_scoring(" ".join(t["raw"] for t in episode.reference["turns"])))
    gold = [(_same(seed[n - 1].url), at) for n, at in gold]
    first_said = list(dict.fromkeys(url for url, _ in sorted(gold, key=lambda g: g[1])))
    return ref_words, gold, {url: number for number, url in enumerate(first_said, start=1)}


def _placement(footnoted: Dialogue, text: str, ref_words: list[str], gold: list[tuple[str, int]],
               title_of: dict[str, str]) -> tuple[_Placement, int]:
    """Each marker matched to the nearest open gold marker of its link; and the markers' count."""
    hyp_words, placed = marker_positions(words_for_scoring(text))
    places = marker_places(hyp_words, ref_words)
    url_of = {r.number: _same(r.url) for r in footnoted.references}
    result = _Placement([], [], list(gold), set())
    for number, index in placed:
        url, at = url_of[number], places[max(index, 0)]
        nearest = min(((abs(at - g), (u, g)) for u, g in result.open_gold if u == url), default=None)
        if nearest is None or nearest[0] > 3:
            result.false_markers.append(f"[{number}] {title_of[url]} after {hyp_words[index]!r}"
                                        f" ({nearest[0] if nearest else 'no gold'} words off)")
        if nearest is not None:
            result.open_gold.remove(nearest[1])
            result.errors.append(f"{title_of[url]}: {nearest[0]}")
            if nearest[0] <= 3:
                result.hit_urls.add(url)
    return result, len(placed)


def _spelling(anchors: list[str], heard: str, text: str, ref_text: str) -> dict:
    return {
        "link terms spelled right, before the stage": f"{sum(count(a, heard) > 0 for a in anchors)}/{len(anchors)}",
        "link terms spelled right": f"{sum(count(a, text) > 0 for a in anchors)}/{len(anchors)}",
        "terms missing": [a for a in anchors if not count(a, text)],
        "term occurrences spelled right": f"{sum(min(count(a, text), count(a, ref_text)) for a in anchors)}"
        f"/{sum(count(a, ref_text) for a in anchors)}",
    }


def score(footnoted: Dialogue, plain: Dialogue, episode: BenchEpisode, with_hits: bool = False) -> dict:
    """Markers are compared by the link they stand for (the seed numbers gold markers, the stage
    numbers its own), so a link missed early shows as wrong numbers, not as misplaced markers."""
    links = episode.links
    ref_words, gold, expected = _gold(episode)
    ref_text = episode.text
    text = " ".join(join_words(turn.words) for turn in footnoted.turns)
    heard = " ".join(join_words(turn.words) for turn in plain.turns)
    title_of = {_same(link.url): link.phrases[0] for link in links}
    placement, placed = _placement(footnoted, text, ref_words, gold, title_of)
    numbers = {_same(r.url): r.number for r in footnoted.references}
    return {
        "numbered as in the seed": f"{sum(numbers.get(u) == n for u, n in expected.items())}/{len(expected)}",
        "numbered as in the seed and marked within 3 words":
            f"{sum(numbers.get(u) == n and u in placement.hit_urls for u, n in expected.items())}/{len(expected)}",
        "markers placed / gold": f"{placed}/{len(gold)}",
        "gold markers hit within 3 words (any number)": f"{placement.hits}/{len(gold)}",
        "placement error in words, per link": placement.errors,
        "false markers": placement.false_markers,
        "gold markers missed": [title_of.get(u, u) for u, _ in placement.open_gold],
        **_spelling([link.phrases[0] for link in links], heard, text, ref_text),
        "WER without the stage": round(wer(ref_text, heard), 4),
        "WER with the stage": round(wer(ref_text, text), 4),
        **({"hit_urls": sorted(placement.hit_urls)} if with_hits else {}),
    }


def with_decoys(links: list[Link], ref_text: str) -> list[Link]:
    """The seed's links with a never-said name after every link, in turn."""
    decoys = [name for name in DECOYS if not count(name, ref_text)]
    mixed = []
    for link, name in zip(links, decoys):
        mixed += [link, Link([name], f"decoy: {name}", f"https://decoy.example/{len(mixed)}")]
    return mixed + links[len(mixed) // 2:]


def decoy_markers(footnoted: Dialogue) -> list[str]:
    decoy_numbers = {r.number: r.title for r in footnoted.references
                     if r.title.startswith("decoy") and r.number is not None}
    words = [w for turn in footnoted.turns for w in turn.words]
    return [f"{decoy_numbers[w.footnote]} after {w.text!r} at {w.start:.0f} s"
            for w in words if w.footnote in decoy_numbers]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", type=Path, action="append",
                        help="an audio file with its .ref.json, or an episode folder (repeatable; default: the excerpt)")
    parser.add_argument("--vocabulary", choices=[*MODES, "all"], default="hotwords")
    parser.add_argument("--corrections", type=Path,
                        help="a producer's corrections.toml, e.g. bench/excerpt-corrections.toml")
    parser.add_argument("--no-audio", action="store_true", help="no scoring by sound for missing links")
    parser.add_argument("--audio-compute-type", default="auto",
                        help="CTranslate2 type for scoring by sound (the first pass stays int8)")
    parser.add_argument("--threshold", type=float, help="the contrast a placement by sound needs")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=NUMBER",
                        help="another FootnoteOptions number (repeatable), e.g. contrast_controls=8")
    parser.add_argument("--words-dir", type=Path, help="first passes as DIR/<name>.words.json")
    parser.add_argument("--decoys", action="store_true", help="add never-said links and count their markers")
    return parser.parse_args()


def _decoy_tally(footnoted: Dialogue, listed: list[Link], episode: BenchEpisode) -> dict[str, tuple[int, int]]:
    false = decoy_markers(footnoted)
    decoys = len(listed) - len(episode.links)
    marked = {w.footnote for turn in footnoted.turns for w in turn.words if w.footnote}
    seed_placed = sum(r.number in marked and not r.title.startswith("decoy") for r in footnoted.references)
    print(f"  decoys: {decoys}, marked: {len(false)} {false}")
    print(f"  links placed: {seed_placed}/{len(episode.links)}")
    return {"decoys marked": (len(false), decoys), "links placed": (seed_placed, len(episode.links))}


def _score_tally(figures: dict) -> dict[str, tuple[int, int]]:
    for name, value in figures.items():
        if name != "hit_urls":
            print(f"  {name}: {value}")
    tally = {name: tuple(map(int, figures[name].split("/"))) for name in
             ("numbered as in the seed", "gold markers hit within 3 words (any number)")}
    tally["false markers"] = (len(figures["false markers"]), int(figures["markers placed / gold"].split("/")[0]))
    said, right = tally["numbered as in the seed"][1], len(figures["hit_urls"])
    met = right >= said - 2 and len(figures["false markers"]) <= 1
    print(f"  links said {said}, marked within 3 words {right} (target >= {said - 2}), false markers"
          f" {len(figures['false markers'])} (target <= 1): {'met' if met else 'not met'}")
    tally["episodes meeting the targets"] = (int(met), 1)
    return tally


def _first_pass(episode: BenchEpisode, mode: str, args: argparse.Namespace) -> Dialogue:
    """The first pass as the stage reads it, its words given the reference speakers."""
    cached = args.words_dir / f"{episode.name}.words.json" if args.words_dir else None
    if cached is not None and cached.is_file():
        words = [Word(w["text"], w["start"], w["end"], w["probability"])
                 for w in json.loads(cached.read_text(encoding="utf-8"))]
        segments = [Segment(words[0].start, words[-1].end, join_words(words), words)] if words else []
        transcript = Transcript("fr", words[-1].end if words else 0.0, segments)
    else:
        transcript = cached_transcript(episode.audio, settings_for(mode, episode.links, episode.names))
    return dialogue_by_reference_speakers(transcript, episode.reference["turns"])


def _gold_times(episode: BenchEpisode, heard: list[Word]) -> dict[str, list[float]]:
    """Each link's gold markers (by URL) as times: where the first pass heard the reference word
    the marker follows, or the nearest of the words around it that recognition got right (a
    misheard name aligns with nothing); without any, its word's place in its reference turn."""
    seed, times = seed_links(), {}
    tokens = [(token, word) for word in heard for token in words_for_scoring(word.text)]
    for turn in episode.reference["turns"]:
        words, markers = marker_positions(words_for_scoring(turn["raw"]))
        aligned = _aligned_times([token for token, _ in tokens], [word for _, word in tokens], words, turn)
        for number, at in markers:
            share = (max(at, 0) + 0.5) / max(len(words), 1)
            near = [(abs(k - at), time) for k, time in aligned.items() if abs(k - at) <= 3]
            time = min(near)[1] if near else turn["start"] + share * (turn["end"] - turn["start"])
            times.setdefault(_same(seed[number - 1].url), []).append(time)
    return times


def _aligned_times(hyp: list[str], owners: list[Word], ref: list[str], turn: dict) -> dict[int, float]:
    """Reference word index -> the start of the heard word aligned to it, among the words heard
    during the reference turn."""
    inside = [k for k, word in enumerate(owners) if turn["start"] - 1 <= word.start <= turn["end"] + 1]
    if not inside:
        return {}
    first, last = inside[0], inside[-1] + 1
    matcher = SequenceMatcher(None, hyp[first:last], ref, autojunk=False)
    return {b + k: owners[first + a + k].start for a, b, size in matcher.get_matching_blocks() for k in range(size)}


def _candidate_tally(found: Footnoted, episode: BenchEpisode, heard: list[Word]) -> tuple[int, int]:
    """Links not placed whose gold mention is within 5 s of one of their candidate spots."""
    gold = _gold_times(episode, heard)
    url_of = {link.title: _same(link.url) for link in episode.links}
    hits = total = 0
    for title, spots in found.candidates.items():
        if title not in url_of or url_of[title] not in gold:
            continue  # a decoy, or a link the episode never says
        total += 1
        hit = any(abs(spot["start"] - t) <= 5.0 for spot in spots for t in gold[url_of[title]])
        hits += hit
        print(f"  not placed: {title}: gold at {[round(t) for t in gold[url_of[title]]]}, spots"
              f" {[(round(s['start']), s['heard'], s['score']) for s in spots]} {'HIT' if hit else 'miss'}")
    return hits, total


def _by_sound(found: Footnoted, episode: BenchEpisode, figures: dict) -> None:
    """Each placement by sound with its contrast, and whether it is within 3 words of gold."""
    right = set(figures["hit_urls"])
    url_of = {link.title: _same(link.url) for link in episode.links}
    for doubt in found.dialogue.doubts:
        if doubt.kind == "second-chance" and "by sound" in doubt.note:
            contrast = float(doubt.note.split(" by ")[-1].split(")")[0])
            verdict = "right" if url_of.get(doubt.chose) in right else "WRONG"
            print(f"  by sound: {doubt.chose!r} over {doubt.heard!r} at {doubt.start:.0f} s, contrast {contrast:.2f}, {verdict}")


def _run(episode: BenchEpisode, mode: str, corrections: list, args: argparse.Namespace) -> dict[str, tuple[int, int]]:
    """One episode footnoted under one vocabulary setting: its figures printed, its tally."""
    plain = _first_pass(episode, mode, args)
    options = FootnoteOptions(**{name: type(getattr(FootnoteOptions, name))(value) for name, value in
                                 (option.split("=", 1) for option in args.option)})
    options = options if args.threshold is None else replace(options, contrast_threshold=args.threshold)
    audio = None if args.no_audio else PhraseScorer(
        episode.audio, settings_for(mode, episode.links, episode.names, args.audio_compute_type), options)
    listed = with_decoys(episode.links, episode.text) if args.decoys else episode.links
    began, cpu = time.monotonic(), time.process_time()
    found = footnote(plain, listed, corrections, audio=audio, options=options)
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    footnoted = found.dialogue
    duration = plain.turns[-1].words[-1].end if plain.turns else 0.0
    print(f"{episode.name}, vocabulary={mode}: {MODES[mode]}, {len(corrections)} producer corrections,"
          f" by sound {'off' if args.no_audio else 'on (' + args.audio_compute_type + ')'}"
          f"  (footnoting took {elapsed:.1f} s, RTF {elapsed / max(duration, 1):.3f};"
          f" {cpu:.1f} CPU-seconds, {cpu / 2 / max(duration, 1):.3f} of 2 cores' time)")
    if args.decoys:
        tally = _decoy_tally(footnoted, listed, episode)
    else:
        figures = score(footnoted, plain, episode, with_hits=True)
        tally = _score_tally(figures)
        _by_sound(found, episode, figures)
    heard = [word for turn in plain.turns for word in turn.words]
    tally["candidates with the gold mention in the top 3"] = _candidate_tally(found, episode, heard)
    for warning in footnoted.warnings:
        print(f"  warning: {warning}")
    return tally


def main() -> None:
    args = _arguments()
    paths = args.episode or [EXCERPT]
    for path in paths:
        if not path.exists():
            sys.exit(f"{path} is absent: the bench needs ../shared/data beside the project")
    modes = list(MODES) if args.vocabulary == "all" else [args.vocabulary]
    corrections = load_corrections(args.corrections) if args.corrections else []
    totals: dict[str, list[int]] = {}
    for path in paths:
        episode = BenchEpisode.at(path)
        for mode in modes:
            for name, (got, out_of) in _run(episode, mode, corrections, args).items():
                totals.setdefault(name, [0, 0])
                totals[name][0] += got
                totals[name][1] += out_of
    if len(paths) > 1:
        print("all episodes: " + ", ".join(f"{name} {got}/{out_of}" for name, (got, out_of) in totals.items()))


if __name__ == "__main__":
    main()
