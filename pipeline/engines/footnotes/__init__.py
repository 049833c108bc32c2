"""Footnotes: number the episode's links where they are first said, and spell them right.

Recognition mangles names ("Amazon Mechanical Turk" heard as "un mâton méchanicale"), so each
link phrase is looked for in every window of heard words of about its spoken length, compared
both as plain text and as a French phonetic key (see spelling.py) with rapidfuzz. A window is a
match only when its similarity reaches `required_similarity`, stricter for short phrases, which
chance resembles more easily; weaker evidence places no marker.

The producer lists links in the order they come up, and a name said in passing before its turn
in that list is not its footnoted mention. So first mentions are chosen as the longest run of
links heard in the list's order, each as early as it can be, and each leaving room for the links
not found listed before it (ROOM_WORDS: an intro names things in passing). When that run holds
most links heard at all (RUNNING_ORDER_SHARE), or more than the same links would in random
orders (ORDER_CHANCE), the list is the running order, and a link heard only out of
it is a later mention of a link whose first one was missed: it is not marked (a false marker
is worse than a missing one). With a list in another order (shuffled, alphabetical), a link
heard only out of the run is marked at its first match written exactly so, capitals too (a
sound-alike out of order is weak evidence). A link's later phrases reuse its number at their
first match after its marker.
The people's names are matched the same way, and respelled where heard (recognition is not
primed with them: see corrections.vocabulary). Marked mentions are respelled the canonical way,
keeping their timings; other matches stay as
heard, since a name often sounds like an ordinary word ("l'imaginaire").

A link still missing is, by the list's order, said between its placed neighbours (its bracket).
There two weaker kinds of evidence are taken, each reported for the producer to check:
- a window less alike (`BRACKETED_SIMILARITY`) that recognition itself doubted: a misheard name
  is both near in sound and heard with low confidence ("réditer" for "Reddit"), an ordinary word
  heard with confidence ("commencé à" for "Common Crawl") is not (the first pass had every
  link as a hotword alike, so no name was favoured there);
- a second listen, when the stage has the audio: the stretches of the bracket most like the
  phrase are decoded again with the phrase as the only hotword, from the sentence's start, and
  a listen that now writes the phrase where the first heard the window places it, if two checks
  agree. A listen in another context (from just before the stretch, running on after it) must
  write it there too: a name the sentence's opening led the decoder to write is not written
  again ("Libération" for "subordination", "Télérama" for "travailleurs" on float32 kernels),
  a name said is. And the decoder must not write any name it is told there: the stretch is
  decoded again favouring unrelated names (control listens), and if one of those is written
  there too, the phrase was its say-so, not the audio's. Where recognition is unsure, the decoder writes a favoured name readily ("Mastodon"
  for "Sam Altman" on one CPU's int8 kernels); its word probabilities do not tell (a true "l'IA
  Act" at 0.2-0.4, a false "Mastodon" at 0.77). Doubted sound-alikes get no control listen:
  measured on the excerpt, a control there ("Vinted", written over "réditer") only cost the
  true "Reddit", and their evidence owes nothing to a favoured name.
Numbers follow the transcript. When the list is the running order, numbers follow it: a link
not found keeps its number, unmarked, and the others keep theirs (a missed first link must not
renumber all fifteen); otherwise a link not found is listed unnumbered. Either way it is reported, as is each second chance taken: in the
warnings and as doubts (kind, time, words) for build/<slug>/review.json.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz.fuzz import partial_ratio, ratio

from pipeline.engines.corrections import apply_corrections
from pipeline.engines.spelling import (
    find_phrase,
    phonetic_key,
    plain_tokens,
    respell,
    split_elision,
    spoken_tokens,
)
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

LENGTH_SLACK = (0.6, 1.5)  # a window's spoken length, relative to the phrase's, to be compared
# Below this many sounds a phonetic key collides with ordinary words ("Reddit" and "tu redis"
# both sound "redi"), so short names must match by their letters.
SHORTEST_PHONETIC_MATCH = 6
LEADING_WORD_SIMILARITY = 0.55
# The list is taken as the running order when its longest run of links heard in order holds
# RUNNING_ORDER_SHARE of the links heard at all (0.78-1.0 on the tuning episodes' lists, 0.64-0.83
# at the 95th percentile with the same lists shuffled), or when the same links listed in random
# orders seldom make as long a run (ORDER_CHANCE, a permutation test on exact spellings and on
# all matches): 5 links of 7 in order on a noisy held-out episode, 0.71, is a list in order for
# the test (0.025), not for the share.
RUNNING_ORDER_SHARE = 0.75
ORDER_CHANCE = 0.05
ORDER_SHUFFLES = 200
# A link not found between two heard in the list's order was said between them: a mention of
# the next one too close to the one before leaves it no room, and is a mention in passing
# ("Time Magazine, publiée un peu plus tôt, qui révèle qu'OpenAI, le créateur de ChatGPT" in an
# intro, 12 words; the footnoted "ChatGPT" follows "Amazon Mechanical Turk", unheard, later on).
# Too close: under a quarter of the episode's mean spacing between links, and 20 words at most.
ROOM_SHARE = 0.25
ROOM_WORDS = 20
# A leading article is not part of the name: "une enquête" is often heard as "l'enquête".
ARTICLE = re.compile(r"^(?:(?:les?|la|une?|des|du|de)\s+|[ld]['’])(?=\w)", re.IGNORECASE)
# ... but a capitalised one is: "The Conversation" is written so, though often heard "le ...".
NAME_ARTICLE = re.compile(r"^(?:The|Le|La|Les)\s+(?=\w)")
HEARD_ARTICLES = {"the", "le", "la", "les", "l"}

# Second chances for a link missing from its bracket (see the module's docstring).
BRACKETED_SIMILARITY = 0.72
DOUBTFUL_PROBABILITY = 0.5  # mean word probability at or under which recognition was unsure
RELISTEN_SIMILARITY = 0.5  # stretches alike enough to be worth a second listen ...
RELISTEN_TRIES = 3  # ... the most promising few per link: each costs a decoding pass
RELISTEN_PROMISE = 0.3  # ... promise: similarity x doubt; the excerpt's misheard names, 0.42-0.57
RELISTEN_BUDGET = 8  # ... the most promising of all, so many per episode (~5 s each on 2 cores)
# ... and no more audio in all than this share of the episode's (listens in context and control
# listens included): at the decoder's RTF of 0.2-0.45 on 2 cores (a music bed the slowest),
# under 0.05 of the episode. At 0.2, v102 took 0.09.
RELISTEN_SHARE = 0.1
RELISTEN_CONTEXT_S = 10.0  # decoded around the stretch: alone, a name is rarely spelled right
# The second listen's check: a clip from just before the stretch, running on after it.
RUN_ON_S = (4.0, 15.0)
# Names for control listens, of varied sounds: those most like the stretch are favoured in turn.
CONTROL_NAMES = ("Mastodon", "Palantir", "Spotify", "Netflix", "Instagram", "Mediapart", "Duolingo",
                 "Doctolib", "Blablacar", "Deezer", "Vinted", "Kickstarter", "Salesforce", "Nintendo")
CONTROL_LISTENS = 2

# A second listen: (start, end in seconds, the phrase to favour) -> the words heard there.
Relisten = Callable[[float, float, str], list[Word]]


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


def candidate_matches(heard: list[_Spoken], phrase: str, required: float | None = None,
                      within: range | None = None, match_as: str | None = None) -> list[Match]:
    """Every window of whole heard words `within` a range of indexes (default: all), of about
    the phrase's spoken length, that matches; each Match names `match_as` (default: phrase)."""
    target = _Spoken.of(phrase)
    if not target.plain:
        return []  # nothing to say aloud, e.g. a phrase of punctuation only
    length = len(target.key)
    required = required_similarity(length) if required is None else required
    within = within if within is not None else range(len(heard))
    # A long phrase can pass on its common tail alone ("les faits de l'intelligence artificielle"
    # for "règlement sur l'intelligence artificielle"): the word that names it must be heard too.
    lead = leading_word(phrase)
    matches = []
    for first in within:
        if not heard[first].plain:
            continue
        window = _Spoken("", "")
        for last in range(first, within.stop):
            window += heard[last]
            if len(window.key) > LENGTH_SLACK[1] * length + 1:
                break
            if len(window.key) >= LENGTH_SLACK[0] * length and heard[last].plain:
                score = similarity(window, target)
                if score >= required and (lead is None or _contains(window, lead)):
                    matches.append(Match(match_as or phrase, first, last, score, window.plain == target.plain))
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


def in_list_order(options: list[list[Match]], room: int = 0) -> dict[int, Match]:
    """One match per link (index -> match) for the most links heard in the list's order, each
    leaving links skipped between two of them `room` words; among such runs, the one with most
    exact spellings, then the earliest. By dynamic programming: a longest increasing chain over
    the links' matches."""
    def follows(chain: list[tuple[int, Match]], index: int, match: Match) -> bool:
        last_index, last = chain[-1]
        return match.first - last.last > (room if index > last_index + 1 else 0)

    # For each match: ((links in the chain, exact ones, minus the sum of positions), chain ending there)
    chains: list[tuple[tuple[int, int, int], list[tuple[int, Match]]]] = []
    for index, matches in enumerate(options):
        ending_here = []
        for match in matches:
            before = [c for c in chains if follows(c[1], index, match)]
            (count, exact, early), chain = max(before, key=lambda c: c[0], default=((0, 0, 0), []))
            ending_here.append(((count + 1, exact + match.exact, early - match.first), [*chain, (index, match)]))
        chains += ending_here
    return dict(max(chains, key=lambda c: c[0])[1]) if chains else {}


def is_running_order(options: list[list[Match]]) -> bool:
    """Whether most links heard were heard in the list's order, or more than chance would give
    (see RUNNING_ORDER_SHARE)."""
    def chance(options: list[list[Match]]) -> float:
        longest = len(in_list_order(options))
        shuffler = random.Random(0)  # the same answer on every run
        as_long = 0
        for _ in range(ORDER_SHUFFLES):
            shuffled = options[:]
            shuffler.shuffle(shuffled)
            as_long += len(in_list_order(shuffled)) >= longest
        return (as_long + 1) / (ORDER_SHUFFLES + 1)

    heard = sum(map(bool, options))
    if heard < 2:
        return False
    exact = [[m for m in matches if m.exact] for matches in options]
    share = len(in_list_order(options)) / heard
    return share >= RUNNING_ORDER_SHARE or min(chance(options), chance(exact)) <= ORDER_CHANCE


def _bare(phrase: str) -> str:
    return ARTICLE.sub("", phrase.strip())


def _name(phrase: str) -> str:
    """A bare phrase less its own article: "The Conversation" is often heard "le Commensation"."""
    return NAME_ARTICLE.sub("", phrase)


def place_footnotes(dialogue: Dialogue, links: list[Link], corrections: list[Correction] = (),
                    relisten: Relisten | None = None, placed_by_producer: list[LinkFix] = (),
                    people: list[str] = ()) -> Dialogue:
    """The dialogue with [n] markers after each link's first mention, respelled, with references.
    `relisten` gives links missing from the words a second listen (see the module docstring);
    `placed_by_producer` are first mentions the producer chose, which win over the stage's;
    `people`'s names (whole, or the family name alone) are respelled where they sound so."""
    dialogue = apply_corrections(dialogue, list(corrections))
    words = [word for turn in dialogue.turns for word in turn.words]
    heard = [_Spoken.of(word.text) for word in words]
    matches = confident_matches(heard, list(dict.fromkeys(_bare(p) for link in links for p in link.phrases)))

    def heard_as(phrase: str, after: int = -1) -> list[Match]:
        return [m for m in matches if m.phrase == _bare(phrase) and m.first > after]

    options = [heard_as(link.phrases[0]) for link in links]
    room = min(ROOM_WORDS, int(ROOM_SHARE * len(words) / max(len(links), 1)))  # for a link not found
    in_order = in_list_order(options, room)
    running_order = is_running_order(options)
    chosen = _chosen_mentions(placed_by_producer, links, words)
    in_order = {i: m for i, m in in_order.items() if i not in chosen and not _overlaps(m, chosen.values())}
    in_order.update(chosen)
    first_mentions = dict(in_order)
    for index, link in enumerate(links):
        exact = [m for m in heard_as(link.phrases[0])
                 if m.exact and _written_as(words, m) and m not in first_mentions.values()]
        if index not in first_mentions and exact and not running_order:
            first_mentions[index] = exact[0]
    second_chances = _second_chances(links, in_order, first_mentions, words, heard, relisten, room)
    first_mentions.update(second_chances)
    order = numbering(first_mentions, len(links), running_order)
    numbers = {index: number for number, index in enumerate(order, start=1)}

    marked: dict[Match, int] = {}
    for index, mention in first_mentions.items():
        marked[mention] = numbers[index]
        for phrase in links[index].phrases[1:]:
            later = [m for m in heard_as(phrase, after=mention.last) if not _overlaps(m, first_mentions.values())]
            if later:
                marked.setdefault(later[0], numbers[index])

    with_markers = _with_markers(dialogue, {m.last: number for m, number in marked.items()})
    written = {_bare(p): p.strip() for link in links for p in link.phrases}
    guessed = set(second_chances.values())
    names = [m for m in confident_matches(heard, _name_forms(people)) if not _overlaps(m, marked)]
    spelled = respell(with_markers, {**{(m.first, m.last): m.phrase for m in names},
                                     **dict(_respelling(m, written[m.phrase], words, m in guessed)
                                            for m in marked if m not in chosen.values())})
    references = [Reference(numbers[i], links[i].title, links[i].url) for i in order]
    unplaced = [index for index in range(len(links)) if index not in first_mentions]
    references += [Reference(None, links[i].title, links[i].url) for i in unplaced if i not in numbers]
    warnings = [
        f"link {links[i].phrases[0]!r} not found where expected, listed {f'as [{numbers[i]}]' if i in numbers else 'without a number'}"
        f" and marked nowhere: if it is said, add a correction for how it was heard to corrections.toml ({links[i].title})"
        for i in unplaced
    ]
    checks = [
        f"link {links[index].phrases[0]!r} placed at {clock(words[m.first].start)} where recognition"
        f" heard {join_words(words[m.first : m.last + 1])!r}: check it"
        for index, m in second_chances.items()
    ]
    doubts = [
        Doubt("second-chance", words[m.first].start, words[m.last].end, join_words(words[m.first : m.last + 1]),
              links[index].title, f"placed where recognition heard something else: is {links[index].phrases[0]!r} said here?")
        for index, m in second_chances.items()
    ] + [
        Doubt("link-not-found", *_expected_between(i, first_mentions, words, len(order) == len(links)), "",
              links[i].title,
              f"{links[i].phrases[0]!r} was not heard: select where it is said")
        for i in unplaced
    ]
    return replace(spelled, references=references, warnings=[*spelled.warnings, *checks, *warnings],
                   doubts=sorted([*spelled.doubts, *doubts], key=lambda d: d.start))


def _name_forms(people: list[str]) -> list[str]:
    """Each person's name as said: whole, and the family name alone when it is long enough to
    tell apart from ordinary words (six letters or more)."""
    forms = []
    for name in people:
        family = name.split()[-1]
        forms += [name, *([family] if family != name and len(family) >= 6 else [])]
    return list(dict.fromkeys(forms))


def _chosen_mentions(fixes: list[LinkFix], links: list[Link], words: list[Word]) -> dict[int, Match]:
    """The producer's first mentions (link index -> match): the fix's words, in its time span."""
    chosen = {}
    for fix in fixes:
        index = next((i for i, link in enumerate(links) if fix.phrase in (p.strip() for p in link.phrases)), None)
        spans = [(first, last) for first, last in find_phrase(words, fix.heard)
                 if words[first].start >= fix.start - 0.05 and words[last].end <= fix.end + 0.05]
        if index is not None and spans:
            chosen[index] = Match(_bare(links[index].phrases[0]), *spans[0], 1.0, exact=False)
    return chosen


def numbering(mentions: dict[int, Match], count: int, running_order: bool) -> list[int]:
    """Link indexes in the order they are numbered. When the list is the episode's running
    order (and the placed links were heard in it), every link keeps its place in it, so one not
    found keeps its number, unmarked, and renumbers none of the others. Otherwise the placed
    links are numbered as heard and the others left unnumbered."""
    placed = sorted(mentions, key=lambda index: mentions[index].first)
    if running_order and placed == sorted(placed):
        return list(range(count))
    return placed


def _expected_between(index: int, mentions: dict[int, Match], words: list[Word],
                      running_order: bool) -> tuple[float, float]:
    """Where a link not found should be said: between the placed links listed just before and
    after it, when the list is the running order; anywhere otherwise."""
    if not words:
        return 0.0, 0.0
    span = _bracket(index, mentions, len(words)) if running_order else range(len(words))
    first = min(span.start, len(words) - 1)
    return words[first].start, words[max(span.stop - 1, first)].end


def _written_as(words: list[Word], match: Match) -> bool:
    """Whether recognition wrote the phrase itself, capitals included: a name, not an ordinary
    phrase spelled the same ("tout le monde" for "Le Monde")."""
    def letters(text: str) -> list[str]:
        return re.findall(r"\w+", split_elision(text.strip("'’ "))[1])

    return letters(join_words(words[match.first : match.last + 1])) == letters(match.phrase)


def _second_chances(links: list[Link], in_order: dict[int, Match], first_mentions: dict[int, Match],
                    words: list[Word], heard: list[_Spoken], relisten: Relisten | None,
                    room: int) -> dict[int, Match]:
    """Mentions (link index -> match) for links the first pass missed, each in its bracket
    (leaving `room` for others not found): doubted sound-alikes, then second listens (see the
    module docstring)."""
    # Brackets come from mentions in the list's order: one out of order bounds nothing.
    in_order, placed, found = dict(in_order), dict(first_mentions), {}
    for index, link in enumerate(links):
        if index not in placed:
            match = _doubted_match(link, _bracket(index, in_order, len(words), room), list(placed.values()), words, heard)
            if match:
                placed[index] = in_order[index] = found[index] = match
    if relisten is None:
        return found
    control = _Control(relisten, _control_names(links), words, heard)
    stretches = [
        (promise, index, window)
        for index, link in enumerate(links) if index not in placed
        for promise, window in _stretches_to_relisten(link, _bracket(index, in_order, len(words), room),
                                                      list(placed.values()), words, heard)
    ]
    for _, index, window in sorted(stretches, key=lambda s: -s[0])[:RELISTEN_BUDGET]:
        if control.listened >= RELISTEN_SHARE * words[-1].end:
            break
        if index not in placed and not _overlaps(window, placed.values()):
            match = _heard_again(links[index], window, words, control)
            if match:
                placed[index] = found[index] = match
    return found


def _bracket(index: int, first_mentions: dict[int, Match], count: int, room: int = 0) -> range:
    """The word indexes between the placed links listed before and after link `index`, less
    `room` on a side where other links not found are listed between."""
    before = [m.last + (room if index - i > 1 else 0) for i, m in first_mentions.items() if i < index]
    after = [m.first - (room if i - index > 1 else 0) for i, m in first_mentions.items() if i > index]
    return range(max(before, default=-1) + 1, min(after, default=count))


def _overlaps(match: Match, others) -> bool:
    return any(match.first <= other.last and other.first <= match.last for other in others)


def _confidence(words: list[Word], match: Match) -> float:
    span = words[match.first : match.last + 1]
    return sum(word.probability for word in span) / len(span)


def _alike(link: Link, required: float, bracket: range, taken: list[Match],
           heard: list[_Spoken]) -> list[Match]:
    """Windows of the bracket, free of other mentions, this alike to the link's name."""
    phrase = _bare(link.phrases[0])
    return [m for m in candidate_matches(heard, _name(phrase), required, bracket, match_as=phrase)
            if not _overlaps(m, taken)]


def _doubted_match(link: Link, bracket: range, taken: list[Match], words: list[Word],
                   heard: list[_Spoken]) -> Match | None:
    """The bracket's window most alike to the link among those recognition doubted."""
    doubted = [m for m in _alike(link, BRACKETED_SIMILARITY, bracket, taken, heard)
               if _confidence(words, m) <= DOUBTFUL_PROBABILITY]
    return max(doubted, key=lambda m: (m.score, m.first - m.last), default=None)


def _stretches_to_relisten(link: Link, bracket: range, taken: list[Match], words: list[Word],
                           heard: list[_Spoken]) -> list[tuple[float, Match]]:
    """The bracket's most promising windows for a second listen, with their promise: alike in
    sound, and doubted."""
    ranked = sorted(((m.score * (1 - _confidence(words, m)), m)
                     for m in _alike(link, RELISTEN_SIMILARITY, bracket, taken, heard)), key=lambda p: -p[0])
    chosen: list[tuple[float, Match]] = []
    for promise, window in ranked:
        if promise < RELISTEN_PROMISE:
            break
        if len(chosen) < RELISTEN_TRIES and not _overlaps(window, [m for _, m in chosen]):
            chosen.append((promise, window))
    return chosen


def _control_names(links: list[Link]) -> list[str]:
    """CONTROL_NAMES less any that sounds like a phrase of the episode's links."""
    phrases = [_Spoken.of(_name(_bare(p))) for link in links for p in link.phrases]
    return [name for name in CONTROL_NAMES
            if all(similarity(_Spoken.of(name), phrase) < RELISTEN_SIMILARITY for phrase in phrases)]


@dataclass
class _Control:
    """An episode's second listens, counted against RELISTEN_SHARE, and its control listens:
    whether the decoder, told to favour unrelated names, writes them over a window, where its
    writing a link's phrase would then be its own say-so."""

    listen: Relisten
    names: list[str]  # CONTROL_NAMES less those like the episode's links
    words: list[Word]
    heard: list[_Spoken]
    listened: float = 0.0  # seconds of audio the listens took, cached or not: the same on every run

    def relisten(self, start: float, end: float, phrase: str) -> list[Word]:
        self.listened += end - start
        return self.listen(start, end, phrase)

    def suggestible(self, window: Match) -> bool:
        """Whether a listen favouring one of the CONTROL_LISTENS names most like the window
        writes it there."""
        clip = _sentences_around(self.words, window)
        stretch = sum(self.heard[window.first : window.last + 1], _Spoken("", ""))
        alike = sorted(self.names, key=lambda name: -similarity(stretch, _Spoken.of(name)))
        return any(_written_at(self.relisten(*clip, name), name, self.words, window)
                   for name in alike[:CONTROL_LISTENS])


def _heard_again(link: Link, window: Match, words: list[Word], control: _Control) -> Match | None:
    """The mention in `window` if a second listen around it, favouring the link's phrase,
    writes the phrase where the first listen heard the window, a listen in another context
    does too, and the decoder does not write unrelated names there as readily."""
    said = _written_at(control.relisten(*_sentences_around(words, window), link.phrases[0]),
                       window.phrase, words, window)
    if said is None:
        return None
    start, end = words[window.first].start, words[window.last].end
    run_on = (max(0.0, start - RUN_ON_S[0]), end + RUN_ON_S[1])
    if _written_at(control.relisten(*run_on, link.phrases[0]), window.phrase, words, window) is None:
        return None
    if control.suggestible(window):
        return None
    said_from, said_to, score = said
    covered = [k for k in range(window.first, window.last + 1)
               if _mostly_within(words[k], said_from, said_to)] or [window.first, window.last]
    return Match(window.phrase, covered[0], covered[-1], score, exact=False)


def _written_at(again: list[Word], phrase: str, words: list[Word], window: Match) -> tuple[float, float, float] | None:
    """(start, end, similarity) of the phrase where a listen `again` writes it over the window."""
    start, end = words[window.first].start, words[window.last].end
    spoken = [_Spoken.of(w.text) for w in again]
    for found in candidate_matches(spoken, _name(phrase), BRACKETED_SIMILARITY):
        said_from, said_to = again[found.first].start, again[found.last].end
        if said_from < end and said_to > start:
            return said_from, said_to, found.score
    return None


def _sentences_around(words: list[Word], window: Match) -> tuple[float, float]:
    """A clip of about RELISTEN_CONTEXT_S either side of the window, from a sentence's start to
    a sentence's end where there is one near: cut mid-word, the decoder garbles or loops."""
    def ends_sentence(k: int) -> bool:
        return words[k].text.endswith((".", "?", "!"))

    start, end = words[window.first].start, words[window.last].end
    first = next((k for k in range(window.first) if words[k].start >= start - RELISTEN_CONTEXT_S), window.first)
    after_sentence = [k for k in range(first, window.first) if k > 0 and ends_sentence(k - 1)]
    first = after_sentence[0] if after_sentence else first
    last = max((k for k in range(window.last, len(words)) if words[k].end <= end + RELISTEN_CONTEXT_S),
               default=window.last)
    sentence_ends = [k for k in range(window.last, last + 1) if ends_sentence(k)]
    last = sentence_ends[-1] if sentence_ends else last
    return max(0.0, words[first].start - 0.2), words[last].end + 0.2


def _mostly_within(word: Word, start: float, end: float) -> bool:
    return min(word.end, end) - max(word.start, start) > (word.end - word.start) / 2


def _respelling(match: Match, written: str, words: list[Word], guessed: bool) -> tuple[tuple[int, int], str]:
    """The span to respell and its text. A name's own article ("The Conversation") takes the
    place of an article heard just before the name; other articles stay as heard ("l'enquête"
    for "une enquête"), except where the heard words were `guessed` past (a second chance), as
    "de React" for "de l'IA Act": there the phrase is written whole."""
    def is_article(word: Word) -> bool:
        return word.text.lower().strip("'’") in HEARD_ARTICLES

    first = match.first
    article_before = first > 0 and is_article(words[first - 1])
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
