"""Pitch channels of the codec: YIN tracking, the harmonic comb, and a codec that carries them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from codec_helpers import micro_config, panned_tone
from prismaudio.codec.pitch import harmonic_comb, hold_pitched, pitch_track
from prismaudio.codec.stereo_codec import StereoCodec
from prismaudio.codec.trainer import init_from_codec
from prismaudio.train.checkpoint import export_weights

SR = 16000


def harmonic_tone(f0: float, seconds: float = 1.0, partials: int = 8) -> torch.Tensor:
    t = np.arange(int(seconds * SR)) / SR
    partials = min(partials, int(0.49 * SR / f0))  # no partial above Nyquist (it would alias)
    x = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, partials + 1)) * 0.2
    return torch.tensor(np.stack([x, x]), dtype=torch.float32)[None]


@pytest.mark.parametrize("f0", [82.4, 220.0, 412.3, 1046.5])
def test_pitch_track_finds_f0_of_a_held_note(f0):
    track = pitch_track(harmonic_tone(f0), SR, 320, 50, 50.0, 2000.0)
    steady = track[0, :, 5:45]  # away from the zero-padded clip edges
    estimate = 440.0 * 2 ** steady[0]
    assert (estimate / f0 - 1).abs().max() < 2e-3  # the 20th harmonic lands within half a bin
    assert steady[1].min() > 0.9


def test_noise_and_silence_have_no_pitch():
    noise = pitch_track(torch.randn(1, 2, SR, generator=torch.Generator().manual_seed(0)) * 0.1, SR, 320, 50, 50.0, 2000.0)
    assert noise[0, 1].mean() < 0.4
    silence = pitch_track(torch.zeros(1, 2, SR), SR, 320, 50, 50.0, 2000.0)
    assert torch.all(silence == 0)


def test_unpitched_frames_hold_the_nearest_pitched_value():
    values = torch.tensor([[5.0, 1.0, 7.0, 2.0, 9.0]])
    pitched = torch.tensor([[False, True, False, True, False]])
    assert hold_pitched(values, pitched).tolist() == [[1.0, 1.0, 1.0, 2.0, 2.0]]
    assert hold_pitched(values, torch.zeros_like(pitched)).tolist() == [[0.0] * 5]


def test_harmonic_comb_peaks_on_every_harmonic():
    n_fft, f0 = 640, 250.0  # 25 Hz bins: harmonic k sits exactly on bin 10 k
    comb = harmonic_comb(torch.full((1, 3), math.log2(f0 / 440.0)), SR, n_fft)[0, :, 0]
    assert comb.shape == (n_fft // 2 + 1,)
    peaks = torch.arange(10, n_fft // 2 + 1, 10)
    assert torch.allclose(comb[peaks], torch.ones(len(peaks)))
    assert torch.all(comb[peaks[:-1] + 5] < 1e-6)  # half way between harmonics
    assert torch.all(comb[:5] == 0)  # nothing below half of f0
    assert comb[11].item() == pytest.approx(0.5, abs=0.02)  # one bin off: the Hann main lobe's -6 dB


def test_pitch_codec_latent_layout_and_exact_length():
    cfg = micro_config(pitch=True)
    codec = StereoCodec(cfg).eval()
    assert codec.latent_channels == cfg.mid_channels + 2 + cfg.ild_bands + 1
    wave = harmonic_tone(220.0, seconds=0.5)
    latent = codec.encode(wave)
    assert latent.shape == (1, codec.latent_channels, math.ceil(wave.shape[-1] / cfg.hop))
    raw = latent * codec.latent_std[:, None] + codec.latent_mean[:, None]
    f0 = 440.0 * 2 ** raw[0, cfg.mid_channels, 5:-5]
    assert (f0 / 220.0 - 1).abs().max() < 2e-3
    for n in (1, 321, wave.shape[-1]):
        assert codec.decode(latent, n).shape == (1, 2, n)
    with pytest.raises(ValueError, match="pitch"):
        codec.decoder(raw[:, : cfg.mid_channels])


def test_pitch_added_to_a_trained_codec_keeps_its_latents_and_nearly_its_output(tmp_path):
    base_cfg = micro_config()
    base = StereoCodec(base_cfg)
    with torch.no_grad():
        for p in base.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        base.latent_mean.normal_()
        base.latent_std.uniform_(0.5, 2.0)
    path = tmp_path / "base.safetensors"
    export_weights(path, "codec", 1, base_cfg, base.eval())
    widened = StereoCodec(micro_config(pitch=True))
    init_from_codec(widened, path)
    widened.eval()
    wave = panned_tone()
    old, new = base.encode(wave[None]), widened.encode(wave[None])
    mid = base_cfg.mid_channels
    assert torch.equal(new[:, :mid], old[:, :mid]) and torch.equal(new[:, mid + 2 :], old[:, mid:])
    with torch.no_grad():
        z, _, measured = base.analyse(wave[None])
        pitch = widened.analyse(wave[None])[2][:, :2]
        gain = widened.decoder(z, pitch) - base.decoder(z)  # the harmonic branch starts e^-2 below
    assert gain.min() > -1e-5 and gain.max() < math.log1p(math.exp(-2.0)) + 1e-4


def test_calibrated_pitch_norm_gives_unit_scale_channels(tmp_path):
    from prismaudio.codec.data import CropSampler
    from prismaudio.codec.trainer import calibrate_pitch_norm

    codec = StereoCodec(micro_config(pitch=True))
    clips = [harmonic_tone(f, seconds=0.5)[0] for f in (110.0, 220.0, 440.0, 880.0)]
    state = torch.random.get_rng_state()
    calibrate_pitch_norm(codec, CropSampler(clips, 4000), batches=4, batch_size=4)
    assert torch.equal(torch.random.get_rng_state(), state)  # the training's data order is untouched
    mid = codec.config.mid_channels
    pitch = torch.cat([codec.encode(c[None])[:, mid : mid + 2] for c in clips], dim=-1)
    assert pitch[:, 0].std() == pytest.approx(1.0, abs=0.3) and pitch[:, 0].mean().abs() < 0.5
