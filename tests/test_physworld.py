"""PhysWorld end to end: the simulator's contacts become the manifest's events at the times
physics predicts, screen positions are where the renderer draws the objects, still clips
are silent, a tiny build loads as a SynthCanvas manifest, and bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pybullet")

from prismaudio.canvas.manifest import load_manifest  # noqa: E402
from prismaudio.canvas.physics.camera import CameraPath  # noqa: E402
from prismaudio.canvas.physics.contacts import STATIC, find_impacts  # noqa: E402
from prismaudio.canvas.physics.ground_truth import clip_events, object_tracks  # noqa: E402
from prismaudio.canvas.physics.scene import Light, ObjectSpec, SceneSpec  # noqa: E402
from prismaudio.canvas.physics.simulate import simulate  # noqa: E402
from prismaudio.cli import main  # noqa: E402

G = 9.81
FPS = 25.0


def _scene(objects: list[ObjectSpec], duration: float = 2.0, size: int = 64) -> SceneSpec:
    camera = CameraPath(((0, 0, 0.2), (0, 0, 0.2)), (0.0, 0.0), (15.0, 15.0), (2.0, 2.0), 50.0)
    light = Light((0.3, -0.5, 1.0), (1, 1, 1), 0.6, 0.6, 0.1, False)
    return SceneSpec(size, size, FPS, duration, objects, camera, light, "checker", "plain", (90, 120, 200), 0.0, 0.0, 23)


def _ball(x: float, height: float, release: float = 0.0, motion: str = "drop", size: float = 0.12) -> ObjectSpec:
    return ObjectSpec("red rubber ball", size, 0.1, (x, 0.0, height + size / 2), 0.0, (0.0, 0.0), (0, 0, 0), (0, 0, 0), release, motion)


def test_dropped_ball_bounces_when_physics_says(tmp_path):
    h, release = 0.8, 0.2
    rec = simulate(_scene([_ball(0.0, h, release)], duration=2.4), str(tmp_path))
    impacts = clip_events(rec, [0.1]).impacts
    assert len(impacts) >= 3 and all(i.partner == STATIC for i in impacts)
    assert abs(impacts[0].time - (release + np.sqrt(2 * h / G))) < 1 / FPS  # free fall
    assert abs(impacts[0].speed - np.sqrt(2 * G * h)) < 0.05 * np.sqrt(2 * G * h)
    for prev, nxt in zip(impacts, impacts[1:4]):  # ballistic flight: up and down at the landing speed
        assert abs((nxt.time - prev.time) - 2 * nxt.speed / G) < 1 / FPS
        assert nxt.speed < prev.speed and nxt.impulse < prev.impulse  # each bounce weaker


def test_manifest_contacts_match_the_simulator(tmp_path):
    from prismaudio.canvas.physics.render_clip import ClipRenderer, ClipSpec
    from prismaudio.canvas.physics.options import PhysWorldConfig
    from prismaudio.config import to_dict

    cfg = PhysWorldConfig(duration=3.0, sizes=[[64, 64]], fps=[FPS], train=1, val=0, test=0, max_objects=2)
    renderer = ClipRenderer(to_dict(cfg), str(tmp_path), None)
    spec = ClipSpec("clip", "train", 0, 7, 2, False)
    scene, _, _ = renderer.scene(spec)
    scene.objects = [_ball(-0.3, 0.6, 0.1), _ball(0.3, 0.4, 0.5)]
    line = renderer.render(spec, scene)
    truth = [i for i in find_impacts(simulate(scene, str(tmp_path)).contacts, 1 / (FPS * 10)) if i.time < 3.0]
    events = [e for e in line["events"] if e["kind"] == "impact"]
    assert len(events) == len(truth) >= 4
    for e, t in zip(events, sorted(truth, key=lambda i: (i.time, i.source))):
        assert e["source"] == f"s{t.source}"
        assert abs(e["onset"] - t.time) < 1e-3
        assert e["frame"] == round(t.time * FPS)
    physics = json.loads((tmp_path / "physics" / "clip.json").read_text())
    assert [round(i["time"], 3) for i in physics["impacts"]] == [round(e["onset"], 3) for e in events]
    strengths = [ev["strength"] for ev in line["plan"]["temporal"]["events"] if ev["kind"] == "impact"]
    assert all(0 < s <= 1 for s in strengths) and max(strengths) == 1.0


def test_screen_x_is_left_for_an_object_on_the_left_where_it_is_drawn(tmp_path):
    left = ObjectSpec("wooden cube", 0.2, 0.5, (-0.45, 0.0, 0.0), 0.0, (0, 0), (0, 0, 0), (0, 0, 0), 0.0, "still")
    right = ObjectSpec("soccer ball", 0.25, 0.4, (0.4, 0.0, 0.0), 0.0, (0, 0), (0, 0, 0), (0, 0, 0), 0.0, "still")
    rec = simulate(_scene([left, right], duration=0.4, size=96), str(tmp_path))
    tracks = object_tracks(rec)
    assert (tracks[0].x < -0.2).all() and (tracks[1].x > 0.2).all()
    assert tracks[0].visible.all() and tracks[1].visible.all()
    # where the renderer draws each object (mean column of its pixels) agrees with the projection
    from prismaudio.canvas.physics.simulate import World

    world = World(_scene([left, right], duration=0.4, size=96), str(tmp_path))
    try:
        world.settle()
        _, seg = world.render(rec.views[0], rec.projections[0])
        for i, body in enumerate(world.bodies):
            cols = np.nonzero(seg == body)[1]
            assert abs((cols.mean() + 0.5) / 96 * 2 - 1 - tracks[i].x[0]) < 0.08
    finally:
        world.close()


def test_still_clips_are_silent(tmp_path):
    objects = [ObjectSpec(m, 0.15, 0.2, (x, 0.1, 0.0), 30.0, (0, 0), (0, 0, 0), (0, 0, 0), 0.0, "still")
               for m, x in (("jenga block", -0.4), ("rubber duck", 0.0), ("soccer ball", 0.4))]
    rec = simulate(_scene(objects, duration=2.0), str(tmp_path))
    events = clip_events(rec, [0.2] * 3)
    assert events.impacts == [] and events.spans == []
    assert rec.speed.max() < 0.01


def test_tiny_build_is_a_synthcanvas_manifest_and_resumes(tmp_path, capsys):
    out = tmp_path / "pw"
    args = ["canvas", "build", str(out), "--world", "physics", "--config", "configs/physworld_tiny.yaml", "--duration", "1.0", "-q"]
    assert main(args) == 0
    samples = load_manifest(out)
    assert {s.split for s in samples} == {"train", "val", "test"}
    for s in samples:
        assert s.video_path.is_file() and s.audio_path.is_file() and (out / "physics" / f"{s.id}.json").is_file()
        assert len(s.sources) >= 1 and all(len(src.track.x) == s.num_frames for src in s.sources)
        assert s.plan.semantic.sources[0].label == s.sources[0].class_name
    test_objects = {src.sprite for s in samples if s.split == "test" for src in s.sources}
    assert test_objects & {"teddy bear", "coffee mug", "small checkered sphere"}
    capsys.readouterr()
    assert main(args) == 0
    assert "0 rendered, 5 already done" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--multi", "3"], "--multi is a SynthCanvas option"),
    (["--train", "-1"], "train must be >= 0"),
    (["--config", "configs/canvas_tiny.yaml"], "unknown key 'width'"),
])
def test_bad_input_is_one_line(tmp_path, capsys, extra, message):
    assert main(["canvas", "build", str(tmp_path / "x"), "--world", "physics", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_sound_library_gives_objects_its_matching_classes(tmp_path):
    import soundfile as sf

    from prismaudio.canvas.physics.sounds import choose_sounds
    from prismaudio.canvas.soundbank import SoundBank

    sr = 16000
    t = np.arange(int(0.3 * sr)) / sr
    for name in ("ball bounce", "wood knock", "rolling", "dog bark"):
        (tmp_path / name).mkdir()
        sf.write(tmp_path / name / "a.wav", 0.5 * np.sin(2 * np.pi * 300 * t) * np.exp(-8 * t), sr)
    choice = choose_sounds(str(tmp_path))
    assert choice.objects["soccer ball"] == "ball bounce" and choice.objects["wooden cube"] == "wood knock"
    assert choice.objects["lego brick"] == "side stick"  # no plastic class in this library: SynthCanvas's
    assert choice.slide == "breath"
    note = SoundBank(sr, None).render(choice.classes["ball bounce"], np.random.default_rng(0))
    assert np.abs(note.audio).max() > 0.1


def test_reference_audio_sounds_each_impact_when_and_as_loud_as_the_simulator_says(tmp_path):
    import soundfile as sf

    from prismaudio.canvas.physics.options import PhysWorldConfig
    from prismaudio.canvas.physics.render_clip import ClipRenderer, ClipSpec
    from prismaudio.config import to_dict
    from prismaudio.dsp.onsets import detect_onsets

    cfg = PhysWorldConfig(duration=2.5, sizes=[[64, 64]], fps=[FPS], train=1, val=0, test=0)
    renderer = ClipRenderer(to_dict(cfg), str(tmp_path), None)
    spec = ClipSpec("drop", "train", 0, 3, 1, False)
    scene, _, _ = renderer.scene(spec)
    scene.objects = [_ball(-0.4, 0.9, 0.1)]  # on the left
    line = renderer.render(spec, scene)
    audio, sr = sf.read(tmp_path / line["audio"], always_2d=True)
    impacts = [e for e in line["events"] if e["kind"] == "impact"]
    strong = [e for e, ev in zip(line["events"], line["plan"]["temporal"]["events"]) if e["kind"] == "impact" and ev["strength"] > 0.3]
    onsets = detect_onsets(audio.mean(axis=1), sr)
    assert len(strong) >= 2
    for e in strong:
        assert np.min(np.abs(onsets - e["onset"])) < 0.012, (e["onset"], onsets)
    peaks = [np.abs(audio[int(e["onset"] * sr): int(e["onset"] * sr) + int(0.03 * sr)]).max() for e in impacts[:3]]
    assert peaks[0] > peaks[1] > peaks[2]  # each bounce weaker, each sound quieter
    assert np.sum(audio[:, 0] ** 2) > 2 * np.sum(audio[:, 1] ** 2)  # a ball on the left sounds on the left


@pytest.mark.parametrize("name", ["domino", "jenga block"])
def test_a_tipped_slab_topples_with_one_slap_and_no_rolling(tmp_path, name):
    slab = ObjectSpec(name, 0.2, 0.1, (0.0, 0.0, 0.0), 30.0, (5.0, 0.0), (0, 0, 0), (0, 0, 0), 0.3, "topple")
    rec = simulate(_scene([slab], duration=1.6), str(tmp_path))
    events = clip_events(rec, [0.1])
    assert rec.position[0, 0, 2] > 0.09 and rec.position[-1, 0, 2] < 0.03  # stood on end, ends lying down
    assert events.impacts and 0.4 < events.impacts[0].time < 1.0 and events.impacts[0].speed > 1.0
    assert events.spans == []
