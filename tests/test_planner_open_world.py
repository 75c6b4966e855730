"""The open-world planner: camera motion, shots, naming, the canvas gate, and bad input."""

import numpy as np
import pytest

from prismaudio.planner.detect.camera import camera_moves, camera_offsets, stabilise, to_screen
from prismaudio.planner.canvas.gate import GateConfig, is_canvas_clip
from prismaudio.planner.detect.shots import ShotConfig, shot_bounds
from prismaudio.planner.identify.naming import NamingConfig, imagenet_labels, name_object


def texture(h, w, seed=0):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    return ndimage.uniform_filter((rng.random((h, w, 3)) * 255).astype(np.uint8), (5, 5, 1))


def panning(n=30, step=2, h=112, w=112):
    big = texture(h + 10, w + n * step + 10)
    return np.stack([big[5 : 5 + h, 5 + step * k : 5 + step * k + w] for k in range(n)])


def test_a_pan_is_measured_and_taken_out():
    frames = panning()
    path = camera_offsets(frames)
    assert abs(path[-1, 0] - (-2 * 29)) < 1.5 and abs(path[-1, 1]) < 1.0
    assert camera_moves(path, 112, 112, 0.02)
    still = stabilise(frames, path)
    err = np.abs(still[-1, :, :40].astype(int) - still[0, :, :40]).mean()
    assert err < 0.3 * np.abs(frames[-1].astype(int) - frames[0]).mean()
    assert np.allclose(to_screen(np.array([0.5]), np.array([29]), path, 112), 0.5 + path[29, 0] / 112)


def test_an_object_over_a_flat_or_still_background_is_not_camera_motion():
    flat = np.full((30, 112, 112, 3), 90, np.uint8)
    still = np.repeat(texture(112, 112)[None], 30, axis=0)
    for k in range(30):
        for f in (flat, still):
            f[k, 40:70, 10 + 3 * k : 40 + 3 * k] = (220, 40, 40)
            f[k, 45:50, 15 + 3 * k : 20 + 3 * k] = (20, 20, 20)
    for f in (flat, still):
        assert not camera_moves(camera_offsets(f), 112, 112, 0.02)


def test_cuts_split_the_clip_into_shots():
    a, b = np.repeat(texture(64, 64, 1)[None], 20, 0), np.repeat(texture(64, 64, 2)[None] // 2, 30, 0)
    assert shot_bounds(np.concatenate([a, b]), 25.0, ShotConfig()) == [(0, 19), (20, 49)]
    assert shot_bounds(a, 25.0, ShotConfig()) == [(0, 19)]


def blocks(colours: np.ndarray, frames: int, rng) -> np.ndarray:
    """`frames` noisy frames of a 4 x 4 grid of flat colours (a stand-in for a street of grey walls)."""
    img = np.zeros((96, 128, 3), np.uint8)
    for i, c in enumerate(colours):
        img[(i // 4) * 24 : (i // 4 + 1) * 24, (i % 4) * 32 : (i % 4 + 1) * 32] = c
    return np.clip(img[None].astype(int) + rng.integers(-3, 4, (frames,) + img.shape), 0, 255).astype(np.uint8)


def test_a_cut_between_two_shots_in_the_same_colours_is_found_but_a_flash_or_a_passing_object_is_no_cut():
    rng = np.random.default_rng(0)
    colours = 16 + 32 * rng.integers(1, 7, (16, 3))
    other = colours[rng.permutation(16)]  # the same place from another angle: mostly the same colours
    other[:3] = 16 + 32 * rng.integers(1, 7, (3, 3))
    clip = np.concatenate([blocks(colours, 20, rng), blocks(other, 30, rng)])
    assert shot_bounds(clip, 25.0, ShotConfig()) == [(0, 19), (20, 49)]
    assert shot_bounds(clip, 25.0, ShotConfig(min_change=0.4)) == [(0, 49)]  # the colours change by only ~0.2
    flash = blocks(colours, 40, rng)
    flash[20] = np.clip(flash[20].astype(int) + 90, 0, 255)
    assert shot_bounds(flash, 25.0, ShotConfig()) == [(0, 39)]
    passing = blocks(colours, 40, rng)
    for k in range(10, 40):  # a red lorry drives in and fills most of the picture
        passing[k, 10:90, : min(120, 40 * (k - 9))] = (200, 30, 30)
    assert shot_bounds(passing, 25.0, ShotConfig()) == [(0, 39)]


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    probs = np.full(1000, (1 - p) / 999)
    probs[imagenet_labels().index(label)] = p
    return probs


def test_naming_maps_imagenet_labels_to_sound_classes_or_free_text_or_unknown():
    car = name_object(one_hot("sports car"), 0.5)
    assert car.label == "car passing" and car.kind == "sustained" and car.confidence > 0.5  # the library class table
    ball = name_object(one_hot("ping-pong ball"), 1.0)
    assert ball.label == "ping-pong ball" and ball.kind is None  # no sound class: free text, the motion decides
    flat = name_object(np.full(1000, 1e-3), 1.0)
    assert flat.label == "unknown object" and flat.confidence < 0.1


def test_people_are_footsteps_from_clothes_or_a_walking_tall_shape():
    dressed = name_object(one_hot("jeans", 0.5), 2.5)
    assert dressed.person and dressed.label == "footsteps"
    blurred_walker = name_object(np.full(1000, 1e-3), 2.5, walks=True)
    assert blurred_walker.person and blurred_walker.confidence < dressed.confidence
    assert not name_object(np.full(1000, 1e-3), 2.5, walks=False).person  # a standing pole is no walker
    assert not name_object(one_hot("jeans", 0.5), 0.8).person  # jeans on a table


def test_canvas_gate():
    cfg = GateConfig()
    assert is_canvas_clip([(1.0, 0.85), (0.99, 0.7)], cfg)
    assert not is_canvas_clip([(0.58, 0.63)], cfg)  # a red ball the head calls "whistling"
    assert is_canvas_clip([(0.89, 0.525), (1.0, 0.503)], cfg)  # two sprites over a photo
    assert is_canvas_clip([(1.0, 0.652)], cfg)  # maracas the head is certain of
    assert is_canvas_clip([(1.0, 0.506)], cfg)  # a harpsichord over a photo
    assert not is_canvas_clip([(0.88, 0.645), (0.38, 0.43), (0.35, 0.55)], cfg)  # balls on a floor
    assert not is_canvas_clip([(0.99, 0.40), (0.92, 0.36)], cfg)  # pedestrians the head calls "shamisen"
    assert not is_canvas_clip([], cfg)


def test_sprite_probe_is_a_small_mlp_on_unit_features():
    from prismaudio.planner.canvas.gate import SpriteProbe, gelu, probe_inputs, probe_scores

    x = probe_inputs(np.array([[3.0, 4.0], [0.0, 2.0]]), np.array([0.9, 0.0]), np.array([0.5, 0.1]))
    assert np.allclose(x, [[0.6, 0.8, 0.9, 0.5], [0.0, 1.0, 0.0, 0.1]])
    assert np.allclose(gelu(np.array([0.0, 10.0, -10.0])), [0.0, 10.0, 0.0], atol=1e-6)
    probe = SpriteProbe(np.array([[0.0, 0.0, 4.0, 0.0]]), np.array([-2.0]), np.array([3.0]), -1.0, 0.5)
    p = probe_scores(x, probe)  # only the head's confidence drives this one
    assert p[0] > 0.8 and p[1] < 0.3


def test_installed_sprite_probe_loads_with_its_threshold():
    from prismaudio.planner.canvas.gate import PROBE_PATH, load_probe

    probe = load_probe(str(PROBE_PATH))
    assert probe is not None, "assets/planner/sprite_probe.safetensors is part of the package"
    assert probe.w1.shape[1] == 1282 and 0.5 <= probe.threshold < 1.0


# ---- bad input: a valid plan, a line saying why, no invented sources --------------------


def plan_of(frames, fps=25.0):
    from prismaudio.planner.planner import plan_frames

    plan = plan_frames(frames, fps, len(frames) / fps)
    plan.validate()
    return plan


def test_noise_gives_no_sources():
    rng = np.random.default_rng(0)
    plan = plan_of((rng.random((50, 96, 128, 3)) * 255).astype(np.uint8))
    assert [s for s in plan.semantic.sources if not s.diffuse] == []
    assert plan.notes


def test_a_moving_camera_over_a_still_scene_gives_no_sources():
    plan = plan_of(panning(n=50, step=2, h=96, w=128))
    assert plan.semantic.sources == [] or all(s.diffuse for s in plan.semantic.sources)
    assert any("camera moves" in n for n in plan.notes)


@pytest.mark.parametrize("fps", [2.0, 240.0])
def test_very_slow_and_very_fast_frame_rates(tmp_path, fps):
    from prismaudio import media
    from prismaudio.planner.planner import plan_video

    frames = np.full((12, 64, 64, 3), 100, np.uint8)
    for k in range(12):
        frames[k, 20:36, 4 + 4 * k : 20 + 4 * k] = (230, 30, 30)
    p = tmp_path / f"clip_{int(fps)}.mp4"
    media.write_video(p, frames, fps)
    plan = plan_video(p)
    plan.validate()
    assert plan.duration == pytest.approx(12 / fps, abs=0.1)
    assert len(plan.semantic.sources) <= 1


def test_the_cameras_motion_is_taken_out_of_an_objects_path():
    from prismaudio.planner.detect.camera import own_path

    steps = np.tile(np.eye(3), (30, 1, 1))
    steps[1:, 0, 2] = 2.0  # each frame's picture maps to the previous one's 2 px to the right: the camera pans
    frames = np.arange(30)
    still = np.stack([100.0 - 2.0 * frames, np.full(30, 50.0)], 1)  # a still object drifting on screen
    assert np.allclose(own_path(still, frames, steps), still[0])
    falling = still + np.stack([np.zeros(30), 0.5 * frames ** 2], 1)
    assert np.allclose(own_path(falling, frames, steps)[:, 1], 50.0 + 0.5 * frames ** 2)
    assert np.allclose(own_path(falling, frames, steps)[:, 0], 100.0)


def test_two_objects_meeting_make_one_collision_sound():
    from prismaudio.planner.identify.naming import Naming
    from prismaudio.planner.events.merging import one_sound_per_collision
    from prismaudio.planner.events.open_sources import OpenSource, PlannedEvent

    def source(tid, events):
        naming = Naming("unknown object", "an object", "impact", 0.5)
        return OpenSource([tid], naming, "impact", events, 0.5)

    a = source(0, [PlannedEvent(1.00, 1.25, "impact", 1.0, 0.9, "collision"), PlannedEvent(2.0, 2.25, "impact", 1.0, 0.9, "bounce")])
    b = source(1, [PlannedEvent(1.02, 1.27, "impact", 0.4, 0.9, "collision")])
    c = source(2, [PlannedEvent(1.01, 1.26, "impact", 1.0, 0.9, "bounce")])  # a bounce elsewhere at the same time stays
    out = one_sound_per_collision([a, b, c], 0.04)
    assert [s.tracks for s in out] == [[0], [2]]  # b's only event was the weaker side of a's collision
    assert [e.onset for e in out[0].events] == [1.0, 2.0]


def test_two_jolts_of_one_merge_up_to_80_ms_apart_are_one_collision_by_default():
    from prismaudio.planner.identify.naming import Naming
    from prismaudio.planner.events.merging import one_sound_per_collision
    from prismaudio.planner.events.open_sources import OpenSource, PlannedEvent
    from prismaudio.planner.events.open_world import OpenWorldConfig

    def source(tid, onset, strength):
        naming = Naming("unknown object", "an object", "impact", 0.5)
        return OpenSource([tid], naming, "impact", [PlannedEvent(onset, onset + 0.25, "impact", strength, 0.9, "collision")], 0.5)

    window = OpenWorldConfig().collision_window
    out = one_sound_per_collision([source(0, 1.00, 1.0), source(1, 1.07, 0.5)], window)
    assert [s.tracks for s in out] == [[0]]  # the blobs' merge jolted both tracks 70 ms apart: one sound
    out = one_sound_per_collision([source(0, 1.00, 1.0), source(1, 1.20, 0.5)], window)
    assert [s.tracks for s in out] == [[0], [1]]  # 200 ms apart: two collisions


def test_found_again_joins_a_track_only_where_the_lost_object_would_be():
    from prismaudio.planner.events.merging import found_again
    from prismaudio.planner.tracks import Track

    def track(frames, xs, ys):
        n = len(frames)
        return Track(0, np.array(frames), np.array(xs, float), np.array(ys, float), np.ones(n), np.ones(n), np.ones(n),
                     np.ones(n), np.ones(n, bool))

    lost = track([0, 1, 2], [10, 12, 14], [50, 50, 50])  # moving right 2 px a frame
    assert found_again(lost, track([7, 8], [25, 27], [50, 50]), 112, 1.0, 25.0)  # picks up where it was heading
    assert not found_again(lost, track([7, 8], [100, 102], [50, 50]), 112, 1.0, 25.0)  # another object far away
    assert not found_again(lost, track([60, 61], [24, 26], [50, 50]), 112, 1.0, 25.0)  # more than 1 s later
