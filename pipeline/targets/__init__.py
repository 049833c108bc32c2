"""Where a site is published: one interface, a local folder or (see s3.py) a bucket.

A target receives the episode's files first and the feed last: a listener's app only ever
sees a feed whose files are already in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..errors import PipelineError


class Target(Protocol):
    def read(self, name: str) -> bytes | None:
        """A published file's bytes, or None when it is not there."""

    def names(self, suffix: str) -> list[str]:
        """Published file names (relative to the site root) ending in `suffix`."""

    def put(self, files: dict[str, Path]) -> list[str]:
        """Publish these files (name -> local path), skipping unchanged ones; returns those sent."""

    def put_feed(self, name: str, data: bytes) -> None:
        """Replace the feed in one step, after everything it points at is in place."""


def open_target(destination: str) -> Target:
    if destination.startswith("s3://"):
        raise PipelineError(
            destination, "publishing to S3 is not available yet; publish to a folder with --to DIR"
        )
    from .local import LocalFolder

    return LocalFolder(Path(destination))
