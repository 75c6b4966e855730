"""The presets on whatever device is there (CUDA when available): a generator training step
(bf16 autocast on CUDA) and a 25-step CFG sample, a codec training step and a 9 s
encode + decode. Random weights and inputs: it checks that the path runs and times it.

    python benchmarks/bench_presets_cuda.py [paper|tiny]

On one H200 (2026-11-26): paper generator 513M parameters, training step 0.154 s at batch
8 x 9 s, peak 14.2 GiB, 25-step CFG sample of one clip 1.73 s; paper codec 59.8M parameters,
training step 0.043 s at batch 16 x 1 s, 9 s encode + decode 1.03 s.
"""
import sys
import time
import traceback

import torch

from prismaudio.codec.config import CodecConfig
from prismaudio.codec.losses import codec_loss
from prismaudio.codec.stereo_codec import StereoCodec
from prismaudio.config import load_config
from prismaudio.dsp.spectral import mel_filterbank
from prismaudio.flow.path import flow_matching_loss, sample_logit_normal
from prismaudio.flow.samplers import GuidedVelocity, sample_euler
from prismaudio.flow.schedules import uniform_sigmas
from prismaudio.models import FlowDiT, load_model_config
from prismaudio.models.conditioning import random_conditions

preset = sys.argv[1] if len(sys.argv) > 1 else "paper"
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
def sync():
    if dev.type == "cuda": torch.cuda.synchronize()

def check(name, fn):
    try:
        t = time.time(); msg = fn(); sync()
        print(f"OK   {name}: {msg} ({time.time() - t:.1f} s)", flush=True)
    except Exception as e:
        print(f"FAIL {name}: {type(e).__name__}: {str(e).splitlines()[0][:200]}", flush=True); traceback.print_exc()

def generator():
    cfg = load_model_config(preset)
    model = FlowDiT(cfg).to(dev)
    L = cfg.sequence().latent_len
    b = 8 if dev.type == "cuda" else 1
    c = random_conditions(cfg, b, L).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for i in range(6):
        sync(); t = time.time()
        x0 = torch.randn(b, cfg.latent_channels, L, device=dev)
        tt = sample_logit_normal(b).to(dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            loss = flow_matching_loss(lambda x, s: model(x, s, c), x0, tt, torch.randn_like(x0)).mean()
        opt.zero_grad(); loss.backward(); opt.step(); sync(); times.append(time.time() - t)
    mem = torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else 0
    model.eval()
    with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
        sync(); t = time.time()
        out = sample_euler(GuidedVelocity(model, random_conditions(cfg, 1, L).to(dev), 5.0), torch.randn(1, cfg.latent_channels, L, device=dev), uniform_sigmas(25).to(dev), disable=True)
        sync(); ts = time.time() - t
    assert torch.isfinite(out).all()
    return (f"{model.num_params()/1e6:.0f}M params, latent {cfg.latent_channels}x{L}, batch {b}: train step {min(times[2:]):.3f} s, "
            f"peak {mem:.1f} GiB, loss {float(loss.detach()):.3f}; 25-step CFG sample of one clip {ts:.2f} s")

def codec():
    cfg = load_config(CodecConfig, f"configs/codec_{preset}.yaml")
    model = StereoCodec(cfg).to(dev).train()
    fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.loss.mel_bands).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    b = 16 if dev.type == "cuda" else 2
    times = []
    for i in range(6):
        sync(); t = time.time()
        wave = torch.randn(b, 2, cfg.sample_rate, device=dev) * 0.1
        out = model(wave)
        terms = codec_loss(out.pred_logmag, out.target_logmag, out.mean, out.logvar, fb, cfg.magnitude_floor, cfg.loss)
        opt.zero_grad(); terms.total.backward(); opt.step(); sync(); times.append(time.time() - t)
    model.eval()
    wave = torch.randn(1, 2, 9 * cfg.sample_rate, device=dev) * 0.1
    sync(); t = time.time(); z = model.encode(wave); rec = model.decode(z, wave.shape[-1]); sync(); td = time.time() - t
    assert rec.shape == wave.shape and torch.isfinite(rec).all()
    return f"{sum(p.numel() for p in model.parameters())/1e6:.1f}M params, train step (batch {b} x 1 s) {min(times[2:]):.3f} s; 9 s encode+decode {td:.2f} s, latent {tuple(z.shape)}"

check(f"generator[{preset}]", generator)
check(f"codec[{preset}]", codec)
