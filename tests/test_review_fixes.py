"""The review page's fixes without a browser or audio (issue 24): respelling keeps the meant
text's punctuation and drops an elided article the meant word cannot take; "not a mention";
corrections.toml written once per fix, with its line endings, inline tables and comments kept,
undone entry by entry; the server's answers to oversized, malformed and mistimed requests."""

from __future__ import annotations

import json
import threading
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.test import Client

from pipeline.corrections_file import load_fixes
from pipeline.engines.corrections import NotMention, apply_corrections
from pipeline.engines.footnotes import place_footnotes
from pipeline.engines.transcribe import _words_within
from pipeline.errors import PipelineError
from pipeline.model import Correction, Dialogue, Link, LinkFix, Segment, Turn, Word, join_words
from pipeline.review import server
from pipeline.review.changes import changed_besides
from pipeline.review.server import MAX_BODY, TOKEN_HEADER, ReviewSession, review_app

CHATGPT = Link(["ChatGPT"], "ChatGPT", "https://chatgpt.com")
TIME = Link(["Time Magazine", "une enquête"], "Time", "https://time.com")


def dialogue(text: str, start: float = 0.0) -> Dialogue:
    words = [Word(token, start + i * 0.5, start + i * 0.5 + 0.4, speaker="A") for i, token in enumerate(text.split())]
    return Dialogue([Turn("A", words)])


def corrected(text: str, heard: str, meant: str) -> str:
    return join_words(apply_corrections(dialogue(text), [Correction(heard, meant)]).turns[0].words)


def test_a_corrected_word_takes_the_meant_texts_punctuation():
    assert corrected("Bienvenue. dans", "Bienvenue.", "Bienvenue,") == "Bienvenue, dans"
    assert corrected("« bienvenu » dans", "bienvenu", "Bienvenue") == "« Bienvenue » dans"
    assert corrected("dit bienvenu. Puis", "bienvenu", "Bienvenue") == "dit Bienvenue. Puis"  # none meant: heard kept
    assert corrected("dit bienvenu. Puis", "bienvenu", "Bienvenue !") == "dit Bienvenue ! Puis"


def test_an_elided_article_stays_only_before_a_word_that_can_take_it():
    assert corrected("de l'imaginaire collectif", "imaginaire", "Microsoft") == "de Microsoft collectif"
    assert corrected("de l'imaginaire collectif", "imaginaire", "IA") == "de l'IA collectif"
    assert corrected("de l'imaginaire collectif", "imaginaire", "histoire") == "de l'histoire collectif"
    # Whisper's split ("l", "'imaginaire"): the lone "l" goes with its apostrophe.
    assert corrected("de l 'imaginaire collectif", "'imaginaire", "Microsoft") == "de Microsoft collectif"
    assert corrected("de l 'imaginaire collectif", "'imaginaire", "OpenAI") == "de l'OpenAI collectif"


def test_guessed_words_read_as_published():
    words = [Word("C", 1.0, 1.1), Word("'est", 1.1, 1.3), Word("la", 1.3, 1.5), Word("notion", 1.5, 2.0)]
    assert _words_within([Segment(1.0, 2.0, "", words)], 0.5, 2.5) == "C'est la notion"


def marked(result: Dialogue) -> list[tuple[str, float, int]]:
    return [(w.text, w.start, w.footnote) for t in result.turns for w in t.words if w.footnote is not None]


def test_not_a_mention_moves_the_marker_to_the_next_mention_or_leaves_the_link_not_found():
    heard = dialogue("on a ChatGPT puis encore ChatGPT et fin")
    assert marked(place_footnotes(heard, [CHATGPT])) == [("ChatGPT", 1.0, 1)]
    first = NotMention("ChatGPT", "ChatGPT", 0.95, 1.45)
    assert marked(place_footnotes(heard, [CHATGPT], placed_by_producer=[first])) == [("ChatGPT", 2.5, 1)]
    both = [first, NotMention("ChatGPT", "ChatGPT", 2.45, 2.95)]
    result = place_footnotes(heard, [CHATGPT], placed_by_producer=both)
    assert marked(result) == [] and [d.kind for d in result.doubts] == ["link-not-found"]


def test_not_a_mention_on_a_later_phrase_moves_it_to_its_next_match():
    heard = dialogue("le Time Magazine dit une enquête puis une enquête encore")
    assert [m[:2] for m in marked(place_footnotes(heard, [TIME]))] == [("Magazine", 1.0), ("enquête", 2.5)]
    refused = NotMention("une enquête", "une enquête", 1.95, 2.95)
    result = place_footnotes(heard, [TIME], placed_by_producer=[refused])
    assert [m[:2] for m in marked(result)] == [("Magazine", 1.0), ("enquête", 4.0)]


def test_not_mention_entries_are_read_and_checked_against_the_links(tmp_path: Path):
    path = tmp_path / "corrections.toml"
    path.write_text('[[not_mention]]\nphrase = "ChatGPT"\nheard = "ChatGPT"\nfrom = "0:41"\nto = "0:43"\n')
    fixes = load_fixes(path, ["Host"], [CHATGPT])
    assert fixes.links == [NotMention("ChatGPT", "ChatGPT", 41.0, 43.0)]
    path.write_text('[[not_mention]]\nphrase = "Gemini"\nheard = "x"\nfrom = 1\nto = 2\n')
    with pytest.raises(PipelineError, match="not_mention\\[1\\].phrase"):
        load_fixes(path, ["Host"], [CHATGPT])


# --- corrections.toml as the server writes it --------------------------------------------------


def fake_run(folder: Path) -> SimpleNamespace:
    episode = SimpleNamespace(folder=folder, guests=["Guest"], links=[CHATGPT, TIME], title="T", slug="clip")
    return SimpleNamespace(episode=episode, show=SimpleNamespace(host="Host"), work=folder)


CRLF_INLINE = ('# the producer\'s fixes\r\ncorrection = [\r\n  {heard = "a", meant = "b"},\r\n]\r\n'
               '\r\n[[accepted]] # checked\r\nkind = "word"\r\nat = "0:01.00"\r\n')


def test_an_inline_table_file_with_crlf_takes_a_fix_and_keeps_its_line_endings(tmp_path: Path):
    run = fake_run(tmp_path)
    path = tmp_path / "corrections.toml"
    path.write_bytes(CRLF_INLINE.encode())
    assert server._append(run, "correction", {"heard": "c", "meant": "d"}) is True
    assert server._append(run, "accepted", {"kind": "word", "at": "0:02.00", "heard": ""}) is True
    raw = path.read_bytes().decode()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", "")  # CRLF throughout, none bare
    assert raw.startswith("# the producer's fixes\r\n") and "# checked" in raw
    data = tomllib.loads(raw.replace("\r\n", "\n"))
    assert data["correction"] == [{"heard": "a", "meant": "b"}, {"heard": "c", "meant": "d"}]
    assert [a["at"] for a in data["accepted"]] == ["0:01.00", "0:02.00"]


def test_the_same_fix_twice_is_written_once(tmp_path: Path):
    run = fake_run(tmp_path)
    entry = {"name": "Guest", "from": "0:01.00", "to": "0:02.50"}
    assert server._append(run, "speaker", dict(entry)) is True
    assert server._append(run, "speaker", dict(entry)) is False
    (tmp_path / "corrections.toml").write_text('[[speaker]]\nname = "Guest"\nfrom = 1\nto = "0:02.5"\n')
    assert server._append(run, "speaker", dict(entry)) is False  # the same times, written otherwise
    assert len(tomllib.loads((tmp_path / "corrections.toml").read_text())["speaker"]) == 1


def test_undo_removes_one_entry_and_keeps_the_rest_and_the_comments(tmp_path: Path):
    run = fake_run(tmp_path)
    path = tmp_path / "corrections.toml"
    path.write_text('# mine\n[[correction]]\nheard = "a"\nmeant = "b"\n\n[[correction]] # keep me\n'
                    'heard = "c"\nmeant = "d"\n')
    listed = server._fixes_made(path)
    assert [f["entry"]["heard"] for f in listed] == ["a", "c"]
    server._remove(run, "correction", 0, listed[0]["entry"])
    text = path.read_text()
    assert text.startswith("# mine\n") and "# keep me" in text
    assert tomllib.loads(text) == {"correction": [{"heard": "c", "meant": "d"}]}
    with pytest.raises(server.FixRefused):
        server._remove(run, "correction", 0, listed[0]["entry"])  # gone already


# --- the server's answers ----------------------------------------------------------------------


class FakeSession(ReviewSession):
    """A session over a folder, its render replaced: what the answers say is the point here."""

    def __init__(self, folder: Path, render=lambda: ["footnotes", "render"]):
        super().__init__(project=None, slug="clip")
        self.folder, self._render = folder, render

    def open_run(self):
        return fake_run(self.folder)

    def render(self):
        return self._render()

    def page_data(self):
        return {"turns": [], "references": [], "doubts": [], "fixes": server._fixes_made(self.fixes_file),
                "pending": self.pending}


def client(session: ReviewSession) -> Client:
    return Client(review_app(session, lambda: 8080))


def post(client: Client, session, body: bytes | dict, path: str = "/api/fix"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=data, headers={"Host": "127.0.0.1:8080", TOKEN_HEADER: session.token,
                                                 "Content-Type": "application/json"})


ACCEPT = {"fix": "accepted", "kind": "word", "at": 1.0, "heard": "x"}


def test_malformed_nested_or_oversized_bodies_are_json_400_and_413(tmp_path: Path):
    session = FakeSession(tmp_path)
    web = client(session)
    nested = post(web, session, b"[" * 100000 + b"]" * 100000)
    assert nested.status_code == 413 and nested.is_json  # over the cap first
    deep = post(web, session, b"[" * 30000 + b"]" * 30000)
    assert deep.status_code == 400 and deep.json == {"error": "a fix is a JSON object"}
    assert post(web, session, b"{not json").status_code == 400
    huge = post(web, session, {**ACCEPT, "heard": "x" * (MAX_BODY + 1)})
    assert huge.status_code == 413 and "64 KiB" in huge.json["error"]
    assert not (tmp_path / "corrections.toml").exists()


def test_the_favicon_answers_without_an_error(tmp_path: Path):
    web = client(FakeSession(tmp_path))
    response = web.get("/favicon.ico", headers={"Host": "127.0.0.1:8080"})
    assert response.status_code == 204


def test_a_fix_during_a_publish_run_is_saved_answered_202_then_rendered_and_a_retry_adds_nothing(
        tmp_path: Path, monkeypatch):
    busy = threading.Event()
    busy.set()

    def render():
        if busy.is_set():
            raise PipelineError(tmp_path / ".lock", "another publish run is working on this episode")
        return ["footnotes", "render"]

    monkeypatch.setattr(server, "RETRY_S", 0.05)
    session = FakeSession(tmp_path, render)
    web = client(session)
    first = post(web, session, ACCEPT)
    assert first.status_code == 202 and first.json["saved"] is True and "publish run" in first.json["fixed"]["waiting"]
    assert session.pending is True and [f["table"] for f in first.json["fixes"]] == ["accepted"]
    again = post(web, session, ACCEPT)  # the producer retries
    assert again.status_code == 202 and again.json["saved"] is False
    assert len(tomllib.loads((tmp_path / "corrections.toml").read_text())["accepted"]) == 1
    busy.clear()
    for _ in range(100):
        if not session.pending:
            break
        threading.Event().wait(0.05)
    assert session.pending is False
    done = post(web, session, ACCEPT)
    assert done.status_code == 200 and done.json["fixed"]["written"] is False and done.json["fixed"]["changed"] == []


def test_a_render_failing_after_the_write_says_the_fix_was_saved(tmp_path: Path):
    def render():
        raise PipelineError(tmp_path / "notes.md", "broken")

    session = FakeSession(tmp_path, render)
    answer = post(client(session), session, ACCEPT)
    assert answer.status_code == 500 and answer.json["saved"] is True and "saved to corrections.toml" in answer.json["error"]


def page(markers: dict[float, tuple[str, int]], words: str = "a b c d e f", speaker: str = "A") -> dict:
    turn = [{"text": t, "start": float(i), "end": i + 0.5, "footnote": markers.get(float(i), (None, None))[1]}
            for i, t in enumerate(words.split())]
    return {"turns": [{"speaker": speaker, "words": turn}],
            "references": [{"number": n, "title": title} for title, n in markers.values()]}


def test_what_a_fix_changed_besides_itself_is_listed():
    before = page({1.0: ("One", 1), 4.0: ("Two", 2)})
    fix = {"fix": "link", "from": 0.9, "to": 1.6}
    assert changed_besides(before, page({1.0: ("One", 1), 4.0: ("Two", 2)}), fix, "One") == []
    after = page({1.0: ("One", 1), 3.0: ("Two", 2)}, words="a b c The Conversation f")
    assert changed_besides(before, after, fix, "One") == [
        "marker Two moved from 0:04 to 0:03", "words at 0:03: «d e» → «The Conversation»"]
    assert changed_besides(before, page({4.0: ("Two", 1)}), {"fix": "accepted"}, None) == [
        "marker [1] One at 0:01 removed", "1 other marker renumbered"]
    assert changed_besides(before, page({1.0: ("One", 1), 4.0: ("Two", 2)}, speaker="B"), fix, "One") == [
        "5 words from 0:00 given to B"]
    assert LinkFix  # the producer's link fixes travel with not-mentions (Fixes.links)


def test_not_a_mention_also_takes_back_a_marker_the_producer_placed():
    heard = dialogue("on a chat puis ChatGPT et fin")
    placed = LinkFix("ChatGPT", "chat", 0.95, 1.45)
    assert marked(place_footnotes(heard, [CHATGPT], placed_by_producer=[placed]))[0][1] == 1.0
    refused = NotMention("ChatGPT", "chat", 0.95, 1.45)
    assert marked(place_footnotes(heard, [CHATGPT], placed_by_producer=[placed, refused])) == [("ChatGPT", 2.0, 1)]


def test_accepting_one_link_not_found_leaves_the_others_sharing_its_stretch():
    from pipeline.engines.doubts import review_items
    from pipeline.model import Accepted, Doubt

    doubts = [Doubt("link-not-found", 26.05, 28.95, "", title) for title in ("CNIL", "Wikipédia")]
    left = review_items(Dialogue([], doubts=doubts), [Accepted("link-not-found", 26.05, "CNIL")])
    assert [d.chose for d in left] == ["Wikipédia"]
    assert review_items(Dialogue([], doubts=doubts), [Accepted("link-not-found", 26.05)]) == []  # by hand: both


def test_doubted_words_are_one_doubt_per_sentence_stretch():
    from pipeline.engines.doubts import DoubtOptions, word_doubts

    low, high = DoubtOptions().doubted_word - 0.1, 0.9
    probabilities = [low, high, low, high, high, low,  # one sentence: 3 doubted words, 2 or 3 apart
                     high, high, high, high, high, high, low]  # then 5 sure words (a gap) and one more
    texts = ["un", "deux", "trois", "quatre", "cinq", "six.", "Sept", "huit", "neuf", "dix", "onze", "douze", "treize"]
    words = [Word(t, i * 1.0, i + 0.5, p) for i, (t, p) in enumerate(zip(texts, probabilities))]
    doubts = word_doubts(Dialogue([Turn("A", words)]))
    assert [(d.start, d.end, d.heard) for d in doubts] == [(0.0, 5.5, "un deux trois quatre cinq six."),
                                                           (12.0, 12.5, "treize")]
    assert "«un», «trois», «six»" in doubts[0].note
    words[5] = Word("six", 5.0, 5.5, low)  # no sentence end: the gap alone parts them
    words[12] = Word("treize", 12.0, 12.5, low)
    assert len(word_doubts(Dialogue([Turn("A", words)]))) == 2
