"""Footnotes: number the episode's links where they are first said, and spell them right.

Recognition mangles names ("Amazon Mechanical Turk" heard as "un mâton méchanicale"), so each
link phrase is looked for in every window of heard words of about its spoken length, compared
both as plain text and as a French phonetic key (see spelling.py) with rapidfuzz. A window is a
match only when its similarity reaches `required_similarity`, stricter for short phrases, which
chance resembles more easily; weaker evidence places no marker.

The producer lists links in the order they come up, and a name said in passing before its turn
in that list is not its footnoted mention. So first mentions are chosen as the longest run of
links heard in the list's order, each as early as it can be. A link heard only out of that order
is marked at its first match spelled exactly as written (a sound-alike out of order is weak
evidence); a link not placed is listed unnumbered with a warning. Numbers then follow the transcript. A link's later phrases reuse its number at their
first match after its marker. Marked mentions are respelled the canonical way, keeping their
timings; other matches stay as heard, since a name often sounds like an ordinary word
("l'imaginaire").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rapidfuzz.fuzz import partial_ratio, ratio

from ..corrections import Correction, apply_corrections
from ..model import Dialogue, Link, Reference, Turn
from ..spelling import phonetic_key, plain_tokens, respell, spoken_tokens

LENGTH_SLACK = (0.6, 1.5)  # a window's spoken length, relative to the phrase's, to be compared
# Below this many sounds a phonetic key collides with ordinary words ("Reddit" and "tu redis"
# both sound "redi"), so short names must match by their letters.
SHORTEST_PHONETIC_MATCH = 6
LEADING_WORD_SIMILARITY = 0.55
# A leading article is not part of the name: "une enquête" is often heard as "l'enquête".
ARTICLE = re.compile(r"^(?:(?:les?|la|une?|des|du|de)\s+|[ld]['’])(?=\w)", re.IGNORECASE)


def required_similarity(spoken_length: int) -> float:
    """0.8 for long phrases, up to 0.9 for a four-sound name like "Reddit"."""
    return min(1.0, 0.8 + 0.4 / max(spoken_length, 1))


@dataclass(frozen=True)
class Match:
    phrase: str  # as matched and respelled: the link phrase without its leading article
    first: int  # index of the first and last heard word, over all the dialogue's words
    last: int
    score: float
    exact: bool  # heard spelled as written (plain tokens equal)


@dataclass(frozen=True)
class _Spoken:
    """Text in the two forms compared: plain letters and phonetic key, joined over tokens."""

    plain: str
    key: str

    @classmethod
    def of(cls, text: str) -> _Spoken:
        keys = [phonetic_key(token) for token in spoken_tokens(text)]
        return cls("".join(plain_tokens(text)), "".join(keys))

    def __add__(self, other: _Spoken) -> _Spoken:
        return _Spoken(self.plain + other.plain, self.key + other.key)


def similarity(heard: _Spoken, phrase: _Spoken) -> float:
    """How much the heard words read or sound like the phrase, 0 to 1."""
    as_written = ratio(heard.plain, phrase.plain)
    as_sounded = ratio(heard.key, phrase.key) if len(phrase.key) >= SHORTEST_PHONETIC_MATCH else 0
    return max(as_written, as_sounded) / 100


def leading_word(phrase: str) -> _Spoken | None:
    """The first word that names a phrase of several words (four letters or more), if any."""
    tokens = plain_tokens(phrase)
    naming = [token for token in tokens if len(token) >= 4]
    return _Spoken.of(naming[0]) if len(tokens) > 1 and naming else None


def _contains(window: _Spoken, word: _Spoken) -> bool:
    """Whether the word is heard somewhere in the window, by letters or by sound."""
    best = max(partial_ratio(window.plain, word.plain), partial_ratio(window.key, word.key))
    return best >= LEADING_WORD_SIMILARITY * 100


def candidate_matches(heard: list[_Spoken], phrase: str) -> list[Match]:
    """Every window of whole heard words, of about the phrase's spoken length, that matches."""
    target = _Spoken.of(phrase)
    if not target.plain:
        return []  # nothing to say aloud, e.g. a phrase of punctuation only
    length = len(target.key)
    required = required_similarity(length)
    # A long phrase can pass on its common tail alone ("les faits de l'intelligence artificielle"
    # for "règlement sur l'intelligence artificielle"): the word that names it must be heard too.
    lead = leading_word(phrase)
    matches = []
    for first in range(len(heard)):
        if not heard[first].plain:
            continue
        window = _Spoken("", "")
        for last in range(first, len(heard)):
            window += heard[last]
            if len(window.key) > LENGTH_SLACK[1] * length + 1:
                break
            if len(window.key) >= LENGTH_SLACK[0] * length and heard[last].plain:
                score = similarity(window, target)
                if score >= required and (lead is None or _contains(window, lead)):
                    matches.append(Match(phrase, first, last, score, window.plain == target.plain))
    return matches


def confident_matches(heard: list[_Spoken], phrases: list[str]) -> list[Match]:
    """The best non-overlapping matches of all phrases, in transcript order."""
    candidates = [match for phrase in phrases for match in candidate_matches(heard, phrase)]
    candidates.sort(key=lambda m: (-m.score, m.last - m.first))  # on a tie, the tighter window
    taken: set[int] = set()
    chosen = []
    for match in candidates:
        span = set(range(match.first, match.last + 1))
        if not span & taken:
            taken |= span
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.first)


def in_list_order(options: list[list[Match]]) -> dict[int, Match]:
    """One match per link (index -> match) for the most links heard in the list's order; among
    such runs, the one with most exact spellings, then the earliest. By dynamic programming:
    a longest increasing chain over the links' matches."""
    # For each match: ((links in the chain, exact ones, minus the sum of positions), chain ending there)
    chains: list[tuple[tuple[int, int, int], list[tuple[int, Match]]]] = []
    for index, matches in enumerate(options):
        ending_here = []
        for match in matches:
            before = [c for c in chains if c[1][-1][1].last < match.first]
            (count, exact, early), chain = max(before, key=lambda c: c[0], default=((0, 0, 0), []))
            ending_here.append(((count + 1, exact + match.exact, early - match.first), [*chain, (index, match)]))
        chains += ending_here
    return dict(max(chains, key=lambda c: c[0])[1]) if chains else {}


def _bare(phrase: str) -> str:
    return ARTICLE.sub("", phrase.strip())


def place_footnotes(dialogue: Dialogue, links: list[Link], corrections: list[Correction] = ()) -> Dialogue:
    """The dialogue with [n] markers after each link's first mention, respelled, with references."""
    dialogue = apply_corrections(dialogue, list(corrections))
    heard = [_Spoken.of(word.text) for turn in dialogue.turns for word in turn.words]
    matches = confident_matches(heard, list(dict.fromkeys(_bare(p) for link in links for p in link.phrases)))

    def heard_as(phrase: str, after: int = -1) -> list[Match]:
        return [m for m in matches if m.phrase == _bare(phrase) and m.first > after]

    first_mentions = in_list_order([heard_as(link.phrases[0]) for link in links])
    for index, link in enumerate(links):
        exact = [m for m in heard_as(link.phrases[0]) if m.exact and m not in first_mentions.values()]
        if index not in first_mentions and exact:
            first_mentions[index] = exact[0]
    order = sorted(first_mentions, key=lambda index: first_mentions[index].first)
    numbers = {index: number for number, index in enumerate(order, start=1)}

    marked: dict[Match, int] = {}
    for index, mention in first_mentions.items():
        marked[mention] = numbers[index]
        for phrase in links[index].phrases[1:]:
            later = heard_as(phrase, after=mention.last)
            if later:
                marked.setdefault(later[0], numbers[index])

    with_markers = _with_markers(dialogue, {m.last: number for m, number in marked.items()})
    spelled = respell(with_markers, {(m.first, m.last): m.phrase for m in marked})
    references = [Reference(numbers[i], links[i].title, links[i].url) for i in order]
    unplaced = [link for index, link in enumerate(links) if index not in first_mentions]
    references += [Reference(None, link.title, link.url) for link in unplaced]
    warnings = [
        f"link {link.phrases[0]!r} not found where expected, listed without a number: if it is said,"
        f" add a correction for how it was heard to corrections.toml ({link.title})"
        for link in unplaced
    ]
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
