"""Diarization on real audio: the real models (segmentation-3.0, CAM++, GE2E), real recordings.

Words are built from the references' turn timings (spread over each turn by length), so these
tests measure diarization and naming, not transcription.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.commands import enroll_host
from pipeline.engines.diarize import DiarizeOptions, SpeakerSegment, voiceprint_dimension
from pipeline.engines.diarize.turns import (
    diarize,
    load_voiceprint,
    settle_boundaries,
    speech_near_words,
    voiceprint,
)
from pipeline.errors import PipelineError
from pipeline.model import Dialogue, Segment, Transcript, Turn, Word, heard_spans, who_spoke_when
from tests.conftest import SHARED_DATA, shared_file

EPISODE = SHARED_DATA / "sample-episode"
HOST, GUEST = "Gérald Holubowicz", "Antonio Casilli"


def reference_words(ref_json: Path, offset: float = 0.0) -> list[Word]:
    """The reference turns' words, each given a share of its turn's time by its length."""
    words = []
    for turn in json.loads(ref_json.read_text())["turns"]:
        start, end = turn["start"] - offset, turn["end"] - offset
        if end <= 0:
            continue
        texts = turn["text"].split()
        weights = np.cumsum([0] + [len(t) + 1 for t in texts])
        times = start + (end - start) * weights / weights[-1]
        for text, a, b in zip(texts, times, times[1:]):
            if a >= 0:
                words.append(Word(text, float(a), float(b), speaker=turn["speaker"]))
    return words


def transcript_of(words: list[Word]) -> Transcript:
    stripped = [Word(w.text, w.start, w.end) for w in words]  # the stage must find speakers itself
    segment = Segment(
        stripped[0].start, stripped[-1].end, " ".join(w.text for w in words), stripped
    )
    return Transcript("fr", stripped[-1].end, [segment])


def der(reference_rttm: Path, segments, duration: float, collar: float) -> float:
    from pyannote.core import Annotation, Timeline
    from pyannote.core import Segment as Span
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for line in reference_rttm.read_text().splitlines():
        fields = line.split()
        reference[Span(float(fields[3]), float(fields[3]) + float(fields[4]))] = fields[7]
    for segment in segments:
        hypothesis[Span(segment.start, segment.end)] = segment.speaker
    uem = Timeline([Span(0, duration)])
    return DiarizationErrorRate(collar=collar)(reference, hypothesis, uem=uem)


def ffmpeg_cut(source: Path, start: float, duration: float, target: Path) -> Path:
    import imageio_ffmpeg

    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-ss",
            str(start),
            "-t",
            str(duration),
            "-i",
            str(source),
            "-ac",
            "1",
            "-ar",
            "16000",
            str(target),
        ],
        check=True,
    )
    return target


@pytest.fixture(scope="session")
def short_words() -> list[Word]:
    return reference_words(shared_file("sample-episode/short.ref.json"))


@pytest.fixture(scope="session")
def short_dialogue(short_words):
    return diarize(shared_file("sample-episode/short.mp3"), transcript_of(short_words), HOST, [GUEST])


@pytest.fixture(scope="session")
def guest_first(tmp_path_factory) -> tuple[Path, list[Word]]:
    """short.mp3 from the guest's first turn on: the intro heuristic would name him the host."""
    offset = 5.6
    clip = ffmpeg_cut(
        shared_file("sample-episode/short.mp3"), offset, 90, tmp_path_factory.mktemp("cut") / "guest-first.wav"
    )
    return clip, reference_words(EPISODE / "short.ref.json", offset)


@pytest.fixture(scope="session")
def host_voiceprint(tmp_path_factory) -> Path:
    """Enrolled from a host turn of the longer excerpt, not from the audio it is tested on."""
    clip = ffmpeg_cut(
        shared_file("sample-episode/excerpt.mp3"), 114.8, 14.2, tmp_path_factory.mktemp("vp") / "host.wav"
    )
    path = tmp_path_factory.mktemp("vp") / "host-voiceprint.npy"
    np.save(path, voiceprint(clip))
    return path


@pytest.mark.slow
def test_two_speakers_of_a_real_phone_call_are_told_apart():
    from pipeline.engines.diarize import diarize_audio, load_audio

    wav = shared_file("real-speech/pyannote-sample.wav")
    audio = load_audio(wav)
    result = diarize_audio(audio, 2)
    duration = len(audio) / 16000
    assert result.speakers == 2
    assert der(wav.with_suffix(".rttm"), result.segments, duration, collar=0.5) < 0.12
    assert der(wav.with_suffix(".rttm"), result.segments, duration, collar=0.0) < 0.30


@pytest.mark.slow
def test_every_word_is_named_and_the_host_is_the_intro_speaker(short_words, short_dialogue):
    said = [w for turn in short_dialogue.turns for w in turn.words]
    assert [w.text for w in said] == [w.text for w in short_words]  # no word lost, split or moved
    assert all(w.speaker in (HOST, GUEST) for w in said)
    assert all(w.speaker == turn.speaker for turn in short_dialogue.turns for w in turn.words)
    right = sum(got.speaker == expected.speaker for got, expected in zip(said, short_words))
    assert right / len(short_words) > 0.98
    assert short_dialogue.turns[0].speaker == HOST
    assert [t.speaker for t in short_dialogue.turns] == [HOST, GUEST] * 4
    assert 0.5 <= short_dialogue.confidence <= 1


@pytest.mark.slow
def test_every_turn_carries_a_confidence_and_clear_voices_are_not_doubted(short_dialogue):
    confidences = [turn.confidence for turn in short_dialogue.turns]
    assert all(c is not None and 0.0 <= c <= 1.0 for c in confidences)
    assert sorted(confidences)[len(confidences) // 2] > 0.6  # two distinct synthetic voices
    assert [d for d in short_dialogue.doubts if d.kind == "speaker"] == []


@pytest.mark.slow
def test_turns_alternate_and_end_on_sentence_ends(short_dialogue):
    turns = short_dialogue.turns
    assert all(a.speaker != b.speaker for a, b in itertools.pairwise(turns))
    assert all(turn.words[-1].text[-1] in ".?!" for turn in turns)


@pytest.mark.slow
def test_diarization_matches_the_synthetic_reference():
    from pipeline.engines.diarize import diarize_audio, load_audio

    mp3 = shared_file("sample-episode/short.mp3")
    audio = load_audio(mp3)
    result = diarize_audio(audio, 2)
    assert der(mp3.with_suffix(".rttm"), result.segments, len(audio) / 16000, collar=0.5) < 0.03


@pytest.mark.slow
def test_the_host_voiceprint_names_the_host_when_the_guest_speaks_first(
    guest_first, host_voiceprint
):
    clip, words = guest_first
    dialogue = diarize(clip, transcript_of(words), HOST, [GUEST], host_voiceprint=host_voiceprint)
    assert dialogue.turns[0].speaker == GUEST
    said = [w for turn in dialogue.turns for w in turn.words]
    right = sum(got.speaker == expected.speaker for got, expected in zip(said, words))
    assert right / len(words) > 0.98
    assert dialogue.confidence >= 0.5 and not dialogue.warnings


@pytest.mark.slow
def test_the_episode_mapping_overrides_the_intro_heuristic(guest_first):
    clip, words = guest_first
    dialogue = diarize(clip, transcript_of(words), HOST, [GUEST], mapping={"S1": GUEST})
    assert [t.speaker for t in dialogue.turns[:2]] == [GUEST, HOST]


@pytest.mark.slow
def test_a_person_named_but_never_heard_splits_no_real_voice(short_words):
    """short.mp3 holds two voices; the episode file names a second guest who never speaks."""
    second = "Jane Doe"
    mp3 = shared_file("sample-episode/short.mp3")
    dialogue = diarize(mp3, transcript_of(short_words), HOST, [GUEST, second])
    said = [w for turn in dialogue.turns for w in turn.words]
    right = sum(got.speaker == expected.speaker for got, expected in zip(said, short_words))
    assert right / len(short_words) > 0.95
    assert any(second in warning and "review page" in warning for warning in dialogue.warnings)
    asked_for_three = diarize(mp3, transcript_of(short_words), HOST, [GUEST, second],
                              options=DiarizeOptions(split_voice_share=1.01))  # never one voice fewer
    assert sum(w.speaker == second for turn in asked_for_three.turns for w in turn.words) > 0.1 * len(short_words)


@pytest.mark.slow
def test_a_third_voice_heard_for_half_a_minute_is_kept():
    """short.mp3's two voices, then 33 s of another person (SPPAS, a French recording)."""
    from pipeline.engines.diarize import diarize_audio, load_audio

    two = load_audio(shared_file("sample-episode/short.mp3"))
    third = load_audio(shared_file("real-speech/sppas-F_F_C006_P6.wav"))
    result = diarize_audio(np.concatenate([two, third]), 3)
    assert result.speakers == 3
    after = len(two) / 16000
    heard_after = [s for s in result.segments if s.start >= after - 0.5]
    spoken = sum(s.end - s.start for s in heard_after)
    by_third = sum(s.end - s.start for s in heard_after if s.speaker == 2)
    assert spoken > 15 and by_third / spoken > 0.9
    assert all(s.speaker != 2 for s in result.segments if s.end <= after)


def test_two_voices_sharing_the_tracks_of_one_local_speaker_are_one_voice_split():
    from pipeline.engines.diarize.clustering import most_shared_tracks
    from pipeline.engines.diarize.segmentation import FRAME_S, Piece

    second = round(1 / FRAME_S)
    pieces = [Piece(0, 0, 0, second), Piece(0, 0, second, 2 * second),  # one track, voices 0 and 1
              Piece(0, 1, 0, 2 * second), Piece(1, 0, 0, 2 * second)]  # voice 2 alone, voice 0 alone
    assert most_shared_tracks(pieces, np.array([0, 1, 2, 0])) == pytest.approx(2 / 4, abs=0.01)
    assert most_shared_tracks(pieces, np.array([0, 0, 1, 0])) == 0.0  # each track one voice
    assert most_shared_tracks(pieces[:2], np.array([0, 1])) == pytest.approx(1.0)


def test_a_turn_spans_the_speech_heard_around_its_words_but_not_its_silent_pauses():
    host = [Word("Bonjour", 1.0, 1.6), Word("à", 1.7, 2.0), Word("tous.", 3.0, 4.1)]
    guest = [Word("Merci.", 6.0, 6.5)]
    # The voice begins before the first word is timed; the last word runs on after the voice
    # ends (3.9 s); a silent pause from 2.2 to 2.8 s; a breath between the turns, apart from
    # both; the guest's voice from 5.2 s, nearer the host's last word than halfway.
    heard = [(0.7, 2.2), (2.8, 3.9), (4.2, 4.4), (5.2, 6.9)]
    dialogue = Dialogue([Turn(HOST, host), Turn(GUEST, guest)], speech=heard)
    assert heard_spans(dialogue) == [[(0.7, 2.2), (2.8, 3.9)], [(5.2, 6.9)]]
    assert who_spoke_when(dialogue)[-1] == (5.2, 6.9, GUEST)
    halfway = Dialogue([Turn(HOST, host), Turn(GUEST, guest)], speech=[(0.7, 6.9)])
    assert heard_spans(halfway) == [[(0.7, 5.05)], [(5.05, 6.9)]]  # one unbroken voice: split halfway
    unheard = Dialogue([Turn(HOST, host), Turn(GUEST, guest)], speech=[(0.7, 2.2)])
    assert heard_spans(unheard) == [[(0.7, 2.2), (3.0, 4.1)], [(6.0, 6.5)]]  # words heard in no voice: as timed
    assert heard_spans(Dialogue([Turn(HOST, host)])) == [[(1.0, 4.1)]]  # not diarized: its words' span


def test_speech_far_from_every_word_is_no_turns():
    segments = [SpeakerSegment(0.0, 2.0, 0), SpeakerSegment(2.0, 3.5, 1), SpeakerSegment(10.0, 12.0, 0)]
    words = [Word("oui", 1.5, 1.8), Word("non", 2.9, 3.0)]
    assert speech_near_words(segments, words, reach_s=1.0) == [(0.5, 3.5)]
    assert speech_near_words(segments, words, reach_s=8.0) == [(0.0, 3.5), (10.0, 11.0)]


def heard_in(words: list[Word], speakers: list[int]) -> list[SpeakerSegment]:
    """Each word's segment, as the diarizer would give it: one per run of a speaker's words."""
    runs = [list(run) for _, run in itertools.groupby(range(len(words)), key=lambda i: speakers[i])]
    segments = {i: SpeakerSegment(words[run[0]].start, words[run[-1]].end, speakers[run[0]]) for run in runs for i in run}
    return [segments[i] for i in range(len(words))]


def test_a_boundary_word_moves_to_the_side_of_the_sentence_end():
    texts = ["Merci", "beaucoup.", "Alors", "je", "pense", "que", "oui."]
    words = [Word(t, i * 0.5, i * 0.5 + 0.4) for i, t in enumerate(texts)]
    words[2].start += 0.3  # the pause after "beaucoup."
    assert settle_boundaries(words, heard_in(words, [0, 0, 0, 1, 1, 1, 1])) == [0, 0, 1, 1, 1, 1, 1]
    assert settle_boundaries(words, heard_in(words, [0, 1, 1, 1, 1, 1, 1])) == [0, 0, 1, 1, 1, 1, 1]


def test_a_word_heard_clearly_away_from_the_change_of_voice_stays_with_its_voice():
    texts = ["Merci", "beaucoup.", "Alors", "je", "pense", "que", "oui."]
    words = [Word(t, i * 0.5, i * 0.5 + 0.4) for i, t in enumerate(texts)]
    words[2].start += 0.3
    # The voices change at 2.45 s, before "que": "Alors" (1.35 s) is too far from it to follow
    # the sentence end, though it is within max_boundary_shift words.
    speakers = [0, 0, 0, 0, 0, 1, 1]
    assert settle_boundaries(words, heard_in(words, speakers)) == speakers
    everywhere = DiarizeOptions(boundary_reach_s=10.0)
    assert settle_boundaries(words, heard_in(words, speakers), everywhere) == [0, 0, 1, 1, 1, 1, 1]


def test_no_turn_starts_in_the_middle_of_a_word():
    texts = ["J", "'ai", "jamais", "réussi", "est", "-ce", "que"]
    words = [Word(t, i * 0.5, i * 0.5 + 0.4) for i, t in enumerate(texts)]
    speakers = settle_boundaries(words, heard_in(words, [0, 1, 1, 1, 0, 1, 1]))
    assert speakers[1] == speakers[0] and speakers[5] == speakers[4]  # "J'ai", "est-ce" stay whole


@pytest.mark.slow
def test_enroll_host_stores_the_voiceprint_beside_the_show_file(tmp_path, capsys):
    clip = ffmpeg_cut(shared_file("sample-episode/short.mp3"), 0.5, 5.0, tmp_path / "too-short.wav")
    show = tmp_path / "show.toml"
    show.write_text('title = "x"\n')
    parser = argparse.ArgumentParser()
    enroll_host.add_arguments(parser)
    with pytest.raises(PipelineError, match="s of speech"):
        enroll_host.run(parser.parse_args([str(clip), "--show", str(show)]))
    clip = ffmpeg_cut(shared_file("sample-episode/short.mp3"), 40.5, 11.5, tmp_path / "host.wav")
    assert enroll_host.run(parser.parse_args([str(clip), "--show", str(show)])) == 0
    stored = np.load(tmp_path / "host-voiceprint.npy")
    assert stored.shape == (voiceprint_dimension(),) and np.isfinite(stored).all()
    assert 0.7 < np.linalg.norm(stored[:192]) <= 1.0 + 1e-5  # the mean of one voice's unit CAM++ vectors
    assert str(tmp_path / "host-voiceprint.npy") in capsys.readouterr().out


@pytest.mark.slow
def test_who_spoke_when_follows_the_voices_of_a_real_call_closer_than_the_words_do():
    """pyannote's phone call transcribed by the base model: recognition times words from where it
    is sure of them, so turns spanning their words miss the voices' edges and span the pauses."""
    from types import SimpleNamespace

    from pipeline.engines.transcribe import TranscribeOptions, transcribe

    wav = shared_file("real-speech/pyannote-sample.wav")
    heard = transcribe(wav, TranscribeOptions(model="base", device="cpu", language="en"), progress=False)
    dialogue = diarize(wav, heard, "A", ["B"])
    stretches = [SimpleNamespace(start=start, end=end, speaker=name) for start, end, name in who_spoke_when(dialogue)]
    turns = [SimpleNamespace(start=t.start, end=t.end, speaker=t.speaker) for t in dialogue.turns]
    rttm = wav.with_suffix(".rttm")
    assert der(rttm, stretches, 30.0, collar=0.5) < 0.06  # 3.1 % measured; the turns' spans 7.7 %
    assert der(rttm, stretches, 30.0, collar=0.5) < der(rttm, turns, 30.0, collar=0.5)
    assert der(rttm, stretches, 30.0, collar=0.0) < der(rttm, turns, 30.0, collar=0.0)  # 18.7 and 24.7 %


@pytest.mark.slow
def test_a_real_two_voice_clip_gives_an_exclusive_timeline_with_margins():
    """pyannote's 30 s phone call: two people, 8 kHz, a timed human reference."""
    from pipeline.engines.diarize import diarize_audio, load_audio, voice_vector

    wav = shared_file("real-speech/pyannote-sample.wav")
    audio = load_audio(wav)
    result = diarize_audio(audio, 2)
    segments = result.segments
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(segments))  # sorted, one voice at a time
    assert all(0 <= s.start < s.end <= 30.0 + 1e-6 and 0.0 <= s.confidence <= 1.0 for s in segments)
    assert list(dict.fromkeys(s.speaker for s in segments)) == [0, 1]  # numbered by first appearance
    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-4)
    assert result.separation > 0.5
    assert der(wav.with_suffix(".rttm"), segments, 30.0, collar=0.5) < 0.05  # 1.1-2.9 % measured
    assert der(wav.with_suffix(".rttm"), segments, 30.0, collar=0.0) < 0.20  # 15.9 % measured
    first = np.concatenate([audio[int(s.start * 16000) : int(s.end * 16000)] for s in segments if s.speaker == 0])
    voice, seconds = voice_vector(first)
    similarity = result.similarity(voice)
    assert seconds > 3.0 and similarity[0] > similarity[1] + 0.1


def test_silence_gives_no_speakers():
    from pipeline.engines.diarize import diarize_audio

    assert diarize_audio(np.zeros(16000 * 15, np.float32), 2).segments == []


def test_every_tuning_number_is_in_the_cache_key():
    from pipeline.stages.diarize import OPTIONS

    key = DiarizeOptions().key()
    assert key == OPTIONS.key() and "step_s" in key and "ge2e_weight" in key and "threads" not in key
    assert DiarizeOptions(step_s=5.0).key() != key


def test_an_old_voiceprint_is_refused_with_how_to_enroll_again(tmp_path):
    old = tmp_path / "host-voiceprint.npy"
    np.save(old, np.full(256, 1 / 16, np.float32))  # a GE2E voiceprint, from before issue 22
    with pytest.raises(PipelineError) as refused:
        load_voiceprint(old)
    message = str(refused.value)
    assert "publish enroll-host CLIP" in message and "older speaker model" in message and "\n" not in message


def test_the_host_is_the_first_voice_to_hold_the_floor_not_a_greeting():
    from pipeline.engines.diarize import Diarization, SpeakerSegment
    from pipeline.engines.diarize.turns import name_speakers

    def host_of(*segments: tuple[float, float, int]) -> str:
        diarization = Diarization([SpeakerSegment(a, b, s, 0.9) for a, b, s in segments],
                                  np.eye(2), np.zeros(2), 0.9)
        names, _, _ = name_speakers(diarization, HOST, [GUEST], None, {})
        return names[0]

    # A phone call: one "hello" each, then the caller's first sentence.
    assert host_of((6.7, 7.1, 0), (7.5, 8.3, 1), (8.3, 14.3, 0)) == HOST
    assert host_of((6.7, 7.1, 0), (7.5, 11.0, 1), (11.2, 15.0, 0)) == GUEST  # S2 opens
    assert host_of((0.0, 0.5, 0), (0.6, 1.0, 1)) == HOST  # nobody holds the floor: who speaks first


def test_a_click_alone_between_pauses_is_no_turn():
    from pipeline.engines.diarize.timeline import smooth

    silence, click, speech = [-1] * 20, [1] * 3, [0] * 40
    path = smooth(np.array(silence + click + silence + speech + [1] * 3 + speech), max_gap=5, min_turn=10)
    assert path[:43].tolist() == [-1] * 43  # dropped: it would have been heard first
    assert set(path[43:].tolist()) == {0}  # a short turn after speech goes to the speaker before


def test_a_labelling_whose_pieces_barely_choose_does_not_stand_apart():
    from pipeline.engines.diarize.clustering import standing_apart

    joined, campplus_alone = standing_apart(0.086, 1.0), standing_apart(0.089, 0.213)
    assert joined > campplus_alone  # the same silhouette, but pieces that barely chose
    assert standing_apart(0.312, 1.0) > standing_apart(0.27, 1.0)  # clean pieces: the silhouette decides
    assert standing_apart(0.05, 0.3) > standing_apart(-1.0, 1.0)  # one cluster only stands apart least


def test_two_alike_voices_are_found_along_the_direction_that_changes_only_at_turns():
    """Turns of two voices whose difference is small beside what changes every piece (the
    words): k-means on the vectors splits by words, the slowest direction by voice."""
    from sklearn.cluster import KMeans

    from pipeline.engines.diarize.clustering import slow_labels

    rng = np.random.default_rng(3)
    turns = np.repeat(np.arange(12) % 2, 25)  # 12 turns of 25 pieces, voices alternating
    voice = np.zeros((len(turns), 64))
    voice[:, 0] = np.where(turns == 1, 0.5, -0.5)
    words = rng.normal(size=(len(turns), 64)) * np.r_[0.2, np.full(8, 1.0), np.full(55, 0.1)]  # fast, and larger
    vectors = (voice + words).astype(np.float32)
    times = np.arange(len(turns)) * 1.5

    def agreement(labels: np.ndarray) -> float:
        return max((labels == turns).mean(), (labels != turns).mean())

    assert agreement(KMeans(2, n_init=10, random_state=0).fit_predict(vectors)) < 0.75
    assert agreement(slow_labels(vectors, times, 2, DiarizeOptions())) > 0.95
    shuffled = np.random.default_rng(4).permutation(len(turns))  # pieces in any order: their times count
    assert agreement(slow_labels(vectors[shuffled], times[shuffled], 2, DiarizeOptions())[np.argsort(shuffled)]) > 0.95
    assert agreement(slow_labels(vectors, times[shuffled], 2, DiarizeOptions())) < 0.75  # without turns, no voice


def test_pieces_a_clustering_got_wrong_are_relabelled_by_what_the_others_teach():
    from pipeline.engines.diarize.clustering import relabelled

    rng = np.random.default_rng(5)
    voices = np.repeat([0, 1], 150)
    vectors = rng.normal(size=(300, 8)) * 0.3  # voice vectors vary along few directions
    vectors[:, 0] += np.where(voices == 1, 1.0, -1.0)  # what tells the voices apart, on one direction
    labels = voices.copy()
    wrong = rng.choice(300, 15, replace=False)  # 5 % of the pieces under the other voice
    labels[wrong] = 1 - labels[wrong]
    fixed = relabelled(vectors.astype(np.float32), labels, DiarizeOptions())
    assert (fixed != voices).sum() <= 3  # the 15 put right, hardly a right one broken
    few = relabelled(vectors[:12].astype(np.float32), labels[:12], DiarizeOptions())
    assert (few == labels[:12]).all()  # too few pieces of a voice to learn from: kept as they are


def _two_voices_in_turns(rng: np.random.Generator, turns: int = 12, pieces_per_turn: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(vectors of pieces, voice per piece): two voices alternating turns, each piece also saying words."""
    voices = np.repeat(np.arange(turns) % 2, pieces_per_turn)
    vectors = rng.normal(size=(len(voices), 64)) * 0.15
    vectors[:, 0] += np.where(voices == 1, 0.5, -0.5)
    return vectors, voices


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_part_made_elsewhere_is_found_and_voices_that_are_only_its_rooms_are_told():
    from pipeline.engines.diarize.rooms import room_part, rooms_taken_for_voices

    vectors, voices = _two_voices_in_turns(np.random.default_rng(6))
    seconds, starts = np.full(len(vectors), 1.5), np.arange(len(vectors)) * 1.5
    moved = vectors.copy()
    moved[100:200, 1] += 0.9  # pieces 100-199, both voices, through another microphone
    first, last = room_part(_unit(moved), starts, seconds, DiarizeOptions())
    assert abs(first - 100) <= 3 and abs(last - 200) <= 3
    inside = np.zeros(len(vectors), bool)
    inside[first:last] = True
    assert rooms_taken_for_voices(inside.astype(int), inside, seconds, DiarizeOptions())
    assert not rooms_taken_for_voices(voices, inside, seconds, DiarizeOptions())
    assert not rooms_taken_for_voices(np.zeros(len(vectors), int), inside, seconds, DiarizeOptions())  # one voice
    overlapping = np.arange(len(vectors)) * 0.3  # 90 s of windows seen four times: under a minute a side
    assert room_part(_unit(moved), overlapping, seconds, DiarizeOptions()) is None


@pytest.fixture(scope="session")
def excerpt_in_two_rooms(tmp_path_factory) -> tuple[np.ndarray, Path]:
    """The excerpt's first 5 minutes (each room holds the 60 s and more that a room change
    needs) with the second half as if recorded another day: a thinner microphone (a
    first-order high-pass), louder, and a fan 20 dB under the speech."""
    from scipy.signal import lfilter

    from pipeline.engines.diarize import load_audio

    mp3 = shared_file("sample-episode/excerpt.mp3")
    audio = load_audio(mp3).astype(np.float64)[: 300 * 16000]
    half = len(audio) // 2
    fan = lfilter([1], [1, -0.98], np.random.default_rng(0).standard_normal(len(audio) - half))
    fan *= np.sqrt(np.mean(audio[half:] ** 2) / np.mean(fan**2)) / 10
    audio[half:] = lfilter([1, -0.97], [1], audio[half:]) * 1.5 + fan
    return (audio / (np.abs(audio).max() * 1.05)).astype(np.float32), mp3.with_suffix(".rttm")


@pytest.mark.slow
def test_two_sessions_in_two_rooms_are_not_taken_for_two_voices(excerpt_in_two_rooms):
    from pipeline.engines.diarize import diarize_audio

    audio, rttm = excerpt_in_two_rooms
    seconds = len(audio) / 16000
    assert der(rttm, diarize_audio(audio, 2).segments, seconds, collar=0.5) < 0.03
    rooms_taken_for_voices = diarize_audio(audio, 2, DiarizeOptions(room_agreement=2.0))  # never levelled
    assert der(rttm, rooms_taken_for_voices.segments, seconds, collar=0.5) > 0.2
