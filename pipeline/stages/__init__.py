"""The stages in order, each declaring what its artifact depends on and how it is made.

    audio -> transcribe -> diarize -> footnotes -> render -> publish

Each stage module has one job; this file only wires their inputs and outputs together.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..model import MasteredAudio, dialogue_from_data, to_data, transcript_from_data
from ..review import REVIEW_FILE, write_review
from ..runner import EpisodeRun, Stage, data_digest, file_digest
from . import audio, render, transcript

SITE_FOLDER = "site"
LISTENS_FILE = "second-listens.json"  # the footnotes stage's second listens, decoded once
MASTER_FILE = "master.mp3"


def _optional_file_digest(path: Path | None) -> str | None:
    return file_digest(path) if path and path.is_file() else None


def mastered(run: EpisodeRun) -> MasteredAudio:
    data = run.artifact("audio")
    return MasteredAudio(**{**data, "path": run.work / data["path"]})


def _master(run: EpisodeRun) -> MasteredAudio:
    """The artifact names the file relative to the episode's build folder: a build cache moved
    to another machine (a CI job's) keeps its keys."""
    return replace(audio.master(run.episode.audio, run.work / MASTER_FILE), path=Path(MASTER_FILE))


def transcribe_settings(run: EpisodeRun) -> transcript.TranscribeSettings:
    from ..corrections import vocabulary

    return transcript.TranscribeSettings(
        model=run.show.model,
        device=run.show.device,
        compute_type=run.show.compute_type,
        batch_size=run.show.batch_size,
        language=run.show.language,
        vocabulary=tuple(vocabulary(run.episode.links, run.show.glossary)),
    )


def corrections_file(run: EpisodeRun) -> Path:
    from ..config import CORRECTIONS_FILE

    return run.episode.folder / CORRECTIONS_FILE


def people(run: EpisodeRun) -> list[str]:
    """The episode's people, host first: the names its turns and the producer's fixes may take."""
    return [run.show.host, *run.episode.guests]


def producer_fixes(run: EpisodeRun, path: Path | None = None):
    """The producer's fixes (corrections.toml, or `path` read as it), checked against the episode."""
    from ..corrections import load_fixes

    return load_fixes(path or corrections_file(run), people(run), run.episode.links)


def _diarize(run: EpisodeRun):
    from .speakers import diarize

    return diarize(
        mastered(run).path,
        transcript_from_data(run.artifact("transcribe")),
        run.show.host,
        run.episode.guests,
        host_voiceprint=run.show.host_voiceprint,
        mapping=run.episode.speakers,
    )


def _footnotes(run: EpisodeRun):
    from ..corrections import apply_speaker_fixes
    from .footnotes import place_footnotes

    fixes = producer_fixes(run)
    dialogue = place_footnotes(
        apply_speaker_fixes(dialogue_from_data(run.artifact("diarize")), fixes.speakers), run.episode.links,
        fixes.corrections, relisten=transcript.Relistener(run.episode.audio, transcribe_settings(run), run.work / LISTENS_FILE),
        placed_by_producer=fixes.links, people=people(run),
    )
    write_review(run.work / REVIEW_FILE, run.episode.slug, MASTER_FILE, dialogue, fixes.accepted)
    return dialogue


def _render(run: EpisodeRun) -> render.RenderedEpisode:
    return render.render(
        run.show,
        run.episode,
        dialogue_from_data(run.artifact("footnotes")),
        mastered(run),
        run.work / SITE_FOLDER,
    )


def rendered(run: EpisodeRun) -> tuple[render.RenderedEpisode, Path]:
    """The render stage's artifact, and the site folder it rendered into."""
    return render.RenderedEpisode.from_data(run.artifact("render")), run.work / SITE_FOLDER


def _publish(run: EpisodeRun):
    from ..targets import open_target
    from .publish import publish

    return publish(
        run.show, *rendered(run), open_target(run.destination, run.show),
        run.destination, dry_run=run.dry_run, prune=run.prune,
    )


def _package_files_digest(*folders: str) -> str:
    """Templates and assets shape every page: a change to them must re-render."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for folder in folders for p in (package / folder).rglob("*") if p.is_file())
    return data_digest({str(p.relative_to(package)): file_digest(p) for p in files})


def _show_inputs(run: EpisodeRun) -> dict:
    show = to_data(run.show)
    show["artwork"] = _optional_file_digest(run.show.artwork)
    for settings_of_other_stages in ("source", "destination", "model", "device", "compute_type",
                                     "batch_size", "host_voiceprint", "glossary"):
        show.pop(settings_of_other_stages)
    return show


STAGES = [
    Stage(
        "audio",
        inputs=lambda run: {
            "source": file_digest(run.episode.audio),
            "loudness": audio.TARGET_LUFS,
            "true_peak": audio.TARGET_TRUE_PEAK,
            "bitrate": audio.MP3_BITRATE,
        },
        make=_master,
        outputs=lambda run: [run.work / MASTER_FILE],
        revision=2,  # 2: its file named relative to the build folder
    ),
    Stage(
        "transcribe",
        # The raw file's digest, not the mastered one: re-mastering must not re-transcribe.
        inputs=lambda run: {
            "source": file_digest(run.episode.audio),
            **transcribe_settings(run).key(),
        },
        make=lambda run: transcript.transcribe(run.episode.audio, transcribe_settings(run)),
        # 2: every stretch of speech left without words decoded again, doubts; 3: no segment
        # repeated word for word or looping (by its own text), VAD-heard stretches kept; 7: what a
        # retry leaves without words decoded again in short pieces, pushed not to repeat itself
        revision=7,
    ),
    Stage(
        "diarize",
        inputs=lambda run: {
            "audio": run.upstream_key("audio"),
            "transcript": run.upstream_key("transcribe"),
            "host": run.show.host,
            "guests": run.episode.guests,
            "voiceprint": _optional_file_digest(run.show.host_voiceprint),
            "mapping": run.episode.speakers,
        },
        make=_diarize,
        revision=3,  # 2: turns carry a confidence; doubted ones listed; 3: no turn starts mid-word
    ),
    Stage(
        "footnotes",
        inputs=lambda run: {
            "dialogue": run.upstream_key("diarize"),
            "links": to_data(run.episode.links),
            "corrections": _optional_file_digest(corrections_file(run)),
            "second_listen": transcribe_settings(run).key(),
        },
        make=_footnotes,
        outputs=lambda run: [run.work / REVIEW_FILE],
        # 2: second chances for links missing between placed ones; 3: control listens; 4: numbers
        # kept in the list's running order, doubts and review.json
        revision=4,
    ),
    Stage(
        "render",
        inputs=lambda run: {
            "dialogue": run.upstream_key("footnotes"),
            "audio": run.upstream_key("audio"),
            "show": _show_inputs(run),
            "episode": {**to_data(run.episode), "audio": None, "folder": None},
            "templates": _package_files_digest("templates", "assets"),
        },
        make=_render,
        outputs=lambda run: [run.work / SITE_FOLDER / run.episode.slug],
        # 2: item.json left out of the files (publish keeps catalogue.json); 3: caption rules,
        # chapters in time order, feed descriptions in Apple's tags
        revision=3,
    ),
    Stage(
        "publish",
        # A dry run's artifact is a plan: its key differs, so `publish status` does not say done.
        inputs=lambda run: {"render": run.upstream_key("render"), "destination": run.destination,
                            "dry_run": run.dry_run},
        make=_publish,
        always=True,
    ),
]
