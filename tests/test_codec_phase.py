"""Learned phase in the codec's decoder: its losses, its target, training it on a frozen codec
(latents and magnitudes stay bit-identical), decoding with it, and the library's held-out split."""

from __future__ import annotations

import json
import math

import pytest
import torch

from prismaudio.codec import StereoCodec, stereo
from prismaudio.codec.data import find_audio_files, is_heldout
from prismaudio.codec.phase import (anti_wrap, magnitude_weights, mid_phase, multi_resolution_stft_loss,
                                    phase_losses)
from prismaudio.codec.trainer import CodecTrainer

from codec_helpers import MICRO, micro_config, panned_tone

MICRO_TRAIN = MICRO["train"]


def _clips() -> list[torch.Tensor]:
    return [panned_tone(0.6, pan=p, itd_ms=0.3, seed=i) for i, p in enumerate((-0.8, -0.2, 0.5))]


def test_anti_wrap_is_the_angle_between_two_phases():
    x = torch.tensor([0.0, 0.3, -0.3, 2 * math.pi + 0.2, -4 * math.pi - 0.1, math.pi - 0.01])
    assert torch.allclose(anti_wrap(x), torch.tensor([0.0, 0.3, 0.3, 0.2, 0.1, math.pi - 0.01]), atol=1e-5)


def test_phase_losses_ignore_wrapping_and_a_global_phase_offset_only_costs_ip():
    torch.manual_seed(0)
    target = (torch.rand(2, 9, 7) * 2 - 1) * math.pi
    w = torch.ones_like(target)
    wrapped = phase_losses(target + 2 * math.pi * torch.randint(-2, 3, target.shape), target, w)
    assert all(float(v) < 1e-4 for v in wrapped.values())
    shifted = phase_losses(target + 1.0, target, w)  # the same signal turned by one radian
    assert float(shifted["ip"]) == pytest.approx(1.0, abs=1e-4)
    assert float(shifted["gd"]) < 1e-4 and float(shifted["iaf"]) < 1e-4
    noisy = phase_losses((torch.rand_like(target) * 2 - 1) * math.pi, target, w)
    assert all(float(v) > 0.5 for v in noisy.values())


def test_magnitude_weights_favour_loud_bins_and_average_one():
    logmag = torch.log(torch.tensor([[[1.0, 0.01], [0.25, 1e-8]]]))
    w = magnitude_weights(logmag)
    assert float(w.mean()) == pytest.approx(1.0)
    assert float(w[0, 0, 0]) > float(w[0, 1, 0]) > float(w[0, 0, 1]) > float(w[0, 1, 1])


def test_multi_resolution_stft_loss_is_zero_for_the_same_wave_and_grows_with_a_smeared_onset():
    torch.manual_seed(0)
    clicks = torch.zeros(1, 8000)
    clicks[0, ::2000] = 1.0
    smeared = torch.nn.functional.conv1d(clicks[:, None], torch.hann_window(401)[None, None] / 40, padding=200)[:, 0]
    assert float(multi_resolution_stft_loss(clicks, clicks)) < 1e-6
    assert float(multi_resolution_stft_loss(smeared, clicks)) > 0.5


def test_mid_phase_lets_render_stereo_rebuild_a_panned_delayed_source():
    """The target the phase head learns: power mid with this phase, rendered with the measured
    ILD/ITD, gives back the stereo input (only the parametric-stereo error remains)."""
    cfg = micro_config()
    codec = StereoCodec(cfg)
    wave = panned_tone(0.5, pan=-0.6, itd_ms=0.4)[None]
    left, right, frames = codec._spectra(wave)
    measured = codec._measured(wave, left, right, frames)
    phase = mid_phase(left, right, measured[:, -1:], cfg.sample_rate, cfg.n_fft, cfg.upsample)
    mid = torch.polar(stereo.power_mid(left, right), phase)
    l2, r2 = stereo.render_stereo(mid, measured[:, :-1], measured[:, -1:], codec.bands, cfg.sample_rate, cfg.n_fft,
                                  cfg.upsample)
    rebuilt = stereo.codec_istft(torch.stack([l2, r2], 1), cfg.n_fft, cfg.stft_hop, wave.shape[-1])
    assert float((rebuilt - wave).norm() / wave.norm()) < 0.15
    # the mid phase of a centred (mono) source is the source's own STFT phase
    mono = wave[:, :1].expand(-1, 2, -1)
    l, r, f = codec._spectra(mono)
    own = mid_phase(l, r, torch.zeros(1, 1, f), cfg.sample_rate, cfg.n_fft, cfg.upsample)
    loud = l.abs() > 1e-3 * l.abs().max()
    assert float(anti_wrap(own - torch.angle(l))[loud].max()) < 1e-3


def _source_codec(tmp_path):
    from prismaudio.train.checkpoint import export_weights

    cfg = micro_config()
    base = CodecTrainer(cfg, _clips(), tmp_path / "base")
    base.fit(3)
    source = tmp_path / "base.safetensors"
    export_weights(source, "codec", 1, cfg, base.ema)
    return source


def test_phase_head_trains_on_a_frozen_codec_and_decodes_without_griffin_lim(tmp_path):
    source = _source_codec(tmp_path)
    original = StereoCodec.load(source)
    wave = _clips()[0][None]
    latent = original.encode(wave)
    cfg = micro_config(phase_decoder="learned", phase_dim=16, phase_blocks=1,
                       train={**MICRO_TRAIN, "init_from": str(source), "freeze_encoder": True, "freeze_magnitude": True})
    trainer = CodecTrainer(cfg, _clips(), tmp_path / "phase")
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("decoder.phase.") for n in trainable)
    parts = trainer.fit(4)
    assert {"ip", "gd", "iaf", "mrstft"} <= set(parts)
    learned = StereoCodec.load(tmp_path / "phase" / "codec_micro.safetensors")
    assert torch.equal(learned.encode(wave), latent)  # the generator's latents do not change
    with torch.no_grad():
        mid, pitch = latent * learned.latent_std[:, None] + learned.latent_mean[:, None], None
        mags = [c.decoder(mid[:, : cfg.mid_channels], pitch) for c in (original, learned)]
    assert torch.equal(mags[0], mags[1])  # nor do the magnitudes
    out = learned.decode(latent, wave.shape[-1])
    assert out.shape == wave.shape and torch.isfinite(out).all()
    learned.config.learned_phase_iterations = 4  # Griffin-Lim refining the learned phase: more consistent
    refined = learned.decode(latent, wave.shape[-1])
    assert refined.shape == wave.shape and not torch.allclose(refined, out)
    learned.config.learned_phase_iterations = 0
    learned.config.phase_decoder = "griffin_lim"  # Griffin-Lim stays available on the same checkpoint
    assert torch.allclose(learned.decode(latent, wave.shape[-1]), original.decode(latent, wave.shape[-1]), atol=1e-6)

    resumed = CodecTrainer(cfg, _clips(), tmp_path / "phase")
    assert resumed.resume() and resumed.step == 4


def test_learned_phase_on_a_codec_without_a_phase_head_is_a_clear_error(tmp_path):
    from prismaudio.errors import CheckpointError, ConfigError

    codec = StereoCodec(micro_config())
    codec.config.phase_decoder = "learned"
    with pytest.raises(CheckpointError, match="phase head"):
        codec.decode(torch.zeros(1, codec.latent_channels, 5))
    with pytest.raises(ConfigError, match="freeze_magnitude"):
        CodecTrainer(micro_config(train={**MICRO_TRAIN, "freeze_magnitude": True}), _clips(), tmp_path / "x")
    with pytest.raises(ConfigError, match="phase_decoder"):
        micro_config(phase_decoder="vocoder")


def test_library_split_holds_out_real_recordings_only_and_never_changes(tmp_path):
    rows = [{"path": f"c{i % 7}/r{i}.flac", "package": "soundfont X" if i % 3 == 0 else "some-data"} for i in range(300)]
    (tmp_path / "library.json").write_text(json.dumps({"version": 1, "sample_rate": 44100, "recordings": rows}))
    train, held = find_audio_files(tmp_path, "train"), find_audio_files(tmp_path, "heldout")
    assert len(train) + len(held) == 300 and not set(train) & set(held)
    assert 0.1 < len(held) / 200 < 0.3  # about HELDOUT_PERCENT of the 200 real recordings
    assert all(is_heldout(str(p.relative_to(tmp_path))) for p in held)
    assert not any(int(p.stem[1:]) % 3 == 0 for p in held)  # soundfont renders are never held out
    assert find_audio_files(tmp_path, "test") == held and len(find_audio_files(tmp_path, None)) == 300



def test_cli_eval_picks_the_phase_and_refuses_learned_without_a_head(tmp_path, capsys):
    from prismaudio.cli import main
    from prismaudio.media import write_audio

    source = _source_codec(tmp_path)
    audio = tmp_path / "audio"
    write_audio(audio / "clip0.wav", _clips()[0], 16000)
    args = ["codec", "eval", "--audio", str(audio), "--checkpoint", str(source), "-o", str(tmp_path / "r.json"),
            "--plots", str(tmp_path / "plots")]
    assert main(args + ["--phase", "learned"]) == 2
    assert "no phase head" in capsys.readouterr().err
    assert main(args + ["--phase", "griffin_lim"]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["codec"]["clips"] == 1


def test_griffin_lim_in_place_gives_the_same_numbers_as_with_autograd():
    """Without autograd Griffin-Lim updates its phase in place (less memory on long videos'
    many-source windows); the numbers must be exactly those of the out-of-place path."""
    import torch

    from prismaudio.codec.griffinlim import griffin_lim
    from prismaudio.codec.stereo import codec_stft

    gen = torch.Generator().manual_seed(3)
    wave = torch.randn(3, 16000, generator=gen) * torch.linspace(0, 1, 16000)
    mag = codec_stft(wave, 640, 160).abs()
    start = torch.angle(codec_stft(wave.flip(-1), 640, 160))
    for kwargs in ({}, {"start": start}, {"seed": 1}):
        with torch.no_grad():
            fast = griffin_lim(mag, 640, 160, 16000, 8, **kwargs)
        tracked = griffin_lim(mag.clone().requires_grad_(True), 640, 160, 16000, 8, **kwargs)
        assert torch.equal(fast, tracked.detach())
