"""A rendered episode built straight from model objects, for the listener-side tests.

The dialogue is the sample episode's script (episodes/exemple/dialogue.txt) with words timed at
a steady pace and footnotes on a few of them, so no transcription or diarization runs; the
audio is the sample's real MP3.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mutagen.mp3 import MP3

from pipeline.model import Dialogue, Episode, MasteredAudio, Reference, Show, Turn, Word
from pipeline.publishing.targets.local import LocalFolder
from pipeline.rendering.episode import RenderedEpisode, render
from tests.conftest import REPO, SAMPLE, make_show, publish_one

HOST = "Gérald Holubowicz"
GUEST = "Claire Dumas"
SECONDS_PER_WORD = 0.33
# word (as written in the script) -> footnote number, on its first occurrence
FOOTNOTES = {"Imaginaires,": 1, "CNIL": 2, "Wikipédia": 3}
REFERENCES = [
    Reference(1, "Imaginaires, le podcast", "https://journalism.design/imaginaires/"),
    Reference(2, "CNIL : intelligence artificielle", "https://www.cnil.fr/fr/intelligence-artificielle"),
    Reference(3, "Wikipédia", "https://fr.wikipedia.org"),
    Reference(None, "Un lien jamais entendu", "https://example.org/jamais"),
]


def script_turns() -> list[tuple[str, str]]:
    script = (SAMPLE / "dialogue.txt").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if line and not line.startswith("#")]
    return [tuple(part.strip() for part in line.split(":", 1)) for line in lines]


def timed_dialogue(turns: list[tuple[str, str]], references: list[Reference] = REFERENCES) -> Dialogue:
    """Turns of words spoken at SECONDS_PER_WORD, half a second apart between speakers."""
    clock = 0.5
    marked: set[int] = set()
    dialogue_turns = []
    for speaker, text in turns:
        words = []
        for token in text.split():
            footnote = FOOTNOTES.get(token)
            if footnote in marked:
                footnote = None
            marked.add(footnote)
            words.append(Word(token, clock, clock + SECONDS_PER_WORD - 0.03, speaker=speaker,
                              footnote=footnote))
            clock += SECONDS_PER_WORD
        dialogue_turns.append(Turn(speaker, words))
        clock += 0.5
    return Dialogue(dialogue_turns, references=list(references))


def show(artwork: Path | None = REPO / "feeds" / "artwork.jpg", host: str = HOST) -> Show:
    return make_show(artwork=artwork, host=host)


def episode(guests: tuple[str, ...] = (GUEST,), notes: str | None = None, **fields) -> Episode:
    return Episode(
        slug="exemple", title="Ce que le règlement européen change pour l'IA", number=1,
        date=dt.date(2026, 11, 20), guests=list(guests), audio=SAMPLE / "audio.mp3",
        notes_markdown=(SAMPLE / "notes.md").read_text(encoding="utf-8") if notes is None else notes,
        folder=SAMPLE, **fields,
    )


def mastered_audio() -> MasteredAudio:
    path = SAMPLE / "audio.mp3"
    return MasteredAudio(path, MP3(path).info.length, loudness_lufs=-16.0, true_peak_dbtp=-1.5)


def render_sample(site: Path, **episode_fields) -> RenderedEpisode:
    return render(show(), episode(**episode_fields), timed_dialogue(script_turns()),
                  mastered_audio(), site)


def publish_sample(work: Path, destination: Path) -> RenderedEpisode:
    """The sample rendered under work and published to the destination folder, as a run would."""
    rendered = render_sample(work)
    publish_one(show(), rendered, work, LocalFolder(destination), str(destination))
    return rendered
