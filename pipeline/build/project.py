"""A publish run over a show's episodes: each episode's own stages, then the show-level step.

Each episode goes up to render (several, after a template or show file change, to fill a new
destination, or a back catalogue: in `jobs` processes side by side, each loading its own
models); then all are published together: one catalogue read and one comparison with the
destination, however many episodes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from pipeline.build.context import site_folder
from pipeline.build.runner import EpisodeRun, Stage, episode_lock, run_stages
from pipeline.config import EPISODE_FILE, load_episode, load_show
from pipeline.errors import PipelineError
from pipeline.model import to_data
from pipeline.publishing.publish import Publication, publish_episodes
from pipeline.publishing.targets import checked_destination, open_target
from pipeline.stages import STAGES
from pipeline.stages.render import rendered


def publish_runs(runs: list[EpisodeRun]) -> Publication:
    """The rendered episodes of `runs` (one or many, one destination) published together; no
    other run may re-render their sites while they go out."""
    first = runs[0]
    drafts = [run.episode.slug for run in runs if run.episode.draft]
    if drafts and first.destination.startswith("s3://"):
        raise PipelineError(first.destination, f"{drafts[0]} is a draft: drafts never leave this machine; "
                            "preview it with publish serve, or publish it to a local folder with --to DIR")
    with ExitStack() as locks:
        for run in runs:
            locks.enter_context(episode_lock(run.work))
        publication = publish_episodes(
            first.show, [rendered(run) for run in runs], open_target(first.destination, first.show),
            first.destination, dry_run=first.dry_run, prune=first.prune,
        )
    for run in runs:
        run.record(PUBLISH, publication)
    return publication


PUBLISH = Stage(
    "publish",
    # A dry run's artifact is a plan: its key differs, so `publish status` does not say done.
    inputs=lambda run: {"render": run.upstream_key("render"), "destination": run.destination,
                        "dry_run": run.dry_run},
    make=lambda run: publish_runs([run]),
    always=True,
)
STEPS = [*STAGES, PUBLISH]  # what an episode goes through; --until and --force name these
RENDER = STAGES[-1].name


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
        return EpisodeRun(show, episode, self.work / episode.slug, STEPS,
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


def private_preview(destination: str | None) -> bool:
    """Whether a draft may go there: only to a local folder named on the command line (--to);
    never to a bucket nor to the show's own destination, where anyone who guesses its slug
    would read it."""
    return destination is not None and not destination.startswith("s3://")


def run_show(project: Project, slugs: list[str],
             request: Request) -> tuple[dict[str, list[str]], dict | None, dict[str, Path]]:
    """The stages each episode ran (slug -> names, publishing aside), what publishing did (None
    when the request stopped before publishing, or had only drafts), and the drafts held back:
    slug -> the site folder they were rendered into. One episode or many take the same route:
    each episode's own stages, then one publishing step for them all."""
    runs = [project.open_run(slug, request.destination, dry_run=request.dry_run, prune=request.prune)
            for slug in slugs]  # every episode file is checked before any work starts
    publishing = request.until in (None, PUBLISH.name)
    until = RENDER if publishing else request.until
    if request.jobs > 1 and len(runs) > 1:
        # Fresh processes, not forks: a fork of a process whose model threads already run
        # (OpenMP, onnxruntime) can hang.
        with ProcessPoolExecutor(max_workers=request.jobs, mp_context=get_context("spawn")) as pool:
            futures = {slug: pool.submit(_own_stages, project, slug, request, until) for slug in slugs}
            ran = {slug: future.result() for slug, future in futures.items()}
    else:
        ran = {run.episode.slug: run_stages(run, until=until, force=request.force) for run in runs}
    if not publishing:
        return ran, None, {}
    held = {run.episode.slug: site_folder(run) for run in runs
            if run.episode.draft and not private_preview(request.destination)}
    going = [run for run in runs if run.episode.slug not in held]
    return ran, to_data(publish_runs(going)) if going else None, held
