"""Publishing a 100-episode catalogue to S3 with concurrent publishers, publishing it again with
nothing changed, and searching 100 episodes of 45 minutes.

    .venv/bin/python bench/publish.py [--episodes 100] [--publishers 4] [--search-minutes 45]

Starts moto's S3 server as a separate process on loopback (dummy credentials). Renders small
episodes with the render stage (a 2 s MP3, a page, the transcript files, chapters), each into its
own site folder as `build/<slug>/site` is, then:
  first publish        every episode one by one, by 4 publishers at once (producers, CI tags),
                       each merging into the bucket's catalogue: all 100 must be in the feed;
  again, unchanged     the whole catalogue in one call, as `publish episode --all` does;
  one episode again    a few episodes one by one, unchanged, as a CI run on a tag does.
Prints wall time, bytes sent and requests for each. Then the search index of 100 episodes of
45 minutes of synthetic transcript (the sample's words, each episode with a name of its own):
its size, the time to build it, and the time a query takes in headless Chromium (Pagefind).
Targets: every episode in the feed; republishing the unchanged catalogue <= 2 s and 0 bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

from pipeline.engines.mastering import ffmpeg_exe
from pipeline.model import Dialogue, Episode, FeedEntry, MasteredAudio, Show, Turn, Word
from pipeline.publishing.publish import Publication, publish, publish_episodes
from pipeline.publishing.targets.s3 import S3Folder
from pipeline.rendering.episode import RenderedEpisode, render

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "podcast"
HOST = "Gérald Holubowicz"
SAMPLES = 10  # episodes republished one by one for the last figure

SHOW = Show(
    title="Imaginaires", author=HOST, language="fr",
    description="Un podcast sur l'IA et nos imaginaires.",
    base_url="https://cdn.example.org/podcast", host=HOST, owner_name=HOST,
    owner_email="podcast@example.org", category="Technology", artwork=ROOT / "feeds" / "artwork.jpg",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("moto server did not start")


def silent_mp3(path: Path, seconds: float) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono",
                    "-t", str(seconds), "-b:a", "32k", str(path)], check=True)
    return path


def render_episodes(work: Path, count: int) -> list[tuple[RenderedEpisode, Path]]:
    """`count` small episodes, each rendered into its own site folder."""
    audio = MasteredAudio(silent_mp3(work / "master.mp3", 2.0), 2.0, -16.0, -2.0)
    words = [Word("Bonjour,", 0.0, 0.4), Word("qu'est-ce", 0.5, 0.9), Word("qui", 1.0, 1.2),
             Word("change ?", 1.3, 1.8)]
    dialogue = Dialogue(turns=[Turn(HOST, words)])
    episodes = []
    for number in range(1, count + 1):
        slug = f"ep{number:03d}"
        # Podcast apps frown on titles that repeat the episode's number: spell it in letters.
        spelled = "".join("abcdefghij"[int(digit)] for digit in str(number))
        episode = Episode(
            slug=slug, title=f"Conversation {spelled}", number=number,
            date=dt.date(2024, 1, 1) + dt.timedelta(days=7 * number), guests=["Claire Dumas"],
            audio=audio.path, notes_markdown=f"Les notes de la conversation {spelled}.",
        )
        site = work / slug / "site"
        episodes.append((render(SHOW, episode, dialogue, audio, site), site))
    return episodes


class Counted:
    """An S3 target whose requests are counted."""

    def __init__(self, bucket: str, endpoint: str):
        self.target = S3Folder(bucket, PREFIX, endpoint_url=endpoint)
        self.requests = 0
        self.target.client.meta.events.register("before-send.s3", self._count)

    def _count(self, **_) -> None:
        self.requests += 1


def bytes_sent(publication: Publication, episodes: list[tuple[RenderedEpisode, Path]]) -> int:
    # The show's own files are written into the first episode's site folder.
    sites = {name: site for rendered, site in episodes for name in rendered.files}
    return sum((sites.get(name, episodes[0][1]) / name).stat().st_size for name in publication.sent)


def one_by_one(episodes: list[tuple[RenderedEpisode, Path]], bucket: str, endpoint: str) -> dict:
    sent, requests, times = 0, 0, []
    for rendered, site in episodes:
        start = time.perf_counter()
        counted = Counted(bucket, endpoint)  # a fresh client, as each `publish episode` run has
        publication = publish(SHOW, rendered, site, counted.target, counted.target.url())
        times.append(time.perf_counter() - start)
        sent += bytes_sent(publication, [(rendered, site)])
        requests += counted.requests
    return {"seconds": sum(times), "bytes": sent, "requests": requests,
            "median": statistics.median(times), "slowest": max(times)}


def by_publishers(episodes: list[tuple[RenderedEpisode, Path]], bucket: str, endpoint: str,
                  publishers: int) -> dict:
    """The episodes shared between publishers running at once, each publishing its share one by one."""
    shares = [episodes[k::publishers] for k in range(publishers)]
    start = time.perf_counter()
    with ThreadPoolExecutor(publishers) as pool:
        results = list(pool.map(lambda share: one_by_one(share, bucket, endpoint), shares))
    return {"seconds": time.perf_counter() - start, "bytes": sum(r["bytes"] for r in results),
            "requests": sum(r["requests"] for r in results),
            "median": statistics.median(r["median"] for r in results), "slowest": max(r["slowest"] for r in results)}


def all_at_once(episodes: list[tuple[RenderedEpisode, Path]], bucket: str, endpoint: str) -> dict:
    start = time.perf_counter()
    counted = Counted(bucket, endpoint)
    publication = publish_episodes(SHOW, episodes, counted.target, counted.target.url())
    return {"seconds": time.perf_counter() - start, "bytes": bytes_sent(publication, episodes),
            "requests": counted.requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--publishers", type=int, default=4, help="publishers running at once")
    parser.add_argument("--search-minutes", type=float, default=45, help="transcript length per episode")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
                      AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    server, endpoint = start_server()
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        with tempfile.TemporaryDirectory() as work:
            start = time.perf_counter()
            episodes = render_episodes(Path(work), args.episodes)
            print(f"rendered {args.episodes} episodes in {time.perf_counter() - start:.1f} s")

            first = by_publishers(episodes, bucket, endpoint, args.publishers)
            print(f"first publish, {args.publishers} publishers    {first['seconds']:6.2f} s, {first['bytes']:>9} bytes "
                  f"sent, {first['requests']:>5} requests; per episode: median {first['median']:.2f} s, "
                  f"slowest {first['slowest']:.2f} s")
            s3 = boto3.client("s3", endpoint_url=endpoint)
            catalogue = json.loads(s3.get_object(Bucket=bucket, Key=f"{PREFIX}/catalogue.json")["Body"].read())
            feed = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/feed.xml")["Body"].read()
            print(f"  in the catalogue: {len(catalogue)}/{args.episodes}, in the feed: "
                  f"{feed.count(b'<item>')}/{args.episodes}")
            again = all_at_once(episodes, bucket, endpoint)
            print(f"again, unchanged, all at once  {again['seconds']:6.2f} s, {again['bytes']:>9} bytes "
                  f"sent, {again['requests']:>5} requests   (target <= 2 s, 0 bytes)")
            one = one_by_one(episodes[-SAMPLES:], bucket, endpoint)
            print(f"one episode again, unchanged   median {one['median']:.2f} s, slowest "
                  f"{one['slowest']:.2f} s, {one['bytes']} bytes sent, "
                  f"{one['requests'] / SAMPLES:.0f} requests each ({SAMPLES} episodes)")
    finally:
        server.terminate()
        server.wait()
    search_figures(args.episodes, args.search_minutes)


WORDS_PER_MINUTE = 150
TURN_WORDS = 120  # a long-form interview's answers run a minute or so


def guest_name(number: int) -> str:
    return "Zorva" + "".join("bcdfghjklm"[int(digit)] for digit in str(number)) + "ek"


def synthetic_catalogue(count: int, minutes: float) -> tuple[dict[str, dict], dict[str, bytes]]:
    """`count` episodes of `minutes` of transcript made of the sample's words, each naming its
    own guest once (`guest_name`): (catalogue, transcript JSON by slug)."""
    words = (ROOT / "episodes" / "exemple" / "dialogue.txt").read_text(encoding="utf-8").split()
    rng = random.Random(7)
    catalogue, transcripts = {}, {}
    for number in range(1, count + 1):
        slug = f"ep{number:03d}"
        total = int(minutes * WORDS_PER_MINUTE)
        segments, at = [], 0.0
        turns = max(total // TURN_WORDS, 1)
        for index in range(turns):
            body = " ".join(rng.choice(words) for _ in range(TURN_WORDS))
            if index == min(7, turns - 1):
                body += f" {guest_name(number)}"
            segments.append({"speaker": HOST if index % 2 == 0 else "Claire Dumas", "startTime": at,
                             "endTime": at + 48.0, "body": body})
            at += 48.0
        catalogue[slug] = FeedEntry(slug, f"Conversation {number}", number, "2024-01-01", "", "", 0, 0)
        transcripts[slug] = json.dumps({"version": "1.0.0", "segments": segments}).encode()
    return catalogue, transcripts


def search_figures(count: int, minutes: float) -> None:
    from pipeline.commands.serve import open_server
    from pipeline.publishing.search import build_search_index

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    catalogue, transcripts = synthetic_catalogue(count, minutes)
    with tempfile.TemporaryDirectory() as site:
        site = Path(site)
        start = time.perf_counter()
        files = build_search_index(catalogue, transcripts.get, "fr", site)
        built = time.perf_counter() - start
        size = sum(path.stat().st_size for path in files.values())
        turns = sum(len(json.loads(t)["segments"]) for t in transcripts.values())
        print(f"search index, {count} episodes x {minutes:.0f} min ({turns} turns): {len(files)} files, "
              f"{size / 1e6:.1f} MB, built in {built:.1f} s")
        (site / "index.html").write_text('<!doctype html><script type="module">'
                                         'window.pagefind = await import("./pagefind/pagefind.js");</script>')
        server = open_server(site, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            print("  " + query_times(f"http://127.0.0.1:{server.server_port}/", count))
        finally:
            server.shutdown()
            server.server_close()


def query_times(url: str, count: int) -> str:
    """Pagefind's own search in headless Chromium: the first query (loading the index's entry
    and WebAssembly) and later ones, with the bytes the page fetched."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "query time: needs playwright (pip install -e '.[test]') and Chromium"
    fetched = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.on("response", lambda response: fetched.append(int(response.headers.get("content-length", 0))))
        page.goto(url, wait_until="networkidle")
        page.wait_for_function("window.pagefind !== undefined")
        timings = []
        for query in [guest_name(count // 2), "règlement", guest_name(count), "citoyens transparence", guest_name(1)]:
            timings.append(page.evaluate("""async query => {
                const start = performance.now();
                const search = await window.pagefind.search(query);
                const found = await Promise.all(search.results.slice(0, 5).map(r => r.data()));
                return [performance.now() - start, search.results.length, found.length];
            }""", query))
        browser.close()
    first, *later = timings
    return (f"query time: first {first[0]:.0f} ms, then median {statistics.median(t[0] for t in later):.0f} ms "
            f"(results: {[t[1] for t in timings]}), {sum(fetched) / 1e6:.2f} MB fetched by the page in all")


if __name__ == "__main__":
    main()
