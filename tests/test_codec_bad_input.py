"""Bad input never crashes deep inside: a defined result or a one-line error."""

from __future__ import annotations

import logging

import pytest
import torch

from prismaudio.cli import main
from prismaudio.codec import CodecInputError, StereoCodec
from prismaudio.codec.stereo_codec import CHECKPOINT_KIND, CHECKPOINT_VERSION
from prismaudio.errors import CheckpointError
from prismaudio.media import write_audio
from prismaudio.train.checkpoint import export_weights

from codec_helpers import micro_config, panned_tone


@pytest.fixture(scope="module")
def codec() -> StereoCodec:
    torch.manual_seed(0)
    return StereoCodec(micro_config()).eval()


def test_mono_input_is_upmixed_with_a_log_line(codec, caplog):
    mono = panned_tone(0.2)[:1]
    with caplog.at_level(logging.INFO, logger="prismaudio.codec"):
        latent = codec.encode(mono[None])
    assert "mono input" in caplog.text
    assert torch.equal(latent, codec.encode(mono.expand(2, -1)[None]))


def test_wrong_sample_rate_is_resampled(codec, caplog):
    wave = panned_tone(0.5, sample_rate=8000)
    with caplog.at_level(logging.INFO, logger="prismaudio.codec"):
        latent = codec.encode(wave[None], sample_rate=8000)
    assert "resampling" in caplog.text
    assert latent.shape[-1] == codec.latent_length(8000)  # 0.5 s at 16 kHz


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_or_inf_is_a_clear_error(codec, bad):
    wave = torch.zeros(1, 2, 1000)
    wave[0, 1, 10] = bad
    with pytest.raises(CodecInputError, match="NaN or inf"):
        codec.encode(wave)
    with pytest.raises(CodecInputError, match="NaN or inf"):
        codec.decode(torch.full((1, codec.latent_channels, 3), bad))


def test_empty_and_many_channel_input_are_clear_errors(codec):
    with pytest.raises(CodecInputError, match="no samples"):
        codec.encode(torch.zeros(1, 2, 0))
    with pytest.raises(CodecInputError, match="1 or 2 channels"):
        codec.encode(torch.zeros(1, 6, 100))
    with pytest.raises(CodecInputError, match="latent must be"):
        codec.decode(torch.zeros(1, codec.latent_channels + 1, 3))


def test_silence_gives_a_finite_centred_result(codec):
    latent = codec.encode(torch.zeros(1, 2, 3200))
    assert torch.isfinite(latent).all()
    raw = latent * codec.latent_std[:, None] + codec.latent_mean[:, None]
    assert torch.all(raw[:, codec.config.mid_channels :] == 0)  # no level or time difference
    out = codec.decode(latent, 3200)
    assert out.shape == (1, 2, 3200) and torch.isfinite(out).all()
    assert torch.allclose(out[:, 0], out[:, 1])


def test_one_sample_input(codec):
    latent = codec.encode(torch.full((1, 2, 1), 0.5))
    assert latent.shape == (1, codec.latent_channels, 1)
    assert codec.decode(latent, 1).shape == (1, 2, 1)


def test_checkpoint_of_another_preset_is_a_checkpoint_error(tmp_path):
    other = micro_config(mid_channels=6)
    path = export_weights(tmp_path / "other.safetensors", CHECKPOINT_KIND, CHECKPOINT_VERSION, other, StereoCodec(other))
    assert StereoCodec.load(path).latent_channels == other.latent_channels  # loads as what it is
    with pytest.raises(CheckpointError, match="another preset"):
        StereoCodec.load(path, expect=micro_config())


def test_corrupt_or_foreign_checkpoints_are_one_line_errors(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00\x01 definitely not safetensors")
    with pytest.raises(CheckpointError):
        StereoCodec.load(corrupt)
    with pytest.raises(CheckpointError, match="not found"):
        StereoCodec.load(tmp_path / "missing.safetensors")
    cfg = micro_config()
    wrong_kind = export_weights(tmp_path / "gen.safetensors", "generator", 1, cfg, StereoCodec(cfg))
    with pytest.raises(CheckpointError, match="expected 'codec'"):
        StereoCodec.load(wrong_kind)
    audio = tmp_path / "audio"
    write_audio(audio / "a.wav", panned_tone(0.2), 16000)
    assert main(["codec", "eval", "--audio", str(audio), "--checkpoint", str(corrupt), "-o", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
