"""The stages of one generate, each a function over typed objects:

    check_inputs -> decode_video (ONE pass for every consumer) -> make_plan -> exemplars
      -> model engine: encode_features -> joint.sample_and_decode -> master
      -> stem engine:  render_stems -> render_mix (place, sum, master)
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import media
from ..errors import ConfigError
from ..planner.plan import Plan
from ..render.loudness import DEFAULT_LUFS

MODEL_ENGINE = "model"


@dataclass
class GenerateOptions:
    prompt: str | None = None
    negative_prompt: str | None = None
    duration: float | None = None
    seed: int = 0
    num_steps: int = 24
    cfg_strength: float = 3.0
    engine: str = MODEL_ENGINE
    loudness: float | None = DEFAULT_LUFS  # LUFS target; None keeps the level (still peak-limited)
    exemplars: dict = field(default_factory=dict)  # source id -> path or mono array


@dataclass
class Job:
    """One video on its way through the stages."""

    video: str
    plan: Plan | None
    plan_dir: Path | None = None  # where the plan file lives (its exemplar paths are relative to it)
    duration: float = 0.0  # seconds to generate
    info: media.VideoInfo | None = None
    frames: dict[str, torch.Tensor] = field(default_factory=dict)  # "planner" | "semantic" | "sync"
    semantic: torch.Tensor | None = None
    sync: torch.Tensor | None = None
    text: torch.Tensor | None = None
    text_mask: torch.Tensor | None = None
    exemplars: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def check_options(opts: GenerateOptions) -> None:
    if opts.num_steps < 1:
        raise ConfigError(f"--num-steps must be at least 1, got {opts.num_steps}")
    if opts.cfg_strength < 0:
        raise ConfigError(f"--cfg-strength must be non-negative, got {opts.cfg_strength}")
    if opts.duration is not None and not opts.duration > 0:
        raise ConfigError(f"--duration must be positive, got {opts.duration}")
    if opts.loudness is not None and not -70.0 <= opts.loudness <= 0.0:
        raise ConfigError(f"--loudness must lie in -70..0 LUFS, got {opts.loudness:g}")


def check_inputs(job: Job, opts: GenerateOptions) -> None:
    """The video is readable, the duration fits it, the plan fits it."""
    info = media.probe(job.video)
    if opts.duration is not None and opts.duration > info.duration + 0.05:
        raise ConfigError(f"{job.video}: --duration {opts.duration:g} s is longer than the video ({info.duration:.2f} s)")
    job.info = info
    job.duration = opts.duration or info.duration
    if job.plan is not None:
        job.plan = copy.deepcopy(job.plan)  # exemplar paths get written into it; the caller's stays as given
        job.plan.validate(video_duration=info.duration)


def decode_video(job: Job, specs: dict[str, media.FrameSpec], full_length: bool) -> None:
    """All the frames every later stage needs, in one decoding pass. `full_length`: the
    planner reads the whole video even when only `duration` seconds are generated."""
    if not specs:
        return
    t0 = time.perf_counter()
    names = list(specs)
    sets = media.decode_frame_sets(job.video, [specs[n] for n in names], duration=None if full_length else job.duration)
    for name, frames in zip(names, sets):
        if name != "planner":  # the encoders see the generated span only
            frames = frames[: max(1, int(np.floor(job.duration * specs[name].fps + 1e-6)))]
        job.frames[name] = frames
    job.timings["decode"] = time.perf_counter() - t0


def planner_frame_spec(job: Job, planner) -> media.FrameSpec | None:
    """The frames the packaged planner analyses (None: a custom planner that decodes itself)."""
    from ..planner.planner import PlannerConfig, analysis_size, plan_video

    if planner is not plan_video:
        return None
    cfg = PlannerConfig()
    width, height = job.info.display_size
    return media.FrameSpec(cfg.fps, analysis_size(width, height, cfg.analyser.max_side), "stretch")


def make_plan(job: Job, planner) -> None:
    t0 = time.perf_counter()
    if job.plan is not None:
        job.timings["plan"] = 0.0
        return
    if planner is None:
        raise ConfigError("this model has no planner: pass a plan (--plan)")
    if "planner" in job.frames:
        from ..planner.planner import PlannerConfig, plan_frames

        cfg = PlannerConfig()
        job.plan = plan_frames(job.frames.pop("planner").numpy(), cfg.fps, job.info.duration, cfg)
    else:
        job.plan = planner(job.video)
    job.timings["plan"] = time.perf_counter() - t0


def load_exemplars(job: Job, given: dict, sample_rate: int) -> None:
    from .exemplars import gather_exemplars

    job.exemplars = gather_exemplars(job.plan, given, sample_rate, job.plan_dir)


def encode_features(job: Job, semantic_encoder, sync_encoder, text_encoder, prompt: str | None) -> None:
    """Frames -> semantic and sync features; the plan's module texts -> tokens (model engine)."""
    from ..models.conditioning import module_texts

    t0 = time.perf_counter()
    job.semantic = semantic_encoder.encode(job.frames.pop("semantic")).float()
    if sync_encoder is not None:
        job.sync = sync_encoder.encode(job.frames.pop("sync")).float()
    text, mask = text_encoder.encode_with_mask(module_texts(job.plan, prompt))
    job.text, job.text_mask = text.float()[None], mask[None]
    job.timings["features"] = time.perf_counter() - t0


def render_stems(job: Job, engine, sample_rate: int, seed: int) -> dict[str, np.ndarray]:
    """Mono, unplaced stems, one per planned source, from a stem engine."""
    from ..engines.base import StemRequest

    t0 = time.perf_counter()
    request = StemRequest(plan=job.plan, sample_rate=sample_rate, seed=seed, duration=job.duration,
                          exemplars=job.exemplars)
    stems = engine.render_stems(request)
    missing = [s.id for s in job.plan.semantic.sources if s.id not in stems]
    if missing:  # the engine contract: every source, even a silent one
        raise RuntimeError(f"engine '{engine.name}' returned no stem for {', '.join(missing)}")
    job.timings["stems"] = time.perf_counter() - t0
    return stems


def mix_stems(job: Job, stems: dict[str, np.ndarray], sample_rate: int, loudness: float | None):
    """Place each stem from the plan, sum, master: a RenderedMix (mix + placed, scaled stems)."""
    from ..render.mix import render_mix

    t0 = time.perf_counter()
    mixed = render_mix(stems, job.plan, sample_rate, int(round(job.duration * sample_rate)), loudness)
    job.timings["mix"] = time.perf_counter() - t0
    return mixed
