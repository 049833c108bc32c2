"""The feed as podcast apps read it, its stability across publications, and its validation.

Two real clients' parsers read the feed: gPodder's `podcastparser` and `feedparser`. Shows and
feed entries are built directly (the feed entry contract, see publishing/feed.py), so this file
runs in seconds without the audio stages.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree

from pipeline import cli
from pipeline.errors import PipelineError
from pipeline.model import FeedEntry, Show, feed_entry_from_data, to_data
from pipeline.publishing.feed import FEED_FILE, build_feed, feed_url
from pipeline.publishing.feed_check import NS, check_feed
from pipeline.publishing.podcast20 import NAMESPACE, podcast_guid
from pipeline.publishing.publish import publish_episodes
from pipeline.publishing.targets.local import LocalFolder
from pipeline.rendering.episode import RenderedEpisode
from pipeline.rendering.layout import CATALOGUE_FILE
from tests.conftest import make_show as shared_make_show
from tests.conftest import publish_one

BASE = "https://imaginaires.example.org"
ARTWORK = Path(__file__).resolve().parents[1] / "feeds" / "artwork.jpg"
# The namespace's first URI, which the spec says clients must treat as the same namespace.
LEGACY_NAMESPACE = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"


def make_show(**changes) -> Show:
    return shared_make_show(**{"base_url": BASE, **changes})


def make_item(slug: str, number: int, date: str, **changes) -> FeedEntry:
    """A rendered episode's feed entry, as render makes it (publish adds the GUID)."""
    url = f"{BASE}/{slug}/"
    item = {
        "slug": slug, "title": f"Titre de {slug}", "number": number, "season": None,
        "episode_type": "full", "date": date, "draft": False, "explicit": None,
        "description_html": f'<p>Notes de {slug}.</p><ol><li><a href="https://www.cnil.fr">CNIL</a></li></ol>',
        "link": url, "audio_url": f"{url}{slug}.mp3", "audio_length": 1_234_567 + number,
        "audio_type": "audio/mpeg", "duration": 89 + number,
        "transcripts": [
            {"url": f"{url}transcript.vtt", "type": "text/vtt", "rel": "captions", "language": "fr"},
            {"url": f"{url}transcript.srt", "type": "application/x-subrip", "rel": "captions", "language": None},
            {"url": f"{url}transcript.json", "type": "application/json", "rel": None, "language": None},
            {"url": f"{url}index.html", "type": "text/html", "rel": None, "language": None},
            {"url": f"{url}transcript.txt", "type": "text/plain", "rel": None, "language": None},
        ],
        "chapters_url": f"{url}chapters.json",
        "persons": [{"name": "Gérald Holubowicz", "role": "host"}, {"name": "Claire Dumas", "role": "guest"}],
    }
    return replace(feed_entry_from_data(item), **changes)


def published(slug: str, number: int, date: str, **changes) -> FeedEntry:
    return make_item(slug, number, date, guid=f"guid-of-{slug}", **changes)


CATALOGUE = [published("premier", 1, "2026-11-06"), published("second", 2, "2026-11-20")]


@pytest.fixture(scope="module")
def feed() -> bytes:
    return build_feed(make_show(), CATALOGUE)


def test_gpodder_reads_the_episode_a_listener_plays(feed):
    podcast = podcastparser.parse(feed_url(make_show()), io.BytesIO(feed))
    assert podcast["title"] == "Imaginaires"
    assert podcast["cover_url"] == f"{BASE}/artwork.jpg"
    assert podcast["explicit"] is False
    assert podcast["itunes_owner"] == {"name": "Gérald Holubowicz", "email": "podcast@example.org"}
    newest = podcast["episodes"][0]  # podcastparser keeps the feed's order
    item = CATALOGUE[1]
    assert newest["title"] == item.title
    assert newest["guid"] == item.guid
    assert newest["total_time"] == item.duration
    assert newest["number"] == item.number
    assert newest["enclosures"] == [
        {"url": item.audio_url, "file_size": item.audio_length, "mime_type": "audio/mpeg"}
    ]
    assert dt.datetime.fromtimestamp(newest["published"], dt.timezone.utc).date().isoformat() == item.date
    assert 'href="https://www.cnil.fr"' in newest["description_html"]


def test_feedparser_reads_the_episode_a_listener_plays(feed):
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.podcast_guid == podcast_guid(feed_url(make_show()))
    assert parsed.feed.podcast_locked == {"owner": "podcast@example.org"}
    newest, item = parsed.entries[0], CATALOGUE[1]
    assert newest.id == item.guid and newest.guidislink is False
    assert newest.itunes_duration == str(item.duration)
    assert newest.enclosures == [
        {"href": item.audio_url, "length": str(item.audio_length), "type": "audio/mpeg"}
    ]
    assert newest.podcast_chapters == {"url": item.chapters_url, "type": "application/json+chapters"}
    # feedparser keeps the last of a repeated unknown tag (kurtmckee/feedparser#301)
    assert newest.podcast_transcript == {"url": item.transcripts[-1].url, "type": "text/plain"}
    assert newest.podcast_person == {"role": "guest"}


def test_podcast_tags_are_shaped_as_gpodder_reads_them(feed):
    # podcastparser 0.6.11 knows only the namespace's first URI; reading the feed under that
    # alias checks our podcast:* tags carry the attributes gPodder looks for.
    aliased = feed.replace(NAMESPACE.encode(), LEGACY_NAMESPACE.encode())
    episode = podcastparser.parse(feed_url(make_show()), io.BytesIO(aliased))["episodes"][0]
    item = CATALOGUE[1]
    assert [(p["name"], p["role"]) for p in episode["persons"]] == [
        (p.name, p.role) for p in item.persons
    ]
    assert episode["chapters_json_url"] == item.chapters_url
    assert episode["transcript_url"] == item.transcripts[-1].url  # it keeps one


def test_every_transcript_and_person_is_in_the_feed(feed):
    newest = etree.fromstring(feed).find("channel/item")
    transcripts = [dict(t.attrib) for t in newest.findall("podcast:transcript", NS)]
    expected = [{k: v for k, v in to_data(t).items() if v} for t in CATALOGUE[1].transcripts]
    assert transcripts == expected
    persons = [(p.text, p.get("role")) for p in newest.findall("podcast:person", NS)]
    assert persons == [(p.name, p.role) for p in CATALOGUE[1].persons]


def test_the_channel_says_what_apple_asks(feed):
    channel = etree.fromstring(feed).find("channel")
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.find("itunes:category", NS).get("text") == "Technology"
    assert channel.find("atom:link[@rel='self']", NS).get("href") == f"{BASE}/{FEED_FILE}"
    assert channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("podcast:locked", namespaces=NS) == "yes"


def test_podcast_guid_follows_the_spec_examples():
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_the_catalogue_lists_newest_first_without_drafts():
    items = [*CATALOGUE, published("brouillon", 3, "2026-12-04", draft=True),
             published("ancien", 1, "2026-10-01")]
    podcast = podcastparser.parse(BASE, io.BytesIO(build_feed(make_show(), items)))
    guids = [episode["guid"] for episode in podcast["episodes"]]
    assert guids == ["guid-of-second", "guid-of-premier", "guid-of-ancien"]


def _items_xml(feed: bytes) -> dict[str, bytes]:
    return {i.findtext("guid"): etree.tostring(i) for i in etree.fromstring(feed).iter("item")}


def test_publishing_an_episode_leaves_the_others_byte_identical(feed):
    later = build_feed(make_show(), [*CATALOGUE, published("troisieme", 3, "2026-12-04")])
    before, after = _items_xml(feed), _items_xml(later)
    assert set(after) == {*before, "guid-of-troisieme"}
    assert all(after[guid] == xml for guid, xml in before.items())
    assert build_feed(make_show(), CATALOGUE) == feed  # the same items give the same bytes


def _render(site: Path, item: FeedEntry) -> RenderedEpisode:
    """The files render would leave for this entry: an MP3 of the announced size."""
    slug = item.slug
    (site / slug).mkdir(parents=True, exist_ok=True)
    (site / slug / f"{slug}.mp3").write_bytes(b"\xff\xfb" * (item.audio_length // 2))
    return RenderedEpisode(files=[f"{slug}/{slug}.mp3"], item=item)


def _read_back(destination: Path) -> dict[str, str]:
    podcast = podcastparser.parse(BASE, (destination / FEED_FILE).open("rb"))
    return {e["title"]: e["guid"] for e in podcast["episodes"]}


def test_guids_stay_the_same_across_three_publications(tmp_path):
    site, destination = tmp_path / "site", tmp_path / "public"
    target = LocalFolder(destination)
    first, second = make_item("premier", 1, "2026-11-06"), make_item("second", 2, "2026-11-20")
    publish_one(make_show(), _render(site, first), site, target, str(destination))
    after_one = _read_back(destination)
    publish_one(make_show(), _render(site, second), site, target, str(destination))
    after_two = _read_back(destination)
    # The show moves to a new address (every episode published again, --all): a published GUID
    # still never changes, although the old entries, under the old address, are left out.
    moved = make_show(base_url="https://imaginaires.example.net")
    publish_episodes(moved, [(_render(site, item), site) for item in (first, second)], target, str(destination))
    after_three = _read_back(destination)

    assert after_one[first.title] == after_two[first.title] == after_three[first.title]
    assert after_two[second.title] == after_three[second.title]
    assert len(set(after_three.values())) == 2
    stored = json.loads((destination / CATALOGUE_FILE).read_text(encoding="utf-8"))
    assert stored["premier"]["guid"] == after_one[first.title]


def test_publish_refuses_a_feed_with_errors_and_puts_nothing(tmp_path):
    site, destination = tmp_path / "site", tmp_path / "public"
    long_notes = make_item("long", 1, "2026-11-06", description_html="<p>" + "é" * 2100 + "</p>")
    with pytest.raises(PipelineError) as raised:
        publish_one(make_show(), _render(site, long_notes), site, LocalFolder(destination), str(destination))
    assert raised.value.where == f"{BASE}/{FEED_FILE}"
    assert "[description-length]" in raised.value.message
    assert not destination.exists()


def test_a_clean_feed_has_no_findings(feed):
    assert check_feed(feed, feed_url(make_show())) == []


def _edit(change):
    """A fault planted in the parsed feed: change(channel, first_item, second_item)."""
    def planted(feed: bytes) -> bytes:
        root = etree.fromstring(feed)
        channel = root.find("channel")
        change(channel, *channel.findall("item"))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return planted


def _set(path: str, value: str, attribute: str | None = None, where: str = "item"):
    def change(channel, first, second):
        element = (first if where == "item" else channel).find(path, NS)
        if attribute:
            element.set(attribute, value)
        else:
            element.text = value
    return _edit(change)


def _remove(path: str, where: str = "item", attribute: str | None = None):
    def change(channel, first, second):
        element = (first if where == "item" else channel).find(path, NS)
        if attribute:
            del element.attrib[attribute]
        else:
            element.getparent().remove(element)
    return _edit(change)


def _copy_to_second(path: str, attribute: str | None = None):
    def change(channel, first, second):
        source, target = first.find(path, NS), second.find(path, NS)
        if attribute:
            target.set(attribute, source.get(attribute))
        else:
            target.text = source.text
    return _edit(change)


def _make_serial_without_numbers(channel, first, second):
    channel.find("itunes:type", NS).text = "serial"
    first.remove(first.find("itunes:episode", NS))


FAULTS = {
    "xml: stray HTML after the document": ("xml", "error", lambda f: f + b'<a href="https://ads.example">ad</a>'),
    "rss: not RSS 2.0": ("rss", "error", lambda f: f.replace(b'version="2.0"', b'version="0.91"', 1)),
    "encoding: Latin-1": ("encoding", "error", lambda f: etree.tostring(etree.fromstring(f), xml_declaration=True, encoding="ISO-8859-1")),
    "namespaces: old podcast URI": ("namespaces", "error", lambda f: f.replace(NAMESPACE.encode(), LEGACY_NAMESPACE.encode())),
    "required-channel: no language": ("required-channel", "error", _remove("language", "channel")),
    "description-length: channel": ("description-length", "error", _set("description", "x" * 4001, where="channel")),
    "language: not ISO 639": ("language", "error", _set("language", "français", where="channel")),
    "self-link: missing": ("self-link", "error", _remove("atom:link", "channel")),
    "self-link: elsewhere": ("self-link", "error", _set("atom:link", f"{BASE}/rss", "href", "channel")),
    "image: missing": ("image", "error", _remove("itunes:image", "channel")),
    "image: not jpg or png": ("image", "error", _set("itunes:image", f"{BASE}/artwork.gif", "href", "channel")),
    "category: not Apple's": ("category", "error", _set("itunes:category", "Technologie", "text", "channel")),
    "explicit: not true/false": ("explicit", "error", _set("itunes:explicit", "maybe", where="channel")),
    "explicit: old yes/no": ("explicit", "warning", _set("itunes:explicit", "no", where="channel")),
    "owner: no email": ("owner", "error", _remove("itunes:owner/itunes:email", "channel")),
    "author: missing": ("author", "warning", _remove("itunes:author", "channel")),
    "type: unknown": ("type", "error", _set("itunes:type", "weekly", where="channel")),
    "serial: episode without number": ("serial", "error", _edit(_make_serial_without_numbers)),
    "podcast-guid: not a UUID": ("podcast-guid", "error", _set("podcast:guid", "imaginaires-2026", where="channel")),
    "podcast-guid: UUID v4": ("podcast-guid", "warning", _set("podcast:guid", "1b4e28ba-2fa1-41d2-883f-0016d3cca427", where="channel")),
    "locked: not yes/no": ("locked", "error", _set("podcast:locked", "true", where="channel")),
    "locked: owner not an email": ("locked", "error", _set("podcast:locked", "Gérald", "owner", "channel")),
    "required-item: no enclosure": ("required-item", "error", _remove("enclosure")),
    "required-item: no guid": ("required-item", "error", _remove("guid")),
    "required-item: no title": ("required-item", "error", _remove("title")),
    "length: title over 255": ("length", "error", _set("title", "t" * 256)),
    "whitespace: padded title": ("whitespace", "warning", _set("title", " Titre ")),
    "title-number: number in title": ("title-number", "warning", _set("title", "Épisode 2 : le règlement")),
    "absolute-url: relative enclosure": ("absolute-url", "error", _set("enclosure", "/second/second.mp3", "url")),
    "absolute-url: relative transcript": ("absolute-url", "error", _set("podcast:transcript", "transcript.vtt", "url")),
    "enclosure: no length": ("enclosure", "error", _set("enclosure", "0", "length")),
    "enclosure: type Apple refuses": ("enclosure", "error", _set("enclosure", "audio/ogg", "type")),
    "enclosure-type: m4a type on an .mp3": ("enclosure-type", "error", _set("enclosure", "audio/x-m4a", "type")),
    "enclosure-unique: reused URL": ("enclosure-unique", "error", _copy_to_second("enclosure", "url")),
    "guid-unique: duplicated GUID": ("guid-unique", "error", _copy_to_second("guid")),
    "pubdate: ISO date": ("pubdate", "error", _set("pubDate", "2026-11-20T06:00:00Z")),
    "duration: zero": ("duration", "error", _set("itunes:duration", "0")),
    "duration: not a time": ("duration", "error", _set("itunes:duration", "1h29")),
    "episode-number: zero": ("episode-number", "error", _set("itunes:episode", "0")),
    "episode-type: unknown": ("episode-type", "error", _set("itunes:episodeType", "special")),
    "description-length: item": ("description-length", "error", _set("description", "é" * 2001)),
    "transcript: no type": ("transcript", "error", _remove("podcast:transcript", attribute="type")),
    "transcript: unknown type": ("transcript", "warning", _set("podcast:transcript", "text/srt", "type")),
    "chapters: wrong type": ("chapters", "error", _set("podcast:chapters", "application/json", "type")),
    "person: no name": ("person", "error", _set("podcast:person", "")),
    "length: person over 128": ("length", "error", _set("podcast:person", "p" * 129)),
}


@pytest.mark.parametrize("rule, severity, plant", FAULTS.values(), ids=FAULTS.keys())
def test_each_rule_catches_its_planted_fault(feed, rule, severity, plant):
    findings = check_feed(plant(feed), feed_url(make_show()))
    assert (rule, severity) in {(f.rule, f.severity) for f in findings}, findings


def _show_file(folder: Path) -> Path:
    shutil.copyfile(ARTWORK, folder / "artwork.jpg")
    (folder / "show.toml").write_text(
        'title = "Imaginaires"\nauthor = "Gérald Holubowicz"\nhost = "Gérald Holubowicz"\n'
        f'language = "fr"\ndescription = "Une émission."\nbase_url = "{BASE}"\n'
        'category = "Technology"\nartwork = "artwork.jpg"\nowner_name = "Gérald Holubowicz"\n'
        'owner_email = "podcast@example.org"\n', encoding="utf-8")
    return folder / "show.toml"


def test_feed_check_prints_the_findings_of_the_published_feed(tmp_path, capsys, feed):
    show_file, destination = _show_file(tmp_path), tmp_path / "public"
    destination.mkdir()
    (destination / FEED_FILE).write_bytes(feed)
    assert cli.main(["feed", "--check", "--show", str(show_file), "--to", str(destination)]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out

    (destination / FEED_FILE).write_bytes(_set("enclosure", "audio/x-m4a", "type")(feed))
    assert cli.main(["feed", "--check", "--show", str(show_file), "--to", str(destination)]) == 1
    out = capsys.readouterr().out
    assert "error: item 1 'Titre de second': enclosure type audio/x-m4a does not match" in out
    assert "[enclosure-type]" in out and "1 error(s)" in out


def test_feed_check_names_a_destination_without_feed(tmp_path, capsys):
    show_file = _show_file(tmp_path)
    assert cli.main(["feed", "--check", "--show", str(show_file), "--to", str(tmp_path / "empty")]) == 1
    assert f"{tmp_path / 'empty'}/{FEED_FILE}: no feed there yet" in capsys.readouterr().err


def test_a_show_that_moves_keeps_its_podcast_guid_when_the_show_file_sets_it():
    before = podcast_guid(feed_url(make_show()))
    moved = make_show(base_url="https://new-host.example.org/podcast", podcast_guid=before)
    parsed = feedparser.parse(build_feed(moved, CATALOGUE))
    assert parsed.feed.podcast_guid == before != podcast_guid(feed_url(moved))
