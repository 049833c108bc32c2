"""The diarizer's models run on onnxruntime: no torch, librosa or resemblyzer in the runtime.
Each ONNX file is checked by SHA-256 at load and ships with its licence.

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


def at_training_loudness(audio: np.ndarray) -> np.ndarray:
    return audio * (10 ** (-30 / 20) / (np.sqrt(np.mean(audio**2)) + 1e-9))


def test_vectors_are_unit_length_and_tell_two_real_voices_apart():
    from pipeline.engines.diarize import load_audio

    audio = load_audio(shared_file("real-speech/pyannote-sample.wav"))
    # 1.6 s windows of each speaker alone, by the reference timeline (10.6-14.7 s and 21.8-28.5 s).
    windows = [(1100, 1260), (1280, 1440), (2200, 2360), (2400, 2560)]
    vectors = GE2EEncoder().embed(at_training_loudness(audio), windows)
    assert vectors.shape == (4, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    same = min(vectors[0] @ vectors[1], vectors[2] @ vectors[3])
    other = max(vectors[0] @ vectors[2], vectors[1] @ vectors[3])
    assert same > other + 0.1


@pytest.mark.parametrize("module", ["segmentation", "speaker_model.campplus"])
def test_the_pyannote_class_models_are_checked_at_load(tmp_path, module):
    import importlib

    loaded = importlib.import_module(f"pipeline.engines.diarize.{module}")
    assert hashlib.sha256(loaded.MODEL_FILE.read_bytes()).hexdigest() == loaded.MODEL_SHA256
    assert (loaded.MODEL_FILE.parent / ("LICENSE-pyannote-segmentation" if module == "segmentation"
                                        else "LICENSE-campplus")).is_file()
    model = loaded.Segmenter if module == "segmentation" else loaded.CamPlusPlus
    damaged = tmp_path / loaded.MODEL_FILE.name
    damaged.write_bytes(loaded.MODEL_FILE.read_bytes()[:-10])
    with pytest.raises(PipelineError, match="damaged"):
        model(model_file=damaged)
    with pytest.raises(PipelineError, match="missing"):
        model(model_file=tmp_path / "absent.onnx")


def test_campplus_gives_unit_vectors_that_tell_two_real_voices_apart():
    from pipeline.engines.diarize import load_audio
    from pipeline.engines.diarize.speaker_model import default_voice_encoder

    audio = load_audio(shared_file("real-speech/pyannote-sample.wav"))
    # 1.5 s of each speaker alone, by the reference timeline (10.6-14.7 s and 21.8-28.5 s).
    spans = [(int(a * 16000), int((a + 1.5) * 16000)) for a in (11.0, 12.8, 22.0, 24.0)]
    joined = default_voice_encoder(2, 0.25, True).embed(audio, spans)
    assert joined.shape == (4, 192 + 256)
    for part in (joined[:, :192], joined[:, 192:]):
        assert np.allclose(np.linalg.norm(part, axis=1), 1.0, atol=1e-4)
    cam = joined[:, :192]
    assert min(cam[0] @ cam[1], cam[2] @ cam[3]) > max(cam[0] @ cam[2], cam[1] @ cam[3]) + 0.1  # 0.62 against 0.48


def test_segmentation_hears_speech_and_silence():
    from pipeline.engines.diarize import load_audio
    from pipeline.engines.diarize.segmentation import CHUNK_FRAMES, default_segmenter

    audio = load_audio(shared_file("real-speech/pyannote-sample.wav"))[: 16000 * 20]
    silence = np.zeros(16000 * 10, np.float32)
    activity = default_segmenter().activity(np.concatenate([audio, silence]), np.array([0, 160_000, 320_000]))
    assert activity.shape == (3, CHUNK_FRAMES, 3)
    assert activity[1].any(axis=1).mean() > 0.5  # 10-20 s: people talk most of the time
    assert not activity[2].any()  # 20-30 s: nobody


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

    from pipeline.engines.diarize import load_audio
    from pipeline.engines.diarize.speaker_model.encoder import (
        N_MELS,
        WINDOW_FRAMES,
        power_mel,
    )
    from pipeline.engines.diarize.speaker_model.export import pretrained

    audio = at_training_loudness(load_audio(shared_file(f"real-speech/{clip}")))
    windows = [(a, a + WINDOW_FRAMES) for a in range(0, len(audio) // 160 - WINDOW_FRAMES, 75)]
    mel = power_mel(audio)
    mels = np.stack([np.resize(mel[a:b], (WINDOW_FRAMES, N_MELS)) for a, b in windows])
    with torch.inference_mode():
        expected = pretrained()(torch.from_numpy(mels)).numpy()
    cosine = (GE2EEncoder().embed(audio, windows) * expected).sum(axis=1)
    assert cosine.min() >= 0.999
