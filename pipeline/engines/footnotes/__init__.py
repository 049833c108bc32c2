"""Footnotes: number the episode's links where they are first said, and spell them right.

Four jobs, one module each, in the order a run takes them:
- match.py: where each link phrase was heard, though recognition mangles names;
- order.py: whether the producer's list is the episode's running order, and the first mentions
  it implies (a name said in passing before its turn is not its footnoted mention);
- second_chance.py: weaker evidence for a link still missing between its placed neighbours
  (a doubted sound-alike, a second listen), checked against being the decoder's say-so;
- place.py: markers, numbers, respelling, and the doubts reported for the producer.
Every threshold they weigh evidence by is a field of FootnoteOptions (options.py).
"""

from pipeline.engines.footnotes.match import Match, candidate_matches, confident_matches, required_similarity
from pipeline.engines.footnotes.options import FootnoteOptions
from pipeline.engines.footnotes.order import in_list_order, is_running_order
from pipeline.engines.footnotes.place import numbering, place_footnotes
from pipeline.engines.footnotes.second_chance import SecondListen, control_names

__all__ = [
    "FootnoteOptions",
    "Match",
    "SecondListen",
    "candidate_matches",
    "confident_matches",
    "control_names",
    "in_list_order",
    "is_running_order",
    "numbering",
    "place_footnotes",
    "required_similarity",
]
