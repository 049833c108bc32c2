"""Publishing a 100-episode catalogue to S3, then publishing it again with nothing changed.

    .venv/bin/python bench/publish.py [--episodes 100]

Starts moto's S3 server as a separate process on loopback (dummy credentials), renders small
episodes by hand (the tests' site: an MP3, a page, three transcripts, chapters, item.json), and
publishes them one by one through the publish stage, as `publish episode SLUG` does: the first
pass sends everything, the second must send nothing. Prints, per pass: wall time, bytes sent,
requests, and the time of one episode's publish (median, slowest).
Target: republishing an unchanged episode <= 2 s and 0 bytes.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' hand-made site

import boto3  # noqa: E402

from pipeline.stages.publish import publish  # noqa: E402
from pipeline.targets.s3 import S3Folder  # noqa: E402
from tests.test_s3 import make_show, render_by_hand  # noqa: E402

PREFIX = "podcast"


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


def publish_all(site: Path, count: int, bucket: str, endpoint: str) -> dict:
    requests = 0

    def count_request(**_):
        nonlocal requests
        requests += 1

    show, sent_bytes, times = make_show(), 0, []
    start = time.perf_counter()
    for number in range(1, count + 1):
        slug = f"ep{number:03d}"
        rendered = render_by_hand(site, slug, number)
        one = time.perf_counter()
        target = S3Folder(bucket, PREFIX, endpoint_url=endpoint)
        target.client.meta.events.register("before-send.s3", count_request)
        publication = publish(show, rendered, site, target, target.url())
        times.append(time.perf_counter() - one)
        sent_bytes += sum((site / name).stat().st_size for name in publication.sent)
    return {"seconds": time.perf_counter() - start, "bytes": sent_bytes, "requests": requests,
            "median": statistics.median(times), "slowest": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/nonexistent",
                      AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    server, endpoint = start_server()
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        with tempfile.TemporaryDirectory() as folder:
            for label in ("first publish", "again, unchanged"):
                figures = publish_all(Path(folder), args.episodes, bucket, endpoint)
                print(f"{label:<17} {args.episodes} episodes: {figures['seconds']:6.1f} s, "
                      f"{figures['bytes']:>9} bytes sent, {figures['requests']:>5} requests; "
                      f"one episode: median {figures['median']:.2f} s, "
                      f"slowest {figures['slowest']:.2f} s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
