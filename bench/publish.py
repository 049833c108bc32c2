"""Publishing a 100-episode catalogue to S3, then publishing it again with nothing changed.

    .venv/bin/python bench/publish.py [--episodes 100]

Starts moto's S3 server as a separate process on loopback (dummy credentials). Renders small
episodes with the render stage (a 2 s MP3, a page, the transcript files, chapters), each into its
own site folder as `build/<slug>/site` is, then:
  first publish        every episode one by one, as `publish episode SLUG` does once a week;
  again, unchanged     the whole catalogue in one call, as `publish episode --all` does;
  one episode again    a few episodes one by one, unchanged, as a CI run on a tag does.
Prints wall time, bytes sent and requests for each.
Target (issue 7): republishing the unchanged catalogue <= 2 s and 0 bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3

from pipeline.model import Dialogue, Episode, MasteredAudio, Show, Turn, Word
from pipeline.stages.audio import ffmpeg_exe
from pipeline.stages.publish import Publication, publish, publish_episodes
from pipeline.stages.render import RenderedEpisode, render
from pipeline.targets.s3 import S3Folder

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


def all_at_once(episodes: list[tuple[RenderedEpisode, Path]], bucket: str, endpoint: str) -> dict:
    start = time.perf_counter()
    counted = Counted(bucket, endpoint)
    publication = publish_episodes(SHOW, episodes, counted.target, counted.target.url())
    return {"seconds": time.perf_counter() - start, "bytes": bytes_sent(publication, episodes),
            "requests": counted.requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
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

            first = one_by_one(episodes, bucket, endpoint)
            print(f"first publish, one by one      {first['seconds']:6.2f} s, {first['bytes']:>9} bytes "
                  f"sent, {first['requests']:>5} requests; per episode: median {first['median']:.2f} s, "
                  f"slowest {first['slowest']:.2f} s")
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


if __name__ == "__main__":
    main()
