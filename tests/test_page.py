"""The episode page in a real headless Chromium (Debian's), served by `publish serve`'s server:
it loads cleanly, timestamps seek the player, footnotes go to their reference and back, and a
phone-width screen has no horizontal scroll."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from pipeline.commands.serve import open_server
from tests.conftest import CHROMIUM
from tests.listener_episode import publish_sample

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
pytestmark = pytest.mark.slow  # every test here drives Chromium

pytest.importorskip("playwright.sync_api", reason="needs the playwright package: pip install -e '.[test]'")
if not CHROMIUM.is_file():
    pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    destination = tmp_path_factory.mktemp("site")
    publish_sample(tmp_path_factory.mktemp("work"), destination)
    server = open_server(destination, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def open_page(browser, site_url):
    """Opens a path of the site; the page's console errors and uncaught exceptions are kept."""
    contexts = []

    def open_page(path: str, viewport: dict = DESKTOP, scripts: bool = True):
        context = browser.new_context(viewport=viewport, java_script_enabled=scripts)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(site_url + path, wait_until="networkidle")
        return page

    yield open_page
    for context in contexts:
        context.close()


def in_view_below_player(page, selector: str) -> bool:
    """Whether the element is on screen and not hidden under the sticky player."""
    return page.evaluate(
        """selector => {
            const box = document.querySelector(selector).getBoundingClientRect();
            const player = document.querySelector('.player').getBoundingClientRect();
            return box.top >= player.bottom - 1 && box.top < window.innerHeight;
        }""",
        selector,
    )


def test_pages_load_without_console_errors(open_page):
    for path in ("exemple/", ""):
        page = open_page(path)
        assert page.errors == [], path
    assert page.title() == "Imaginaires"


def test_a_timestamp_seeks_the_player(open_page):
    page = open_page("exemple/")
    turn = page.locator("p.turn").nth(4)
    start = float(turn.get_attribute("data-start"))
    assert start > 30
    assert page.evaluate("document.getElementById('player').currentTime") == 0
    turn.locator("a.time").click()
    page.wait_for_function(f"document.getElementById('player').currentTime >= {int(start)}", timeout=5000)
    position = page.evaluate("document.getElementById('player').currentTime")
    assert int(start) <= position < start + 2  # it may already be playing on
    assert page.evaluate("location.hash") == f"#t={int(start)}"
    assert page.errors == []


def test_a_shared_timestamp_link_opens_the_player_there(open_page):
    page = open_page("exemple/#t=40")
    assert page.evaluate("document.getElementById('player').currentTime") == 40


def test_a_footnote_lands_on_its_reference_and_back(open_page):
    page = open_page("exemple/")
    page.click("a#note-2")
    assert page.evaluate("location.hash") == "#ref-2"
    assert in_view_below_player(page, "#ref-2")
    assert "CNIL" in page.locator("#ref-2").inner_text()
    page.click("#ref-2 a.back")
    assert page.evaluate("location.hash") == "#note-2"
    assert in_view_below_player(page, "#note-2")


def test_without_scripts_a_timestamp_still_leads_to_its_paragraph(open_page):
    page = open_page("exemple/", scripts=False)
    turn = page.locator("p.turn").nth(6)
    anchor = turn.get_attribute("id")
    turn.locator("a.time").click()
    assert page.evaluate("location.hash") == "#" + anchor
    assert in_view_below_player(page, f'[id="{anchor}"]')


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_and_no_horizontal_scroll_on_a_phone(open_page, viewport, tmp_path):
    page = open_page("exemple/", viewport=viewport)
    shot = tmp_path / f"episode-{viewport['width']}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("SCREENSHOTS")  # a folder to keep them in, to look at
    if keep:
        shutil.copyfile(shot, Path(keep) / shot.name)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == viewport["width"]
    host, guest = (page.locator(f"p.turn.{role}").first for role in ("host", "guest"))
    assert host.evaluate("e => getComputedStyle(e).borderLeftColor") != guest.evaluate(
        "e => getComputedStyle(e).borderLeftColor"
    )


@pytest.fixture(scope="module")
def three_episode_site(tmp_path_factory):
    """Three episodes published to one folder; only the second's guest says "Antananarivo"."""
    from dataclasses import replace

    from pipeline.publishing.publish import publish_episodes
    from pipeline.publishing.targets.local import LocalFolder
    from pipeline.rendering.episode import render
    from tests.listener_episode import (
        GUEST,
        HOST,
        episode,
        mastered_audio,
        script_turns,
        show,
        timed_dialogue,
    )

    talks = {
        "un": script_turns(),
        "deux": [(HOST, "Bonjour Claire, vous revenez de loin ?"),
                 (GUEST, "Oui, de Madagascar, où des milliers de personnes annotent des images pour"
                         " des entreprises qui ne disent jamais leur nom."),
                 (HOST, "Et où travaillent-elles ?"),
                 (GUEST, "Surtout à Antananarivo, dans de petits bureaux loués à la semaine.")],
        "trois": [(HOST, "Parlons des modèles de langue."), (GUEST, "Ils apprennent de nos textes.")],
    }
    destination, built = tmp_path_factory.mktemp("show"), []
    for number, (slug, turns) in enumerate(talks.items(), start=1):
        site = tmp_path_factory.mktemp(slug)
        shown = replace(episode(), slug=slug, number=number, title=f"Épisode {slug}")
        built.append((render(show(), shown, timed_dialogue(turns), mastered_audio(), site), site))
    publish_episodes(show(), built, LocalFolder(destination), str(destination))
    said_at = int(timed_dialogue(talks["deux"]).turns[3].start)
    server = open_server(destination, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", said_at
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("start", ["", "un/"], ids=["home-page", "episode-page"])
def test_search_finds_the_turn_and_plays_the_episode_from_there(browser, three_episode_site, start):
    url, said_at = three_episode_site
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + start, wait_until="networkidle")
    page.fill(".pagefind-ui__search-input", "Antananarivo")
    episodes = page.locator(".pagefind-ui__result")
    episodes.first.wait_for(timeout=10000)
    assert episodes.count() == 1 and "Épisode deux" in episodes.first.inner_text()
    turn = episodes.first.locator(".pagefind-ui__result-nested .pagefind-ui__result-link")
    assert turn.count() == 1 and "Claire Dumas" in turn.first.inner_text()
    turn.first.click()
    page.wait_for_url(f"**/deux/#t={said_at}")
    page.wait_for_function(f"document.getElementById('player').currentTime >= {said_at}", timeout=5000)
    assert errors == []
    context.close()


def test_without_scripts_no_search_box_shows(browser, three_episode_site):
    url, _ = three_episode_site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    assert not page.locator("#search").is_visible()
    assert page.locator("ol.episodes li").count() == 3
    context.close()
