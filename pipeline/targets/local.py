"""A local folder as the publish target (the default: `site/`)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from ..errors import PipelineError


class LocalFolder:
    def __init__(self, root: Path):
        self.root = root

    def _inside(self, name: str) -> Path:
        """The file's path, which must stay in the folder once links are followed: a link in the
        destination must not send the site (or the catalogue read) elsewhere on the machine."""
        path = self.root / name
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise PipelineError(path, f"leads out of {self.root} through a link; remove the link")
        return path

    def read(self, name: str) -> bytes | None:
        path = self._inside(name)
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
            target = self._inside(name)
            partial = target.with_name(target.name + ".partial")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                partial.unlink(missing_ok=True)  # a link left there must not be written through
                shutil.copyfile(source, partial)
                partial.replace(target)  # a reader sees the old file or the new one, never half
            except OSError as error:
                raise PipelineError(target, f"could not write it: {error.strerror}") from None

    def delete(self, names: list[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)
