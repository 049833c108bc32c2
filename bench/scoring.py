"""Scoring shared by the benchmarks: word error rate on normalised French text."""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

MARKER = re.compile(r"\[(\d+)\]")


def words_for_scoring(text: str) -> list[str]:
    """Lowercase words without punctuation; footnote markers stay as their own "[n]" tokens."""
    text = MARKER.sub(r" [\1] ", text.lower().replace("\u2019", "'"))
    return re.findall(r"\[\d+\]|[\w'-]+", text)


def wer(reference_text: str, hypothesis_text: str) -> float:
    """Word error rate: word edits from the reference to the hypothesis, per reference word."""
    reference, hypothesis = (
        [w for w in words_for_scoring(text) if not MARKER.fullmatch(w)]
        for text in (reference_text, hypothesis_text)
    )
    return Levenshtein.distance(reference, hypothesis) / len(reference)
