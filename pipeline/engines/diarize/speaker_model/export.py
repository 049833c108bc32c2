"""Export Resemblyzer's pretrained GE2E speaker encoder to ONNX, once, for the runtime.

    pip install -e '.[convert]' && python -m pipeline.engines.diarize.speaker_model.export

Reads `pretrained.pt` from the installed `resemblyzer` wheel, rebuilds its network in torch
(a 3-layer LSTM over 40 mel bands, a linear layer, ReLU, L2 normalisation), writes
`pipeline/engines/diarize/speaker_model/ge2e.onnx` and prints the file's SHA-256 to put in encoder.py. The
runtime never imports torch: it runs the file on onnxruntime.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np
import torch

from pipeline.engines.diarize.speaker_model.encoder import MODEL_FILE, WINDOW_FRAMES

OPSET = 17


class GE2E(torch.nn.Module):
    """Resemblyzer's VoiceEncoder network, without its audio front end."""

    def __init__(self, state: dict):
        super().__init__()
        self.lstm = torch.nn.LSTM(40, 256, num_layers=3, batch_first=True)
        self.linear = torch.nn.Linear(256, 256)
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        return torch.nn.functional.normalize(torch.relu(self.linear(hidden[-1])), dim=1)


def pretrained() -> GE2E:
    weights = importlib.metadata.distribution("resemblyzer").locate_file("resemblyzer/pretrained.pt")
    state = torch.load(Path(str(weights)), map_location="cpu", weights_only=True)["model_state"]
    return GE2E(state).eval()


def main() -> None:
    model = pretrained()
    example = torch.from_numpy(np.random.default_rng(0).random((2, WINDOW_FRAMES, 40), np.float32))
    torch.onnx.export(
        model, (example,), str(MODEL_FILE), input_names=["mels"], output_names=["vectors"],
        dynamic_axes={"mels": {0: "windows", 1: "frames"}, "vectors": {0: "windows"}},
        opset_version=OPSET, dynamo=False,
    )
    print(f"{MODEL_FILE}: {MODEL_FILE.stat().st_size} bytes, "
          f"sha256 {hashlib.sha256(MODEL_FILE.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
