"""`publish feed --check`: the findings on the feed a destination serves now."""

from __future__ import annotations

import argparse

from pipeline.commands import add_show_argument
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.publishing.feed import feed_url
from pipeline.publishing.feed_check import check_feed
from pipeline.publishing.targets import open_target
from pipeline.rendering.layout import FEED_FILE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", required=True,
                        help="check the published feed against Apple's and Podcasting 2.0 rules")
    add_show_argument(parser)
    parser.add_argument("--to", dest="destination",
                        help="a folder, or s3://bucket/prefix (default: the show file's destination)")


def run(args: argparse.Namespace) -> int:
    show = load_show(args.show)
    destination = args.destination or show.destination
    feed = open_target(destination, show).read(FEED_FILE)
    if feed is None:
        raise PipelineError(f"{destination}/{FEED_FILE}", "no feed there yet: publish an episode first")
    findings = check_feed(feed, feed_url(show))
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if f.severity == "error")
    print(f"{destination}/{FEED_FILE}: {errors} error(s), {len(findings) - errors} warning(s)")
    return 1 if errors else 0
