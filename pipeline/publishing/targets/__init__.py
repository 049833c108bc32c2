"""Where a site is published: one interface, a local folder or (see s3.py) a bucket.

Publishing plans first (`changed`: which files differ from the published copies), then applies
the plan in order (`put`, then `delete`). The publish stage orders it so that a listener's app
only ever sees a feed whose files are already in place.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from pipeline.errors import PipelineError
from pipeline.model import Show


class Target(Protocol):
    def read(self, name: str) -> bytes | None:
        """A published file's bytes, or None when it is not there."""

    def names(self, suffix: str = "") -> list[str]:
        """Published file names (relative to the site root) ending in `suffix`."""

    def changed(self, files: dict[str, Path]) -> list[str]:
        """The names among `files` (name -> local path) whose published copy is missing or differs."""

    def put(self, files: dict[str, Path]) -> None:
        """Publish these files in the given order, each replacing its published copy in one step.
        Stops at the first failure with a PipelineError naming the file: later files stay as they were."""

    def delete(self, names: list[str]) -> None:
        """Remove these published files."""

    def show_lock(self) -> AbstractContextManager[None]:
        """Held while the show's own files are read and rewritten: a lock file on a folder;
        nothing on a bucket, where `put_if_version` does the job."""

    def read_versioned(self, name: str) -> tuple[bytes | None, str | None]:
        """A published file's bytes and version (an ETag, a digest), or (None, None)."""

    def put_if_version(self, name: str, path: Path, version: str | None) -> str | None:
        """Publish the file only if its published version is still `version` (None: only if
        absent); its new version, or None when another publisher changed it first."""


def open_target(destination: str, show: Show) -> Target:
    """A folder path, or s3://bucket/prefix (the show file's s3_* keys say how to reach the bucket)."""
    if destination.startswith("s3://"):
        from pipeline.publishing.targets.s3 import S3Folder

        return S3Folder.from_url(destination, region=show.s3_region, endpoint_url=show.s3_endpoint_url)
    from pipeline.publishing.targets.local import LocalFolder

    return LocalFolder(Path(destination))


def checked_destination(destination: str, project: dict[str, Path]) -> str:
    """The destination, unless it is a folder that holds, or lies in, one of the project's own
    folders (what -> folder): publishing (and --prune) must never touch the producer's files."""
    if destination.startswith("s3://"):
        return destination
    site = Path(destination).resolve()
    for what, folder in project.items():
        folder = folder.resolve()
        if site == folder or site.is_relative_to(folder) or folder.is_relative_to(site):
            raise PipelineError(destination, f"this destination overlaps {what} ({folder}); publish to a "
                                "folder of its own, such as site/")
    return destination
