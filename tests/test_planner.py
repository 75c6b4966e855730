"""The default planner on videos made here (no /work/data): tracking, events, plan, CLI, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prismaudio import media
from prismaudio.cli import main
from prismaudio.planner.track.objects import analyse_frames
from prismaudio.planner_training.devclips import DevSource, disc, render_clip
from prismaudio.planner.events.visual import detect_events, refine_kink
from prismaudio.planner.plan import Plan, side_of
from prismaudio.planner.planner import PlannerConfig, plan_video


def _bouncing(tmp_path, name="clip.mp4", duration=3.0):
    clip = render_clip([DevSource(disc(14, (230, 40, 40)), 0.25, 0.3, 0.22, 0.0)], duration=duration)
    path = tmp_path / name
    media.write_video(path, clip.frames, 25)
    return path, clip


def test_refine_kink_finds_subframe_time():
    t = np.arange(10) / 25.0
    true = 4.5 / 25.0
    p = np.where(t < true, 1.0 - 2.0 * (true - t), 1.0 - 1.5 * (t - true))[:, None]
    assert abs(refine_kink(t, p, 4) - true) < 1e-6


def test_tracker_and_rule_events_on_a_bouncing_disc():
    clip = render_clip([DevSource(disc(14, (230, 40, 40)), 0.25, 0.3, 0.22, 0.0)], duration=3.0)
    analysis = analyse_frames(clip.frames, 25)
    assert len(analysis.tracks) == 1
    ev = [e.time for e in detect_events(analysis, learned=False)[0] if e.kind == "contact"]
    truth = clip.impacts[0]
    assert truth and len(ev) == len(truth)
    assert max(min(abs(a - b) for a in ev) for b in truth) < 0.04


def test_plan_video_follows_the_object(tmp_path):
    path, clip = _bouncing(tmp_path)
    # a red disc is no SynthCanvas sprite: plan it as other footage (ImageNet naming only)
    plan = plan_video(path, PlannerConfig(head_path=str(tmp_path / "no_head.safetensors")))
    assert len(plan.semantic.sources) == 1
    onsets = [e.onset for e in plan.temporal.events if e.kind == "impact"]
    for t in clip.impacts[0]:
        assert min(abs(t - o) for o in onsets) <= 0.04 + 1e-6
    track = plan.spatial.tracks[0]
    assert side_of(track.x_at(0.1)) == -1  # starts on the left
    assert abs(plan.duration - 3.0) < 0.05
    Plan.from_json(plan.to_json())  # valid and round-trips


def test_static_video_says_no_events(tmp_path):
    frames = np.repeat(np.random.default_rng(0).integers(0, 255, (1, 64, 64, 3), dtype=np.uint8), 25, axis=0)
    path = tmp_path / "static.mp4"
    media.write_video(path, frames, 25)
    plan = plan_video(path)
    assert plan.temporal.events == []
    assert any("no visual events" in n for n in plan.notes)


@pytest.mark.parametrize("value,word", [(0, "black"), (200, "blank")])
def test_black_and_blank_frames(tmp_path, value, word):
    path = tmp_path / "flat.mp4"
    media.write_video(path, np.full((20, 64, 64, 3), value, np.uint8), 25)
    plan = plan_video(path)
    assert plan.temporal.events == [] and plan.semantic.sources == []
    assert any(word in n for n in plan.notes)


def test_one_frame_video(tmp_path):
    path = tmp_path / "one.mp4"
    media.write_video(path, np.random.default_rng(1).integers(0, 255, (1, 32, 32, 3), dtype=np.uint8), 25)
    plan = plan_video(path)
    assert plan.temporal.events == []
    assert any("single frame" in n for n in plan.notes)


def test_huge_resolution_is_scaled_down(tmp_path):
    frames = np.zeros((3, 2160, 3840, 3), np.uint8)
    frames[:, 1000:1200, 1000:1200] = 255
    frames[1:, 1000:1200, 1200:1400] = 255
    path = tmp_path / "huge.mp4"
    media.write_video(path, frames, 25)
    plan = plan_video(path)
    assert plan.duration > 0


def test_cli_plan_text_and_json(tmp_path, capsys):
    path, _ = _bouncing(tmp_path, duration=2.0)
    assert main(["plan", str(path), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Semantic:") and "Temporal:" in out and "Spatial:" in out
    assert main(["plan", str(path), "-o", str(tmp_path / "p.json")]) == 0
    assert Plan.load(tmp_path / "p.json").duration == pytest.approx(2.0, abs=0.05)


def test_cli_bad_video_files(tmp_path, capsys):
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 10)
    for bad in (tmp_path / "missing.mp4", tmp_path / "junk.mp4", tmp_path):
        assert main(["plan", str(bad)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:")


def _reference(duration=2.0):
    return {
        "duration": duration,
        "semantic": {"sources": [{"id": "s1", "label": "drum", "description": ""}]},
        "temporal": {"events": [{"source": "s1", "onset": 0.5, "offset": 0.7, "kind": "impact"}]},
        "spatial": {"tracks": [{"source": "s1", "times": [0.0, 1.0], "x": [-0.5, 0.5], "distance": [1.0, 1.0]}]},
    }


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["temporal"]["events"][0].update(onset="soon"), "onset"),
    (lambda d: d["temporal"]["events"][0].update(onset=-1.0), "events[0]"),
    (lambda d: d["temporal"]["events"][0].update(offset=9.0), "events[0]"),
    (lambda d: d["temporal"]["events"][0].update(source="s9"), "events[0].source"),
    (lambda d: d["spatial"]["tracks"][0].update(source="s9"), "tracks[0].source"),
])
def test_cli_check_bad_plan_names_the_field(tmp_path, capsys, mutate, field):
    path, _ = _bouncing(tmp_path, duration=2.0)
    data = _reference()
    mutate(data)
    (tmp_path / "plan.json").write_text(json.dumps(data))
    assert main(["plan", str(path), "--check", str(tmp_path / "plan.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0]


def test_cli_check_good_plan_and_wrong_duration(tmp_path, capsys):
    path, _ = _bouncing(tmp_path, duration=2.0)
    (tmp_path / "ok.json").write_text(json.dumps(_reference()))
    assert main(["plan", str(path), "--check", str(tmp_path / "ok.json")]) == 0
    (tmp_path / "long.json").write_text(json.dumps(_reference(duration=5.0)))
    assert main(["plan", str(path), "--check", str(tmp_path / "long.json")]) == 2
    assert "plan.duration" in capsys.readouterr().err


def test_plan_schema_round_trip():
    plan = Plan.from_dict(_reference())
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert set(plan.module_texts()) == {"semantic", "temporal", "aesthetic", "spatial"}
    assert "drum hits at 0.50 s" in plan.temporal_text()


def test_imagenet_labels_map_to_sound_words():
    from prismaudio.planner.identify.imagenet_sounds import imagenet_sound, sound_from_probabilities

    assert imagenet_sound(285)[0] == "cat" and imagenet_sound(817)[2] == "sustained"
    assert imagenet_sound(999) is None
    p = np.zeros(1000)
    p[[281, 282, 967]] = [0.3, 0.3, 0.4]  # two cat classes outweigh one espresso
    assert sound_from_probabilities(p)[0] == "cat"


def test_fragments_of_one_named_object_become_one_source():
    from prismaudio.planner.tracks import Track
    from prismaudio.planner.planner import group_tracks
    from prismaudio.planner.identify.recognise import Recognition

    def tr(i, a, b):
        n = b - a + 1
        return Track(i, np.arange(a, b + 1), np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1),
                     np.full(n, 0.01), np.full(n, 100.0), np.ones(n, bool), [(0, 0, 1, 1)] * n)

    tracks = [tr(0, 0, 40), tr(1, 42, 99), tr(2, 10, 60)]
    recs = [Recognition("drum", "", "impact", 0.9, "canvas"), Recognition("drum", "", "impact", 0.8, "canvas"),
            Recognition("drum", "", "impact", 0.7, "canvas")]
    assert group_tracks(tracks, recs) == [[0, 1], [2]]  # track 2 coexists with both: another object


def test_side_follows_the_box_centre_of_a_lopsided_object():
    """An object heavy on one side (its centroid off its middle) is placed by its box centre,
    except where the box is not its usual size (a ring around it, another object merged in)."""
    from prismaudio.planner.track.objects import analyse_frames
    from prismaudio.planner.planner import spatial_x

    t, h, w = 30, 96, 160
    frames = np.full((t, h, w, 3), 40, np.uint8)
    for i in range(t):
        left = 20 + 3 * i
        frames[i, 40:60, left : left + 24] = (230, 200, 60)  # an "L": a bar along the bottom ...
        frames[i, 20:40, left : left + 6] = (230, 200, 60)  # ... and a post at its left end
    tracks = analyse_frames(frames, 25.0).tracks
    assert len(tracks) == 1
    tr = tracks[0]
    box_x = spatial_x(tr, w, 0.2)
    true_centre = (20 + 3 * tr.frames + 12) / w
    assert np.median(np.abs(box_x - true_centre)) < np.median(np.abs(tr.x - true_centre))
    assert np.median(np.abs(box_x - true_centre)) < 0.01
    # a frame whose box is twice the usual width keeps the centroid
    tr.boxes[5] = (tr.boxes[5][0], tr.boxes[5][1], tr.boxes[5][2], tr.boxes[5][3] + 40)
    assert spatial_x(tr, w, 0.2)[5] == tr.x[5]
    assert np.array_equal(spatial_x(tr, w, 0.0), tr.x)  # tolerance 0: the centroid throughout


def test_impacts_of_a_dropped_namesake_go_to_the_object_kept_under_that_name():
    from prismaudio.planner.tracks import Analysis, Track
    from prismaudio.planner.events.visual import VisualEvent
    from prismaudio.planner.planner import build_plan
    from prismaudio.planner.identify.recognise import Recognition

    def tr(i, a, b, x):
        n = b - a + 1
        return Track(i, np.arange(a, b + 1), np.full(n, x), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1),
                     np.full(n, 0.01), np.full(n, 100.0), np.ones(n, bool), [(40, int(200 * x) - 10, 60, int(200 * x) + 10)] * n)

    tracks = [tr(0, 0, 99, 0.3), tr(1, 50, 90, 0.7)]  # the second, smaller one coexists with the first
    recs = [Recognition("claves", "", "impact", 0.99, "canvas"), Recognition("claves", "", "impact", 0.9, "canvas")]
    visual = {0: [VisualEvent(0, 0.8, "contact", 1.0)], 1: [VisualEvent(1, 2.4, "contact", 1.0), VisualEvent(1, 0.8, "contact", 1.0)]}
    analysis = Analysis(25.0, 100, 200, 100, tracks, False, False, np.zeros((50, 100, 3), np.uint8))
    plan = build_plan(analysis, recs, visual, 4.0, PlannerConfig())
    assert [s.label for s in plan.semantic.sources] == ["claves"]
    assert [e.onset for e in plan.temporal.events] == [0.8, 2.4]  # its hit kept, the shared one once
