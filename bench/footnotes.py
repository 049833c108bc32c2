"""Footnotes on the 11-minute sample excerpt, scored against its gold markers.

    .venv/bin/python bench/footnotes.py [--vocabulary none|hotwords|anchors|all] [--no-relisten]
                                        [--corrections FILE] [--decoys]

Transcribes ../shared/data/sample-episode/excerpt.mp3 with the pipeline's transcribe stage
(`base` model on the CPU: 4 to 9 minutes per setting on a shared 2-core machine, cached as JSON
under bench/.cache/ keyed by the settings), gives the words the reference speakers, footnotes
them with ../shared/data/seed/links.json and prints, per vocabulary setting: references numbered
as in the seed, markers within 3 words of gold (hypothesis aligned to the reference text), false
markers, the 15 link terms spelled right before and after the stage, and WER with and without
the stage. Targets: 15/15 numbered as in the seed, each within 3 words, 0 false markers, term
recall >= 90 %, WER no worse than without the stage. The stage gives links missing after the
first pass a second listen (the excerpt decoded again around likely stretches); --no-relisten
measures without it. --decoys adds links that are never said, spread through the list, and
counts the markers they get: each is a false marker the gold markers cannot show.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

from scoring import MARKER, wer, words_for_scoring

from pipeline.corrections import load_corrections, vocabulary
from pipeline.model import Dialogue, Link, Transcript, Turn, Word, join_words, to_data, transcript_from_data
from pipeline.stages.footnotes import place_footnotes
from pipeline.stages.transcript import Relistener, TranscribeSettings, transcribe

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


def reference(audio: Path) -> dict:
    return json.loads(audio.with_suffix(".ref.json").read_text(encoding="utf-8"))


MODES = {
    "none": "no vocabulary",
    "hotwords": "people and link phrases as hotwords, as the pipeline passes them",
    "anchors": "a shorter vocabulary, the links' first phrases only, as hotwords",
}


def settings_for(mode: str, links: list[Link], names: list[str]) -> TranscribeSettings:
    """The transcribe stage's settings on the CPU for a vocabulary setting (see MODES)."""
    terms = {
        "none": [],
        "hotwords": vocabulary(links, names, glossary=[]),
        "anchors": vocabulary([Link(link.phrases[:1], link.title, link.url) for link in links], [], []),
    }[mode]
    return TranscribeSettings(model="base", device="cpu", language="fr", vocabulary=tuple(terms))


def cached_transcript(audio: Path, settings: TranscribeSettings) -> Transcript:
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


def score(footnoted: Dialogue, plain: Dialogue, ref: dict, links: list[Link]) -> dict:
    """Markers are compared by the link they stand for (the seed numbers gold markers, the stage
    numbers its own), so a link missed early shows as wrong numbers, not as misplaced markers."""
    ref_words, gold = marker_positions(words_for_scoring(" ".join(t["raw"] for t in ref["turns"])))
    gold = [(links[n - 1].url, at) for n, at in gold]
    ref_text = " ".join(t["text"] for t in ref["turns"])
    text = " ".join(join_words(turn.words) for turn in footnoted.turns)
    heard = " ".join(join_words(turn.words) for turn in plain.turns)
    hyp_words, placed = marker_positions(words_for_scoring(text))
    places = marker_places(hyp_words, ref_words)
    url_of = {r.number: r.url for r in footnoted.references}
    title_of = {link.url: link.phrases[0] for link in links}
    errors, false_markers, open_gold = [], [], list(gold)
    for number, index in placed:
        url, at = url_of[number], places[max(index, 0)]
        nearest = min(((abs(at - g), (u, g)) for u, g in open_gold if u == url), default=None)
        if nearest is None or nearest[0] > 3:
            false_markers.append(f"[{number}] {title_of[url]} after {hyp_words[index]!r}"
                                 f" ({nearest[0] if nearest else 'no gold'} words off)")
        if nearest is not None:
            open_gold.remove(nearest[1])
            errors.append(f"{title_of[url]}: {nearest[0]}")
    numbers = {r.url: r.number for r in footnoted.references}
    anchors = [link.phrases[0] for link in links]
    return {
        "numbered as in the seed": f"{sum(numbers.get(l.url) == n for n, l in enumerate(links, 1))}/{len(links)}",
        "markers placed / gold": f"{len(placed)}/{len(gold)}",
        "gold markers hit within 3 words (any number)": f"{sum(int(e.rsplit(' ', 1)[1]) <= 3 for e in errors)}/{len(gold)}",
        "placement error in words, per link": errors,
        "false markers": false_markers,
        "gold markers missed": [title_of[u] for u, _ in open_gold],
        "link terms spelled right, before the stage": f"{sum(count(a, heard) > 0 for a in anchors)}/{len(anchors)}",
        "link terms spelled right": f"{sum(count(a, text) > 0 for a in anchors)}/{len(anchors)}",
        "terms missing": [a for a in anchors if not count(a, text)],
        "term occurrences spelled right": f"{sum(min(count(a, text), count(a, ref_text)) for a in anchors)}"
        f"/{sum(count(a, ref_text) for a in anchors)}",
        "WER without the stage": round(wer(ref_text, heard), 4),
        "WER with the stage": round(wer(ref_text, text), 4),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabulary", choices=[*MODES, "all"], default="all")
    parser.add_argument("--corrections", type=Path,
                        help="a producer's corrections.toml, e.g. bench/excerpt-corrections.toml")
    parser.add_argument("--no-relisten", action="store_true", help="no second listen for missing links")
    parser.add_argument("--decoys", action="store_true", help="add never-said links and count their markers")
    args = parser.parse_args()
    if not EXCERPT.exists():
        sys.exit(f"{EXCERPT} is absent: the bench needs ../shared/data beside the project")
    links, ref = seed_links(), reference(EXCERPT)
    names = list(dict.fromkeys(turn["speaker"] for turn in ref["turns"]))
    modes = list(MODES) if args.vocabulary == "all" else [args.vocabulary]
    corrections = load_corrections(args.corrections) if args.corrections else []
    for mode in modes:
        transcript = cached_transcript(EXCERPT, settings_for(mode, links, names))
        plain = dialogue_by_reference_speakers(transcript, ref["turns"])
        relisten = None if args.no_relisten else Relistener(EXCERPT, settings_for(mode, links, names))
        listed = with_decoys(links, " ".join(t["text"] for t in ref["turns"])) if args.decoys else links
        began = time.monotonic()
        footnoted = place_footnotes(plain, listed, corrections, relisten)
        elapsed = time.monotonic() - began
        print(f"vocabulary={mode}: {MODES[mode]}, {len(corrections)} producer corrections,"
              f" second listen {'off' if args.no_relisten else 'on'}  (footnoting took {elapsed:.1f} s)")
        if args.decoys:
            false = decoy_markers(footnoted)
            print(f"  decoys: {len(listed) - len(links)}, marked: {len(false)} {false}")
            seed_placed = sum(r.number is not None and not r.title.startswith("decoy") for r in footnoted.references)
            print(f"  seed links placed: {seed_placed}/{len(links)}")
        else:
            for name, value in score(footnoted, plain, ref, links).items():
                print(f"  {name}: {value}")
        for warning in footnoted.warnings:
            print(f"  warning: {warning}")


if __name__ == "__main__":
    main()
