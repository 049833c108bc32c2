"""The running order: the producer lists links in the order they come up, and a name said in
passing before its turn in that list is not its footnoted mention. So first mentions are chosen
as the longest run of links heard in the list's order, each as early as it can be, each leaving
room for the links not found listed before it (an intro names things in passing). Whether the
list is the running order at all is asked of the run's length (most links heard, or more than
the same links would give in random orders: a permutation test) and of the pairs heard in
order (Kendall's tau), which a name said in passing early upsets less."""

from __future__ import annotations

import random
import unicodedata

from pipeline.engines.footnotes.match import Match
from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.model import Link


def room_for_missing(word_count: int, link_count: int, options: FootnoteOptions = FootnoteOptions()) -> int:
    """The words a link not found needs between the links listed around it: a share of the
    mean spacing between links, and no more than a few words."""
    return min(options.room_words, int(options.room_share * word_count / max(link_count, 1)))


def in_list_order(per_link: list[list[Match]], room: int = 0) -> dict[int, Match]:
    """One match per link (index -> match) for the most links heard in the list's order, each
    leaving links skipped between two of them `room` words; among such runs, the one with most
    exact spellings, then the earliest. By dynamic programming: a longest increasing chain over
    the links' matches."""
    def follows(chain: list[tuple[int, Match]], index: int, match: Match) -> bool:
        last_index, last = chain[-1]
        return match.first - last.last > (room if index > last_index + 1 else 0)

    # For each match: ((links in the chain, exact ones, minus the sum of positions), chain ending there)
    chains: list[tuple[tuple[int, int, int], list[tuple[int, Match]]]] = []
    for index, matches in enumerate(per_link):
        ending_here = []
        for match in matches:
            before = [c for c in chains if follows(c[1], index, match)]
            (count, exact, early), chain = max(before, key=lambda c: c[0], default=((0, 0, 0), []))
            ending_here.append(((count + 1, exact + match.exact, early - match.first), [*chain, (index, match)]))
        chains += ending_here
    return dict(max(chains, key=lambda c: c[0])[1]) if chains else {}


def order_chance(per_link: list[list[Match]], shuffles: int = FootnoteOptions.order_shuffles) -> float:
    """How often the same links, listed in random orders, make a run as long as the list's
    (a permutation test's p-value, the same on every run)."""
    longest = len(in_list_order(per_link))
    shuffler = random.Random(0)
    as_long = 0
    for _ in range(shuffles):
        shuffled = per_link[:]
        shuffler.shuffle(shuffled)
        as_long += len(in_list_order(shuffled)) >= longest
    return (as_long + 1) / (shuffles + 1)


def _sort_key(text: str) -> str:
    """A title or phrase as an alphabetical list sorts it: no accents, case or leading punctuation."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return "".join(c for c in plain if c.isalnum() or c == " ").strip()


def is_sorted_list(links: list[Link], options: FootnoteOptions = FootnoteOptions()) -> bool:
    """Whether the list is sorted by title or by phrase (sorted_list_links links or more: a
    running order of that many seldom is), so ordered by the alphabet, not by the episode."""
    if len(links) < options.sorted_list_links:
        return False
    return any(keys == sorted(keys) for keys in ([_sort_key(link.title) for link in links],
                                                  [_sort_key(link.phrases[0]) for link in links]))


def is_running_order(per_link: list[list[Match]], options: FootnoteOptions = FootnoteOptions(),
                     links: list[Link] = ()) -> bool:
    """Whether most links heard were first heard in the list's order, or a longer run of them
    than chance would give (on all matches or on exact spellings alone), or more pairs of them
    in order than chance would give; never for a list sorted by title or phrase.
    Only each link's first match counts: with later ones (a name recalled at the end, said again
    and again), a shuffled list finds a long run in order too easily."""
    heard = sum(map(bool, per_link))
    if heard < 2 or is_sorted_list(list(links), options):
        return False
    exact = [[m for m in matches if m.exact][:1] for matches in per_link]
    per_link = [sorted(matches, key=lambda m: m.first)[:1] for matches in per_link]
    share = len(in_list_order(per_link)) / heard
    if share >= options.running_order_share:
        return True
    chance = min(order_chance(per_link, options.order_shuffles), order_chance(exact, options.order_shuffles))
    return chance <= options.order_chance or concordance_chance(per_link) <= options.order_concordance


def concordance_chance(per_link: list[list[Match]]) -> float:
    """How likely links listed in a random order are first heard as many pairs in the list's
    order as these (Kendall's tau, one-sided p-value). A name said in passing before its turn
    breaks a run in two, and with few links heard the run's test has no power left; it puts
    only that name's pairs out of order."""
    from scipy.stats import kendalltau

    firsts = [matches[0].first for matches in per_link if matches]
    if len(firsts) < 3:
        return 1.0
    return float(kendalltau(range(len(firsts)), firsts, alternative="greater").pvalue)


def bracket(index: int, placed: dict[int, Match], count: int, room: int = 0) -> range:
    """The word indexes between the placed links listed before and after link `index` (of
    `count` words), less `room` on a side where other links not found are listed between."""
    before = [m.last + (room if index - i > 1 else 0) for i, m in placed.items() if i < index]
    after = [m.first - (room if i - index > 1 else 0) for i, m in placed.items() if i > index]
    return range(max(before, default=-1) + 1, min(after, default=count))


def share_of_bracket(index: int, placed: dict[int, Match], count: int, links: int, room: int = 0,
                     slack: float = 0.5) -> range:
    """The part of link `index`'s bracket where it should be said when other links listed
    between the same placed neighbours are missing too: the j-th of k such links in the j-th
    k-th of the bracket (of `count` words; `links` listed in all), widened by `slack` of a share
    on each side (speech is not evenly spread over links). The whole bracket when it is the only
    one missing there."""
    span = bracket(index, placed, count, room)
    before = max((i for i in placed if i < index), default=-1)
    after = min((i for i in placed if i > index), default=None)
    missing = (after if after is not None else links) - before - 1
    if missing <= 1 or not len(span):
        return span
    rank = index - before - 1  # 0 for the first of those missing
    share = len(span) / missing
    first = span.start + max(0, int((rank - slack) * share))
    last = span.start + min(len(span), int((rank + 1 + slack) * share) + 1)
    return range(first, last)
