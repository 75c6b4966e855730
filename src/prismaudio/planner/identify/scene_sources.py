"""Traffic seen as a whole: engines where the picture shows road vehicles in motion.

Cars in a street are often too large (they fill the frame in a close shot), too many (a
traffic jam is one changing blob) or too small for the tracker to hand the namer one clean
object each, so object naming alone leaves a street silent. Here the whole picture is
named: once a second, the frozen ImageNet classifier looks at the frame (as squares across
its width, so a wide frame is not squashed); where road vehicles hold enough probability
and the picture changes (something moves: a still photo of a parked car makes no engine
sound), the span becomes a sustained engine source, named through the open vocabulary
(`naming.py`) from the vehicle labels seen. Only the open-world path uses this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# imagenet_sounds labels of road vehicles (their engines are what a street sounds like)
ROAD_VEHICLES = frozenset({"car", "truck", "bus", "motorcycle", "police car", "fire engine", "tram", "ambulance", "tractor"})
# ImageNet classes that show part of a road vehicle, or one the sound table files elsewhere
VEHICLE_PARTS = ("car wheel", "grille", "car mirror", "minibus", "recreational vehicle", "go-kart", "cab", "tow truck",
                 "beach wagon", "trailer truck", "streetcar", "pickup", "forklift", "snowplow", "half track", "amphibian")


@dataclass
class SceneSourceConfig:
    enabled: bool = True
    step_seconds: float = 1.0  # the picture is named once per step
    min_mass: float = 0.3  # probability on road vehicles that makes a step show traffic
    min_change: float = 0.03  # share of pixels that change within the step (something moves)
    min_span: float = 1.0  # seconds of traffic needed for a source


@dataclass
class SceneSpan:
    start: float
    end: float
    mass: float  # mean probability on road vehicles
    probs: np.ndarray  # mean ImageNet probabilities over the span [1000]


@lru_cache(maxsize=1)
def vehicle_classes() -> np.ndarray:
    """ImageNet indices of road vehicles and their parts."""
    from .imagenet_sounds import imagenet_sound
    from .naming import imagenet_labels

    labels = imagenet_labels()
    parts = {p.lower() for p in VEHICLE_PARTS}
    out = [i for i, lab in enumerate(labels)
           if (imagenet_sound(i) or ("",))[0] in ROAD_VEHICLES or any(w.strip().lower() in parts for w in lab.split(","))]
    return np.asarray(out, int)


def square_views(frame: np.ndarray) -> np.ndarray:
    """[k, S, S, 3] squares of side S = the frame's shorter side across its longer one (one for
    a square frame, three for a wide one), so the classifier sees undistorted shapes."""
    h, w = frame.shape[:2]
    s = min(h, w)
    n = 1 if max(h, w) < 1.3 * s else 3
    starts = np.linspace(0, max(h, w) - s, n).round().astype(int)
    return np.stack([frame[:, a:a + s] if w >= h else frame[a:a + s] for a in starts])


def changed_share(a: np.ndarray, b: np.ndarray, threshold: float = 20.0) -> float:
    return float((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > threshold).mean())


def traffic_steps(frames: np.ndarray, fps: float, classify, cfg: SceneSourceConfig) -> list[tuple[float, float, float, np.ndarray]]:
    """(start, end, vehicle mass, probabilities) per step of the clip that shows moving traffic.
    `classify`: uint8 images [k, H, W, 3] -> ImageNet probabilities [k, 1000]."""
    step = max(1, int(round(cfg.step_seconds * fps)))
    idx = vehicle_classes()
    out = []
    for a in range(0, len(frames), step):
        b = min(len(frames), a + step)
        mid = (a + b - 1) // 2
        if b - a < 2 or changed_share(frames[a], frames[b - 1]) < cfg.min_change:
            continue
        probs = np.asarray(classify(square_views(frames[mid]))).mean(0)
        mass = float(probs[idx].sum())
        if mass >= cfg.min_mass:
            out.append((a / fps, b / fps, mass, probs))
    return out


def traffic_spans(steps: list[tuple[float, float, float, np.ndarray]], min_span: float, gap: float = 0.05) -> list[SceneSpan]:
    """Consecutive traffic steps joined into spans of at least `min_span` seconds."""
    spans: list[list] = []
    for a, b, mass, probs in steps:
        if spans and a - spans[-1][1] <= gap:
            spans[-1][1] = b
            spans[-1][2].append(mass)
            spans[-1][3].append(probs)
        else:
            spans.append([a, b, [mass], [probs]])
    return [SceneSpan(a, b, float(np.mean(m)), np.mean(p, axis=0)) for a, b, m, p in spans if b - a >= min_span - 1e-9]


def vehicle_naming(probs: np.ndarray):
    """The vocabulary's name for what the vehicle labels show (their probabilities alone)."""
    from .naming import NamingConfig, name_object

    only = np.zeros_like(probs)
    idx = vehicle_classes()
    only[idx] = probs[idx]
    naming = name_object(only / max(float(only.sum()), 1e-9), 1.0, NamingConfig(min_mass=0.2))
    return naming


def add_traffic(plan, frames: np.ndarray, fps: float, classify, cfg: SceneSourceConfig) -> None:
    """Add one wide engine source over the spans of moving traffic (see the module note) to
    `plan`, unless a tracked source already names a road vehicle."""
    from ..plan import Event, Source

    if not cfg.enabled or len(frames) < 2:
        return
    if any(s.label.rsplit(" ", 1)[0] in ROAD_VEHICLES or s.label in ROAD_VEHICLES for s in plan.semantic.sources):
        return
    spans = traffic_spans(traffic_steps(frames, fps, classify, cfg), cfg.min_span)
    if not spans:
        return
    weights = np.array([s.end - s.start for s in spans])
    naming = vehicle_naming(np.average([s.probs for s in spans], axis=0, weights=weights))
    label = naming.label if naming.kind == "sustained" else "car"
    description = naming.description if naming.kind == "sustained" else "car engines and tyres on the road"
    sid = f"s{len(plan.semantic.sources) + 1}"
    while any(s.id == sid for s in plan.semantic.sources):
        sid += "b"
    mass = float(np.average([s.mass for s in spans], weights=weights))
    plan.semantic.sources.append(Source(sid, label, f"traffic: {description}", diffuse=True, confidence=round(min(1.0, mass), 3)))
    for s in spans:
        plan.temporal.events.append(Event(sid, round(s.start, 3), round(min(s.end, plan.duration), 3), "sustained",
                                          strength=1.0, confidence=round(min(1.0, s.mass), 3)))
    plan.temporal.events.sort(key=lambda e: (e.onset, e.source))
    when = ", ".join(f"{s.start:.1f}-{s.end:.1f} s" for s in spans)
    seen = ", ".join(naming.evidence[:3]) if naming.evidence else "road vehicles"
    plan.notes.append(f"road vehicles move in the picture ({when}; ImageNet sees {seen}): their engines are one wide source, '{label}'")
