"""`generate --engine library`: stems out, exemplars, loudness, bad exemplars, spatial edits
without re-rendering; and for the model engine: one decode per video, seed independent of
the batch."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from prismaudio import media
from prismaudio.cli import main
from prismaudio.engines.library import LibraryEngine
from prismaudio.library import SoundLibrary
from prismaudio.pipeline import PrismAudio
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.render.loudness import integrated_loudness, true_peak_dbtp

from media_factory import sliding_block_video

SR = 16000


def hit(freq, seconds=0.25, seed=0):
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.02
    return (np.sin(2 * np.pi * freq * t) * np.exp(-t * 15) + noise).astype(np.float32)


@pytest.fixture
def world(tmp_path):
    lib = tmp_path / "lib"
    for name, freqs in {"snare drum": (300, 330), "bell": (1200,)}.items():
        (lib / name).mkdir(parents=True)
        for i, f in enumerate(freqs):
            sf.write(lib / name / f"{i}.wav", hit(f, seed=i), SR)
    video = sliding_block_video(tmp_path / "clip.mp4", 2.0)
    plan = Plan(duration=2.0, semantic=Semantic([Source("drum", "snare drum"), Source("bell", "bell")]),
                temporal=Temporal([Event("drum", 0.3, 0.4), Event("drum", 1.1, 1.2, strength=0.5), Event("bell", 0.7, 0.8)]),
                spatial=Spatial([SpatialTrack("drum", [0.0, 2.0], [-0.9, -0.9]), SpatialTrack("bell", [0.0, 2.0], [0.9, 0.9])]))
    plan_path = plan.save(tmp_path / "plan.json")
    return tmp_path, lib, video, plan_path


def errors(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]


def test_library_engine_writes_mix_stems_and_a_plan_that_reproduces_it(world, capsys):
    tmp, lib, video, plan_path = world
    out = tmp / "out"
    assert main(["generate", str(video), "--plan", str(plan_path), "--engine", "library", "--library", str(lib),
                 "--stems", "--seed", "5", "-o", str(out)]) == 0
    mix = media.read_audio(out / "clip.wav", SR).numpy()
    assert mix.shape == (2, 2 * SR)
    assert integrated_loudness(mix, SR) == pytest.approx(-23.0, abs=0.5) and true_peak_dbtp(mix) <= -0.9
    drum, bell = (media.read_audio(out / "clip.stems" / f"{k}.wav", SR).numpy() for k in ("drum", "bell"))
    assert sorted(p.name for p in (out / "clip.stems").iterdir()) == ["bell.wav", "drum.wav"]
    assert np.allclose(drum + bell, mix, atol=2e-4)  # the stems add up to the mix
    assert np.sum(drum[0] ** 2) > 10 * np.sum(drum[1] ** 2) and np.sum(bell[1] ** 2) > 10 * np.sum(bell[0] ** 2)
    assert (out / "clip.mp4").is_file()
    saved = Plan.load(out / "clip.plan.json")
    assert (saved.run.engine, saved.run.seed, saved.run.loudness) == ("library", 5, -23.0)
    assert saved.run.library == str(lib.resolve())
    again = tmp / "again"
    assert main(["generate", str(video), "--plan", str(out / "clip.plan.json"), "--engine", "library", "--library",
                 saved.run.library, "--seed", str(saved.run.seed), "-o", str(again)]) == 0
    assert np.array_equal(media.read_audio(again / "clip.wav", SR).numpy(), mix)
    assert main(["generate", str(video), "--plan", str(plan_path), "--engine", "library", "--library", str(lib),
                 "--loudness", "-16", "-o", str(tmp / "loud")]) == 0
    assert integrated_loudness(media.read_audio(tmp / "loud" / "clip.wav", SR).numpy(), SR) == pytest.approx(-16, abs=0.5)


def test_exemplars_from_the_plan_and_the_command_line(world):
    tmp, lib, video, plan_path = world
    sf.write(tmp / "tone.wav", hit(2500), SR)
    plan = Plan.load(plan_path)
    plan.semantic.sources[0].exemplar = "tone.wav"  # relative to the plan file
    plan.save(tmp / "with_exemplar.json")
    out = tmp / "out"
    assert main(["generate", str(video), "--plan", str(tmp / "with_exemplar.json"), "--engine", "library",
                 "--library", str(lib), "--stems", "-o", str(out)]) == 0
    drum = media.read_audio(out / "clip.stems" / "drum.wav", SR).numpy()[0, int(0.3 * SR):int(0.5 * SR)]
    assert np.fft.rfftfreq(len(drum), 1 / SR)[np.argmax(np.abs(np.fft.rfft(drum)))] == pytest.approx(2500, rel=0.05)
    assert Plan.load(out / "clip.plan.json").source("drum").exemplar == str((tmp / "tone.wav").resolve())
    sf.write(tmp / "low.wav", hit(200), SR)  # the command line wins over the plan
    assert main(["generate", str(video), "--plan", str(tmp / "with_exemplar.json"), "--exemplar", f"drum={tmp / 'low.wav'}",
                 "--engine", "library", "--stems", "-o", str(tmp / "cli")]) == 0
    drum = media.read_audio(tmp / "cli" / "clip.stems" / "drum.wav", SR).numpy()[0, int(0.3 * SR):int(0.5 * SR)]
    assert np.fft.rfftfreq(len(drum), 1 / SR)[np.argmax(np.abs(np.fft.rfft(drum)))] == pytest.approx(200, rel=0.1)


@pytest.mark.parametrize("kind, text", [
    ("missing", "file not found"), ("corrupt", "not readable audio"), ("empty", "is empty"),
    ("silent", "is silent"), ("long", "s long"), ("unknown", "unknown source id 'nobody'"), ("malformed", "SOURCE_ID=FILE"),
])
def test_bad_exemplars_are_one_line_exit_2_and_nothing_written(world, capsys, kind, text):
    tmp, lib, video, plan_path = world
    files = {"missing": tmp / "nope.wav", "corrupt": tmp / "bad.wav", "empty": tmp / "empty.wav",
             "silent": tmp / "silent.wav", "long": tmp / "long.wav", "unknown": tmp / "ok.wav", "malformed": None}
    (tmp / "bad.wav").write_bytes(b"RIFF but not really a wave file")
    sf.write(tmp / "empty.wav", np.zeros(0, dtype=np.float32), SR)
    sf.write(tmp / "silent.wav", np.zeros(SR, dtype=np.float32), SR)
    sf.write(tmp / "long.wav", np.random.default_rng(0).standard_normal(31 * SR).astype(np.float32) * 0.1, SR)
    sf.write(tmp / "ok.wav", hit(500), SR)
    option = {"unknown": f"nobody={files['unknown']}", "malformed": "drum"}.get(kind, f"drum={files[kind]}")
    out = tmp / "out"
    code = main(["generate", str(video), "--plan", str(plan_path), "--engine", "library", "--library", str(lib),
                 "--stems", "--exemplar", option, "-o", str(out)])
    err = errors(capsys)
    assert code == 2 and any(text in line for line in err) and len(err) <= 2, err
    assert not out.exists() or not any(out.iterdir())


def test_a_batch_continues_past_a_bad_exemplar_and_a_spatial_edit_reuses_the_stems(world):
    tmp, lib, video, plan_path = world
    engine = LibraryEngine(SoundLibrary.load(lib))
    pipe = PrismAudio.for_stems(engine)
    bad = Plan.load(plan_path)
    bad.semantic.sources[1].exemplar = "missing.wav"
    bad_path = bad.save(tmp / "bad.json")
    results = pipe.generate_batch([video, video], [bad_path, plan_path], engine="library", seed=1)
    assert "missing.wav" in str(results[0]) and results[1].waveform.shape == (2, 2 * SR)
    result = results[1]
    assert set(result.stems) == {"drum", "bell"} and set(result.mono_stems) == {"drum", "bell"}
    calls = []
    engine.render_stems = lambda request: calls.append(request)  # any sampling now would be seen
    edited = Plan.load(plan_path)
    edited.spatial.tracks[0].x = [0.9, 0.9]
    moved = result.respatialise(edited)
    left, right = moved.stems["drum"]
    assert not calls and np.sum(right ** 2) > 10 * np.sum(left ** 2)
    assert np.array_equal(moved.stems["bell"], result.stems["bell"]) or np.allclose(moved.stems["bell"], result.stems["bell"], atol=1e-3)


def test_model_engine_decodes_each_video_once_and_a_seed_ignores_the_batch(tmp_path, monkeypatch):
    from prismaudio.media import frames as frames_module

    pipe = PrismAudio.tiny_random(seed=0)
    videos = [sliding_block_video(tmp_path / f"v{i}.mp4", 1.0 + 0.4 * i) for i in range(2)]
    decodes = []
    original = frames_module.decode_frame_sets
    monkeypatch.setattr(media, "decode_frame_sets", lambda *a, **k: decodes.append(a[0]) or original(*a, **k))
    together = pipe.generate_batch(videos, seed=3, num_steps=1)  # the planner runs: one decode serves it too
    assert sorted(decodes) == sorted(str(v) for v in videos)
    alone = pipe.generate(videos[1], plan=together[1].plan, seed=3, num_steps=1)
    torch.testing.assert_close(alone.waveform, together[1].waveform)
    assert together[0].plan.run.seed == 3 and json.loads(together[0].plan.to_json())["run"]["engine"] == "model"


def test_stem_engine_from_the_command_line_follows_the_plan_and_the_exemplar(world, tmp_path):
    """`generate --engine stem`: a (tiny, untrained) stem generator started from each source's
    sketch: the drum from its exemplar, the bell from the library; both where the plan says."""
    import copy

    from prismaudio.stemgen.config import StemModelConfig
    from prismaudio.stemgen.model import StemDiT
    from prismaudio.stemgen.trainer import CHECKPOINT_KIND, CHECKPOINT_VERSION, export_model
    from prismaudio.train.checkpoint import save_training_state

    tmp, lib, video, plan_path = world
    cfg = StemModelConfig(width=32, depth=1, heads=2, patch=2, duration=2.0)
    model = StemDiT(cfg)
    ckpt = save_training_state(tmp / "step.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION, cfg, 1, model,
                               ema=copy.deepcopy(model))
    weights = export_model(ckpt, tmp / "stem.safetensors")
    sf.write(tmp / "thud.wav", hit(150, seed=3), SR)
    out = tmp / "out"
    assert main(["generate", str(video), "--plan", str(plan_path), "--engine", "stem", "--stem-model", str(weights),
                 "--library", str(lib), "--exemplar", f"drum={tmp / 'thud.wav'}", "--stems", "-o", str(out)]) == 0
    drum, bell = (media.read_audio(out / "clip.stems" / f"{k}.wav", SR).numpy().sum(0) for k in ("drum", "bell"))

    def peak(x, t0, t1):
        return float(np.abs(x[int(t0 * SR):int(t1 * SR)]).max())

    assert peak(drum, 0.3, 0.4) > 4 * peak(drum, 0.6, 1.0)  # hits at 0.3 and 1.1 s, quiet between
    assert peak(bell, 0.7, 0.8) > 4 * peak(bell, 0.0, 0.6)
    run = Plan.load(out / "clip.plan.json").run
    assert (run.engine, run.library, run.variation, run.model) == ("stem", str(lib.resolve()), 0.15, str(weights.resolve()))
