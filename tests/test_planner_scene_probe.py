"""The canvas gate's scene probe: a rendered 3D scene (a floor under a backdrop) vetoes the canvas path."""

import numpy as np
import pytest

from prismaudio.planner.canvas.gate import GateConfig, canvas_footage
from prismaudio.planner.canvas.scene_probe import (SceneProbe, band_features, load_scene_probe, scene_frame_indices,
                                                   scene_score)
from prismaudio.planner_training.scene_probe import background_group, fit_logistic, leave_group_out_scores


def test_scene_frames_are_spread_over_the_clip_without_its_ends():
    idx = scene_frame_indices(200, 4)
    assert len(idx) == 4 and idx[0] > 0 and idx[-1] < 199 and np.all(np.diff(idx) > 30)
    assert list(scene_frame_indices(201, 1)) == [100]  # one frame: the middle one
    assert len(scene_frame_indices(0)) == 0
    assert list(scene_frame_indices(1)) == [0]


def test_band_features_pool_rows_top_to_bottom_each_band_unit_length():
    m = np.zeros((2, 6))
    m[0, :2] = 3.0  # the top rows light channel 0
    m[1, 4:] = 5.0  # the bottom rows light channel 1
    x = band_features(m, 3)
    assert x.shape == (6,)
    assert np.allclose(x[:2], [1, 0]) and np.allclose(x[4:], [0, 1])
    assert np.allclose(x[2:4], [0, 0])  # an empty band stays zero, not NaN
    assert np.allclose(band_features(m * 7.0, 3), x)  # brightness of the map does not matter


def test_scene_score_is_a_logistic_regression_with_a_threshold():
    probe = SceneProbe(np.array([2.0, -2.0]), 0.0, 0.6, 1)
    assert scene_score(np.array([1.0, 0.0]), probe) == pytest.approx(1 / (1 + np.exp(-2)))
    assert scene_score(np.array([0.0, 1.0]), probe) < 0.5
    assert scene_score(np.array([1e6, 0.0]), probe) == pytest.approx(1.0)  # no overflow


def test_logistic_fit_separates_and_held_out_groups_are_scored_by_models_that_never_saw_them():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1, 0.3, (20, 2)), rng.normal(-1, 0.3, (20, 2))])
    y = np.array([1] * 20 + [0] * 20)
    w, b = fit_logistic(x, y)
    assert np.mean(((x @ w + b) > 0) == (y > 0)) == 1.0
    groups = np.array([f"g{k % 4}" for k in range(40)])
    cv = leave_group_out_scores(x, y, groups, 1e-3)
    assert cv[y == 1].min() > 0.5 > cv[y == 0].max()


def test_background_groups_name_the_backdrop_or_the_floor():
    assert background_group({"kind": "physics", "floor": "gravel", "backdrop": "plain"}) == "floor:gravel"
    assert background_group({"kind": "photo", "name": "chelsea"}) == "canvas:chelsea"
    assert background_group({"kind": "solid"}) == "canvas:solid"


def test_installed_scene_probe_loads_with_its_threshold():
    probe = load_scene_probe()
    assert probe is not None, "assets/planner/scene_probe.safetensors is part of the package"
    assert probe.weight.shape == (probe.bands * 1280,) and 0.5 <= probe.threshold < 1.0


def test_without_frames_or_with_the_veto_off_the_sprite_tests_decide_alone():
    cfg = GateConfig(scene=False)
    assert not canvas_footage([], [], cfg, np.zeros((10, 32, 32, 3), np.uint8), None)  # nothing named: open
    assert canvas_footage([], [], GateConfig(enabled=False), None, None)  # no gate: every clip canvas, as before it


def test_a_moving_camera_vetoes_the_canvas_path(monkeypatch):
    from prismaudio.planner.canvas import gate

    monkeypatch.setattr(gate, "sprites_seen", lambda *args: True)  # tracks that look like sprites
    cfg = GateConfig(scene=False)
    assert canvas_footage([], [], cfg, None, None)
    assert not canvas_footage([], [], cfg, None, None, camera_moves=True)  # SynthCanvas is filmed by a still camera
    assert canvas_footage([], [], GateConfig(scene=False, still_camera=False), None, None, camera_moves=True)
