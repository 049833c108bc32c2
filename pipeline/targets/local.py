"""A local folder as the publish target (the default: `site/`)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from ..errors import PipelineError


class LocalFolder:
    def __init__(self, root: Path):
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    def names(self, suffix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.rglob(f"*{suffix}") if p.is_file()
        )

    def changed(self, files: dict[str, Path]) -> list[str]:
        return [
            name for name, source in files.items()
            if not ((self.root / name).is_file() and filecmp.cmp(source, self.root / name, shallow=False))
        ]

    def put(self, files: dict[str, Path]) -> None:
        for name, source in files.items():
            target = self.root / name
            partial = target.with_name(target.name + ".partial")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, partial)
                partial.replace(target)  # a reader sees the old file or the new one, never half
            except OSError as error:
                raise PipelineError(target, f"could not write it: {error.strerror}") from None

    def delete(self, names: list[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)
