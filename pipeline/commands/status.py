"""`publish status SLUG`: each stage's state (done / stale / missing) and its artifact."""

from __future__ import annotations

import argparse

from pipeline.commands import add_project_arguments, project_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", help="the episode's folder name under episodes/")
    parser.add_argument("--to", dest="destination",
                        help="the destination publishing is compared with (default: the show file's)")
    add_project_arguments(parser)


def run(args: argparse.Namespace) -> int:
    episode_run = project_of(args).open_run(args.slug, args.destination)
    upstream_ready = True
    for stage in episode_run.stages:
        state = episode_run.state(stage)
        if state == "done" and not upstream_ready:
            state = "stale"  # its inputs are about to change when the earlier stage re-runs
        upstream_ready = upstream_ready and state == "done"
        print(f"{stage.name:<11} {state:<8} {episode_run.artifact_path(stage.name)}")
    return 0
