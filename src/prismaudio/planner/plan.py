"""The four-module plan (chain of thought) that PrismAudio writes before generating.

    semantic  - what sounds: sources with a label and a description
    temporal  - when: events (source, onset, offset, impact | sustained)
    aesthetic - how it should sound: quality and style descriptors, what to avoid
    spatial   - where: per source, horizontal position over time (-1 left .. +1 right) and distance

One dataclass shared by SynthCanvas (reference plans), the planner (predicted plans), the
generator (conditioning), the rewards and the web UI (editing). JSON round trip is strict:
unknown fields, wrong types, negative or out-of-range times and unknown source ids are
errors naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..config import from_dict, to_dict
from ..errors import ConfigError, PrismError
from ..validate import excerpt, finite, parse_json, read_text

PLAN_VERSION = 1
MAX_PLAN_SECONDS = 24 * 3600.0
# Distance is relative (1 = reference, gain about 1/distance): beyond these the mix is silent
# or clips, so such values are typing mistakes, not plans.
MIN_DISTANCE, MAX_DISTANCE = 0.01, 100.0
MAX_PLAN_BYTES = 16 * 1024 * 1024
EventKind = Literal["impact", "sustained"]


class PlanError(PrismError):
    """A plan that is malformed or does not fit its video."""


@dataclass
class Source:
    """One sound source. `exemplar`: an optional recording of the sound it should make (a
    path relative to the plan file, or absolute); `diffuse`: an ambience rendered wide, not
    at a point; `confidence`: how sure the planner is that something on screen makes it."""

    id: str
    label: str
    description: str = ""
    exemplar: str | None = None
    diffuse: bool = False
    confidence: float = 1.0


@dataclass
class Event:
    """One sound event. `strength` in (0, 1] is its relative loudness (1 = the loudest the
    source makes; from the motion: speed or deceleration at a contact); `confidence` how
    sure the planner is of it."""

    source: str
    onset: float
    offset: float
    kind: EventKind = "impact"
    strength: float = 1.0
    confidence: float = 1.0


@dataclass
class SpatialTrack:
    """Horizontal position of one source over time; `x` in [-1 (left), 1 (right)].

    `distance` is relative (1.0 = reference distance, 2.0 = twice as far, about 6 dB quieter).
    """

    source: str
    times: list[float]
    x: list[float]
    distance: list[float] = field(default_factory=list)

    def x_at(self, t: np.ndarray | float) -> np.ndarray:
        return np.interp(t, self.times, self.x)

    def distance_at(self, t: np.ndarray | float) -> np.ndarray:
        if not self.distance:
            return np.ones_like(np.asarray(t, dtype=float))
        return np.interp(t, self.times, self.distance)


@dataclass
class Semantic:
    sources: list[Source] = field(default_factory=list)


@dataclass
class Temporal:
    events: list[Event] = field(default_factory=list)


@dataclass
class Aesthetic:
    quality: list[str] = field(default_factory=lambda: ["clean", "well balanced", "natural dynamics"])
    style: list[str] = field(default_factory=lambda: ["realistic foley"])
    avoid: list[str] = field(default_factory=lambda: ["music", "speech", "hiss", "clipping"])


@dataclass
class Spatial:
    tracks: list[SpatialTrack] = field(default_factory=list)


@dataclass
class RunRecord:
    """How audio was made from this plan (written by `generate` into the saved plan): enough to
    reproduce the run. Exemplars are recorded in `semantic.sources[].exemplar` as absolute paths."""

    engine: str  # "model" (joint-stereo generator) or a stem engine ("library", ...)
    model: str = ""
    seed: int | None = None
    duration: float | None = None  # seconds generated (the plan's own duration is the video's)
    prompt: str | None = None
    negative_prompt: str | None = None
    num_steps: int | None = None
    cfg_strength: float | None = None
    loudness: float | None = None  # LUFS target (None: level kept)
    library: str | None = None  # sound library folder of the library engine (or of the stem engine's sketches)
    variation: float | None = None  # stem engine: the noise level its flow starts at from each sketch


@dataclass
class Plan:
    duration: float
    semantic: Semantic = field(default_factory=Semantic)
    temporal: Temporal = field(default_factory=Temporal)
    aesthetic: Aesthetic = field(default_factory=Aesthetic)
    spatial: Spatial = field(default_factory=Spatial)
    notes: list[str] = field(default_factory=list)
    run: RunRecord | None = None
    version: int = PLAN_VERSION

    # ---- lookups -------------------------------------------------------------------------
    def source(self, source_id: str) -> Source:
        for s in self.semantic.sources:
            if s.id == source_id:
                return s
        raise PlanError(f"plan: unknown source id '{source_id}'")

    def track(self, source_id: str) -> SpatialTrack | None:
        return next((t for t in self.spatial.tracks if t.source == source_id), None)

    def events_of(self, source_id: str) -> list[Event]:
        return [e for e in self.temporal.events if e.source == source_id]

    # ---- validation ----------------------------------------------------------------------
    def validate(self, video_duration: float | None = None, tolerance: float = 0.05) -> "Plan":
        """Check internal consistency (and fit to a video's duration); raise PlanError naming the field."""
        _number(self.duration, "plan.duration", 0.0, MAX_PLAN_SECONDS, lo_open=True)
        if self.version != PLAN_VERSION:
            raise PlanError(f"plan.version: {excerpt(self.version)} is not supported (this PrismAudio reads version {PLAN_VERSION})")
        if video_duration is not None and abs(self.duration - video_duration) > max(tolerance, 0.02 * video_duration):
            raise PlanError(
                f"plan.duration: {self.duration:.2f} s does not match the video ({video_duration:.2f} s); "
                "is this the plan of another video?"
            )
        ids = [s.id for s in self.semantic.sources]
        if len(set(ids)) != len(ids):
            raise PlanError("plan.semantic.sources: duplicate source ids")
        for i, s in enumerate(self.semantic.sources):
            if not s.id.strip() or not s.label.strip():
                raise PlanError(f"plan.semantic.sources[{i}]: id and label must be non-empty (not only spaces)")
            if not 0.0 <= s.confidence <= 1.0:
                raise PlanError(f"plan.semantic.sources[{i}].confidence: must lie in [0, 1], got {s.confidence}")
        end = self.duration + tolerance
        for i, e in enumerate(self.temporal.events):
            where = f"plan.temporal.events[{i}]"
            if e.source not in ids:
                raise PlanError(f"{where}.source: unknown source id {excerpt(e.source)} (known: {excerpt(', '.join(ids) or 'none')})")
            _number(e.onset, f"{where}.onset")
            _number(e.offset, f"{where}.offset")
            if e.onset < 0 or e.offset < 0:
                raise PlanError(f"{where}: negative time (onset {e.onset}, offset {e.offset})")
            if e.offset < e.onset:
                raise PlanError(f"{where}.offset: {e.offset} is before onset {e.onset}")
            if e.onset > end or e.offset > end:
                raise PlanError(f"{where}: time past the end of the video ({self.duration:.2f} s)")
            if not 0.0 < e.strength <= 1.0:
                raise PlanError(f"{where}.strength: must lie in (0, 1], got {e.strength}")
            if not 0.0 <= e.confidence <= 1.0:
                raise PlanError(f"{where}.confidence: must lie in [0, 1], got {e.confidence}")
        seen: set[str] = set()
        for i, t in enumerate(self.spatial.tracks):
            where = f"plan.spatial.tracks[{i}]"
            if t.source not in ids:
                raise PlanError(f"{where}.source: unknown source id {excerpt(t.source)} (known: {excerpt(', '.join(ids) or 'none')})")
            if t.source in seen:
                raise PlanError(f"{where}.source: a second track for source '{t.source}' (one track per source)")
            seen.add(t.source)
            if not t.times or len(t.times) != len(t.x) or (t.distance and len(t.distance) != len(t.times)):
                raise PlanError(f"{where}: times, x (and distance) must be non-empty lists of equal length")
            for name, values in (("times", t.times), ("x", t.x), ("distance", t.distance)):
                for k, v in enumerate(values):
                    _number(v, f"{where}.{name}[{k}]")
            if any(b < a for a, b in zip(t.times, t.times[1:])):
                raise PlanError(f"{where}.times: must be increasing")
            if min(t.times) < 0 or max(t.times) > end:
                raise PlanError(f"{where}.times: outside 0..{self.duration:.2f} s")
            if any(abs(v) > 1.0 + 1e-6 for v in t.x):
                raise PlanError(f"{where}.x: positions must lie in [-1, 1]")
            if any(not MIN_DISTANCE <= d <= MAX_DISTANCE for d in t.distance):
                raise PlanError(f"{where}.distance: must lie in [{MIN_DISTANCE:g}, {MAX_DISTANCE:g}] "
                                "(relative to the reference distance 1)")
        return self

    # ---- text rendering (the CoT the generator reads) ------------------------------------
    def semantic_text(self) -> str:
        if not self.semantic.sources:
            return "Semantic: no sound sources are visible; only quiet ambience."
        parts = [f"{s.label} ({s.description})" if s.description else s.label for s in self.semantic.sources]
        return "Semantic: the sounds are " + "; ".join(parts) + "."

    def temporal_text(self) -> str:
        if not self.temporal.events:
            return "Temporal: no visual events, so no distinct sound onsets."
        labels = {s.id: s.label for s in self.semantic.sources}
        parts = []
        for e in sorted(self.temporal.events, key=lambda e: e.onset):
            if e.kind == "impact":
                parts.append(f"{labels.get(e.source, e.source)} hits at {e.onset:.2f} s")
            else:
                parts.append(f"{labels.get(e.source, e.source)} sounds from {e.onset:.2f} s to {e.offset:.2f} s")
        return "Temporal: " + "; ".join(parts) + "."

    def aesthetic_text(self) -> str:
        a = self.aesthetic
        text = f"Aesthetic: {', '.join(a.quality)}; style {', '.join(a.style)}"
        if a.avoid:
            text += f"; avoid {', '.join(a.avoid)}"
        return text + "."

    def spatial_text(self) -> str:
        if not self.spatial.tracks:
            return "Spatial: centred."
        labels = {s.id: s.label for s in self.semantic.sources}
        parts = []
        for t in self.spatial.tracks:
            start, end = describe_side(t.x[0]), describe_side(t.x[-1])
            where = f"stays {start}" if start == end else f"moves from {start} to {end}"
            dist = ""
            if t.distance:
                near, far = min(t.distance), max(t.distance)
                dist = ", approaching" if t.distance[-1] < t.distance[0] * 0.8 else ", receding" if t.distance[-1] > t.distance[0] * 1.25 else ""
                if not dist and near < 0.8:
                    dist = ", close"
                elif not dist and far > 1.6:
                    dist = ", far away"
            parts.append(f"{labels.get(t.source, t.source)} {where}{dist}")
        return "Spatial: " + "; ".join(parts) + "."

    def module_texts(self) -> dict[str, str]:
        return {
            "semantic": self.semantic_text(),
            "temporal": self.temporal_text(),
            "aesthetic": self.aesthetic_text(),
            "spatial": self.spatial_text(),
        }

    def cot_text(self) -> str:
        """The whole chain of thought as one string (as the public PrismAudio code feeds it)."""
        return " ".join(self.module_texts().values())

    # ---- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = to_dict(self)
        if data.get("run") is None:  # plans not yet rendered keep their old, shorter form
            data.pop("run", None)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict, where: str = "plan") -> "Plan":
        try:
            plan = from_dict(cls, data, where=where if where.endswith("plan") else f"{where}: plan")
        except ConfigError as e:
            raise PlanError(str(e)) from None
        origin = where.removesuffix("plan").rstrip(": .")
        try:
            return plan.validate().require_audible_events()
        except PlanError as e:  # name the file (or manifest row) the plan came from
            raise (PlanError(f"{origin}: {e}") if origin else e) from None

    def require_audible_events(self) -> "Plan":
        """Refuse events of zero length in a plan a user wrote (file, manifest, editor): the
        generator, trained on sounds that last, renders them as silence. Plans built in code
        may still mark an instant (offset == onset) for conditioning."""
        for i, e in enumerate(self.temporal.events):
            if e.offset <= e.onset:
                raise PlanError(f"plan.temporal.events[{i}].offset: {e.offset} must be after onset {e.onset} "
                                "(an event of zero length makes no sound)")
        return self

    @classmethod
    def from_json(cls, text: str, where: str = "plan") -> "Plan":
        try:
            data = parse_json(text, where)
        except ConfigError as e:
            raise PlanError(str(e)) from None
        return cls.from_dict(data, where=where)

    @classmethod
    def load(cls, path: str | Path) -> "Plan":
        path = Path(path)
        if not path.is_file():
            raise PlanError(f"{path}: plan file not found")
        try:
            text = read_text(path, "plan", MAX_PLAN_BYTES)
        except ConfigError as e:
            raise PlanError(str(e)) from None
        return cls.from_json(text, where=str(path))

    def save(self, path: str | Path) -> Path:
        from ..media import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        return Path(path)


def _number(value: float, where: str, lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> float:
    try:
        return finite(value, where, lo, hi, lo_open)
    except ConfigError as e:
        raise PlanError(str(e)) from None


def describe_side(x: float) -> str:
    """Words for a horizontal position in [-1, 1] (the bands used by side accuracy)."""
    return "left" if x < -SIDE_THRESHOLD else "right" if x > SIDE_THRESHOLD else "centre"


SIDE_THRESHOLD = 0.2  # |x| below this counts as centre, in the planner and in side accuracy


def side_of(x: float) -> int:
    """-1 left, 0 centre, +1 right, with the same bands as `describe_side`."""
    return -1 if x < -SIDE_THRESHOLD else 1 if x > SIDE_THRESHOLD else 0
