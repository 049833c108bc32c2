"""Several publishers of different episodes to one destination at once (two producers, two CI
tags): every episode ends in the catalogue and the feed, and no run fails."""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import podcastparser
import pytest

from pipeline.publishing.targets.local import LocalFolder
from tests.conftest import PREFIX, make_cdn_show, publish_one, render_by_hand, s3_folder

ROUNDS = 3


def publish_together(tmp_path, open_target, publishers: int, round_: int) -> None:
    """`publishers` episodes, each rendered into its own build folder, published at one moment."""
    start = threading.Barrier(publishers)

    def one(index: int):
        site = tmp_path / f"build-{round_}-{index}"
        rendered = render_by_hand(site, f"ep{round_}x{index}", round_ * 10 + index + 1)
        start.wait()
        return publish_one(make_cdn_show(), rendered, site, open_target(), "destination")

    with ThreadPoolExecutor(publishers) as pool:
        list(pool.map(one, range(publishers)))  # re-raises any publisher's failure


def assert_every_episode_listed(catalogue: bytes, feed: bytes, publishers: int, rounds: int) -> None:
    expected = {f"ep{r}x{i}" for r in range(rounds) for i in range(publishers)}
    assert set(json.loads(catalogue)) == expected
    parsed = podcastparser.parse("https://cdn.example.org/podcast/feed.xml", io.BytesIO(feed))
    assert {e["link"].rstrip("/").rsplit("/", 1)[1] for e in parsed["episodes"]} == expected


@pytest.mark.slow  # races publishers over several rounds
@pytest.mark.parametrize("publishers", [2, 4])
def test_publishers_at_once_to_a_folder_keep_every_episode(tmp_path, publishers):
    root = tmp_path / "site"
    for round_ in range(ROUNDS):
        publish_together(tmp_path, lambda: LocalFolder(root), publishers, round_)
        assert_every_episode_listed((root / "catalogue.json").read_bytes(), (root / "feed.xml").read_bytes(),
                                    publishers, round_ + 1)
    assert not [p for p in root.rglob("*.partial")]  # no file left half-sent


@pytest.mark.slow  # rounds of publishers racing on a real S3 server: 20 s and more
@pytest.mark.parametrize("publishers", [2, 4])
def test_publishers_at_once_to_a_bucket_keep_every_episode(tmp_path, bucket, endpoint, s3, publishers):
    for round_ in range(ROUNDS):
        publish_together(tmp_path, lambda: s3_folder(bucket, endpoint), publishers, round_)
        catalogue, feed = (s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{name}")["Body"].read()
                           for name in ("catalogue.json", "feed.xml"))
        assert_every_episode_listed(catalogue, feed, publishers, round_ + 1)
