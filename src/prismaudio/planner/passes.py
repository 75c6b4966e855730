"""The planner as a pipeline of passes: detect -> track -> repair -> identify -> events -> plan.

Each pass is a function Scene -> Scene (`scene.py`) that fills in its own fields of the
Scene from what the passes before it filled in; `run` applies them in order. A pass can be
run alone on a hand-built Scene (the tests do), and `run(scene, until="track")` stops early
(the planner's training and the gate's data collection need only the tracks).

Two kinds of footage take two paths from `identify` on, chosen by the canvas gate
(`canvas/gate.py`): SynthCanvas-like footage is named by the trained head and timed by the
sync encoder ("canvas"); other footage is named from ImageNet through the sound vocabulary and
its events come from motion ("open").

The repairs that need names (a track holding two touching objects, a track that swapped onto
a newcomer, two objects given one name: `repair/merged.py`, `repair/swaps.py`,
`repair/namesakes.py`) run inside `identify`, where the recogniser names the pieces again;
`repair` does those that need none.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .canvas.gate import canvas_footage
from .compose.canvas_plan import build_plan
from .config import PlannerConfig
from .detect.camera import scene_homographies
from .detect.shots import detect_shots
from .events.canvas_events import visual_events
from .events.motion import shown_times
from .events.open_world import build_open_plan, plan_open_world
from .events.picture_contacts import find_picture_contacts
from .events.settles import Changes, track_moves
from .identify.object_kinds import object_kinds
from .identify.people import find_people
from .identify.recognise import Recogniser
from .identify.scene_motion import scene_bound_tracks, without_scene_bound
from .identify.scene_sources import add_traffic
from .plan import Source
from .repair.carried import carry_with_camera
from .repair.ghosts import ghost_tracks
from .repair.namesakes import rename_namesakes
from .repair.onsets import appearances
from .repair.rests import extend_over_rests
from .repair.swaps import repair_swaps
from .scene import Scene
from .tracks import Analysis
from .track.objects import track_shots

_RECOGNISERS: dict[str, Recogniser] = {}


def recogniser_for(head_path: str, crops_per_track: int) -> Recogniser:
    """One recogniser per head and crop count for the process (its encoder loads once)."""
    key = f"{head_path}|{crops_per_track}"
    if key not in _RECOGNISERS:
        _RECOGNISERS[key] = Recogniser(head_path or None, crops_per_track)
    return _RECOGNISERS[key]


def _recogniser(scene: Scene) -> Recogniser:
    return recogniser_for(scene.config.head_path, scene.config.crops_per_track)


def detect(scene: Scene) -> Scene:
    """Shots, the camera's motion in each (taken out) and the foreground blobs of every frame."""
    cfg = scene.config
    scene.shots, scene.detections = detect_shots(scene.frames, scene.fps, cfg.analyser, cfg.camera, cfg.shots)
    return scene


def track(scene: Scene) -> Scene:
    """Blobs linked into tracks shot by shot (crossed tracks given their objects back), in
    screen positions on the clip's timeline."""
    found = track_shots(scene.detections, scene.shots, scene.fps, scene.config.analyser)
    scene.analysis, scene.work = found.analysis, found.frames
    return scene


def repair(scene: Scene) -> Scene:
    """When each track really began (inside another object's blob), and the longest-lived
    tracks kept (at most `max_sources`, none shorter than `min_track_seconds`)."""
    cfg, analysis = scene.config, scene.analysis
    appeared = appearances(analysis.tracks, cfg.onsets)
    min_frames = max(cfg.analyser.min_frames, int(round(cfg.min_track_seconds * scene.fps)))
    tracks = sorted([t for t in analysis.tracks if t.observed.sum() >= min_frames], key=lambda t: -t.observed.sum())
    scene.spare = tracks[cfg.max_sources :]
    tracks = sorted(tracks[: cfg.max_sources], key=lambda t: t.start)
    scene.appeared = {tr.id: appeared[tr.id] for tr in tracks if tr.id in appeared}  # (merged-track splits take the others' ids)
    analysis.tracks = tracks
    return scene


def identify(scene: Scene) -> Scene:
    """What each track is. The head names every track; the canvas gate says whether to trust
    it. Canvas: pairs split, swaps cut and namesakes told apart by naming the pieces again.
    Open (footage whose camera moves always is): which tracks are objects
    (`_open_world_objects`: the camera measured once, ghosts of resting places and regions that
    only move with the camera dropped, still objects held over their rests, `repair/rests.py`:
    it needs the gate's answer), each track's mean ImageNet probabilities and object kind
    (the events pass names it from them and from its motion), and which tracks are parts of
    people seen by their faces."""
    cfg, analysis, frames = scene.config, scene.analysis, scene.work
    recogniser = _recogniser(scene)
    recognitions, features = recogniser.recognise_with_features(frames, analysis.tracks)
    moving = any(d.path is not None or d.camera_steps is not None for d in scene.detections)
    canvas = canvas_footage(recognitions, features, cfg.gate, scene.frames, recogniser.encoder, camera_moves=moving)
    scene.mode = "canvas" if canvas else "open"
    if scene.mode == "open":
        features = _open_world_objects(scene, features)
        scene.probabilities = [recogniser.encoder.classify_features(f).mean(0).numpy() for f in features]
        scene.kinds = object_kinds(features, cfg.open_world.names.kinds_path)
        # (the homographies are in the decoded frames' pixels: where a pan was taken out, the
        # frames the tracks refer to are stabilised and a printed face stands still in them)
        stabilised = any(d.path is not None for d in scene.detections)
        scene.people = find_people(frames, analysis.tracks, scene.fps, cfg.open_world.people,
                                   None if stabilised else scene.homographies)
    else:
        tracks, recognitions = recogniser.separate_merged(frames, analysis.tracks, recognitions, cfg.merged)
        tracks, recognitions = repair_swaps(frames, tracks, recognitions, recogniser, cfg.swaps)
        recognitions = rename_namesakes(tracks, recognitions, recogniser, cfg.namesakes)
        analysis.tracks = tracks
    scene.recognitions, scene.features = recognitions, features
    return scene


def _open_world_objects(scene: Scene, features: list) -> list:
    """Open path: which tracks are objects (the crop features of those left). The camera's
    motion is measured once (the events pass takes it out of the objects' paths; where it moves,
    the background model's rests and the places of still objects mean nothing); on a still
    camera the picture's changes are worked out and ghosts of resting places dropped; regions
    that only move with the camera (or never move, unless they moved in place) are dropped;
    spare tracks take freed places; still objects are held over their rests (on a still camera)
    or carried with the floor (where the camera turns or travels)."""
    cfg, analysis = scene.config, scene.analysis
    scene.homographies = scene_homographies(scene.frames, scene.shots, cfg.camera, analysis, scene.detections[0].camera_steps)
    still = len(scene.detections) == 1 and scene.detections[0].path is None and scene.homographies is None
    settles = cfg.open_world.settles
    if still and settles.enabled and analysis.small is not None:
        scene.changes = Changes(analysis.small, settles.diff_threshold, analysis.small_factor)
    if still:
        features = _without_ghosts(analysis, features, cfg)
    moved = (lambda tr: bool(track_moves(tr, scene.changes, settles, analysis.fps))) if scene.changes is not None else None
    features, scene.in_place = without_scene_bound(scene.frames, analysis, features, cfg.scene_motion, keep=moved)
    features = _refill(scene, features)
    if still:
        extend_over_rests(analysis, cfg.rests)  # a still object sounds from where it sits, seen or not by the background model
    elif scene.homographies is not None and cfg.rests.enabled and cfg.rests.with_camera:
        carry_with_camera(analysis, scene.homographies)  # ... and where the camera moves, it moves with the floor
    return features


def _without_ghosts(analysis: Analysis, features: list, cfg: PlannerConfig) -> list:
    """The features of the tracks left when the ghosts of resting places (`repair/ghosts.py`)
    are taken out of the analysis, with a note."""
    ghosts = ghost_tracks(analysis.tracks, analysis.num_frames, analysis.fps, cfg.ghosts, analysis.width * analysis.height)
    if not ghosts:
        return features
    kept = [(tr, f) for tr, f in zip(analysis.tracks, features) if tr.id not in ghosts]
    analysis.tracks = [tr for tr, _ in kept]
    analysis.notes.append(f"{len(ghosts)} still region(s) were where an object came to rest or had rested (the background "
                          "model's ghost of it), not an object: no sound is planned for them")
    return [f for _, f in kept]


def _refill(scene: Scene, features: list) -> list:
    """Open path, with `refill_sources`: tracks the source cap left out (`repair` keeps the
    longest-lived, and where the camera moves, regions of the textured floor are among them) take
    the places of those the scene-motion filter dropped, when they move on their own. The
    features of the tracks."""
    cfg, analysis = scene.config, scene.analysis
    free = cfg.max_sources - len(analysis.tracks)
    if not cfg.refill_sources or free <= 0 or not scene.spare or not cfg.scene_motion.enabled:
        return features
    spare = scene.spare[: 2 * cfg.max_sources]
    bound = scene_bound_tracks(scene.frames, spare, analysis.fps, cfg.scene_motion)
    extra = [tr for tr in spare if tr.id not in bound][:free]
    if not extra:
        return features
    _, more = _recogniser(scene).recognise_with_features(scene.work, extra)
    pairs = sorted(zip(analysis.tracks + extra, list(features) + list(more)), key=lambda p: p[0].start)
    analysis.tracks = [tr for tr, _ in pairs]
    return [f for _, f in pairs]


def events(scene: Scene) -> Scene:
    """Canvas: impacts timed by the sync encoder, appearances (and kinks of unnamed objects).
    Open: contacts and sustained motion of each track with the camera's motion taken out,
    each track named from its ImageNet probabilities and its motion."""
    cfg, analysis = scene.config, scene.analysis
    if scene.mode == "open":
        times = shown_times(analysis.num_frames, analysis.fps, scene.source_fps)
        picture = find_picture_contacts(scene.frames, scene.work, analysis, times, cfg.open_world.picture)
        scene.open_sources, scene.event_notes = plan_open_world(analysis, scene.probabilities, cfg.open_world, times,
                                                                scene.homographies, scene.kinds or None, scene.in_place,
                                                                scene.changes, scene.people, picture)
    else:
        generic = {tr.id for tr, rec in zip(analysis.tracks, scene.recognitions) if rec.origin != "canvas"}
        scene.visual = visual_events(scene.work, analysis, scene.recognitions, generic, cfg.impacts, cfg.events)
    return scene


def plan(scene: Scene) -> Scene:
    """The four modules: sources, events, aesthetic and spatial tracks; traffic seen as a whole
    (open path); a quiet ambience where nothing moves but the scene is clear; validated."""
    import torch

    cfg, analysis, frames = scene.config, scene.analysis, scene.work
    recogniser = _recogniser(scene)
    if scene.mode == "open":
        out = build_open_plan(analysis, scene.open_sources, scene.duration, scene.event_notes, cfg.box_tolerance,
                              cfg.smooth_frames, cfg.spatial_rate)
        add_traffic(out, scene.frames, scene.fps,
                    lambda images: recogniser.encoder.classify(torch.from_numpy(np.ascontiguousarray(images))).numpy(),
                    cfg.scene_sources)
    else:
        out = build_plan(analysis, scene.recognitions, scene.visual, scene.duration, cfg, scene.appeared)
    if not analysis.tracks and not analysis.blank and len(frames):
        seen = recogniser.scene(frames[len(frames) // 2])
        if seen is not None and seen.confidence >= cfg.scene_ambience:
            out.semantic.sources.append(Source("ambience", seen.label, f"the ambience of the scene: {seen.description}",
                                               diffuse=True, confidence=round(float(min(1.0, seen.confidence)), 3)))
            out.notes.append(f"the scene looks like '{seen.label}' (ImageNet), kept as quiet ambience without events")
    scene.plan = out.validate()
    return scene


PASSES: tuple[Callable[[Scene], Scene], ...] = (detect, track, repair, identify, events, plan)


def run(scene: Scene, until: str = "plan") -> Scene:
    """The passes in order, up to and including `until`; each pass's wall time in `scene.seconds`."""
    names = [p.__name__ for p in PASSES]
    if until not in names:
        raise ValueError(f"no pass named {until!r} (passes: {', '.join(names)})")
    for p in PASSES[: names.index(until) + 1]:
        t = time.perf_counter()
        scene = p(scene)
        scene.seconds[p.__name__] = time.perf_counter() - t
    return scene
