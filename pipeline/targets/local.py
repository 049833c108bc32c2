"""A local folder as the publish target (the default: `site/`)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path


class LocalFolder:
    def __init__(self, root: Path):
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        return path.read_bytes() if path.is_file() else None

    def names(self, suffix: str) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.rglob(f"*{suffix}") if p.is_file()
        )

    def put(self, files: dict[str, Path]) -> list[str]:
        sent = []
        for name, source in sorted(files.items()):
            target = self.root / name
            if target.is_file() and filecmp.cmp(source, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)
            partial.replace(target)  # a reader sees the old file or the new one, never half
            sent.append(name)
        return sent

    def put_feed(self, name: str, data: bytes) -> None:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)
