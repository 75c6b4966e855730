"""The library's soundfont classes: SynthCanvas's 117 classes plus further General MIDI
programs and drum keys (`soundfont.yaml`), rendered into files so the whole library is read
one way (a folder of recordings per class).

Each class is rendered as NOTES_PER_CLASS notes at different keys and velocities, spread
evenly over the class's ranges (a drum class: one key, several velocities). Impacts keep
their natural length (hold + tail); sustained notes are SUSTAIN_S long (re-struck where the
recipe says so). The freedesktop sounds are single recordings and stay one file each: a
velocity copy of the same file would not be a second recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from ..canvas.classes import SoundClass, SoundRecipe, builtin_classes
from ..config import from_dict
from ..errors import ConfigError

NOTES_PER_CLASS = 4
SUSTAIN_S = 3.0
SOUNDFONT_LICENCE = "MIT (FluidR3_GM soundfont, Frank Wen)"
TIMIDITY_LICENCE = "GPL-2 (TimGM6mb soundfont, Tim Brechbill)"
DESKTOP_PACKAGE = "sound-theme-freedesktop"
DESKTOP_LICENCE = "see /usr/share/doc/sound-theme-freedesktop/copyright"


@dataclass
class ExtraClass:
    """One further soundfont class of soundfont.yaml."""

    name: str
    description: str
    program: int | None = None
    drum: int | None = None
    keys: list[int] = field(default_factory=lambda: [60, 60])
    kind: Literal["impact", "sustained"] = "impact"
    audioset: list[str] = field(default_factory=list)
    visual: list[str] = field(default_factory=list)
    hold: float | None = None
    tail: float | None = None
    retrigger: float = 0.0

    def __post_init__(self) -> None:
        if (self.program is None) == (self.drum is None):
            raise ValueError(f"class '{self.name}': give exactly one of program and drum")
        if len(self.keys) != 2 or self.keys[0] > self.keys[1]:
            raise ValueError(f"class '{self.name}': keys must be [low, high]")

    def sound_class(self) -> SoundClass:
        if self.drum is not None:
            recipe = SoundRecipe("drum", 0, (self.drum, self.drum), (80, 120), self.hold or 0.1, self.tail or 0.6)
        elif self.kind == "impact":
            recipe = SoundRecipe("gm", self.program, tuple(self.keys), (85, 120), self.hold or 0.25, self.tail or 0.5)
        else:
            recipe = SoundRecipe("gm", self.program, tuple(self.keys), (85, 115), retrigger=self.retrigger)
        return SoundClass(self.name, self.kind, "", self.description, recipe, tuple(self.audioset))


@dataclass
class SoundfontTable:
    visual: dict[str, list[str]]
    extra: list[ExtraClass]


def load_table(path: str | Path | None = None) -> SoundfontTable:
    from ..config import load_yaml

    if path is None:
        path = resources.files("prismaudio.library") / "soundfont.yaml"
    return from_dict(SoundfontTable, load_yaml(path), where=str(path))


@dataclass(frozen=True)
class SoundfontClass:
    """A soundfont (or desktop) class with what the library records about it."""

    sound: SoundClass
    visual_words: tuple[str, ...]
    origin: str                       # soundfont | desktop


def soundfont_classes(table: SoundfontTable | None = None) -> list[SoundfontClass]:
    """SynthCanvas's classes in their order, then the further ones; ConfigError on a clash."""
    table = table or load_table()
    out: list[SoundfontClass] = []
    for c in builtin_classes():
        words = table.visual.get(c.name)
        if not words:
            raise ConfigError(f"soundfont.yaml: SynthCanvas class '{c.name}' has no visual words")
        out.append(SoundfontClass(c, tuple(words), "desktop" if c.recipe.source == "recording" else "soundfont"))
    names = {c.sound.name for c in out}
    for extra in table.extra:
        if extra.name in names:
            raise ConfigError(f"soundfont.yaml: class name '{extra.name}' is used twice")
        names.add(extra.name)
        out.append(SoundfontClass(extra.sound_class(), tuple(extra.visual or [extra.name]), "soundfont"))
    return out


def note_plan(recipe: SoundRecipe, count: int = NOTES_PER_CLASS) -> list[tuple[int, int]]:
    """(key, velocity) of each rendered note: keys evenly over the range (a drum: its one key),
    velocities alternating between the top and the middle of the range, so a class's notes
    differ in pitch and in timbre (soundfonts switch samples by velocity)."""
    lo, hi = recipe.keys
    vlo, vhi = recipe.velocity
    keys = [int(round(lo + (hi - lo) * i / max(1, count - 1))) for i in range(count)]
    velocities = [vhi if i % 2 == 0 else (vlo + vhi) // 2 for i in range(count)]
    plan = list(dict.fromkeys(zip(keys, velocities)))
    if len(plan) < count:  # one key: vary the velocity over the whole range instead
        plan = [(lo, int(round(vhi - (vhi - vlo) * i / max(1, count - 1)))) for i in range(count)]
    return plan


def render_note(bank, cls: SoundClass, key: int, velocity: int) -> np.ndarray:
    """One note of a soundfont class as mono float32 (SoundBank at the library's rate)."""
    seconds = SUSTAIN_S if cls.kind == "sustained" else None
    return bank.note(cls, key, velocity, "", seconds).audio


def soundfont_licence(path: str | None) -> str:
    name = Path(path or "").name.lower()
    if name.startswith("fluidr3"):
        return SOUNDFONT_LICENCE
    if name.startswith("timgm6mb"):
        return TIMIDITY_LICENCE
    return f"see the licence of {Path(path or '?').name}"


def desktop_licence(path: Path) -> str | None:
    """A freedesktop sound's licence from its package's machine-readable copyright file."""
    from .sources import COPYRIGHT, licence_from_copyright

    copyright_file = Path(COPYRIGHT.format(package=DESKTOP_PACKAGE))
    if not copyright_file.is_file():
        return None
    return licence_from_copyright(copyright_file.read_text(encoding="utf-8", errors="replace"), str(path))
