"""Applying the producer's fixes to a dialogue, and the vocabulary recognition is primed with.

`feeds/glossary.toml` lists the show's recurring names and terms (`terms = ["Imaginaires", …]`);
with the episode's link phrases it becomes the vocabulary recognition is primed with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.engines.spelling import find_phrase, respell
from pipeline.model import Correction, Dialogue, Link, LinkFix, SpeakerFix, Turn


@dataclass(frozen=True)
class NotMention(LinkFix):
    """The producer's "not a mention": the link's phrase is not said as its mention in this
    stretch (corrections.toml's [[not_mention]]). It travels with the producer's link fixes
    (Fixes.links), so the footnotes engine gets it where it gets them: no marker is placed for
    that link on these words, and the link goes to its next mention, or is not found."""

    def covers(self, start: float, end: float, slack: float = 0.0) -> bool:
        """Whether words from `start` to `end` lie in this stretch."""
        return start >= self.start - slack and end <= self.end + slack


def apply_speaker_fixes(dialogue: Dialogue, fixes: list[SpeakerFix]) -> Dialogue:
    """The dialogue with each fixed stretch's words given to its person, turns joined again.
    A word belongs to a stretch when it starts in it; a doubt about a fixed turn is settled."""
    if not fixes:
        return dialogue
    turns: list[Turn] = []
    for turn in dialogue.turns:
        for word in turn.words:
            fix = next((f for f in reversed(fixes) if f.start <= word.start < f.end), None)
            name = fix.name if fix else turn.speaker
            if not (turns and turns[-1].speaker == name):
                turns.append(Turn(name, [], turn.confidence))
            turns[-1].words.append(replace(word, speaker=name))
            if fix:
                turns[-1].confidence = 1.0  # the producer's word
    settled = [d for d in dialogue.doubts if not (d.kind == "speaker" and any(
        f.start <= d.start < f.end or d.start <= f.start < d.end for f in fixes))]
    return replace(dialogue, turns=turns, doubts=settled)


def apply_corrections(dialogue: Dialogue, corrections: list[Correction]) -> Dialogue:
    """The dialogue with every occurrence of each heard phrase (in its time range) respelled."""
    for correction in corrections:
        words = [word for turn in dialogue.turns for word in turn.words]
        spans = [
            (first, last)
            for first, last in find_phrase(words, correction.heard)
            if (correction.start is None or words[first].start >= correction.start)
            and (correction.end is None or words[last].end <= correction.end)
        ]
        dialogue = respell(dialogue, {span: correction.meant for span in spans})
    return dialogue


def _is_name_like(phrase: str) -> bool:
    """Names and coined terms (a capital, a digit, a dot): recognition may not know them.
    Plain lowercase French ("une enquête") is already in the model's vocabulary."""
    return any(ch.isupper() or ch.isdigit() or ch == "." for ch in phrase)


def vocabulary(links: list[Link], glossary: list[str]) -> list[str]:
    """Words to prime recognition with: the link phrases, then the show's glossary. People's
    names are left out: primed, the decoder writes them where they are not said ("Bonsoir
    Holubowicz" for "bonsoir" on a real call); the footnotes stage respells them where they are."""
    candidates = [*(phrase for link in links for phrase in link.phrases), *glossary]
    seen: set[str] = set()
    terms = []
    for term in candidates:
        if _is_name_like(term) and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms
