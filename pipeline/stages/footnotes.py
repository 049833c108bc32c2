"""Footnotes: number the episode's links where they are first said, and spell them right.

Recognition mangles names ("Amazon Mechanical Turk" heard as "un mâton méchanicale"), so each
link phrase is looked for in every window of heard words of about its spoken length, compared
both as plain text and as a French phonetic key (see spelling.py) with rapidfuzz. A window is a
match only when the similarity reaches CONFIDENT; weaker evidence places no marker.

Placement follows the producer's list, which is in the order the links come up: each link's first
phrase is marked at its first match after the previous link's marker (a name said in passing
before its turn in the list is not its footnoted mention). A link whose phrase is only heard
earlier is marked there all the same; a link never heard is listed unnumbered with a warning.
Numbers then follow the transcript. A link's later phrases reuse its number at their first match
after its marker. Every match, marked or not, is respelled the canonical way, keeping timings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rapidfuzz.fuzz import ratio

from ..corrections import Correction, apply_corrections
from ..model import Dialogue, Link, Reference, Turn, Word
from ..spelling import phonetic_key, plain_tokens, respell, spoken_tokens

CONFIDENT = 0.8  # similarity (0-1) a window needs to count as the phrase
LENGTH_SLACK = (0.6, 1.5)  # a window's spoken length, relative to the phrase's, to be compared


@dataclass(frozen=True)
class Match:
    phrase: str
    first: int  # index of the first and last heard word, over all the dialogue's words
    last: int
    score: float


@dataclass(frozen=True)
class _Spoken:
    """Text in the two forms compared: plain letters and phonetic key, per token."""

    plain: list[str]
    keys: list[str]

    @classmethod
    def of(cls, text: str) -> _Spoken:
        tokens = spoken_tokens(text)
        return cls(plain_tokens(text), [phonetic_key(token) for token in tokens])


def similarity(heard: _Spoken, phrase: _Spoken) -> float:
    """How much the heard tokens read or sound like the phrase, 0 to 1."""
    as_written = ratio("".join(heard.plain), "".join(phrase.plain))
    as_sounded = ratio("".join(heard.keys), "".join(phrase.keys))
    return max(as_written, as_sounded) / 100


def candidate_matches(heard: list[_Spoken], phrase: str) -> list[Match]:
    """Every window of whole heard words, of about the phrase's spoken length, scoring CONFIDENT."""
    target = _Spoken.of(phrase)
    length = len("".join(target.keys))
    matches = []
    for first in range(len(heard)):
        plain, keys = [], []
        for last in range(first, len(heard)):
            plain += heard[last].plain
            keys += heard[last].keys
            spoken = len("".join(keys))
            if spoken > LENGTH_SLACK[1] * length + 1:
                break
            if spoken >= LENGTH_SLACK[0] * length and heard[first].plain and heard[last].plain:
                score = similarity(_Spoken(plain, keys), target)
                if score >= CONFIDENT:
                    matches.append(Match(phrase, first, last, score))
    return matches


def confident_matches(words: list[Word], links: list[Link]) -> list[Match]:
    """The best non-overlapping matches of all link phrases, in transcript order."""
    phrases = list(dict.fromkeys(phrase for link in links for phrase in link.phrases))
    heard = [_Spoken.of(word.text) for word in words]
    candidates = [match for phrase in phrases for match in candidate_matches(heard, phrase)]
    # Best score first; on a tie, the tighter window.
    candidates.sort(key=lambda m: (-m.score, m.last - m.first))
    taken: set[int] = set()
    chosen = []
    for match in candidates:
        span = set(range(match.first, match.last + 1))
        if not span & taken:
            taken |= span
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.first)


def _first_after(matches: list[Match], phrase: str, after: int) -> Match | None:
    return next((m for m in matches if m.phrase == phrase and m.first > after), None)


def place_footnotes(dialogue: Dialogue, links: list[Link], corrections: list[Correction] = ()) -> Dialogue:
    """The dialogue with [n] markers after each link's first mention, respelled, with references."""
    dialogue = apply_corrections(dialogue, list(corrections))
    words = [word for turn in dialogue.turns for word in turn.words]
    matches = confident_matches(words, links)

    first_mentions: dict[int, Match] = {}  # link index -> its footnoted mention
    previous = -1
    for index, link in enumerate(links):
        mention = _first_after(matches, link.phrases[0], previous) or _first_after(matches, link.phrases[0], -1)
        if mention:
            first_mentions[index] = mention
            previous = max(previous, mention.last)
    order = sorted(first_mentions, key=lambda index: first_mentions[index].last)
    numbers = {index: number for number, index in enumerate(order, start=1)}

    markers = {}
    for index, mention in first_mentions.items():
        markers[mention.last] = numbers[index]
        for phrase in links[index].phrases[1:]:
            later = _first_after(matches, phrase, mention.last)
            if later:
                markers.setdefault(later.last, numbers[index])

    marked = _with_markers(dialogue, markers)
    spelled = respell(marked, {(m.first, m.last): m.phrase for m in matches})
    references = [Reference(numbers[i], links[i].title, links[i].url) for i in order]
    unplaced = [link for index, link in enumerate(links) if index not in first_mentions]
    references += [Reference(None, link.title, link.url) for link in unplaced]
    warnings = [f"link never heard, listed without a number: {link.title} ({link.phrases[0]!r})" for link in unplaced]
    return replace(spelled, references=references, warnings=[*spelled.warnings, *warnings])


def _with_markers(dialogue: Dialogue, markers: dict[int, int]) -> Dialogue:
    """A copy whose words carry exactly these footnotes (word index over the dialogue -> n)."""
    turns, index = [], 0
    for turn in dialogue.turns:
        words = []
        for word in turn.words:
            words.append(replace(word, footnote=markers.get(index)))
            index += 1
        turns.append(Turn(turn.speaker, words))
    return replace(dialogue, turns=turns)
