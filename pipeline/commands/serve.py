"""`publish serve [DEST]`: preview a published folder on http://localhost.

Python's http.server ignores Range requests, and a browser's audio player cannot seek in a file
served that way; werkzeug's file responses answer them with 206 Partial Content.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.utils import redirect, safe_join, send_from_directory
from werkzeug.wrappers import Request, Response

from pipeline.commands import add_show_argument, listen, serve_until_interrupted
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.rendering.layout import PAGE_FILE, content_type

DEFAULT_PORT = 8000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("destination", nargs="?", type=Path,
                        help="the published folder (default: the show file's destination)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the port on localhost (default: {DEFAULT_PORT})")
    add_show_argument(parser, ", for its destination")


def site_app(root: Path):
    """A WSGI app serving the files under root, with index.html for folders."""

    @Request.application
    def app(request: Request) -> Response:
        name = request.path.lstrip("/")
        if any(part.startswith(".") for part in name.split("/")):
            return Response("Not Found", status=404)  # dot files are the folder's own, never the site
        folder = safe_join(str(root), name)
        if folder is not None and not Path(folder).resolve().is_relative_to(root.resolve()):
            return Response("Not Found", status=404)  # a link out of the site is not the site
        if folder is not None and Path(folder).is_dir():
            if name and not name.endswith("/"):
                return redirect(request.path + "/")  # the page's relative links need the slash
            name += PAGE_FILE
        return send_from_directory(root, name, request.environ, mimetype=content_type(name))

    return app


def open_server(root: Path, port: int) -> BaseWSGIServer:
    return make_server("127.0.0.1", port, site_app(root), threaded=True)


def _site_folder(args: argparse.Namespace) -> Path:
    if args.destination is not None:
        folder = args.destination
    else:
        destination = load_show(args.show).destination
        if destination.startswith("s3://"):
            raise PipelineError(args.show, "the destination is a bucket; give a local folder: publish serve DIR")
        folder = Path(destination)
    if not folder.is_dir():
        raise PipelineError(folder, "no such folder; publish an episode there first: publish episode SLUG --to DIR")
    return folder


def run(args: argparse.Namespace) -> int:
    folder = _site_folder(args)
    server = listen(lambda port: open_server(folder.resolve(), port), args.port)
    print(f"serving {folder} on http://localhost:{server.server_port}/ (Ctrl-C to stop)", flush=True)
    return serve_until_interrupted(server)
