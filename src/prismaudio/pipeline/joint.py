"""The `model` engine: the joint-stereo generator (all sources at once, position learned), as
the paper formulates it. Windows over the duration, seeded noise per video (so a seed gives the
same audio whatever the batch), ODE sampling with batched CFG, codec decoding."""

from __future__ import annotations

import time

import torch


@torch.no_grad()
def sample_and_decode(pipe, jobs: list, seeds: list[int], num_steps: int, cfg_strength: float, negative,
                      progress: bool) -> list[tuple[list[torch.Tensor], list[int], dict[str, float]]]:
    """Per job: (window waveforms, window starts in samples, timings); windows of equal length
    share sampler batches across jobs."""
    from ..flow.samplers import GuidedVelocity, get_sampler
    from ..flow.schedules import uniform_sigmas
    from ..models.conditioning import Conditions, plan_tracks
    from ..train.data import time_window

    cfg, dev = pipe.config, pipe.device
    t0 = time.perf_counter()
    items = []  # (job index, window index, start seconds, window seconds)
    for j, job in enumerate(jobs):
        for w, start in enumerate(pipe._windows(job)):
            items.append((j, w, start, min(cfg.duration, job.duration - start)))
    noise = {}
    for j, seed in enumerate(seeds):  # one generator per video: its noise never depends on the others
        generator = torch.Generator().manual_seed(int(seed))
        for jj, w, start, length in items:
            if jj == j:
                noise[(j, w)] = torch.randn(cfg.latent_channels, cfg.sequence(length).latent_len, generator=generator)
    prepare = time.perf_counter() - t0
    groups: dict[int, list] = {}
    for item in items:
        groups.setdefault(noise[item[:2]].shape[-1], []).append(item)
    latents, sample_s = {}, 0.0
    sampler, sigmas = get_sampler(pipe.defaults["sampler"]), uniform_sigmas(num_steps, pipe.defaults["shift"])
    for length, group in groups.items():
        t0 = time.perf_counter()
        conds = []
        for j, w, start, seconds in group:
            job, seq = jobs[j], cfg.sequence(seconds)
            feats, labels = plan_tracks(job.plan, seq, cfg.max_sources, cfg.label_buckets, cfg.onset_spread, start=start)
            conds.append(Conditions(
                semantic=time_window(job.semantic[0], start, cfg.semantic_rate, seq.semantic_len)[None],
                sync=None if job.sync is None else time_window(job.sync[0], start, cfg.sync_rate, seq.sync_len)[None],
                text=job.text, text_mask=job.text_mask,
                track_features=feats[None] if cfg.plan_tracks else None, track_labels=labels[None] if cfg.plan_tracks else None))
        cond = Conditions.cat(conds).to(dev)
        neg_text = neg_mask = None
        if negative is not None:
            neg_text = negative[0].float()[None].expand(len(group), -1, -1, -1).to(dev)
            neg_mask = negative[1][None].expand(len(group), -1, -1).to(dev)
        guided = GuidedVelocity(pipe.generator, cond, cfg_strength, neg_text, neg_mask)
        x = torch.stack([noise[g[:2]] for g in group]).to(dev)
        out = sampler(guided, x, sigmas.to(dev), disable=not progress)
        for g, latent in zip(group, out):
            latents[g[:2]] = (latent, g[3])
        sample_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    waves = {}
    for key, (latent, seconds) in latents.items():
        waves[key] = pipe.codec.decode(latent[None].float(), length=round(seconds * pipe.sample_rate))[0].cpu()
    decode_s = time.perf_counter() - t0
    out = []
    for j, job in enumerate(jobs):
        mine = [(w, start) for jj, w, start, _ in items if jj == j]
        out.append(([waves[(j, w)] for w, _ in mine], [round(s * pipe.sample_rate) for _, s in mine],
                    {"prepare_latents": prepare, "sample": sample_s, "decode_audio": decode_s}))
    return out
