"""`publish review SLUG`: render the episode (no publishing) and open its review page on
127.0.0.1, where the producer fixes by ear what the stages doubted (see pipeline/review/server.py)."""

from __future__ import annotations

import argparse
import webbrowser

from pipeline.commands import (
    add_project_arguments,
    listen,
    project_of,
    serve_until_interrupted,
)
from pipeline.review.server import ReviewSession, open_review_server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug", help="the episode's folder name under episodes/")
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the page's address, open no browser")
    add_project_arguments(parser)


def run(args: argparse.Namespace) -> int:
    session = ReviewSession(project_of(args), args.slug)
    session.render()
    server = listen(lambda port: open_review_server(session, port), args.port)
    address = f"http://127.0.0.1:{server.server_port}/?token={session.token}"
    print(f"review page for {args.slug}: {address}\n"
          f"fixes go to {session.fixes_file}; publish with `publish episode {args.slug}` (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        webbrowser.open(address)
    return serve_until_interrupted(server)
