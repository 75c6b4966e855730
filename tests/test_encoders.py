"""Encoders: shapes and rates, the ImageNet head, the sync encoder, adapters, the feature cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from prismaudio import media
from prismaudio.cli import main
from prismaudio.encoders.adapters import ClipLikeAdapter
from prismaudio.encoders.base import Encoder
from prismaudio.encoders.semantic import SemanticEncoder
from prismaudio.encoders.sync import SyncConfig, SyncEncoder, SyncNet, motion_inputs
from prismaudio.errors import ConfigError
from prismaudio.planner_training.devclips import DevSource, disc, render_clip


def test_semantic_shapes_rate_and_imagenet_head():
    import skimage.data

    enc = SemanticEncoder(fps=4)
    assert isinstance(enc, Encoder) and enc.rate == 4 and enc.dim == 1280
    frames = torch.zeros(2, 3, 100, 120, 3, dtype=torch.uint8)
    assert enc.encode(frames).shape == (2, 3, 1280)
    cat = torch.from_numpy(np.asarray(skimage.data.chelsea()))[None]
    probs = enc.classify(cat)
    assert 281 <= int(probs.argmax()) <= 285  # a real ImageNet model: the cat photo is a cat
    with pytest.raises(ConfigError):
        SemanticEncoder(fps=25)


def test_sync_encoder_rate_shape_and_motion_statistics():
    enc = SyncEncoder(net=SyncNet(8), cfg=SyncConfig(hidden=8))
    clip = render_clip([DevSource(disc(10, (250, 250, 250)), 0.2, 0.5, 0.5, 0.0)], duration=1.0, size=(64, 64))
    frames = torch.from_numpy(clip.frames)
    feats = enc.encode(frames)
    assert enc.rate == 25 and feats.shape == (1, 25, enc.dim) and enc.dim == 16 + 8
    _, stats = motion_inputs(frames[None], 64)
    still = torch.from_numpy(np.repeat(clip.frames[:1], 25, 0))[None]
    _, still_stats = motion_inputs(still, 64)
    assert float(stats[0, 1:, 0].mean()) > 0.01 and float(still_stats.abs().max()) == 0.0


def test_motion_inputs_in_frame_chunks_are_the_whole_window_s_bit_for_bit(monkeypatch):
    """The float frames are made a chunk at a time (a window's three float copies were the
    planner's largest arrays); every step is per frame, so chunking changes no number."""
    import prismaudio.encoders.sync as sync

    frames = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 23, 40, 40, 3), dtype=np.uint8))
    monkeypatch.setattr(sync, "MOTION_CHUNK", 10**6)
    whole = motion_inputs(frames, 16)
    monkeypatch.setattr(sync, "MOTION_CHUNK", 5)  # 46 frames: chunks of 5 and a last one of 1
    chunked = motion_inputs(frames, 16)
    assert all(torch.equal(a, b) for a, b in zip(whole, chunked))


def test_packaged_sync_encoder_loads_if_present():
    from prismaudio.encoders.sync import SYNC_PATH

    if not SYNC_PATH.is_file():
        pytest.skip("sync encoder weights not installed")
    enc = SyncEncoder()
    assert enc.encode(torch.zeros(10, 64, 64, 3, dtype=torch.uint8)).shape == (1, 10, enc.dim)


def test_adapters_need_local_weights(tmp_path):
    with pytest.raises(ConfigError, match="local weights"):
        ClipLikeAdapter(None)
    with pytest.raises(ConfigError, match="not found"):
        ClipLikeAdapter(tmp_path / "nope.pt")
    module = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(1), torch.nn.Linear(3 * 32 * 32, 7)))
    module.save(str(tmp_path / "tiny.pt"))
    adapter = ClipLikeAdapter(tmp_path / "tiny.pt", fps=8, size=32)
    assert adapter.dim == 7 and adapter.encode(torch.zeros(1, 5, 40, 40, 3, dtype=torch.uint8)).shape == (1, 5, 7)


def _manifest(tmp_path, n=2):
    lines = []
    (tmp_path / "video").mkdir()
    for i in range(n):
        clip = render_clip([DevSource(disc(8, (200, 30, 30)), 0.3, 0.4, 0.3, 0.0)], duration=1.0, size=(64, 64))
        media.write_video(tmp_path / "video" / f"c{i}.mp4", clip.frames, 25)
        plan = {"duration": 1.0, "semantic": {"sources": [{"id": "s1", "label": "drum", "description": ""}]}}
        lines.append(json.dumps({"id": f"c{i}", "video": f"video/c{i}.mp4", "plan": plan}))
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path / "manifest.jsonl"


def test_extract_is_sharded_idempotent_and_resumable(tmp_path, capsys):
    from prismaudio.encoders.sync import SYNC_PATH

    if not SYNC_PATH.is_file():
        pytest.skip("sync encoder weights not installed")
    from safetensors.torch import load_file

    manifest = _manifest(tmp_path)
    out = tmp_path / "feats"
    assert main(["extract", "--manifest", str(manifest), "--out", str(out), "--shard", "1/2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["c1.safetensors"]
    assert main(["extract", "--manifest", str(manifest), "--out", str(out)]) == 0
    assert "1 written, 1 already there" in capsys.readouterr().out
    f = load_file(str(out / "c0.safetensors"))
    assert f["semantic"].shape == (8, 1280) and f["sync"].shape[0] == 25 and f["text"].shape == (4, 64, 384)
    assert main(["extract", "--manifest", str(manifest), "--out", str(out)]) == 0
    assert "0 written, 2 already there" in capsys.readouterr().out


def test_extract_bad_inputs(tmp_path, capsys):
    assert main(["extract", "--manifest", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert main(["extract", "--manifest", str(tmp_path), "--out", str(tmp_path / "o"), "--shard", "3/2"]) == 2
    (tmp_path / "manifest.jsonl").write_text("{not json\n")
    assert main(["extract", "--manifest", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error:") for line in err)


def test_extract_with_codec_latents(tmp_path):
    from prismaudio.encoders.sync import SYNC_PATH

    if not SYNC_PATH.is_file():
        pytest.skip("sync encoder weights not installed")
    from safetensors.torch import load_file

    from prismaudio.codec import StereoCodec
    from prismaudio.codec.config import CodecConfig
    from prismaudio.codec.stereo_codec import CHECKPOINT_KIND
    from prismaudio.config import to_dict
    from prismaudio.train.checkpoint import Checkpoint, save_checkpoint

    cfg = CodecConfig()
    codec = StereoCodec(cfg)
    save_checkpoint(tmp_path / "codec.safetensors", Checkpoint(CHECKPOINT_KIND, 1, to_dict(cfg), 0,
                                                               {f"model/{k}": v for k, v in codec.state_dict().items()}))
    manifest = _manifest(tmp_path, n=1)
    (tmp_path / "audio").mkdir()
    media.write_audio(tmp_path / "audio" / "c0.wav", np.random.default_rng(0).normal(0, 0.1, (2, 16000)), 16000)
    line = json.loads(manifest.read_text())
    line["audio"] = "audio/c0.wav"
    manifest.write_text(json.dumps(line) + "\n")
    out = tmp_path / "feats"
    assert main(["extract", "--manifest", str(manifest), "--out", str(out), "--codec", str(tmp_path / "codec.safetensors")]) == 0
    f = load_file(str(out / "c0.safetensors"))
    expected = codec.encode(media.read_audio(tmp_path / "audio" / "c0.wav", codec.sample_rate, channels=2)[None])[0]
    assert f["latents"].shape == expected.shape and torch.allclose(f["latents"], expected, atol=1e-5)
