"""What a fix changed besides itself: the page's data before and after it, compared.

A fix names one thing (a word, a stretch's speaker, a link's first mention); anything else that
moved (another link's marker placed, removed or moved, words respelled or given to another
speaker outside the fix's stretch) is listed for the producer, so the page never hides it.
Ideally the list is empty."""

from __future__ import annotations

import difflib

from pipeline.model import clock

MOST = 12  # changes listed at most; the rest counted


def _markers(data: dict) -> dict[str, tuple[int, float]]:
    """Each marked link's title -> (its number, the time of its marked word)."""
    titles = {r["number"]: r["title"] for r in data["references"] if r["number"] is not None}
    return {titles.get(w["footnote"], str(w["footnote"])): (w["footnote"], w["start"])
            for turn in data["turns"] for w in turn["words"] if w.get("footnote") is not None}


def _words(data: dict, span: tuple[float, float] | None) -> list[tuple[float, str, str]]:
    """(start, text, speaker) of the words outside the fix's own stretch."""
    inside = (lambda w: span[0] - 0.05 <= w["start"] and w["end"] <= span[1] + 0.05) if span else (lambda w: False)
    return [(w["start"], w["text"], turn["speaker"]) for turn in data["turns"] for w in turn["words"] if not inside(w)]


def _marker_changes(before: dict, after: dict, own: str | None) -> list[str]:
    old, new = _markers(before), _markers(after)
    changes, renumbered = [], 0
    for title in dict.fromkeys([*old, *new]):
        if title == own or old.get(title) == new.get(title):
            continue
        if title not in new:
            changes.append(f"marker [{old[title][0]}] {title} at {clock(old[title][1])} removed")
        elif title not in old:
            changes.append(f"marker [{new[title][0]}] {title} placed at {clock(new[title][1])}")
        elif abs(old[title][1] - new[title][1]) > 0.05:
            changes.append(f"marker {title} moved from {clock(old[title][1])} to {clock(new[title][1])}")
        else:
            renumbered += 1
    if renumbered:
        changes.append(f"{renumbered} other marker{'s' if renumbered > 1 else ''} renumbered")
    return changes


def _word_changes(before: dict, after: dict, span: tuple[float, float] | None) -> list[str]:
    old, new = _words(before, span), _words(after, span)
    changes = []
    matcher = difflib.SequenceMatcher(None, [w[1] for w in old], [w[1] for w in new], autojunk=False)
    for tag, a, b, c, d in matcher.get_opcodes():
        if tag != "equal":
            at = old[a][0] if a < len(old) else new[c][0] if c < len(new) else 0.0
            was, now = " ".join(w[1] for w in old[a:b]), " ".join(w[1] for w in new[c:d])
            changes.append(f"words at {clock(at)}: «{was}» → «{now}»")
    moved = {round(s, 2): who for s, _, who in old}
    given = [(s, who) for s, _, who in new if moved.get(round(s, 2), who) != who]
    if given:
        changes.append(f"{len(given)} word{'s' if len(given) > 1 else ''} from {clock(given[0][0])} "
                       f"given to {given[0][1]}")
    return changes


def changed_besides(before: dict, after: dict, fix: dict, own_title: str | None) -> list[str]:
    """What the fix changed outside what it names, in words for the producer ([] ideally)."""
    span = (fix["from"], fix["to"]) if isinstance(fix.get("from"), (int, float)) else None
    changes = [*_marker_changes(before, after, own_title), *_word_changes(before, after, span)]
    return changes if len(changes) <= MOST else [*changes[:MOST], f"and {len(changes) - MOST} more"]
