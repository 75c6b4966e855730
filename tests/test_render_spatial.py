"""The shared spatial renderer: pan law, ITD by a fractional delay that keeps the high band,
distance gain, diffuse sources wide, and placing a plan's stems."""

import numpy as np
import pytest
from scipy.signal import welch

from prismaudio.dsp.spatial import gcc_phat_itd, ild_db
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.render.spatial import (
    MAX_ITD_S, distance_gain, fractional_delay, itd_samples, pan_gains, place_diffuse, place_plan_stems, place_point,
)

SR = 16000


def band_db(reference, signal, lo, hi):
    f, p_ref = welch(reference, SR, nperseg=1024)
    _, p_sig = welch(signal, SR, nperseg=1024)
    band = (f >= lo) & (f <= hi)
    return 10 * np.log10(p_sig[band].sum() / p_ref[band].sum())


@pytest.mark.parametrize("delay", [0.25, 0.5, 0.73, 4.4])
def test_fractional_delay_keeps_the_high_band(delay):
    noise = np.random.default_rng(0).standard_normal(SR * 2)
    delayed = fractional_delay(noise, delay)
    assert abs(band_db(noise[64:-64], delayed[64:-64], 4000, 6000)) < 0.5
    # and really delays: the interpolated signal matches a band-limited shift (cross-correlation peak)
    assert gcc_phat_itd(noise, delayed, SR, upsample=64) == pytest.approx(delay / SR, abs=0.05 / SR)


def test_fractional_delay_integer_is_exact_and_time_varying_is_smooth():
    x = np.random.default_rng(1).standard_normal(1000)
    assert np.allclose(fractional_delay(x, 3.0)[3:], x[:-3])
    sweep = fractional_delay(np.sin(2 * np.pi * 440 * np.arange(SR) / SR), np.linspace(0, 9.6, SR))
    assert np.abs(np.diff(sweep)).max() < 0.2  # no clicks while the delay glides


def test_pan_law_constant_power_and_itd_sign():
    x = np.linspace(-1, 1, 21)
    gl, gr = pan_gains(x)
    assert np.allclose(gl ** 2 + gr ** 2, 1.0)
    assert gl[0] > gr[0] and gr[-1] > gl[-1] and np.isclose(gl[10], gr[10])
    assert 20 * np.log10(gr[0] / gl[0]) == pytest.approx(-18.3, abs=0.5)  # far ear audible at the edge
    assert itd_samples(np.array([-1.0]), SR)[0] == pytest.approx(MAX_ITD_S * SR)  # left source: right ear later


def test_distance_gain_halves_at_twice_the_distance():
    assert distance_gain(np.array([1.0, 2.0, 0.5]))[[0, 1, 2]] == pytest.approx([1.0, 0.5, 2.0])
    assert distance_gain(np.array([100.0]))[0] == pytest.approx(0.3)  # clamped, never silent


def test_point_source_cues_and_far_ear_high_band():
    noise = np.random.default_rng(2).standard_normal(SR)
    for x in (-1.0, -0.5, 0.5, 1.0):
        left, right = place_point(noise, np.full(SR, x), None, SR)
        assert np.sign(ild_db(left, right)) == -np.sign(x)
        assert gcc_phat_itd(left, right, SR) == pytest.approx(-x * MAX_ITD_S, abs=2e-5)
        # the level difference is the same in the high band as overall: the delay does not dull the far ear
        gl, gr = pan_gains(np.array([x]))
        far, gain = (right, gr[0]) if x < 0 else (left, gl[0])
        assert abs(band_db(noise[64:-64] * gain, far[64:-64], 4000, 6000)) < 0.5


def test_diffuse_is_wide_centred_and_keeps_energy():
    noise = np.random.default_rng(3).standard_normal(SR * 2)
    left, right = place_diffuse(noise, SR)
    assert abs(ild_db(left, right)) < 0.5
    assert abs(np.corrcoef(left[400:], right[400:])[0, 1]) < 0.1  # incoherent: no point position
    assert (np.sum(left ** 2) + np.sum(right ** 2)) / np.sum(noise ** 2) == pytest.approx(1.0, rel=0.05)


def test_place_plan_stems_follows_the_plan_and_a_spatial_edit_reuses_the_stems():
    plan = Plan(duration=1.0, semantic=Semantic([Source("a", "drum"), Source("amb", "rain", diffuse=True)]),
                temporal=Temporal([Event("a", 0.1, 0.2)]),
                spatial=Spatial([SpatialTrack("a", [0.0, 1.0], [-0.8, -0.8], [1.0, 1.0])]))
    rng = np.random.default_rng(4)
    stems = {"a": rng.standard_normal(SR).astype(np.float32), "amb": rng.standard_normal(SR).astype(np.float32)}
    placed = place_plan_stems(stems, plan, SR)
    assert ild_db(*placed["a"]) > 10 and abs(ild_db(*placed["amb"])) < 0.5
    plan.spatial.tracks[0].x = [0.8, 0.8]
    plan.spatial.tracks[0].distance = [2.0, 2.0]
    moved = place_plan_stems(stems, plan, SR)  # same stems, new place: no sampling again
    assert ild_db(*moved["a"]) < -10
    assert np.sum(moved["a"] ** 2) / np.sum(placed["a"] ** 2) == pytest.approx(0.25, rel=0.02)
