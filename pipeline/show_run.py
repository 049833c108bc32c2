"""A publish run over a show's episodes: each episode's own stages, then the show-level step.

One episode goes through every stage, publish included. Several (after a template or show file
change, to fill a new destination, or a back catalogue) each go up to render, in `jobs`
processes side by side (each loads its own models), then are published together: one
catalogue read and one comparison with the destination, however many episodes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .config import EPISODE_FILE, load_episode, load_show
from .errors import PipelineError
from .model import to_data
from .runner import EpisodeRun, episode_lock, run_stages
from .stages import STAGES, rendered
from .stages.publish import publish_episodes
from .targets import checked_destination, open_target

PUBLISH = next(stage for stage in STAGES if stage.name == "publish")
RENDER = "render"


@dataclass(frozen=True)
class Project:
    """Where a show's files are: the show file, the episode folders, the build cache."""

    show: Path
    episodes: Path
    work: Path

    def every_slug(self) -> list[str]:
        if not self.episodes.is_dir():
            raise PipelineError(self.episodes, "no episodes folder here: pass --episodes FOLDER")
        slugs = sorted(p.name for p in self.episodes.iterdir() if (p / EPISODE_FILE).is_file())
        if not slugs:
            raise PipelineError(self.episodes, f"no episode here: each episode is a folder with an {EPISODE_FILE}")
        return slugs

    def open_run(self, slug: str, destination: str | None = None, **publish_options: bool) -> EpisodeRun:
        show = load_show(self.show)
        episode = load_episode(self.episodes, slug)
        own_folders = {"the episodes": self.episodes, "the build cache": self.work,
                       "the show file's folder": self.show.parent}
        return EpisodeRun(show, episode, self.work / episode.slug, STAGES,
                          checked_destination(destination or show.destination, own_folders), **publish_options)


@dataclass(frozen=True)
class Request:
    """What to do with the episodes (the `publish episode` options)."""

    destination: str | None = None
    until: str | None = None
    force: tuple[str, ...] = ()
    dry_run: bool = False
    prune: bool = False
    jobs: int = 1


def _own_stages(project: Project, slug: str, request: Request, until: str | None) -> list[str]:
    """One episode's stages (in a worker process when jobs > 1): the names of those that ran."""
    run = project.open_run(slug, request.destination, dry_run=request.dry_run, prune=request.prune)
    return run_stages(run, until=until, force=request.force)


def run_show(project: Project, slugs: list[str], request: Request) -> tuple[dict[str, list[str]], dict | None]:
    """The stages each episode ran (slug -> names), and what publishing did (the publish
    stage's artifact), or None when the request stopped before publishing."""
    runs = [project.open_run(slug, request.destination, dry_run=request.dry_run, prune=request.prune)
            for slug in slugs]  # every episode file is checked before any work starts
    if len(runs) == 1:
        ran = run_stages(runs[0], until=request.until, force=request.force)
        return {slugs[0]: ran}, runs[0].artifact(PUBLISH.name) if PUBLISH.name in ran else None
    publishing = request.until in (None, PUBLISH.name)
    until = RENDER if publishing else request.until
    if request.jobs > 1:
        # Fresh processes, not forks: a fork of a process whose model threads already run
        # (OpenMP, onnxruntime) can hang.
        with ProcessPoolExecutor(max_workers=request.jobs, mp_context=get_context("spawn")) as pool:
            futures = {slug: pool.submit(_own_stages, project, slug, request, until) for slug in slugs}
            ran = {slug: future.result() for slug, future in futures.items()}
    else:
        ran = {run.episode.slug: run_stages(run, until=until, force=request.force) for run in runs}
    if not publishing:
        return ran, None
    first = runs[0]
    with ExitStack() as locks:  # no other run may re-render these sites while they go out
        for run in runs:
            locks.enter_context(episode_lock(run.work))
        publication = publish_episodes(
            first.show, [rendered(run) for run in runs], open_target(first.destination, first.show),
            first.destination, dry_run=request.dry_run, prune=request.prune,
        )
    for run in runs:
        run.record(PUBLISH, publication)
    return ran, to_data(publication)
