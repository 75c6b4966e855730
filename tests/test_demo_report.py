"""The demo report's measurements: heard position, planned position, figures against a plan."""

from __future__ import annotations

import numpy as np
import pytest

from prismaudio.demo_report import (ClipReport, colour_map, hear, onset_timeline_svg, planned_x, position_svg,
                                    render_html, signal_figures, x_from_ild)
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal

SR = 16000


def _plan() -> Plan:
    return Plan(duration=3.0, semantic=Semantic([Source("s1", "wood block")]),
                temporal=Temporal([Event("s1", 0.5, 0.7), Event("s1", 1.5, 1.7), Event("s1", 2.4, 2.6)]),
                spatial=Spatial([SpatialTrack("s1", [0.0, 3.0], [0.7, 0.7])]))


def _knocks(x: float, onsets=(0.5, 1.5, 2.4)) -> np.ndarray:
    """Decaying noise bursts panned to x with the constant-power law."""
    rng = np.random.default_rng(0)
    mono = np.zeros(3 * SR)
    for t in onsets:
        i = int(t * SR)
        n = int(0.2 * SR)
        mono[i:i + n] += rng.standard_normal(n) * np.exp(-np.arange(n) / (0.03 * SR)) * 0.3
    angle = (x + 1) * np.pi / 4
    return np.stack([mono * np.cos(angle), mono * np.sin(angle)])


def test_x_from_ild_inverts_constant_power_pan():
    for x in (-0.9, -0.3, 0.0, 0.5, 0.9):
        angle = (x + 1) * np.pi / 4
        ild = 20 * np.log10(np.cos(angle) / np.sin(angle))
        assert x_from_ild(np.array([ild]))[0] == pytest.approx(x, abs=1e-9)


def test_figures_of_audio_that_follows_the_plan_and_of_audio_that_does_not():
    plan = _plan()
    good = signal_figures(plan, hear(_knocks(0.7), SR))
    assert good["onset F1 vs planned impacts"] == 1.0
    assert good["side agreement (off-centre frames)"] == 1.0
    assert good["position error |x heard - x planned|"] < 0.05
    wrong = signal_figures(plan, hear(_knocks(-0.7, onsets=(0.2, 1.0, 2.0)), SR))
    assert wrong["onset F1 vs planned impacts"] == 0.0
    assert wrong["side agreement (off-centre frames)"] == 0.0
    assert wrong["position error |x heard - x planned|"] > 1.0


def test_planned_x_is_nan_before_the_first_onset():
    x = planned_x(_plan(), np.array([0.1, 0.6, 2.9]))
    assert np.isnan(x[0]) and x[1] == pytest.approx(0.7) and x[2] == pytest.approx(0.7)


def test_report_page_holds_video_pictures_and_both_columns():
    plan = _plan()
    clip = ClipReport(name="c1", video="c1.mp4", spectrogram="c1.png", plan=plan, generated=hear(_knocks(0.7), SR),
                      reference=hear(_knocks(0.6), SR), figures={"onset F1": (0.9, 1.0)})
    page = render_html([clip], "engine X", ["a note"], ["weak point"])
    assert "<video" in page and "c1.mp4" in page and "c1.png" in page and "engine X" in page
    assert "<td>0.900</td><td>1.000</td>" in page and "weak point" in page
    assert onset_timeline_svg(clip, 3.0).count("<line") >= 3 + 3 + 3
    assert "<polyline" in position_svg(clip, 3.0)
    assert colour_map(np.array([[0.0, 1.0]])).shape == (1, 2, 3)
