"""What careless or hostile input cannot break, and what listeners' apps read (issue 13's items).

Each test reproduces one way in which input used to get through or output used to be wrong.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import podcastparser
import pytest
from lxml import etree
from PIL import Image

from pipeline.commands.serve import open_server
from pipeline.errors import PipelineError
from pipeline.model import Word, join_words
from pipeline.publishing.feed import build_feed
from pipeline.publishing.feed_check import NS
from pipeline.publishing.targets.local import LocalFolder
from tests.conftest import SAMPLE, make_show
from tests.test_bad_input import assert_refused
from tests.test_feed import BASE, make_item
from tests.test_serve import get

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


def set_key(path: Path, key: str, value: str) -> None:
    """The TOML file with `key = value` (a TOML literal) in place of its line for that key."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith(f"{key} =")]
    path.write_text(f"{key} = {value}\n" + "\n".join(lines) + "\n", encoding="utf-8")


def test_a_title_standing_in_for_the_description_is_escaped():
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    item = make_item("sans-notes", 1, "2026-11-20", title=hostile, description_html="")
    feed = build_feed(make_show(base_url=BASE), [replace(item, guid="g")])
    entry = etree.fromstring(feed).find("channel/item")
    for text in (entry.findtext("description"), entry.findtext("content:encoded", namespaces=NS)):
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;" in text


@pytest.mark.parametrize("where", ["episodes", "build", "feeds", "."])
def test_a_destination_overlapping_the_project_is_refused_and_nothing_is_deleted(project, capsys, where):
    project.add_episode("ep", SAMPLE / "audio.mp3")
    before = sorted(p for p in project.root.rglob("*"))
    result = project.publish(capsys, "episode", "ep", "--to", str(project.root / where), "--prune")
    assert_refused(result, project, r"this destination overlaps .*publish to a folder of its own")
    assert sorted(p for p in project.root.rglob("*")) == before


@pytest.mark.parametrize("value, names", [
    ('"Un titre \\u0001 caché"', r"episode\.toml: key 'title': a control character \(U\+0001\)"),
    ('"Un titre \\u202e3pm.exe"', r"episode\.toml: key 'title': a bidirectional override \(U\+202E\)"),
])
def test_unprintable_characters_in_the_episode_file_are_refused(project, capsys, value, names):
    folder = project.add_episode("ep", SAMPLE / "audio.mp3")
    set_key(folder / "episode.toml", "title", value)
    assert_refused(project.publish(capsys, "episode", "ep"), project, names)


def test_a_control_character_in_the_notes_names_the_line(project, capsys):
    folder = project.add_episode("ep", SAMPLE / "audio.mp3")
    (folder / "notes.md").write_text("Première ligne\n\nUn saut\x0cde page\n", encoding="utf-8")
    assert_refused(project.publish(capsys, "episode", "ep"), project,
                   r"notes\.md: line 3: a control character \(U\+000C\)")


@pytest.mark.parametrize("slug", ["nl\n", "x" * 65, "x" * 248, "x" * 300, "_lead", "Majuscule"])
def test_slugs_that_cannot_be_folders_everywhere_are_refused(project, capsys, slug):
    project.episodes.mkdir()
    result = project.publish(capsys, "episode", slug)
    assert_refused(result, project, r"not a valid episode slug: 1 to 64 lowercase letters")
    assert "Traceback" not in result.err


@pytest.mark.parametrize("audio", ["../outside.mp3", "/tmp/outside.mp3", "link.mp3"])
def test_audio_from_outside_the_episode_folder_is_refused(project, capsys, tmp_path, audio):
    folder = project.add_episode("ep", SAMPLE / "audio.mp3")
    outside = project.episodes / "outside.mp3"
    shutil.copyfile(SAMPLE / "audio.mp3", outside)
    if audio.startswith("/"):
        audio = str(outside)
    if audio == "link.mp3":
        os.symlink(outside, folder / "link.mp3")
    set_key(folder / "episode.toml", "audio", f'"{audio}"')
    assert_refused(project.publish(capsys, "episode", "ep"), project,
                   r"episode\.toml: key 'audio': .* is outside .*; put the file in that folder")


def _png(path: Path, width: int, height: int) -> Path:
    Image.new("RGB", (width, height), "navy").save(path, "PNG")
    return path


@pytest.mark.parametrize("make, names", [
    (lambda p: p.write_text("not an image"), r"is not a readable image"),
    (lambda p: _png(p, 1400, 1000), r"is 1400x1000 pixels; podcast apps need a square of 1400 to 3000"),
    (lambda p: _png(p, 600, 600), r"is 600x600 pixels"),
], ids=["text-named-png", "not-square", "too-small"])
def test_artwork_must_be_a_square_jpeg_or_png_of_the_right_size(project, capsys, make, names):
    project.add_episode("ep", SAMPLE / "audio.mp3")
    make(project.root / "feeds" / "cover.png")
    set_key(project.show, "artwork", '"cover.png"')
    assert_refused(project.publish(capsys, "episode", "ep"), project, rf"show\.toml: key 'artwork': cover\.png {names}")


def test_artwork_outside_the_show_folder_is_refused(project, capsys):
    project.add_episode("ep", SAMPLE / "audio.mp3")
    set_key(project.show, "artwork", '"../episodes/../../artwork.jpg"')
    assert_refused(project.publish(capsys, "episode", "ep"), project, r"key 'artwork': .* is outside")


def test_an_endpoint_url_with_a_password_is_refused_without_printing_it(project, capsys):
    project.add_episode("ep", SAMPLE / "audio.mp3")
    with project.show.open("a", encoding="utf-8") as show:
        show.write('s3_endpoint_url = "https://producer:hunter2@minio.example.org"\n')
    result = project.publish(capsys, "episode", "ep", "--to", "s3://bucket/podcast")
    assert_refused(result, project, r"key 's3_endpoint_url': holds a user name or password")
    assert "hunter2" not in result.err + result.out


def test_a_link_in_the_destination_is_not_written_through(tmp_path):
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir(), elsewhere.mkdir()
    (site / "ep").symlink_to(elsewhere)
    page = tmp_path / "index.html"
    page.write_text("<p>page</p>")
    with pytest.raises(PipelineError, match="leads out of .* through a link"):
        LocalFolder(site).put({"ep/index.html": page})
    # A leftover .partial link must not be written through either.
    (site / "feed.xml.partial").symlink_to(elsewhere / "victim")
    LocalFolder(site).put({"feed.xml": page})
    assert list(elsewhere.iterdir()) == [] and (site / "feed.xml").read_text() == "<p>page</p>"


def test_the_preview_server_does_not_follow_links_out_of_its_folder(tmp_path):
    site, secret = tmp_path / "site", tmp_path / "secret"
    site.mkdir(), secret.mkdir()
    (secret / "passwd").write_text("root:x:0:0")
    (site / "index.html").write_text("<p>site</p>")
    (site / "etclink").symlink_to(secret)
    server = open_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert get(server.server_port, "/index.html")[0].status == 200
        response, body = get(server.server_port, "/etclink/passwd")
        assert response.status == 404 and b"root" not in body
    finally:
        server.shutdown()
        server.server_close()


def words(text: str) -> list[Word]:
    return [Word(token, 0.0, 0.1) for token in text.split()]


def test_hyphenated_and_elided_words_print_whole():
    assert join_words(words("qu 'est -ce que Fou -Fou dit ?")) == "qu'est-ce que Fou-Fou dit ?"
    assert join_words(words("là -bas, m 'Imaginaires")) == "là-bas, m'Imaginaires"
    assert join_words(words("oui - et non")) == "oui - et non"  # a dash between words stays apart


def test_the_feed_gives_every_item_what_apple_asks_and_lists_the_page_as_a_transcript():
    show = make_show(base_url=BASE, explicit=False, copyright="© 2026 Imaginaires")
    items = [make_item("ep", 1, "2026-11-20", guid="g1"), make_item("cru", 2, "2026-11-27", explicit=True, guid="g2")]
    feed = build_feed(show, items)
    channel = etree.fromstring(feed).find("channel")
    assert channel.findtext("copyright") == "© 2026 Imaginaires"
    assert channel.findtext("image/url") == f"{BASE}/{show.artwork.name}"
    explicit = {}
    for item in channel.findall("item"):
        assert item.find(f"{ITUNES}image").get("href") == f"{BASE}/{show.artwork.name}"
        explicit[item.findtext("guid")] = item.findtext(f"{ITUNES}explicit")
    assert explicit == {"g1": "false", "g2": "true"}
    parsed = podcastparser.parse(BASE, io.BytesIO(feed))
    assert all(episode["episode_art_url"] for episode in parsed["episodes"])
    html_transcripts = [t for t in channel.iter("{https://podcastindex.org/namespace/1.0}transcript")
                        if t.get("type") == "text/html"]
    assert len(html_transcripts) == 2
