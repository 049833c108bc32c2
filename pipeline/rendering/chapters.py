"""Chapters: the producer's from episode.toml, or else one per question the host asks.

An automatic chapter is titled "Question 1", "Question 2"...: recognised text is too rough and
too long for a chapter list ("Claire, le nom, bien t'adopter le règlement…"); the producer's
own chapters carry real titles. They go out twice: as Podcasting 2.0 JSON chapters (linked
from the feed) and as ID3 CHAP frames with a CTOC table of contents inside the MP3, for players
that read only the file.
"""

from __future__ import annotations

import json

from mutagen.id3 import CHAP, CTOC, TIT2, WXXX, CTOCFlags, Frame

from pipeline.model import Chapter, Dialogue, Episode

P20_CHAPTERS_VERSION = "1.2.0"
NO_BYTE_OFFSET = 0xFFFFFFFF  # ID3: chapters are located by time only


def episode_chapters(episode: Episode, dialogue: Dialogue, host: str) -> list[Chapter]:
    """The episode file's chapters; when it gives none, one per host question (a host turn
    ending in '?'), after an opening chapter titled like the episode when the first question
    comes later than the start."""
    if episode.chapters:
        return sorted(episode.chapters, key=lambda chapter: chapter.start)
    starts = [turn.start for turn in dialogue.turns
              if turn.speaker == host and turn.text.rstrip().endswith("?")]
    questions = [Chapter(start, f"Question {number}") for number, start in enumerate(starts, start=1)]
    if questions and questions[0].start > 0:
        questions.insert(0, Chapter(0.0, episode.title))
    return questions


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
    and the ordered top-level CTOC that lists them.

    mutagen writes frames of one kind shortest first, then by element id; players such as
    ffmpeg list CHAP frames in file order. So every CHAP frame is made the same length (its
    element id padded) and ids sort in time order: the file holds them in time order."""
    ends = [chapter.start for chapter in chapters[1:]] + [duration]

    def chap(index: int, padding: int = 0) -> CHAP:
        chapter = chapters[index]
        sub_frames = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=3, desc="", url=chapter.url))
        return CHAP(element_id=f"chp{index:04d}" + "-" * padding, start_time=round(chapter.start * 1000),
                    end_time=round(ends[index] * 1000), start_offset=NO_BYTE_OFFSET,
                    end_offset=NO_BYTE_OFFSET, sub_frames=sub_frames)

    sizes = [len(chap(index)._writeData()) for index in range(len(chapters))]
    frames: list[Frame] = [chap(index, max(sizes) - size) for index, size in enumerate(sizes)]
    if frames:
        frames.insert(0, CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=[frame.element_id for frame in frames],
            sub_frames=[],
        ))
    return frames
