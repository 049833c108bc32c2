"""The footnotes engine's tuning, in one place: each number the engine weighs evidence by, with
its default, so that a run can be keyed by them and a test or a bench can try others."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FootnoteOptions:
    """How alike, how many and how much: the thresholds of matching, of the running order, and
    of the second chances (see the package's docstring for the story they tell)."""

    # Matching (match.py).
    # A window's spoken length, relative to the phrase's, to be compared at all.
    length_slack: tuple[float, float] = (0.6, 1.5)
    # The similarity a window needs: `similarity` for long phrases, more for short ones, which
    # chance resembles more easily (+ short_phrase_margin / sounds: 0.9 for "Reddit").
    similarity: float = 0.8
    short_phrase_margin: float = 0.4
    # Below this many sounds a phonetic key collides with ordinary words ("Reddit" and "tu
    # redis" both sound "redi"), so short names must match by their letters.
    shortest_phonetic_match: int = 6
    # A long phrase can pass on its common tail alone: the word that names it (the first of
    # `naming_letters` letters or more) must be heard too, at least this alike.
    naming_letters: int = 4
    leading_word_similarity: float = 0.55
    # A producer's placed mention is looked for within its time span, give or take this: a
    # span written at a word's edges still holds the word.
    fix_slack_s: float = 0.05
    # A person's family name alone is matched only when this long: shorter ones are ordinary words.
    family_name_letters: int = 6

    # The running order (order.py).
    # The list is the running order when its longest run of links heard in order holds this
    # share of the links heard at all (a shuffled list seldom does) ...
    running_order_share: float = 0.75
    # ... or when random orders of the same links seldom make as long a run (a permutation
    # test, with so many shuffles): a short noisy list in order passes the test, not the share.
    order_chance: float = 0.05
    order_shuffles: int = 200
    # A link not found between two heard in the list's order was said between them, so a
    # mention of the next one too close to the one before is a mention in passing: too close is
    # under this share of the episode's mean spacing between links, and this many words at most.
    room_share: float = 0.25
    room_words: int = 20

    # Second chances (second_chance.py), for a link missing between its placed neighbours.
    # A window this alike that recognition itself doubted (mean word probability at most
    # doubtful_probability) is taken: a misheard name is near in sound and heard unsure.
    bracketed_similarity: float = 0.72
    doubtful_probability: float = 0.5
    # Stretches worth a second listen: this alike, promising this much (similarity x doubt),
    # the few most promising per link, and so many in all per episode: each costs a decoding.
    relisten_similarity: float = 0.5
    relisten_promise: float = 0.3
    relisten_tries: int = 3
    relisten_budget: int = 8
    # ... and no more audio in all than this share of the episode's (context and control
    # listens included), so that second listens stay a small part of a run's time.
    relisten_share: float = 0.1
    # Seconds decoded either side of the stretch: alone, a name is rarely spelled right; and
    # a margin around the clip's first and last words, so that neither is cut mid-word.
    relisten_context_s: float = 10.0
    clip_margin_s: float = 0.2
    # The check listen's clip: from so long before the stretch to so long after it.
    run_on_s: tuple[float, float] = (4.0, 15.0)
    # Unrelated names of varied sounds for control listens; the most like the stretch are
    # favoured, so many per stretch.
    control_names: tuple[str, ...] = (
        "Mastodon", "Palantir", "Spotify", "Netflix", "Instagram", "Mediapart", "Duolingo",
        "Doctolib", "Blablacar", "Deezer", "Vinted", "Kickstarter", "Salesforce", "Nintendo",
    )
    control_listens: int = 2

    def key(self) -> dict:
        """Every field, as JSON data: what a cache of the engine's results is keyed by."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}
