"""`publish episode SLUG`: run the stages that are not up to date, and publish."""

from __future__ import annotations

import argparse

from ..runner import run_stages
from ..stages import STAGES
from . import add_project_arguments, open_episode_run

STAGE_NAMES = [stage.name for stage in STAGES]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", help="the episode's folder name under episodes/")
    parser.add_argument("--to", dest="destination",
                        help="a folder, or s3://bucket/prefix (default: the show file's destination)")
    parser.add_argument("--until", choices=STAGE_NAMES, help="stop after this stage")
    parser.add_argument("--force", action="append", default=[], choices=STAGE_NAMES,
                        metavar="STAGE", help="run this stage again even if up to date (repeatable)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what publishing would send and delete, and change nothing there")
    parser.add_argument("--prune", action="store_true",
                        help="delete the episode's published files that its site no longer has")
    add_project_arguments(parser)


def run(args: argparse.Namespace) -> int:
    episode_run = open_episode_run(args, args.destination, dry_run=args.dry_run, prune=args.prune)
    ran = run_stages(episode_run, until=args.until, force=tuple(args.force))
    summary = f"{args.slug}: ran {', '.join(ran) if ran else 'nothing (all up to date)'}"
    if "publish" in ran:
        publication = episode_run.artifact("publish")
        sent, deleted = publication["sent"], publication["deleted"]
        if publication["dry_run"]:
            summary += f"; dry run, {publication['destination']} left as it is:"
            summary += "".join(f"\n  would send {name}" for name in sent)
            summary += "".join(f"\n  would delete {name}" for name in deleted)
            summary += "" if sent or deleted else " it is up to date"
        else:
            summary += (f"; published to {publication['destination']} ({len(sent)} file(s) changed"
                        f"{f', {len(deleted)} deleted' if deleted else ''}), feed {publication['feed_url']}")
    print(summary)
    return 0
