"""Voice the sample episode's script with espeak-ng, so the project ships its own demo audio.

    python episodes/voice_sample.py            # writes episodes/exemple/audio.mp3

Needs espeak-ng (Debian: apt-get install espeak-ng). The MP3 is committed, so users of the
pipeline never need espeak-ng themselves.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from pydub import AudioSegment

FOLDER = Path(__file__).parent / "exemple"
VOICES = {  # espeak-ng voice, words per minute, pitch
    "Gérald Holubowicz": ("fr+m3", "165", "35"),
    "Claire Dumas": ("fr+f2", "170", "70"),
}
PAUSE_MS = 700


def turns(script: Path) -> list[tuple[str, str]]:
    lines = [line for line in script.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [tuple(part.strip() for part in line.split(":", 1)) for line in lines]


def speak(speaker: str, text: str, folder: Path, index: int) -> AudioSegment:
    voice, speed, pitch = VOICES[speaker]
    wav = folder / f"{index:02}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", speed, "-p", pitch, "-w", str(wav), text], check=True)
    return AudioSegment.from_wav(wav)


def main() -> None:
    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    episode = AudioSegment.silent(duration=500)
    with tempfile.TemporaryDirectory() as scratch:
        for index, (speaker, text) in enumerate(turns(FOLDER / "dialogue.txt")):
            episode += speak(speaker, text, Path(scratch), index) + AudioSegment.silent(PAUSE_MS)
    episode.set_frame_rate(22050).set_channels(1).export(
        FOLDER / "audio.mp3", format="mp3", bitrate="48k"
    )
    print(f"{FOLDER / 'audio.mp3'}: {len(episode) / 1000:.1f} s")


if __name__ == "__main__":
    main()
