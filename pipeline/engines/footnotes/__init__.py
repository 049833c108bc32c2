"""Footnotes: number the episode's links where they are first said, and spell them right.

Four jobs, one module each, in the order a run takes them:
- match.py: where each link phrase was heard, though recognition mangles names;
- order.py: whether the producer's list is the episode's running order, and the first mentions
  it implies (a name said in passing before its turn is not its footnoted mention);
- second_chance.py: weaker evidence for a link still missing between its placed neighbours
  (a doubted sound-alike, or the most alike in a tight bracket; the phrase scored against the
  audio, audio_score.py, and weighed against unrelated names), and candidate spots for those
  still missing;
- place.py: markers, numbers, respelling, and the doubts reported for the producer.
Every threshold they weigh evidence by is a field of FootnoteOptions (options.py).
"""

from pipeline.engines.footnotes.audio_score import AudioScorer, Margin, PhraseScores, ScoreAudio
from pipeline.engines.footnotes.match import Match, candidate_matches, confident_matches, required_similarity
from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.engines.footnotes.order import in_list_order, is_running_order, is_sorted_list
from pipeline.engines.footnotes.place import Footnoted, footnote, numbering, place_footnotes
from pipeline.engines.footnotes.second_chance import control_names

__all__ = [
    "AudioScorer",
    "FootnoteOptions",
    "Footnoted",
    "Margin",
    "Match",
    "PhraseScores",
    "ScoreAudio",
    "candidate_matches",
    "confident_matches",
    "control_names",
    "footnote",
    "in_list_order",
    "is_running_order",
    "is_sorted_list",
    "numbering",
    "place_footnotes",
    "required_similarity",
]
