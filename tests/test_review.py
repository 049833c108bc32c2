"""`publish review`: the producer's review page in a real headless Chromium, on a short real
episode (the sample's first 30 s through every stage). Each kind of fix is made through the page;
then the episode's corrections.toml is read back and `publish status` must show that transcribe
and diarize were not redone."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
import tomllib

import pytest

from pipeline.build.project import Project as Runs
from pipeline.cli import main
from pipeline.review.server import TOKEN_HEADER, ReviewSession, open_review_server
from tests.conftest import make_project


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, sample_clip):
    """The sample clip rendered once (every stage up to render): copied for each test."""
    project = make_project(tmp_path_factory.mktemp("review"))
    project.add_episode("clip", sample_clip)
    ReviewSession(Runs(project.show, project.episodes, project.work), "clip").render()
    return project


@pytest.fixture
def review(rendered, tmp_path):
    """A fresh copy of the rendered project under review: (session, base URL, project)."""
    shutil.copytree(rendered.root, tmp_path / "project")
    project = type(rendered)(tmp_path / "project")
    for file in project.root.rglob("*"):  # the show file names its own destination
        if file.name == "show.toml":
            file.write_text(file.read_text().replace(str(rendered.root), str(project.root)))
    session = ReviewSession(Runs(project.show, project.episodes, project.work), "clip")
    server = open_review_server(session)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield session, f"http://127.0.0.1:{server.server_port}", project
    server.shutdown()
    server.server_close()


@pytest.fixture
def open_page(browser, review):
    session, base, _ = review
    contexts = []

    def open_page():
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{base}/?token={session.token}", wait_until="networkidle")
        page.wait_for_selector(".w")
        return page

    yield open_page
    for context in contexts:
        context.close()


def fixes(project) -> dict:
    path = project.episodes / "clip" / "corrections.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def stage_states(project, capsys) -> dict[str, str]:
    capsys.readouterr()
    assert main(["status", "clip", "--show", str(project.show), "--episodes", str(project.episodes),
                 "--work", str(project.work)]) == 0
    return dict(line.split()[:2] for line in capsys.readouterr().out.splitlines())


def saved(page) -> None:
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')", timeout=60000)


def request(base: str, method: str, path: str, headers: dict | None = None, body: dict | None = None):
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.slow
def test_requests_without_the_pages_token_are_refused(review):
    session, base, project = review
    fix = {"fix": "correction", "heard": "bonjour", "meant": "Bonsoir", "from": 0, "to": 30}
    assert request(base, "GET", "/")[0] == 403
    assert request(base, "GET", "/?token=not-the-token")[0] == 403
    assert request(base, "GET", "/api/review")[0] == 403
    assert request(base, "GET", "/api/review", {TOKEN_HEADER: "x" * 32})[0] == 403
    assert request(base, "POST", "/api/fix", {TOKEN_HEADER: "nope"}, fix)[0] == 403
    # The token in the address alone does not let another page post a fix (no custom header) ...
    assert request(base, "POST", f"/api/fix?token={session.token}", {}, fix)[0] == 403
    # ... nor does a request from another site's page, or through another host name.
    assert request(base, "POST", "/api/fix", {TOKEN_HEADER: session.token, "Origin": "http://evil.example"}, fix)[0] == 403
    assert request(base, "GET", "/api/review", {TOKEN_HEADER: session.token, "Host": "evil.example"})[0] == 403
    assert fixes(project) == {}
    status, body = request(base, "GET", "/api/review", {TOKEN_HEADER: session.token})
    assert status == 200 and json.loads(body)["slug"] == "clip"


@pytest.mark.slow
def test_a_fix_that_does_not_fit_the_episode_is_refused_and_writes_nothing(review):
    session, base, project = review
    headers = {TOKEN_HEADER: session.token, "Content-Type": "application/json"}
    status, body = request(base, "POST", "/api/fix", headers,
                           {"fix": "speaker", "name": "Somebody Else", "from": 1.0, "to": 2.0})
    assert status == 400 and "'Somebody Else' is not in the episode" in json.loads(body)["error"]
    status, _ = request(base, "POST", "/api/fix", headers, {"fix": "correction", "heard": "x", "from": 1, "to": 2})
    assert status == 400
    assert not (project.episodes / "clip" / "corrections.toml").exists()


@pytest.mark.slow
def test_keyboard_walks_through_the_doubts_and_a_click_plays_from_before_the_word(open_page):
    page = open_page()
    count = page.locator("#doubt-count").inner_text()
    total = int(count.split("/")[1])
    assert count == f"1 / {total}" and total >= 2  # links the 30 s never says, at least
    page.keyboard.press("n")
    assert page.locator("#doubt-count").inner_text() == f"2 / {total}"
    second = page.evaluate("page.doubts[1].start")
    assert page.evaluate("player.currentTime") == pytest.approx(max(0.0, second - 3), abs=0.05)
    page.keyboard.press("p")
    page.keyboard.press("p")  # from the first, back round to the last
    assert page.locator("#doubt-count").inner_text() == f"{total} / {total}"
    word = page.locator(".w").nth(20)
    start = float(word.get_attribute("data-start"))
    word.click()
    assert page.evaluate("player.currentTime") == pytest.approx(max(0.0, start - 3), abs=0.3)
    assert page.errors == []


@pytest.mark.slow
def test_a_word_corrected_on_the_page_goes_to_corrections_toml_and_nothing_is_transcribed_again(
        open_page, review, capsys):
    _, _, project = review
    page = open_page()
    word = page.locator(".w").nth(3)
    heard, start = word.inner_text(), float(word.get_attribute("data-start"))
    word.click()
    page.fill("#meant", "Bonsoir")
    page.click("#correct")
    saved(page)
    [entry] = fixes(project)["correction"]
    assert entry["heard"] == heard and entry["meant"] == "Bonsoir"
    assert entry["from"] < entry["to"] and abs(float(entry["from"].split(":")[1]) - start) < 0.1
    assert page.locator(".w").nth(3).inner_text() == "Bonsoir"
    assert "re-rendered in" in page.locator("#status").inner_text()
    states = stage_states(project, capsys)
    assert states["transcribe"] == states["diarize"] == states["footnotes"] == states["render"] == "done"


@pytest.mark.slow
def test_a_link_placed_on_selected_words_is_marked_there(open_page, review):
    session, _, project = review
    page = open_page()
    missing = page.evaluate("page.doubts.filter(d => d.kind === 'link-not-found').map(d => d.chose)")
    link = next(each for each in page.evaluate("page.links") if each["title"] in missing)
    page.locator(".w").nth(10).click()
    page.locator(".w").nth(11).click(modifiers=["Shift"])
    page.select_option("#link", link["phrase"])
    page.click("#place")
    saved(page)
    written = fixes(project)
    assert written["link"][0]["phrase"] == link["phrase"] and written["correction"][0]["meant"] == link["phrase"]
    number = next(r["number"] for r in page.evaluate("page.references") if r["title"] == link["title"])
    assert page.locator(f'sup.fn[data-footnote="{number}"]').count() == 1
    marked_after = page.evaluate(f"""document.querySelector('sup.fn[data-footnote="{number}"]')
                                     .previousElementSibling.textContent""")
    assert link["phrase"].split()[-1] in marked_after
    assert link["title"] not in page.evaluate("page.doubts.map(d => d.chose)")


@pytest.mark.slow
def test_the_rest_of_a_turn_is_given_to_the_other_speaker(open_page, review):
    _, _, project = review
    page = open_page()
    people = page.evaluate("page.people")
    turns = page.evaluate("page.turns.map(t => [t.speaker, t.words.length])")
    turn, (speaker, length) = next((i, t) for i, t in enumerate(turns) if t[1] >= 8)
    other = next(p for p in people if p != speaker)
    page.locator(f'.w[data-turn="{turn}"][data-word="5"]').click()
    page.select_option("#person", other)
    page.click("#give-rest")
    saved(page)
    [entry] = fixes(project)["speaker"]
    assert entry["name"] == other
    after = page.evaluate("page.turns.map(t => [t.speaker, t.words.length])")
    assert after[turn] == [speaker, 5] and after[turn + 1][0] == other


@pytest.mark.slow
def test_a_doubt_accepted_as_right_is_no_longer_flagged(open_page, review):
    _, _, project = review
    page = open_page()
    before = page.evaluate("page.doubts")
    page.keyboard.press("a")
    saved(page)
    [entry] = fixes(project)["accepted"]
    assert entry["kind"] == before[0]["kind"]
    assert page.evaluate("page.doubts.length") == len(before) - 1


@pytest.mark.slow
def test_two_tabs_keep_each_others_fixes(open_page, review):
    _, _, project = review
    first, second = open_page(), open_page()  # both loaded before either fixes anything
    for page, meant in ((first, "Alpha"), (second, "Bravo")):
        page.locator(".w").nth(15 if meant == "Alpha" else 25).click()
        page.fill("#meant", meant)
        page.click("#correct")
        saved(page)
    assert [c["meant"] for c in fixes(project)["correction"]] == ["Alpha", "Bravo"]
    assert "Alpha" in second.locator("#transcript").inner_text()  # the second tab shows both


def test_reviewing_an_episode_that_is_not_there_is_one_clear_error(tmp_path, capsys):
    project = make_project(tmp_path)
    code = main(["review", "absent", "--no-browser", "--show", str(project.show), "--episodes",
                 str(project.episodes), "--work", str(project.work)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "absent" in err


@pytest.mark.slow
def test_the_page_loads_without_console_errors_and_lists_the_doubts_by_kind_links_first(browser, review):
    session, base, _ = review
    context = browser.new_context()
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(message))
    page.goto(f"{base}/?token={session.token}", wait_until="networkidle")
    page.wait_for_selector(".w")
    assert [m.text for m in messages if m.type == "error"] == []
    headings = page.locator("#doubt-list h3").all_inner_texts()
    assert headings[0].startswith("Links not found") and any(h.startswith("Unsure words") for h in headings)
    total = page.evaluate("page.doubts.length")
    links = page.evaluate("page.doubts.filter(d => d.kind.startsWith('link') || d.kind === 'second-chance').length")
    assert f"{total} left ({links} about links)" in page.locator("#progress").inner_text()
    page.click("#links-only")
    assert page.locator("#doubt-count").inner_text() == f"1 / {links}"
    assert page.locator("#doubt-list li").count() == links
    page.locator("#doubt-list li button").nth(1).click()
    assert page.locator("#doubt-count").inner_text() == f"2 / {links}"
    context.close()


@pytest.mark.slow
def test_listening_keys_and_typing_a_fix_without_stopping_the_audio(open_page):
    page = open_page()
    page.keyboard.press("]")
    assert page.evaluate("player.playbackRate") == 1.25
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert page.evaluate("player.playbackRate") == 0.75
    page.evaluate("player.currentTime = 10")
    page.keyboard.press("r")
    assert page.evaluate("player.currentTime") == pytest.approx(8, abs=0.3)
    page.keyboard.press("l")
    assert page.is_checked("#loop")
    page.locator(".w").nth(5).click()
    page.evaluate("player.muted = true; player.play()")
    before = page.locator("#doubt-count").inner_text()
    page.fill("#meant", "")
    page.locator("#meant").type("n p a r l")  # shortcuts' letters, typed as a fix: none fires
    assert page.locator("#doubt-count").inner_text() == before and page.input_value("#meant") == "n p a r l"
    assert page.evaluate("player.playbackRate") == 0.75 and page.evaluate("player.paused") is False
    assert page.errors == []


@pytest.mark.slow
def test_a_fix_is_listed_says_nothing_else_changed_and_undo_takes_it_back(open_page, review):
    _, _, project = review
    page = open_page()
    word = page.locator(".w").nth(3)
    heard = word.inner_text()
    word.click()
    page.fill("#meant", "Bonsoir")
    page.click("#correct")
    saved(page)
    assert page.locator("#changed").inner_text() == "Nothing else changed."
    assert "«Bonsoir»" in page.locator("#fixes").inner_text()
    page.click("#fixes button.undo")
    saved(page)
    assert "correction" not in fixes(project)
    assert page.locator(".w").nth(3).inner_text() == heard
    assert page.locator("#fixes").inner_text() == "None yet."


@pytest.mark.slow
def test_not_a_mention_removes_a_marker_and_the_link_becomes_a_doubt(open_page, review):
    _, _, project = review
    page = open_page()
    markers = page.locator("sup.fn").count()
    title = page.evaluate("page.references.find(r => r.number === 1).title")
    page.click('sup.fn[data-footnote="1"]')
    assert title in page.locator("#not-mention").inner_text()
    page.click("#not-mention")
    saved(page)
    [entry] = fixes(project)["not_mention"]
    assert entry["phrase"] == "Imaginaires"
    assert page.locator("sup.fn").count() == markers - 1
    assert title in page.evaluate("page.doubts.filter(d => d.kind === 'link-not-found').map(d => d.chose)")


@pytest.mark.slow
def test_a_candidate_spot_is_placed_in_one_click_and_every_phrase_is_offered(open_page, review):
    session, _, project = review
    review_file = project.work / "clip" / "review.json"
    data = json.loads(review_file.read_text())
    missing = next(item for item in data["items"] if item["kind"] == "link-not-found")
    link = next(each for each in session.page_data()["links"] if each["title"] == missing["chose"])
    words = [w for turn in session.page_data()["turns"] for w in turn["words"]]
    missing["candidates"] = [{"start": words[12]["start"], "end": words[13]["end"], "heard": "x", "score": 0.5}]
    review_file.write_text(json.dumps(data))
    page = open_page()
    page.locator("#doubt-list button", has_text=missing["chose"]).click()
    assert page.locator("#candidates li").count() == 1
    page.locator(".w").nth(20).click()  # words selected while a link's doubt is shown: that link offered
    assert page.input_value("#link") == link["phrase"]
    page.keyboard.press("Escape")
    page.click("#candidates .place-here")
    saved(page)
    [entry] = fixes(project)["link"]
    assert entry["phrase"] == link["phrase"] and entry["heard"]
    options = page.eval_on_selector_all("#link option", "os => os.map(o => o.value)")
    assert options == [p for each in page.evaluate("page.links") for p in each["phrases"]]


@pytest.mark.slow
def test_the_same_fix_sent_twice_is_written_once_and_says_so(review):
    session, base, project = review
    headers = {TOKEN_HEADER: session.token, "Content-Type": "application/json"}
    fix = {"fix": "speaker", "name": session.page_data()["people"][1], "from": 1.0, "to": 2.5}
    first_status, first = request(base, "POST", "/api/fix", headers, fix)
    second_status, second = request(base, "POST", "/api/fix", headers, fix)
    assert (first_status, second_status) == (200, 200)
    assert json.loads(first)["fixed"]["written"] is True and json.loads(second)["fixed"]["written"] is False
    assert len(fixes(project)["speaker"]) == 1
    assert json.loads(second)["fixed"]["changed"] == []


@pytest.mark.slow
def test_a_fix_during_a_publish_run_is_saved_and_rendered_when_the_run_ends(review, monkeypatch):
    from pipeline.build.runner import episode_lock
    from pipeline.review import server

    monkeypatch.setattr(server, "RETRY_S", 0.2)
    session, base, project = review
    headers = {TOKEN_HEADER: session.token, "Content-Type": "application/json"}
    fix = {"fix": "speaker", "name": session.page_data()["people"][1], "from": 1.0, "to": 2.5}
    with episode_lock(project.work / "clip"):  # a `publish episode clip` at work
        status, body = request(base, "POST", "/api/fix", headers, fix)
        assert status == 202 and "publish run" in json.loads(body)["fixed"]["waiting"]
        assert len(fixes(project)["speaker"]) == 1 and session.pending
    for _ in range(300):
        if not session.pending:
            break
        threading.Event().wait(0.1)
    assert not session.pending
    status, body = request(base, "POST", "/api/fix", headers, fix)  # the producer's retry
    assert status == 200 and json.loads(body)["fixed"]["written"] is False
    assert len(fixes(project)["speaker"]) == 1
