"""`publish cors [--to s3://bucket/prefix]`: let web players and apps read the bucket from other sites.

Browsers fetch transcripts, chapters and audio across origins (a web player, a Podcast Index
app): without CORS on the bucket they are refused. This applies the rule the published files
need, read-only and from any origin, with the Range header that seeking in audio sends.
"""

from __future__ import annotations

import argparse

from pipeline.commands import add_show_argument
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.publishing.targets import open_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", dest="destination",
                        help="s3://bucket/prefix (default: the show file's destination)")
    add_show_argument(parser)


def run(args: argparse.Namespace) -> int:
    from pipeline.publishing.targets.s3 import (  # boto3 takes a fifth of a second to import
        CORS_RULES,
        S3Folder,
    )

    show = load_show(args.show)
    destination = args.destination or show.destination
    target = open_target(destination, show)
    if not isinstance(target, S3Folder):
        raise PipelineError(destination, "a local folder has no CORS settings: set "
                            f"{CORS_RULES[0]['AllowedMethods']} from any origin on the web server that serves it")
    target.allow_reads_from_any_site()
    print(f"s3://{target.bucket}: CORS set, GET and HEAD from any origin, with Range")
    return 0
