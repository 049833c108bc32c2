"""A local folder as the publish target (the default: `site/`)."""

from __future__ import annotations

import fcntl
import filecmp
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.build.files import file_digest
from pipeline.errors import PipelineError

LEGACY_LOCK_FILE = ".publish.lock"  # where the lock was, inside the published folder


def lock_path(root: Path) -> Path:
    """The lock held while the show's own files are rewritten: outside the published folder (a
    web server serving the folder must not answer it), one per folder on this machine."""
    cache = Path(os.environ.get("PUBLISH_CACHE", Path.home() / ".cache" / "podcast-publish"))
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    return cache / "locks" / f"{key}.lock"


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
        # Dot files are the folder's own (the lock, another publisher's file in flight).
        return sorted(
            str(p.relative_to(self.root)) for p in self.root.rglob(f"*{suffix}")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
        )

    def changed(self, files: dict[str, Path]) -> list[str]:
        return [
            name for name, source in files.items()
            if not ((self.root / name).is_file() and filecmp.cmp(source, self.root / name, shallow=False))
        ]

    def put(self, files: dict[str, Path]) -> None:
        for name, source in files.items():
            target = self._inside(name)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                # A name of its own (two publishers may send the same file at once), created
                # new (a link left in the folder is never written through).
                handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
                os.close(handle)
                try:
                    shutil.copyfile(source, partial)
                    os.chmod(partial, 0o644)
                    os.replace(partial, target)  # a reader sees the old file or the new one, never half
                finally:
                    Path(partial).unlink(missing_ok=True)
            except OSError as error:
                raise PipelineError(target, f"could not write it: {error.strerror}") from None

    def delete(self, names: list[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)

    @contextmanager
    def show_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / LEGACY_LOCK_FILE).unlink(missing_ok=True)
        path = lock_path(self.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            lock = open(path, "a")  # noqa: SIM115 (closed below, after the unlink)
            fcntl.flock(lock, fcntl.LOCK_EX)  # another publisher finishes its show files first
            try:
                if os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            lock.close()  # the holder before removed this file: lock the one there now
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # removed while held: no lock files pile up
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def read_versioned(self, name: str) -> tuple[bytes | None, str | None]:
        data = self.read(name)
        return (data, file_digest(self.root / name)) if data is not None else (None, None)

    def put_if_version(self, name: str, path: Path, version: str | None) -> str | None:
        if self.read_versioned(name)[1] != version:
            return None
        self.put({name: path})
        return file_digest(path)
