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

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError
from .model import Dialogue, Link
from .spelling import find_phrase, plain_tokens, respell


@dataclass(frozen=True)
class Correction:
    heard: str
    meant: str
    start: float | None = None  # seconds; None: from the beginning
    end: float | None = None  # seconds; None: to the end


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PipelineError(path, f"cannot read it as TOML: {exc}") from exc


def _seconds(value: object, path: Path, key: str) -> float:
    """Seconds from 754.5, "12:34" or "1:02:03.5", as a producer reads them off a player."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        try:
            parts = [float(p) for p in value.strip().split(":")]
        except ValueError:
            parts = []
        if 1 <= len(parts) <= 3 and all(p >= 0 for p in parts):
            seconds = 0.0
            for part in parts:
                seconds = seconds * 60 + part
            return seconds
    raise PipelineError(path, f"{key} = {value!r} is not a time: write seconds, \"mm:ss\" or \"h:mm:ss\"")


def load_corrections(path: Path) -> list[Correction]:
    """The producer's corrections; a missing file means none."""
    if not path.exists():
        return []
    entries = _read_toml(path).get("correction", [])
    if not isinstance(entries, list):
        raise PipelineError(path, "write each correction as a [[correction]] table")
    corrections = []
    for number, entry in enumerate(entries, start=1):
        where = f"correction {number}"
        if not isinstance(entry, dict):
            raise PipelineError(path, f"{where}: write it as a [[correction]] table")
        unknown = set(entry) - {"heard", "meant", "from", "to"}
        if unknown:
            raise PipelineError(path, f"{where}: unknown key {sorted(unknown)[0]!r} (keys: heard, meant, from, to)")
        for key in ("heard", "meant"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise PipelineError(path, f"{where}: {key} must be a non-empty string")
        if not plain_tokens(entry["heard"]):
            raise PipelineError(path, f"{where}: heard = {entry['heard']!r} has no words to look for")
        start = _seconds(entry["from"], path, f"{where}: from") if "from" in entry else None
        end = _seconds(entry["to"], path, f"{where}: to") if "to" in entry else None
        if start is not None and end is not None and end <= start:
            raise PipelineError(path, f"{where}: to must come after from")
        corrections.append(Correction(entry["heard"].strip(), entry["meant"].strip(), start, end))
    return corrections


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


def load_glossary(path: Path) -> list[str]:
    """The show's recurring names and terms; a missing file means none."""
    if not path.exists():
        return []
    terms = _read_toml(path).get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise PipelineError(path, 'terms must be a list of non-empty strings, e.g. terms = ["Imaginaires"]')
    return [t.strip() for t in terms]


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
