"""Footnotes stage: the producer's fixes applied, then the links' markers placed
(pipeline.engines.footnotes); the run's doubts written for the review page."""

from __future__ import annotations

from pipeline.build.context import (
    LISTENS_FILE,
    MASTER_FILE,
    REVIEW_FILE,
    corrections_file,
    people,
    producer_fixes,
)
from pipeline.build.files import write_json_atomically
from pipeline.build.runner import EpisodeRun, Stage
from pipeline.engines.corrections import apply_speaker_fixes
from pipeline.engines.doubts import review_items
from pipeline.engines.footnotes import place_footnotes
from pipeline.engines.relisten import SecondListener
from pipeline.model import Dialogue, dialogue_from_data, to_data
from pipeline.stages.diarize import optional_file_digest
from pipeline.stages.transcribe import transcribe_options


def _footnotes(run: EpisodeRun) -> Dialogue:
    fixes = producer_fixes(run)
    dialogue = place_footnotes(
        apply_speaker_fixes(dialogue_from_data(run.artifact("diarize")), fixes.speakers), run.episode.links,
        fixes.corrections,
        second_listen=SecondListener(run.episode.audio, transcribe_options(run), run.work / LISTENS_FILE),
        placed_by_producer=fixes.links, people=people(run),
    )
    items = review_items(dialogue, fixes.accepted)
    counts = {kind: sum(item.kind == kind for item in items) for kind in dict.fromkeys(i.kind for i in items)}
    write_json_atomically(run.work / REVIEW_FILE,
                          {"slug": run.episode.slug, "audio": MASTER_FILE, "counts": counts, "items": items})
    return dialogue


STAGE = Stage(
    "footnotes",
    inputs=lambda run: {
        "dialogue": run.upstream_key("diarize"),
        "links": to_data(run.episode.links),
        "corrections": optional_file_digest(corrections_file(run)),
        "second_listen": transcribe_options(run).key(),
    },
    make=_footnotes,
    outputs=lambda run: [run.work / REVIEW_FILE],
    revision=4,  # 4: numbers kept in the list's running order, doubts and review.json
)
