"""`publish episode SLUG... | --all`: run the stages that are not up to date, and publish (see
pipeline/build/project.py)."""

from __future__ import annotations

import argparse
import os

from pipeline.build.project import PUBLISH, STEPS, Project, Request, run_show
from pipeline.commands import add_project_arguments, project_of
from pipeline.errors import PipelineError

STAGE_NAMES = [stage.name for stage in STEPS]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slugs", nargs="*", metavar="SLUG",
                        help="the episodes' folder names under episodes/")
    parser.add_argument("--all", action="store_true",
                        help="every episode under episodes/, published together")
    parser.add_argument("--to", dest="destination",
                        help="a folder, or s3://bucket/prefix (default: the show file's destination)")
    parser.add_argument("--until", choices=STAGE_NAMES, help="stop after this stage")
    parser.add_argument("--force", action="append", default=[], choices=STAGE_NAMES,
                        metavar="STAGE", help="run this stage again even if up to date (repeatable)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what publishing would send and delete, and change nothing there")
    parser.add_argument("--prune", action="store_true",
                        help="delete the episodes' published files that their sites no longer have")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help=f"episodes processed side by side (default 1; this machine has {os.cpu_count()} cores)")
    add_project_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.all == bool(args.slugs):
        raise PipelineError(None, "name the episodes to publish (publish episode SLUG...), or --all")
    if args.jobs < 1:
        raise PipelineError(None, "--jobs must be 1 or more")
    project: Project = project_of(args)
    request = Request(args.destination, args.until, tuple(args.force), args.dry_run, args.prune, args.jobs)
    ran, publication, held = run_show(project, project.every_slug() if args.all else args.slugs, request)
    lines = [f"{slug}: ran {', '.join(stages) if stages else 'nothing (all up to date)'}" for slug, stages in ran.items()]
    if publication is not None and len(ran) == 1:
        slug, stages = next(iter(ran.items()))
        lines[0] = f"{slug}: ran {', '.join([*stages, PUBLISH.name])}" + _published(publication)
    elif publication is not None:
        lines.append(f"{len(ran) - len(held)} episodes: ran publish" + _published(publication))
    lines += [_held(slug, site) for slug, site in held.items()]
    print("\n".join(lines))
    return 0


def _held(slug: str, site) -> str:
    return (f"{slug}: a draft (draft = true in its episode.toml): rendered, not published, drafts never "
            f"leave this machine; preview it: publish serve {site} (then open /{slug}/), or publish it "
            f"to a local folder: publish episode {slug} --to DIR")


def _published(publication: dict) -> str:
    sent, deleted = publication["sent"], publication["deleted"]
    if publication["dry_run"]:
        return (f"; dry run, {publication['destination']} left as it is:"
                + "".join(f"\n  would send {name}" for name in sent)
                + "".join(f"\n  would delete {name}" for name in deleted)
                + ("" if sent or deleted else " it is up to date"))
    return (f"; published to {publication['destination']} ({len(sent)} file(s) changed"
            f"{f', {len(deleted)} deleted' if deleted else ''}), feed {publication['feed_url']}")
