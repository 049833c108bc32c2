"""The `publish` command line: each verb parses its arguments and calls the pipeline."""

from __future__ import annotations

import argparse
import logging
import sys

from .commands import episode, status
from .errors import PipelineError

VERBS = {
    "episode": (episode, "turn an episode's raw audio into a published page, transcript and feed"),
    "status": (status, "show which stages of an episode are done, stale or missing"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="publish", description=__doc__)
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for name, (module, help_text) in VERBS.items():
        module.add_arguments(verbs.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
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
