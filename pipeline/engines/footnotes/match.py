"""Where a phrase was heard: recognition mangles names ("Amazon Mechanical Turk" heard as "un
mâton méchanicale"), so each phrase is looked for in every window of heard words of about its
spoken length, compared both as plain letters and as a French phonetic key (see spelling.py).
A window matches only when it is alike enough, stricter for short phrases, which chance
resembles more easily: weak evidence places no marker."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.fuzz import partial_ratio, ratio

from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.engines.spelling import phonetic_key, plain_tokens, spoken_tokens

# A leading article is not part of the name: "une enquête" is often heard as "l'enquête".
ARTICLE = re.compile(r"^(?:(?:les?|la|une?|des|du|de)\s+|[ld]['’])(?=\w)", re.IGNORECASE)
# ... but a capitalised one is: "The Conversation" is written so, though often heard "le ...".
NAME_ARTICLE = re.compile(r"^(?:The|Le|La|Les)\s+(?=\w)")


@dataclass(frozen=True)
class Match:
    phrase: str  # as matched and respelled: the link phrase without its leading article
    first: int  # index of the first and last heard word, over all the dialogue's words
    last: int
    score: float
    exact: bool  # heard spelled as written (plain tokens equal)


@dataclass(frozen=True)
class Spoken:
    """Text in the two forms compared: plain letters and phonetic key, joined over tokens."""

    plain: str
    key: str

    @classmethod
    def of(cls, text: str) -> Spoken:
        keys = [phonetic_key(token) for token in spoken_tokens(text)]
        return cls("".join(plain_tokens(text)), "".join(keys))

    def __add__(self, other: Spoken) -> Spoken:
        return Spoken(self.plain + other.plain, self.key + other.key)


NOTHING = Spoken("", "")


def required_similarity(spoken_length: int, options: FootnoteOptions = FootnoteOptions()) -> float:
    """0.8 for long phrases, up to 0.9 for a four-sound name like "Reddit" (by default)."""
    return min(1.0, options.similarity + options.short_phrase_margin / max(spoken_length, 1))


def similarity(heard: Spoken, phrase: Spoken, options: FootnoteOptions = FootnoteOptions()) -> float:
    """How much the heard words read or sound like the phrase, 0 to 1."""
    as_written = ratio(heard.plain, phrase.plain)
    as_sounded = ratio(heard.key, phrase.key) if len(phrase.key) >= options.shortest_phonetic_match else 0
    return max(as_written, as_sounded) / 100


def bare(phrase: str) -> str:
    """The phrase without its leading article, as matched and respelled."""
    return ARTICLE.sub("", phrase.strip())


def name_of(phrase: str) -> str:
    """A bare phrase less its own article: "The Conversation" is often heard "le Commensation"."""
    return NAME_ARTICLE.sub("", phrase)


def overlaps(match: Match, others) -> bool:
    return any(match.first <= other.last and other.first <= match.last for other in others)


def _leading_word(phrase: str, options: FootnoteOptions) -> Spoken | None:
    """The first word that names a phrase of several words, if any."""
    tokens = plain_tokens(phrase)
    naming = [token for token in tokens if len(token) >= options.naming_letters]
    return Spoken.of(naming[0]) if len(tokens) > 1 and naming else None


def _contains(window: Spoken, word: Spoken, options: FootnoteOptions) -> bool:
    """Whether the word is heard somewhere in the window, by letters or by sound."""
    best = max(partial_ratio(window.plain, word.plain), partial_ratio(window.key, word.key))
    return best >= options.leading_word_similarity * 100


@dataclass(frozen=True)
class _Target:
    """A phrase as windows are compared to it."""

    spoken: Spoken
    required: float
    lead: Spoken | None  # the word that names it, which a matching window must hold too
    options: FootnoteOptions

    @property
    def longest(self) -> float:
        return self.options.length_slack[1] * len(self.spoken.key) + 1

    @property
    def shortest(self) -> float:
        return self.options.length_slack[0] * len(self.spoken.key)

    def score(self, window: Spoken) -> float | None:
        """The window's similarity, if it matches."""
        score = similarity(window, self.spoken, self.options)
        if score >= self.required and (self.lead is None or _contains(window, self.lead, self.options)):
            return score
        return None


def candidate_matches(heard: list[Spoken], phrase: str, required: float | None = None,
                      within: range | None = None, match_as: str | None = None,
                      options: FootnoteOptions = FootnoteOptions()) -> list[Match]:
    """Every window of whole heard words `within` a range of indexes (default: all), of about
    the phrase's spoken length, that matches; each Match names `match_as` (default: phrase)."""
    spoken = Spoken.of(phrase)
    if not spoken.plain:
        return []  # nothing to say aloud, e.g. a phrase of punctuation only
    required = required_similarity(len(spoken.key), options) if required is None else required
    # A long phrase can pass on its common tail alone ("les faits de l'intelligence artificielle"
    # for "règlement sur l'intelligence artificielle"): the word that names it must be heard too.
    target = _Target(spoken, required, _leading_word(phrase, options), options)
    within = within if within is not None else range(len(heard))
    return [match for first in within if heard[first].plain
            for match in _windows_from(heard, first, within.stop, target, match_as or phrase)]


def _windows_from(heard: list[Spoken], first: int, stop: int, target: _Target, name: str) -> list[Match]:
    """The matching windows that start at word `first`, shortest first."""
    matches = []
    window = NOTHING
    for last in range(first, stop):
        window += heard[last]
        if len(window.key) > target.longest:
            break
        if len(window.key) >= target.shortest and heard[last].plain:
            score = target.score(window)
            if score is not None:
                matches.append(Match(name, first, last, score, window.plain == target.spoken.plain))
    return matches


def confident_matches(heard: list[Spoken], phrases: list[str],
                      options: FootnoteOptions = FootnoteOptions()) -> list[Match]:
    """The best non-overlapping matches of all phrases, in transcript order."""
    candidates = [match for phrase in phrases for match in candidate_matches(heard, phrase, options=options)]
    candidates.sort(key=lambda m: (-m.score, m.last - m.first))  # on a tie, the tighter window
    taken: set[int] = set()
    chosen = []
    for match in candidates:
        span = set(range(match.first, match.last + 1))
        if not span & taken:
            taken |= span
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.first)
