"""Digests and atomic writes: how the build cache and the publish targets tell files apart and
never leave one half-written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.model import to_data


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def data_digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(to_data(data), sort_keys=True).encode()).hexdigest()


def write_json_atomically(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(to_data(data), ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)
