"""Render stage: the episode's site folder, pages, transcript files and tagged MP3
(pipeline.rendering)."""

from __future__ import annotations

from pathlib import Path

from pipeline.build.context import mastered, site_folder
from pipeline.build.files import data_digest, file_digest
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.model import dialogue_from_data, to_data
from pipeline.rendering.episode import RenderedEpisode, render
from pipeline.stages.diarize import optional_file_digest


def _render(run: EpisodeRun) -> RenderedEpisode:
    return render(run.show, run.episode, dialogue_from_data(run.artifact("footnotes")), mastered(run),
                  site_folder(run))


def rendered(run: EpisodeRun) -> tuple[RenderedEpisode, Path]:
    """The render stage's artifact, and the site folder it rendered into."""
    return RenderedEpisode.from_data(run.artifact("render")), site_folder(run)


def _package_files_digest(*folders: str) -> str:
    """Templates and assets shape every page: a change to them must re-render."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for folder in folders for p in (package / folder).rglob("*") if p.is_file())
    return data_digest({str(p.relative_to(package)): file_digest(p) for p in files})


def _show_inputs(run: EpisodeRun) -> dict:
    show = to_data(run.show)
    show["artwork"] = optional_file_digest(run.show.artwork)
    for settings_of_other_stages in ("source", "destination", "model", "device", "compute_type",
                                     "batch_size", "host_voiceprint", "glossary"):
        show.pop(settings_of_other_stages)
    return show


STAGE = Stage(
    "render",
    inputs=lambda run: {
        "dialogue": run.upstream_key("footnotes"),
        "audio": run.upstream_key("audio"),
        "show": _show_inputs(run),
        "episode": {**to_data(run.episode), "audio": None, "folder": None,
                    "artwork": optional_file_digest(run.episode.artwork)},  # its content, not its path
        "templates": _package_files_digest("templates", "assets"),
    },
    make=_render,
    outputs=lambda run: [site_folder(run) / run.episode.slug],
    revision=5,  # 4: cards, embed page, people, episode artwork, short chapter ids, SRT escaped; 5: speakers.rttm
)
