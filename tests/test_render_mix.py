"""Mastering: integrated loudness on target, true peak under the ceiling, never clipping,
short and silent mixes handled; stems scaled to add up to the mix."""

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from prismaudio.planner.plan import Plan, Semantic, Source, Spatial, SpatialTrack
from prismaudio.render.loudness import integrated_loudness, limiter_gain, master, true_peak_dbtp
from prismaudio.render.mix import render_mix

SR = 16000


def peak_8x_db(audio):  # an independent, finer true-peak estimate
    return 20 * np.log10(np.abs(resample_poly(audio, 8, 1, axis=-1)).max())


def test_loud_mix_reaches_target_and_true_peak_ceiling():
    rng = np.random.default_rng(0)
    audio = rng.standard_normal((2, SR * 4)) * 0.05
    audio[:, SR::SR // 3] = 3.0  # hard transients, far over full scale
    out, report = master(audio, SR, -16.0, -1.0)
    assert pyloudnorm.Meter(SR).integrated_loudness(out.T.astype(np.float64)) == pytest.approx(-16.0, abs=0.6)
    assert peak_8x_db(out) <= -0.95 and np.abs(out).max() < 1.0
    assert report.limited_db < -3  # the transients were limited, not the whole mix turned down
    assert np.median(report.gain) == pytest.approx(np.median(report.gain[: SR // 2]), rel=1e-3)


def test_quiet_mix_is_raised_to_minus_23():
    t = np.arange(SR * 3) / SR
    audio = 0.001 * np.stack([np.sin(2 * np.pi * 500 * t)] * 2)
    out, report = master(audio, SR)
    assert integrated_loudness(out, SR) == pytest.approx(-23.0, abs=0.1)
    assert report.loudness_in < -50 and true_peak_dbtp(out) <= -1.0 and not report.warnings


def test_limiter_gain_ramps_before_a_peak_and_holds():
    audio = np.zeros((2, SR))
    audio[:, SR // 2] = 2.0
    gain = limiter_gain(audio, SR, -1.0)
    peak = SR // 2
    assert gain[peak] <= 10 ** (-1 / 20) / 2.0 + 1e-6
    assert 0.3 < gain[peak - 30] < 1.0 and gain[peak - 100] == 1.0  # look-ahead ramp, not a step
    assert gain[peak + 300] == pytest.approx(gain[peak])  # held after the peak
    assert np.all(np.abs(np.diff(gain)) < 0.05)


@pytest.mark.parametrize("n", [0, 1, 50, 3000])
def test_silent_and_short_mixes_give_no_nan_and_a_warning(n, caplog):
    out, report = master(np.zeros((2, n)), SR)
    assert out.shape == (2, n) and not np.isnan(out).any() and not np.any(out)
    if n:
        assert any("silent" in w for w in report.warnings)
    short = np.random.default_rng(1).standard_normal((2, 800)) * 0.2
    out, report = master(short, SR)
    assert np.isfinite(out).all() and any("0.05 s" in w for w in report.warnings)
    assert true_peak_dbtp(out) <= -1.0


def test_render_mix_stems_add_up_to_the_mix_and_sit_where_planned():
    plan = Plan(duration=1.0, semantic=Semantic([Source("l", "drum"), Source("r", "bell")]),
                spatial=Spatial([SpatialTrack("l", [0, 1], [-1, -1]), SpatialTrack("r", [0, 1], [1, 1])]))
    rng = np.random.default_rng(2)
    stems = {"l": rng.standard_normal(SR) * 2.0, "r": rng.standard_normal(SR - 10) * 0.1}  # r is padded
    mixed = render_mix(stems, plan, SR, SR)
    assert mixed.audio.shape == (2, SR) and set(mixed.stems) == {"l", "r"}
    assert np.allclose(mixed.stems["l"] + mixed.stems["r"], mixed.audio, atol=1e-5)
    left, right = mixed.stems["l"]
    assert np.sum(left ** 2) > 10 * np.sum(right ** 2)
    assert integrated_loudness(mixed.audio, SR) == pytest.approx(-23.0, abs=0.2)
