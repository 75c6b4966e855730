"""SynthCanvas ground truth: one JSON object per line in `OUTDIR/manifest.jsonl`.

This is the stable interface other modules import (codec training, planner benchmark,
rewards, evaluation)::

    from prismaudio.canvas.manifest import load_manifest, load_classes
    samples = load_manifest("data/canvas")          # the folder or its manifest.jsonl
    test = [s for s in samples if s.split == "test"]
    s = test[0]
    s.audio_path, s.video_path                            # absolute Paths
    s.plan                                                # prismaudio.planner.Plan (reference)
    [(e.source, e.onset, e.offset, e.kind) for e in s.events]
    s.source("s0").track.x                                # per-frame x in [-1 left, 1 right]
    classes = load_classes("data/canvas")           # list[SoundClass], label order

Fields of a line (types as in the dataclasses below; times in seconds; frames 0-based at
`fps`; frame k is on screen from k / fps):

    version       int        MANIFEST_VERSION
    id            str        e.g. "single_00042", "multi_00007", "ood_00003"
    split         str        train | val | test | ood
    group         str        single (one source) | multi (2-3 sources) | ood (4 sources)
    seed          int        per-sample seed (derived from the build seed, group and index)
    duration      float      seconds (video and audio)
    sample_rate   int        Hz of audio/<id>.wav (stereo, PCM_16)
    fps           float      video/<id>.mp4 frame rate (H.264, no audio)
    size          [int, int] (height, width) in pixels, as media.decode_frames takes it
    num_frames    int
    video, audio  str        paths relative to the manifest's folder
    background    dict       {"kind": solid|gradient|photo, ...parameters}
    speed         float      motion speed factor (train 0.5-1.5, ood 2.0-3.5)
    ood_factors   [str]      what is held out from train: source_count, background, speed, combination
    mix_gain      float      gain applied to the mix to keep its peak <= 0.9 (1.0 = none)
    sources       [Source]   id, class_name, kind, motion, sprite, track (per frame: x, y, scale, visible)
    events        [Event]    source, onset, offset, kind, frame, end_frame, visual, key, velocity
    degradations  [Degradation] kind, path, params, snr_db (measured on the written files),
                             target_snr_db (noise/hum), description
    plan          Plan       the reference four-module plan (`prismaudio.planner.Plan`)
    plan_text     {str: str} `plan.module_texts()` (semantic, temporal, aesthetic, spatial)

Impact events: onset = the frame of the visual event; offset = end of the (trimmed) sound.
Sustained events: onset = first visible frame, offset = end of the last visible frame.
Track y is in [-1 top, 1 bottom]; scale 1 is the reference distance (distance = 1 / scale).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import from_dict, to_dict
from ..errors import ConfigError, PrismError
from ..fsutil import read_jsonl
from ..planner.plan import Plan, PlanError
from ..validate import excerpt
from .classes import SoundClass, SoundRecipe

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.jsonl"
CLASSES_NAME = "classes.json"
Split = Literal["train", "val", "test", "ood"]
Group = Literal["single", "multi", "ood"]


@dataclass
class Track:
    """Per-frame position of one source (lists of length num_frames)."""

    x: list[float]
    y: list[float]
    scale: list[float]
    visible: list[bool]


@dataclass
class CanvasSource:
    id: str
    class_name: str
    kind: Literal["impact", "sustained"]
    motion: str
    sprite: str
    track: Track


@dataclass
class CanvasEvent:
    source: str
    onset: float
    offset: float
    kind: Literal["impact", "sustained"]
    frame: int
    end_frame: int
    visual: str
    key: int | None = None
    velocity: int | None = None


@dataclass
class Degradation:
    kind: str
    path: str
    params: dict[str, Any]
    snr_db: float | None
    target_snr_db: float | None = None
    description: str = ""


@dataclass
class CanvasSample:
    id: str
    split: Split
    group: Group
    seed: int
    duration: float
    sample_rate: int
    fps: float
    size: tuple[int, int]
    num_frames: int
    video: str
    audio: str
    background: dict[str, Any]
    speed: float
    sources: list[CanvasSource]
    events: list[CanvasEvent]
    plan: Plan
    plan_text: dict[str, str]
    degradations: list[Degradation] = field(default_factory=list)
    ood_factors: list[str] = field(default_factory=list)
    mix_gain: float = 1.0
    version: int = MANIFEST_VERSION
    root: Path = field(default=Path("."), compare=False, repr=False)  # the manifest's folder (set by the loader)

    @property
    def video_path(self) -> Path:
        return self.root / self.video

    @property
    def audio_path(self) -> Path:
        return self.root / self.audio

    def degraded_path(self, kind: str) -> Path:
        for d in self.degradations:
            if d.kind == kind:
                return self.root / d.path
        raise KeyError(f"{self.id}: no '{kind}' degradation")

    @property
    def class_names(self) -> list[str]:
        return [s.class_name for s in self.sources]

    def source(self, source_id: str) -> CanvasSource:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(f"{self.id}: unknown source '{source_id}'")

    def to_dict(self) -> dict:
        data = to_dict(self)
        data.pop("root")
        data["plan"] = self.plan.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict, root: Path | str = ".", where: str = "sample") -> "CanvasSample":
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object")
        version = data.get("version", MANIFEST_VERSION)
        if not isinstance(version, int) or version > MANIFEST_VERSION:
            raise ConfigError(f"{where}: manifest version {excerpt(version)} is newer than this prismaudio ({MANIFEST_VERSION})")
        data = dict(data)
        try:
            plan = Plan.from_dict(data.pop("plan", None) or {}, where=f"{where}.plan")
        except PlanError as e:
            raise ConfigError(str(e)) from None
        try:  # fast path for the long per-frame tracks (from_dict would check every number)
            data["sources"] = [_source(s) for s in data.get("sources", [])]
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"{where}.sources: malformed ({e})") from None
        sample = from_dict(cls, {**data, "plan": plan}, where=where)
        sample.root = Path(root)
        return sample


def _source(d: dict) -> CanvasSource:
    t = d["track"]
    track = Track([float(v) for v in t["x"]], [float(v) for v in t["y"]], [float(v) for v in t["scale"]], [bool(v) for v in t["visible"]])
    if not len(track.x) == len(track.y) == len(track.scale) == len(track.visible):
        raise ValueError("track lists differ in length")
    if set(d) != {"id", "class_name", "kind", "motion", "sprite", "track"}:
        raise ValueError(f"unexpected keys {sorted(set(d))}")
    if d["kind"] not in ("impact", "sustained"):
        raise ValueError(f"kind {excerpt(d['kind'])}")
    return CanvasSource(str(d["id"]), str(d["class_name"]), d["kind"], str(d["motion"]), str(d["sprite"]), track)


def manifest_path(path: str | Path) -> Path:
    path = Path(path)
    return path / MANIFEST_NAME if path.is_dir() else path


def read_lines(path: Path) -> list[dict]:
    """The complete JSON lines of a manifest; a torn last line (interrupted write) is skipped."""
    if not path.is_file():
        return []
    return [row for _, row in read_jsonl(path)]


def load_manifest(path: str | Path) -> list[CanvasSample]:
    """All samples of a SynthCanvas build (a folder or its manifest.jsonl), sorted by id."""
    path = manifest_path(path)
    if not path.is_file():
        raise PrismError(f"{path}: no SynthCanvas manifest here (build one with `prismaudio canvas build`)")
    root = path.parent.resolve()
    samples = [CanvasSample.from_dict(d, root, where=f"{path}:{d.get('id', i)}") for i, d in enumerate(read_lines(path))]
    return sorted(samples, key=lambda s: s.id)


def class_from_dict(d: dict) -> SoundClass:
    r = dict(d["recipe"])
    recipe = SoundRecipe(
        source=r["source"], program=int(r["program"]), keys=tuple(r["keys"]), velocity=tuple(r["velocity"]),
        hold=float(r["hold"]), tail=float(r["tail"]), retrigger=float(r["retrigger"]), files=tuple(r["files"]),
    )
    return SoundClass(d["name"], d["kind"], d["sprite"], d["description"], recipe, tuple(d.get("audioset", ())))


def load_classes(path: str | Path) -> list[SoundClass]:
    """The class table of a build (OUTDIR/classes.json), in label order."""
    path = Path(path)
    path = path / CLASSES_NAME if path.is_dir() else path
    if not path.is_file():
        raise PrismError(f"{path}: no SynthCanvas class table here")
    try:
        return [class_from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))["classes"]]
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{path}: malformed class table ({e})") from None
