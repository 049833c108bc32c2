"""Trust and reach (issue 25): drafts stay on the machine, the lock file is not published, and
episode pages carry what a link preview, an embed and podcast apps read."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import feedparser
import pytest
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from PIL import Image
from werkzeug.test import Client

from pipeline.commands.serve import open_server, site_app
from pipeline.config import load_episode, load_show
from pipeline.engines.mastering import ffmpeg_exe
from pipeline.errors import PipelineError
from pipeline.model import Chapter, Person
from pipeline.publishing.feed import build_feed
from pipeline.publishing.feed_check import NS, check_feed
from pipeline.publishing.targets.local import LEGACY_LOCK_FILE, LocalFolder, lock_path
from pipeline.rendering import chapters as chapter_files
from pipeline.rendering import transcript_files
from pipeline.rendering.episode import render, render_index
from tests.conftest import REPO, make_show, publish_one, render_by_hand
from tests.listener_episode import GUEST, HOST, episode, mastered_audio, script_turns, show, timed_dialogue

# Drafts


@pytest.mark.slow
def test_a_draft_is_rendered_and_never_published_except_to_a_folder_given(project, sample_clip, capsys,
                                                                            tmp_path):
    toml = project.add_episode("brouillon", sample_clip) / "episode.toml"
    toml.write_text("draft = true\n" + toml.read_text(encoding="utf-8"), encoding="utf-8")
    held = project.publish(capsys, "episode", "brouillon")
    assert held.code == 0, held.err
    site = project.work / "brouillon" / "site"
    assert "brouillon: a draft" in held.out and "not published" in held.out
    assert f"publish serve {site}" in held.out and "--to DIR" in held.out
    assert (site / "brouillon" / "index.html").is_file()  # rendered, to preview
    assert not project.site.exists()  # the show's destination never saw it
    to_bucket = project.publish(capsys, "episode", "brouillon", "--to", "s3://bucket/podcast")
    assert to_bucket.code == 0 and "not published" in to_bucket.out  # no request was made
    preview = tmp_path / "preview"
    shown = project.publish(capsys, "episode", "brouillon", "--to", str(preview))
    assert shown.code == 0, shown.err
    assert (preview / "brouillon" / "index.html").is_file()
    assert b"brouillon" not in (preview / "feed.xml").read_bytes()  # still out of feed and catalogue


# The lock file


def test_the_lock_file_is_outside_the_published_folder_and_never_served(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLISH_CACHE", str(tmp_path / "cache"))
    site, built = tmp_path / "site", tmp_path / "build"
    (site).mkdir()
    (site / LEGACY_LOCK_FILE).write_text("")  # left by an older version
    rendered = render_by_hand(built, "ep1", 1)
    publish_one(make_show(), rendered, built, LocalFolder(site), str(site))
    assert not list(site.rglob(".*"))
    with LocalFolder(site).show_lock():
        assert lock_path(site).is_file() and not lock_path(site).is_relative_to(site)
    assert not lock_path(site).exists()  # removed once released: none pile up
    (site / LEGACY_LOCK_FILE).write_text("")
    client = Client(site_app(site))
    assert client.get("/ep1/index.html").status_code == 200
    assert client.get(f"/{LEGACY_LOCK_FILE}").status_code == 404
    assert client.get("/ep1/.hidden").status_code == 404


# Episode pages that travel: link cards, canonical URL, JSON-LD, the embeddable player


class Head(HTMLParser):
    """The page's <meta>, <link> and JSON-LD."""

    def __init__(self, markup: str):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.structured: list[str] = []
        self._in_json = False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs.get("name")] = attrs.get("content")
        elif tag == "link":
            self.links[attrs.get("rel")] = attrs.get("href")
        self._in_json = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_json:
            self.structured.append(data)

    def handle_endtag(self, tag):
        self._in_json = False


def absolute(url: str | None) -> bool:
    parts = urlparse(url or "")
    return parts.scheme == "https" and bool(parts.netloc)


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    people = [Person(GUEST, "guest", "https://example.org/claire", "https://example.org/claire.jpg")]
    render(show(), episode(people=people, season=2), timed_dialogue(script_turns()), mastered_audio(), site)
    return site


def test_the_episode_page_carries_a_card_with_absolute_urls(sample_site):
    head = Head((sample_site / "exemple" / "index.html").read_text(encoding="utf-8"))
    page = "https://imaginaires.example.org/exemple/"
    assert head.links["canonical"] == page and head.meta["og:url"] == page
    assert head.meta["og:title"] == head.meta["twitter:title"] == episode().title
    assert head.meta["og:description"] and head.meta["og:description"] == head.meta["twitter:description"]
    assert len(head.meta["og:description"]) <= 201
    for key in ("og:url", "og:image", "og:audio", "twitter:image", "twitter:player"):
        assert absolute(head.meta[key]), (key, head.meta[key])
    assert head.meta["og:image"] == "https://imaginaires.example.org/artwork.jpg"
    assert head.meta["og:audio"] == page + "exemple.mp3"
    assert head.meta["twitter:card"] == "player" and head.meta["twitter:player"] == page + "embed/"
    (structured,) = head.structured
    data = json.loads(structured)
    assert data["@type"] == "PodcastEpisode" and data["url"] == page and data["episodeNumber"] == 1
    assert data["associatedMedia"]["contentUrl"] == page + "exemple.mp3"
    assert data["partOfSeries"] == {"@type": "PodcastSeries", "name": "Imaginaires",
                                    "url": "https://imaginaires.example.org/"}
    assert data["partOfSeason"]["seasonNumber"] == 2
    assert {"@type": "Person", "name": GUEST, "url": "https://example.org/claire"} in data["actor"]


def test_the_episode_page_gives_its_iframe_snippet_and_the_embed_page_exists(sample_site):
    page = (sample_site / "exemple" / "index.html").read_text(encoding="utf-8")
    snippet = html.unescape(page.split('<textarea id="embed-code" readonly rows="3">')[1].split("</textarea>")[0])
    assert snippet.startswith('<iframe src="https://imaginaires.example.org/exemple/embed/" title="')
    assert 'for="embed-code"' in page  # the snippet's box has a label
    embed = (sample_site / "exemple" / "embed" / "index.html").read_text(encoding="utf-8")
    assert 'src="../exemple.mp3"' in embed and 'data-transcript="../transcript.json"' in embed
    assert "embed-chapters" in embed and "Question 1" in embed
    assert (sample_site / "assets" / "embed.js").is_file()


def test_the_home_page_lists_subscribe_and_funding_links(tmp_path):
    item = render_by_hand(tmp_path, "ep1", 1).item
    page = render_index(make_show(), [item]).decode()
    for label in ("Apple Podcasts", "Spotify", "Deezer", "Pocket Casts", "AntennaPod"):
        assert f"Écouter sur {label}</a>" in page
    assert 'href="https://fr.tipeee.com/imaginaires">Soutenir Imaginaires sur Tipeee</a>' in page
    head = Head(page)
    assert head.links["canonical"] == "https://imaginaires.example.org/" and absolute(head.meta["og:image"])


def test_the_search_box_has_a_label_and_one_search_landmark():
    base = (REPO / "pipeline" / "templates" / "base.html").read_text(encoding="utf-8")
    assert 'id="search"' in base and 'role="search"' not in base and "data-label=" in base
    script = (REPO / "pipeline" / "assets" / "search.js").read_text(encoding="utf-8")
    assert 'document.createElement("label")' in script and "label.htmlFor = input.id" in script


# Chapters, captions


def test_automatic_chapters_need_no_question_mark(tmp_path):
    long_answer = " ".join(["mot"] * 40)  # 13 s at the script's pace
    turns = [(HOST, "Bonjour et bienvenue."), (GUEST, "Bonjour."),
             (HOST, "Parlons du règlement européen."), (GUEST, long_answer),
             (HOST, "Et les modèles génératifs."), (GUEST, long_answer),
             (HOST, "Merci, à bientôt.")]  # the closing words: no answer follows, no chapter
    dialogue = timed_dialogue(turns)
    chapters = chapter_files.episode_chapters(episode(), dialogue, HOST)
    assert [c.title for c in chapters] == [episode().title, "Question 1", "Question 2"]
    assert [c.start for c in chapters[1:]] == [dialogue.turns[2].start, dialogue.turns[4].start]
    given = [Chapter(0.0, "Début"), Chapter(30.0, "Suite")]  # the producer's still win
    assert chapter_files.episode_chapters(episode(chapters=given), dialogue, HOST) == given


def test_chapter_ids_are_short_and_chap_frames_in_time_order(tmp_path):
    chapters = [Chapter(5.0 * n, ("Un titre long " * (n % 3)) + f"partie {n}") for n in range(12)]
    render(show(), episode(chapters=chapters), timed_dialogue(script_turns()), mastered_audio(), tmp_path)
    mp3 = tmp_path / "exemple" / "exemple.mp3"
    frames = ID3(mp3).getall("CHAP")
    assert sorted(f.element_id for f in frames) == sorted(f"ch{n}" for n in range(12))
    (toc,) = ID3(mp3).getall("CTOC")
    assert toc.child_element_ids == [f"ch{n}" for n in range(12)]
    listing = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(mp3)], capture_output=True, text=True).stderr
    starts = [float(m) for m in re.findall(r"Chapter #0:\d+: start ([\d.]+)", listing)]
    assert starts == [5.0 * n for n in range(12)]
    assert MP3(mp3).info.length > 60  # the audio is whole after the tag was rewritten


def test_srt_escapes_markup_like_vtt(tmp_path):
    dialogue = timed_dialogue([(HOST, "Un <i>mot</i> & un autre."), ("<b>Invité</b>", "Merci.")])
    subrip = transcript_files.subrip(dialogue)
    assert "<i>" not in subrip and "<b>" not in subrip
    assert "&lt;i&gt;mot&lt;/i&gt; &amp; un" in subrip and "&lt;b&gt;Invité&lt;/b&gt;:" in subrip


# Show and episode keys, in the feed


def feed_with_every_key(tmp_path: Path) -> bytes:
    show = make_show(verify="S6lpp-7ZCn8-dZfGc-OoyaG", show_type="serial",
                     host_href="https://example.org/gerald", host_img="https://example.org/gerald.jpg")
    item = render_by_hand(tmp_path, "ep1", 1).item
    item.guid, item.season = "ep1-guid", 2
    item.persons.append(Person(GUEST, "guest", "https://example.org/claire", "https://example.org/claire.jpg"))
    item.image_url = "https://cdn.example.org/podcast/ep1/cover.jpg"
    return build_feed(show, [item])


def test_the_feed_carries_funding_people_txt_season_episode_and_type(tmp_path):
    data = feed_with_every_key(tmp_path)
    channel = etree.fromstring(data).find("channel")
    (funding,) = channel.findall("podcast:funding", NS)
    assert funding.get("url") == "https://fr.tipeee.com/imaginaires" and funding.text == "Soutenir Imaginaires sur Tipeee"
    (txt,) = channel.findall("podcast:txt", NS)
    assert txt.get("purpose") == "verify" and txt.text == "S6lpp-7ZCn8-dZfGc-OoyaG"
    assert channel.find("itunes:type", NS).text == "serial"
    (host,) = channel.findall("podcast:person", NS)
    assert host.get("href") == "https://example.org/gerald" and host.get("img") == "https://example.org/gerald.jpg"
    item = channel.find("item")
    assert item.find("podcast:season", NS).text == "2" and item.find("podcast:episode", NS).text == "1"
    guest = item.findall("podcast:person", NS)[1]
    assert (guest.text, guest.get("role"), guest.get("href"), guest.get("img")) == (
        GUEST, "guest", "https://example.org/claire", "https://example.org/claire.jpg")
    assert item.find("itunes:image", NS).get("href") == "https://cdn.example.org/podcast/ep1/cover.jpg"
    assert [f for f in check_feed(data) if f.severity == "error"] == []
    parsed = feedparser.parse(data)  # a second, independent reader
    assert parsed.bozo == 0 and parsed.feed.itunes_type == "serial"


def test_feed_check_flags_wrong_values_of_the_new_tags(tmp_path):
    data = feed_with_every_key(tmp_path).decode()
    data = (data.replace("<itunes:type>serial<", "<itunes:type>weekly<")
            .replace('podcast:funding url="https://fr.tipeee.com/imaginaires"', 'podcast:funding url="tipeee"')
            .replace("<podcast:episode>1<", "<podcast:episode>un<")
            .replace("ep1/cover.jpg", "ep1/cover.gif"))
    rules = {f.rule for f in check_feed(data.encode()) if f.severity == "error"}
    assert {"show-type", "absolute-url", "episode-number", "artwork"} <= rules


def test_partytime_reads_every_new_key(tmp_path, node_modules):
    (tmp_path / "feed.xml").write_bytes(feed_with_every_key(tmp_path))
    script = ('const {parseFeed} = require("podcast-partytime");'
              'const f = parseFeed(require("fs").readFileSync(process.argv[1], "utf8"));'
              'console.log(JSON.stringify({funding: f.podcastFunding, txt: f.podcastTxt, type: f.itunesType,'
              ' people: f.podcastPeople, season: f.items[0].podcastSeason, episode: f.items[0].podcastEpisode,'
              ' itemPeople: f.items[0].podcastPeople, image: f.items[0].image}));')
    out = subprocess.run(["node", "-e", script, str(tmp_path / "feed.xml")], cwd=node_modules.parent,
                         capture_output=True, text=True, check=True).stdout
    read = json.loads(out)
    assert read["funding"] == [{"message": "Soutenir Imaginaires sur Tipeee", "url": "https://fr.tipeee.com/imaginaires"}]
    assert read["txt"] == [{"value": "S6lpp-7ZCn8-dZfGc-OoyaG", "purpose": "verify"}]
    assert read["type"] == "serial" and read["season"] == {"number": 2} and read["episode"] == {"number": 1}
    assert read["people"][0]["href"] == "https://example.org/gerald"
    assert {"name": GUEST, "role": "Guest", "group": "Cast", "img": "https://example.org/claire.jpg",
            "href": "https://example.org/claire"} in read["itemPeople"]
    assert read["image"] == "https://cdn.example.org/podcast/ep1/cover.jpg"


def test_the_sample_files_use_the_new_keys():
    sample = load_episode(REPO / "episodes", "exemple")
    assert sample.guests == ["Claire Dumas"] and sample.people[0].href and sample.people[0].img
    assert load_show(REPO / "feeds" / "show.toml").funding


@pytest.mark.parametrize("guests, artwork, message", [
    ('["Claire Dumas"]', None, None),  # names alone still work
    ('[{ name = "Claire", href = "example.org" }]', None, "key 'guests[1]"),
    ('[{ name = "Claire", page = "https://example.org" }]', None, "key 'guests[1]"),
    ('["Claire"]', (1400, 1000), "key 'artwork': cover.png is 1400x1000 pixels"),
    ('["Claire"]', (1400, 1400), None),
])
def test_episode_guests_and_artwork_are_checked(tmp_path, guests, artwork, message):
    folder = tmp_path / "ep"
    folder.mkdir()
    (folder / "audio.mp3").write_bytes(b"")
    toml = f'title = "T"\nnumber = 1\ndate = 2026-01-01\nguests = {guests}\naudio = "audio.mp3"\n'
    if artwork:
        Image.new("RGB", artwork).save(folder / "cover.png")
        toml += 'artwork = "cover.png"\n'
    (folder / "episode.toml").write_text(toml, encoding="utf-8")
    if message is None:
        loaded = load_episode(tmp_path, "ep")
        assert loaded.guests in (["Claire"], ["Claire Dumas"]) and loaded.people == []
        assert loaded.artwork == (folder / "cover.png" if artwork else None)
        return
    with pytest.raises(PipelineError) as refused:
        load_episode(tmp_path, "ep")
    assert "\n" not in str(refused.value) and str(refused.value).startswith(str(folder / "episode.toml"))
    assert message in str(refused.value)


# The embed page in Chromium, with axe-core


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory) -> Path:
    """podcast-partytime and axe-core from the npm registry, in a folder of their own."""
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        pytest.skip("needs node and npm")
    folder = tmp_path_factory.mktemp("npm")
    done = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "podcast-partytime@5",
                           "axe-core@4"], cwd=folder, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"npm install failed (offline?): {done.stderr.strip()[-200:]}")
    return folder / "node_modules"


@pytest.fixture(scope="module")
def published_url(tmp_path_factory):
    """The sample published as a run does it (pages, search index, home page), served."""
    destination, work = tmp_path_factory.mktemp("published"), tmp_path_factory.mktemp("work")
    people = [Person(GUEST, "guest", "https://example.org/claire", "https://example.org/claire.jpg")]
    rendered = render(show(), episode(people=people), timed_dialogue(script_turns()), mastered_audio(), work)
    publish_one(show(), rendered, work, LocalFolder(destination), str(destination))
    server = open_server(destination, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["exemple/embed/", "exemple/", ""])
def test_the_embed_episode_and_home_pages_have_no_axe_violations(browser, published_url, node_modules, path):
    page = browser.new_page()
    page.goto(published_url + path, wait_until="networkidle")
    if not path.endswith("embed/"):  # Pagefind's box, with its label
        label = page.locator("label[for=search-input]")
        assert label.count() == 1 and label.inner_text().startswith("Rechercher")
        assert page.locator("[role=search]").count() == 1
    page.add_script_tag(path=str(node_modules / "axe-core" / "axe.min.js"))
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
                           "'best-practice']})")
    violations = [(v["id"], [n["html"][:80] for n in v["nodes"]]) for v in result["violations"]]
    assert violations == [], violations
    assert len(result["passes"]) >= 10  # axe did run its rules
    print(f"axe-core {result['testEngine']['version']} on /{path}: {len(result['passes'])} rules passed, "
          f"{len(result['violations'])} violations, {len(result['incomplete'])} to review by hand")
    if path.endswith("embed/"):  # the line being heard shows as the player plays
        page.evaluate("() => { const p = document.getElementById('player'); p.currentTime = 30; "
                      "p.dispatchEvent(new Event('timeupdate')); }")
        page.wait_for_function("document.getElementById('now-text').textContent.length > 0")
        assert ":" in page.inner_text("#now-text")
    page.close()


def test_an_episode_artwork_goes_to_its_page_card_feed_item_and_mp3(tmp_path):
    cover = tmp_path / "cover.png"
    Image.new("RGB", (1400, 1400), "teal").save(cover)
    rendered = render(show(), episode(artwork=cover), timed_dialogue(script_turns()), mastered_audio(),
                      tmp_path / "site")
    page = "https://imaginaires.example.org/exemple/"
    assert (tmp_path / "site" / "exemple" / "cover.png").read_bytes() == cover.read_bytes()
    assert "exemple/cover.png" in rendered.files and rendered.item.image_url == page + "cover.png"
    head = Head((tmp_path / "site" / "exemple" / "index.html").read_text(encoding="utf-8"))
    assert head.meta["og:image"] == head.meta["twitter:image"] == page + "cover.png"
    (picture,) = ID3(tmp_path / "site" / "exemple" / "exemple.mp3").getall("APIC")
    assert picture.mime == "image/png" and picture.data == cover.read_bytes()


def test_the_lock_still_excludes_when_its_file_is_removed_on_release(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLISH_CACHE", str(tmp_path / "cache"))
    site, inside, order = tmp_path / "site", threading.Lock(), []

    def hold(name: str) -> None:
        for _ in range(30):
            with LocalFolder(site).show_lock():
                assert inside.acquire(blocking=False), "two holders at once"
                order.append(name)
                inside.release()

    threads = [threading.Thread(target=hold, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(order) == 90 and not lock_path(site).exists()
