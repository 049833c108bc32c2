"""The domain model that flows through the stages.

Show and Episode come from the producer's files (see config.py). Word, Segment and Transcript come
out of transcription; Turn and Dialogue out of diarization; footnotes mark Words and Dialogue
carries the numbered References. Every artifact is plain data so stages can cache it as JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ELISION_MARKS = ("'", "’")
TRAILING_PUNCTUATION = ".,;:!?…»)"


@dataclass
class Link:
    """An item the episode mentions: the phrases that name it aloud, where it points."""

    phrases: list[str]  # phrases[0] is the first mention; later ones reuse its number
    title: str
    url: str


@dataclass
class Chapter:
    start: float  # seconds
    title: str
    url: str | None = None


@dataclass
class LabeledLink:
    """A link shown with a label: a funding page (podcast:funding), a podcast app's page."""

    url: str
    label: str
    __pydantic_config__ = {"extra": "forbid"}  # a misspelt key in the show file is an error


@dataclass
class Show:
    title: str
    author: str
    language: str
    description: str
    base_url: str  # public URL the site is served from, e.g. https://example.org/podcast
    host: str  # the host's name, as it should appear in transcripts
    owner_name: str
    owner_email: str
    category: str
    artwork: Path | None = None
    subcategory: str | None = None
    explicit: bool = False
    copyright: str | None = None  # default: "© <author>"
    # Transcription: None keeps the default of engines.transcribe.TranscribeOptions.
    model: str | None = None
    device: Literal["auto", "cpu", "cuda"] | None = None
    compute_type: Literal["auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                          "float16", "bfloat16", "float32"] | None = None
    batch_size: int | None = None  # None: the transcribe options' default (8, batched); 0: sequential
    destination: str = "site"
    s3_region: str | None = None  # for an s3:// destination; default: the AWS config's
    s3_endpoint_url: str | None = None  # an S3-compatible service instead of AWS
    host_voiceprint: Path | None = None
    podcast_guid: str | None = None  # default: the Podcasting 2.0 UUIDv5 of the feed's URL
    locked: bool = True  # podcast:locked: other platforms may not import the feed
    glossary: list[str] = field(default_factory=list)
    funding: list[LabeledLink] = field(default_factory=list)  # podcast:funding, on every page
    subscribe: list[LabeledLink] = field(default_factory=list)  # apps' pages, on the home page
    verify: str | None = None  # podcast:txt purpose="verify": a token a platform asks for
    show_type: Literal["episodic", "serial"] = "episodic"  # itunes:type
    host_href: str | None = None  # podcast:person href and img of the host
    host_img: str | None = None
    source: Path | None = None  # the file this was loaded from


@dataclass
class Episode:
    slug: str
    title: str
    number: int
    date: dt.date
    guests: list[str]
    audio: Path
    links: list[Link] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    notes_markdown: str = ""
    season: int | None = None
    episode_type: str = "full"
    explicit: bool | None = None
    draft: bool = False
    speakers: dict[str, str] = field(default_factory=dict)  # producer's fix: cluster label -> name
    folder: Path | None = None
    artwork: Path | None = None  # the episode's own square image (default: the show's)
    people: list[Person] = field(default_factory=list)  # guests given with href and img


@dataclass
class Word:
    text: str  # as printed, with its leading space stripped and punctuation kept
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None
    footnote: int | None = None  # a marker [n] printed right after this word

    @property
    def ends_sentence(self) -> bool:
        """Whether a sentence ends with this word (closing quotes and brackets aside)."""
        return self.text.rstrip("»)\"' ").endswith((".", "?", "!", "…"))


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word]
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass
class Transcript:
    language: str
    duration: float  # seconds of audio
    segments: list[Segment]
    model: str = ""
    warnings: list[str] = field(default_factory=list)
    doubts: list[Doubt] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


@dataclass
class Turn:
    """Consecutive words of one speaker."""

    speaker: str
    words: list[Word]
    confidence: float | None = None  # 0-1, that these words are this speaker's (when diarized)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return join_words(self.words)


DoubtKind = Literal["unheard", "guessed", "speaker", "word", "second-chance", "link-not-found"]


@dataclass
class Doubt:
    """Something a stage was unsure of, for the producer to check by ear (build/<slug>/review.json)."""

    kind: DoubtKind
    start: float  # seconds
    end: float
    heard: str  # the words there, as published ("" where none were recognised)
    chose: str  # what the stage made of it: a speaker's name, a link's title, "no words"
    note: str = ""  # why it is in doubt


@dataclass
class Reference:
    number: int | None  # None: the link was never heard (listed after the numbered ones)
    title: str
    url: str


@dataclass
class Dialogue:
    """The transcript as the listener reads it: named turns, footnote markers, references."""

    turns: list[Turn]
    references: list[Reference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    confidence: float | None = None  # of the speaker naming, when diarized
    doubts: list[Doubt] = field(default_factory=list)  # from every stage so far, in time order
    # Where a voice is heard near the words, by the diarizer, unnamed (see heard_spans)
    speech: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class TranscriptLink:
    url: str
    type: str  # MIME type
    rel: str | None = None  # "captions" for timed captions
    language: str | None = None


@dataclass
class Person:
    name: str
    role: str  # "host" or "guest"
    href: str | None = None  # podcast:person href: their page
    img: str | None = None  # podcast:person img: their picture's URL


@dataclass
class FeedEntry:
    """One episode as the feed, the home page, the search index and catalogue.json list it: made
    by render, given its GUID at its first publication, kept in the destination's catalogue."""

    slug: str
    title: str
    number: int
    date: str  # ISO date
    link: str  # the episode's page
    audio_url: str
    audio_length: int  # bytes
    duration: int  # seconds
    description_html: str = ""
    audio_type: str = "audio/mpeg"
    season: int | None = None
    episode_type: str = "full"
    draft: bool = False
    explicit: bool | None = None  # None: the show's
    transcripts: list[TranscriptLink] = field(default_factory=list)
    chapters_url: str | None = None
    persons: list[Person] = field(default_factory=list)
    transcript_digest: str = ""  # the search index is rebuilt when it changes
    guid: str | None = None
    image_url: str | None = None  # the episode's own artwork


def feed_entry_from_data(data: dict) -> FeedEntry:
    """An entry as catalogue.json (or a render artifact) holds it; keys of other versions are left."""
    known = {f.name for f in dataclasses.fields(FeedEntry)}
    data = {key: value for key, value in data.items() if key in known}
    return FeedEntry(**{**data, "transcripts": [TranscriptLink(**t) for t in data.get("transcripts", [])],
                        "persons": [Person(**p) for p in data.get("persons", [])]})


@dataclass
class MasteredAudio:
    path: Path
    duration: float  # seconds
    loudness_lufs: float  # integrated loudness after mastering
    true_peak_dbtp: float
    digest: str = ""  # sha256 of the MP3: later stages key on it
    warnings: list[str] = field(default_factory=list)


def glued_to_previous(text: str) -> bool:
    """Whether a heard word is the rest of the one before: "'imaginaire", "-ce" (a lone dash
    or a dash before a space is punctuation)."""
    return text[:1] in ELISION_MARKS or (text[:1] == "-" and text[1:2].isalnum())


def join_words(words: list[Word], markers: bool = True) -> str:
    """Words as text; a footnote prints as ' [n]' after its word, before its punctuation,
    like the seed transcript ("vous écoutez Imaginaires [1].").

    Whisper gives an elided word its apostrophe ("l", "'imaginaire") and the second half of a
    hyphenated one its hyphen ("est", "-ce"), so those join unspaced.
    """
    text = ""
    for word in words:
        printed = word.text
        if markers and word.footnote is not None:
            body = word.text.rstrip(TRAILING_PUNCTUATION)
            printed = f"{body} [{word.footnote}]{word.text[len(body):]}"
        text += printed if glued_to_previous(word.text) or not text else " " + printed
    return text


def clock(seconds: float) -> str:
    """'4:05' or '1:02:03', as players show a position."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def to_data(value: Any) -> Any:
    """Plain JSON-ready data from a model object (dates and paths as strings)."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, (Path, dt.date)):
        return str(value)
    return value


def transcript_from_data(data: dict) -> Transcript:
    segments = [
        Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in data["segments"]
    ]
    doubts = [Doubt(**d) for d in data.get("doubts", [])]
    return Transcript(**{**data, "segments": segments, "doubts": doubts})


def dialogue_from_data(data: dict) -> Dialogue:
    turns = [Turn(t["speaker"], [Word(**w) for w in t["words"]], t.get("confidence")) for t in data["turns"]]
    references = [Reference(**r) for r in data["references"]]
    doubts = [Doubt(**d) for d in data.get("doubts", [])]
    speech = [(start, end) for start, end in data.get("speech", [])]
    return Dialogue(**{**data, "turns": turns, "references": references, "doubts": doubts, "speech": speech})


def heard_spans(dialogue: Dialogue) -> list[list[tuple[float, float]]]:
    """Each turn's stretches of speech: each stretch of voice heard that reaches into the turn, up
    to halfway to the turns before and after, and those of its words heard in none. Recognition
    times a word from where it is sure of it: often after the voice began, and a sentence's last
    word often runs on into the silence after it; the diarizer hears the voice itself. A turn's
    pauses where no voice is heard are left out, and so is a voice heard only between turns.
    Without speech (not diarized), a turn spans its words."""
    turns = dialogue.turns
    spans = []
    for index, turn in enumerate(turns):
        if not dialogue.speech:
            spans.append([(turn.start, turn.end)])
            continue
        low = (turns[index - 1].end + turn.start) / 2 if index else 0.0
        high = (turn.end + turns[index + 1].start) / 2 if index + 1 < len(turns) else float("inf")
        pieces = [(max(start, low), min(end, high)) for start, end in dialogue.speech
                  if start < min(high, turn.end) and end > max(low, turn.start)]
        pieces += [(word.start, word.end) for word in turn.words
                   if not any(start < word.end and end > word.start for start, end in pieces)]
        spans.append(joined_spans(pieces))
    return spans


def joined_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The spans' union, as sorted spans that neither overlap nor touch."""
    joined: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def who_spoke_when(dialogue: Dialogue) -> list[tuple[float, float, str]]:
    """The dialogue as a diarization: (start, end, name) per stretch of speech, in time order."""
    return [(start, end, turn.speaker)
            for turn, spans in zip(dialogue.turns, heard_spans(dialogue)) for start, end in spans]


# The producer's fixes (corrections.toml), read by pipeline.corrections_file

@dataclass(frozen=True)
class Correction:
    heard: str
    meant: str
    start: float | None = None  # seconds; None: from the beginning
    end: float | None = None  # seconds; None: to the end


@dataclass(frozen=True)
class SpeakerFix:
    name: str
    start: float
    end: float


@dataclass(frozen=True)
class LinkFix:
    phrase: str
    heard: str
    start: float
    end: float


@dataclass(frozen=True)
class Accepted:
    kind: str
    at: float
    heard: str = ""

    def covers(self, doubt: Doubt) -> bool:
        """Whether this acceptance is of that doubt: same kind, same place (to a tenth of a second)."""
        return doubt.kind == self.kind and abs(doubt.start - self.at) < 0.1


@dataclass(frozen=True)
class Fixes:
    """Everything the producer's corrections.toml says about one episode."""

    corrections: list[Correction] = field(default_factory=list)
    speakers: list[SpeakerFix] = field(default_factory=list)
    links: list[LinkFix] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
