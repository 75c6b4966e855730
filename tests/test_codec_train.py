"""Codec training: the loss falls on a tiny overfit, resume is exact, the CLI trains and evaluates."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from prismaudio.cli import main
from prismaudio.codec import StereoCodec
from prismaudio.codec.class_check import LogisticClassifier, log_mel_stats, single_event_class
from prismaudio.codec.evaluate import clip_figures, summarise
from prismaudio.codec.griffinlim import mel_griffin_lim
from prismaudio.codec.losses import codec_loss, kl_divergence
from prismaudio.codec.trainer import CodecTrainer
from prismaudio.config import dump_yaml
from prismaudio.dsp.spectral import log_mel_l1, mel_filterbank
from prismaudio.media import write_audio

from codec_helpers import MICRO, micro_config, panned_tone

MICRO_TRAIN = MICRO["train"]


def _clips() -> list[torch.Tensor]:
    return [panned_tone(0.6, pan=p, itd_ms=0.3, seed=i) for i, p in enumerate((-0.8, -0.2, 0.5))]


def test_loss_decreases_on_a_tiny_overfit():
    torch.manual_seed(0)
    cfg = micro_config()
    model = StereoCodec(cfg).train()
    batch = torch.stack(_clips()[:2])[..., :4000]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.loss.mel_bands)
    losses = []
    for _ in range(20):
        out = model(batch)
        terms = codec_loss(out.pred_logmag, out.target_logmag, out.mean, out.logvar, fb, cfg.magnitude_floor, cfg.loss)
        opt.zero_grad()
        terms.total.backward()
        opt.step()
        losses.append(float(terms.total.detach()))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])


def test_kl_is_zero_for_the_prior():
    assert float(kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4))) == 0.0
    assert float(kl_divergence(torch.ones(3, 4), torch.zeros(3, 4))) == pytest.approx(0.5)


def _params(trainer: CodecTrainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in trainer.model.parameters()])


def test_resume_equals_uninterrupted_training(tmp_path):
    cfg = micro_config()
    straight = CodecTrainer(cfg, _clips(), tmp_path / "a")
    straight.fit(4)

    first = CodecTrainer(cfg, _clips(), tmp_path / "b")
    first.fit(2)
    second = CodecTrainer(cfg, _clips(), tmp_path / "b")
    assert second.resume()
    assert second.step == 2
    second.fit(4)
    assert torch.allclose(_params(straight), _params(second), atol=1e-6)
    ema_a = torch.cat([p.flatten() for p in straight.ema.parameters()])
    ema_b = torch.cat([p.flatten() for p in second.ema.parameters()])
    assert torch.allclose(ema_a, ema_b, atol=1e-6)
    assert torch.allclose(straight.model.latent_std, second.model.latent_std)


def test_cli_trains_resumes_and_evaluates(tmp_path):
    audio = tmp_path / "audio"
    for i, clip in enumerate(_clips()):
        write_audio(audio / f"clip{i}.wav", clip, 16000)
    config = tmp_path / "micro.yaml"
    config.write_text(dump_yaml(micro_config()))
    run = tmp_path / "run"
    args = ["train", "codec", "--config", str(config), "--data", str(audio), "--out", str(run), "--threads", "1"]
    assert main(args + ["--max-steps", "1"]) == 0
    assert main(args + ["--max-steps", "2"]) == 0  # resumes from step 1
    assert sorted(p.name for p in run.glob("step_*.safetensors")) == ["step_00000001.safetensors",
                                                                         "step_00000002.safetensors"]
    assert StereoCodec.load(run / "codec_micro.safetensors").checkpoint_step == 0  # weights-only export
    report = tmp_path / "report.json"
    assert main(["codec", "eval", "--audio", str(audio), "--checkpoint", str(run / "codec_micro.safetensors"),
                 "-o", str(report), "--limit", "2"]) == 0
    data = json.loads(report.read_text())
    for name in ("codec", "mel_griffin_lim"):
        assert data["summary"][name]["clips"] == 2
        assert 0 < data["summary"][name]["log_mel_l1"] < 20
    assert len(list((tmp_path / "report_plots").glob("*.png"))) == 2
    latent = tmp_path / "z.safetensors"
    assert main(["codec", "encode", str(audio / "clip0.wav"), "-o", str(latent), "--checkpoint",
                 str(run / "codec_micro.safetensors")]) == 0
    assert main(["codec", "decode", str(latent), "-o", str(tmp_path / "y.wav"), "--checkpoint",
                 str(run / "codec_micro.safetensors")]) == 0
    from prismaudio.media import read_audio

    assert read_audio(tmp_path / "y.wav", 16000).shape == (2, 9600)


def test_figures_of_a_perfect_reconstruction():
    ref = panned_tone(1.0, pan=-0.7, itd_ms=0.4)
    figures = clip_figures(ref, ref.clone(), 16000)
    summary = summarise([figures])
    assert summary["log_mel_l1"] == 0.0 and summary["onset_f1"] == 1.0
    assert summary["frame_ild_err_db_median"] == 0.0 and summary["frame_louder_side_agreement"] == 1.0
    assert summary["clip_itd_err_ms_median"] == 0.0 and summary["offcentre_clips"] == 1


def test_mel_griffin_lim_keeps_the_spectrum_and_level_difference():
    ref = panned_tone(0.6, pan=-0.7, itd_ms=0.4)
    out = mel_griffin_lim(ref, 16000, 320, iterations=16)
    assert out.shape == ref.shape
    assert float(log_mel_l1(out, ref, 16000)) < 1.0
    figures = summarise([clip_figures(ref, out, 16000)])
    assert figures["frame_louder_side_agreement"] == 1.0


def test_class_check_classifier_separates_classes():
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    tones = [torch.tensor(np.stack([np.sin(2 * np.pi * rng.uniform(200, 400) * t)] * 2), dtype=torch.float32)
             for _ in range(8)]
    noises = [torch.tensor(rng.standard_normal((2, 8000)) * 0.3, dtype=torch.float32) for _ in range(8)]
    x = np.stack([log_mel_stats(w, 16000) for w in tones + noises])
    labels = ["tone"] * 8 + ["noise"] * 8
    clf = LogisticClassifier().fit(x[::2], labels[::2])
    assert clf.predict(x[1::2]) == labels[1::2]
    assert single_event_class({"sources": [{"id": "s0", "class_name": "dog"}]}) == "dog"
    assert single_event_class({"sources": [{"id": "s0", "class_name": "dog"}, {"id": "s1", "class_name": "cat"}]}) is None


def test_decoder_fine_tune_keeps_the_latents_bit_identical(tmp_path):
    """train.init_from + freeze_encoder: only the decoder moves, so a generator trained on the
    old latents stays valid; a resized decoder starts fresh on the same latents."""
    from prismaudio.train.checkpoint import export_weights

    cfg = micro_config()
    base = CodecTrainer(cfg, _clips(), tmp_path / "base")
    base.fit(3)
    source = tmp_path / "base.safetensors"
    export_weights(source, "codec", 1, cfg, base.ema)
    original = StereoCodec.load(source)
    wave = _clips()[0][None]
    latents_before = original.encode(wave)

    tuned_cfg = micro_config(decoder_dim=64, train={**MICRO_TRAIN, "init_from": str(source), "freeze_encoder": True})
    tuner = CodecTrainer(tuned_cfg, _clips(), tmp_path / "tuned")
    decoder_before = [p.detach().clone() for p in tuner.model.decoder.parameters()]
    tuner.fit(3)
    tuned = StereoCodec.load(tmp_path / "tuned" / "codec_micro.safetensors")
    assert torch.equal(tuned.encode(wave), latents_before)
    assert any(not torch.equal(a, b) for a, b in zip(decoder_before, tuner.model.decoder.parameters()))
    assert tuned.decode(latents_before, wave.shape[-1]).shape == wave.shape


def test_freeze_encoder_without_a_source_or_with_other_latents_is_a_clear_error(tmp_path):
    from prismaudio.errors import CheckpointError, ConfigError
    from prismaudio.train.checkpoint import export_weights

    with pytest.raises(ConfigError, match="init_from"):
        CodecTrainer(micro_config(train={**MICRO_TRAIN, "freeze_encoder": True}), _clips(), tmp_path / "x")
    source = tmp_path / "other.safetensors"
    export_weights(source, "codec", 1, micro_config(mid_channels=6), StereoCodec(micro_config(mid_channels=6)))
    with pytest.raises(CheckpointError, match="mid_channels"):
        CodecTrainer(micro_config(train={**MICRO_TRAIN, "init_from": str(source)}), _clips(), tmp_path / "y")


def test_spectral_convergence_weighs_loud_bins_and_is_zero_for_a_perfect_match():
    from prismaudio.codec.losses import spectral_convergence

    target = torch.full((1, 8, 10), -18.0)
    target[:, 3] = 0.0  # one loud harmonic among quiet bins
    assert float(spectral_convergence(target, target)) == 0.0
    quiet_miss = target.clone()
    quiet_miss[:, 6] = -10.0  # a quiet bin 8 nepers off: barely counts
    loud_miss = target.clone()
    loud_miss[:, 3] = -2.3  # the loud harmonic 10x too quiet
    assert float(spectral_convergence(quiet_miss, target)) < 0.01 < 0.8 < float(spectral_convergence(loud_miss, target))
