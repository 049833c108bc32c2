"""Bad input: one line naming the file and what to do, exit status 1, nothing published."""

from __future__ import annotations

import fcntl
import json
import random
import re

import pytest

from tests.conftest import SAMPLE, make_silence


def assert_refused(result, project, names: str) -> None:
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.err
    assert result.err.rstrip().endswith(errors[0])
    assert re.search(names, errors[0]), errors[0]
    assert not project.site.exists()


def _missing(folder):
    (folder / "audio.mp3").unlink()


def _empty(folder):
    (folder / "audio.mp3").write_bytes(b"")


def _random_bytes(folder):
    # Fixed bytes: now and then urandom's happen to parse as a container with no audio stream.
    (folder / "audio.mp3").write_bytes(random.Random(0).randbytes(50_000))


def _text_named_wav(folder):
    (folder / "audio.wav").write_text("this is not audio\n" * 100)
    toml = folder / "episode.toml"
    toml.write_text(toml.read_text().replace('audio = "audio.mp3"', 'audio = "audio.wav"'))


def _truncated(folder):
    audio = folder / "audio.mp3"
    audio.write_bytes(audio.read_bytes()[: audio.stat().st_size // 2])


@pytest.mark.parametrize(
    "damage, names",
    [
        (_missing, r"episode\.toml: key 'audio': file .*audio\.mp3 not found"),
        (_empty, r"audio\.mp3: audio file is empty"),
        (_random_bytes, r"audio\.mp3: not a readable audio file"),
        (_text_named_wav, r"audio\.wav: not a readable audio file"),
        (_truncated, r"audio\.mp3: audio ends early"),
    ],
    ids=["missing", "empty", "random-bytes", "text-as-wav", "truncated"],
)
def test_bad_audio_is_refused(project, damage, names, capsys):
    folder = project.add_episode("bad", SAMPLE / "audio.mp3")
    damage(folder)
    assert_refused(project.publish(capsys, "episode", "bad"), project, names)


@pytest.mark.parametrize(
    "toml, names",
    [
        ("title = [unclosed", r"episode\.toml: malformed TOML"),
        ("number = 'one'", r"episode\.toml: key 'number'"),
        ("colour = 'blue'", r"episode\.toml: key 'colour': Extra inputs"),
    ],
    ids=["malformed", "wrong-type", "unknown-key"],
)
def test_bad_episode_file_is_refused(project, toml, names, capsys):
    folder = project.add_episode("bad", SAMPLE / "audio.mp3")
    path = folder / "episode.toml"
    kept = [line for line in path.read_text().splitlines() if not line.startswith(toml.split()[0] + " ")]
    path.write_text(toml + "\n" + "\n".join(kept) + "\n")
    assert_refused(project.publish(capsys, "episode", "bad"), project, names)


@pytest.mark.parametrize(
    "slug, names",
    [("nope", r"episodes/nope/episode\.toml: unknown episode 'nope'"),
     ("../feeds", r"\.\./feeds: not a valid episode slug"),
     ("a/b", r"a/b: not a valid episode slug")],
    ids=["unknown", "dot-dot", "slash"],
)
def test_bad_slug_is_refused(project, slug, names, capsys):
    assert_refused(project.publish(capsys, "episode", slug), project, names)


def test_publishing_all_episodes_of_an_empty_folder_is_refused(project, capsys):
    project.episodes.mkdir()
    assert_refused(project.publish(capsys, "episode", "--all"), project, r"episodes: no episode here")


def test_an_unknown_voice_label_is_refused_before_any_work(project, capsys):
    project.add_episode("bad", SAMPLE / "audio.mp3", '\n[speakers]\n"guest 2" = "Jane Doe"\n')
    result = project.publish(capsys, "episode", "bad")
    assert_refused(result, project, r"episode\.toml: key 'speakers': .*'guest 2' is not a voice label: use S1, S2")
    assert not (project.work / "bad").exists()


def test_bad_show_file_names_the_key(project, capsys):
    project.add_episode("ok", SAMPLE / "audio.mp3")
    project.show.write_text(project.show.read_text().replace('language = "fr"', 'language = "French"'))
    assert_refused(project.publish(capsys, "episode", "ok"), project, r"show\.toml: key 'language'")


def test_a_second_run_on_the_same_episode_is_refused(project, capsys):
    project.add_episode("busy", SAMPLE / "audio.mp3")
    lock_path = project.work / "busy" / ".lock"
    lock_path.parent.mkdir(parents=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running publish holds it
        result = project.publish(capsys, "episode", "busy")
    assert_refused(result, project, r"\.lock: another publish run is working on this episode")


@pytest.mark.slow
def test_silence_gives_no_words_and_a_warning(project, tmp_path, capsys):
    project.add_episode("quiet", make_silence(tmp_path / "silence.mp3", seconds=60))
    result = project.publish(capsys, "episode", "quiet", "--until", "transcribe")
    assert result.code == 0
    assert "no speech found; the transcript is empty" in result.err
    transcript = json.loads((project.work / "quiet" / "transcribe.json").read_text())
    assert transcript["segments"] == []
