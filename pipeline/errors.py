"""The one error type a producer sees: it names the file at fault and what to do."""

from pathlib import Path


class PipelineError(Exception):
    """A user-facing failure, printed as one line by the CLI."""

    def __init__(self, where: Path | str | None, message: str):
        self.where = str(where) if where is not None else None
        self.message = message
        super().__init__(f"{self.where}: {message}" if self.where else message)
