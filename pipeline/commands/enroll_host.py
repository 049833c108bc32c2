"""`publish enroll-host CLIP`: store the host's voiceprint, so episodes name the host by voice."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.commands import add_show_argument
from pipeline.config import VOICEPRINT_FILE, read_toml
from pipeline.engines.diarize.turns import voiceprint
from pipeline.errors import PipelineError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clip", type=Path, help="audio of the host speaking alone (30 s or more)")
    add_show_argument(parser, "; the voiceprint is saved beside it")


def run(args: argparse.Namespace) -> int:
    if not args.show.is_file():
        raise PipelineError(args.show, "show file not found; pass --show PATH/show.toml")
    target = args.show.parent / VOICEPRINT_FILE
    np.save(target, voiceprint(args.clip))
    chosen = read_toml(args.show).get("host_voiceprint")
    if chosen:
        print(f"Host voiceprint saved to {target}; {args.show} names another one "
              f"(host_voiceprint = {chosen!r}), which wins: remove that key to use this one")
    else:
        print(f"Host voiceprint saved to {target}: every episode now names the host by this voice")
    return 0
