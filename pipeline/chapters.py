"""Chapters: the producer's from episode.toml, or else one per question the host asks.

They go out twice: as Podcasting 2.0 JSON chapters (linked from the feed) and as ID3 CHAP
frames with a CTOC table of contents inside the MP3, for players that read only the file.
"""

from __future__ import annotations

import json
import re

from mutagen.id3 import CHAP, CTOC, TIT2, WXXX, CTOCFlags, Frame

from .model import Chapter, Dialogue, Episode, join_words

P20_CHAPTERS_VERSION = "1.2.0"
TITLE_MAX_CHARS = 90
NO_BYTE_OFFSET = 0xFFFFFFFF  # ID3: chapters are located by time only


def episode_chapters(episode: Episode, dialogue: Dialogue, host: str) -> list[Chapter]:
    """The episode file's chapters; when it gives none, one per host question (a host turn
    ending in '?'), after an opening chapter titled like the episode when the first question
    comes later than the start."""
    if episode.chapters:
        return sorted(episode.chapters, key=lambda chapter: chapter.start)
    questions = [
        Chapter(turn.start, question_title(join_words(turn.words, markers=False)))
        for turn in dialogue.turns
        if turn.speaker == host and turn.text.rstrip().endswith("?")
    ]
    if questions and questions[0].start > 0:
        questions.insert(0, Chapter(0.0, episode.title))
    return questions


def question_title(text: str) -> str:
    """The question itself: the turn's last sentence, shortened at a word to TITLE_MAX_CHARS."""
    sentences = re.split(r"(?<=[.!?…])\s+", text.strip())
    question = next((s for s in reversed(sentences) if s.endswith("?")), sentences[-1])
    if len(question) <= TITLE_MAX_CHARS:
        return question
    return question[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def podcasting20_json(chapters: list[Chapter]) -> str:
    entries = []
    for chapter in chapters:
        entry = {"startTime": round(chapter.start, 3), "title": chapter.title}
        if chapter.url:
            entry["url"] = chapter.url
        entries.append(entry)
    data = {"version": P20_CHAPTERS_VERSION, "chapters": entries}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def id3_frames(chapters: list[Chapter], duration: float) -> list[Frame]:
    """CHAP frames, each ending where the next begins (the last at the end of the audio),
    and the ordered top-level CTOC that lists them."""
    ends = [chapter.start for chapter in chapters[1:]] + [duration]
    frames: list[Frame] = []
    for index, (chapter, end) in enumerate(zip(chapters, ends)):
        sub_frames = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=3, desc="", url=chapter.url))
        frames.append(CHAP(
            element_id=f"chp{index}",
            start_time=round(chapter.start * 1000),
            end_time=round(end * 1000),
            start_offset=NO_BYTE_OFFSET,
            end_offset=NO_BYTE_OFFSET,
            sub_frames=sub_frames,
        ))
    if frames:
        frames.insert(0, CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=[frame.element_id for frame in frames],
            sub_frames=[],
        ))
    return frames
