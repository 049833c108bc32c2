"""What the producer tells the pipeline about words: corrections, the show glossary, the vocabulary.

`episodes/<slug>/corrections.toml` fixes what recognition heard, applied on every run before
footnoting, so edits survive re-runs and never need re-transcription:

    [[correction]]
    heard = "châche et pété"   # as it reads in the transcript (case, accents, punctuation ignored)
    meant = "ChatGPT"
    from = "12:30"             # optional: only between these times (seconds, "mm:ss" or "h:mm:ss")
    to = "13:00"

`feeds/glossary.toml` lists the show's recurring names and terms (`terms = ["Imaginaires", …]`);
with the episode's names and link phrases it becomes the vocabulary recognition is primed with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydantic

from .config import parse_timestamp, read_validated
from .model import Dialogue, Link
from .spelling import find_phrase, plain_tokens, respell


@dataclass(frozen=True)
class Correction:
    heard: str
    meant: str
    start: float | None = None  # seconds; None: from the beginning
    end: float | None = None  # seconds; None: to the end


class _CorrectionEntry(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    heard: str = pydantic.Field(min_length=1)
    meant: str = pydantic.Field(min_length=1)
    start: float | None = pydantic.Field(None, alias="from")
    end: float | None = pydantic.Field(None, alias="to")

    @pydantic.field_validator("start", "end", mode="before")
    @classmethod
    def seconds(cls, value: float | str | None) -> float | None:
        return None if value is None else parse_timestamp(value)

    @pydantic.model_validator(mode="after")
    def ordered(self) -> "_CorrectionEntry":
        if not plain_tokens(self.heard):
            raise ValueError(f"heard = {self.heard!r} has no words to look for")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("'to' must come after 'from'")
        return self


class _CorrectionsFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    correction: list[_CorrectionEntry] = []


def load_corrections(path: Path) -> list[Correction]:
    """The producer's corrections; a missing file means none."""
    if not path.exists():
        return []
    entries = read_validated(path, _CorrectionsFile).correction
    return [Correction(e.heard.strip(), e.meant.strip(), e.start, e.end) for e in entries]


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


def vocabulary(links: list[Link], names: list[str], glossary: list[str]) -> list[str]:
    """Words to prime recognition with: people, then link phrases, then the show's glossary."""
    candidates = [*names, *(phrase for link in links for phrase in link.phrases), *glossary]
    seen: set[str] = set()
    terms = []
    for term in candidates:
        if _is_name_like(term) and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms
