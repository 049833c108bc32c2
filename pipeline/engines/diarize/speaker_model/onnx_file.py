"""Loading a bundled ONNX model: its bytes are checked against the exported file's SHA-256
first, since a damaged file would otherwise give silently wrong speakers."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.errors import PipelineError


def checked_session(path: Path, sha256: str, threads: int | None = None):
    """An onnxruntime session (CPU) on `path`, refused when missing or damaged."""
    import onnxruntime  # lazily: importing the engine stays cheap

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PipelineError(path, f"the speaker model is missing ({exc}); reinstall: pip install -e .") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PipelineError(path, "the speaker model is damaged (SHA-256 differs); reinstall: pip install -e .")
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its warnings about unused initialisers are not the user's
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
