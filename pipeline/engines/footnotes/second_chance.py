"""Second chances for a link the first pass missed. By the list's order it is said between its
placed neighbours (its bracket); there two weaker kinds of evidence are taken, each reported
for the producer to check:
- a window less alike that recognition itself doubted: a misheard name is both near in sound
  and heard unsure ("réditer" for "Reddit"); an ordinary word heard with confidence ("commencé
  à" for "Common Crawl") is not (the first pass had every link as a hotword alike, so no name
  was favoured there);
- a second listen, when there is audio: the stretches of the bracket most like the phrase are
  decoded again with the phrase as the only hotword, from the sentence's start. A listen that
  now writes the phrase where the first heard the window places it, if two checks agree:
  a listen in another context (from just before the stretch, running on after it) must write
  it there too, since a sentence's opening can lead the decoder to write a name that is not
  said; and the decoder must not write unrelated names it is told to favour there (control
  listens), since where recognition is unsure it writes a favoured name readily, and its word
  probabilities do not tell a true name from a false one.
Doubted sound-alikes get no control listen: their evidence owes nothing to a favoured name, and
a control there would only cost true names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.engines.footnotes.match import (
    NOTHING,
    Match,
    Spoken,
    bare,
    candidate_matches,
    name_of,
    overlaps,
    similarity,
)
from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.engines.footnotes.order import bracket
from pipeline.model import Link, Word

# A second listen: (start, end in seconds, the phrase to favour) -> the words heard there.
SecondListen = Callable[[float, float, str], list[Word]]


@dataclass
class Evidence:
    """What a second chance weighs: the episode's links and words, as heard and compared."""

    links: list[Link]
    words: list[Word]
    heard: list[Spoken]
    options: FootnoteOptions

    def confidence(self, match: Match) -> float:
        span = self.words[match.first : match.last + 1]
        return sum(word.probability for word in span) / len(span)

    def alike(self, link: Link, required: float, within: range, taken: list[Match]) -> list[Match]:
        """Windows `within` the bracket, free of other mentions, this alike to the link's name."""
        phrase = bare(link.phrases[0])
        return [m for m in candidate_matches(self.heard, name_of(phrase), required, within, phrase, self.options)
                if not overlaps(m, taken)]

    def span(self, window: Match) -> tuple[float, float]:
        return self.words[window.first].start, self.words[window.last].end


def second_chances(evidence: Evidence, in_order: dict[int, Match], first_mentions: dict[int, Match],
                   listen: SecondListen | None, room: int) -> dict[int, Match]:
    """Mentions (link index -> match) for links the first pass missed, each in its bracket
    (leaving `room` for others not found): doubted sound-alikes, then second listens."""
    # Brackets come from mentions in the list's order: one out of order bounds nothing.
    in_order, placed, found = dict(in_order), dict(first_mentions), {}
    for index, link in enumerate(evidence.links):
        if index not in placed:
            match = _doubted_match(evidence, link, bracket(index, in_order, len(evidence.words), room),
                                   list(placed.values()))
            if match:
                placed[index] = in_order[index] = found[index] = match
    if listen is not None:
        found.update(_listened(evidence, in_order, placed, _Listens(listen, evidence), room))
    return found


def _listened(evidence: Evidence, in_order: dict[int, Match], placed: dict[int, Match],
              listens: _Listens, room: int) -> dict[int, Match]:
    """Mentions found by second listens of the most promising stretches, within the budget."""
    options, found = evidence.options, {}
    stretches = [
        (promise, index, window)
        for index, link in enumerate(evidence.links) if index not in placed
        for promise, window in _stretches_to_relisten(evidence, link, bracket(index, in_order, len(evidence.words), room),
                                                      list(placed.values()))
    ]
    for _, index, window in sorted(stretches, key=lambda s: -s[0])[: options.relisten_budget]:
        if listens.listened >= options.relisten_share * evidence.words[-1].end:
            break
        if index not in placed and not overlaps(window, placed.values()):
            match = _heard_again(evidence.links[index], window, listens)
            if match:
                placed[index] = found[index] = match
    return found


def _doubted_match(evidence: Evidence, link: Link, within: range, taken: list[Match]) -> Match | None:
    """The bracket's window most alike to the link among those recognition doubted."""
    options = evidence.options
    doubted = [m for m in evidence.alike(link, options.bracketed_similarity, within, taken)
               if evidence.confidence(m) <= options.doubtful_probability]
    return max(doubted, key=lambda m: (m.score, m.first - m.last), default=None)


def _stretches_to_relisten(evidence: Evidence, link: Link, within: range,
                           taken: list[Match]) -> list[tuple[float, Match]]:
    """The bracket's most promising windows for a second listen, with their promise: alike in
    sound, and doubted."""
    options = evidence.options
    ranked = sorted(((m.score * (1 - evidence.confidence(m)), m)
                     for m in evidence.alike(link, options.relisten_similarity, within, taken)), key=lambda p: -p[0])
    chosen: list[tuple[float, Match]] = []
    for promise, window in ranked:
        if promise < options.relisten_promise:
            break
        if len(chosen) < options.relisten_tries and not overlaps(window, [m for _, m in chosen]):
            chosen.append((promise, window))
    return chosen


def control_names(links: list[Link], options: FootnoteOptions = FootnoteOptions()) -> list[str]:
    """The control names (options.control_names) less any that sounds like a phrase of the
    episode's links: the decoder writing those would be no sign of suggestion."""
    phrases = [Spoken.of(name_of(bare(p))) for link in links for p in link.phrases]
    return [name for name in options.control_names
            if all(similarity(Spoken.of(name), phrase, options) < options.relisten_similarity for phrase in phrases)]


@dataclass
class _Listens:
    """An episode's second listens, counted against the share of its audio they may take, and
    its control listens: whether the decoder, told to favour unrelated names, writes them over
    a window, where its writing a link's phrase would then be its own say-so."""

    listen: SecondListen
    evidence: Evidence
    names: list[str] = field(init=False)
    listened: float = 0.0  # seconds of audio the listens took, cached or not: the same on every run

    def __post_init__(self):
        self.names = control_names(self.evidence.links, self.evidence.options)

    def __call__(self, start: float, end: float, phrase: str) -> list[Word]:
        self.listened += end - start
        return self.listen(start, end, phrase)

    def suggestible(self, window: Match) -> bool:
        """Whether a listen favouring one of the control names most like the window writes it there."""
        heard, options = self.evidence.heard, self.evidence.options
        clip = _sentences_around(self.evidence, window)
        stretch = sum(heard[window.first : window.last + 1], NOTHING)
        alike = sorted(self.names, key=lambda name: -similarity(stretch, Spoken.of(name), options))
        return any(_written_at(self.evidence, self(*clip, name), name, window)
                   for name in alike[: options.control_listens])


def _heard_again(link: Link, window: Match, listens: _Listens) -> Match | None:
    """The mention in `window` if a second listen around it, favouring the link's phrase,
    writes the phrase where the first listen heard the window, a listen in another context
    does too, and the decoder does not write unrelated names there as readily."""
    evidence = listens.evidence
    said = _written_at(evidence, listens(*_sentences_around(evidence, window), link.phrases[0]), window.phrase, window)
    if said is None:
        return None
    start, end = evidence.span(window)
    before, after = evidence.options.run_on_s
    if _written_at(evidence, listens(max(0.0, start - before), end + after, link.phrases[0]),
                   window.phrase, window) is None:
        return None
    if listens.suggestible(window):
        return None
    said_from, said_to, score = said
    words = evidence.words
    covered = [k for k in range(window.first, window.last + 1)
               if _mostly_within(words[k], said_from, said_to)] or [window.first, window.last]
    return Match(window.phrase, covered[0], covered[-1], score, exact=False)


def _written_at(evidence: Evidence, again: list[Word], phrase: str,
                window: Match) -> tuple[float, float, float] | None:
    """(start, end, similarity) of the phrase where a listen `again` writes it over the window."""
    start, end = evidence.span(window)
    spoken = [Spoken.of(w.text) for w in again]
    for found in candidate_matches(spoken, name_of(phrase), evidence.options.bracketed_similarity,
                                   options=evidence.options):
        said_from, said_to = again[found.first].start, again[found.last].end
        if said_from < end and said_to > start:
            return said_from, said_to, found.score
    return None


def _sentences_around(evidence: Evidence, window: Match) -> tuple[float, float]:
    """A clip of about relisten_context_s either side of the window, from a sentence's start to
    a sentence's end where there is one near: cut mid-word, the decoder garbles or loops."""
    words, context, margin = evidence.words, evidence.options.relisten_context_s, evidence.options.clip_margin_s
    start, end = evidence.span(window)
    first = next((k for k in range(window.first) if words[k].start >= start - context), window.first)
    first = next((k for k in range(first, window.first) if k > 0 and _ends_sentence(words[k - 1])), first)
    last = max((k for k in range(window.last, len(words)) if words[k].end <= end + context), default=window.last)
    last = next((k for k in range(last, window.last - 1, -1) if _ends_sentence(words[k])), last)
    return max(0.0, words[first].start - margin), words[last].end + margin


def _ends_sentence(word: Word) -> bool:
    return word.text.endswith((".", "?", "!"))


def _mostly_within(word: Word, start: float, end: float) -> bool:
    return min(word.end, end) - max(word.start, start) > (word.end - word.start) / 2
