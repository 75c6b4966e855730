"""`plan_video(path) -> Plan`: the default, offline planner that works on any video.

decode at 25 fps (analysis size) -> track moving objects -> name them -> detect their
visual events -> follow their horizontal position and apparent size -> the four modules.
Impact sources get one event per contact/squash/flash; sustained sources sound from when
they appear to when they leave.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import media
from .analyser import AnalyserConfig, Analysis, analysis_size
from .camera import CameraConfig
from .canvas_gate import GateConfig, is_canvas_clip, load_probe, load_prototypes, probe_inputs, probe_scores, sprite_similarity
from .detect import ShotConfig, detect
from .events import EventConfig, VisualEvent, detect_events
from .merged import MergedConfig
from .namesakes import NamesakeConfig, rename_namesakes
from .onsets import OnsetConfig, appearances
from .open_world import OpenWorldConfig, build_open_plan, plan_open_world
from .swaps import SwapConfig, repair_swaps
from .impacts import ImpactConfig, assign_impacts, impact_probability, sync_peaks
from .plan import (
    Aesthetic,
    Event,
    Plan,
    Semantic,
    Source,
    Spatial,
    SpatialTrack,
    Temporal,
)
from .recognise import Recogniser, Recognition
from .scene_motion import SceneMotionConfig, scene_bound_tracks
from .scene_sources import SceneSourceConfig, add_traffic
from .spatial import smoothed, spatial_track, spatial_x  # noqa: F401 (spatial_x, smoothed: part of this module's API)

log = logging.getLogger(__name__)


@dataclass
class PlannerConfig:
    fps: float = 25.0  # analysis frame rate
    analyser: AnalyserConfig = field(default_factory=AnalyserConfig)
    events: EventConfig = field(default_factory=EventConfig)
    impacts: ImpactConfig = field(default_factory=ImpactConfig)
    merged: MergedConfig = field(default_factory=MergedConfig)  # one track holding two touching objects
    onsets: OnsetConfig = field(default_factory=OnsetConfig)  # objects that appear inside another one's blob
    swaps: SwapConfig = field(default_factory=SwapConfig)  # a track that swapped onto a newcomer, cut at the swap
    namesakes: NamesakeConfig = field(default_factory=NamesakeConfig)  # two objects seen together, given one name
    crops_per_track: int = 5  # crops per track for recognition (EfficientNet cost grows with it)
    impact_length: float = 0.25  # seconds an impact event lasts in the plan
    spatial_rate: float = 5.0  # spatial track points per second
    smooth_frames: int = 3  # x is averaged over this many frames (centroid jitter; more would flatten wobbles)
    box_tolerance: float = 0.2  # x from the box centre where the box is this close to the track's usual size (0: centroid)
    max_sources: int = 6  # the strongest (longest-lived) tracks become sources
    min_track_seconds: float = 0.2
    head_path: str = ""  # empty: the packaged recognition head
    torch_threads: int = 1  # the planner's tensors are small: one thread is fastest (and leaves a core to decoding)
    camera: CameraConfig = field(default_factory=CameraConfig)  # camera pans are estimated and taken out
    shots: ShotConfig = field(default_factory=ShotConfig)  # edited footage is analysed shot by shot
    gate: GateConfig = field(default_factory=GateConfig)  # SynthCanvas footage or not (canvas_gate.py)
    open_world: OpenWorldConfig = field(default_factory=OpenWorldConfig)  # naming and events from motion elsewhere
    scene_motion: SceneMotionConfig = field(default_factory=SceneMotionConfig)  # regions that move only with the camera
    scene_sources: SceneSourceConfig = field(default_factory=SceneSourceConfig)  # engines of traffic seen as a whole
    scene_ambience: float = 0.5  # with no moving object, a scene ImageNet names this surely becomes a quiet ambience


@dataclass
class PlanTrace:
    """What the planner saw, for debugging and for the LLM backend's prompt."""

    analysis: Analysis
    recognitions: list[Recognition]
    visual_events: dict[int, list[VisualEvent]]
    seconds: dict[str, float]
    mode: str = "canvas"  # canvas | open (which path planned the clip)


_RECOGNISERS: dict[str, Recogniser] = {}


def _recogniser(cfg: PlannerConfig) -> Recogniser:
    key = f"{cfg.head_path}|{cfg.crops_per_track}"
    if key not in _RECOGNISERS:
        _RECOGNISERS[key] = Recogniser(cfg.head_path or None, cfg.crops_per_track)
    return _RECOGNISERS[key]


def decode_for_analysis(path: str | Path, cfg: PlannerConfig) -> tuple[np.ndarray, media.VideoInfo]:
    info = media.probe(path)
    width, height = info.display_size
    size = analysis_size(width, height, cfg.analyser.max_side)
    frames = media.decode_frames(path, fps=cfg.fps, size=size, resize_mode="stretch")
    return frames.numpy(), info


def plan_video(path: str | Path, cfg: PlannerConfig | None = None, trace: list | None = None) -> Plan:
    """Plan the soundtrack of a video offline. Bad files raise MediaError (one line)."""
    cfg = cfg or PlannerConfig()
    t0 = time.perf_counter()
    frames, info = decode_for_analysis(path, cfg)
    t1 = time.perf_counter()
    source_fps = 0.0 if info.variable_fps else float(info.fps)
    plan = plan_frames(frames, cfg.fps, info.duration, cfg, trace=trace, decode_seconds=t1 - t0, source_fps=source_fps)
    return plan


def plan_frames(frames: np.ndarray, fps: float, duration: float, cfg: PlannerConfig | None = None,
                trace: list | None = None, decode_seconds: float = 0.0, source_fps: float = 0.0) -> Plan:
    """`source_fps`: the video's own frame rate when it is constant (0: unknown), so the
    open-world path times contacts on the frames the video really showed."""
    import torch

    cfg = cfg or PlannerConfig()
    before = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        return _plan_frames(frames, fps, duration, cfg, trace, decode_seconds, source_fps)
    finally:
        torch.set_num_threads(before)


def tracked_objects(frames: np.ndarray, fps: float, cfg: PlannerConfig) -> tuple[Analysis, np.ndarray, dict[int, int], list]:
    """(analysis holding the longest-lived tracks, the frames it was made on (stabilised where the
    camera moved), frame each track appeared at inside another object's blob, the clip's shots)."""
    found = detect(frames, fps, cfg.analyser, cfg.camera, cfg.shots)
    analysis, frames = found.analysis, found.frames
    appeared = appearances(analysis.tracks, cfg.onsets)
    min_frames = max(cfg.analyser.min_frames, int(round(cfg.min_track_seconds * fps)))
    tracks = sorted([t for t in analysis.tracks if t.observed.sum() >= min_frames], key=lambda t: -t.observed.sum())
    tracks = sorted(tracks[: cfg.max_sources], key=lambda t: t.start)
    appeared = {tr.id: appeared[tr.id] for tr in tracks if tr.id in appeared}  # (merged-track splits take the others' ids)
    analysis.tracks = tracks
    return analysis, frames, appeared, found.shots


def _plan_frames(frames: np.ndarray, fps: float, duration: float, cfg: PlannerConfig,
                 trace: list | None, decode_seconds: float, source_fps: float = 0.0) -> Plan:
    import torch

    t1 = time.perf_counter()
    screen = frames  # as decoded (before stabilisation)
    analysis, frames, appeared, shots = tracked_objects(frames, fps, cfg)
    tracks = analysis.tracks
    t2 = time.perf_counter()
    recogniser = _recogniser(cfg)
    recognitions, features = recogniser.recognise_with_features(frames, tracks)
    mode = "canvas" if canvas_footage(recognitions, features, cfg.gate) else "open"
    if mode == "open":
        tracks, features = without_scene_bound(screen, analysis, features, cfg.scene_motion)
        probs = [recogniser.encoder.classify_features(f).mean(0).numpy() for f in features]
        held = scene_homographies(screen, shots, cfg.camera, analysis)
        sources, notes = plan_open_world(analysis, probs, cfg.open_world, source_fps, held)
        plan = build_open_plan(analysis, sources, duration, notes, cfg.box_tolerance, cfg.smooth_frames, cfg.spatial_rate)
        add_traffic(plan, screen, fps, lambda images: recogniser.encoder.classify(torch.from_numpy(np.ascontiguousarray(images))).numpy(),
                    cfg.scene_sources)
        visual: dict[int, list[VisualEvent]] = {}
    else:
        tracks, recognitions = recogniser.separate_merged(frames, tracks, recognitions, cfg.merged)
        tracks, recognitions = repair_swaps(frames, tracks, recognitions, recogniser, cfg.swaps)
        recognitions = rename_namesakes(tracks, recognitions, recogniser, cfg.namesakes)
        analysis.tracks = tracks
        generic = {tr.id for tr, rec in zip(tracks, recognitions) if rec.origin != "canvas"}
        visual = visual_events(frames, analysis, recognitions, generic, cfg)
        plan = build_plan(analysis, recognitions, visual, duration, cfg, appeared)
    t3 = time.perf_counter()
    if not tracks and not analysis.blank and len(frames):
        scene = recogniser.scene(frames[len(frames) // 2])
        if scene is not None and scene.confidence >= cfg.scene_ambience:
            plan.semantic.sources.append(Source("ambience", scene.label, f"the ambience of the scene: {scene.description}",
                                                diffuse=True, confidence=round(float(min(1.0, scene.confidence)), 3)))
            plan.notes.append(f"the scene looks like '{scene.label}' (ImageNet), kept as quiet ambience without events")
    plan.validate()
    seconds = {"decode": decode_seconds, "analyse": t2 - t1, "recognise_and_events": t3 - t2}
    log.debug("planner timings: %s (%s path)", seconds, mode)
    if trace is not None:
        trace.append(PlanTrace(analysis, recognitions, visual, seconds, mode))
    return plan


def scene_homographies(frames: np.ndarray, shots: list, cfg: CameraConfig, analysis: Analysis | None = None
                       ) -> np.ndarray | None:
    """The camera's motion as frame-to-frame homographies (`camera.frame_homographies`), or
    None where it does not move (`camera.picture_drifts`, judged outside the tracked objects of
    `analysis`), is off, or the clip has cuts (each shot would need its own)."""
    from .camera import frame_homographies, picture_drifts

    boxes: dict[int, list] = {}
    for track in analysis.tracks if analysis is not None else []:
        for frame, box in zip(track.frames, track.boxes):
            boxes.setdefault(int(frame), []).append(box)
    if not cfg.enabled or len(frames) < 3 or len(shots) > 1 or not picture_drifts(
            frames, objects_at=lambda k: boxes.get(int(k), [])):
        return None
    return frame_homographies(frames)


def canvas_footage(recognitions: list[Recognition], features: list, cfg: GateConfig) -> bool:
    """True when the canvas head's answers look like SynthCanvas sprites (canvas_gate.py);
    without the gate or its prototypes, every clip takes the canvas path (as before the gate)."""
    prototypes = load_prototypes() if cfg.enabled else None
    if prototypes is None:
        return True
    named = [(r.confidence, sprite_similarity(f.numpy(), r.label, prototypes))
             for r, f in zip(recognitions, features) if r.origin == "canvas"]
    if is_canvas_clip(named, cfg):
        return True
    probe = load_probe() if cfg.probe else None
    if probe is None or not named:
        return False
    x = probe_inputs(np.stack([f.numpy().mean(0) for r, f in zip(recognitions, features) if r.origin == "canvas"]),
                     np.array([c for c, _ in named]), np.array([s for _, s in named]))
    return bool(probe_scores(x, probe).max() >= probe.threshold)


def without_scene_bound(frames: np.ndarray, analysis: Analysis, features: list, cfg: SceneMotionConfig) -> tuple[list, list]:
    """The tracks (and their crop features) left when those that only move with the camera
    are taken out (`scene_motion.py`); the analysis keeps the rest and a note says why."""
    bound = scene_bound_tracks(frames, analysis.tracks, analysis.fps, cfg)
    if not bound:
        return analysis.tracks, features
    kept = [(tr, f) for tr, f in zip(analysis.tracks, features) if tr.id not in bound]
    analysis.tracks = [tr for tr, _ in kept]
    analysis.notes.append(f"{len(bound)} changing region(s) moved only with the camera (the scene around them moves the same way) "
                          "or not at all: no object moves there, so no sound is planned for them")
    return analysis.tracks, [f for _, f in kept]


def visual_events(frames: np.ndarray, analysis: Analysis, recognitions: list[Recognition], generic: set[int],
                  cfg: PlannerConfig) -> dict[int, list[VisualEvent]]:
    """Events per track: impacts timed by the sync encoder on the whole frame and given to the
    impact-kind track that moved most there; appearances from the tracks; for objects that are
    not SynthCanvas-like, clear trajectory kinks too. Without a sync encoder: the per-track scorer."""
    small = analysis.small if analysis.small is not None else frames
    prob = impact_probability(small, cfg.impacts) if len(frames) > 1 and analysis.tracks else None
    if prob is None:
        return detect_events(analysis, cfg.events, rules_for=generic)
    peaks = sync_peaks(prob, cfg.impacts.threshold, cfg.impacts.separation)
    impact_ids = {tr.id for tr, rec in zip(analysis.tracks, recognitions) if rec.kind == "impact"}
    hits = assign_impacts(peaks, analysis, frames, impact_ids, cfg.impacts)
    rules = detect_events(analysis, cfg.events, learned=False)
    sep = cfg.events.separation / analysis.fps
    # where the head named some objects, unnamed pieces beside them are mostly fragments of
    # those objects: their kinks would be false hits (the encoder already times the named ones)
    kinks = cfg.impacts.kinks_too and all(rec.origin != "canvas" for rec in recognitions)
    peak_times = [p / analysis.fps for p in peaks]
    out: dict[int, list[VisualEvent]] = {}
    for tr in analysis.tracks:
        mine = list(hits.get(tr.id, []))
        for e in rules.get(tr.id, []):
            if e.kind in ("appear", "disappear") or (tr.id in generic and kinks and e.kind == "contact" and e.strength >= cfg.events.strong_turn
                  and all(abs(e.time - t) >= sep for t in peak_times)):
                mine.append(e)
        out[tr.id] = sorted(mine, key=lambda e: e.time)
    return out


def _unique_labels(labels: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            out.append(f"{label} {seen[label]}")
        else:
            out.append(label)
    return out


def group_tracks(tracks: list, recognitions: list[Recognition], max_overlap: int = 3) -> list[list[int]]:
    """Indices of tracks that are one source: same name and (almost) never on screen together.

    The tracker may break one object into pieces (occlusion, merging with another object);
    pieces that get the same name and do not coexist are put back together.
    """
    groups: list[list[int]] = []
    for i in sorted(range(len(tracks)), key=lambda i: tracks[i].start):
        for g in groups:
            if recognitions[g[0]].label != recognitions[i].label:
                continue
            overlap = max(min(tracks[j].end, tracks[i].end) - max(tracks[j].start, tracks[i].start) + 1 for j in g)
            if overlap <= max_overlap:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def _spans(members: list, gap: int, appeared: dict[int, int] | None = None) -> list[tuple[int, int]]:
    """(first, last) frames the members cover, joined over gaps up to `gap`; a member that began
    inside another object's blob counts from when it appeared (`appeared`, by track id)."""
    spans: list[list[int]] = []
    for tr in sorted(members, key=lambda t: t.start):
        start = min(tr.start, (appeared or {}).get(tr.id, tr.start))
        if spans and start - spans[-1][1] <= gap:
            spans[-1] = [min(spans[-1][0], start), max(spans[-1][1], tr.end)]
        else:
            spans.append([start, tr.end])
    return [(a, b) for a, b in spans]


def build_plan(analysis: Analysis, recognitions: list[Recognition], visual: dict[int, list[VisualEvent]],
               duration: float, cfg: PlannerConfig, appeared: dict[int, int] | None = None) -> Plan:
    fps = analysis.fps
    sources, events, tracks, names = [], [], [], []
    end_time = duration
    groups = group_tracks(analysis.tracks, recognitions)
    # A SynthCanvas-style scene shows each sprite once: of several same-named groups seen at the
    # same time, the smaller ones are ghosts or pieces of it. (Other footage may show two dogs.)
    best: dict[str, list[int]] = {}
    for g in groups:
        rec = recognitions[g[0]]
        if rec.origin != "canvas":
            continue
        size = sum(int(analysis.tracks[i].observed.sum()) for i in g)
        if rec.label not in best or size > sum(int(analysis.tracks[i].observed.sum()) for i in best[rec.label]):
            best[rec.label] = g
    # ... but the impacts the sync encoder gave to such a piece are still hits: they go to the
    # object kept under that name (events are timed on the whole frame, not by the tracker)
    absorbed: dict[str, list[int]] = {}
    for g in groups:
        label = recognitions[g[0]].label
        if recognitions[g[0]].origin == "canvas" and best[label] is not g:
            absorbed.setdefault(label, []).extend(g)
    groups = [g for g in groups if recognitions[g[0]].origin != "canvas" or best[recognitions[g[0]].label] is g]
    for k, group in enumerate(sorted(groups, key=lambda g: min(analysis.tracks[i].start for i in g))):
        members = sorted((analysis.tracks[i] for i in group), key=lambda t: t.start)
        rec = max((recognitions[i] for i in group), key=lambda r: r.confidence)
        sid = f"s{k + 1}"
        sources.append(Source(sid, rec.label, rec.description))
        names.append(rec.label)
        if rec.kind == "sustained":
            for a, b in _spans(members, gap=max(2, int(0.2 * fps)), appeared=appeared):
                start = 0.0 if a == 0 else min(a / fps, end_time)
                stop = end_time if b >= analysis.num_frames - 1 else min((b + 1) / fps, end_time)
                if stop > start:
                    events.append(Event(sid, round(start, 3), round(stop, 3), "sustained"))
        else:
            pieces = [analysis.tracks[i] for i in absorbed.get(rec.label, [])] if rec.origin == "canvas" else []
            onsets: list[float] = []
            for tr in members + pieces:
                for ev in visual.get(tr.id, []):
                    if ev.kind in ("contact", "squash", "flash"):
                        onset = float(np.clip(ev.time, 0.0, end_time))
                        if all(abs(onset - o) >= 1.0 / fps for o in onsets):  # one hit, not twice
                            onsets.append(onset)
            for onset in sorted(onsets):
                stop = round(min(onset + cfg.impact_length, end_time), 3)
                if stop > round(onset, 3):  # a hit on the very last frame has no room to sound
                    events.append(Event(sid, round(onset, 3), stop, "impact"))
        tracks.append(spatial_track(sid, members, analysis, end_time, cfg.box_tolerance, cfg.smooth_frames, cfg.spatial_rate))
    for source, label in zip(sources, _unique_labels(names)):
        source.label = label
    events.sort(key=lambda e: (e.onset, e.source))
    notes = list(analysis.notes)
    if not events:
        reason = "nothing moves" if analysis.static else "no contacts or motion changes were seen"
        notes.append(f"no visual events: {reason}, so the plan has no sound onsets")
    quality = ["clean", "well balanced", "natural dynamics"]
    style = ["realistic foley", "percussive, sharp attacks" if any(e.kind == "impact" for e in events) else "smooth, continuous"]
    return Plan(
        duration=round(float(duration), 3), semantic=Semantic(sources), temporal=Temporal(events),
        aesthetic=Aesthetic(quality=quality, style=style), spatial=Spatial(tracks), notes=notes,
    )
