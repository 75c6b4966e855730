"""`generate` on videos longer than one window: streamed window by window, resumable, whole-file
loudness, output cut to --duration; and clips of one window exactly as before."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from prismaudio import media
from prismaudio.cli import main
from prismaudio.engines.library import LibraryEngine
from prismaudio.pipeline import PrismAudio
from prismaudio.pipeline import window_audio
from prismaudio.planner.plan import Event, Plan, Semantic, Source, Spatial, SpatialTrack, Temporal
from prismaudio.render.loudness import integrated_loudness, true_peak_dbtp

from media_factory import sliding_block_video

SR = 16000


def hit(freq, seconds=0.25):
    t = np.arange(int(seconds * SR)) / SR
    return (np.sin(2 * np.pi * freq * t) * np.exp(-t * 15)).astype(np.float32)


def drum_plan(seconds):
    onsets = np.arange(0.3, seconds - 0.3, 0.45).round(3).tolist()
    return Plan(duration=seconds, semantic=Semantic([Source("drum", "snare drum")]),
                temporal=Temporal([Event("drum", t, round(t + 0.1, 3)) for t in onsets]),
                spatial=Spatial([SpatialTrack("drum", [0.0, seconds], [-0.8, 0.8])])).validate()


@pytest.fixture
def world(tmp_path):
    sf.write(tmp_path / "drum.wav", hit(300), SR)
    video = sliding_block_video(tmp_path / "long.mp4", 19.0)
    plan_path = drum_plan(19.0).save(tmp_path / "plan.json")
    return tmp_path, video, plan_path


def stems_pipe():
    return PrismAudio.for_stems(LibraryEngine(None))


def test_long_video_streams_to_exact_length_normalised_audio_and_video(world):
    tmp, video, plan_path = world
    result = stems_pipe().generate_to_files(video, tmp / "o.wav", tmp / "o.mp4", plan_path, seed=1, engine="library",
                                            exemplars={"drum": tmp / "drum.wav"}, progress=False)
    assert result.windows == 3 and not (tmp / "o.work").exists()  # the work folder is removed when done
    audio = sf.read(tmp / "o.wav")[0].T
    assert audio.shape == (2, 19 * SR)
    assert integrated_loudness(audio, SR) == pytest.approx(-23.0, abs=0.3)  # over the whole file
    assert true_peak_dbtp(audio) <= -0.95
    assert media.probe(tmp / "o.mp4").num_frames == media.probe(video).num_frames
    assert media.read_audio(tmp / "o.mp4", SR).shape[-1] == 19 * SR
    env = np.abs(audio).max(axis=0)
    hits = [t for t in result.plan.temporal.events]
    assert len(hits) == len(drum_plan(19.0).temporal.events)  # every planned hit once in the whole plan
    for e in hits:  # every hit sounds, those at window joins included
        k = int(e.onset * SR)
        assert env[k:k + SR // 20].max() > 0.05, e.onset


def test_interrupted_run_resumes_and_gives_the_uninterrupted_result(world, monkeypatch):
    tmp, video, plan_path = world
    pipe, kw = stems_pipe(), dict(seed=2, engine="library", exemplars={"drum": tmp / "drum.wav"})
    whole = pipe.generate_to_files(video, tmp / "a.wav", None, plan_path, **kw)
    calls, real, armed = [], window_audio.stem_window, True

    class Killed(Exception):
        pass

    def stop_at_second(*args, **kwargs):  # the real engine, the run killed at window 2
        nonlocal armed
        calls.append(1)
        if len(calls) == 2 and armed:
            raise Killed
        return real(*args, **kwargs)

    import prismaudio.pipeline.stream as stream

    monkeypatch.setattr(stream, "stem_window", stop_at_second)
    with pytest.raises(Killed):
        pipe.generate_to_files(video, tmp / "b.wav", None, plan_path, **kw)
    assert not (tmp / "b.wav").exists() and (tmp / "b.work" / "w00000.npy").exists()
    calls.clear()
    armed = False
    resumed = pipe.generate_to_files(video, tmp / "b.wav", None, plan_path, **kw)
    assert resumed.resumed_windows == 1 and len(calls) == 2  # only the windows not made before
    assert np.array_equal(sf.read(tmp / "a.wav")[0], sf.read(tmp / "b.wav")[0])
    assert whole.plan.to_dict() == resumed.plan.to_dict()


def test_cli_streams_long_videos_with_the_model_and_plans_window_by_window(tmp_path):
    video = sliding_block_video(tmp_path / "v.mp4", 10.0)
    out = tmp_path / "out"
    assert main(["-q", "generate", str(video), "-o", str(out), "--model", "tiny-random", "--num-steps", "1",
                 "--seed", "4"]) == 0
    audio = sf.read(out / "v.wav")[0].T
    assert audio.shape == (2, 10 * SR) and np.isfinite(audio).all()
    plan = Plan.load(out / "v.plan.json")
    assert plan.duration == 10.0 and plan.run.duration == 10.0 and plan.run.seed == 4
    assert media.probe(out / "v.mp4").duration == pytest.approx(10.0, abs=0.05)
    assert not (out / "v.work").exists()


def test_duration_cuts_the_video_and_the_saved_plan(tmp_path):
    video = sliding_block_video(tmp_path / "v.mp4", 6.0)
    plan_path = drum_plan(6.0).save(tmp_path / "p.json")
    sf.write(tmp_path / "drum.wav", hit(300), SR)
    out = tmp_path / "out"
    assert main(["-q", "generate", str(video), "-o", str(out), "--engine", "library", "--plan", str(plan_path),
                 "--exemplar", f"drum={tmp_path / 'drum.wav'}", "--duration", "3"]) == 0
    muxed = media.probe(out / "v.mp4")
    assert muxed.duration == pytest.approx(3.0, abs=0.05) and muxed.num_frames == 75
    assert media.read_audio(out / "v.mp4", SR).shape[-1] == 3 * SR
    saved = json.loads((out / "v.plan.json").read_text())
    assert saved["duration"] == 3.0 and saved["run"]["duration"] == 3.0
    assert max(e["onset"] for e in saved["temporal"]["events"]) < 3.0


def test_a_clip_of_one_window_is_made_exactly_as_before(tmp_path):
    torch.set_num_threads(2)
    pipe = PrismAudio.tiny_random(seed=0)
    video = sliding_block_video(tmp_path / "v.mp4", 2.0)
    plan = drum_plan(2.0)
    direct = pipe.generate(video, plan=plan, seed=3, num_steps=1)
    result = pipe.generate_to_files(video, tmp_path / "v.wav", tmp_path / "v.mp4", plan, seed=3, num_steps=1)
    assert result.windows == 1
    written = media.read_audio(tmp_path / "v.wav", SR)
    expected = np.clip(direct.waveform.numpy(), -1, 1)
    assert np.abs(written.numpy() - expected).max() <= 1 / 32768 + 1e-6
