"""The published page's player follows a change of `#t=` alone (issue 24): a search result in
the episode already open changes only the address's fragment, and the player must seek there."""

from __future__ import annotations

import shutil
import threading
from importlib import resources

import pytest

from pipeline.commands.serve import open_server
from tests.conftest import make_silence

pytestmark = pytest.mark.slow  # drives Chromium


@pytest.fixture
def page_with_player(tmp_path, browser):
    make_silence(tmp_path / "a.mp3", 60)
    shutil.copyfile(resources.files("pipeline").joinpath("assets", "player.js"), tmp_path / "player.js")
    (tmp_path / "index.html").write_text(
        '<!doctype html><title>t</title><audio id="player" src="a.mp3" preload="auto" muted></audio>'
        '<p class="turn" data-start="0"><a class="time" href="#t=5">0:05</a> Bonjour.</p>'
        '<script src="player.js"></script>', encoding="utf-8")
    server = open_server(tmp_path, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{server.server_port}/", wait_until="networkidle")
    yield page
    context.close()
    server.shutdown()
    server.server_close()


def test_a_change_of_the_time_in_the_address_alone_seeks_the_player(page_with_player):
    page = page_with_player
    page.evaluate("location.hash = '#t=20'")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 20) < 1.5", timeout=5000)
    page.evaluate("location.hash = '#t=42'")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 42) < 1.5", timeout=5000)
    assert abs(page.evaluate("document.getElementById('player').currentTime") - 42) < 1.5
