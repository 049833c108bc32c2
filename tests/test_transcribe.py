"""The transcribe stage's guard against speech silently left out of the transcript."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pipeline.engines.transcribe import (
    Backend,
    TranscribeOptions,
    confident_inside_words,
    copies_hotwords,
    decode,
    kept_segments,
    pieces,
    speech_heard,
    transcribe,
    unheard_speech,
)
from pipeline.engines.whisper_model import device_and_compute_type
from pipeline.model import Segment, Word
from tests.conftest import make_silence


def _segment(start: float, end: float) -> Segment:
    return Segment(start, end, "mot", [Word("mot", start, end)])


@pytest.mark.slow
def test_speech_between_words_is_found(sample_clip):
    # As if the decoder had skipped everything after the fifth second of the clip.
    heard = [_segment(t, t + 1.0) for t in range(5)]
    unheard = unheard_speech(speech_heard(sample_clip), heard, duration=30.0)
    assert len(unheard) == 1
    start, end = unheard[0]
    assert start == 5.0 and end == 30.0


@pytest.mark.slow
def test_words_covering_the_speech_leave_nothing_unheard(sample_clip):
    covered = [_segment(t, t + 1.0) for t in range(0, 30)]
    assert unheard_speech(speech_heard(sample_clip), covered, duration=30.0) == []


@pytest.mark.slow
def test_silence_is_not_speech(tmp_path):
    silence = make_silence(tmp_path / "silence.mp3", seconds=20)
    assert unheard_speech(speech_heard(silence), [], duration=20.0) == []


def test_the_middle_of_a_word_stretched_over_seconds_of_speech_is_unheard():
    # As the first pass wrote r702 at 2:58: "n'a" from 178.1 to 184.1, over a question of the host.
    stretched = Segment(170.0, 184.1, "il n'a", [Word("il", 177.5, 177.9), Word("n'a", 178.1, 184.1)])
    longest = TranscribeOptions().longest_word_s
    assert unheard_speech([(170.0, 185.0)], [stretched], 185.0) == [(0.0, 177.5), (178.1 + longest / 2, 184.1 - longest / 2)]
    assert unheard_speech([(177.5, 179.0)], [_segment(177.5, 177.5 + longest)], 185.0) == []


def test_a_guess_written_inside_a_stretched_word_is_left_out_and_a_confident_one_kept():
    # As on v102, a voice the model barely knows: retries inside "'épaisseur." (121.2-133.8 s)
    # wrote guesses at avg_logprob -1.05 to -1.46; on v104 the guest's missing answer came at -0.49.
    first_pass = [Segment(118.0, 133.8, "de l'épaisseur.", [Word("de", 118.0, 118.3), Word("l'épaisseur.", 121.2, 133.8)])]
    options = TranscribeOptions()
    guess = Segment(124.8, 127.5, "vous les marreau", [Word("vous", 124.8, 125.5)], avg_logprob=options.low_logprob - 0.3)
    heard = Segment(127.8, 132.1, "on l'a lu", [Word("on", 127.8, 128.1)], avg_logprob=options.low_logprob + 0.5)
    in_a_gap = Segment(140.0, 142.0, "hum", [Word("hum", 140.0, 140.5)], avg_logprob=options.low_logprob - 0.3)
    assert confident_inside_words([guess, heard, in_a_gap], first_pass, options) == [heard, in_a_gap]


def test_a_segment_that_copies_the_hotwords_out_is_recognised():
    options = TranscribeOptions(vocabulary=("Imaginaires", "Amazon Mechanical Turk", "ChatGPT", "GPT-4"))
    # As the first pass wrote a hard stretch of an unseen variant, v101, at 1:07.
    assert copies_hotwords("Amazon Mechanical Turk, ChatGPT, platformer, peuplu, strict", options)
    assert not copies_hotwords("on utilise ChatGPT, puis Amazon Mechanical Turk", options)  # not as given
    assert not copies_hotwords("le phénomène ChatGPT et GPT-4", options)
    assert not copies_hotwords("Amazon Mechanical Turk, ChatGPT", TranscribeOptions())


def test_hotwords_stop_where_the_prompt_would_overflow():
    options = TranscribeOptions(vocabulary=("Imaginaires", " ", "Imaginaires", "ChatGPT", "Amazon Mechanical Turk"),
                                max_vocabulary_chars=25)
    assert options.hotwords() == "Imaginaires, ChatGPT"
    assert TranscribeOptions().hotwords() is None


def test_the_key_holds_the_resolved_device_and_only_changed_tuning():
    options = TranscribeOptions(device="cpu", vocabulary=("Imaginaires",))
    key = options.key()
    assert key["device"] == ("cpu", "int8") and key["vocabulary"] == ("Imaginaires",)
    assert "min_unheard_s" not in key  # the defaults are the stage revision's
    assert TranscribeOptions(device="cpu", min_unheard_s=3.0).key()["min_unheard_s"] == 3.0
    assert TranscribeOptions(device="cuda").key()["device"] == ("cuda", "float16")
    assert device_and_compute_type("auto") in (("cpu", "int8"), ("cuda", "float16"))


def test_a_segment_repeating_the_one_before_word_for_word_is_dropped():
    from types import SimpleNamespace

    def segment(start: float, text: str, no_speech: float = 0.1, logprob: float = -0.5):
        words = [SimpleNamespace(word=" " + w, start=start + i * 0.3, end=start + i * 0.3 + 0.2, probability=0.9)
                 for i, w in enumerate(text.split())]
        return SimpleNamespace(start=start, end=start + 2, text=text, words=words, no_speech_prob=no_speech,
                               avg_logprob=logprob, compression_ratio=9.9)  # its window's: not the segment's

    loop = [segment(0, "C'est la même chose."), segment(2, "C'est la même chose !"), segment(4, "Merci."),
            segment(6, "Merci."), segment(8, "Sur de la musique", no_speech=0.9, logprob=-1.5),
            segment(10, "Ah " * 60),
            segment(12, "avant d'aller plus loin, vous ressonancez vos masques et masques, la mieux l'a fait qu'il "
                        "n'a pas besoin de ça, sans vous non non directement sous tout à l'aise, c'est ce que me souce "
                        "mes de mes sélections, c'est un livre d'informations. En Tokyo, Paris, " + "FOSF, " * 22),
            segment(14, "non non non, je ne crois pas, vraiment pas, non non")]
    kept, dropped = kept_segments(loop, TranscribeOptions())
    assert [s.text for s in kept] == ["C'est la même chose.", "Merci.", "Merci.",
                                      "non non non, je ne crois pas, vraiment pas, non non"] and dropped == 4
    kept, _ = kept_segments(loop[4:5], TranscribeOptions(), heard_as_speech=True)
    assert [s.text for s in kept] == ["Sur de la musique"]  # where the voice detector hears speech


def _decoded(start: float, end: float, text: str):
    from types import SimpleNamespace

    tokens = text.split()
    step = (end - start) / len(tokens)
    words = [SimpleNamespace(word=" " + w, start=start + i * step, end=start + (i + 0.8) * step, probability=0.4)
             for i, w in enumerate(tokens)]
    return SimpleNamespace(start=start, end=end, text=text, words=words, no_speech_prob=0.1, avg_logprob=-0.9)


@pytest.mark.parametrize("batch_size", [0, 8])
def test_speech_every_retry_loops_on_is_decoded_in_pieces_and_marked_as_guessed(tmp_path, batch_size):
    from types import SimpleNamespace

    asked = []

    def decoder_that_loops_on_hard_speech(source, options, clip=None, pushed=False):
        asked.append((clip, pushed, options.vocabulary, len(source) / 16000))
        info = SimpleNamespace(duration=30.0)
        if clip is None:  # the first pass hears the intro only
            return iter([_decoded(0.0, 5.0, "Bonjour et bienvenue à tous")]), info
        if not pushed:  # the warmer retries loop, and loops are dropped
            return iter([_decoded(clip[0], clip[1], "ah " * 60)]), info
        pieces = list(zip(clip[::2], clip[1::2]))
        return iter([_decoded(a, b, f"des mots difficiles {k}") for k, (a, b) in enumerate(pieces)]), info

    backend = Backend(decode=decoder_that_loops_on_hard_speech,
                      samples_of=lambda source: np.zeros(30 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.2, 29.5)])
    options = TranscribeOptions(vocabulary=("Imaginaires",), batch_size=batch_size)
    result = transcribe(tmp_path / "episode.mp3", options, progress=False, backend=backend)

    pushed = [(clip, seconds) for clip, was_pushed, _, seconds in asked if was_pushed]
    assert len(pushed) == 1 and 25.0 <= pushed[0][0][-1] - pushed[0][0][0] <= 25.5  # the 25 s after the intro
    clip, seconds = pushed[0]
    # Sequential: the stretch alone, from 0; batched: the episode, the stretch where it is.
    assert (clip[-1], seconds) == (30.0, 30.0) if batch_size else clip[0] == 0.0 and seconds == clip[-1]
    assert all(0 < end - start <= 6.0 for start, end in zip(clip[::2], clip[1::2]))
    assert all(vocabulary == () for clip, _, vocabulary, _ in asked if clip is not None)  # retries: no hotwords
    assert len(asked) == 3  # the first pass, one retry, one pushed
    assert unheard_speech([(0.2, 29.5)], result.segments, 30.0) == []
    assert [d.kind for d in result.doubts] == ["guessed"]
    assert "difficiles" in result.doubts[0].heard and not any("ah ah" in s.text for s in result.segments)
    assert any("only when pushed" in warning for warning in result.warnings)


def test_the_warning_counts_stretches_transcribed_again_never_their_gaps(tmp_path):
    from types import SimpleNamespace

    pushes = []

    def decoder_with_words_in_every_other_piece(source, options, clip=None, pushed=False):
        info = SimpleNamespace(duration=30.0)
        if clip is None:
            return iter([_decoded(0.0, 5.0, "Bonjour et bienvenue à tous")]), info
        if not pushed:
            return iter([_decoded(clip[0], clip[1], "ah " * 60)]), info  # a loop, dropped
        pushes.append(clip)
        if len(pushes) > 1:
            return iter([]), info  # the gaps the pieces left: nothing
        pieces = list(zip(clip[::2], clip[1::2]))
        return iter([_decoded(a, b, f"des mots {k}") for k, (a, b) in enumerate(pieces) if k % 2 == 0]), info

    backend = Backend(decode=decoder_with_words_in_every_other_piece,
                      samples_of=lambda source: np.zeros(30 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.2, 29.5)])
    result = transcribe(tmp_path / "episode.mp3", TranscribeOptions(batch_size=0), progress=False, backend=backend)
    # One stretch of 25 s, pushed in 5 pieces: words in 3 of them, 2 gaps left without words.
    [left] = [w for w in result.warnings if "no words recognised at" in w]
    assert len(re.findall(r"\d+:\d\d-\d+:\d\d", left.split("recognised at")[1])) == 2  # two gaps
    assert any("1 stretch(es) of speech the first pass left without words were transcribed again, 1 of them "
               "only when pushed" in w for w in result.warnings)


@pytest.mark.parametrize("batch_size", [0, 8])
def test_batched_retries_decode_every_stretch_without_words_in_one_call(tmp_path, batch_size):
    from types import SimpleNamespace

    asked = []

    def decoder_that_hears_the_middle_only(source, options, clip=None, pushed=False):
        asked.append(clip)
        info = SimpleNamespace(duration=60.0)
        if clip is None:
            return iter([_decoded(20.0, 30.0, "au milieu de l'épisode")]), info
        found = [" ".join(f"mot{round(a + k) * 7919 % 1009}" for k in range(round(b - a))) for a, b in zip(clip[::2], clip[1::2])]
        return iter([_decoded(a, b, text) for (a, b), text in zip(zip(clip[::2], clip[1::2]), found)]), info

    backend = Backend(decode=decoder_that_hears_the_middle_only,
                      samples_of=lambda source: np.zeros(60 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.5, 59.5)])
    result = transcribe(tmp_path / "episode.mp3", TranscribeOptions(batch_size=batch_size), progress=False,
                        backend=backend)
    retries = asked[1:]
    if batch_size:  # before and after the middle, in 30 s pieces at most, in one call
        assert len(retries) == 1 and len(retries[0]) == 6
        assert all(end - start <= 30.0 for start, end in zip(retries[0][::2], retries[0][1::2]))
    else:
        assert len(retries) == 2  # one stretch at a time
    assert unheard_speech([(0.5, 59.5)], result.segments, 60.0) == [] and result.doubts == []
    assert any("0 of them only when pushed" in warning for warning in result.warnings)


@pytest.mark.parametrize("loops", [False, True])
def test_a_short_stretch_the_plain_retry_leaves_silent_is_not_pushed(tmp_path, loops):
    from types import SimpleNamespace

    asked = []

    def decoder_for_a_jingle(source, options, clip=None, pushed=False):
        asked.append(pushed)
        info = SimpleNamespace(duration=30.0)
        if clip is None:  # a 4 s jingle between two stretches of words
            return iter([_spoken(0.0, 5.0), _spoken(9.0, 30.0)]), info
        return iter([_decoded(clip[0], clip[1], "la " * 60)] if loops else []), info

    backend = Backend(decode=decoder_for_a_jingle, samples_of=lambda source: np.zeros(30 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.2, 29.5)])
    result = transcribe(tmp_path / "episode.mp3", TranscribeOptions(), progress=False, backend=backend)
    # Written nothing, the same 4 s would be decoded the same way pushed; a loop is worth a push.
    assert asked == ([False, False, True] if loops else [False, False])
    [doubt] = result.doubts
    assert doubt.kind == "unheard" and 4.5 <= doubt.start <= 5.0 and doubt.end == 9.0
    assert any("no words recognised at 0:04-0:09" in warning for warning in result.warnings)


@pytest.mark.parametrize("batch_size", [0, 8])
def test_words_a_retry_writes_inside_a_long_segment_come_between_its_words(tmp_path, batch_size):
    from types import SimpleNamespace

    ends = [_decoded(0.0, 3.0, "bonjour à tous").words, _decoded(27.0, 29.0, "merci beaucoup").words]
    # One segment over the whole clip, its words only at its two ends.
    first_pass = SimpleNamespace(start=0.0, end=29.0, text="bonjour à tous merci beaucoup",
                                 words=ends[0] + ends[1], no_speech_prob=0.1, avg_logprob=-0.9)
    result = _transcribed_over_30_s(tmp_path, batch_size, first_pass)
    words = result.words
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[0].text.strip() == "bonjour" and words[-1].text.strip() == "beaucoup"
    assert len(words) > 6  # the middle was written, between the two ends
    assert all(a.end <= b.start for a, b in zip(result.segments, result.segments[1:]))


@pytest.mark.parametrize("batch_size", [0, 8])
def test_speech_under_a_word_stretched_over_it_is_written_and_the_word_cut_short(tmp_path, batch_size):
    first_pass = _decoded(0.0, 29.0, "bonjour à tous et merci beaucoup")  # "et" over speech it never wrote
    for word, (start, end) in zip(first_pass.words, [(0, 1), (1, 2), (2, 3), (3, 27), (27, 28), (28, 29)]):
        word.start, word.end = float(start), float(end)
    result = _transcribed_over_30_s(tmp_path, batch_size, first_pass)
    words = result.words
    assert len(words) > 20  # the 22 s under "et" were decoded again
    assert all(a.end <= b.start for a, b in zip(words, words[1:]))
    stretched = next(word for word in words if word.text.strip() == "et")
    assert stretched.end - stretched.start <= TranscribeOptions().longest_word_s


def _transcribed_over_30_s(tmp_path, batch_size: int, first_pass):
    """`transcribe` on 30 s of speech whose first pass writes the one decoded segment `first_pass`,
    and whose retries write a word every half second of each piece."""
    from types import SimpleNamespace

    def decoder(source, options, clip=None, pushed=False):
        info = SimpleNamespace(duration=30.0)
        if clip is None:
            return iter([first_pass]), info
        return iter([_spoken(a, b) for a, b in zip(clip[::2], clip[1::2])]), info

    backend = Backend(decode=decoder, samples_of=lambda source: np.zeros(30 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.2, 29.5)])
    return transcribe(tmp_path / "episode.mp3", TranscribeOptions(batch_size=batch_size), progress=False,
                      backend=backend)


def _spoken(start: float, end: float):
    """A decoded segment with a word every half second, none repeated (no loop to drop)."""
    count = max(1, round(2 * (end - start)))
    return _decoded(start, end, " ".join(f"mot{round(start * 10 + k) * 7919 % 1009}" for k in range(count)))


@pytest.mark.parametrize("batch_size", [0, 8])
def test_the_gaps_a_pushed_piece_leaves_are_decoded_alone_once(tmp_path, batch_size):
    from types import SimpleNamespace

    pushed_clips = []

    def decoder_that_stops_short(source, options, clip=None, pushed=False):
        info = SimpleNamespace(duration=20.0)
        if clip is None:
            return iter([_spoken(0.0, 5.0)]), info
        if not pushed:
            return iter([]), info  # the plain retry writes nothing
        pieces = list(zip(clip[::2], clip[1::2]))
        pushed_clips.append((pieces, len(source) / 16000))
        if len(pushed_clips) == 1:  # words for the first 2 s of each piece only
            return iter([_spoken(a, a + 2.0) for a, b in pieces]), info
        return iter([_spoken(a, b) for a, b in pieces]), info

    backend = Backend(decode=decoder_that_stops_short,
                      samples_of=lambda source: np.zeros(20 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.2, 19.8)])
    result = transcribe(tmp_path / "episode.mp3", TranscribeOptions(batch_size=batch_size), progress=False,
                        backend=backend)
    assert unheard_speech([(0.2, 19.8)], result.segments, 20.0) == []
    first, *gaps = pushed_clips
    assert len(first[0]) == 3  # the 15 s after the intro, in 5 s pieces
    assert len(gaps) == (1 if batch_size else 3)  # batched: the three gaps in one call
    assert sum(len(pieces) for pieces, _ in gaps) == 3
    assert [d.kind for d in result.doubts] == ["guessed"]


def test_batched_decoding_is_the_default_and_the_show_file_can_turn_it_off(project, tmp_path):
    from pipeline.build.project import Project
    from pipeline.stages.transcribe import transcribe_options

    assert TranscribeOptions().batch_size == 8
    silence = make_silence(tmp_path / "silence.mp3", seconds=1)
    project.add_episode("un", silence)
    project.add_episode("deux", silence)
    built = Project(project.show, project.episodes, project.work)
    assert transcribe_options(built.open_run("un")).batch_size == 8
    project.show.write_text(project.show.read_text(encoding="utf-8") + "batch_size = 0\n", encoding="utf-8")
    assert transcribe_options(built.open_run("deux")).batch_size == 0
    assert TranscribeOptions(batch_size=0).key()["batch_size"] == 0  # sequential: another cache


def test_a_segment_copying_the_hotwords_is_decoded_again_without_them(tmp_path):
    from types import SimpleNamespace

    def decoder_that_copies_its_prompt(source, options, clip=None, pushed=False):
        info = SimpleNamespace(duration=10.0)
        if clip is None:
            return iter([_decoded(0.0, 4.0, "Bonjour et bienvenue"),
                         _decoded(4.0, 10.0, "Imaginaires, ChatGPT, platformer")]), info
        return iter([_decoded(clip[0], clip[1], "le phénomène ChatGPT")]), info

    backend = Backend(decode=decoder_that_copies_its_prompt,
                      samples_of=lambda source: np.zeros(10 * 16000, dtype=np.float32),
                      speech_heard=lambda samples: [(0.0, 10.0)])
    result = transcribe(tmp_path / "episode.mp3", TranscribeOptions(vocabulary=("Imaginaires", "ChatGPT")),
                        progress=False, backend=backend)
    assert [s.text for s in result.segments] == ["Bonjour et bienvenue", "le phénomène ChatGPT"]
    assert result.segments[1].start == 4.0
    assert any("copied the hotwords out" in warning for warning in result.warnings)
    assert result.doubts == []


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [0, 8])
def test_a_pushed_decoding_writes_words_across_every_piece_of_speech(sample_clip, batch_size):
    options = TranscribeOptions(model="base", device="cpu", language="fr", batch_size=batch_size)
    segments, _ = decode(sample_clip, options, pieces((2.0, 26.0)), pushed=True)
    words = [w for s in segments for w in s.words]
    assert len(words) >= 25  # about 2 words a second of speech (batched, each 4 s piece alone: fewer)
    for start, end in zip(*[iter(pieces((2.0, 26.0)))] * 2):
        assert any(start - 0.5 <= w.start < end for w in words), f"no word in {start:.1f}-{end:.1f} s"
    texts = [s.text.strip() for s in segments]
    assert len(set(texts)) == len(texts)  # no sentence over and over


def test_the_key_asks_no_cuda_where_no_gpu_can_be():
    import os
    import subprocess
    import sys

    # As `publish status` does on a machine without a GPU: the key, with no CTranslate2 (nor CUDA) loaded.
    code = ("import sys; from pipeline.engines.transcribe import TranscribeOptions; "
            "assert TranscribeOptions().key()['device'] == ('cpu', 'int8'); "
            "assert 'ctranslate2' not in sys.modules and 'faster_whisper' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})


@pytest.mark.slow
def test_batched_decoding_writes_words_for_all_the_speech_of_a_real_clip(sample_clip):
    options = TranscribeOptions(model="base", device="cpu", language="fr", batch_size=8)
    result = transcribe(sample_clip, options, progress=False)
    words = result.words
    assert len(words) >= 50  # about 2 words a second over 30 s
    assert unheard_speech(speech_heard(sample_clip), result.segments, result.duration) == []
    assert all(0.0 <= w.start <= w.end <= result.duration + 0.5 for w in words)
