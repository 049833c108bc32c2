"""The transcript in the formats podcast apps read: WebVTT, SRT, Podcasting 2.0 JSON, plain text.

Caption formats carry cues short enough to read while listening; the plain text keeps whole
turns as paragraphs with their footnote markers, in the shape of the show's published
transcripts (`Name : text [n]`, references at the end).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass

import srt

from .model import Dialogue, Reference, Turn, Word, join_words

NBSP = "\u00a0"
CUE_MAX_CHARS = 84  # two caption lines of 42 characters, the usual subtitle limit
CUE_MAX_SECONDS = 7.0
SENTENCE_ENDS = (".", "?", "!", "…")
P20_TRANSCRIPT_VERSION = "1.0.0"

# (file name, MIME type, rel) of each transcript file render writes; the feed lists them all.
TRANSCRIPT_FILES = [
    ("transcript.vtt", "text/vtt", "captions"),
    ("transcript.srt", "application/x-subrip", "captions"),
    ("transcript.json", "application/json", None),
    ("transcript.txt", "text/plain", None),
]


@dataclass
class Cue:
    speaker: str
    start: float
    end: float
    text: str


def cues(dialogue: Dialogue) -> list[Cue]:
    """Each turn cut into cues that end at a sentence end, or before growing past
    CUE_MAX_CHARS or CUE_MAX_SECONDS; footnote markers are left out of captions."""
    result = []
    for turn in dialogue.turns:
        current: list[Word] = []
        for word in turn.words:
            if current and (
                len(join_words([*current, word], markers=False)) > CUE_MAX_CHARS
                or word.end - current[0].start > CUE_MAX_SECONDS
            ):
                result.append(_cue(turn.speaker, current))
                current = []
            current.append(word)
            if word.text.endswith(SENTENCE_ENDS):
                result.append(_cue(turn.speaker, current))
                current = []
        if current:
            result.append(_cue(turn.speaker, current))
    return result


def _cue(speaker: str, words: list[Word]) -> Cue:
    return Cue(speaker, words[0].start, words[-1].end, join_words(words, markers=False))


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def webvtt(dialogue: Dialogue) -> str:
    """WebVTT with the speaker as a `<v Name>` voice tag, which Apple Podcasts shows."""
    blocks = ["WEBVTT"]
    for cue in cues(dialogue):
        # Cue text is markup: '<' and '&' in a name or a word must not open a tag.
        voice = html.escape(cue.speaker, quote=False)
        blocks.append(
            f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}\n"
            f"<v {voice}>{html.escape(cue.text, quote=False)}"
        )
    return "\n\n".join(blocks) + "\n"


def subrip(dialogue: Dialogue) -> str:
    """SRT, the speaker as a `Name:` prefix (SRT has no voice tag)."""
    return srt.compose(
        srt.Subtitle(
            index=number,
            start=dt.timedelta(seconds=cue.start),
            end=dt.timedelta(seconds=cue.end),
            content=f"{cue.speaker}: {cue.text}",
        )
        for number, cue in enumerate(cues(dialogue), start=1)
    )


def podcasting20_json(dialogue: Dialogue) -> str:
    segments = [
        {"speaker": cue.speaker, "startTime": round(cue.start, 3),
         "endTime": round(cue.end, 3), "body": cue.text}
        for cue in cues(dialogue)
    ]
    data = {"version": P20_TRANSCRIPT_VERSION, "segments": segments}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def text_with_markers(turn: Turn) -> list[str | int]:
    """The turn's text as pieces: strings, and the footnote numbers printed between them."""
    numbers = {word.footnote for word in turn.words if word.footnote is not None}
    if not numbers:
        return [turn.text]
    # join_words prints each marker as ' [n]'; split on exactly those numbers.
    marker = re.compile(r" \[(" + "|".join(str(n) for n in sorted(numbers)) + r")\]")
    pieces = marker.split(turn.text)
    return [int(piece) if index % 2 else piece for index, piece in enumerate(pieces)]


def speaker_label(name: str) -> str:
    """'Gérald Holubowicz : ' with the no-break spaces French typography (and the seed) uses."""
    return f"{name.replace(' ', NBSP)}{NBSP}: "


def reference_line(reference: Reference) -> str:
    number = f"[{reference.number}] " if reference.number is not None else "– "
    return f"{number}{reference.title} <{reference.url}>"


def plain_text(title: str, dialogue: Dialogue, references_heading: str) -> str:
    """The seed's shape: the title, then one `Name : text [n]` paragraph per turn, the
    markers kept to their word by a no-break space; the references at the end."""
    paragraphs = [title]
    for turn in dialogue.turns:
        pieces = text_with_markers(turn)
        text = "".join(f"{NBSP}[{p}]" if isinstance(p, int) else p for p in pieces)
        paragraphs.append(speaker_label(turn.speaker) + text)
    if dialogue.references:
        lines = [reference_line(reference) for reference in dialogue.references]
        paragraphs.append("\n".join([references_heading, *lines]))
    return "\n\n".join(paragraphs) + "\n"
