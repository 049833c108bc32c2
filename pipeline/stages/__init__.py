"""The stages in order, each a thin declaration over the cached runner (pipeline.build.runner):
what its artifact depends on, and which engine makes it.

    audio -> transcribe -> diarize -> footnotes -> render

Publishing comes after, for one episode or many at once (pipeline.build.project).
"""

from __future__ import annotations

from pipeline.stages import audio, diarize, footnotes, render, transcribe

STAGES = [audio.STAGE, transcribe.STAGE, diarize.STAGE, footnotes.STAGE, render.STAGE]
