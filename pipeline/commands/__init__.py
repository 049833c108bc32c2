"""One module per CLI verb; each has add_arguments(parser) and run(args) -> exit status."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from werkzeug.serving import BaseWSGIServer

from pipeline.build.project import Project
from pipeline.errors import PipelineError


def add_show_argument(parser: argparse.ArgumentParser, why: str = "") -> None:
    parser.add_argument("--show", type=Path, default=Path("feeds/show.toml"),
                        help=f"the show file{why} (default: feeds/show.toml)")


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    add_show_argument(parser)
    parser.add_argument("--episodes", type=Path, default=Path("episodes"),
                        help="the folder holding one folder per episode (default: episodes)")
    parser.add_argument("--work", type=Path, default=Path("build"),
                        help="where stage artifacts are cached (default: build)")


def project_of(args: argparse.Namespace) -> Project:
    return Project(args.show, args.episodes, args.work)


def listen(open_server: Callable[[int], BaseWSGIServer], port: int) -> BaseWSGIServer:
    """A local server on `port`, or one clear error when it is taken."""
    try:
        return open_server(port)
    except OSError as error:
        raise PipelineError(f"port {port}", f"cannot listen there ({error.strerror}); try --port N") from None


def serve_until_interrupted(server: BaseWSGIServer) -> int:
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
