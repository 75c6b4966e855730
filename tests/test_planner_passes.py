"""Each pass of the planner run alone (detect -> track -> repair -> identify -> events -> plan):
on a disc bouncing across a generated clip, each pass gets a copy of the Scene the passes
before it made and must add what a user would notice (the disc found, followed, named as a
sound with its bounces, planned on the left); repair and plan also on hand-built Scenes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from prismaudio.planner import passes
from prismaudio.planner.config import PlannerConfig
from prismaudio.planner.events.visual import VisualEvent
from prismaudio.planner.identify.recognise import Recognition
from prismaudio.planner.plan import side_of
from prismaudio.planner.tracks import Analysis, Track
from prismaudio.planner.scene import Scene
from prismaudio.planner_training.devclips import DevSource, disc, render_clip

FPS = 25.0


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """The clip, and a snapshot of the Scene after each pass (each test copies the one before its pass)."""
    clip = render_clip([DevSource(disc(14, (230, 40, 40)), 0.2, 0.3, 0.2, 0.0)], duration=3.0)
    # (no trained head: a red disc is no SynthCanvas sprite, so it takes the open-world path)
    cfg = PlannerConfig(head_path=str(tmp_path_factory.mktemp("nohead") / "none.safetensors"))
    scene = Scene(clip.frames, FPS, len(clip.frames) / FPS, cfg)
    snapshots = {}
    for p in passes.PASSES:
        scene = p(scene)
        snapshots[p.__name__] = copy.deepcopy(scene)
    return clip, cfg, snapshots


def _before(stages, name: str) -> Scene:
    _, cfg, snapshots = stages
    names = [p.__name__ for p in passes.PASSES]
    k = names.index(name)
    if k == 0:
        clip = stages[0]
        return Scene(clip.frames, FPS, len(clip.frames) / FPS, cfg)
    return copy.deepcopy(snapshots[names[k - 1]])


def test_detect_finds_the_disc_in_every_frame(stages):
    clip = stages[0]
    scene = passes.detect(_before(stages, "detect"))
    assert scene.shots == [(0, len(clip.frames) - 1)]
    (shot,) = scene.detections
    assert shot.path is None  # a still camera
    blobs = shot.foreground.blobs
    assert len(blobs) == len(clip.frames)
    one = [b for b in blobs if len(b) == 1]
    assert len(one) >= 0.9 * len(blobs)
    errors = [abs(b[0].x - x) for b, x in zip(blobs, clip.x[0]) if len(b) == 1 and np.isfinite(x)]
    assert np.median(errors) < 0.02


def test_track_follows_the_disc(stages):
    clip = stages[0]
    scene = passes.track(_before(stages, "track"))
    (tr,) = scene.analysis.tracks
    truth = clip.x[0][tr.frames]
    assert tr.end - tr.start >= len(clip.frames) - 3
    assert np.nanmax(np.abs(tr.x - truth)) < 0.03
    assert scene.work is not None and len(scene.work) == len(clip.frames)


def _track(tid: int, start: int, length: int) -> Track:
    frames = np.arange(start, start + length)
    ones = np.ones(length)
    return Track(tid, frames, 0.5 * ones, 0.5 * ones, 0.1 * ones, 0.1 * ones, 0.01 * ones, 100 * ones,
                 np.ones(length, bool), [(10, 10, 20, 20)] * length)


def _repaired_with_a_cap_of_two() -> Scene:
    """Four tracks (40, 2, 30 and 20 frames long) through the repair pass with max_sources 2."""
    cfg = PlannerConfig(max_sources=2)
    tracks = [_track(0, 0, 40), _track(1, 5, 2), _track(2, 10, 30), _track(3, 2, 20)]
    scene = Scene(np.zeros((50, 32, 32, 3), np.uint8), FPS, 2.0, cfg)
    scene.analysis = Analysis(FPS, 50, 32, 32, tracks, False, False, np.zeros((16, 16, 3), np.uint8))
    return passes.repair(scene)


def test_repair_keeps_the_longest_lived_tracks_and_drops_flickers():
    scene = _repaired_with_a_cap_of_two()
    assert [t.id for t in scene.analysis.tracks] == [0, 2]  # the two longest, in order of appearance


def test_identify_names_the_disc_from_imagenet(stages):
    scene = passes.identify(_before(stages, "identify"))
    assert scene.mode == "open"
    (p,) = scene.probabilities
    assert p.shape == (1000,) and abs(float(p.sum()) - 1.0) < 1e-3
    assert len(scene.recognitions) == 1


def test_events_finds_the_bounces(stages):
    clip = stages[0]
    scene = passes.events(_before(stages, "events"))
    (source,) = scene.open_sources
    onsets = [e.onset for e in source.events if e.kind == "impact"]
    assert clip.impacts[0]
    for t in clip.impacts[0]:
        assert min(abs(t - o) for o in onsets) <= 0.04 + 1e-6


def test_plan_puts_the_disc_on_the_left_with_its_bounces(stages):
    clip = stages[0]
    scene = passes.plan(_before(stages, "plan"))
    plan = scene.plan
    assert len(plan.semantic.sources) == 1
    assert side_of(plan.spatial.tracks[0].x_at(0.1)) == -1
    onsets = [e.onset for e in plan.temporal.events if e.kind == "impact"]
    assert len(onsets) >= len(clip.impacts[0])


def test_plan_of_a_hand_built_canvas_scene():
    """Canvas path: one impact-kind track named by the head, two contacts -> two impacts."""
    cfg = PlannerConfig()
    tr = _track(0, 0, 50)
    tr.x = np.linspace(0.8, 0.9, 50)  # on the right
    tr.boxes = [(10, 26, 20, 30)] * 50  # (top, left, bottom, right) pixels of the 32-pixel-wide frame
    scene = Scene(np.zeros((50, 32, 32, 3), np.uint8), FPS, 2.0, cfg)
    scene.analysis = Analysis(FPS, 50, 32, 32, [tr], False, False, np.zeros((16, 16, 3), np.uint8))
    scene.work = scene.frames
    scene.mode = "canvas"
    scene.recognitions = [Recognition("snare drum", "a snare drum", "impact", 0.9, "canvas")]
    scene.visual = {0: [VisualEvent(0, 0.4, "contact", 1.0), VisualEvent(0, 1.2, "contact", 1.0), VisualEvent(0, 0.0, "appear", 1.0)]}
    plan = passes.plan(scene).plan
    assert [s.label for s in plan.semantic.sources] == ["snare drum"]
    assert [(e.onset, e.kind) for e in plan.temporal.events] == [(0.4, "impact"), (1.2, "impact")]
    assert side_of(plan.spatial.tracks[0].x_at(1.0)) == 1


def test_run_stops_after_the_named_pass_and_refuses_unknown_ones(stages):
    clip, cfg, _ = stages
    scene = passes.run(Scene(clip.frames, FPS, len(clip.frames) / FPS, cfg), until="track")
    assert scene.analysis is not None and scene.plan is None and scene.mode == ""
    assert set(scene.seconds) == {"detect", "track"}
    with pytest.raises(ValueError, match="no pass named 'name'"):
        passes.run(scene, until="name")


def test_repair_keeps_the_tracks_past_the_cap_aside():
    scene = _repaired_with_a_cap_of_two()
    assert [t.id for t in scene.spare] == [3]  # past the cap, long enough; the flicker of 2 frames is gone


def test_identify_puts_a_track_past_the_cap_in_the_place_of_one_that_never_moves(stages):
    from dataclasses import replace

    scene = _before(stages, "identify")
    (disc,) = scene.analysis.tracks
    n, h, w = scene.frames.shape[:3]
    texture = np.random.default_rng(0).integers(0, 255, (h - h // 2, w - w // 2, 3), dtype=np.uint8)
    for frames in (scene.frames, scene.work):  # a still, textured corner: its corners hold still
        frames[:, h // 2 :, w // 2 :] = texture
    small = scene.analysis.small  # ... in the motion frames too (nothing moves in its place)
    small[:, small.shape[1] // 2 :, small.shape[2] // 2 :] = texture[: small.shape[1] - small.shape[1] // 2, : small.shape[2] - small.shape[2] // 2]
    # a patch of the picture the tracker took for an object, where nothing moves: longer-lived than the disc
    still = Track(99, np.arange(n), np.full(n, 0.85), np.full(n, 0.85), np.full(n, 0.2), np.full(n, 0.2), np.full(n, 0.04),
                  np.full(n, 100.0), np.ones(n, bool), [(int(0.75 * scene.frames.shape[1]), int(0.75 * scene.frames.shape[2]),
                                                         scene.frames.shape[1] - 1, scene.frames.shape[2] - 1)] * n)
    scene.config = replace(scene.config, max_sources=1, refill_sources=True)
    scene.analysis.tracks, scene.spare = [still], [disc]
    scene = passes.identify(scene)
    assert [t.id for t in scene.analysis.tracks] == [disc.id]
    assert len(scene.probabilities) == 1
