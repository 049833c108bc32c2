"""Footnotes stage: the producer's fixes applied, then the links' markers placed
(pipeline.engines.footnotes), links missing from the words looked for by sound; the run's
doubts written for the review page, a link not found with its candidate spots."""

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
from pipeline.engines.doubts import DoubtOptions, review_items
from pipeline.engines.footnotes import FootnoteOptions, footnote
from pipeline.engines.relisten import PhraseScorer
from pipeline.model import Dialogue, Doubt, dialogue_from_data, to_data
from pipeline.stages.diarize import optional_file_digest
from pipeline.stages.transcribe import transcribe_options


def _footnotes(run: EpisodeRun) -> Dialogue:
    fixes = producer_fixes(run)
    options = FootnoteOptions()
    # Scores by sound are kept where second listens were (a bench deletes that file to time a run
    # with nothing kept): a re-run after a producer's fix scores only what it had not.
    audio = PhraseScorer(run.episode.audio, transcribe_options(run), options, run.work / LISTENS_FILE)
    footnoted = footnote(
        apply_speaker_fixes(dialogue_from_data(run.artifact("diarize")), fixes.speakers), run.episode.links,
        fixes.corrections, audio=audio, placed_by_producer=fixes.links, people=people(run), options=options,
    )
    audio.save()
    items = [_with_candidates(item, footnoted.candidates) for item in review_items(footnoted.dialogue, fixes.accepted)]
    counts = {kind: sum(item["kind"] == kind for item in items) for kind in dict.fromkeys(i["kind"] for i in items)}
    write_json_atomically(run.work / REVIEW_FILE,
                          {"slug": run.episode.slug, "audio": MASTER_FILE, "counts": counts, "items": items})
    return footnoted.dialogue


def _with_candidates(item: Doubt, candidates: dict[str, list[dict]]) -> dict:
    """A review item as data; a link not found with its candidate spots (start, end, heard, score)."""
    data = to_data(item)
    if item.kind == "link-not-found":
        data["candidates"] = candidates.get(item.chose, [])
    return data


STAGE = Stage(
    "footnotes",
    inputs=lambda run: {
        "dialogue": run.upstream_key("diarize"),
        "links": to_data(run.episode.links),
        "corrections": optional_file_digest(corrections_file(run)),
        "audio": transcribe_options(run).key(),
        "options": FootnoteOptions().key(),
        "doubts": DoubtOptions().key(),
    },
    make=_footnotes,
    outputs=lambda run: [run.work / REVIEW_FILE],
    revision=10,  # 5: links found by sound, candidate spots, lists in any order; 6: shares of a bracket;
    # 7: tight brackets, a stricter test of the running order; 8: pairs heard in order (Kendall's tau);
    # 9: lists in any order take no doubted sound-alike; 10: no infinite score in review.json
)
