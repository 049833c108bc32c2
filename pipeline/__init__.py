"""Podcast production pipeline: raw episode audio to a published site and feed."""

__version__ = "0.1.0"
