"""StereoCodec public API: shapes, exact lengths, determinism, parametric stereo maths, presets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from prismaudio.codec import StereoCodec
from prismaudio.codec import stereo
from prismaudio.codec.config import CodecConfig
from prismaudio.config import load_config
from prismaudio.dsp.spatial import gcc_phat_itd, ild_db

from codec_helpers import micro_config, panned_tone


@pytest.fixture(scope="module")
def codec() -> StereoCodec:
    torch.manual_seed(0)
    return StereoCodec(micro_config()).eval()


@pytest.mark.parametrize("n", [1, 159, 160, 161, 1001])
def test_shapes_and_exact_lengths(codec, n):
    wave = torch.randn(2, 2, n) * 0.1
    latent = codec.encode(wave)
    assert latent.shape == (2, codec.latent_channels, math.ceil(n / codec.hop))
    assert codec.latent_length(n) == latent.shape[-1]
    assert codec.decode(latent, n).shape == (2, 2, n)
    assert codec.decode(latent).shape == (2, 2, latent.shape[-1] * codec.hop)


def test_attributes_follow_the_config(codec):
    cfg = codec.config
    assert codec.latent_rate == cfg.sample_rate / cfg.hop
    assert codec.latent_channels == cfg.mid_channels + cfg.ild_bands + 1


def test_encode_decode_are_deterministic_in_eval(codec):
    wave = panned_tone(0.3)[None]
    a, b = codec.encode(wave), codec.encode(wave)
    assert torch.equal(a, b)
    assert torch.equal(codec.decode(a, 4800), codec.decode(b, 4800))


def test_training_forward_samples_the_posterior():
    model = StereoCodec(micro_config()).train()
    wave = panned_tone(0.2)[None]
    torch.manual_seed(1)
    a = model(wave).pred_logmag
    torch.manual_seed(2)
    b = model(wave).pred_logmag
    assert not torch.equal(a, b)


def test_spatial_analysis_measures_ild_and_itd():
    cfg = micro_config()
    wave = panned_tone(0.5, pan=-0.6, itd_ms=0.5)
    spec = stereo.codec_stft(wave, cfg.n_fft, cfg.stft_hop)
    frames = cfg.latent_length(wave.shape[-1])
    bands = stereo.band_matrix(cfg.sample_rate, cfg.n_fft, tuple(cfg.ild_band_edges_hz))
    ild = stereo.ild_from_spectra(spec[None, 0], spec[None, 1], bands, cfg.upsample, frames)
    itd = stereo.itd_from_spectra(spec[None, 0], spec[None, 1], cfg.sample_rate, cfg.n_fft, cfg.upsample, frames,
                                  cfg.max_itd_ms, cfg.itd_upsample, cfg.itd_context)
    theta = (-0.6 + 1) * math.pi / 4  # constant-power pan of panned_tone
    expected_ild = 20 * math.log10(math.cos(theta) / math.sin(theta))
    middle = slice(3, frames - 3)
    assert torch.allclose(ild[0, 0, middle], torch.tensor(expected_ild), atol=0.5)
    assert torch.allclose(itd[0, 0, middle], torch.tensor(0.5), atol=0.07)  # whole samples: 0.5 ms = 8 samples


def test_render_stereo_applies_level_and_delay():
    """A mid spectrum rendered with ILD 6 dB and ITD 0.3 ms measures as such (dsp.spatial)."""
    cfg = micro_config()
    mono = panned_tone(0.5, pan=0.0, itd_ms=0.0)[0]
    mid = stereo.codec_stft(mono, cfg.n_fft, cfg.stft_hop)[None]
    frames = (mid.shape[-1] - 1) // cfg.upsample
    ild = torch.full((1, cfg.ild_bands, frames), 6.0)
    itd = torch.full((1, 1, frames), 0.3)
    bands = stereo.band_matrix(cfg.sample_rate, cfg.n_fft, tuple(cfg.ild_band_edges_hz))
    left, right = stereo.render_stereo(mid, ild, itd, bands, cfg.sample_rate, cfg.n_fft, cfg.upsample)
    out = stereo.codec_istft(torch.stack([left, right], 1), cfg.n_fft, cfg.stft_hop, mono.shape[-1])[0].numpy()
    assert ild_db(out[0], out[1]) == pytest.approx(6.0, abs=0.2)
    assert gcc_phat_itd(out[0], out[1], cfg.sample_rate) * 1e3 == pytest.approx(0.3, abs=0.02)
    # Energy of the mid is kept: (L^2 + R^2) / 2 == M^2.
    m = stereo.codec_istft(mid, cfg.n_fft, cfg.stft_hop, mono.shape[-1]).numpy()
    assert np.mean(out**2) == pytest.approx(np.mean(m**2), rel=0.02)


def test_analytic_stereo_survives_the_codec(codec):
    """Even an untrained codec puts the source on the right side with the right delay."""
    wave = panned_tone(0.5, pan=-0.7, itd_ms=0.5)
    wave = torch.stack([wave[1], wave[0]])  # mirror: source on the right, left delayed
    out = codec.decode(codec.encode(wave[None]), wave.shape[-1])[0].numpy()
    assert ild_db(out[0], out[1]) < -3.0
    assert gcc_phat_itd(out[0], out[1], 16000) * 1e3 == pytest.approx(-0.5, abs=0.1)


def test_stft_round_trip_is_exact():
    cfg = micro_config()
    wave = torch.randn(3, 1234)
    spec = stereo.codec_stft(wave, cfg.n_fft, cfg.stft_hop)
    assert torch.allclose(stereo.codec_istft(spec, cfg.n_fft, cfg.stft_hop, 1234), wave, atol=1e-5)


def test_paper_preset_builds_and_runs_a_short_input():
    cfg = load_config(CodecConfig, "configs/codec_paper.yaml")
    assert (cfg.sample_rate, cfg.hop, cfg.latent_channels) == (44100, 2048, 64)
    model = StereoCodec(cfg).eval()
    wave = torch.randn(1, 2, 3000) * 0.1
    latent = model.encode(wave)
    assert latent.shape == (1, 64, 2)
    assert model.decode(latent, 3000).shape == (1, 2, 3000)


def test_tiny_preset_sizes():
    cfg = load_config(CodecConfig, "configs/codec_tiny.yaml")
    assert (cfg.sample_rate, cfg.latent_rate, cfg.latent_channels) == (16000, 50.0, 32)
    assert not cfg.pitch
    pitch = load_config(CodecConfig, "configs/codec_tiny_pitch.yaml")
    assert pitch.latent_channels == 34 and pitch.pitch_channels == 2 and pitch.train.freeze_encoder


@pytest.mark.parametrize("codec_file, generator_file", [("codec_tiny.yaml", "generator_tiny.yaml"),
                                                        ("codec_tiny_decoder.yaml", "generator_tiny.yaml"),
                                                        ("codec_paper.yaml", "generator_paper.yaml")])
def test_generator_presets_fit_their_codec_latent(codec_file, generator_file):
    from prismaudio.config import load_yaml

    codec = load_config(CodecConfig, f"configs/{codec_file}")
    model = load_yaml(f"configs/{generator_file}")["model"]
    assert model["latent_channels"] == codec.latent_channels
    assert (model["sample_rate"], model["hop"]) == (codec.sample_rate, codec.hop)


def test_phase_vocoder_start_beats_random_phase_on_a_chord():
    """From the peak-locked start phase, Griffin-Lim rebuilds a decaying chord that starts
    after a silence closer to the original than from random phase (what the decoder uses)."""
    from prismaudio.codec.griffinlim import griffin_lim
    from prismaudio.dsp.spectral import log_mel_l1

    t = torch.arange(16000) / 16000
    chord = sum(torch.sin(2 * torch.pi * f * t) for f in (262.0, 330.0, 392.0)) * 0.2 * torch.exp(-2 * t)
    chord[:4000] = 0
    mag = stereo.codec_stft(chord, 640, 160).abs()[None]
    errors = {}
    for name, seed in (("pv", None), ("random", 0)):
        spec = griffin_lim(mag, 640, 160, 16000, iterations=32, seed=seed)
        errors[name] = float(log_mel_l1(stereo.codec_istft(spec, 640, 160, 16000)[0], chord, 16000))
    assert errors["pv"] < 0.9 * errors["random"]
