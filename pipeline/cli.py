"""The `publish` command line: each verb parses its arguments and calls the pipeline."""

from __future__ import annotations

import argparse
import logging
import sys

from pipeline.commands import cors, enroll_host, episode, feed, review, serve, status
from pipeline.errors import PipelineError

VERBS = {
    "cors": (cors, "let web players and apps read an S3 destination from other sites (CORS)"),
    "enroll-host": (enroll_host, "store the host's voiceprint so every episode names the host by voice"),
    "episode": (episode, "turn an episode's raw audio into a published page, transcript and feed"),
    "feed": (feed, "check the published feed against Apple's and Podcasting 2.0 rules"),
    "review": (review, "open a local page to fix, by ear, what recognition and diarization doubted"),
    "serve": (serve, "preview a published folder on localhost (with the range requests players need)"),
    "status": (status, "show which stages of an episode are done, stale or missing"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="publish", description=__doc__)
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for name, (module, help_text) in VERBS.items():
        module.add_arguments(verbs.add_parser(name, help=help_text, description=help_text))
    return parser


def _print_progress_to_stderr(quiet: bool) -> None:
    """Stage progress and warnings go to stderr (stdout keeps the one-line summary)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("publish")
    logger.handlers = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _print_progress_to_stderr(quiet=args.quiet)
    module, _ = VERBS[args.verb]
    try:
        return module.run(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: finished stages are kept; run the same command to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
