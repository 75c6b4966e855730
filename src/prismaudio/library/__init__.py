"""The library of real recorded sounds (and rendered soundfont notes) behind every sound bank."""

from .catalog import LibraryClass, Recording, SoundLibrary

__all__ = ["LibraryClass", "Recording", "SoundLibrary"]
