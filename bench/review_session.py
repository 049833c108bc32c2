"""A scripted producer session on the review page (issue 24): the fixes that bring an episode's
speakers and footnotes to its reference, made through the page in headless Chromium, counted in
actions (clicks, keys, choices in a list) and in the page's own time (load, then each fix's
save and re-render).

The producer is an oracle: it knows the reference (episode.ref.json: each turn's speaker and its
[n] markers), aligned word for word with the page's transcript. For each link whose first mention
the page marks elsewhere (more than 3 words off) it clicks the wrong marker and "Not a mention";
for each link then unmarked it takes a candidate spot's "Place here" when one is at the
reference's place, else selects the words and places the link; then it gives each run of words
(3 or more) said by someone else to that person. Every fix's "what else changed" is counted.

    .venv/bin/python bench/review_session.py ../shared/data/variants/v104 [--build DIR]

`--build DIR`: a build folder of that episode already run (its stages are reused, not re-run).
Before issue 24 (measured by hand on v104, issue 24): 13 placements, about 41 clicks.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scoring import words_for_scoring  # noqa: E402
from pipeline.build.project import Project  # noqa: E402
from pipeline.build.runner import run_stages  # noqa: E402
from pipeline.review.server import ReviewSession, open_review_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
NEAR = 3  # words: a marker this close to the reference's is right (as bench/footnotes.py counts)
SPEAKER_RUN = 3  # words: a shorter run given to another speaker is alignment noise, left alone


class Producer:
    """The page, driven; every click, key and choice counted."""

    def __init__(self, page):
        self.page, self.actions, self.seconds, self.fixes, self.collateral = page, 0, 0.0, 0, []
        self.kinds: dict[str, int] = {}  # fixes by how they were made

    def act(self, how: str, selector: str, *args, **kwargs) -> None:
        self.actions += 1
        getattr(self.page, how)(selector, *args, **kwargs)

    def saved(self) -> None:
        self.page.wait_for_function("/^(Saved|Not saved)/.test(document.getElementById('status').textContent)",
                                    timeout=120000)
        fixed = self.page.evaluate("page.fixed || {}")
        self.seconds += fixed.get("seconds", 0)
        self.fixes += 1
        self.collateral += fixed.get("changed", [])

    def state(self) -> dict:
        return self.page.evaluate("({turns: page.turns, references: page.references, doubts: page.doubts,"
                                  " links: page.links})")


def reference_tokens(ref: dict) -> tuple[list[str], list[str], dict[int, list[int]]]:
    """The reference's words as tokens, each token's speaker, and each marker number's places
    (the index of the token it follows)."""
    tokens, speakers, markers = [], [], {}
    for turn in ref["turns"]:
        for token in words_for_scoring(turn["raw"].replace("\u00a0", " ")):
            if token.startswith("[") and token.endswith("]"):
                markers.setdefault(int(token[1:-1]), []).append(len(tokens) - 1)
            else:
                tokens.append(token)
                speakers.append(turn["speaker"])
    return tokens, speakers, markers


def page_words(state: dict) -> list[dict]:
    return [{**w, "turn": t, "index": i, "speaker": turn["speaker"]}
            for t, turn in enumerate(state["turns"]) for i, w in enumerate(turn["words"])]


def aligned(ref_tokens: list[str], words: list[dict]) -> list[int]:
    """For each reference token, the index of the page word nearest it."""
    tokens, owner = [], []
    for index, word in enumerate(words):
        for token in words_for_scoring(word["text"]) or [""]:
            tokens.append(token)
            owner.append(index)
    where = [None] * len(ref_tokens)
    for block in difflib.SequenceMatcher(None, ref_tokens, tokens, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            where[block.a + k] = owner[block.b + k]
    last = 0
    for k, at in enumerate(where):  # unmatched: the page word after the last matched one
        where[k] = last = at if at is not None else min(last + 1, len(words) - 1) if k else 0
    return where


def link_of_marker(ref_tokens: list[str], at: int, links: list[dict]) -> dict | None:
    """The link whose phrase the reference's words end with just before a marker."""
    best = None
    for link in links:
        for phrase in link["phrases"]:
            wanted = words_for_scoring(phrase)
            if wanted and ref_tokens[max(at - len(wanted) + 1, 0): at + 1] == wanted and \
                    (best is None or len(wanted) > best[0]):
                best = (len(wanted), link, phrase)
    return best and {**best[1], "said": best[2]}


def marker_word(state: dict, title: str) -> int | None:
    number = next((r["number"] for r in state["references"] if r["title"] == title), None)
    words = page_words(state)
    return next((i for i, w in enumerate(words) if number is not None and w.get("footnote") == number), None)


def fix_link(producer: Producer, want: int, link: dict) -> bool:
    """One link brought to its reference place; False when it was right already."""
    state = producer.state()
    at = marker_word(state, link["title"])
    if at is not None and abs(at - want) <= NEAR:
        return False
    if at is not None:  # a marker at the wrong place: not a mention
        word = page_words(state)[at]
        producer.act("click", f'sup.fn[data-turn="{word["turn"]}"][data-word="{word["index"]}"]')
        producer.act("click", "#not-mention")
        producer.saved()
        producer.kinds["not a mention"] = producer.kinds.get("not a mention", 0) + 1
        state = producer.state()
        at = marker_word(state, link["title"])
        if at is not None and abs(at - want) <= NEAR:
            return True
    if not place_at_candidate(producer, state, want, link):
        place_by_selection(producer, page_words(state), want, link)
    return True


def place_at_candidate(producer: Producer, state: dict, want: int, link: dict) -> bool:
    """The link placed at the candidate spot (of its not-found doubt) at the reference's place."""
    words = page_words(state)
    doubt = next((d for d in state["doubts"] if d["kind"] == "link-not-found" and d["chose"] == link["title"]), None)
    spots = (doubt or {}).get("candidates", [])
    right = [n for n, c in enumerate(spots)
             if any(abs(i - want) <= NEAR for i, w in enumerate(words) if c["start"] <= w["start"] < c["end"])]
    if not right:
        return False
    producer.act("click", f"#doubt-list button:has-text({json.dumps(link['title'], ensure_ascii=False)})")
    producer.act("click", f"#candidates .place-here >> nth={right[0]}")
    producer.saved()
    producer.kinds["placed at a candidate"] = producer.kinds.get("placed at a candidate", 0) + 1
    return True


def place_by_selection(producer: Producer, words: list[dict], want: int, link: dict) -> None:
    """The link placed on the words selected by hand (as many as its phrase has)."""
    first = want
    while first > 0 and want - first + 1 < len(link["said"].split()) and words[first - 1]["turn"] == words[want]["turn"]:
        first -= 1
    producer.act("click", f'.w[data-turn="{words[first]["turn"]}"][data-word="{words[first]["index"]}"]')
    if first != want:
        producer.act("click", f'.w[data-turn="{words[want]["turn"]}"][data-word="{words[want]["index"]}"]',
                     modifiers=["Shift"])
    producer.act("select_option", "#link", link["said"])
    producer.act("click", "#place")
    producer.saved()
    producer.kinds["placed on selected words"] = producer.kinds.get("placed on selected words", 0) + 1


def wrong_speaker_runs(state: dict, ref_tokens, ref_speakers) -> list[tuple[int, int, str]]:
    """Runs of page words (first, last, the reference's speaker) given to someone else."""
    words = page_words(state)
    where = aligned(ref_tokens, words)
    said_by = {}
    for k, index in enumerate(where):
        said_by.setdefault(index, ref_speakers[k])
    runs, first = [], None
    for index, word in enumerate([*words, None]):
        wrong = word is not None and index in said_by and said_by[index] != word["speaker"]
        if wrong and first is not None and (said_by[index] != said_by[first] or word["turn"] != words[first]["turn"]):
            runs.append((first, index - 1, said_by[first]))
            first = None
        if wrong and first is None:
            first = index
        elif not wrong and first is not None:
            runs.append((first, index - 1, said_by[first]))
            first = None
    return [r for r in runs if r[1] - r[0] + 1 >= SPEAKER_RUN]


def fix_speakers(producer: Producer, ref_tokens, ref_speakers) -> int:
    fixed = 0
    for _ in range(20):
        runs = wrong_speaker_runs(producer.state(), ref_tokens, ref_speakers)
        if not runs:
            break
        first, last, name = runs[0]
        words = page_words(producer.state())
        a, b = words[first], words[last]
        producer.act("click", f'.w[data-turn="{a["turn"]}"][data-word="{a["index"]}"]')
        turn_end = b["index"] == len(producer.state()["turns"][b["turn"]]["words"]) - 1
        if not turn_end:
            producer.act("click", f'.w[data-turn="{b["turn"]}"][data-word="{b["index"]}"]', modifiers=["Shift"])
        producer.act("select_option", "#person", name)
        producer.act("click", "#give-rest" if turn_end else "#give-words")
        producer.saved()
        producer.kinds["speaker"] = producer.kinds.get("speaker", 0) + 1
        fixed += 1
    return fixed


def score(state: dict, ref_tokens, markers: dict[int, list[int]], links: list[dict]) -> tuple[int, int, list]:
    """(first mentions at their reference place, of how many; the links at the wrong place)."""
    words = page_words(state)
    where = aligned(ref_tokens, words)
    right, wrong = 0, []
    for places in markers.values():
        link = link_of_marker(ref_tokens, places[0], links)
        at = marker_word(state, link["title"]) if link else None
        if at is not None and abs(at - where[places[0]]) <= NEAR:
            right += 1
        else:
            wrong.append((link or {}).get("title", "?"))
    return right, len(markers), wrong


def same_fix_twice(page) -> bool:
    """The last fix sent again as is: not written a second time."""
    return page.evaluate("""async () => {
        const fix = page.fixes.filter((f) => f.table === "link").pop();
        if (!fix) return true;
        const count = page.fixes.length, e = fix.entry;
        const body = fix.table === "link" ? {fix: "link", phrase: e.phrase, heard: e.heard, from: 0, to: 1} : null;
        if (!body) return true;
        const seconds = (t) => t.split(":").reduce((a, b) => a * 60 + +b, 0);
        body.from = seconds(e.from); body.to = seconds(e.to);
        const answer = await call("/api/fix", body);
        return answer.fixed.written === false && answer.fixes.length === count;
    }""")


def project_for(variant: Path, build: Path | None, root: Path) -> Project:
    (root / "feeds").mkdir(parents=True)
    show = (REPO / "feeds" / "show.toml").read_text(encoding="utf-8")
    (root / "feeds" / "show.toml").write_text(show.replace('destination = "site"', f'destination = "{root / "site"}"'))
    shutil.copyfile(REPO / "feeds" / "artwork.jpg", root / "feeds" / "artwork.jpg")
    folder = root / "episodes" / variant.name
    folder.mkdir(parents=True)
    for name in ("episode.mp3", "episode.toml", "notes.md"):
        shutil.copyfile(variant / name, folder / name)
    if build is not None:
        shutil.copytree(build, root / "build" / variant.name)
    return Project(root / "feeds" / "show.toml", root / "episodes", root / "build")


def session_on(project: Project, slug: str, ref: dict) -> dict:
    from playwright.sync_api import sync_playwright

    session = ReviewSession(project, slug)
    run_stages(session.open_run(), until="render", force=("footnotes",))  # review.json as this code writes it
    server = open_review_server(session)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    figures = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        began = time.perf_counter()
        page.goto(f"http://127.0.0.1:{server.server_port}/?token={session.token}", wait_until="networkidle")
        page.wait_for_selector(".w")
        producer = Producer(page)
        producer.seconds += time.perf_counter() - began
        ref_tokens, ref_speakers, markers = reference_tokens(ref)
        links = producer.state()["links"]
        figures["start"] = score(producer.state(), ref_tokens, markers, links)
        figures["doubts at start"] = len(producer.state()["doubts"])
        producer.act("click", "#links-only")
        for _ in range(2):  # a second round: a fix may have moved another link
            for places in markers.values():
                link = link_of_marker(ref_tokens, places[0], links)
                if link:
                    where = aligned(ref_tokens, page_words(producer.state()))
                    fix_link(producer, where[places[0]], link)
        figures["link fixes"] = producer.fixes
        figures["speaker fixes"] = fix_speakers(producer, ref_tokens, ref_speakers)
        figures["end"] = score(producer.state(), ref_tokens, markers, links)
        figures["speaker runs left"] = len(wrong_speaker_runs(producer.state(), ref_tokens, ref_speakers))
        figures.update(actions=producer.actions, page_seconds=round(producer.seconds, 1), fixes=producer.fixes,
                       collateral=producer.collateral, kinds=producer.kinds)
        figures["idempotent"] = same_fix_twice(page)
        figures["page errors"] = errors
        browser.close()
    server.shutdown()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variant", type=Path, help="a folder with episode.mp3, episode.toml, notes.md, episode.ref.json")
    parser.add_argument("--build", type=Path, help="that episode's build folder, already run (reused)")
    args = parser.parse_args()
    ref = json.loads((args.variant / "episode.ref.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as temporary:
        project = project_for(args.variant, args.build, Path(temporary))
        figures = session_on(project, args.variant.name, ref)
    start, end = figures["start"], figures["end"]
    print(f"{args.variant.name}: first mentions at the reference's place {start[0]}/{start[1]} at start, "
          f"{end[0]}/{end[1]} after; still off: {', '.join(end[2]) or 'none'}")
    print(f"  {figures['fixes']} fixes ({figures['link fixes']} for links, {figures['speaker fixes']} for speakers), "
          f"{figures['actions']} actions (clicks, keys, choices), page's own time {figures['page_seconds']} s; "
          f"speaker runs left {figures['speaker runs left']}; doubts at start {figures['doubts at start']}")
    print(f"  by kind: {figures['kinds']}; the same fix sent again written once: {figures['idempotent']}; "
          f"console errors: {len(figures['page errors'])}" + "".join(f"\n    {e}" for e in figures["page errors"]))
    print(f"  changed besides the fix named: {len(figures['collateral'])}" +
          "".join(f"\n    {line}" for line in figures["collateral"]))


if __name__ == "__main__":
    main()
