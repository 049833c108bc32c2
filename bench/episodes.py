"""The benches' synthetic episodes, voiced again from the same recipes on any machine.

    .venv/bin/python bench/episodes.py OUT [--set NAME]...

Each named set is a list of episodes, each one `../shared/tools/synth_episode.py OUT/NAME --seed N`
with its recipe: drawn whole from the seed, with its links shuffled, with its links sorted by
title (an alphabetical list), or the hardest pair the generator offers (a Belgian-French host
against a male variant of the French voice, pink noise at 28 dB SNR and a jingle; speeds and
pitches drawn from the seed), each optionally with a part of it as if recorded in another room
(the second half, or the middle third), or with two guests one after the other (three voices
drawn from the seed; the part with the second guest 1.5 to 4 minutes long). The seed fixes the
sentences, voices, timings and conditions; sox draws the noise itself anew, so two voicings
differ slightly, as do first passes on two machines. Sets ending in "-tuning" are what settings
were chosen on; those ending in "-held-out" were never used to choose anything, and stay so
only while nobody tunes on them.
An episode already voiced is kept. Prints, per set, the `--episode` arguments its bench takes
(bench/footnotes.py: the folder; bench/diarize.py: SET=folder). Needs espeak-ng and sox
(Debian packages); ffmpeg is the project's own (imageio-ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SYNTH = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "synth_episode.py"
HOST = "Gérald Holubowicz"  # the generator's host, in its references
# The generator's French voices that an episode with two guests draws from (its own draw leaves
# the third out).
TWO_GUEST_VOICES = ("fr", "fr-be", "fr-ch", "fr+m1", "fr+m2", "fr+m3", "fr+m4", "fr+m5", "fr+m7",
                    "fr+f1", "fr+f2", "fr+f3", "fr+f4", "fr+f5")


@dataclass(frozen=True)
class Recipe:
    """One episode: its seed and how it is voiced."""

    name: str
    seed: int
    kind: str = "drawn"  # drawn | shuffled | alphabetical | hard-pair | two-guests
    elsewhere: tuple[float, float] | None = None  # the part (fractions of it) recorded in another room

    def arguments(self) -> list[str]:
        if self.kind == "shuffled":
            return ["--shuffle-links"]
        if self.kind == "hard-pair":
            draw = random.Random(self.seed)
            return ["--host", f"fr-be:{draw.randint(150, 180)}:{draw.randint(20, 60)}",
                    "--guest", f"fr+m3:{draw.randint(150, 180)}:{draw.randint(20, 60)}",
                    "--noise", "pink", "--snr", "28", "--jingle"]
        return []


def _drawn(prefix: str, seeds: range, kind: str = "drawn") -> list[Recipe]:
    return [Recipe(f"{prefix}{seed}", seed, kind) for seed in seeds]


def _room_changed(hard_pair: tuple[int, ...], drawn: tuple[int, ...], elsewhere: tuple[float, float] = (0.5, 1.0),
                  suffix: str = "room") -> list[Recipe]:
    return [*(Recipe(f"h{seed}-{suffix}", seed, "hard-pair", elsewhere) for seed in hard_pair),
            *(Recipe(f"r{seed}-{suffix}", seed, elsewhere=elsewhere) for seed in drawn)]


SETS = {
    "footnotes-tuning": [Recipe("r661", 661), Recipe("r662", 662, "shuffled")],
    "footnotes-held-out": [
        Recipe("r701", 701), Recipe("r702", 702, "shuffled"), Recipe("r703", 703, "alphabetical"),
        Recipe("r641", 641), Recipe("r642", 642, "shuffled"), Recipe("r811", 811),
        *_drawn("r", range(651, 654), "shuffled"),
    ],
    "diarize-tuning": [*_drawn("h", range(901, 909), "hard-pair"), *_drawn("r", range(931, 937))],
    "diarize-held-out": [*_drawn("h", range(921, 929), "hard-pair"), *_drawn("r", range(941, 947))],
    "diarize-two-guests-tuning": [*_drawn("g", range(951, 963), "two-guests"),
                                  *_drawn("g", range(981, 985), "two-guests")],
    "diarize-two-guests-held-out": _drawn("g", range(985, 993), "two-guests"),
    "diarize-room-change-tuning": _room_changed(hard_pair=(901, 905), drawn=(931, 934)),
    "diarize-room-change-held-out": _room_changed(hard_pair=(921, 926), drawn=(941, 944)),
    "diarize-room-middle-tuning": _room_changed(hard_pair=(901, 905), drawn=(931, 934), elsewhere=(1 / 3, 2 / 3),
                                                suffix="middle"),
    "diarize-room-middle-held-out": _room_changed(hard_pair=(921, 926), drawn=(941, 944), elsewhere=(1 / 3, 2 / 3),
                                                  suffix="middle"),
}


def sort_links_by_title(toml_file: Path) -> None:
    """Rewrite the episode file with its [[links]] sorted by title, as an alphabetical list."""
    head, *blocks = toml_file.read_text(encoding="utf-8").split("\n[[links]]\n")

    def title(block: str) -> str:
        found = re.search(r'^title = "(.*)"', block, re.M)
        return found.group(1).casefold() if found else ""

    blocks = [block.rstrip("\n") + "\n" for block in sorted(blocks, key=title)]
    toml_file.write_text("\n[[links]]\n".join([head, *blocks]), encoding="utf-8")


def _synth(folder: Path, arguments: list[str], ffmpeg_dir: Path) -> None:
    env = {**os.environ, "PATH": f"{ffmpeg_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, str(SYNTH), str(folder), *arguments], env=env, capture_output=True, text=True)
    if done.returncode:
        last_line = (done.stderr.strip().splitlines() or ["no message"])[-1]
        sys.exit(f"{SYNTH}: {folder.name} failed: {last_line}")


def voice(recipe: Recipe, out: Path, ffmpeg_dir: Path) -> Path:
    folder = out / recipe.name
    if (folder / "episode.mp3").is_file() and (folder / "episode.toml").is_file():
        return folder
    if recipe.kind == "two-guests":
        parts = []
        for number, (arguments, kept_s) in enumerate(two_guest_parts(recipe.seed)):
            if not (folder / f"part{number}" / "episode.mp3").is_file():
                _synth(folder / f"part{number}", arguments, ffmpeg_dir)
            parts.append((folder / f"part{number}", kept_s))
        join_parts(parts, folder, ffmpeg_dir / "ffmpeg")
        return folder
    _synth(folder, ["--seed", str(recipe.seed), *recipe.arguments()], ffmpeg_dir)
    if recipe.kind == "alphabetical":
        sort_links_by_title(folder / "episode.toml")
    if recipe.elsewhere:
        change_room(folder / "episode.mp3", recipe.seed, recipe.elsewhere, ffmpeg_dir / "ffmpeg")
    return folder


def two_guest_parts(seed: int) -> list[tuple[list[str], float | None]]:
    """The generator's arguments for an episode with two guests, one after the other, and how
    many seconds of each part are kept (None: all): the host with the first guest for a whole
    episode (7-8 min), then with the second for 1.5 to 4 min (a guest heard briefly is still a
    voice); three voices drawn from the seed, one room and noise for both parts."""
    draw = random.Random(seed)
    host, first, second = (f"{name}:{draw.randint(135, 175)}:{draw.randint(20, 80)}"
                           for name in draw.sample(TWO_GUEST_VOICES, 3))
    room = ["--noise", draw.choice(["pink", "white", "brown", "none"]), "--snr", str(draw.randint(25, 40))]
    second_seconds = round(draw.uniform(90, 240))
    return [(["--seed", str(seed), "--host", host, "--guest", first, *room], None),
            (["--seed", str(seed + 10_000), "--host", host, "--guest", second, *room], second_seconds)]


def join_parts(parts: list[tuple[Path, float | None]], folder: Path, ffmpeg: Path) -> None:
    """One episode from the parts' own, played one after the other, each cut after its last turn
    ending within its seconds kept: episode.mp3, episode.rttm, and an episode.toml and
    episode.ref.json naming each part's guest apart (the guest of each part after the first is
    another person: "<name> 2"), so that bench/accuracy.py publishes it with every guest named.
    The reference keeps the footnote markers of the first part only: the later parts say the
    links again, which are no first mentions."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    audio, lines, turns_said, offset = [], [], [], 0.0
    for number, (part, kept_s) in enumerate(parts):
        turns = [line.split() for line in (part / "episode.rttm").read_text(encoding="utf-8").splitlines()]
        turns = [t for t in turns if kept_s is None or float(t[3]) + float(t[4]) <= kept_s]
        sound = decode_audio(str(part / "episode.mp3"), sampling_rate=16000)
        if kept_s is not None:
            sound = sound[: round((float(turns[-1][3]) + float(turns[-1][4]) + 0.5) * 16000)]
        for fields in turns:
            fields[3] = f"{float(fields[3]) + offset:.3f}"
            fields[7] = _part_name(fields[7].replace("_", " "), number).replace(" ", "_")
            lines.append(" ".join(fields))
        turns_said += _part_turns(part, number, kept_s, offset)
        audio.append(sound)
        offset += len(sound) / 16000
    subprocess.run([str(ffmpeg), "-loglevel", "error", "-y", "-f", "f32le", "-ar", "16000", "-ac", "1", "-i", "-",
                    "-b:a", "64k", str(folder / "episode.mp3")], input=np.concatenate(audio).tobytes(), check=True)
    (folder / "episode.rttm").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reference = json.loads((parts[0][0] / "episode.ref.json").read_text(encoding="utf-8"))
    reference.update(duration=round(offset, 3), turns=turns_said)
    (folder / "episode.ref.json").write_text(json.dumps(reference, ensure_ascii=False, indent=1), encoding="utf-8")
    guests = list(dict.fromkeys(t["speaker"] for t in turns_said if t["speaker"] != HOST))
    episode = (parts[0][0] / "episode.toml").read_text(encoding="utf-8")
    episode = re.sub(r"(?m)^guests = .*$", "guests = " + json.dumps(guests, ensure_ascii=False), episode, count=1)
    (folder / "episode.toml").write_text(episode, encoding="utf-8")


def _part_name(name: str, number: int) -> str:
    """A speaker's name in the joined episode: the host is one person throughout, each part's
    guest another."""
    return name if number == 0 or name == HOST else f"{name} {number + 1}"


def _part_turns(part: Path, number: int, kept_s: float | None, offset: float) -> list[dict]:
    """A part's reference turns within its seconds kept, moved to where the part starts."""
    turns = json.loads((part / "episode.ref.json").read_text(encoding="utf-8"))["turns"]
    kept = [t for t in turns if kept_s is None or t["end"] <= kept_s]
    return [{**t, "speaker": _part_name(t["speaker"], number), "start": round(t["start"] + offset, 3),
             "end": round(t["end"] + offset, 3), **({} if number == 0 else {"raw": t["text"], "markers": []})}
            for t in kept]


def change_room(mp3: Path, seed: int, part: tuple[float, float], ffmpeg: Path) -> None:
    """Rewrites a part of the episode (from part[0] to part[1] of its length) as if recorded
    another day in another room: another microphone's tilt (a first-order high-pass), 3.5 dB
    louder, and a fan's brown noise 20 dB under the speech. A diarizer must tell the voices
    apart, not the rooms."""
    import numpy as np
    from faster_whisper.audio import decode_audio
    from scipy.signal import lfilter

    audio = decode_audio(str(mp3), sampling_rate=16000).astype(np.float64)
    there = slice(round(part[0] * len(audio)), round(part[1] * len(audio)))
    fan = lfilter([1], [1, -0.98], np.random.default_rng(seed).standard_normal(there.stop - there.start))
    fan *= np.sqrt(np.mean(audio[there] ** 2) / np.mean(fan**2)) / 10
    audio[there] = lfilter([1, -0.9], [1], audio[there]) * 1.5 + fan
    audio /= np.abs(audio).max() * 1.05
    subprocess.run([str(ffmpeg), "-loglevel", "error", "-y", "-f", "f32le", "-ar", "16000", "-ac", "1", "-i", "-",
                    "-b:a", "64k", str(mp3)], input=audio.astype(np.float32).tobytes(), check=True)


def _ffmpeg_on_path(folder: Path) -> Path:
    """A folder holding `ffmpeg`: the project's own binary, linked under the name the generator calls."""
    import imageio_ffmpeg

    link = folder / "ffmpeg"
    link.symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--set", action="append", choices=list(SETS), help="a set to voice (default: all)")
    args = parser.parse_args()
    if not SYNTH.is_file():
        sys.exit(f"{SYNTH} is absent: the episodes need ../shared beside the project")
    with tempfile.TemporaryDirectory() as tools:
        ffmpeg_dir = _ffmpeg_on_path(Path(tools))
        for name in args.set or list(SETS):
            folders = [voice(recipe, args.out, ffmpeg_dir) for recipe in SETS[name]]
            label = "" if name.startswith("footnotes") else name.split("-", 1)[1] + "="
            print(f"{name}: " + " ".join(f"--episode {label}{folder}" for folder in folders))


if __name__ == "__main__":
    main()
