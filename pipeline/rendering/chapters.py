"""Chapters: the producer's from episode.toml, or else one per question the host asks: a host
turn that ends in '?' or that the guest answers at length (recognition often drops the '?').

An automatic chapter is titled "Question 1", "Question 2"...: recognised text is too rough and
too long for a chapter list ("Claire, le nom, bien t'adopter le règlement…"); the producer's
own chapters carry real titles. They go out twice: as Podcasting 2.0 JSON chapters (linked
from the feed) and as ID3 CHAP frames with a CTOC table of contents inside the MP3, for players
that read only the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from mutagen.id3 import CHAP, CTOC, TIT2, WXXX, CTOCFlags, Frame

from pipeline.model import Chapter, Dialogue, Episode

P20_CHAPTERS_VERSION = "1.2.0"
NO_BYTE_OFFSET = 0xFFFFFFFF  # ID3: chapters are located by time only
LONG_ANSWER = 10.0  # seconds of the guest's reply that make the host's turn before it a question
MIN_CHAPTER = 10.0  # seconds: a question closer than this to the previous one starts none


def question_starts(dialogue: Dialogue, host: str) -> list[float]:
    """Where the host asks something: a host turn ending in '?', or one the next speaker (a
    guest) answers for LONG_ANSWER seconds or more; none closer than MIN_CHAPTER to the last."""
    starts: list[float] = []
    turns = dialogue.turns
    for index, turn in enumerate(turns):
        if turn.speaker != host:
            continue
        reply = turns[index + 1] if index + 1 < len(turns) else None
        answered = reply is not None and reply.speaker != host and reply.end - reply.start >= LONG_ANSWER
        if (answered or turn.text.rstrip().endswith("?")) and (not starts or turn.start - starts[-1] >= MIN_CHAPTER):
            starts.append(turn.start)
    return starts


def episode_chapters(episode: Episode, dialogue: Dialogue, host: str) -> list[Chapter]:
    """The episode file's chapters (the producer's always win); when it gives none, one per
    host question (see question_starts), after an opening chapter titled like the episode when
    the first question comes later than the start."""
    if episode.chapters:
        return sorted(episode.chapters, key=lambda chapter: chapter.start)
    starts = question_starts(dialogue, host)
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

    Element ids are short ("ch0", "ch1"…: tag editors show them). mutagen writes frames of one
    kind shortest first, then by id, and players such as ffmpeg list CHAP frames in file order;
    so the frames are put back in time order once mutagen has written them (in_time_order)."""
    ends = [chapter.start for chapter in chapters[1:]] + [duration]

    def chap(index: int) -> CHAP:
        chapter = chapters[index]
        sub_frames = [TIT2(encoding=3, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=3, desc="", url=chapter.url))
        return CHAP(element_id=f"ch{index}", start_time=round(chapter.start * 1000),
                    end_time=round(ends[index] * 1000), start_offset=NO_BYTE_OFFSET,
                    end_offset=NO_BYTE_OFFSET, sub_frames=sub_frames)

    frames: list[Frame] = [chap(index) for index in range(len(chapters))]
    if frames:
        frames.insert(0, CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=[frame.element_id for frame in frames],
            sub_frames=[],
        ))
    return frames


def _syncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def _chap_start(frame: bytes) -> int:
    """A CHAP frame's start time (ms): after its 10-byte header and its null-ended element id."""
    data = frame[10:]
    end = data.index(b"\0")
    return int.from_bytes(data[end + 1:end + 5], "big")


def in_time_order(path: Path) -> None:
    """Rewrites the file's ID3v2.4 tag with its CHAP frames in time order, in the places
    mutagen gave CHAP frames (the tag keeps its size, byte for byte)."""
    with path.open("r+b") as file:
        header = file.read(10)
        if header[:3] != b"ID3" or header[3] != 4 or header[5] & 0xC0:  # unsynchronised, extended
            return
        body = file.read(_syncsafe(header[6:10]))
        frames, position = [], 0
        while position + 10 <= len(body) and body[position:position + 4] != b"\0\0\0\0":
            end = position + 10 + _syncsafe(body[position + 4:position + 8])
            frames.append(body[position:end])
            position = end
        slots = [index for index, frame in enumerate(frames) if frame[:4] == b"CHAP"]
        for index, frame in zip(slots, sorted((frames[i] for i in slots), key=_chap_start), strict=True):
            frames[index] = frame
        file.seek(10)
        file.write(b"".join(frames) + body[position:])
