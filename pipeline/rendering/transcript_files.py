"""The transcript in the formats podcast apps read: WebVTT, SRT, Podcasting 2.0 JSON, plain text;
and who spoke when, in the RTTM that diarization tools and scorers read.

Caption formats (WebVTT, SRT) carry cues by the usual subtitle rules: at most two lines of
about 42 characters, 1 to 7 seconds on screen, cut at a sentence end, else at a comma or a
pause, never inside a word ("qu'est-ce" stays whole, a lone "?" stays with its sentence). The
Podcasting 2.0 JSON and the plain text keep whole turns; the plain text has the footnote
markers, in the shape of the show's published transcripts (`Name : text [n]`, references at
the end).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import textwrap
from dataclasses import dataclass

import srt

from pipeline.model import (
    Dialogue,
    Reference,
    Turn,
    Word,
    glued_to_previous,
    join_words,
    who_spoke_when,
)

NBSP = "\u00a0"
LINE_CHARS = 42  # the usual subtitle line
CUE_LINES = 2
CUE_MIN_SECONDS = 1.0
CUE_MAX_SECONDS = 7.0
PAUSE_S = 0.25  # a silence between words where a cue may end
SENTENCE_ENDS = (".", "?", "!", "…")
CLAUSE_ENDS = (",", ";", ":", "»")
P20_TRANSCRIPT_VERSION = "1.0.0"



@dataclass
class Cue:
    speaker: str
    start: float
    end: float
    text: str  # its lines, joined by "\n"


def caption_lines(text: str) -> list[str]:
    return textwrap.wrap(text, LINE_CHARS, break_long_words=False, break_on_hyphens=False)


def cues(dialogue: Dialogue, label=lambda speaker: "") -> list[Cue]:
    """Each turn cut into caption cues (see the module docstring); `label(speaker)` opens the
    first cue of a turn and counts in its lines (SRT has no voice tag)."""
    result: list[Cue] = []
    for turn in dialogue.turns:
        pieces = _pieces(turn.words)
        prefix = label(turn.speaker)
        for words in _cue_words(pieces, prefix):
            text = prefix + join_words(words, markers=False)
            result.append(Cue(turn.speaker, words[0].start, words[-1].end, "\n".join(caption_lines(text))))
            prefix = ""
    for cue, after in zip(result, result[1:] + [None]):
        # Too short to read: stay on screen up to a second, if the next cue leaves room.
        if cue.end - cue.start < CUE_MIN_SECONDS:
            cue.end = max(cue.end, min(cue.start + CUE_MIN_SECONDS, after.start if after else cue.start + CUE_MIN_SECONDS))
    return result


def _pieces(words: list[Word]) -> list[list[Word]]:
    """Words with what is glued to them: the rest of an elided or hyphenated word, a lone mark."""
    pieces: list[list[Word]] = []
    for word in words:
        lone_mark = not any(c.isalnum() for c in word.text)
        if pieces and (glued_to_previous(word.text) or lone_mark):
            pieces[-1].append(word)
        else:
            pieces.append([word])
    return pieces


def _fits(pieces: list[list[Word]], prefix: str) -> bool:
    words = [w for piece in pieces for w in piece]
    lines = caption_lines(prefix + join_words(words, markers=False))
    return (len(lines) <= CUE_LINES and max(map(len, lines)) <= LINE_CHARS + 8
            and words[-1].end - words[0].start <= CUE_MAX_SECONDS)


def _cue_words(pieces: list[list[Word]], prefix: str) -> list[list[Word]]:
    cut: list[list[list[Word]]] = []
    current: list[list[Word]] = []
    for piece in pieces:
        if current and not _fits([*current, piece], prefix if not cut else ""):
            head, current = _at_a_break(current)
            cut.append(head)
        current.append(piece)
        if piece[-1].text.endswith(SENTENCE_ENDS) and piece[-1].end - current[0][0].start >= CUE_MIN_SECONDS:
            cut.append(current)
            current = []
    if current:
        cut.append(current)
    return [[w for piece in cue for w in piece] for cue in cut]


def _at_a_break(pieces: list[list[Word]]) -> tuple[list[list[Word]], list[list[Word]]]:
    """The pieces cut after their last comma or pause past the first third, else not cut."""
    for k in range(len(pieces) - 1, max(len(pieces) // 3, 1) - 1, -1):
        last, following = pieces[k - 1][-1], pieces[k][0]
        if last.text.endswith(CLAUSE_ENDS) or following.start - last.end >= PAUSE_S:
            return pieces[:k], pieces[k:]
    return pieces, []


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
    """SRT, a turn's first cue opening with `Name:` (SRT has no voice tag). Players read SRT's
    <i>, <b> and <font> tags: '<' and '&' in a name or a word are escaped, as in WebVTT."""
    return srt.compose(
        srt.Subtitle(
            index=number,
            start=dt.timedelta(seconds=cue.start),
            end=dt.timedelta(seconds=cue.end),
            content=html.escape(cue.text, quote=False),
        )
        for number, cue in enumerate(cues(dialogue, label=lambda speaker: f"{speaker}: "), start=1)
    )


def podcasting20_json(dialogue: Dialogue) -> str:
    """One segment per turn: apps that show it as a reading transcript show paragraphs."""
    segments = [
        {"speaker": turn.speaker, "startTime": round(turn.start, 3),
         "endTime": round(turn.end, 3), "body": join_words(turn.words, markers=False)}
        for turn in dialogue.turns if turn.words
    ]
    data = {"version": P20_TRANSCRIPT_VERSION, "segments": segments}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def rttm(dialogue: Dialogue, recording: str) -> str:
    """One line per stretch of speech: `SPEAKER <recording> 1 <start> <duration> <NA> <NA> <name>
    <NA> <NA>`, blanks in names and in the recording's name written as underscores (RTTM fields
    are separated by blanks)."""
    def field(text: str) -> str:
        return re.sub(r"\s+", "_", text.strip()) or "_"

    return "".join(f"SPEAKER {field(recording)} 1 {start:.3f} {end - start:.3f} <NA> <NA> {field(name)} <NA> <NA>\n"
                   for start, end, name in who_spoke_when(dialogue) if end > start)


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
