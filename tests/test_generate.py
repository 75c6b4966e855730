"""`PrismAudio` and `prismaudio generate` on videos the tests make (tiny random components)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from prismaudio import media
from prismaudio.cli import main
from prismaudio.models.windows import crossfade_join, window_starts
from prismaudio.pipeline import PrismAudio
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal

SR = 16000


def make_video(path: Path, seconds: float, fps: int = 25) -> Path:
    t = np.arange(int(round(seconds * fps)))
    frames = np.zeros((len(t), 64, 64, 3), dtype=np.uint8)
    for k in t:  # a bright square crossing the frame, bouncing at 1 s
        x = int(4 + (k % 25) * 2)
        frames[k, 24:40, x:x + 16] = 230
    return media.write_video(path, frames, fps)


def plan_for(seconds: float) -> Plan:
    return Plan(duration=seconds, semantic=Semantic([Source("s", "snare drum")]),
                temporal=Temporal([Event("s", t, round(t + 0.1, 2)) for t in np.arange(0.5, seconds - 0.2, 1.0).round(2).tolist()]),
                spatial=Spatial([SpatialTrack("s", [0.0, seconds], [-0.8, 0.8])])).validate()


@pytest.fixture(scope="module")
def pipe():
    torch.set_num_threads(2)
    return PrismAudio.tiny_random(seed=0)


def test_generate_writes_exact_length_audio_valid_mp4_and_plan(tmp_path):
    video = make_video(tmp_path / "clip.mp4", 2.2)
    plan_path = plan_for(2.2).save(tmp_path / "p.json")
    code = main(["-q", "generate", str(video), "-o", str(tmp_path / "out"), "--model", "tiny-random", "--num-steps", "2",
                 "--plan", str(plan_path), "--seed", "3"])
    assert code == 0
    info = media.probe(video)
    wave = media.read_audio(tmp_path / "out" / "clip.wav", SR)
    assert wave.shape == (2, round(info.duration * SR))
    muxed = media.probe(tmp_path / "out" / "clip.mp4")
    assert muxed.num_frames == info.num_frames and len(muxed.audio_streams) == 1
    assert media.read_audio(tmp_path / "out" / "clip.mp4", SR).shape[-1] == round(info.duration * SR)
    assert Plan.load(tmp_path / "out" / "clip.plan.json").duration == pytest.approx(2.2)


def test_result_is_typed_seeded_and_follows_the_plan(pipe, tmp_path):
    video = make_video(tmp_path / "v.mp4", 1.6)
    plan = plan_for(1.6)
    a = pipe.generate(video, plan=plan, seed=1, num_steps=2, cfg_strength=2.0)
    b = pipe.generate(video, plan=plan, seed=1, num_steps=2, cfg_strength=2.0)
    assert a.sample_rate == SR and a.waveform.shape == (2, round(1.6 * SR))
    assert a.plan is not plan and {**a.plan.to_dict(), "run": None} == {**plan.to_dict(), "run": None}  # a copy
    assert (a.plan.run.engine, a.plan.run.seed, a.plan.run.num_steps, a.plan.run.duration) == ("model", 1, 2, 1.6)
    assert {"check_inputs", "plan", "decode", "features", "prepare_latents", "sample", "decode_audio"} <= set(a.timings)
    torch.testing.assert_close(a.waveform, b.waveform)
    edited = Plan.from_dict({**plan.to_dict(), "temporal": {"events": [{"source": "s", "onset": 1.2, "offset": 1.3}]}})
    c = pipe.generate(video, plan=edited, seed=1, num_steps=2, cfg_strength=2.0)
    assert not torch.allclose(a.waveform, c.waveform)  # a plan edit changes the audio
    d = pipe.generate(video, plan=plan, seed=1, num_steps=2, cfg_strength=2.0, negative_prompt="speech")
    assert not torch.allclose(a.waveform, d.waveform)


def test_planner_runs_when_no_plan_is_given(pipe, tmp_path):
    result = pipe.generate(make_video(tmp_path / "v.mp4", 1.2), seed=0, num_steps=1)
    assert result.plan.duration == pytest.approx(1.2, abs=0.05)


def test_windows_cover_the_duration():
    assert window_starts(3.0, 4.0, 1.0) == [0.0]
    starts = window_starts(9.0, 4.0, 1.0)
    assert starts[0] == 0 and starts[-1] + 4.0 == pytest.approx(9.0)
    assert all(b - a <= 3.0 + 1e-9 for a, b in zip(starts, starts[1:]))  # at least 1 s overlap


def test_equal_power_crossfade_keeps_the_level_of_uncorrelated_windows():
    g = torch.Generator().manual_seed(0)
    waves = [torch.randn(2, 64000, generator=g) * 0.1 for _ in range(3)]
    starts = [0, 48000, 96000]
    out = crossfade_join(waves, starts, 160000)
    rms = lambda x: float(x.pow(2).mean().sqrt())  # noqa: E731
    inside, seam = rms(out[:, 20000:40000]), rms(out[:, 52000:60000])
    assert abs(20 * np.log10(seam / inside)) < 0.5


def frame_db(wave: torch.Tensor, frame: int) -> np.ndarray:
    x = wave.mean(0).numpy()
    n = len(x) // frame
    return 10 * np.log10((x[: n * frame].reshape(n, frame) ** 2).mean(1) + 1e-10)


def test_long_video_windows_join_without_level_jumps(pipe, tmp_path):
    seconds = 9.0  # longer than the tiny model's 8 s window: two windows, one seam
    video = make_video(tmp_path / "long.mp4", seconds)
    result = pipe.generate(video, plan=plan_for(seconds), seed=0, num_steps=2, cfg_strength=1.0)
    assert result.waveform.shape[-1] == round(media.probe(video).duration * SR)
    frame = SR // 20  # 50 ms
    db = frame_db(result.waveform, frame)
    jumps = np.abs(np.diff(db))
    starts = window_starts(result.duration, pipe.config.duration, 1.0)
    seam_frames = set()
    for k in range(1, len(starts)):
        overlap_end = starts[k - 1] + pipe.config.duration
        seam_frames.update(range(int(starts[k] * 20) - 1, int(overlap_end * 20) + 1))
    at_seams = jumps[sorted(f for f in seam_frames if f < len(jumps))]
    inside = np.delete(jumps, sorted(f for f in seam_frames if f < len(jumps)))
    assert at_seams.max() <= np.percentile(inside, 99) + 1.0, (at_seams.max(), np.percentile(inside, 99))


def run_cli(args, capsys):
    code = main(["-q", "generate", *map(str, args)])
    # the error lines (third-party progress bars and warnings may share stderr)
    return code, [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]


def test_bad_inputs_are_one_line_exit_2_and_other_files_still_processed(tmp_path, capsys):
    good = make_video(tmp_path / "good.mp4", 1.2)
    other = plan_for(3.0)
    for e in other.temporal.events:  # a plan file's events must last (zero length is refused on load)
        e.offset = e.onset + 0.1
    other = other.save(tmp_path / "other.json")
    out = tmp_path / "out"
    base = ["--model", "tiny-random", "--num-steps", "1", "-o", out]
    code, err = run_cli([good, "--plan", other, *base], capsys)
    assert code == 2 and len(err) == 2 and "another video" in err[0]
    for flag, value, text in [("--num-steps", "0", "num-steps"), ("--duration", "-1", "duration")]:
        code, err = run_cli([good, *base, flag, value], capsys)
        assert code == 2 and len(err) == 1 and text in err[0]
    code, err = run_cli([good, "-o", out, "--model", "no-such-model"], capsys)
    assert code == 2 and len(err) == 1 and "unknown model 'no-such-model'" in err[0]
    # a missing and a corrupt video next to a good one: those fail, the good one is written
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    code, err = run_cli([tmp_path / "missing.mp4", tmp_path / "broken.mp4", good, *base], capsys)
    assert code == 2 and (out / "good.wav").is_file() and (out / "good.mp4").is_file()
    assert len(err) == 3 and "2 of 3" in err[-1]


def test_missing_default_model_says_how_to_build_it(tmp_path, capsys, monkeypatch):
    from prismaudio import pipeline

    monkeypatch.setattr(pipeline.bundle, "MODEL_DIRS", [tmp_path / "no-models"])
    code, err = run_cli([make_video(tmp_path / "v.mp4", 1.0), "-o", tmp_path / "o", "--model", "tiny"], capsys)
    assert code == 2 and len(err) == 1 and "not built yet" in err[0] and "make train-default" in err[0]


def test_bundles_round_trip_and_refuse_bad_checkpoints(pipe, tmp_path, capsys):
    video = make_video(tmp_path / "v.mp4", 1.2)
    plan = plan_for(1.2)
    bundle = pipe.save_bundle(tmp_path / "bundle")
    loaded = PrismAudio.from_pretrained(bundle, device="cpu")
    torch.testing.assert_close(loaded.generate(video, plan=plan, seed=2, num_steps=2).waveform,
                               pipe.generate(video, plan=plan, seed=2, num_steps=2).waveform)
    # a generator checkpoint of another preset
    index = json.loads((bundle / "prismaudio.json").read_text())
    (bundle / "prismaudio.json").write_text(json.dumps({**index, "generator_preset": "paper"}))
    code, err = run_cli([video, "-o", tmp_path / "o", "--model", bundle], capsys)
    assert code == 2 and len(err) == 1 and "different preset" in err[0]
    # a corrupt checkpoint (truncated safetensors)
    (bundle / "prismaudio.json").write_text(json.dumps(index))
    data = (bundle / "generator.safetensors").read_bytes()
    (bundle / "generator.safetensors").write_bytes(data[: len(data) // 3])
    code, err = run_cli([video, "-o", tmp_path / "o", "--model", bundle], capsys)
    assert code == 2 and len(err) == 1 and "generator.safetensors" in err[0]


def test_out_of_memory_names_the_batch_size_and_other_batches_continue(tmp_path, capsys, monkeypatch):
    from prismaudio.models.dit import FlowDiT

    original = FlowDiT.forward

    def limited(self, x, sigma, conditions):  # a device that fits one video's CFG batch, not two
        if x.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return original(self, x, sigma, conditions)

    monkeypatch.setattr(FlowDiT, "forward", limited)
    videos = [make_video(tmp_path / f"v{i}.mp4", 1.0) for i in range(3)]
    code, err = run_cli([*videos, "-o", tmp_path / "o", "--model", "tiny-random", "--num-steps", "1", "--batch-size", "2"], capsys)
    assert code == 2 and len(err) == 3
    assert all("lower --batch-size" in line for line in err[:2])
    assert (tmp_path / "o" / "v2.wav").is_file() and not (tmp_path / "o" / "v0.wav").exists()
    code, _ = run_cli([*videos, "-o", tmp_path / "o", "--model", "tiny-random", "--num-steps", "1", "--skip-existing"], capsys)
    assert code == 0 and (tmp_path / "o" / "v0.wav").is_file()
