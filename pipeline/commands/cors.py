"""`publish cors [--to s3://bucket/prefix]`: let web players and apps read the bucket from other sites.

Browsers fetch transcripts, chapters and audio across origins (a web player, a Podcast Index
app): without CORS on the bucket they are refused. This adds the rule the published files
need, read-only and from any origin, with the Range header that seeking in audio sends, to the
bucket's own rules (kept: CORS is set for the whole bucket, not for a prefix); `--dry-run`
prints the rules it would set.
"""

from __future__ import annotations

import argparse
import json

from pipeline.commands import add_show_argument
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.publishing.targets import open_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", dest="destination",
                        help="s3://bucket/prefix (default: the show file's destination)")
    parser.add_argument("--dry-run", action="store_true", help="print the merged rules, set nothing")
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
    before = target.cors_rules()
    rules = target.rules_with_reads_from_any_site()
    scope = (f"CORS is bucket-wide: these rules apply to all of s3://{target.bucket}, "
             f"not only to {target.url()}" if target.prefix else "")
    if args.dry_run:
        print(json.dumps(rules, indent=1))
        print(f"s3://{target.bucket}: would set {len(rules)} rule(s), {len(before)} there now (dry run). {scope}")
        return 0
    if rules != before:
        target.set_cors_rules(rules)
    kept = f"; the bucket's {len(before)} other rule(s) kept" if before and rules != before else ""
    print(f"s3://{target.bucket}: CORS {'set' if rules != before else 'already set'}, GET and HEAD from any "
          f"origin, with Range{kept}. {scope}".rstrip())
    return 0
