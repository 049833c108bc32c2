"""The published search index heals: whatever stopped a publisher (another one overtaking it, a
kill -9 after its catalogue write or in the middle of the index upload, a refused upload), the
next publish of the same or another episode leaves an index whose entry names files that are
there, with a page for every catalogued episode and none for a draft. On a folder and a bucket."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from pipeline.build.files import file_digest
from pipeline.errors import PipelineError
from pipeline.publishing.targets.local import LocalFolder
from pipeline.rendering.layout import CATALOGUE_FILE, SEARCH_ENTRY, TRANSCRIPT_JSON
from tests.conftest import PREFIX, REPO, make_cdn_show, publish_one, render_by_hand, s3_folder

MANIFEST = "pagefind/publish-manifest.json"


def render_with_transcript(site: Path, slug: str, number: int, draft: bool = False):
    """render_by_hand's episode with the transcript the search index is made from."""
    rendered = render_by_hand(site, slug, number)
    transcript = {"segments": [{"startTime": 3, "speaker": "Gérald", "body": f"bonjour, voici le mot{slug}"}]}
    (site / slug / TRANSCRIPT_JSON).write_text(json.dumps(transcript), encoding="utf-8")
    rendered.files = sorted([*rendered.files, f"{slug}/{TRANSCRIPT_JSON}"])
    rendered.item.transcript_digest = file_digest(site / slug / TRANSCRIPT_JSON)
    rendered.item.draft = draft
    return rendered


class Faulty:
    """A target that calls `after_catalogue()` once its catalogue write went through, and
    `before_put(name)` before each file it puts (one at a time)."""

    def __init__(self, inner, after_catalogue=None, before_put=None):
        self.inner, self.after_catalogue, self.before_put = inner, after_catalogue, before_put

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put_if_version(self, name, path, version):
        result = self.inner.put_if_version(name, path, version)
        if result is not None and self.after_catalogue:
            self.after_catalogue()
        return result

    def put(self, files):
        for name, path in files.items():
            if self.before_put:
                self.before_put(name)
            self.inner.put({name: path})


class Where:
    """A destination: a folder or s3://bucket/podcast, opened afresh for each publisher."""

    def __init__(self, kind: str, root: Path, bucket: str | None = None, endpoint: str | None = None):
        self.kind, self.root, self.bucket, self.endpoint = kind, root, bucket, endpoint

    def target(self):
        return LocalFolder(self.root) if self.kind == "folder" else s3_folder(self.bucket, self.endpoint)

    @property
    def destination(self) -> str:
        return str(self.root) if self.kind == "folder" else f"s3://{self.bucket}/{PREFIX}"

    def publish(self, builds: Path, slug: str, number: int, target=None, draft: bool = False):
        site = builds / f"build-{slug}-{uuid.uuid4().hex[:6]}"
        rendered = render_with_transcript(site, slug, number, draft)
        return publish_one(make_cdn_show(), rendered, site, target or self.target(), self.destination)

    def args(self) -> list[str]:
        return [self.kind, str(self.root), self.bucket or "", self.endpoint or ""]


@pytest.fixture(params=["folder", "bucket"])
def where(request, tmp_path) -> Where:
    if request.param == "folder":
        return Where("folder", tmp_path / "public")
    return Where("bucket", tmp_path, request.getfixturevalue("bucket"), request.getfixturevalue("endpoint"))


def fragment_urls(target, names: list[str]) -> set[str]:
    urls = set()
    for name in names:
        data = gzip.decompress(target.read(name))
        urls.add(json.loads(data[data.index(b"{"):])["url"])
    return urls


def assert_search_whole(where: Where, slugs: set[str]) -> None:
    """The published index: its entry names a meta file that is there, counts a page for every
    catalogued episode, each fragment is one of theirs; every file the manifest names is there."""
    target = where.target()
    assert set(json.loads(target.read(CATALOGUE_FILE))) == slugs
    entry = json.loads(target.read(SEARCH_ENTRY))
    language = entry["languages"]["fr"]
    assert language["page_count"] == len(slugs)
    names = set(target.names())
    assert f"pagefind/pagefind.{language['hash']}.pf_meta" in names
    manifest = json.loads(target.read(MANIFEST))
    assert set(manifest["files"]) <= names and manifest["episodes"] == sorted(slugs)
    fragments = sorted(n for n in names if n.startswith("pagefind/fragment/"))
    assert fragment_urls(target, fragments) == {f"/{slug}/" for slug in slugs}  # a draft's is gone


def test_a_publisher_overtaken_after_its_catalogue_write_leaves_a_whole_index(tmp_path, where):
    reached, release = threading.Event(), threading.Event()

    def pause():
        if not reached.is_set():
            reached.set()
            release.wait(30)

    where.publish(tmp_path, "ep0", 1)
    slow = threading.Thread(target=where.publish, args=(tmp_path, "ep1", 2, Faulty(where.target(), pause)))
    slow.start()
    assert reached.wait(30)
    fast = threading.Thread(target=where.publish, args=(tmp_path, "ep2", 3))
    fast.start()
    fast.join(timeout=None if where.kind == "bucket" else 0.5)  # a folder's lock holds it back
    release.set()
    slow.join(), fast.join()
    assert_search_whole(where, {"ep0", "ep1", "ep2"})


KILLER = """
import os, signal, sys
from pathlib import Path
from tests.test_healing import Faulty, Where
mode, kind, root, bucket, endpoint, builds = sys.argv[1:]
where = Where(kind, Path(root), bucket or None, endpoint or None)
sent = []
def kill():
    os.kill(os.getpid(), signal.SIGKILL)
def count(name):
    sent.extend([name] if name.startswith("pagefind/") else [])
    if len(sent) == 4:
        kill()
faulty = Faulty(where.target(), kill, None) if mode == "catalogue" else Faulty(where.target(), None, count)
where.publish(Path(builds), "ep1", 2, faulty)
"""


@pytest.mark.slow  # kills real publisher processes, eight times
@pytest.mark.parametrize("moment", ["catalogue", "index"])
@pytest.mark.parametrize("rerun", ["same", "another"])
def test_a_publisher_killed_is_repaired_by_the_next_publish(tmp_path, where, moment, rerun):
    where.publish(tmp_path, "ep0", 1)
    killed = subprocess.run([sys.executable, "-c", KILLER, moment, *where.args(), str(tmp_path)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "ep1" in json.loads(where.target().read(CATALOGUE_FILE))
    if moment == "catalogue":  # what a listener searched was not updated
        assert json.loads(where.target().read(SEARCH_ENTRY))["languages"]["fr"]["page_count"] == 1
    again = where.publish(tmp_path, *(("ep1", 2) if rerun == "same" else ("ep2", 3)))
    assert SEARCH_ENTRY in again.sent and again.sent[-1] == "feed.xml"
    assert_search_whole(where, {"ep0", "ep1"} | ({"ep2"} if rerun == "another" else set()))


def test_a_refused_index_upload_is_sent_by_the_next_run(tmp_path, where):
    where.publish(tmp_path, "ep0", 1)

    def refuse(name):
        if name.startswith("pagefind/"):
            raise PipelineError(name, "access refused (AccessDenied)")

    with pytest.raises(PipelineError, match="AccessDenied"):
        where.publish(tmp_path, "ep1", 2, Faulty(where.target(), None, refuse))
    again = where.publish(tmp_path, "ep1", 2)
    assert MANIFEST in again.sent
    assert_search_whole(where, {"ep0", "ep1"})


def test_a_draft_leaves_the_search_and_an_unchanged_republish_sends_nothing(tmp_path, where):
    for number, slug in enumerate(["ep0", "ep1", "ep2"], start=1):
        where.publish(tmp_path, slug, number)
    assert_search_whole(where, {"ep0", "ep1", "ep2"})
    where.publish(tmp_path, "ep1", 2, draft=True)
    assert_search_whole(where, {"ep0", "ep2"})
    started = time.perf_counter()
    again = where.publish(tmp_path, "ep2", 3)
    print(f"unchanged republish: {time.perf_counter() - started:.2f} s")
    assert again.sent == []


def test_a_lost_index_file_is_sent_again_alone(tmp_path, where):
    for number, slug in enumerate(["ep0", "ep1"], start=1):
        where.publish(tmp_path, slug, number)
    entry = json.loads(where.target().read(SEARCH_ENTRY))
    meta = f"pagefind/pagefind.{entry['languages']['fr']['hash']}.pf_meta"
    where.target().delete([meta])
    again = where.publish(tmp_path, "ep0", 1)
    assert again.sent == [meta]
    assert_search_whole(where, {"ep0", "ep1"})


@pytest.mark.slow  # races four publishers
@pytest.mark.parametrize("publishers", [4])
def test_publishers_at_once_leave_a_whole_index(tmp_path, where, publishers):
    start = threading.Barrier(publishers)

    def one(index: int):
        start.wait()
        return where.publish(tmp_path, f"ep{index}", index + 1)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(publishers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_search_whole(where, {f"ep{index}" for index in range(publishers)})
