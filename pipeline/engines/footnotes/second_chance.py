"""Second chances for a link the first pass missed. By the list's order it is said between its
placed neighbours (its bracket; the whole episode when the list is not the running order), and
when others listed between them are missing too, in its own share of that stretch;
there two weaker kinds of evidence are taken, each reported for the producer to check:
- in a running order only, a window less alike that recognition itself doubted: a misheard
  name is both near in sound and heard unsure ("réditer" for "Reddit"); an ordinary word heard
  with confidence ("commencé à" for "Common Crawl") is not (the first pass had every link as a
  hotword alike, so no name was favoured there), unless the bracket is tight: a few seconds
  between two placed neighbours hold few windows for chance to make alike;
- the audio itself, when there is audio (audio_score.py): the bracket's stretches most like the
  phrase are scored with the phrase in place of the words heard, and ranked by that margin. The
  margin alone cannot decide (where recognition is unsure, any name gains), so at the best spots
  the phrase's margin per token is weighed against that of unrelated names (control names, the
  most like the stretch): the link is placed where the audio prefers it to them by
  contrast_threshold or more. The best spots by margin are kept for a link still not placed,
  as candidate spots for the producer.
Doubted sound-alikes get no contrast: their evidence owes nothing to a favoured name."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

from pipeline.engines.footnotes.audio_score import PhraseScores
from pipeline.engines.footnotes.match import (
    NAME_ARTICLE,
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
from pipeline.engines.footnotes.order import bracket, share_of_bracket
from pipeline.model import Link, Word


@dataclass
class Evidence:
    """What a second chance weighs: the episode's links and words, as heard and compared."""

    links: list[Link]
    words: list[Word]
    heard: list[Spoken]
    options: FootnoteOptions
    scores: PhraseScores | None = None  # the audio, when there is audio
    intro_end: float = 0.0  # seconds: the intro, the first turn (none when the episode has one turn)
    speakers: list[str] = field(default_factory=list)  # who says each word

    @functools.cached_property
    def controls(self) -> list[str]:
        return control_names(self.links, self.options)

    def confidence(self, match: Match) -> float:
        span = self.words[match.first : match.last + 1]
        return sum(word.probability for word in span) / len(span)

    def alike(self, link: Link, required: float, within: range, taken: list[Match]) -> list[Match]:
        """Windows `within` the bracket, free of other mentions, this alike to the link's name."""
        phrase = bare(link.phrases[0])
        return [m for m in candidate_matches(self.heard, name_of(phrase), required, within, phrase, self.options)
                if not overlaps(m, taken) and not self.ordinary(m)]

    @functools.cached_property
    def _article_names(self) -> dict[str, set[str]]:
        """For names with their own article: phrase as matched -> its words as plain letters,
        with and without the article ("monde", "lemonde")."""
        return {bare(p): {Spoken.of(name_of(p.strip())).plain, Spoken.of(p.strip()).plain}
                for link in self.links for p in link.phrases if NAME_ARTICLE.match(p.strip())}

    def ordinary(self, match: Match) -> bool:
        """Whether the match is the ordinary words a name with its own article is made of, as
        recognition wrote them, all in lower case: "tout le monde" for "Le Monde", "la
        conversation" for "The Conversation". A misheard name is no such evidence either way."""
        as_words = self._article_names.get(match.phrase)
        if as_words is None:
            return False
        written = "".join(word.text for word in self.words[match.first : match.last + 1])
        return written == written.lower() and Spoken.of(written).plain in as_words

    def unknown_name(self, window: Match) -> bool:
        """Whether the window starts with a capital inside a speaker's sentence: recognition
        writing a name it does not know ("qui s'appelle Tomu Croet" for Common Crawl)."""
        first = window.first
        if first == 0 or not self.words[first].text[:1].isupper():
            return False
        before = self.words[first - 1]
        same_speaker = not self.speakers or self.speakers[first] == self.speakers[first - 1]
        # After a colon a capital opens a quoted sentence, not a name.
        return same_speaker and not (before.ends_sentence or before.text.rstrip().endswith(":"))

    def span(self, window: Match) -> tuple[float, float]:
        return self.words[window.first].start, self.words[window.last].end

    def seconds(self, within: range) -> float:
        """How long the words `within` last."""
        return self.words[min(within.stop, len(self.words)) - 1].end - self.words[within.start].start




@dataclass(frozen=True)
class Spot:
    """A stretch where a link may be said: heard words `first`..`last`, scored by the audio
    (the phrase's margin there, total and per token) or, without audio, by text similarity;
    `contrast` where weighed against the control names."""

    first: int
    last: int
    score: float
    per_token: float
    contrast: float | None = None


@dataclass
class Chances:
    """What second chances found: mentions (link index -> match), the contrast of those placed by
    sound, and candidate spots for each link still missing (best first)."""

    found: dict[int, Match] = field(default_factory=dict)
    contrast: dict[int, float] = field(default_factory=dict)
    spots: dict[int, list[Spot]] = field(default_factory=dict)


def second_chances(evidence: Evidence, in_order: dict[int, Match], first_mentions: dict[int, Match],
                   room: int, running_order: bool) -> Chances:
    """Mentions for links the first pass missed, each in its bracket (leaving `room` for others
    not found): doubted sound-alikes, then by sound; and candidate spots for those still missing."""
    # Brackets come from mentions in the list's order: one out of order bounds nothing. When the
    # list is not the running order, its longest run in order is chance and bounds nothing either:
    # no doubted sound-alike is taken there (weak evidence, unbounded: "mon" for "Le Monde"), and
    # scoring by sound looks through the whole episode.
    in_order, placed, chances = dict(in_order), dict(first_mentions), Chances()
    def within(index: int) -> range:
        if not running_order:
            return range(len(evidence.words))
        return share_of_bracket(index, in_order, len(evidence.words), len(evidence.links), room,
                                evidence.options.bracket_share_slack)

    def tight(index: int) -> bool:  # the whole bracket, not a share: many links missing make shares short
        whole = bracket(index, in_order, len(evidence.words), room)
        return len(whole) > 0 and evidence.seconds(whole) <= evidence.options.tight_bracket_s

    for index, link in enumerate(evidence.links):
        if running_order and index not in placed:
            match = _bracketed_match(evidence, link, within(index), list(placed.values()), tight(index))
            if match and _not_ruled_out_by_sound(evidence, link, match):
                placed[index] = in_order[index] = chances.found[index] = match
    for index, link in enumerate(evidence.links):
        if index in placed:
            continue
        spots = _spots(evidence, link, within(index), list(placed.values()))
        heard = _heard_by_sound(evidence, link, spots)
        if heard is not None:
            placed[index] = in_order[index] = chances.found[index] = Match(
                bare(link.phrases[0]), heard.first, heard.last, heard.contrast, exact=False)
            chances.contrast[index] = heard.contrast
        else:
            chances.spots[index] = spots
    for index, spots in chances.spots.items():
        taken = list(placed.values())
        chances.spots[index] = _candidate_spots(evidence, evidence.links[index],
                                                [s for s in spots if not overlaps(s, taken)], taken)
    return chances


def _bracketed_match(evidence: Evidence, link: Link, within: range, taken: list[Match],
                     tight: bool) -> Match | None:
    """The bracket's window most alike to the link among those recognition doubted or, in a
    running order's tight bracket, among all: a few seconds hold few windows for chance to make
    alike."""
    options = evidence.options
    kept = [m for m in evidence.alike(link, min(options.bracketed_similarity, options.tight_similarity), within, taken)
            if (tight and m.score >= options.tight_similarity)
            or (m.score >= options.bracketed_similarity and evidence.confidence(m) <= options.doubtful_probability)]
    return max(kept, key=lambda m: (m.score, m.first - m.last), default=None)


def _spots(evidence: Evidence, link: Link, within: range, taken: list[Match]) -> list[Spot]:
    """The bracket's stretches most alike to the link (sound_candidates of them) and a few more
    that read as a name recognition did not know (name_candidates), none overlapping another,
    scored by the audio when there is audio; best first."""
    options = evidence.options
    alike = _most_alike(evidence, link, within, taken)
    stretches = _apart(alike, [], options.sound_candidates)
    stretches += _apart([m for m in alike if evidence.unknown_name(m)], stretches, options.name_candidates)
    return sorted((_scored(evidence, link, m) for m in stretches), key=lambda s: -s.score)


def _most_alike(evidence: Evidence, link: Link, within: range, taken: list[Match]) -> list[Match]:
    """The stretches `within` at least sound_similarity alike to the link, most alike first (on a
    tie, the tighter)."""
    return sorted(evidence.alike(link, evidence.options.sound_similarity, within, taken),
                  key=lambda m: (-m.score, m.last - m.first))


def _scored(evidence: Evidence, link: Link, stretch: Match) -> Spot:
    """The stretch as a spot, scored by the link's margin there (by its likeness without audio)."""
    if evidence.scores is None:
        return Spot(stretch.first, stretch.last, stretch.score, stretch.score)
    margin = evidence.scores.margins(stretch.first, stretch.last, [link.phrases[0]])[0]
    return Spot(stretch.first, stretch.last, margin.total, margin.per_token)


def _apart(windows: list[Match], chosen: list[Match], count: int) -> list[Match]:
    """Up to `count` of the windows, in their order, overlapping neither each other nor `chosen`."""
    kept: list[Match] = []
    for window in windows:
        if len(kept) < count and not overlaps(window, [*chosen, *kept]):
            kept.append(window)
    return kept


def _heard_by_sound(evidence: Evidence, link: Link, spots: list[Spot]) -> Spot | None:
    """The best spot by contrast among the contrast_spots best by margin, if its contrast
    reaches the threshold: the audio prefers the phrase there to unrelated names."""
    options, scores = evidence.options, evidence.scores
    if scores is None:
        return None
    weighed = []
    for spot in spots[: options.contrast_spots]:
        contrast = _contrast(scores, spot, link.phrases[0], _controls_for(evidence, spot), options.contrast_threshold,
                             options.contrast_batch)
        if contrast is not None:
            weighed.append(Spot(spot.first, spot.last, spot.score, spot.per_token, contrast))
    best = max(weighed, key=lambda s: s.contrast, default=None)
    return best if best is not None and best.contrast >= options.contrast_threshold else None


def _not_ruled_out_by_sound(evidence: Evidence, link: Link, match: Match) -> bool:
    """Whether a doubted sound-alike stands when the audio is heard: the phrase must score at
    least sound_alike_contrast against the control names most like the stretch (a name never
    said matched "la ration" for "Libération", which the audio prefers no more than unrelated names)."""
    if evidence.scores is None:
        return True
    [said] = evidence.scores.margins(match.first, match.last, [link.phrases[0]])
    if not math.isfinite(said.per_token):
        return True  # where the audio cannot score the stretch, the words alone decide
    spot = Spot(match.first, match.last, match.score, match.score)
    threshold = evidence.options.sound_alike_contrast
    return _contrast(evidence.scores, spot, link.phrases[0], _controls_for(evidence, spot), threshold,
                     evidence.options.contrast_batch) is not None


def _controls_for(evidence: Evidence, spot: Spot) -> list[str]:
    """The contrast_controls control names most like the spot's stretch."""
    stretch = sum(evidence.heard[spot.first : spot.last + 1], NOTHING)
    names = sorted(evidence.controls, key=lambda name: -similarity(stretch, Spoken.of(name), evidence.options))
    return names[: evidence.options.contrast_controls]


def _contrast(scores: PhraseScores, spot: Spot, phrase: str, controls: list[str], threshold: float,
              batch: int) -> float | None:
    """The phrase's margin per token at the spot less the best control name's, to 3 decimals;
    None where the audio cannot score the spot, or as soon as the controls asked so far rule
    the phrase out. Each control costs a decoder pass, and the best of them only grows as more
    are asked, so they are asked contrast_batch at a time, most like the stretch first."""
    [said] = scores.margins(spot.first, spot.last, [phrase])
    if not math.isfinite(said.per_token):
        return None
    best = -math.inf if controls else 0.0
    for start in range(0, len(controls), batch):
        asked = scores.margins(spot.first, spot.last, controls[start : start + batch])
        best = max(best, *(margin.per_token for margin in asked))
        if round(said.per_token - best, 3) < threshold:
            return None
    return round(said.per_token - best, 3)


def _candidate_spots(evidence: Evidence, link: Link, spots: list[Spot], taken: list[Match]) -> list[Spot]:
    """The candidate_spots for the producer, none within spot_separation_s of another: the
    bracket's best by score, but for the last spots_anywhere, the episode's stretches most alike
    to the link in text wherever they are. A bracket is only as right as the neighbours that
    bound it: a later mention of the link before (its first one unheard) shuts the true mention
    out, and the producer would be offered nothing near it."""
    options, words = evidence.options, evidence.words
    chosen: list[Spot] = []

    def offer(candidates, count: int) -> None:
        for spot in candidates:
            if len(chosen) < count and all(abs(words[spot.first].start - words[other.first].start)
                                           >= options.spot_separation_s for other in chosen):
                chosen.append(_scored(evidence, link, spot) if isinstance(spot, Match) else spot)

    by_score = sorted(spots, key=lambda s: -s.score)
    offer(by_score, max(0, options.candidate_spots - options.spots_anywhere))
    offer(_most_alike(evidence, link, range(len(words)), taken), options.candidate_spots)
    offer(by_score, options.candidate_spots)
    return chosen


def control_names(links: list[Link], options: FootnoteOptions = FootnoteOptions()) -> list[str]:
    """The control names (options.control_names) less any that sounds like a phrase of the
    episode's links: the decoder writing those would be no sign of suggestion."""
    phrases = [Spoken.of(name_of(bare(p))) for link in links for p in link.phrases]
    return [name for name in options.control_names
            if all(similarity(Spoken.of(name), phrase, options) < options.control_similarity for phrase in phrases)]
