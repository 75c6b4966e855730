"""The spatial slope of the generator benchmark: heard x by the renderer's own pan law, over
frames where one source sounds alone (a perfect render scores about 1, not 0.61)."""

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from prismaudio.canvas.render_audio import spatialize
from prismaudio.dsp.spatial import ild_db
from prismaudio.metrics.spatial import x_from_ild, x_from_rendered_ild
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.render.spatial import pan_gains

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_spatial_follow import planned_and_heard  # noqa: E402

SR = 16000


def test_rendered_ild_gives_the_planned_position_back():
    xs = np.linspace(-1, 1, 21)
    left, right = pan_gains(xs)
    ild = 20 * np.log10(left / right)
    assert np.allclose(x_from_rendered_ild(ild), xs, atol=1e-9)
    assert np.allclose(x_from_ild(ild), 0.85 * xs, atol=1e-9)  # the plain constant-power inverse reads 0.85 x


def test_a_perfect_render_of_a_mix_has_slope_one_on_frames_with_one_source(tmp_path):
    """Two sources (x -0.6 and +0.5), each sounding alone for a while and together for 1 s."""
    n = 6 * SR
    t = np.arange(n) / SR
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.1, n) * ((t >= 0.0) & (t < 3.5))
    b = rng.normal(0, 0.1, n) * ((t >= 2.5) & (t < 6.0))
    mix = spatialize(a, np.full(n, -0.6), SR) + spatialize(b, np.full(n, 0.5), SR)
    assert ild_db(mix[0, : 2 * SR], mix[1, : 2 * SR]) > 3  # a is on the left
    sf.write(tmp_path / "mix.wav", mix.T.astype(np.float32), SR)
    plan = Plan(duration=6.0, semantic=Semantic([Source("a", "noise"), Source("b", "noise")]),
                temporal=Temporal([Event("a", 0.0, 3.5, "sustained"), Event("b", 2.5, 6.0, "sustained")]),
                spatial=Spatial([SpatialTrack("a", [0.0, 6.0], [-0.6, -0.6]), SpatialTrack("b", [0.0, 6.0], [0.5, 0.5])]))
    planned, heard = planned_and_heard(tmp_path / "mix.wav", plan)
    assert abs(np.polyfit(planned, heard, 1)[0] - 1.0) < 0.05
    planned, heard = planned_and_heard(tmp_path / "mix.wav", plan, alone=False)
    assert np.polyfit(planned, heard, 1)[0] < 0.9  # the overlap's ILD lies between the two
