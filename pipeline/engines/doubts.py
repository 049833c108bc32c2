"""What the producer should check by ear: `build/<slug>/review.json`, for a review page or a person.

Every stage writes down what it was unsure of as doubts (see model.Doubt): speech with no words
(transcribe), turns whose voice is unclear (diarize), links placed on a second chance or not
found (footnotes). Here the words recognition itself doubted join them, a run of such words as
one doubt, and the list is written in time order, with the audio's place beside it.
"""

from __future__ import annotations

from pipeline.model import Accepted, Dialogue, Doubt, Word, join_words

DOUBTED_WORD = 0.25  # a word recognition gave this probability or less is worth a listen


def word_doubts(dialogue: Dialogue) -> list[Doubt]:
    """One doubt per run of doubted words within a turn."""
    doubts = []
    for turn in dialogue.turns:
        run: list[Word] = []
        for word in [*turn.words, None]:
            if word is not None and word.probability <= DOUBTED_WORD:
                run.append(word)
                continue
            if run:
                heard = join_words(run)
                doubts.append(Doubt("word", run[0].start, run[-1].end, heard, heard,
                                    f"recognition was unsure (probability {min(w.probability for w in run):.2f})"))
            run = []
    return doubts


def review_items(dialogue: Dialogue, accepted: list[Accepted] = ()) -> list[Doubt]:
    """Every doubt in time order, less those the producer accepted as right."""
    items = [*dialogue.doubts, *word_doubts(dialogue)]
    return sorted((d for d in items if not any(a.covers(d) for a in accepted)), key=lambda d: (d.start, d.end))
