"""The producer's fixes to an episode: reading `corrections.toml`, checked against the episode.

`episodes/<slug>/corrections.toml` holds the producer's fixes, applied on every run after
diarization and before footnoting, so they survive re-runs and never need re-transcription.
`publish review SLUG` writes them from its page; they can as well be written by hand:

    [[correction]]             # what recognition heard, and what was said
    heard = "châche et pété"   # as it reads in the transcript (case, accents, punctuation ignored)
    meant = "ChatGPT"
    from = "12:30"             # optional: only between these times (seconds, "mm:ss" or "h:mm:ss")
    to = "13:00"

    [[speaker]]                # the words starting between these times are this person's
    name = "Antonio Casilli"   # the host or a guest of the episode file
    from = "3:02.4"
    to = "3:10"

    [[link]]                   # a link's first mention is these words (the stage missed it)
    phrase = "Common Crawl"    # a phrase of one of the episode file's links
    heard = "commencé à"       # the words, as they read in the transcript
    from = "5:10"
    to = "5:13"

    [[not_mention]]            # these words are not a mention of the link: no marker there
    phrase = "ChatGPT"         # a phrase of one of the episode file's links
    heard = "ChatGPT"          # the words, as they read in the transcript
    from = "0:41"              # the link goes to its next mention, or is not found
    to = "0:43"

    [[accepted]]               # a doubt the producer checked: right as it is, no longer flagged
    kind = "word"              # as review.json names it
    at = "1:02.35"             # the doubt's start
    heard = "souvêtement"

`feeds/glossary.toml` lists the show's recurring names and terms (`terms = ["Imaginaires", …]`);
with the episode's names and link phrases it becomes the vocabulary recognition is primed with.
"""

from __future__ import annotations

from pathlib import Path

import pydantic

from pipeline.config import parse_timestamp, read_validated
from pipeline.engines.corrections import NotMention
from pipeline.engines.spelling import plain_tokens
from pipeline.errors import PipelineError
from pipeline.model import (
    Accepted,
    Correction,
    DoubtKind,
    Fixes,
    Link,
    LinkFix,
    SpeakerFix,
)

MAX_PHRASE_CHARS = 500  # a correction's heard or meant, a speaker's name, a link's phrase


class _CorrectionEntry(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    heard: str = pydantic.Field(min_length=1, max_length=MAX_PHRASE_CHARS)
    meant: str = pydantic.Field(min_length=1, max_length=MAX_PHRASE_CHARS)
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


class _Span(pydantic.BaseModel):
    """A stretch of the episode, both ends required."""

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)
    start: float = pydantic.Field(alias="from")
    end: float = pydantic.Field(alias="to")

    @pydantic.field_validator("start", "end", mode="before")
    @classmethod
    def seconds(cls, value: float | str) -> float:
        return parse_timestamp(value)

    @pydantic.model_validator(mode="after")
    def ordered(self):
        if self.end <= self.start:
            raise ValueError("'to' must come after 'from'")
        return self


class _SpeakerEntry(_Span):
    name: str = pydantic.Field(min_length=1, max_length=MAX_PHRASE_CHARS)


class _LinkEntry(_Span):
    phrase: str = pydantic.Field(min_length=1, max_length=MAX_PHRASE_CHARS)
    heard: str = pydantic.Field(min_length=1, max_length=MAX_PHRASE_CHARS)


class _AcceptedEntry(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    kind: DoubtKind
    at: float
    heard: str = pydantic.Field("", max_length=MAX_PHRASE_CHARS)

    @pydantic.field_validator("at", mode="before")
    @classmethod
    def seconds(cls, value: float | str) -> float:
        return parse_timestamp(value)


class _CorrectionsFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    correction: list[_CorrectionEntry] = []
    speaker: list[_SpeakerEntry] = []
    link: list[_LinkEntry] = []
    accepted: list[_AcceptedEntry] = []
    not_mention: list[_LinkEntry] = []


def load_fixes(path: Path, people: list[str] | None = None, links: list[Link] | None = None) -> Fixes:
    """The producer's fixes (a missing file means none), checked against the episode's `people`
    and `links` when given: a name or a phrase the episode does not have is an error."""
    if not path.exists():
        return Fixes()
    data = read_validated(path, _CorrectionsFile)
    _check_against_episode(path, data, people, links)
    return Fixes(
        [Correction(e.heard.strip(), e.meant.strip(), e.start, e.end) for e in data.correction],
        [SpeakerFix(e.name, e.start, e.end) for e in data.speaker],
        [*(LinkFix(e.phrase.strip(), e.heard.strip(), e.start, e.end) for e in data.link),
         *(NotMention(e.phrase.strip(), e.heard.strip(), e.start, e.end) for e in data.not_mention)],
        [Accepted(e.kind, e.at, e.heard) for e in data.accepted],
    )


def _check_against_episode(path: Path, data: _CorrectionsFile, people: list[str] | None,
                           links: list[Link] | None) -> None:
    """A name or a phrase the episode does not have is an error naming its key."""
    phrases = {phrase.strip() for link in links or [] for phrase in link.phrases}
    for number, entry in enumerate(data.speaker, start=1):
        if people is not None and entry.name not in people:
            raise PipelineError(path, f"key 'speaker[{number}].name': {entry.name!r} is not in the episode; "
                                f"give one of {', '.join(people)}")
    for table, entries in (("link", data.link), ("not_mention", data.not_mention)):
        for number, entry in enumerate(entries, start=1):
            if links is not None and entry.phrase.strip() not in phrases:
                raise PipelineError(path, f"key '{table}[{number}].phrase': {entry.phrase!r} is not a phrase of "
                                    "the episode file's links")


def load_corrections(path: Path) -> list[Correction]:
    """The producer's word corrections alone; a missing file means none."""
    return load_fixes(path).corrections
