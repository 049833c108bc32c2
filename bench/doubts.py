"""Word doubts against the truth: how many of the review page's word doubts hold a real error
(precision), and how many of the wrong words they point at (coverage), per threshold and grouping.

The episodes' first-pass words (their `transcribe` artifact, with recognition's probabilities)
are aligned with the reference text (episode.ref.json); a heard word not matched word for word is
wrong. A doubt holds a real error when a wrong word lies in its stretch; a wrong word is covered
when it lies in a doubt's stretch. "before" is the rule before issue 24 (probability 0.25 or less,
one doubt per run of such words); "sentence" groups the doubted words of a sentence (DoubtOptions.group_gap).

Run an episode first, e.g. `publish episode v104 --until transcribe --work W` on a copy of
../shared/data/variants/v104, then:
    .venv/bin/python bench/doubts.py --work W v101 v102 v103 v104
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scoring import words_for_scoring  # noqa: E402
from pipeline.engines.doubts import DoubtOptions, word_doubts  # noqa: E402
from pipeline.model import Dialogue, Doubt, Turn, Word, transcript_from_data  # noqa: E402

VARIANTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "variants"
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def heard_words(work: Path, slug: str) -> list[Word]:
    transcript = transcript_from_data(json.loads((work / slug / "transcribe.json").read_text(encoding="utf-8")))
    return [word for segment in transcript.segments for word in segment.words]


def wrong_words(words: list[Word], reference: str) -> list[bool]:
    """For each heard word: whether it is not matched word for word in the reference."""
    tokens, owner = [], []
    for index, word in enumerate(words):
        for token in words_for_scoring(word.text):
            tokens.append(token)
            owner.append(index)
    matcher = difflib.SequenceMatcher(None, words_for_scoring(reference), tokens, autojunk=False)
    right = set()
    for block in matcher.get_matching_blocks():
        right.update(range(block.b, block.b + block.size))
    wrong = [False] * len(words)
    for position, index in enumerate(owner):
        if position not in right:
            wrong[index] = True
    return wrong


def before_doubts(words: list[Word]) -> list[Doubt]:
    """The rule before issue 24: a doubt per run of words at 0.25 or less."""
    doubts, run = [], []
    for word in [*words, None]:
        if word is not None and word.probability <= 0.25:
            run.append(word)
        elif run:
            doubts.append(Doubt("word", run[0].start, run[-1].end, "", ""))
            run = []
    return doubts


def score(words: list[Word], wrong: list[bool], doubts: list[Doubt]) -> tuple[int, int, int, int, int]:
    """(doubts, doubts holding an error, wrong words, wrong words covered, words underlined)."""
    inside = [any(d.start - 0.01 <= w.start and w.end <= d.end + 0.01 for d in doubts) for w in words]
    holding = sum(any(bad and d.start - 0.01 <= w.start and w.end <= d.end + 0.01 for w, bad in zip(words, wrong))
                  for d in doubts)
    covered = sum(bad and hit for bad, hit in zip(wrong, inside))
    return len(doubts), holding, sum(wrong), covered, sum(inside)


def line(name: str, totals: list[int], words: int) -> str:
    doubts, holding, wrong, covered, underlined = totals
    return (f"{name:>18}: {doubts:4d} doubts, {100 * holding / max(doubts, 1):5.1f} % hold an error, "
            f"cover {100 * covered / max(wrong, 1):5.1f} % of {wrong} wrong words, "
            f"underline {100 * underlined / max(words, 1):4.1f} % of words, "
            f"{100 * covered / max(underlined, 1):4.1f} % of them wrong")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("slugs", nargs="+", help="episodes, named as their folders under ../shared/data/variants")
    parser.add_argument("--work", type=Path, required=True, help="the build folder they were run in")
    parser.add_argument("--gap", type=int, default=DoubtOptions().group_gap)
    args = parser.parse_args()
    cases = []
    for slug in args.slugs:
        words = heard_words(args.work, slug)
        reference = json.loads((VARIANTS / slug / "episode.ref.json").read_text(encoding="utf-8"))
        wrong = wrong_words(words, " ".join(turn["text"] for turn in reference["turns"]))
        cases.append((slug, words, wrong))
        print(f"{slug}: {len(words)} words heard, {sum(wrong)} wrong ({100 * sum(wrong) / len(words):.1f} %)")
    total_words = sum(len(words) for _, words, _ in cases)
    rules = {"before (0.25, runs)": before_doubts}
    for threshold in THRESHOLDS:
        rules[f"sentence {threshold:.2f}"] = lambda words, t=threshold: word_doubts(
            Dialogue([Turn("A", words)]), DoubtOptions(t, args.gap))
    for name, rule in rules.items():
        totals = [0] * 5
        for _, words, wrong in cases:
            totals = [a + b for a, b in zip(totals, score(words, wrong, rule(words)))]
        print(line(name, totals, total_words))


if __name__ == "__main__":
    main()
