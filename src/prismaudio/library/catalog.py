"""The sound library on disk, and the one reader everything else uses.

A library is a folder::

    <root>/library.json            index: classes and recordings (written by `library build`)
    <root>/<class slug>/<name>.flac  mono recordings, trimmed and loudness-normalised
    <root>/ATTRIBUTION.md           every recording with its source package and licence

A plain user folder (`<root>/<class>/*.wav`, optional `classes.yaml` as the user bank) is
a library too: without `library.json`, each sub-folder is a class of kind impact whose
recordings are its audio files. Readers never care which of the two they got.

Kinds: `impact` (one recording per event, trimmed to the attack), `sustained` (looped or
stretched over an event's span), `ambience` (a bed over a whole span, rendered wide).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import ConfigError

LIBRARY_VERSION = 1
INDEX_NAME = "library.json"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")
LibraryKind = Literal["impact", "sustained", "ambience"]
KINDS = ("impact", "sustained", "ambience")


@dataclass(frozen=True)
class LibraryClass:
    """One sound class: what it is called, how it behaves and what suggests it on screen."""

    name: str
    kind: LibraryKind = "impact"
    description: str = ""
    audioset: tuple[str, ...] = ()       # AudioSet labels (YAMNet class names) it should tag as
    visual_words: tuple[str, ...] = ()   # ImageNet labels and plain words the planner can match
    origin: str = "recording"            # recording | soundfont | desktop | user
    sprite: str = ""                     # an emoji (or image path) for SynthCanvas; "" = any free one


@dataclass(frozen=True)
class Recording:
    """One recording of a class; `path` is relative to the library root."""

    path: str
    class_name: str
    duration: float
    package: str = ""
    licence: str = ""
    source_file: str = ""                # where it came from (for the attribution file)


@dataclass
class SoundLibrary:
    root: Path
    classes: dict[str, LibraryClass]
    recordings: dict[str, list[Recording]] = field(default_factory=dict)
    sample_rate: int | None = None       # rate of the stored files (None: mixed, user folder)

    # ---- reading -------------------------------------------------------------------------
    @classmethod
    def load(cls, root: str | Path) -> "SoundLibrary":
        """A built library (`library.json`) or a plain user folder; ConfigError naming the file."""
        root = Path(root)
        if not root.is_dir():
            raise ConfigError(f"sound library not found or not a folder: {root}")
        index = root / INDEX_NAME
        if index.exists():
            return cls._from_index(root, index)
        return cls._from_folders(root)

    @classmethod
    def _from_index(cls, root: Path, index: Path) -> "SoundLibrary":
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise ConfigError(f"{index}: not a library index ({type(error).__name__})") from None
        if not isinstance(data, dict) or data.get("version") != LIBRARY_VERSION:
            raise ConfigError(f"{index}: unsupported library index (version must be {LIBRARY_VERSION})")
        try:
            classes = {}
            for entry in data["classes"]:
                entry = dict(entry)
                entry["audioset"] = tuple(entry.get("audioset", ()))
                entry["visual_words"] = tuple(entry.get("visual_words", ()))
                item = LibraryClass(**entry)
                if item.kind not in KINDS:
                    raise ConfigError(f"{index}: class '{item.name}' has unknown kind '{item.kind}'")
                classes[item.name] = item
            recordings: dict[str, list[Recording]] = {name: [] for name in classes}
            for entry in data["recordings"]:
                rec = Recording(**entry)
                if rec.class_name not in classes:
                    raise ConfigError(f"{index}: recording {rec.path} names unknown class '{rec.class_name}'")
                recordings[rec.class_name].append(rec)
        except (KeyError, TypeError) as error:
            raise ConfigError(f"{index}: malformed entry ({error})") from None
        return cls(root, classes, recordings, data.get("sample_rate"))

    @classmethod
    def _from_folders(cls, root: Path) -> "SoundLibrary":
        classes: dict[str, LibraryClass] = {}
        recordings: dict[str, list[Recording]] = {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                continue
            name = folder.name
            classes[name] = LibraryClass(name=name, description=f"{name} sound", origin="user")
            recordings[name] = [Recording(path=str(f.relative_to(root)), class_name=name, duration=0.0,
                                          package="user", source_file=str(f)) for f in files]
        if not classes:
            raise ConfigError(f"{root}: no audio found (expected {INDEX_NAME} or <class>/*.wav folders)")
        return cls(root, classes, recordings, None)

    # ---- use -----------------------------------------------------------------------------
    def recordings_of(self, class_name: str) -> list[Recording]:
        if class_name not in self.classes:
            raise ConfigError(f"sound library {self.root}: unknown class '{class_name}'")
        return self.recordings.get(class_name, [])

    def audio(self, recording: Recording, sample_rate: int) -> np.ndarray:
        """Mono float32 [N] at `sample_rate`."""
        from ..media.audio import read_audio  # media pulls in PyAV; only readers of audio need it

        wave = read_audio(self.root / recording.path, sample_rate, channels=1)
        return wave.numpy()[0]

    # ---- writing (used by `library build`) -----------------------------------------------
    def index_dict(self) -> dict:
        return {
            "version": LIBRARY_VERSION,
            "sample_rate": self.sample_rate,
            "classes": [asdict(c) for c in self.classes.values()],
            "recordings": [asdict(r) for recs in self.recordings.values() for r in recs],
        }
