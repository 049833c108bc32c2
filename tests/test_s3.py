"""Publishing to S3, against a real S3 server on loopback (moto's), with a small hand-made site."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from lxml import etree

from pipeline.build.project import STEPS as STAGES
from pipeline.build.runner import EpisodeRun
from pipeline.cli import main
from pipeline.config import load_episode, load_show
from pipeline.errors import PipelineError
from pipeline.model import to_data
from pipeline.publishing.publish import publish_episodes
from pipeline.publishing.targets.local import LocalFolder
from pipeline.publishing.targets.s3 import S3Folder
from pipeline.rendering.episode import RenderedEpisode
from tests.conftest import PREFIX, REPO, make_project, publish_one, render_by_hand
from tests.conftest import make_cdn_show as make_show
from tests.conftest import s3_folder as folder

ARTWORK = REPO / "feeds" / "artwork.jpg"


def publish_to(target: S3Folder, site: Path, rendered: RenderedEpisode, **options):
    return publish_one(make_show(), rendered, site, target, target.url(), **options)


def keys(s3, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def feed_on_server(s3, bucket: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=f"{PREFIX}/feed.xml")["Body"].read()


def catalogue_on_server(s3, bucket: str) -> dict[str, dict]:
    return json.loads(s3.get_object(Bucket=bucket, Key=f"{PREFIX}/catalogue.json")["Body"].read())


def test_first_publish_sends_everything_and_a_second_sends_nothing(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    rendered = render_by_hand(site, "ep1", 1)

    first = publish_to(folder(bucket, endpoint), site, rendered)

    search = [name for name in first.sent if name.startswith("pagefind/")]
    assert {"pagefind/pagefind-entry.json", "pagefind/pagefind-ui.js"} <= set(search)
    site_files = {*rendered.files, "catalogue.json", *search, "index.html", "artwork.jpg", "feed.xml"}
    assert set(first.sent) == site_files
    # The show's files last: the catalogue, the search index, the home page, the feed.
    assert first.sent[-len(search) - 3:] == ["catalogue.json", *search, "index.html", "feed.xml"]
    assert keys(s3, bucket) == {f"{PREFIX}/{name}" for name in site_files}
    mp3 = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/ep1/ep1.mp3")["Body"].read()
    assert mp3 == (site / "ep1" / "ep1.mp3").read_bytes()

    again = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    assert again.sent == []
    assert again.episodes_in_feed == 1


def test_a_changed_note_sends_only_the_page_the_catalogue_and_the_feed(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))

    changed = publish_to(folder(bucket, endpoint), site,
                         render_by_hand(site, "ep1", 1, notes="Les notes, corrigées."))

    assert changed.sent == ["ep1/index.html", "catalogue.json", "feed.xml"]
    assert "corrigées" in feed_on_server(s3, bucket).decode()


def test_content_types_and_cache_headers_are_stored_on_the_server(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))

    expected = {
        "ep1/ep1.mp3": "audio/mpeg",
        "ep1/index.html": "text/html; charset=utf-8",
        "ep1/transcript.txt": "text/plain; charset=utf-8",
        "ep1/transcript.vtt": "text/vtt",
        "ep1/transcript.srt": "application/x-subrip",
        "ep1/chapters.json": "application/json+chapters",
        "catalogue.json": "application/json",
        "index.html": "text/html; charset=utf-8",
        "artwork.jpg": "image/jpeg",
        "feed.xml": "application/rss+xml",
    }
    long_lived = {"ep1/ep1.mp3", "artwork.jpg"}
    for name, content_type in expected.items():
        head = s3.head_object(Bucket=bucket, Key=f"{PREFIX}/{name}")
        assert head["ContentType"] == content_type, name
        max_age = int(head["CacheControl"].split("max-age=")[1].split(",")[0])
        if name in long_lived:
            assert max_age >= 7 * 86400, name
        else:
            assert max_age <= 600, name  # listeners must see a correction within minutes


def test_a_file_sent_in_parts_is_recognised_by_its_stored_hash(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    audio = bytes(range(256)) * (6 * 4096)  # 6 MiB: two parts of S3's 5 MiB minimum
    publish_to(folder(bucket, endpoint, part_size=5 * 1024 * 1024), site,
               render_by_hand(site, "ep1", 1, audio=audio))
    assert "-" in s3.head_object(Bucket=bucket, Key=f"{PREFIX}/ep1/ep1.mp3")["ETag"]  # multipart

    same = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1, audio=audio))
    assert same.sent == []

    remastered = b"\xff" + audio[1:]  # same size, other bytes: only the hash can tell
    again = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1, audio=remastered))
    assert again.sent == ["ep1/ep1.mp3"]


def fail_nth_put(target: S3Folder, n: int) -> list[str]:
    """Make the target's n-th PutObject fail as a dropped connection would; returns the keys tried."""
    tried: list[str] = []

    def fail(params, **_):
        tried.append(params["Key"])
        if len(tried) == n:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1 (fault injected)")

    target.client.meta.events.register("before-parameter-build.s3.PutObject", fail)
    return tried


def test_a_failure_mid_publish_leaves_the_old_feed_and_a_rerun_finishes(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    old_feed = feed_on_server(s3, bucket)

    faulty = folder(bucket, endpoint)
    tried = fail_nth_put(faulty, 3)
    with pytest.raises(PipelineError) as failure:
        publish_to(faulty, site, render_by_hand(site, "ep2", 2))

    assert tried == [f"{PREFIX}/ep2/chapters.json", f"{PREFIX}/ep2/ep2.mp3", f"{PREFIX}/ep2/index.html"]
    assert failure.value.where == f"s3://{bucket}/{PREFIX}/ep2/index.html"
    assert "run the same command again" in failure.value.message
    assert feed_on_server(s3, bucket) == old_feed
    assert set(catalogue_on_server(s3, bucket)) == {"ep1"}  # not in the catalogue either

    rerun = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep2", 2))
    assert rerun.sent[0] == "ep2/index.html"  # the two files sent before the failure are kept
    # The catalogue, then the search index (its manifest last), then the home page and the feed.
    assert rerun.sent.index("catalogue.json") < rerun.sent.index("pagefind/publish-manifest.json")
    assert rerun.sent[-3:] == ["pagefind/publish-manifest.json", "index.html", "feed.xml"]
    assert rerun.episodes_in_feed == 2
    assert "https://cdn.example.org/podcast/ep2/ep2.mp3" in feed_on_server(s3, bucket).decode()


def test_a_transient_server_error_is_retried(tmp_path, bucket, endpoint, s3):
    target = folder(bucket, endpoint)
    refusals = []

    def slow_down_once(request, **_):
        if request.method == "PUT" and not refusals:
            refusals.append(request.url)
            body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, 503, {}, _Raw(body))
        return None

    target.client.meta.events.register("before-send.s3.PutObject", slow_down_once)
    site = tmp_path / "site"
    publication = publish_to(target, site, render_by_hand(site, "ep1", 1))

    assert len(refusals) == 1
    assert keys(s3, bucket) == {f"{PREFIX}/{name}" for name in publication.sent}


class _Raw:
    """The body of a canned HTTP response, as botocore reads it."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def test_prune_deletes_only_the_episodes_stale_files_in_the_prefix(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep2", 2))
    outside = ["podcast-old/ep1/old.srt", "ep1/old.srt", "elsewhere.txt"]
    for key in [f"{PREFIX}/ep1/old.srt", *outside]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"old")
    before = keys(s3, bucket)

    planned = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1),
                         prune=True, dry_run=True)
    assert planned.deleted == ["ep1/old.srt"]
    assert keys(s3, bucket) == before  # a dry run changes nothing

    pruned = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1), prune=True)
    assert pruned.deleted == ["ep1/old.srt"]
    assert keys(s3, bucket) == before - {f"{PREFIX}/ep1/old.srt"}  # ep2 and the outside survive

    unasked = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    assert unasked.deleted == []


def test_a_dry_run_plans_without_sending(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    plan = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1), dry_run=True)
    assert plan.dry_run and "feed.xml" in plan.sent and "ep1/ep1.mp3" in plan.sent
    assert keys(s3, bucket) == set()


def item_xml(feed: bytes) -> dict[str, bytes]:
    """Each <item> of a feed as bytes, by GUID."""
    return {item.findtext("guid"): etree.tostring(item) for item in etree.fromstring(feed).iter("item")}


def test_publishing_one_episode_leaves_the_others_feed_items_byte_identical(
        tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    for number in (1, 2, 3):
        publish_to(folder(bucket, endpoint), site, render_by_hand(site, f"ep{number}", number))
    before = item_xml(feed_on_server(s3, bucket))

    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep2", 2, notes="Corrigées."))

    after = item_xml(feed_on_server(s3, bucket))
    guids = {slug: entry["guid"] for slug, entry in catalogue_on_server(s3, bucket).items()}
    assert set(after) == set(before) == set(guids.values())
    assert after[guids["ep1"]] == before[guids["ep1"]] and after[guids["ep3"]] == before[guids["ep3"]]
    assert after[guids["ep2"]] != before[guids["ep2"]] and b"Corrig" in after[guids["ep2"]]


def test_a_draft_is_not_in_the_public_catalogue_nor_the_feed_or_home_page(tmp_path, bucket, endpoint, s3):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    draft = render_by_hand(site, "ep2", 2)
    draft.item.draft = True

    publication = publish_to(folder(bucket, endpoint), site, draft)

    assert publication.episodes_in_feed == 1
    assert set(catalogue_on_server(s3, bucket)) == {"ep1"}  # public: no draft's title or audio URL
    feed = feed_on_server(s3, bucket).decode()
    assert "ep1/ep1.mp3" in feed and "ep2" not in feed
    home = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/index.html")["Body"].read().decode()
    assert "ep1/" in home and "ep2/" not in home


def test_a_site_published_before_the_catalogue_keeps_its_episodes_and_guids(
        tmp_path, bucket, endpoint, s3):
    """Sites published before catalogue.json kept each feed entry in <slug>/item.json."""
    site = tmp_path / "site"
    for number in (1, 2):
        rendered = render_by_hand(site, f"ep{number}", number)
        for name in rendered.files:
            s3.put_object(Bucket=bucket, Key=f"{PREFIX}/{name}", Body=(site / name).read_bytes())
        item = to_data(replace(rendered.item, guid=f"legacy-guid-{number}"))
        s3.put_object(Bucket=bucket, Key=f"{PREFIX}/ep{number}/item.json",
                      Body=json.dumps(item).encode())

    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep3", 3))

    catalogue = catalogue_on_server(s3, bucket)
    assert {slug: entry["guid"] for slug, entry in catalogue.items() if slug != "ep3"} == {
        "ep1": "legacy-guid-1", "ep2": "legacy-guid-2"}
    assert {"legacy-guid-1", "legacy-guid-2", catalogue["ep3"]["guid"]} == set(
        item_xml(feed_on_server(s3, bucket)))

    # From now on the catalogue is what counts, and --prune clears the episode's old item.json.
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/ep1/item.json", Body=b'{"guid": "not read any more"}')
    pruned = publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1, notes="Neuves."),
                        prune=True)
    assert pruned.deleted == ["ep1/item.json"]
    assert catalogue_on_server(s3, bucket)["ep1"]["guid"] == "legacy-guid-1"


def test_a_damaged_catalogue_is_one_clear_error(tmp_path, bucket, endpoint, s3):
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/catalogue.json", Body=b"{not json")
    site = tmp_path / "site"
    target = folder(bucket, endpoint)
    with pytest.raises(PipelineError) as raised:
        publish_to(target, site, render_by_hand(site, "ep1", 1))
    assert raised.value.where == target.url("catalogue.json")
    assert "publish every episode again" in raised.value.message


def count_requests(target: S3Folder) -> list[str]:
    """Every request the target sends from now on, as 'METHOD key?query'."""
    sent: list[str] = []

    def record(request, **_):
        sent.append(f"{request.method} {request.url.split('/', 3)[3]}")

    target.client.meta.events.register("before-send.s3", record)
    return sent


def test_republishing_a_whole_catalogue_unchanged_costs_a_listing_and_three_small_reads(
        tmp_path, bucket, endpoint):
    episodes = []
    for number in range(1, 6):
        site = tmp_path / f"ep{number}" / "site"  # as the pipeline does: one site folder per episode
        episodes.append((render_by_hand(site, f"ep{number}", number), site))
    first = publish_episodes(make_show(), episodes, folder(bucket, endpoint), f"s3://{bucket}")
    assert first.episodes_in_feed == 5 and "ep5/ep5.mp3" in first.sent

    target = folder(bucket, endpoint)
    requests = count_requests(target)
    again = publish_episodes(make_show(), episodes, target, f"s3://{bucket}")

    assert again.sent == []
    listing, catalogue_read = f"GET {bucket}", f"GET {bucket}/{PREFIX}/catalogue.json"
    # The search index checked too: its manifest, and its entry (the one file it does not name by digest).
    index_reads = [f"GET {bucket}/{PREFIX}/pagefind/publish-manifest.json", f"GET {bucket}/{PREFIX}/pagefind/pagefind-entry.json"]
    assert sorted(request.split("?")[0] for request in requests) == sorted([listing, catalogue_read, *index_reads])


def test_a_dry_run_publish_is_not_recorded_as_done(tmp_path):
    show, episode = load_show(REPO / "feeds" / "show.toml"), load_episode(REPO / "episodes", "exemple")
    if not episode.audio.is_file():
        pytest.skip(f"needs the sample's audio, {episode.audio}")
    publish_stage = STAGES[-1]
    dry = EpisodeRun(show, episode, tmp_path, STAGES, "site", dry_run=True)
    dry.record(publish_stage, {"sent": [], "dry_run": True})

    assert EpisodeRun(show, episode, tmp_path, STAGES, "site").state(publish_stage) == "stale"


def test_a_local_folder_plans_and_prunes_the_same_way(tmp_path):
    site, root = tmp_path / "site", tmp_path / "public" / PREFIX
    publish_one(make_show(), render_by_hand(site, "ep1", 1), site, LocalFolder(root), str(root))
    for path in (root / "ep1" / "old.srt", root.parent / "podcast-old" / "ep1" / "old.srt"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"old")

    planned = publish_one(make_show(), render_by_hand(site, "ep1", 1, notes="Corrigées."), site,
                      LocalFolder(root), str(root), prune=True, dry_run=True)
    assert planned.sent == ["ep1/index.html", "catalogue.json", "feed.xml"]
    assert planned.deleted == ["ep1/old.srt"]
    assert (root / "ep1" / "old.srt").is_file() and "Corrigées" not in (root / "feed.xml").read_text()

    done = publish_one(make_show(), render_by_hand(site, "ep1", 1, notes="Corrigées."), site,
                   LocalFolder(root), str(root), prune=True)
    assert done.deleted == ["ep1/old.srt"] and not (root / "ep1" / "old.srt").exists()
    assert (root.parent / "podcast-old" / "ep1" / "old.srt").is_file()
    assert "Corrigées" in (root / "feed.xml").read_text(encoding="utf-8")


def test_a_missing_bucket_is_one_line_from_the_cli(tmp_path, endpoint, capsys):
    (tmp_path / "show.toml").write_text(
        (REPO / "feeds" / "show.toml").read_text(encoding="utf-8")
        + f'\ns3_endpoint_url = "{endpoint}"\n', encoding="utf-8")
    (tmp_path / "artwork.jpg").write_bytes(ARTWORK.read_bytes())

    code = main(["feed", "--check", "--show", str(tmp_path / "show.toml"),
                 "--to", "s3://no-such-bucket/podcast"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "error: s3://no-such-bucket/podcast/: bucket 'no-such-bucket' does not exist: "
        "create it or fix the destination"
    ]


def test_missing_credentials_are_one_clear_error(endpoint, bucket, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to fall back on

    with pytest.raises(PipelineError, match="no AWS credentials found"):
        folder(bucket, endpoint).names()


@pytest.mark.parametrize("url", ["s3://bucket/../x", "s3://bucket/./c", "s3://bucket/a/../../b",
                                 "s3://bucket/p?x=1", "s3://bucket/p#f"])
def test_a_prefix_that_would_be_stored_literally_is_refused(url):
    with pytest.raises(PipelineError, match="may not hold"):
        S3Folder.from_url(url)


def test_cors_lets_players_read_and_seek_from_other_sites(tmp_path, bucket, endpoint, s3, capsys):
    site = tmp_path / "site"
    publish_to(folder(bucket, endpoint), site, render_by_hand(site, "ep1", 1))
    (tmp_path / "show.toml").write_text(
        (REPO / "feeds" / "show.toml").read_text(encoding="utf-8")
        + f'\ns3_endpoint_url = "{endpoint}"\n', encoding="utf-8")
    (tmp_path / "artwork.jpg").write_bytes(ARTWORK.read_bytes())
    code = main(["cors", "--show", str(tmp_path / "show.toml"), "--to", f"s3://{bucket}/{PREFIX}"])
    assert code == 0, capsys.readouterr().err
    (rule,) = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == ["*"] and set(rule["AllowedMethods"]) == {"GET", "HEAD"}
    assert "Range" in rule["AllowedHeaders"] and "Content-Range" in rule["ExposeHeaders"]
    # The audio answers a range request with only the bytes asked for, as a player seeking needs.
    audio = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/ep1/ep1.mp3", Range="bytes=100-199")
    assert audio["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert audio["ContentRange"].startswith("bytes 100-199/") and len(audio["Body"].read()) == 100


def test_cors_on_a_local_folder_says_what_to_set(tmp_path, capsys):
    project = make_project(tmp_path)
    assert main(["cors", "--show", str(project.show)]) == 1
    assert "a local folder has no CORS settings" in capsys.readouterr().err
