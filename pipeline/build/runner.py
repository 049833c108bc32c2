"""The staged runner: each stage's artifact is cached under `build/<slug>/`, keyed by its inputs.

A stage's key is a hash of everything its artifact depends on: its settings, the producer's
files it reads, and the keys of the artifacts it consumes. A stage whose key matches the stamp
left by its last successful run is skipped, so editing `notes.md` re-renders but never
re-transcribes. A stamp is written only after its artifact, so an interrupted run resumes from
the last finished stage.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.build.files import data_digest, file_digest, write_json_atomically
from pipeline.errors import PipelineError
from pipeline.model import Episode, Show

log = logging.getLogger("publish")
# The stages without a bar of their own (transcribe draws one as it decodes): their typical
# real-time factor on a 2-core CPU (bench/accuracy.py), for a bar with the time left while they run.
TYPICAL_RTF = {"diarize": 0.03, "footnotes": 0.05, "render": 0.01}


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: what its artifact depends on, and how to make it."""

    name: str
    inputs: Callable[["EpisodeRun"], dict]  # everything the artifact depends on
    make: Callable[["EpisodeRun"], Any]  # returns the artifact, a model object saved as JSON
    revision: int = 1  # bump when the stage's code changes what it makes
    always: bool = False  # runs every time (publishing compares with the destination itself)
    # Files the stage writes beside its artifact; one gone (a cleaned cache) means re-make.
    outputs: Callable[["EpisodeRun"], list[Path]] = lambda run: []


class EpisodeRun:
    """One episode going through the stages: its files, its work folder, its artifacts."""

    def __init__(
        self, show: Show, episode: Episode, work: Path, stages: list[Stage], destination: str,
        *, dry_run: bool = False, prune: bool = False,
    ):
        self.show = show
        self.episode = episode
        self.work = work
        self.stages = stages
        self.destination = destination
        self.dry_run = dry_run  # publish: plan only, change nothing at the destination
        self.prune = prune  # publish: delete the episode's published files its site no longer has
        self._keys: dict[str, str] = {}

    def artifact_path(self, stage: str) -> Path:
        return self.work / f"{stage}.json"

    def _stamp_path(self, stage: str) -> Path:
        return self.work / f"{stage}.stamp"

    def artifact(self, stage: str) -> dict:
        return json.loads(self.artifact_path(stage).read_text(encoding="utf-8"))

    def key(self, stage: Stage) -> str:
        """The stage's key; the keys of the stages it reads from are part of its inputs."""
        if stage.name not in self._keys:
            inputs = {"stage": stage.name, "revision": stage.revision, **stage.inputs(self)}
            self._keys[stage.name] = data_digest(inputs)
        return self._keys[stage.name]

    def upstream_key(self, name: str) -> str:
        """What a later stage keys on: the earlier artifact's content, so that re-running a stage
        (forced, or after a code change) reaches the stages after it only if its output changed."""
        path = self.artifact_path(name)
        if path.is_file():
            return file_digest(path)
        return self.key(next(s for s in self.stages if s.name == name))

    def stamp(self, stage: Stage) -> str | None:
        path = self._stamp_path(stage.name)
        return path.read_text().strip() if path.is_file() else None

    def state(self, stage: Stage) -> str:
        """done (artifact matches its inputs), stale (inputs changed) or missing."""
        stamp = self.stamp(stage)
        made = [self.artifact_path(stage.name), *stage.outputs(self)]
        if stamp is None or not all(path.exists() for path in made):
            return "missing"
        return "done" if stamp == self.key(stage) else "stale"

    def run_stage(self, stage: Stage) -> None:
        self.record(stage, stage.make(self))

    def record(self, stage: Stage, artifact: Any) -> None:
        """Save the stage's artifact, then its stamp; also for one made for several episodes at once."""
        write_json_atomically(self.artifact_path(stage.name), artifact)
        self._stamp_path(stage.name).write_text(self.key(stage) + "\n")

    def invalidate(self, stage: Stage) -> None:
        self._stamp_path(stage.name).unlink(missing_ok=True)

    def warnings(self, stage: Stage) -> list[str]:
        return self.artifact(stage.name).get("warnings", []) if self.artifact_path(stage.name).is_file() else []


def _audio_seconds(run: EpisodeRun) -> float | None:
    try:
        return float(run.artifact("audio")["duration"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


@contextmanager
def expected_time_bar(name: str, run: EpisodeRun) -> Iterator[None]:
    """On a terminal (and not --quiet), a bar for the stage filling at its typical pace over the
    audio's duration: the time left on a 45-minute episode, by its typical real-time factor. It
    stops short of the end while the stage runs on, and goes when the stage is done."""
    rtf, seconds = TYPICAL_RTF.get(name), _audio_seconds(run)
    if rtf is None or seconds is None or not log.isEnabledFor(logging.INFO):
        yield
        return
    from tqdm import tqdm

    expected = max(1.0, rtf * seconds)
    done = threading.Event()
    with tqdm(total=round(expected, 1), desc=name, unit="s", leave=False, disable=None,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} elapsed, about {remaining} left") as bar:
        def tick() -> None:
            began = time.monotonic()
            while not done.wait(0.5):
                bar.n = round(min(0.99 * expected, time.monotonic() - began), 1)
                bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()


@contextmanager
def episode_lock(work: Path) -> Iterator[None]:
    """Refuse a second run on the same episode while one is going (their artifacts would mix)."""
    work.mkdir(parents=True, exist_ok=True)
    lock_path = work / ".lock"
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(
                lock_path, "another publish run is working on this episode; wait for it to finish"
            ) from None
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def run_stages(run: EpisodeRun, until: str | None = None, force: tuple[str, ...] = ()) -> list[str]:
    """Run what is not up to date, in order; returns the names of the stages that ran."""
    names = [s.name for s in run.stages]
    for name in (*force, *([until] if until else [])):
        if name not in names:
            raise PipelineError(None, f"unknown stage '{name}'; stages are: {', '.join(names)}")
    ran = []
    with episode_lock(run.work):
        for stage in run.stages:
            if stage.name in force:
                run.invalidate(stage)
            if stage.always or run.state(stage) != "done":
                log.info("%s: running", stage.name)
                started = time.perf_counter()
                with expected_time_bar(stage.name, run):
                    run.run_stage(stage)
                log.info("%s: done in %.1f s", stage.name, time.perf_counter() - started)
                ran.append(stage.name)
            else:
                log.info("%s: up to date", stage.name)
            for warning in run.warnings(stage):
                log.warning("%s", warning)
            if stage.name == until:
                break
    return ran
