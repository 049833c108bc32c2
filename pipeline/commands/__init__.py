"""One module per CLI verb; each has add_arguments(parser) and run(args) -> exit status."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_episode, load_show
from ..runner import EpisodeRun
from ..stages import STAGES
from ..targets import checked_destination


def add_show_argument(parser: argparse.ArgumentParser, why: str = "") -> None:
    parser.add_argument("--show", type=Path, default=Path("feeds/show.toml"),
                        help=f"the show file{why} (default: feeds/show.toml)")


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    add_show_argument(parser)
    parser.add_argument("--episodes", type=Path, default=Path("episodes"),
                        help="the folder holding one folder per episode (default: episodes)")
    parser.add_argument("--work", type=Path, default=Path("build"),
                        help="where stage artifacts are cached (default: build)")


def open_episode_run(
    args: argparse.Namespace, destination: str | None = None, slug: str | None = None,
    **publish_options: bool,
) -> EpisodeRun:
    show = load_show(args.show)
    episode = load_episode(args.episodes, slug or args.slug)
    project = {"the episodes": args.episodes, "the build cache": args.work, "the show file's folder": args.show.parent}
    return EpisodeRun(
        show, episode, args.work / episode.slug, STAGES,
        checked_destination(destination or show.destination, project), **publish_options,
    )
