"""Stem engines: render each planned sound source as its own mono stem (object-based audio)."""

from .base import StemEngine, StemRequest

__all__ = ["StemEngine", "StemRequest"]
