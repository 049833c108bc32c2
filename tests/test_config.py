"""The show and episode files as the pipeline reads them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import load_episode, load_show, parse_timestamp
from pipeline.errors import PipelineError
from tests.conftest import SAMPLE


def test_an_enrolled_voiceprint_beside_the_show_file_is_used(project):
    assert load_show(project.show).host_voiceprint is None
    np.save(project.show.parent / "host-voiceprint.npy", np.ones(256, dtype=np.float32))
    assert load_show(project.show).host_voiceprint == project.show.parent / "host-voiceprint.npy"


def test_the_glossary_beside_the_show_file_is_read(project):
    (project.show.parent / "glossary.toml").write_text('terms = ["Imaginaires", "Synth"]\n')
    assert load_show(project.show).glossary == ["Imaginaires", "Synth"]


def test_episode_links_and_chapters(project):
    project.add_episode("ep", SAMPLE / "audio.mp3", '\n[[chapters]]\nstart = "1:02:03.5"\ntitle = "Fin"\n')
    episode = load_episode(project.episodes, "ep")
    assert episode.links[0].phrases == ["Imaginaires"]
    assert episode.chapters[0].start == 3723.5
    assert episode.notes_markdown.startswith("Claire Dumas")


@pytest.mark.parametrize("text", ["1:2:3:4", "douze", "-5"])
def test_bad_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text if text != "-5" else -5.0)


def test_a_chapter_with_a_bad_time_names_the_key(project):
    project.add_episode("ep", SAMPLE / "audio.mp3", '\n[[chapters]]\nstart = "midi"\ntitle = "x"\n')
    with pytest.raises(PipelineError, match=r"episode\.toml: key 'chapters\[1\]\.start'"):
        load_episode(project.episodes, "ep")
