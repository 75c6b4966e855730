"""The pure pieces of streamed generation: crossfade law, block loudness meter, file
mastering, window joins, span-by-span decoding, window plans."""

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from prismaudio import media
from prismaudio.media.frame_stream import Span, iter_span_frames
from prismaudio.pipeline.stream_join import join_windows
from prismaudio.pipeline.window_plans import PlanAssembler, clip_duration, slice_plan, window_cores
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.render.crossfade import crossfade, crossfade_gains, overlap_correlation
from prismaudio.render.loudness import integrated_loudness, master, true_peak_dbtp
from prismaudio.render.loudness_meter import LoudnessMeter
from prismaudio.render.master_stream import master_file

SR = 16000


def rms_db(x):
    return 10 * np.log10(np.mean(np.square(x)) + 1e-20)


def test_crossfade_gains_are_equal_power_for_uncorrelated_and_equal_gain_for_identical_material():
    a, b = crossfade_gains(1000, 0.0)
    assert np.allclose(a**2 + b**2, 1.0)
    a, b = crossfade_gains(1000, 1.0)
    assert np.allclose(a + b, 1.0)
    a, b = crossfade_gains(1000, 0.4)
    assert np.allclose(a**2 + b**2 + 2 * 0.4 * a * b, 1.0)
    assert np.all(np.diff(a) < 0) and np.all(np.diff(b) > 0)  # smooth, monotone: no click


@pytest.mark.parametrize("shared", [0.0, 0.5, 1.0])
def test_crossfade_keeps_the_level_whatever_the_correlation(shared):
    rng = np.random.default_rng(0)
    common = rng.standard_normal((2, 16000))
    x = np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.standard_normal((2, 16000))
    y = np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.standard_normal((2, 16000))
    assert overlap_correlation(x, y) == pytest.approx(shared, abs=0.03)
    joined = crossfade(x, y)
    for part in np.array_split(joined, 8, axis=1):  # no dip (or swell) anywhere across the overlap
        assert abs(rms_db(part) - rms_db(x)) < 0.5


def test_a_fixed_law_would_dip_or_swell_where_the_adaptive_one_does_not():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8000))
    equal_power_on_identical = x * sum(crossfade_gains(8000, 0.0))
    equal_gain_on_uncorrelated = x * crossfade_gains(8000, 1.0)[0] + rng.standard_normal((1, 8000)) * crossfade_gains(8000, 1.0)[1]
    mid = slice(3500, 4500)
    assert rms_db(equal_power_on_identical[:, mid]) - rms_db(x) > 2.5
    assert rms_db(equal_gain_on_uncorrelated[:, mid]) - rms_db(x) < -2.5
    assert abs(rms_db(crossfade(x, x)[:, mid]) - rms_db(x)) < 0.1


def test_block_meter_matches_pyloudnorm_whatever_the_block_sizes():
    rng = np.random.default_rng(2)
    for rate in (16000, 44100):
        x = rng.standard_normal((2, rate * 23 + 123)) * 0.1
        x[:, rate * 5:rate * 9] *= 0.01  # quiet passage: the relative gate drops it
        x[:, rate * 12:rate * 13] = 0  # silence: the absolute gate
        meter, i = LoudnessMeter(rate, 2), 0
        while i < x.shape[1]:
            n = int(rng.integers(1, 30000))
            meter.add(x[:, i:i + n])
            i += n
        assert meter.integrated() == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(x.T), abs=1e-6)
    assert LoudnessMeter(SR, 2).integrated() == float("-inf")


def test_master_file_gives_what_master_gives_in_memory(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, SR * 25)) * 0.02
    x[:, ::4000] += 0.9  # clicks: the limiter must work across block edges
    sf.write(tmp_path / "in.wav", x.T, SR, subtype="FLOAT")
    report = master_file(tmp_path / "in.wav", tmp_path / "out.wav", SR, -23.0)
    y = sf.read(tmp_path / "out.wav")[0].T
    reference, ref_report = master(x, SR, -23.0)
    assert np.abs(y - reference).max() < 1e-3  # 16-bit file against float
    assert integrated_loudness(y, SR) == pytest.approx(ref_report.loudness_out, abs=0.02)
    assert true_peak_dbtp(y) <= -1.0 + 0.01 and report.limited_db < -1


def test_join_windows_is_continuous_and_exactly_long(tmp_path):
    rng = np.random.default_rng(4)
    tone = np.sin(2 * np.pi * 220 * np.arange(SR * 30) / SR) * 0.3
    starts = [0, 7 * SR, 14 * SR, 22 * SR]  # windows of 8 s, cut from one signal: correlated overlaps
    windows = [np.stack([tone[s:s + 8 * SR]] * 2).astype(np.float32) for s in starts]
    join_windows(lambda k: windows[k], starts, SR * 30, tmp_path / "j.w64", SR)
    joined = sf.read(tmp_path / "j.w64")[0].T
    assert joined.shape == (2, SR * 30)
    assert np.abs(joined[0] - tone).max() < 1e-5  # identical material: equal gain rebuilds it exactly
    noise = [rng.standard_normal((2, 8 * SR)).astype(np.float32) * 0.1 for _ in starts]
    join_windows(lambda k: noise[k], starts, SR * 30, tmp_path / "n.w64", SR)
    joined = sf.read(tmp_path / "n.w64")[0].T
    level = [rms_db(joined[:, i:i + SR // 10]) for i in range(0, SR * 30, SR // 10)]
    assert max(level) - min(level) < 1.5  # no dip at the joins (100 ms frames of noise vary ~0.5 dB)


def test_span_frames_are_the_frames_each_span_decodes_alone(tmp_path):
    frames = np.zeros((100, 32, 32, 3), dtype=np.uint8)
    frames[:, :, :, 0] = np.arange(100)[:, None, None] * 2
    video = media.write_video(tmp_path / "v.mp4", frames, 25)
    specs = [media.FrameSpec(25), media.FrameSpec(8, (16, 16))]
    spans = [Span(0.0, 1.5), Span(1.2, 1.5), Span(2.4, 1.6)]
    got = list(iter_span_frames(video, specs, spans, skip={1}))
    assert [k for k, _ in got] == [0, 2]
    for k, sets in got:
        alone = media.decode_frame_sets(video, specs, spans[k].start, spans[k].duration)
        for a, b in zip(sets, alone):
            assert a.shape == b.shape and bool((a == b).all())


def whole_plan():
    return Plan(duration=20.0, semantic=Semantic([Source("a", "dog"), Source("b", "rain", diffuse=True)]),
                temporal=Temporal([Event("a", 1.0, 1.2), Event("a", 7.5, 7.7), Event("b", 0.0, 20.0, "sustained"),
                                   Event("a", 15.0, 15.1)]),
                spatial=Spatial([SpatialTrack("a", [0.0, 20.0], [-1.0, 1.0])])).validate()


def test_slice_plan_keeps_a_windows_events_and_track_from_zero():
    cut = slice_plan(whole_plan(), 7.0, 15.0).validate()
    assert cut.duration == 8.0
    assert [(e.source, e.onset) for e in cut.temporal.events] == [("a", 0.5), ("b", 0.0)]  # 15.0 is the next window's
    assert cut.temporal.events[1].offset == 8.0  # the sustained rain goes on to the window's end
    assert cut.spatial.tracks[0].x == pytest.approx([-0.3, 0.5])


def test_assembled_plan_keeps_one_id_per_sound_and_each_event_once():
    starts = [0.0, 7.0, 12.0]
    cores = window_cores(starts, 8.0, 20.0)
    assert cores == [(0.0, 7.5), (7.5, 13.5), (13.5, 20.0)]
    asm = PlanAssembler(20.0)
    for start, core in zip(starts, cores):
        window = slice_plan(whole_plan(), start, start + 8.0)
        for s in window.semantic.sources:  # a planner names its sources afresh in every window
            s.id = "x" + s.id
        for e in window.temporal.events:
            e.source = "x" + e.source
        for t in window.spatial.tracks:
            t.source = "x" + t.source
        asm.add(asm.rename(window), start, core)
    plan = asm.plan().validate()
    assert [s.label for s in plan.semantic.sources] == ["dog", "rain"]
    assert [s.id for s in plan.semantic.sources] == ["s0", "s1"]  # as a short clip's plan names them
    dog = plan.semantic.sources[0].id
    assert [e.onset for e in plan.events_of(dog)] == [1.0, 7.5, 15.0]
    rain = plan.events_of(plan.semantic.sources[1].id)
    assert [(e.onset, e.offset) for e in rain] == [(0.0, 20.0)]  # one sound across the joins
    assert plan.track(dog).x_at(10.0) == pytest.approx(0.0, abs=1e-6)


def test_clip_duration_gives_the_plan_of_the_generated_span():
    cut = clip_duration(whole_plan(), 3.0).validate(video_duration=3.0)
    assert cut.duration == 3.0 and [e.onset for e in cut.temporal.events] == [1.0, 0.0]
