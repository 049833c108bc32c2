"""Placing: the markers, their numbers, the respelling, and what is reported for review.

First mentions come from the list's running order (order.py) and, for links still missing,
second chances (second_chance.py). When the list is not the running order (shuffled,
alphabetical), a link heard only out of the run is marked at its first match written exactly
so, capitals too: a sound-alike out of order is weak evidence. When it is, such a link is a
later mention of one whose first mention was missed, and is not marked: a false marker is
worse than a missing one. A link's later phrases reuse its number at their first match after
its marker.

Numbers follow the transcript; when the list is the running order they follow the list, so a
link not found keeps its number, unmarked, and a missed first link renumbers none of the others.
Marked mentions are respelled the canonical way, keeping their timings; other matches stay as
heard, since a name often sounds like an ordinary word ("l'imaginaire"). The people's names are
matched the same way and respelled where heard (recognition is not primed with them). Each
link not found and each second chance taken is reported: in the warnings and as doubts."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from pipeline.engines.corrections import NotMention, apply_corrections
from pipeline.engines.footnotes.audio_score import ScoreAudio
from pipeline.engines.footnotes.match import (
    NAME_ARTICLE,
    Match,
    Spoken,
    bare,
    confident_matches,
    name_of,
    overlaps,
)
from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.engines.footnotes.order import bracket, in_list_order, is_running_order, room_for_missing
from pipeline.engines.footnotes.second_chance import Evidence, Spot, second_chances
from pipeline.engines.spelling import find_phrase, respell, split_elision
from pipeline.model import (
    Correction,
    Dialogue,
    Doubt,
    Link,
    LinkFix,
    Reference,
    Word,
    clock,
    join_words,
)

# Articles as recognition writes them before a name (the elided "l'" split off, too).
HEARD_ARTICLES = {"the", "le", "la", "les", "l"}
# "de le" and "à le(s)" as French writes them: a name's own "Le" is then left out.
CONTRACTED_ARTICLES = {"du", "au", "des", "aux"}


@dataclass(frozen=True)
class Footnoted:
    """The footnoted dialogue, and for each link not placed (by title) its candidate spots:
    {"start", "end", "heard", "score"}, best first, for the review page's "place here"."""

    dialogue: Dialogue
    candidates: dict[str, list[dict]]


def place_footnotes(dialogue: Dialogue, links: list[Link], corrections: list[Correction] = (),
                    audio: ScoreAudio | None = None, placed_by_producer: list[LinkFix] = (),
                    people: list[str] = (), options: FootnoteOptions = FootnoteOptions()) -> Dialogue:
    """The dialogue with [n] markers after each link's first mention, respelled, with references
    (see `footnote`)."""
    return footnote(dialogue, links, corrections, audio, placed_by_producer, people, options).dialogue


def footnote(dialogue: Dialogue, links: list[Link], corrections: list[Correction] = (),
             audio: ScoreAudio | None = None, placed_by_producer: list[LinkFix] = (),
             people: list[str] = (), options: FootnoteOptions = FootnoteOptions()) -> Footnoted:
    """The dialogue with [n] markers after each link's first mention, respelled, with references,
    and candidate spots for the links not placed. `audio` scores phrases against the episode's
    audio for links missing from the words (see second_chance.py); `placed_by_producer` are
    first mentions the producer chose, which win over the stage's, and "not a mention" fixes;
    `people`'s names (whole, or the family name alone) are respelled where they sound so."""
    dialogue = apply_corrections(dialogue, list(corrections))
    words = [word for turn in dialogue.turns for word in turn.words]
    intro = dialogue.turns[0].words[-1].end if len(dialogue.turns) > 1 and dialogue.turns[0].words else 0.0
    evidence = Evidence(links, words, [Spoken.of(word.text) for word in words], options,
                        audio(words) if audio is not None and words else None, min(intro, options.intro_s),
                        [turn.speaker for turn in dialogue.turns for _ in turn.words])
    matches = _phrases_heard(evidence)
    mentions = _with_fixes(evidence, matches, list(placed_by_producer))
    numbers = {index: number for number, index in enumerate(mentions.order, start=1)}
    marked = _marked(links, mentions.first, numbers, mentions.heard)
    with_markers = _with_markers(dialogue, {m.last: number for m, number in marked.items()})
    spelled = respell(with_markers, _respellings(evidence, mentions, marked, people))
    return Footnoted(_reported(spelled, evidence, mentions, numbers), _candidates(evidence, mentions))


def _phrases_heard(evidence: Evidence) -> list[Match]:
    """The confident matches of every link phrase, less ordinary words a name is made of."""
    phrases = list(dict.fromkeys(bare(p) for link in evidence.links for p in link.phrases))
    return [m for m in confident_matches(evidence.heard, phrases, evidence.options) if not evidence.ordinary(m)]


def _with_fixes(evidence: Evidence, matches: list[Match], fixes: list[LinkFix]) -> _Mentions:
    """The first mentions with the producer's fixes: the stage's own (the baseline, with no fix)
    for every link no fix names, less any on words a producer placed another link on; those
    found with the fixes for the links they name. Numbers are the baseline's: a fix renumbers
    no other link, nor moves its marker."""
    links, words, slack = evidence.links, evidence.words, evidence.options.fix_slack_s
    baseline = _mentions(evidence, _Heard(matches), {})
    if not fixes:
        return baseline
    refused = _Refused([f for f in fixes if isinstance(f, NotMention)], links, words, slack)
    chosen = refused.kept_chosen(_chosen_mentions([f for f in fixes if not isinstance(f, NotMention)],
                                                  links, words, slack))
    fixed = refused.settled(_mentions(evidence, _Heard(refused.kept(matches)), chosen))
    named = {i for i, link in enumerate(links) for f in fixes if f.phrase in (p.strip() for p in link.phrases)}
    return _merged(baseline, fixed, named)


def _merged(baseline: _Mentions, fixed: _Mentions, named: set[int]) -> _Mentions:
    """The baseline's mentions for the links no fix names (less those on words the producer gave
    another link), the fixed run's for the links they name; the baseline's numbers."""
    chosen = fixed.chosen.values()
    first = {i: m for i, m in baseline.first.items() if i not in named and not overlaps(m, chosen)}
    first.update({i: m for i, m in fixed.first.items()
                  if i in named and (i in fixed.chosen or not overlaps(m, first.values()))})

    def pick(ours: dict, theirs: dict) -> dict:
        return {**{i: v for i, v in ours.items() if i not in named and i in first},
                **{i: v for i, v in theirs.items() if i in named}}

    return replace(fixed, first=first, guessed={i: m for i, m in pick(baseline.guessed, fixed.guessed).items()
                                                if i in first},
                   running_order=baseline.running_order, order=baseline.order,
                   contrast=pick(baseline.contrast, fixed.contrast),
                   spots={i: s for i, s in pick(baseline.spots, fixed.spots).items() if i not in first})


@dataclass(frozen=True)
class _Heard:
    """The confident matches of all the links' phrases."""

    matches: list[Match]

    def heard_as(self, phrase: str, after: int = -1) -> list[Match]:
        return [m for m in self.matches if m.phrase == bare(phrase) and m.first > after]


@dataclass(frozen=True)
class _Refused:
    """The producer's "not a mention" fixes: no marker for their link on their words (a match
    is refused when its last word, the one its marker follows, lies in the fix's stretch)."""

    fixes: list[NotMention]
    links: list[Link]
    words: list[Word]
    slack: float

    def refuses(self, match: Match) -> bool:
        return any(match.phrase in (bare(p) for link in self.links if fix.phrase in (q.strip() for q in link.phrases)
                                    for p in link.phrases)
                   and fix.covers(self.words[match.last].start, self.words[match.last].end, self.slack)
                   for fix in self.fixes)

    def kept(self, matches: list[Match]) -> list[Match]:
        return [m for m in matches if not self.refuses(m)] if self.fixes else matches

    def refuses_for(self, index: int, match: Match) -> bool:
        """Whether a mention of the link at `index` (however it was found) is refused."""
        phrases = [p.strip() for p in self.links[index].phrases]
        return any(fix.phrase in phrases and any(fix.covers(w.start, w.end, self.slack)
                                                 for w in self.words[match.first : match.last + 1])
                   for fix in self.fixes)

    def kept_chosen(self, chosen: dict[int, Match]) -> dict[int, Match]:
        """The producer's placements less those a later "not a mention" covers."""
        return {i: m for i, m in chosen.items() if not self.refuses_for(i, m)}

    def settled(self, mentions: "_Mentions") -> "_Mentions":
        """The mentions less any found on refused words however found (the link not found)."""
        refused = [i for i, m in mentions.first.items() if i not in mentions.chosen and self.refuses_for(i, m)]
        if not refused:
            return mentions
        return replace(mentions, first={i: m for i, m in mentions.first.items() if i not in refused},
                       guessed={i: m for i, m in mentions.guessed.items() if i not in refused})


@dataclass(frozen=True)
class _Mentions:
    first: dict[int, Match]  # link index -> its first mention
    chosen: dict[int, Match]  # those the producer chose
    guessed: dict[int, Match]  # those found by a second chance
    running_order: bool
    order: list[int]  # link indexes in the order they are numbered
    heard: _Heard  # the confident matches these mentions were chosen from
    contrast: dict[int, float]  # of those placed by sound
    spots: dict[int, list[Spot]]  # candidate spots of the links not placed


def _mentions(evidence: Evidence, heard: _Heard, chosen: dict[int, Match]) -> _Mentions:
    """The links' first mentions: in the list's order, the producer's, at their first mention
    when the list is not the running order, then second chances."""
    links, words = evidence.links, evidence.words
    per_link = [heard.heard_as(link.phrases[0]) for link in links]
    room = room_for_missing(len(words), len(links), evidence.options)
    in_order = in_list_order(per_link, room)
    running_order = is_running_order(per_link, evidence.options, links)
    in_order = {i: m for i, m in in_order.items() if i not in chosen and not overlaps(m, chosen.values())}
    if running_order:
        in_order = _in_order_past_intro(evidence, heard, in_order)
        in_order.update(chosen)
        first = dict(in_order)
    else:
        first = _first_heard(evidence, heard, set(in_order), chosen)
    chances = second_chances(evidence, in_order, first, room, running_order)
    first.update(chances.found)
    return _Mentions(first, chosen, chances.found, running_order, numbering(first, len(links), running_order),
                     heard, chances.contrast, chances.spots)


def _in_order_past_intro(evidence: Evidence, heard: _Heard, in_order: dict[int, Match]) -> dict[int, Match]:
    """The list's run with each mention the intro drops in passing moved to where another
    speaker takes the name up (see `_past_intro`), when that keeps the run in order (before the
    next link's mention): a missed link between them no longer lets the intro's passing mention
    stand in for the footnoted one."""
    moved = dict(in_order)
    for index, match in sorted(in_order.items()):
        limit = min((m.first for i, m in moved.items() if i > index), default=len(evidence.words))
        others = [m for i, m in moved.items() if i != index]
        candidates = [m for m in heard.heard_as(evidence.links[index].phrases[0], after=match.first - 1)
                      if m.last < limit and not overlaps(m, others)]
        if candidates:
            moved[index] = _past_intro(evidence, candidates)
    return moved


def _first_heard(evidence: Evidence, heard: _Heard, in_run: set[int], chosen: dict[int, Match]) -> dict[int, Match]:
    """With a list not in the running order: each link at its first trusted match (any match of
    a link heard in the list's longest run, else one written exactly as the phrase, capitals
    too: a sound-alike out of order is weak evidence), past the intro when the intro names it
    in passing (see `_past_intro`) and another speaker says the name itself later: a word that
    sounds like it ("l'imaginaire" for "Imaginaires") is no sign the guest takes it up."""
    first, words = dict(chosen), evidence.words
    for index, link in enumerate(evidence.links):
        free = [m for m in heard.heard_as(link.phrases[0]) if not overlaps(m, first.values())]
        written = [m for m in free if m.exact and _written_as(words, m)]
        trusted = free if index in in_run else written
        if index not in first and trusted:
            first[index] = _past_intro(evidence, [trusted[0], *(m for m in written if m.first > trusted[0].first)])
    return first


def _past_intro(evidence: Evidence, matches: list[Match]) -> Match:
    """The first match, unless it is in the intro (the first turn, within intro_s) and someone
    else than the intro's speaker takes the name up later: the intro then names it in passing
    ("le créateur de ChatGPT"), and the footnote goes where the guest talks about it. A name the
    intro introduces (the show, the guest) and only its speaker recalls (at the end) stays."""
    words = evidence.words
    if words[matches[0].last].end > evidence.intro_end:
        return matches[0]
    speakers = evidence.speakers
    taken_up = [m for m in matches if words[m.first].start > evidence.intro_end
                and speakers[m.first] != speakers[matches[0].first]]
    return taken_up[0] if taken_up else matches[0]


def _marked(links: list[Link], first: dict[int, Match], numbers: dict[int, int], heard: _Heard) -> dict[Match, int]:
    """Each marked mention and its number: first mentions, and the first match of each later
    phrase after its link's marker."""
    marked: dict[Match, int] = {}
    for index, mention in first.items():
        marked[mention] = numbers[index]
        for phrase in links[index].phrases[1:]:
            later = [m for m in heard.heard_as(phrase, after=mention.last) if not overlaps(m, first.values())]
            if later:
                marked.setdefault(later[0], numbers[index])
    return marked


def _respellings(evidence: Evidence, mentions: _Mentions, marked: dict[Match, int],
                 people: list[str]) -> dict[tuple[int, int], str]:
    """The spans to respell and their text: the people's names where heard, and the marked
    mentions but those the producer chose (already as they want them)."""
    written = {bare(p): p.strip() for link in evidence.links for p in link.phrases}
    guessed = set(mentions.guessed.values())
    names = [m for m in confident_matches(evidence.heard, _name_forms(people, evidence.options), evidence.options)
             if not overlaps(m, marked)]
    chosen = mentions.chosen.values()
    return {**{(m.first, m.last): m.phrase for m in names},
            **dict(_respelling(m, written[m.phrase], evidence.words, m in guessed) for m in marked if m not in chosen)}


def _reported(spelled: Dialogue, evidence: Evidence, mentions: _Mentions, numbers: dict[int, int]) -> Dialogue:
    """The dialogue with its references, and the warnings and doubts for the producer."""
    links, words = evidence.links, evidence.words
    references = [Reference(numbers[i], links[i].title, links[i].url) for i in mentions.order]
    unplaced = [index for index in range(len(links)) if index not in mentions.first]
    references += [Reference(None, links[i].title, links[i].url) for i in unplaced if i not in numbers]
    warnings = [_not_found_warning(links[i], numbers.get(i)) for i in unplaced]
    checks = [
        f"link {links[index].phrases[0]!r} placed at {clock(words[m.first].start)} where recognition"
        f" heard {join_words(words[m.first : m.last + 1])!r}{_by_sound(mentions, index)}: check it"
        for index, m in mentions.guessed.items()
    ]
    doubts = [
        Doubt("second-chance", words[m.first].start, words[m.last].end, join_words(words[m.first : m.last + 1]),
              links[index].title, f"placed where recognition heard something else{_by_sound(mentions, index)}:"
              f" is {links[index].phrases[0]!r} said here?")
        for index, m in mentions.guessed.items()
    ] + [
        Doubt("link-not-found", *_expected_between(i, mentions.first, words, mentions.running_order), "",
              links[i].title, f"{links[i].phrases[0]!r} was not heard: select where it is said")
        for i in unplaced
    ]
    return replace(spelled, references=references, warnings=[*spelled.warnings, *checks, *warnings],
                   doubts=sorted([*spelled.doubts, *doubts], key=lambda d: d.start))


def _by_sound(mentions: _Mentions, index: int) -> str:
    contrast = mentions.contrast.get(index)
    return "" if contrast is None else f" (by sound: the audio prefers it to unrelated names by {contrast:.2f})"


def _candidates(evidence: Evidence, mentions: _Mentions) -> dict[str, list[dict]]:
    """Each link not placed (by title): its candidate spots, as the review page offers them. A
    stretch running past the audio's scoring window has no score (None: JSON has no infinity,
    and the page would not load)."""
    words = evidence.words
    return {evidence.links[index].title: [
        {"start": words[s.first].start, "end": words[s.last].end, "heard": join_words(words[s.first : s.last + 1]),
         "score": round(s.score, 2) if math.isfinite(s.score) else None} for s in spots]
        for index, spots in mentions.spots.items() if index not in mentions.first}


def _not_found_warning(link: Link, number: int | None) -> str:
    listed = f"as [{number}]" if number is not None else "without a number"
    return (f"link {link.phrases[0]!r} not found where expected, listed {listed} and marked nowhere:"
            f" if it is said, add a correction for how it was heard to corrections.toml ({link.title})")


def _name_forms(people: list[str], options: FootnoteOptions) -> list[str]:
    """Each person's name as said: whole, and the family name alone when it is long enough to
    tell apart from ordinary words."""
    forms = []
    for name in people:
        family = name.split()[-1]
        forms += [name, *([family] if family != name and len(family) >= options.family_name_letters else [])]
    return list(dict.fromkeys(forms))


def _chosen_mentions(fixes: list[LinkFix], links: list[Link], words: list[Word], slack: float) -> dict[int, Match]:
    """The producer's first mentions (link index -> match): the fix's words, in its time span."""
    chosen = {}
    for fix in fixes:
        index = next((i for i, link in enumerate(links) if fix.phrase in (p.strip() for p in link.phrases)), None)
        spans = [(first, last) for first, last in find_phrase(words, fix.heard)
                 if words[first].start >= fix.start - slack and words[last].end <= fix.end + slack]
        if index is not None and spans:
            chosen[index] = Match(bare(links[index].phrases[0]), *spans[0], 1.0, exact=False)
    return chosen


def numbering(mentions: dict[int, Match], count: int, running_order: bool) -> list[int]:
    """Link indexes in the order they are numbered. When the list is the episode's running
    order, every link keeps its place in it; otherwise the placed links are numbered in the
    order they are first said, and the others after them, in the list's order. Either way every
    link has a number, so a link not found keeps its number, unmarked, and placing it later (a
    producer's fix) renumbers none of the others."""
    if running_order:
        return list(range(count))
    placed = sorted(mentions, key=lambda index: mentions[index].first)
    return [*placed, *(index for index in range(count) if index not in mentions)]


def _expected_between(index: int, mentions: dict[int, Match], words: list[Word],
                      running_order: bool) -> tuple[float, float]:
    """Where a link not found should be said: between the placed links listed just before and
    after it, when the list is the running order; anywhere otherwise."""
    if not words:
        return 0.0, 0.0
    span = bracket(index, mentions, len(words)) if running_order else range(len(words))
    first = min(span.start, len(words) - 1)
    return words[first].start, words[max(span.stop - 1, first)].end


def _written_as(words: list[Word], match: Match) -> bool:
    """Whether recognition wrote the phrase itself, capitals included: a name, not an ordinary
    phrase spelled the same ("tout le monde" for "Le Monde")."""
    def letters(text: str) -> list[str]:
        return re.findall(r"\w+", split_elision(text.strip("'’ "))[1])

    return letters(join_words(words[match.first : match.last + 1])) == letters(match.phrase)


def _respelling(match: Match, written: str, words: list[Word], guessed: bool) -> tuple[tuple[int, int], str]:
    """The span to respell and its text. A name's own article ("The Conversation") takes the
    place of an article heard just before the name; other articles stay as heard ("l'enquête"
    for "une enquête"), except where the heard words were `guessed` past (a second chance), as
    "de React" for "de l'IA Act": there the phrase is written whole."""
    def is_article(word: Word) -> bool:
        return word.text.lower().strip("'’") in HEARD_ARTICLES

    first = match.first
    article_before = first > 0 and is_article(words[first - 1])
    if first > 0 and words[first - 1].text.lower() in CONTRACTED_ARTICLES and re.match(r"Les? ", written):
        return (first, match.last), name_of(written)  # "du Monde", not "du Le Monde"
    if NAME_ARTICLE.match(written):
        if article_before and not is_article(words[first]):
            first -= 1
        return (first, match.last), written
    if guessed and split_elision(written)[0] and not article_before:
        return (first, match.last), written  # respell() keeps an elision heard in the span itself
    return (first, match.last), match.phrase


def _with_markers(dialogue: Dialogue, markers: dict[int, int]) -> Dialogue:
    """A copy whose words carry exactly these footnotes (word index over the dialogue -> n)."""
    turns, index = [], 0
    for turn in dialogue.turns:
        words = []
        for word in turn.words:
            words.append(replace(word, footnote=markers.get(index)))
            index += 1
        turns.append(replace(turn, words=words))
    return replace(dialogue, turns=turns)
