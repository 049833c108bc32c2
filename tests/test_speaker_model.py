"""The speaker encoder runs on onnxruntime: no torch, librosa or resemblyzer in the runtime.

Against the torch original (tests marked for the `[convert]` extra, skipped without it) the
ONNX path must give the same voice vectors on real recordings.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from pipeline.engines.diarize.speaker_model.encoder import (
    MODEL_FILE,
    MODEL_SHA256,
    GE2EEncoder,
    mel_filters,
)
from pipeline.errors import PipelineError
from tests.conftest import make_project, shared_file

HEAVY = {"torch", "librosa", "resemblyzer", "webrtcvad", "numba", "llvmlite"}
REAL_CLIPS = ["pyannote-sample.wav", "ami-tst00.wav", "tcof-3speakers.wav", "sppas-F_F_B003_P8.wav"]


def test_the_runtime_dependencies_hold_no_torch_nor_cuda():
    """The installed package's whole dependency closure, read from the installed metadata."""
    def name(requirement: str) -> str:
        return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")

    seen, todo = set(), ["podcast-publish"]
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        try:
            requires = importlib.metadata.requires(dist) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional platform dependency not installed here
        todo += [name(r) for r in requires if "extra ==" not in r]
    assert "faster-whisper" in seen and "onnxruntime" in seen
    assert not {d for d in seen if d in HEAVY or d.startswith(("nvidia-", "triton"))}


@pytest.mark.slow
def test_a_full_publish_never_imports_torch(tmp_path, sample_clip):
    project = make_project(tmp_path)
    project.add_episode("clip", sample_clip)
    script = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))))\n"
        "from pipeline.cli import main\n"
        f"sys.exit(main(['episode', 'clip', '--show', {str(project.show)!r}, '--episodes', "
        f"{str(project.episodes)!r}, '--work', {str(project.work)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (project.site / "clip" / "index.html").is_file()  # it did diarize and publish
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_model_file_is_checked_at_load(tmp_path):
    assert hashlib.sha256(MODEL_FILE.read_bytes()).hexdigest() == MODEL_SHA256
    damaged = tmp_path / "ge2e.onnx"
    damaged.write_bytes(MODEL_FILE.read_bytes()[:-10])
    with pytest.raises(PipelineError, match="damaged"):
        GE2EEncoder(damaged)
    with pytest.raises(PipelineError, match="missing"):
        GE2EEncoder(tmp_path / "absent.onnx")


def test_vectors_are_unit_length_and_tell_two_real_voices_apart():
    from pipeline.engines.diarize import (
        at_training_loudness,
        load_audio,
        speech_regions,
    )

    audio = load_audio(shared_file("real-speech/pyannote-sample.wav"))
    regions = speech_regions(audio)
    # 1.6 s windows of each speaker alone, by the reference timeline (10.6-14.7 s and 21.8-28.5 s).
    windows = [(1100, 1260), (1280, 1440), (2200, 2360), (2400, 2560)]
    vectors = GE2EEncoder().embed(at_training_loudness(audio, regions), windows)
    assert vectors.shape == (4, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    same = min(vectors[0] @ vectors[1], vectors[2] @ vectors[3])
    other = max(vectors[0] @ vectors[2], vectors[1] @ vectors[3])
    assert same > other + 0.1


def test_mel_filters_equal_librosas():
    librosa_filters = pytest.importorskip("librosa.filters", reason="needs the [convert] extra")
    assert np.abs(librosa_filters.mel(sr=16000, n_fft=400, n_mels=40) - mel_filters()).max() < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("clip", REAL_CLIPS)
def test_onnx_vectors_equal_the_torch_originals(clip):
    pytest.importorskip("torch", reason="needs the [convert] extra")
    try:
        importlib.metadata.distribution("resemblyzer")  # only its weights file is read
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("needs the [convert] extra")
    import torch

    from pipeline.engines.diarize import (
        at_training_loudness,
        embedding_windows,
        load_audio,
        speech_regions,
    )
    from pipeline.engines.diarize.speaker_model.encoder import (
        N_MELS,
        WINDOW_FRAMES,
        power_mel,
    )
    from pipeline.engines.diarize.speaker_model.export import pretrained

    audio = load_audio(shared_file(f"real-speech/{clip}"))
    regions = speech_regions(audio)
    audio = at_training_loudness(audio, regions)
    windows = embedding_windows(regions)
    mel = power_mel(audio)
    mels = np.stack([np.resize(mel[a:b], (WINDOW_FRAMES, N_MELS)) for a, b in windows])
    with torch.inference_mode():
        expected = pretrained()(torch.from_numpy(mels)).numpy()
    cosine = (GE2EEncoder().embed(audio, windows) * expected).sum(axis=1)
    assert cosine.min() >= 0.999
