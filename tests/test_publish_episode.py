"""`publish episode` end to end on a real clip: mastered MP3, transcript, page, feed, cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from pipeline.cli import main
from pipeline.engines.mastering import measure_loudness
from tests.conftest import REPO, Project, make_project


@pytest.fixture(scope="module")
def published(tmp_path_factory, sample_clip):
    """The sample clip published once into a fresh project's site folder."""
    project = make_project(tmp_path_factory.mktemp("published"))
    project.add_episode("clip", sample_clip)
    code = main(["episode", "clip", "--show", str(project.show), "--episodes",
                 str(project.episodes), "--work", str(project.work)])
    assert code == 0
    return project


@pytest.mark.slow
def test_publish_writes_a_mastered_tagged_mp3(published):
    mp3 = published.site / "clip" / "clip.mp3"
    loudness, true_peak = measure_loudness(mp3)
    assert -17.0 <= loudness <= -15.0
    assert true_peak <= -1.5
    tags = ID3(mp3)
    assert tags["TIT2"].text[0] == "Ce que le règlement européen change pour l'IA"
    assert tags["TALB"].text[0] == "Imaginaires"
    assert tags["TRCK"].text[0] == "1"
    assert tags.getall("APIC")[0].data == (REPO / "feeds" / "artwork.jpg").read_bytes()
    assert 29 <= MP3(mp3).info.length <= 31


@pytest.mark.slow
def test_publish_writes_a_named_transcript(published):
    text = (published.site / "clip" / "transcript.txt").read_text(encoding="utf-8")
    paragraphs = text.strip().split("\n\n")
    assert paragraphs[0] == "Ce que le règlement européen change pour l'IA"
    assert paragraphs[1].startswith("Gérald\u00a0Holubowicz\u00a0: ")
    assert "bienvenue" in paragraphs[1].lower()
    assert "SPEAKER" not in text


@pytest.mark.slow
def test_publish_says_who_spoke_when_by_name(published):
    lines = (published.site / "clip" / "speakers.rttm").read_text(encoding="utf-8").splitlines()
    stretches = [(float(f[3]), float(f[3]) + float(f[4]), f[7].replace("_", " ")) for f in map(str.split, lines)]
    assert {name for _, _, name in stretches} == {"Gérald Holubowicz", "Claire Dumas"}
    assert all(0 <= start < end <= 31 for start, end, _ in stretches)
    assert all(a[1] <= b[0] for a, b in zip(stretches, stretches[1:]))  # in time order, one voice at a time
    # Every paragraph of the transcript is heard, under its own name.
    for turn in json.loads((published.site / "clip" / "transcript.json").read_text(encoding="utf-8"))["segments"]:
        assert any(name == turn["speaker"] and start < turn["endTime"] and end > turn["startTime"]
                   for start, end, name in stretches), turn


@pytest.mark.slow
def test_the_run_writes_down_what_it_doubted(published):
    review = json.loads((published.work / "clip" / "review.json").read_text(encoding="utf-8"))
    assert review["slug"] == "clip" and review["audio"] == "master.mp3"
    items = review["items"]
    assert [item["start"] for item in items] == sorted(item["start"] for item in items)
    assert all(set(item) - {"candidates"} == {"kind", "start", "end", "heard", "chose", "note"} for item in items)
    # A link not found comes with the likeliest spots to place it, for the review page.
    for spot in (spot for item in items for spot in item.get("candidates", [])):
        assert set(spot) == {"start", "end", "heard", "score"} and 0 <= spot["start"] < spot["end"] <= 31
    assert all(item["kind"] == "link-not-found" for item in items if "candidates" in item)
    assert all(0 <= item["start"] <= item["end"] <= 31 for item in items)
    # The clip's episode file lists links the clip never says: each is a doubt the producer sees.
    assert review["counts"].get("link-not-found", 0) == sum(item["kind"] == "link-not-found" for item in items) >= 1


@pytest.mark.slow
def test_feed_points_at_the_published_mp3(published):
    feed = ET.parse(published.site / "feed.xml").getroot()
    item = feed.find("channel/item")
    enclosure = item.find("enclosure")
    mp3 = published.site / "clip" / "clip.mp3"
    assert enclosure.get("url") == "https://imaginaires.example.org/clip/clip.mp3"
    assert int(enclosure.get("length")) == mp3.stat().st_size
    assert enclosure.get("type") == "audio/mpeg"
    assert item.findtext("title") == "Ce que le règlement européen change pour l'IA"


@pytest.mark.slow
def test_reruns_redo_only_what_changed(published, capsys):
    again = published.publish(capsys, "episode", "clip")
    assert again.code == 0
    assert "ran publish;" in again.out  # publishing compares with the destination; nothing else
    assert "0 file(s) changed" in again.out

    notes = published.episodes / "clip" / "notes.md"
    notes.write_text(notes.read_text(encoding="utf-8") + "\nUne ligne ajoutée.\n", encoding="utf-8")
    status = published.publish(capsys, "status", "clip")
    states = dict(line.split()[:2] for line in status.out.splitlines())
    assert states == {"audio": "done", "transcribe": "done", "diarize": "done",
                      "footnotes": "done", "render": "stale", "publish": "stale"}

    edited = published.publish(capsys, "episode", "clip")
    assert "ran render, publish;" in edited.out
    assert "Une ligne ajoutée." in (published.site / "catalogue.json").read_text(encoding="utf-8")


@pytest.mark.slow
def test_force_reruns_one_stage_and_what_its_output_changes(published, capsys):
    forced = published.publish(capsys, "episode", "clip", "--force", "footnotes")
    # Same transcript, same links: the footnotes come out the same, so nothing after re-renders.
    assert "ran footnotes, publish;" in forced.out


@pytest.mark.slow
def test_a_deleted_cached_file_is_made_again(published, capsys):
    (published.work / "clip" / "master.mp3").unlink()
    status = published.publish(capsys, "status", "clip")
    assert status.out.splitlines()[0].split()[:2] == ["audio", "missing"]
    again = published.publish(capsys, "episode", "clip")
    assert "ran audio, publish;" in again.out  # the same master again: nothing else changes


@pytest.mark.slow
def test_an_interrupted_run_resumes_after_its_last_finished_stage(project, sample_clip, capsys):
    project.add_episode("resume", sample_clip)
    first = project.publish(capsys, "episode", "resume", "--until", "transcribe")
    assert first.code == 0 and "ran audio, transcribe" in first.out
    assert not project.site.exists()  # stopped before publishing: nothing reached listeners
    resumed = project.publish(capsys, "episode", "resume")
    assert "ran diarize, footnotes, render, publish" in resumed.out


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "publish"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "episode" in result.stdout and "status" in result.stdout


@pytest.mark.slow
def test_status_compares_publishing_with_the_destination_asked(published, capsys, tmp_path):
    elsewhere = str(tmp_path / "elsewhere")
    assert published.publish(capsys, "episode", "clip", "--to", elsewhere).code == 0
    here = published.publish(capsys, "status", "clip", "--to", elsewhere).out.splitlines()
    default = published.publish(capsys, "status", "clip").out.splitlines()
    assert here[-1].split()[:2] == ["publish", "done"]
    assert default[-1].split()[:2] == ["publish", "stale"]


@pytest.mark.slow
def test_the_build_cache_moves_to_another_machine(published, capsys, tmp_path):
    """A CI job renders an episode, another publishes it: no key may hold the first's paths."""
    original = published.publish(capsys, "episode", "clip", "--until", "render")
    assert original.code == 0
    moved = Project(tmp_path / "elsewhere")
    shutil.copytree(published.root, moved.root, symlinks=True)
    status = moved.publish(capsys, "status", "clip").out.splitlines()
    states = dict(line.split()[:2] for line in status)
    assert [states[name] for name in ("audio", "transcribe", "diarize", "footnotes", "render")] == ["done"] * 5


@pytest.mark.slow
def test_several_episodes_are_processed_side_by_side_then_published_together(project, sample_clip, capsys):
    project.add_episode("un", sample_clip)
    project.add_episode("deux", sample_clip, '\n[[chapters]]\nstart = 0\ntitle = "Tout"\n')
    result = project.publish(capsys, "episode", "--all", "--jobs", "2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:2] == ["deux: ran audio, transcribe, diarize, footnotes, render",
                         "un: ran audio, transcribe, diarize, footnotes, render"]
    assert lines[2].startswith("2 episodes: ran publish; published to")
    assert set(json.loads((project.site / "catalogue.json").read_text(encoding="utf-8"))) == {"un", "deux"}
    assert (project.site / "pagefind" / "pagefind-entry.json").is_file()
