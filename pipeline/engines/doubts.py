"""What the producer should check by ear: `build/<slug>/review.json`, for a review page or a person.

Every stage writes down what it was unsure of as doubts (see model.Doubt): speech with no words
(transcribe), turns whose voice is unclear (diarize), links placed on a second chance or not
found (footnotes). Here the words recognition itself doubted join them, grouped by sentence (the
doubted words of one sentence, a few words apart at most, are one doubt: one listen), and the list
is written in time order, with the audio's place beside it.

What counts as a doubted word, and how near doubted words make one doubt, is DoubtOptions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.model import TRAILING_PUNCTUATION, Accepted, Dialogue, Doubt, Word, join_words


@dataclass(frozen=True)
class DoubtOptions:
    """Which words recognition doubted are worth a listen, and how they are grouped."""

    # A word recognition gave this probability or less. Chosen with bench/doubts.py against the
    # references: up to about 0.35, the words a higher threshold adds are wrong more often than
    # words at large; past 0.4, no more often (docs/benchmarks.md).
    doubted_word: float = 0.35
    # Doubted words of one sentence at most this many words apart are one doubt: one listen.
    group_gap: int = 4

    def key(self) -> dict:
        """Every field, as JSON data: what a cache of the review items is keyed by."""
        return asdict(self)


def _sentences(words: list[Word]) -> list[list[Word]]:
    """A turn's words cut after each word that ends a sentence."""
    sentences: list[list[Word]] = [[]]
    for word in words:
        sentences[-1].append(word)
        if word.ends_sentence:
            sentences.append([])
    return [s for s in sentences if s]


def _groups(sentence: list[Word], threshold: float, gap: int) -> list[list[Word]]:
    """The stretches of a sentence from a doubted word to the last doubted one near it."""
    doubted = [i for i, word in enumerate(sentence) if word.probability <= threshold]
    groups: list[list[int]] = []
    for index in doubted:
        if groups and index - groups[-1][-1] <= gap:
            groups[-1].append(index)
        else:
            groups.append([index])
    return [sentence[g[0] : g[-1] + 1] for g in groups]


def word_doubts(dialogue: Dialogue, options: DoubtOptions = DoubtOptions()) -> list[Doubt]:
    """One doubt per group of doubted words within a sentence of a turn."""
    doubts = []
    for turn in dialogue.turns:
        for sentence in _sentences(turn.words):
            for stretch in _groups(sentence, options.doubted_word, options.group_gap):
                unsure = [w for w in stretch if w.probability <= options.doubted_word]
                heard = join_words(stretch)
                listed = ", ".join(f"«{w.text.strip(TRAILING_PUNCTUATION)}»" for w in unsure)
                doubts.append(Doubt("word", stretch[0].start, stretch[-1].end, heard, heard,
                                    f"recognition was unsure of {listed} (probability "
                                    f"{min(w.probability for w in unsure):.2f})"))
    return doubts


def _accepts(accepted: Accepted, doubt: Doubt) -> bool:
    """Whether an acceptance is of this doubt. Links not found between the same neighbours share
    their stretch: their acceptance names the link (its `heard` is the link's title)."""
    if doubt.kind == "link-not-found" and accepted.heard:
        return accepted.covers(doubt) and accepted.heard == doubt.chose
    return accepted.covers(doubt)


def review_items(dialogue: Dialogue, accepted: list[Accepted] = (), options: DoubtOptions = DoubtOptions()) -> list[Doubt]:
    """Every doubt in time order, less those the producer accepted as right."""
    items = [*dialogue.doubts, *word_doubts(dialogue, options)]
    return sorted((d for d in items if not any(_accepts(a, d) for a in accepted)), key=lambda d: (d.start, d.end))
