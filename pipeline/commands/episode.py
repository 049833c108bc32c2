"""`publish episode SLUG... | --all`: run the stages that are not up to date, and publish.

One episode goes through every stage, publish included. Several (after a template or show file
change, or to fill a new destination) each go up to render, then are published together: one
catalogue read and one comparison with the destination, instead of one per episode.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path

from ..config import EPISODE_FILE
from ..errors import PipelineError
from ..runner import EpisodeRun, episode_lock, run_stages
from ..stages import STAGES, rendered
from ..stages.publish import publish_episodes
from ..targets import open_target
from . import add_project_arguments, open_episode_run

STAGE_NAMES = [stage.name for stage in STAGES]
PUBLISH = next(stage for stage in STAGES if stage.name == "publish")
RENDER = "render"


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
    add_project_arguments(parser)


def every_slug(episodes: Path) -> list[str]:
    if not episodes.is_dir():
        raise PipelineError(episodes, "no episodes folder here: pass --episodes FOLDER")
    slugs = sorted(p.name for p in episodes.iterdir() if (p / EPISODE_FILE).is_file())
    if not slugs:
        raise PipelineError(episodes, f"no episode here: each episode is a folder with an {EPISODE_FILE}")
    return slugs


def run(args: argparse.Namespace) -> int:
    if args.all == bool(args.slugs):
        raise PipelineError(None, "name the episodes to publish (publish episode SLUG...), or --all")
    runs = [
        open_episode_run(args, args.destination, slug, dry_run=args.dry_run, prune=args.prune)
        for slug in (every_slug(args.episodes) if args.all else args.slugs)
    ]
    if len(runs) == 1:
        ran = run_stages(runs[0], until=args.until, force=tuple(args.force))
        published = _published(runs[0].artifact(PUBLISH.name)) if PUBLISH.name in ran else ""
        print(_ran(runs[0], ran) + published)
        return 0

    publishing = args.until in (None, PUBLISH.name)
    for episode_run in runs:
        ran = run_stages(episode_run, until=RENDER if publishing else args.until,
                         force=tuple(args.force))
        print(_ran(episode_run, ran))
    if publishing:
        first = runs[0]
        with ExitStack() as locks:  # no other run may re-render these sites while they go out
            for episode_run in runs:
                locks.enter_context(episode_lock(episode_run.work))
            publication = publish_episodes(
                first.show, [rendered(r) for r in runs], open_target(first.destination, first.show),
                first.destination, dry_run=args.dry_run, prune=args.prune,
            )
        for episode_run in runs:
            episode_run.record(PUBLISH, publication)
        print(f"{len(runs)} episodes: ran publish" + _published(runs[0].artifact(PUBLISH.name)))
    return 0


def _ran(episode_run: EpisodeRun, ran: list[str]) -> str:
    return f"{episode_run.episode.slug}: ran {', '.join(ran) if ran else 'nothing (all up to date)'}"


def _published(publication: dict) -> str:
    sent, deleted = publication["sent"], publication["deleted"]
    if publication["dry_run"]:
        return (f"; dry run, {publication['destination']} left as it is:"
                + "".join(f"\n  would send {name}" for name in sent)
                + "".join(f"\n  would delete {name}" for name in deleted)
                + ("" if sent or deleted else " it is up to date"))
    return (f"; published to {publication['destination']} ({len(sent)} file(s) changed"
            f"{f', {len(deleted)} deleted' if deleted else ''}), feed {publication['feed_url']}")
