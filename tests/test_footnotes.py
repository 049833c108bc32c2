"""Footnote placement, respelling, producer corrections and the recognition vocabulary."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import imageio_ffmpeg
import pytest

from pipeline.config import load_glossary
from pipeline.corrections_file import load_corrections
from pipeline.engines.corrections import vocabulary
from pipeline.engines.footnotes import (
    FootnoteOptions,
    Margin,
    Match,
    control_names,
    footnote,
    is_running_order,
    is_sorted_list,
    place_footnotes,
)
from pipeline.engines.spelling import phonetic_key, plain_tokens
from pipeline.errors import PipelineError
from pipeline.model import Correction, Dialogue, Link, Turn, Word, join_words
from tests.conftest import shared_file

IMAGINAIRES = Link(["Imaginaires"], "Imaginaires, le podcast", "https://example.org/imaginaires")
TURK = Link(["Amazon Mechanical Turk"], "Amazon Mechanical Turk", "https://www.mturk.com")
CHATGPT = Link(["ChatGPT"], "ChatGPT", "https://chatgpt.com")
TIME = Link(["Time Magazine", "une enquête"], "Time", "https://time.com")
REDDIT = Link(["Reddit"], "Reddit", "https://www.reddit.com")
DEFAULTS = FootnoteOptions()


def dialogue(*turns: tuple[str, str], start: float = 0.0) -> Dialogue:
    """Turns of (speaker, text), one word every half second."""
    built, at = [], start
    for speaker, text in turns:
        words = []
        for token in text.split():
            words.append(Word(token, at, at + 0.4, speaker=speaker))
            at += 0.5
        built.append(Turn(speaker, words))
    return Dialogue(built)


def marked(result: Dialogue) -> list[tuple[str, int]]:
    return [(w.text, w.footnote) for t in result.turns for w in t.words if w.footnote is not None]


def text(result: Dialogue) -> str:
    return " ".join(join_words(t.words) for t in result.turns)


def test_numbers_follow_the_transcript_and_markers_follow_the_phrase():
    heard = dialogue(
        ("Gérald", "vous écoutez Imaginaires, bienvenue"),
        ("Antonio", "une plateforme comme un mâton méchanicale turc et puis châche et pété"),
    )
    result = place_footnotes(heard, [IMAGINAIRES, TURK, CHATGPT])
    assert marked(result) == [("Imaginaires,", 1), ("Turk", 2), ("ChatGPT", 3)]
    assert [r.number for r in result.references] == [1, 2, 3]
    assert [r.url for r in result.references] == [IMAGINAIRES.url, TURK.url, CHATGPT.url]
    assert result.warnings == []


def test_a_link_not_found_keeps_its_number_and_renumbers_none_of_the_others():
    heard = dialogue(
        ("Gérald", "bonjour à tous, bienvenue"),  # "Imaginaires" not heard at all
        ("Antonio", "une plateforme comme un mâton méchanicale turc et puis châche et pété"),
    )
    result = place_footnotes(heard, [IMAGINAIRES, TURK, CHATGPT])
    assert marked(result) == [("Turk", 2), ("ChatGPT", 3)]
    assert [(r.number, r.url) for r in result.references] == [(1, IMAGINAIRES.url), (2, TURK.url), (3, CHATGPT.url)]
    assert any("'Imaginaires' not found" in w and "as [1]" in w for w in result.warnings)
    [doubt] = result.doubts
    assert doubt.kind == "link-not-found" and doubt.chose == IMAGINAIRES.title
    assert doubt.start == 0.0 and doubt.end < 4.0  # before the next link placed, "Turk"


def test_with_links_listed_out_of_order_a_link_not_found_is_numbered_after_the_others():
    heard = dialogue(
        ("Gérald", "bonjour à tous, bienvenue"),
        ("Antonio", "une plateforme comme Amazon Mechanical Turk et puis ChatGPT"),
    )
    result = place_footnotes(heard, [CHATGPT, IMAGINAIRES, TURK])  # not the running order
    assert marked(result) == [("Turk", 1), ("ChatGPT", 2)]
    # Numbered, unmarked: placed later by the producer, it renumbers none of the others.
    assert [(r.number, r.url) for r in result.references] == [(1, TURK.url), (2, CHATGPT.url), (3, IMAGINAIRES.url)]
    assert [d.kind for d in result.doubts] == ["link-not-found"]
    assert (result.doubts[0].start, result.doubts[0].end) == (0.0, heard.turns[-1].end)


def test_a_link_heard_only_before_its_place_in_the_list_is_numbered_where_heard():
    heard = dialogue(("Gérald", "on parle de ChatGPT puis de Imaginaires ce soir"))
    result = place_footnotes(heard, [IMAGINAIRES, CHATGPT])
    assert marked(result) == [("ChatGPT", 1), ("Imaginaires", 2)]
    assert [(r.number, r.url) for r in result.references] == [(1, CHATGPT.url), (2, IMAGINAIRES.url)]


def test_a_sound_alike_heard_only_out_of_the_list_order_is_not_placed():
    heard = dialogue(("Gérald", "on parle de châche et pété puis de Imaginaires ce soir"))
    result = place_footnotes(heard, [IMAGINAIRES, CHATGPT])
    assert marked(result) == [("Imaginaires", 1)]
    assert [(r.number, r.url) for r in result.references] == [(1, IMAGINAIRES.url), (2, CHATGPT.url)]
    assert "châche" in text(result) and "'ChatGPT'" in result.warnings[0]


def test_a_name_said_in_passing_before_its_turn_in_the_list_is_not_the_footnoted_mention():
    heard = dialogue(
        ("Gérald", "le créateur de ChatGPT ici sur Imaginaires"),
        ("Antonio", "un exemple qui est ChatGPT bien sûr"),
    )
    result = place_footnotes(heard, [IMAGINAIRES, CHATGPT])
    assert marked(result) == [("Imaginaires", 1), ("ChatGPT", 2)]
    assert result.turns[1].words[4].footnote == 2  # the second ChatGPT, in Antonio's turn


def test_a_later_phrase_reuses_the_number_and_a_repeated_anchor_gets_no_new_marker():
    heard = dialogue(
        ("Gérald", "une enquête de Time Magazine sur Imaginaires"),
        ("Antonio", "Time Magazine a publié une enquête sur le sujet et une enquête encore"),
    )
    result = place_footnotes(heard, [TIME, IMAGINAIRES])
    # "une enquête" before the anchor is not its mention; after it, only the first one is marked.
    assert marked(result) == [("Magazine", 1), ("Imaginaires", 2), ("enquête", 1)]
    assert result.turns[1].words[5].footnote == 1


def test_a_link_never_heard_is_listed_last_unmarked_and_warned_about():
    heard = dialogue(("Gérald", "vous écoutez Imaginaires et rien d'autre"))
    result = place_footnotes(heard, [REDDIT, IMAGINAIRES])
    assert [(r.number, r.url) for r in result.references] == [(1, IMAGINAIRES.url), (2, REDDIT.url)]
    assert len(result.warnings) == 1 and "'Reddit'" in result.warnings[0]


def test_weak_evidence_places_no_marker_and_changes_no_word():
    # "rédaction" shares letters with "Reddit", "maçonnerie" with "Amazon": not enough.
    heard = dialogue(("Antonio", "la rédaction parle de maçonnerie mécanique et de tourisme"))
    result = place_footnotes(heard, [REDDIT, TURK])
    assert marked(result) == []
    assert text(result) == text(heard)
    assert [r.number for r in result.references] == [1, 2]  # numbered in the list's order, unmarked


def test_a_short_name_is_not_matched_by_sound_alone():
    # "tu redis" sounds like "Reddit", but four sounds collide with ordinary words too often.
    assert marked(place_footnotes(dialogue(("Gérald", "comme tu redis, relativement")), [REDDIT])) == []
    assert marked(place_footnotes(dialogue(("Gérald", "un commentaire de Reddit et")), [REDDIT])) == [("Reddit", 1)]


def test_a_confident_match_is_respelled_keeping_timings_and_speaker():
    heard = dialogue(("Antonio", "comme un mâton méchanicale turc, ça peut"), start=10.0)
    result = place_footnotes(heard, [TURK])
    words = result.turns[0].words
    assert [w.text for w in words] == ["comme", "un", "Amazon", "Mechanical", "Turk,", "ça", "peut"]
    assert [(w.start, w.end) for w in words[2:5]] == [(11.0, 11.4), (11.5, 11.9), (12.0, 12.4)]
    assert {w.speaker for w in words} == {"Antonio"}


def test_a_phrase_heard_in_fewer_words_shares_their_time_span():
    heard = dialogue(("Antonio", "qui est châche et pété parce que"))
    result = place_footnotes(heard, [CHATGPT])
    words = result.turns[0].words
    assert [w.text for w in words] == ["qui", "est", "ChatGPT", "parce", "que"]
    assert (words[2].start, words[2].end) == (1.0, 2.4)
    assert words[2].footnote == 1


def test_respelling_keeps_the_article_as_said():
    act = Link(["l'IA Act"], "AI Act", "https://eur-lex.europa.eu")
    # Whisper splits "l'IA" into "l" and "'IA"; the canonical "l'IA" must not double it.
    assert text(place_footnotes(dialogue(("G", "autour de l 'ia acte qui")), [act])) == "autour de l'IA Act [1] qui"
    assert text(place_footnotes(dialogue(("G", "autour de l'ia acte qui")), [act])) == "autour de l'IA Act [1] qui"
    assert text(place_footnotes(dialogue(("G", "« ia acte » qui")), [act])) == "« IA Act [1] » qui"


def test_numbers_and_acronyms_match_as_said():
    gpt4 = Link(["GPT-4"], "GPT-4", "https://openai.com/gpt-4")
    assert text(place_footnotes(dialogue(("A", "à jour de GPT quatre, même si")), [gpt4])) == "à jour de GPT-4 [1], même si"
    assert text(place_footnotes(dialogue(("A", "à jour de gé pé té 4 même")), [gpt4])) == "à jour de GPT-4 [1] même"


def test_only_marked_mentions_are_respelled():
    # A show's name can also be an ordinary word: "l'imaginaire" later on stays as it is.
    heard = dialogue(("Gérald", "vous écoutez imaginaire et l'imaginaire collectif"))
    result = place_footnotes(heard, [IMAGINAIRES])
    assert text(result) == "vous écoutez Imaginaires [1] et l'imaginaire collectif"


def test_the_phonetic_key_hears_french_spellings_of_the_same_sound():
    assert phonetic_key("châche") == phonetic_key("chache") == "SaS"
    assert phonetic_key("pété") == phonetic_key("pétait")
    assert plain_tokens("GPT-4, l'IA") == ["ge", "pe", "te", "quatre", "ia"]


def test_corrections_apply_before_footnoting(tmp_path: Path):
    heard = dialogue(("Gérald", "rendez-vous sur sous-journalismes d'in, un site"))
    result = place_footnotes(
        heard, [Link(["journalism.design"], "journalism.design", "https://journalism.design")],
        [Correction("sous-journalismes d'in", "journalism.design", None, None)],
    )
    assert text(result) == "rendez-vous sur journalism.design [1], un site"


def test_a_time_limited_correction_applies_only_in_its_range():
    heard = dialogue(("Gérald", "la synthèse ici et la synthèse là"))  # words at 0.0, 0.5 … 3.5 s
    result = place_footnotes(heard, [], [Correction("la synthèse", "la newsletter Synth", 2.0, 4.0)])
    assert text(result) == "la synthèse ici et la newsletter Synth là"


def test_load_corrections_reads_times_and_names_the_file_and_key_on_bad_input(tmp_path: Path):
    path = tmp_path / "corrections.toml"
    path.write_text(
        '[[correction]]\nheard = "châche et pété"\nmeant = "ChatGPT"\nfrom = "1:02:03"\nto = 3800\n'
        '[[correction]]\nheard = "un mâton"\nmeant = "Amazon"\n',
        encoding="utf-8",
    )
    assert load_corrections(path) == [
        Correction("châche et pété", "ChatGPT", 3723.0, 3800.0),
        Correction("un mâton", "Amazon", None, None),
    ]
    assert load_corrections(tmp_path / "absent.toml") == []
    for body, words in [
        ('[[correction]]\nheard = "x"\nmeant = "y"\nfrom = "midi"\n', "key 'correction[1].from'"),
        ('[[correction]]\nheard = "x"\n', "key 'correction[1].meant'"),
        ('[[correction]]\nheard = "x"\nmeant = "y"\nuntil = 3\n', "key 'correction[1].until'"),
        ('[[correction]]\nheard = "x"\nmeant = "y"\nfrom = 9\nto = 3\n', "'to' must come after 'from'"),
        ("[[correction]\n", "malformed TOML"),
    ]:
        path.write_text(body, encoding="utf-8")
        with pytest.raises(PipelineError) as failure:
            load_corrections(path)
        assert str(path) in str(failure.value) and words in str(failure.value)


def test_vocabulary_keeps_names_and_terms_once_and_leaves_plain_french_out(tmp_path: Path):
    glossary = tmp_path / "glossary.toml"
    glossary.write_text('terms = ["Synth", "imaginaires", "travail du clic"]\n', encoding="utf-8")
    terms = vocabulary([IMAGINAIRES, TIME], load_glossary(glossary))
    assert terms == ["Imaginaires", "Time Magazine", "Synth"]
    assert load_glossary(tmp_path / "absent.toml") == []
    glossary.write_text("terms = [1, 2]\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="glossary.toml"):
        load_glossary(glossary)


@pytest.fixture(scope="session")
def short_clip_dialogue(tmp_path_factory) -> Dialogue:
    """The first 41 s of the short sample through the real transcribe stage (base model, CPU)."""
    audio = shared_file("sample-episode/short.mp3")
    from pipeline.engines.transcribe import TranscribeOptions, transcribe

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    clip = tmp_path_factory.mktemp("clip") / "start.wav"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(audio), "-t", "41", "-ar", "16000", str(clip)], check=True)
    heard = transcribe(clip, TranscribeOptions(model="base", device="cpu", language="fr"), progress=False)
    return Dialogue([Turn("?", heard.words)])


@pytest.mark.slow
def test_real_transcription_gets_the_clear_anchors(short_clip_dialogue: Dialogue):
    seed = shared_file("seed/links.json")
    entries = json.loads(seed.read_text(encoding="utf-8"))["links"]
    links = [Link([e["anchor"], *e.get("also", [])], e["title"], e["url"]) for e in entries]
    result = place_footnotes(short_clip_dialogue, links)
    words = [w for t in result.turns for w in t.words]
    markers = [(w.text.strip(".,'"), w.footnote, w.start) for w in words if w.footnote]
    # In the clip: "vous écoutez Imaginaires [1]" near 4 s, "qui est ChatGPT [7]" near 37 s. The
    # list is the episode's running order, so the links the clip never says keep their numbers.
    assert [(text, number) for text, number, _ in markers] == [("Imaginaires", 1), ("ChatGPT", 7)]
    assert markers[0][2] < 6 and 33 < markers[1][2] < 40
    assert [r.number for r in result.references] == list(range(1, 16))
    assert len(result.warnings) == 13
    assert sum(d.kind == "link-not-found" for d in result.doubts) == 13


def test_a_shared_common_tail_is_not_a_mention_of_a_long_phrase():
    law = Link(["le règlement sur l'intelligence artificielle"], "AI Act", "https://eur-lex.europa.eu")
    heard = dialogue(
        # As the base model heard the sample episode: the elision is its own word.
        ("Gérald", "le podcast qui observe les faits de l 'intelligence artificielle soumournée"),
        ("Claire", "l'Europe a adopté le règlement soumme l 'intelligence artificielle hier"),
    )
    result = place_footnotes(heard, [law])
    assert [w.footnote for w in result.turns[0].words] == [None] * len(result.turns[0].words)
    assert "les faits de l'intelligence artificielle" in text(result).replace(" '", "'")
    assert "règlement sur l'intelligence artificielle [1]" in text(result)


CONVERSATION = Link(["The Conversation"], "The Conversation", "https://theconversation.com/fr")
ACT = Link(["l'IA Act"], "AI Act", "https://eur-lex.europa.eu")


def doubted(heard: Dialogue, word: str, probability: float) -> Dialogue:
    """The dialogue with recognition's confidence in `word` set, as faster-whisper reports it."""
    return Dialogue([Turn(t.speaker, [replace(w, probability=probability) if w.text == word else w
                                      for w in t.words]) for t in heard.turns])


def test_a_link_missing_between_placed_neighbours_takes_a_doubted_sound_alike():
    heard = dialogue(
        ("Gérald", "vous écoutez Imaginaires, bienvenue"),
        ("Antonio", "un commentaire de blog ou de réditer c'est un truc, puis ChatGPT et réditer encore"),
    )
    # As the base model heard the sample: "Reddit et" as "réditer", with probability 0.4.
    result = place_footnotes(doubted(heard, "réditer", 0.4), [IMAGINAIRES, REDDIT, CHATGPT])
    assert marked(result) == [("Imaginaires,", 1), ("Reddit", 2), ("ChatGPT", 3)]
    assert "ou de Reddit [2] c'est" in text(result)
    assert any("'Reddit' placed at 0:" in w and "'réditer'" in w and "check it" in w for w in result.warnings)
    # Heard with confidence in a bracket of 30 s, the same words are an ordinary word: no marker
    # on weak evidence (a tight bracket is another matter, see below).
    spread = dialogue(("Gérald", "vous écoutez Imaginaires, bienvenue"),
                      ("Antonio", FILLER + "un commentaire de blog ou de réditer c'est un truc, " + FILLER + "puis ChatGPT"))
    confident = place_footnotes(doubted(spread, "réditer", 0.95), [IMAGINAIRES, REDDIT, CHATGPT])
    assert marked(confident) == [("Imaginaires,", 1), ("ChatGPT", 3)]  # Reddit keeps its number, unmarked
    # Listed after ChatGPT, the link's bracket is the words after it: the earlier "réditer" is not in it.
    late = place_footnotes(doubted(dialogue(("A", "de réditer puis ChatGPT enfin")), "réditer", 0.4),
                           [CHATGPT, REDDIT])
    assert marked(late) == [("ChatGPT", 1)]


def test_a_list_in_any_order_takes_no_doubted_sound_alike():
    heard = doubted(dialogue(
        ("Gérald", "vous écoutez Imaginaires, bienvenue"),
        ("Antonio", "un commentaire de blog ou de réditer c'est un truc, puis ChatGPT et réditer encore"),
    ), "réditer", 0.4)
    # Not the running order: its longest run in order is chance and bounds no stretch, so a
    # doubted sound-alike anywhere is no evidence that Reddit is said there.
    result = place_footnotes(heard, [CHATGPT, IMAGINAIRES, REDDIT])
    assert [number for _, number in marked(result)] == [1, 2]  # Imaginaires and ChatGPT, in the order said
    assert "Reddit" not in text(result)
    assert any("'Reddit' not found" in w for w in result.warnings)


def test_with_several_links_missing_between_two_placed_each_is_looked_for_in_its_own_share():
    filler = " ".join(["et puis on en parle encore un peu"] * 6)  # 48 words
    heard = dialogue(
        ("Gérald", f"vous écoutez Imaginaires, bienvenue {filler} {filler} {filler}"),
        ("Antonio", f"{filler} et réditer {filler} puis ChatGPT enfin"),
    )
    common_crawl = Link(["Common Crawl"], "Common Crawl", "https://commoncrawl.org")
    listed = [IMAGINAIRES, REDDIT, common_crawl, TURK, CHATGPT]
    # Reddit is the first of three links missing between Imaginaires and ChatGPT: a doubted
    # sound-alike at the end of that stretch is not its mention.
    result = place_footnotes(doubted(heard, "réditer", 0.4), listed)
    assert marked(result) == [("Imaginaires,", 1), ("ChatGPT", 5)]
    # Listed third of three, the same words are in its share: taken.
    last = place_footnotes(doubted(heard, "réditer", 0.4), [IMAGINAIRES, common_crawl, TURK, REDDIT, CHATGPT])
    assert ("Reddit", 4) in marked(last)


def test_an_intro_mention_in_passing_is_not_footnoted_when_the_link_listed_before_is_missed():
    heard = dialogue(
        ("Gérald", "vous écoutez Imaginaires, avec le créateur de ChatGPT en toile de fond"),
        ("Antonio", "des plateformes comme un maman méchant qui turque, puis l'exemple de ChatGPT bien sûr"),
    )
    # Amazon Mechanical Turk, listed before ChatGPT, was misheard: the list's order alone would
    # take the intro's ChatGPT; the footnote goes where the guest takes it up.
    result = place_footnotes(heard, [IMAGINAIRES, TURK, CHATGPT])
    assert [(w.text, n, turn.speaker) for turn in result.turns for w in turn.words
            for n in [w.footnote] if n] == [("Imaginaires,", 1, "Gérald"), ("Turk,", 2, "Antonio"),
                                            ("ChatGPT", 3, "Antonio")]  # Turk: its tight bracket's most alike


def test_control_names_never_sound_like_the_episodes_links():
    mastodon = Link(["Mastodon"], "Mastodon", "https://joinmastodon.org")
    spotify = Link(["le podcast sur Spotify"], "Spotify", "https://spotify.com")
    controls = control_names([IMAGINAIRES, mastodon, spotify])
    assert "Mastodon" not in controls and "Spotify" not in controls
    assert len(controls) >= 0.8 * len(DEFAULTS.control_names)  # the rest stay: the filter is no sieve


def test_the_options_set_how_doubted_a_sound_alike_must_be():
    heard = doubted(dialogue(
        ("Gérald", "vous écoutez Imaginaires, bienvenue"),
        ("Antonio", "un commentaire de blog ou de réditer c'est un truc, puis ChatGPT et réditer encore"),
    ), "réditer", 0.4)
    assert ("Reddit", 2) in marked(place_footnotes(heard, [IMAGINAIRES, REDDIT, CHATGPT]))
    stricter = FootnoteOptions(doubtful_probability=0.3, tight_similarity=0.9)  # tight brackets ask more too
    assert marked(place_footnotes(heard, [IMAGINAIRES, REDDIT, CHATGPT], options=stricter)) == [
        ("Imaginaires,", 1), ("ChatGPT", 3)]


def test_the_options_key_holds_every_tuning_number_as_data():
    key = DEFAULTS.key()
    assert json.loads(json.dumps(key)) == key
    assert key["contrast_threshold"] == DEFAULTS.contrast_threshold
    assert key["control_names"] == list(DEFAULTS.control_names)
    assert FootnoteOptions().key() == key and FootnoteOptions(order_shuffles=100).key() != key
    with pytest.raises(AttributeError):
        DEFAULTS.contrast_threshold = 9  # frozen: a run's options cannot drift from its key


def test_a_names_own_article_replaces_the_article_heard():
    heard = dialogue(
        ("Gérald", "Antonio Casilli. Cette étude publiée sur le Commensation fait écho à Time Magazine"),
    )
    casilli = Link(["Antonio Casilli"], "Antonio Casilli", "https://www.casilli.fr")
    result = place_footnotes(doubted(heard, "Commensation", 0.31), [casilli, CONVERSATION, TIME])
    assert "publiée sur The Conversation [2] fait écho à Time Magazine [3]" in text(result)


class BySound:
    """Stands in for the audio (the real scorer is tested on the excerpt below): at heard words
    starting with a key of `said`, the audio supports that phrase by `margin` per token, any
    other text by `others`; elsewhere every text loses. Records what it is asked."""

    def __init__(self, said: dict[str, str], margin: float = 1.0, others: float = -2.0):
        self.said, self.margin, self.others = said, margin, others
        self.asked: list[tuple[str, list[str]]] = []

    def __call__(self, words: list[Word]) -> BySound:
        self.words = words
        return self

    def margins(self, first: int, last: int, texts: list[str]) -> list[Margin]:
        heard = join_words(self.words[first : last + 1])
        self.asked.append((heard, list(texts)))
        meant = next((phrase for key, phrase in self.said.items() if heard.startswith(key)), None)
        if meant is None:
            return [Margin(-8.0, -2.0) for _ in texts]
        return [Margin(4 * self.margin, self.margin) if text == meant else Margin(4 * self.others, self.others)
                for text in texts]


def test_a_doubted_sound_alike_stands_only_where_the_audio_prefers_it_to_unrelated_names():
    heard = doubted(dialogue(
        ("Gérald", "vous écoutez Imaginaires, bienvenue"),
        ("Antonio", "un commentaire de blog ou de réditer c'est un truc, puis ChatGPT et réditer encore"),
    ), "réditer", 0.4)
    links = [IMAGINAIRES, REDDIT, CHATGPT]
    audio = BySound({"réditer": "Reddit"})
    assert marked(place_footnotes(heard, links, audio=audio)) == [("Imaginaires,", 1), ("Reddit", 2), ("ChatGPT", 3)]
    assert {texts[0] for heard, texts in audio.asked} >= {"Reddit"}  # checked against the control names
    # As "la ration" for "Libération", never said: the audio prefers unrelated names there.
    unrelated = BySound({"réditer": "Reddit"}, margin=-1.0, others=0.5)
    assert marked(place_footnotes(heard, links, audio=unrelated)) == [("Imaginaires,", 1), ("ChatGPT", 3)]
    lenient = FootnoteOptions(sound_alike_contrast=-2.0)
    assert ("Reddit", 2) in marked(place_footnotes(heard, links, audio=unrelated, options=lenient))

    class Unscorable(BySound):  # a stretch outside every window the audio can score
        def margins(self, first: int, last: int, texts: list[str]) -> list[Margin]:
            return [Margin(-math.inf, -math.inf) for _ in texts]

    assert ("Reddit", 2) in marked(place_footnotes(heard, links, audio=Unscorable({})))


def test_the_audio_scorer_loads_neither_model_nor_audio_until_a_text_must_be_scored():
    from pipeline.engines.footnotes.audio_score import AudioScorer

    def never() -> None:
        raise AssertionError("loaded although nothing was scored")

    heard = dialogue(("Gérald", "vous écoutez Imaginaires, bienvenue"), ("Antonio", "ChatGPT et Reddit aussi"))
    words = [w for t in heard.turns for w in t.words]
    scorer = AudioScorer(never, never, words, "fr")
    result = place_footnotes(heard, [IMAGINAIRES, CHATGPT, REDDIT], audio=lambda _: scorer)
    assert [n for _, n in marked(result)] == [1, 2, 3]
    assert "whisper" not in vars(scorer) and "samples" not in vars(scorer)


ACT_HEARD = (("Gérald", "vous écoutez Imaginaires. Quand on a un débat au niveau européen autour de React, qui doit"),
             ("Antonio", "cadrer le développement. ChatGPT aussi."))


def test_a_link_the_audio_prefers_to_unrelated_names_is_placed_by_sound():
    audio = BySound({"React,": "l'IA Act"})
    found = footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=audio)
    result = found.dialogue
    assert marked(result) == [("Imaginaires.", 1), ("Act,", 2), ("ChatGPT", 3)]
    assert "autour de l'IA Act [2], qui doit" in text(result)
    [doubt] = result.doubts
    assert doubt.kind == "second-chance" and doubt.heard == "React," and "by 3.00" in doubt.note
    assert any("l'IA Act\" placed at 0:06" in w and "by sound" in w for w in result.warnings)
    # Asked: the margin of the phrase at the bracket's stretches, then the contrast at the best,
    # against as many control names as the options say (contrast_batch at a time: none rules
    # the phrase out here), none alike to the episode's links.
    available = set(control_names([IMAGINAIRES, ACT, CHATGPT]))
    batches = [texts for heard, texts in audio.asked if heard == "React," and set(texts) <= available]
    assert [len(texts) for texts in batches] == [DEFAULTS.contrast_batch] * (
        DEFAULTS.contrast_controls // DEFAULTS.contrast_batch)
    assert len({name for texts in batches for name in texts}) == DEFAULTS.contrast_controls
    assert len({heard for heard, texts in audio.asked if set(texts) <= available}) <= DEFAULTS.contrast_spots
    assert found.candidates == {}


def test_no_more_control_names_are_asked_once_those_asked_rule_the_phrase_out():
    # Each control name costs a decoder pass; the best of them only grows as more are asked.
    suggestible = BySound({"React,": "l'IA Act"}, margin=1.0, others=0.5)
    found = footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=suggestible)
    available = set(control_names([IMAGINAIRES, ACT, CHATGPT]))
    batches = [texts for heard, texts in suggestible.asked if heard == "React," and set(texts) <= available]
    assert [len(texts) for texts in batches] == [DEFAULTS.contrast_batch]
    # The same outcome as asking every one at once.
    every = footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=BySound({"React,": "l'IA Act"}, 1.0, 0.5),
                     options=FootnoteOptions(contrast_batch=DEFAULTS.contrast_controls))
    assert marked(found.dialogue) == marked(every.dialogue) == [("Imaginaires.", 1), ("ChatGPT", 3)]
    assert found.candidates == every.candidates and ACT.title in found.candidates


def test_the_control_names_asked_are_those_that_sound_most_like_the_stretch():
    # A phrase that sounds like the words heard gains on names that do not, said or not: the
    # controls it must beat are the list's names most like the stretch, not any unrelated ones.
    from pipeline.engines.footnotes.match import Spoken, similarity

    audio = BySound({"React,": "l'IA Act"})
    footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=audio)
    available = control_names([IMAGINAIRES, ACT, CHATGPT])
    asked = [name for heard, texts in audio.asked if heard == "React," for name in texts if name in available]
    alike = {name: similarity(Spoken.of("React,"), Spoken.of(name)) for name in available}
    assert len(asked) == DEFAULTS.contrast_controls < len(available)
    assert min(alike[name] for name in asked) >= max(alike[name] for name in available if name not in asked)


def test_a_name_the_audio_favours_no_more_than_unrelated_names_is_not_placed():
    # Where recognition is unsure, any name gains: the phrase as much as the control names.
    suggestible = BySound({"React,": "l'IA Act"}, margin=1.0, others=0.5)
    found = footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=suggestible)
    assert marked(found.dialogue) == [("Imaginaires.", 1), ("ChatGPT", 3)]  # l'IA Act keeps its number
    assert [d.kind for d in found.dialogue.doubts] == ["link-not-found"]
    # Its candidate spots, best first: the stretch the audio favours it at leads.
    spots = found.candidates[ACT.title]
    assert spots[0] == {"start": 6.5, "end": 6.9, "heard": "React,", "score": 4.0}
    assert 1 <= len(spots) <= DEFAULTS.candidate_spots
    assert all(set(spot) == {"start", "end", "heard", "score"} for spot in spots)
    stricter = footnote(dialogue(*ACT_HEARD), [IMAGINAIRES, ACT, CHATGPT], audio=BySound({"React,": "l'IA Act"}),
                        options=FootnoteOptions(contrast_threshold=3.5))
    assert ACT.title in stricter.candidates


def test_in_a_tight_bracket_the_most_alike_window_is_taken_though_heard_with_confidence():
    links = [IMAGINAIRES, REDDIT, CHATGPT]
    close = dialogue(("Gérald", "vous écoutez Imaginaires, bienvenue"),
                     ("Antonio", "un commentaire sur réditer, puis ChatGPT"))
    result = place_footnotes(close, links)
    assert marked(result) == [("Imaginaires,", 1), ("Reddit,", 2), ("ChatGPT", 3)]
    assert [d.chose for d in result.doubts] == ["Reddit"]  # reported for the producer to check
    # Spread over 30 s, the same words are left to the audio (see the doubted sound-alike above),
    # though four links missing there make shares of 8 s: a share is no tighter evidence.
    others = [Link([name], name, f"https://example.org/{name}") for name in ("Mastodon", "Deezer", "Vinted")]
    spread = dialogue(("Gérald", "vous écoutez Imaginaires, bienvenue"),
                      ("Antonio", "un commentaire sur réditer, " + FILLER * 2 + "puis ChatGPT"))
    assert marked(place_footnotes(spread, [IMAGINAIRES, REDDIT, *others, CHATGPT])) == [
        ("Imaginaires,", 1), ("ChatGPT", 6)]


def test_candidate_spots_are_the_best_few_stretches_apart_and_found_without_audio_too():
    names = "le maxtre bof. " + FILLER + "un mastoc ici. " + FILLER + "la mastière. " + FILLER + "le master. "
    heard = dialogue(("G", "vous écoutez Imaginaires. " + names))
    mastodon = Link(["Mastodon"], "Mastodon", "https://joinmastodon.org")
    found = footnote(heard, [IMAGINAIRES, mastodon])
    spots = found.candidates["Mastodon"]
    assert len(spots) == DEFAULTS.candidate_spots
    assert spots == sorted(spots, key=lambda s: -s["score"])  # by likeness in text, without audio
    starts = sorted(s["start"] for s in spots)
    assert all(b - a >= DEFAULTS.spot_separation_s for a, b in zip(starts, starts[1:]))
    # With audio, by the margin the audio gives the phrase there.
    by_sound = footnote(heard, [IMAGINAIRES, mastodon], audio=BySound({"master.": "Mastodon"}, others=1.0))
    assert by_sound.candidates["Mastodon"][0]["heard"] == "master."


def test_a_name_recognition_did_not_know_is_scored_though_ordinary_words_look_more_alike():
    # Eight stretches are more alike in letters to "Common Crawl" than the name recognition
    # wrote, capitalised mid-sentence ("Tomu Croet"); that name is scored by sound all the same.
    crawl = Link(["Common Crawl"], "Common Crawl", "https://commoncrawl.org")
    alike = " ".join(f"comme on croit {word}." for word in
                     ("hier", "demain", "souvent", "parfois", "encore", "toujours", "ici", "ailleurs", "enfin"))
    heard = dialogue(("G", "vous écoutez Imaginaires. " + alike + " une base qui s'appelle Tomu Croet, voilà"))
    audio = BySound({"Tomu": "Common Crawl"}, margin=1.0, others=0.5)  # preferred, though not enough to place
    found = footnote(heard, [IMAGINAIRES, crawl], audio=audio)
    assert found.candidates["Common Crawl"][0]["heard"].startswith("Tomu Croet")
    # At the start of a sentence a capital says nothing: only the eight most alike are scored.
    opening = dialogue(("G", "vous écoutez Imaginaires. " + alike + " Tomu Croet, voilà"))
    again = footnote(opening, [IMAGINAIRES, crawl], audio=BySound({"Tomu": "Common Crawl"}, margin=1.0, others=0.5))
    assert not any(spot["heard"].startswith("Tomu") for spot in again.candidates["Common Crawl"])


def test_a_candidate_spot_the_audio_could_not_score_is_offered_without_a_score():
    class Unscorable(BySound):  # as AudioScorer answers for a stretch past its window's end
        def margins(self, first: int, last: int, texts: list[str]) -> list[Margin]:
            if join_words(self.words[first : last + 1]) == "master.":
                return [Margin(-math.inf, -math.inf) for _ in texts]
            return super().margins(first, last, texts)

    heard = dialogue(("G", "vous écoutez Imaginaires. le maxtre bof. " + FILLER + "le master. "))
    mastodon = Link(["Mastodon"], "Mastodon", "https://joinmastodon.org")
    spots = footnote(heard, [IMAGINAIRES, mastodon], audio=Unscorable({})).candidates["Mastodon"]
    assert [spot["score"] for spot in spots if spot["heard"] == "master."] == [None]
    assert spots[-1]["score"] is None  # offered last
    json.dumps(spots, allow_nan=False)  # what the review page parses


def test_the_stage_writes_candidate_spots_in_review_json_for_a_link_not_found():
    from pipeline.model import Doubt
    from pipeline.stages.footnotes import _with_candidates

    spots = {"l'IA Act": [{"start": 6.0, "end": 6.4, "heard": "React,", "score": 4.0}]}
    missing = _with_candidates(Doubt("link-not-found", 0.0, 9.0, "", "l'IA Act", "not heard"), spots)
    assert missing["candidates"] == spots["l'IA Act"] and json.loads(json.dumps(missing)) == missing
    assert "candidates" not in _with_candidates(Doubt("word", 1.0, 2.0, "x", "x", ""), spots)


@pytest.mark.slow
def test_the_audio_prefers_a_said_phrase_to_unrelated_names_and_places_no_decoy(tmp_path: Path):
    """The excerpt's first pass heard "au bout de l'acte" at 8:04 where "l'IA Act" is said, and
    "ça maltaude" for "Sam Altman" at 8:10. Scored against the audio, the phrase said beats
    unrelated names at its stretch; names never said that sound a little like "maltaude" are
    not placed, and "l'IA Act", if placed, only where it is said."""
    from pipeline.engines.relisten import PhraseScorer
    from pipeline.engines.transcribe import TranscribeOptions

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = json.loads((Path(__file__).parent / "excerpt-first-pass-477-498.json").read_text(encoding="utf-8"))
    words = [Word(t, a, b, p, speaker="Gérald") for t, a, b, p in data["words (text, start, end, probability)"]]
    options = TranscribeOptions(model="base", device="cpu")
    audio = PhraseScorer(shared_file("sample-episode/excerpt.mp3"), options, cache=tmp_path / "scores.json")
    scores = audio(words)
    acte = next(k for k, w in enumerate(words) if w.text == "'acte")
    act, *controls = scores.margins(acte - 1, acte, ["l'IA Act", *DEFAULTS.control_names[:6]])
    assert act.per_token > max(c.per_token for c in controls) + 0.3  # 0.85 per token on this CPU
    heard_as = scores.margins(acte - 1, acte, ["l'acte"])[0]  # the words as heard: no margin
    assert abs(heard_as.total) < 1e-6
    # Kept in the cache file, the same scores cost no encoding on the next run.
    audio.save()
    again = PhraseScorer(shared_file("sample-episode/excerpt.mp3"), options, cache=tmp_path / "scores.json")(words)
    again._encode = None  # would fail if called
    assert again.margins(acte - 1, acte, ["l'IA Act"])[0].total == pytest.approx(act.total, abs=1e-3)
    assert "whisper" not in vars(again) and "samples" not in vars(again)  # neither model nor audio loaded
    decoys = [Link([name], f"decoy {name}", f"https://decoy.example/{name}") for name in ("Malakoff", "Altice")]
    found = footnote(Dialogue([Turn("Gérald", words)]), [ACT, *decoys], audio=audio)
    placed = {r.title for r in found.dialogue.references if r.number is not None
              and any(w.footnote == r.number for t in found.dialogue.turns for w in t.words)}
    assert placed <= {ACT.title}
    said_at = [w.start for t in found.dialogue.turns for w in t.words if w.footnote]
    assert all(484.0 <= at <= 486.0 for at in said_at)


def test_out_of_order_a_link_is_marked_only_where_recognition_wrote_the_name_itself():
    le_monde = Link(["Le Monde"], "Le Monde", "https://www.lemonde.fr")
    # Listed first but heard after Imaginaires: only the name as written counts, not "tout le monde".
    ordinary = dialogue(("G", "vous écoutez Imaginaires, bonjour à tout le monde"))
    assert marked(place_footnotes(ordinary, [le_monde, IMAGINAIRES])) == [("Imaginaires,", 1)]
    named = dialogue(("G", "vous écoutez Imaginaires, comme le dit Le Monde hier"))
    assert marked(place_footnotes(named, [le_monde, IMAGINAIRES])) == [("Imaginaires,", 1), ("Monde", 2)]


def test_the_peoples_names_are_respelled_where_said_and_written_nowhere_else():
    heard = dialogue(
        ("Gérald", "bonsoir. Je suis Gérald Olubovitch et vous écoutez Imaginaires."),
        ("Antonio", "bonsoir Gérald, merci. Comme disait Olubowicz hier, le travail du clic"),
    )
    result = place_footnotes(heard, [IMAGINAIRES], people=["Gérald Holubowicz", "Antonio Casilli"])
    assert "Je suis Gérald Holubowicz et vous écoutez Imaginaires [1]." in text(result)
    assert "Comme disait Holubowicz hier" in text(result)
    assert text(result).count("Holubowicz") == 2 and "Casilli" not in text(result)
    assert text(result).startswith("bonsoir.") and "bonsoir Gérald, merci" in text(result)


def test_the_producers_fixes_are_checked_against_the_episode(tmp_path: Path):
    from pipeline.corrections_file import load_fixes

    path = tmp_path / "corrections.toml"
    path.write_text('[[speaker]]\nname = "Antonio Casilli"\nfrom = "0:01"\nto = "0:03.5"\n\n'
                    '[[link]]\nphrase = "ChatGPT"\nheard = "châche et pété"\nfrom = 2\nto = 4\n\n'
                    '[[accepted]]\nkind = "word"\nat = "1:02.35"\n', encoding="utf-8")
    fixes = load_fixes(path, ["Gérald Holubowicz", "Antonio Casilli"], [CHATGPT])
    assert (fixes.speakers[0].start, fixes.speakers[0].end) == (1.0, 3.5)
    assert fixes.links[0].phrase == "ChatGPT" and fixes.accepted[0].at == 62.35
    for people, links, key in ((["Gérald Holubowicz"], [CHATGPT], "speaker[1].name"),
                               (["Gérald Holubowicz", "Antonio Casilli"], [REDDIT], "link[1].phrase")):
        with pytest.raises(PipelineError) as failure:
            load_fixes(path, people, links)
        assert str(path) in str(failure.value) and f"key '{key}'" in str(failure.value)
    path.write_text('[[accepted]]\nkind = "guess"\nat = 3\n', encoding="utf-8")
    with pytest.raises(PipelineError, match="accepted"):
        load_fixes(path)


def test_a_speaker_fix_moves_the_words_and_settles_the_doubt():
    from pipeline.engines.corrections import apply_speaker_fixes
    from pipeline.model import Doubt, SpeakerFix

    heard = dialogue(("Gérald", "merci Antonio. Alors le travail du clic"), ("Antonio", "oui exactement"))
    heard.doubts = [Doubt("speaker", 1.0, 3.4, "Alors le travail du clic", "Gérald", "voice unclear")]
    fixed = apply_speaker_fixes(heard, [SpeakerFix("Antonio", 0.9, 3.5)])
    assert [(t.speaker, join_words(t.words)) for t in fixed.turns] == [
        ("Gérald", "merci Antonio."), ("Antonio", "Alors le travail du clic oui exactement")]
    assert fixed.turns[1].confidence == 1.0 and fixed.doubts == []


def test_a_link_placed_by_the_producer_wins_and_is_numbered_in_order():
    from pipeline.model import LinkFix

    heard = dialogue(("Gérald", "vous écoutez Imaginaires. On parle de commencé à et de ChatGPT"))
    result = place_footnotes(heard, [IMAGINAIRES, Link(["Common Crawl"], "Common Crawl", "https://commoncrawl.org"),
                                     CHATGPT], placed_by_producer=[LinkFix("Common Crawl", "commencé à", 2.9, 4.0)])
    assert marked(result) == [("Imaginaires.", 1), ("à", 2), ("ChatGPT", 3)]
    assert result.doubts == [] and result.warnings == []


def test_in_a_running_order_list_a_later_mention_out_of_order_is_not_marked():
    openai = Link(["OpenAI"], "OpenAI", "https://openai.com")
    heard = dialogue(
        ("Gérald", "vous écoutez Imaginaires. Le créateur du robot, c'est OpenAI."),  # ChatGPT not heard
        ("Antonio", "une plateforme comme Amazon Mechanical Turk. Et puis ChatGPT encore, bien sûr."),
    )
    # The list's running order: Imaginaires, ChatGPT, OpenAI, Turk. The exact "ChatGPT" comes
    # after OpenAI and Turk: a later mention, not the first one.
    result = place_footnotes(heard, [IMAGINAIRES, CHATGPT, openai, TURK])
    assert marked(result) == [("Imaginaires.", 1), ("OpenAI.", 3), ("Turk.", 4)]
    assert [r.number for r in result.references] == [1, 2, 3, 4]
    assert [(d.kind, d.chose) for d in result.doubts] == [("link-not-found", "ChatGPT")]


FILLER = ("on en parle depuis longtemps dans les laboratoires et dans les rédactions, mais le public "
          "découvre à peine ce que cela veut dire pour celles et ceux qui font ce travail chaque jour. ")


def test_a_mention_in_passing_leaves_no_room_for_the_link_listed_before_it():
    # The seed's intro names ChatGPT in passing, 12 words after Time Magazine; its footnoted
    # mention follows "Amazon Mechanical Turk", listed between them and unheard here.
    heard = dialogue(
        ("Gérald", "vous écoutez Imaginaires. " + FILLER + "Cette étude fait écho à l'enquête de Time Magazine, "
                   "publiée un peu plus tôt, qui révèle que le créateur de ChatGPT emploie des Kényans. " + FILLER * 3),
        ("Antonio", "une plateforme comme un marteau mécanique tout. " + FILLER * 3
                    + "un exemple sous les yeux de tout le monde, qui est ChatGPT, le phénomène des derniers mois."),
    )
    result = place_footnotes(heard, [IMAGINAIRES, TIME, TURK, CHATGPT])
    chatgpt = [w for t in result.turns for w in t.words if w.footnote == 4]
    assert [w.speaker for w in chatgpt] == ["Antonio"]  # the guest's mention, not the intro's
    assert [r.number for r in result.references] == [1, 2, 3, 4]  # Turk keeps its number, unmarked
    # With Turk heard, the intro's ChatGPT is the one before it: the same mention is marked.
    heard_turk = dialogue(*[(t.speaker, " ".join(w.text for w in t.words).replace("un marteau mécanique tout",
                                                                                "Amazon Mechanical Turk"))
                            for t in heard.turns])
    result = place_footnotes(heard_turk, [IMAGINAIRES, TIME, TURK, CHATGPT])
    assert [(w.speaker, w.footnote) for t in result.turns for w in t.words if w.footnote in (3, 4)] == [
        ("Antonio", 3), ("Antonio", 4)]


def test_links_heard_in_the_list_order_more_than_chance_allows_are_its_running_order():
    def heard_at(*positions: int) -> list[list[Match]]:
        return [[Match(f"link {k}", at, at, 1.0, exact=True)] if at is not None else []
                for k, at in enumerate(positions)]

    # 10 links of 14 heard in order (0.71 of them): beyond chance, though under the share.
    assert is_running_order(heard_at(10, 20, 500, 30, 40, 900, 50, 60, 70, 3, 80, 90, 5, 100))
    # 7 of 10 in order: a shuffle does that about once in a hundred; not enough.
    assert not is_running_order(heard_at(10, 20, 500, 30, 40, 900, 50, 60, 70, 5))
    assert is_running_order(heard_at(10, None, 30, 400, None, 500, 700))  # every link heard in order
    assert not is_running_order(heard_at(700, 30, 400, 10, 500, 90, 200))  # shuffled
    assert not is_running_order(heard_at(10, None, None))  # one link tells nothing
    # The 9th link first heard in passing before the 6th and 7th, and those two swapped: a run of 5
    # of 7 (within chance for a run), yet 18 pairs of 21 in order; a shuffle seldom keeps so many.
    assert is_running_order(heard_at(10, 20, 30, None, 40, 70, 60, None, 50))
    assert not is_running_order(heard_at(60, 20, 70, None, 10, 40, 30, None, 50))


ALPHABETICAL = [Link(["Antonio Casilli"], "Antonio Casilli", "https://www.casilli.fr"), CHATGPT,
                Link(["Imaginaires"], "Imaginaires", "https://example.org/imaginaires"),
                Link(["OpenAI"], "OpenAI", "https://openai.com"), TIME]


def test_a_list_sorted_by_title_or_phrase_is_not_the_running_order():
    assert is_sorted_list(ALPHABETICAL)
    assert is_sorted_list([REDDIT, TURK, TIME, CHATGPT]) is False
    assert is_sorted_list([TURK, CHATGPT, IMAGINAIRES]) is False  # too short to tell
    by_phrase = [Link([p], f"{9 - k} {p}", f"https://example.org/{k}")
                 for k, p in enumerate(["Amazon", "Bing", "Claude", "Deezer"])]
    assert is_sorted_list(by_phrase)
    # Heard in the alphabet's order, as it happens: still not a running order, and numbers follow
    # the order of first mention.
    heard_at = [[Match(link.phrases[0], at, at, 1.0, exact=True)] for at, link in zip((10, 20, 30, 40, 50), ALPHABETICAL)]
    assert is_running_order(heard_at) and not is_running_order(heard_at, links=ALPHABETICAL)
    heard = dialogue(
        ("Gérald", "bonjour, vous écoutez Imaginaires avec Antonio Casilli, bienvenue"),
        ("Antonio", "merci. Time Magazine a publié une enquête sur OpenAI, le créateur de ChatGPT"),
    )
    result = place_footnotes(heard, ALPHABETICAL)
    assert marked(result) == [("Imaginaires", 1), ("Casilli,", 2), ("Magazine", 3), ("enquête", 3), ("OpenAI,", 4),
                              ("ChatGPT", 5)]


def test_with_a_list_in_any_order_a_name_the_intro_drops_is_footnoted_where_taken_up():
    heard = dialogue(
        ("Gérald", "bonjour, vous écoutez Imaginaires. Time Magazine révèle qu'OpenAI, le créateur de ChatGPT, "
                   "paie mal. Antonio Casilli, bienvenue."),
        ("Antonio", "merci. Prenons ChatGPT, qui est sous les yeux de tout le monde. " + FILLER * 2),
        ("Gérald", FILLER * 4 + "merci Antonio Casilli. Vous avez écouté Imaginaires."),
    )
    result = place_footnotes(heard, ALPHABETICAL)
    at = {w.footnote: (w.speaker, w.text) for t in result.turns for w in t.words if w.footnote}
    chatgpt = next(r.number for r in result.references if r.url == CHATGPT.url)
    assert at[chatgpt] == ("Antonio", "ChatGPT,")  # taken up by the guest: the intro named it in passing
    # Recalled only at the end, the show and the guest stay footnoted in the intro.
    imaginaires = next(r.number for r in result.references if r.title == "Imaginaires")
    casilli = next(r.number for r in result.references if r.title == "Antonio Casilli")
    assert at[imaginaires][0] == at[casilli][0] == "Gérald" and imaginaires == 1
    assert [r.number for r in result.references] == [1, 2, 3, 4, 5]


def _markers(result: Dialogue) -> dict[int, float]:
    return {w.footnote: w.start for t in result.turns for w in t.words if w.footnote}


@pytest.mark.parametrize("links", [[IMAGINAIRES, TIME, CHATGPT, REDDIT, TURK],  # the running order
                                   ALPHABETICAL[:2] + [REDDIT] + ALPHABETICAL[2:]])  # alphabetical
def test_a_fix_renumbers_and_moves_no_other_link(links):
    from pipeline.engines.corrections import NotMention
    from pipeline.model import LinkFix

    heard = dialogue(
        ("Gérald", "bonjour, vous écoutez Imaginaires avec Antonio Casilli. Time Magazine, une enquête"),
        ("Antonio", "merci. ChatGPT et de radis c'est un truc. Amazon Mechanical Turk, OpenAI puis ChatGPT encore"),
    )
    before = place_footnotes(heard, links)
    numbers = {r.url: r.number for r in before.references}
    assert REDDIT.url in numbers and "Reddit" not in text(before)
    # The producer places Reddit on "radis": it is marked with the number it had; nothing else moves.
    fixed = place_footnotes(heard, links, placed_by_producer=[LinkFix("Reddit", "radis", 7.4, 8.0)])
    assert {r.url: r.number for r in fixed.references} == numbers
    others = {n: at for n, at in _markers(before).items()}
    assert {n: at for n, at in _markers(fixed).items() if n != numbers[REDDIT.url]} == others
    assert _markers(fixed)[numbers[REDDIT.url]] == 7.5
    # "Not a mention" on ChatGPT's first: it goes to its next (out of the running order: none),
    # the others stay as they were.
    chatgpt = numbers[CHATGPT.url]
    refused = place_footnotes(heard, links, placed_by_producer=[NotMention("ChatGPT", "ChatGPT", 5.9, 6.5)])
    assert {r.url: r.number for r in refused.references} == numbers
    assert {n: at for n, at in _markers(refused).items() if n != chatgpt} == {
        n: at for n, at in others.items() if n != chatgpt}
    assert _markers(refused).get(chatgpt, float("inf")) > others[chatgpt]


def test_a_name_made_of_an_article_and_a_word_is_not_those_words_in_lower_case():
    le_monde = Link(["Le Monde"], "Le Monde", "https://www.lemonde.fr")
    conversation = Link(["The Conversation"], "The Conversation", "https://theconversation.com")
    heard = dialogue(("Gérald", "vous écoutez Imaginaires, bonjour à tout le monde, place à la conversation"),
                     ("Antonio", "un article du Monde et un autre de The Conversation"))
    result = place_footnotes(heard, [IMAGINAIRES, le_monde, conversation])
    assert marked(result) == [("Imaginaires,", 1), ("Monde", 2), ("Conversation", 3)]
    assert "tout le monde, place à la conversation" in text(result)  # ordinary words, left as heard
    assert "un article du Monde [2]" in text(result)  # "du Monde", not "du Le Monde"
    # Nor by sound: the audio favouring the name over "le monde" tells the phrase from the name no better.
    by_sound = footnote(dialogue(("Gérald", "vous écoutez Imaginaires, bonjour à tout le monde, bienvenue")),
                        [IMAGINAIRES, le_monde], audio=BySound({"le": "Le Monde"}, margin=3.0))
    assert marked(by_sound.dialogue) == [("Imaginaires,", 1)]


def test_in_a_list_in_any_order_a_word_that_sounds_like_the_name_does_not_take_it_up():
    heard = dialogue(
        ("Gérald", "bonjour, vous écoutez Imaginaires. Time Magazine révèle qu'OpenAI paie mal. Antonio Casilli, bienvenue."),
        ("Antonio", "merci. C'est tout l'imaginaire de la technique. " + FILLER * 2),
    )
    result = place_footnotes(heard, ALPHABETICAL)
    at = {w.footnote: w.speaker for t in result.turns for w in t.words if w.footnote}
    imaginaires = next(r.number for r in result.references if r.title == "Imaginaires")
    assert at[imaginaires] == "Gérald"  # "l'imaginaire" is an ordinary word: the intro keeps it


def test_a_link_shut_out_of_its_bracket_by_a_wrong_neighbour_is_offered_its_most_alike_stretch():
    # In a running order a missing link is looked for between its placed neighbours. When the
    # one after it was placed at a mention heard before the link's own (misheard "ré dite"),
    # the bracket ends before it; the producer is still offered the episode's most alike stretch,
    # last, after the bracket's best.
    host = ("vous écoutez Imaginaires. " + FILLER + "il faut le redire. " + FILLER + "on en rougit. " + FILLER
            + "on parle de ChatGPT. ")
    heard = dialogue(("G", host), ("A", FILLER + "un commentaire sur ré dite, voilà. " + FILLER))
    links = [IMAGINAIRES, REDDIT, CHATGPT]
    spots = footnote(heard, links).candidates[REDDIT.title]
    assert [spot["heard"] for spot in spots] == ["redire.", "rougit.", "ré dite,"]
    bracket_only = footnote(heard, links, options=FootnoteOptions(spots_anywhere=0)).candidates[REDDIT.title]
    assert len(bracket_only) == DEFAULTS.candidate_spots
    assert all(spot["start"] < 60 for spot in bracket_only)  # before ChatGPT, at 64 s
