"""`PrismAudio.from_pretrained(name_or_path).generate(video, ...)`: the one public entry.

Two engines behind one call:
- `model` (default): the joint-stereo generator makes the stereo mix directly;
- a stem engine (`library`, or any registered `StemEngine`): one mono stem per planned source,
  placed by the shared spatial renderer from the plan's x(t) and distance(t), then mixed.
Either way the result is loudness-normalised (default -23 LUFS) and true-peak limited.
`PrismAudio.tiny_random()` builds tiny, randomly initialised components in memory so tests
drive this API on a CPU in seconds; `PrismAudio.for_stems(engine)` needs no model at all.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import media
from ..errors import CheckpointError, ConfigError, PrismError
from ..planner.plan import Plan, RunRecord
from ..render.loudness import DEFAULT_LUFS, MasterReport, master
from . import stages
from .bundle import (KNOWN_BUNDLES, default_encoders, default_planner, load_generator, locate_bundle, read_bundle,
                     save_bundle)
from .device import OutOfMemory, is_out_of_memory, resolve_device
from .stages import MODEL_ENGINE, GenerateOptions, Job
from .window_plans import clip_duration

log = logging.getLogger(__name__)
STEM_SAMPLE_RATE = 16000  # a pipeline without a model renders stems at this rate


@dataclass
class GenerationResult:
    waveform: torch.Tensor  # [2, N] float32 stereo, N = round(duration * sample_rate), mastered
    sample_rate: int
    plan: Plan  # with plan.run recording how this audio was made
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    video: str | None = None
    stems: dict[str, np.ndarray] = field(default_factory=dict)  # source id -> [2, N] placed, same mastering gain
    mono_stems: dict[str, np.ndarray] = field(default_factory=dict)  # source id -> [N] as the engine made it
    engine: str = MODEL_ENGINE
    mastering: MasterReport | None = None

    @property
    def duration(self) -> float:
        return self.waveform.shape[-1] / self.sample_rate

    def respatialise(self, plan: Plan, loudness: float | None = DEFAULT_LUFS) -> "GenerationResult":
        """The same stems placed by an edited plan (positions, distances): no sampling again."""
        from ..render.mix import render_mix

        if not self.mono_stems:
            raise ConfigError(f"the '{self.engine}' engine made no stems: a spatial edit needs a stem engine")
        mixed = render_mix(self.mono_stems, plan, self.sample_rate, self.waveform.shape[-1], loudness)
        return GenerationResult(torch.from_numpy(mixed.audio), self.sample_rate, plan, {}, self.video, mixed.stems,
                                self.mono_stems, self.engine, mixed.report)


class PrismAudio:
    def __init__(self, generator=None, codec=None, semantic_encoder=None, text_encoder=None, sync_encoder=None,
                 planner: Callable[[str], Plan] | None = None, device: str | torch.device = "cpu", name: str = "",
                 defaults: dict | None = None, engines: dict | None = None, sample_rate: int | None = None):
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        self.generator = generator.to(self.device).eval() if generator is not None else None
        self.codec = codec.to(self.device).eval() if codec is not None else None
        self.config = generator.config if generator is not None else None
        self.semantic_encoder = semantic_encoder
        self.text_encoder = text_encoder
        self.sync_encoder = sync_encoder
        self.planner = planner
        self.name = name
        self.engines: dict = dict(engines or {})  # name -> StemEngine
        self.defaults = {"num_steps": 24, "cfg_strength": 3.0, "sampler": "euler", "shift": 1.0, "overlap": 1.0, **(defaults or {})}
        self._sample_rate = sample_rate
        if generator is not None and (codec.sample_rate, codec.hop, codec.latent_channels) != (
                self.config.sample_rate, self.config.hop, self.config.latent_channels):
            raise CheckpointError(
                f"generator ({self.config.preset}: {self.config.sample_rate} Hz, hop {self.config.hop}, "
                f"{self.config.latent_channels} ch) does not fit the codec ({codec.sample_rate} Hz, hop {codec.hop}, "
                f"{codec.latent_channels} ch)")

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate if self.config is not None else (self._sample_rate or STEM_SAMPLE_RATE)

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, device: str = "auto") -> "PrismAudio":
        """A model by name (tiny, tiny-random) or bundle folder."""
        folder = locate_bundle(name_or_path)
        if folder is None:
            return cls.tiny_random(device=device)
        try:
            return cls.from_bundle(folder, device)
        except CheckpointError as e:
            name = str(name_or_path)
            if name in KNOWN_BUNDLES and not Path(name).exists():  # a damaged packaged file: say how to rebuild it
                raise CheckpointError(f"{e}; rebuild the '{name}' model with `make train-default` "
                                      f"(prismaudio recipe {name} --install)") from None
            raise

    @classmethod
    def from_bundle(cls, folder: str | Path, device: str = "auto") -> "PrismAudio":
        files = read_bundle(folder)
        return cls.from_checkpoints(files.generator, files.codec, device, name=files.name, defaults=files.defaults,
                                    expect_preset=files.generator_preset)

    @classmethod
    def from_checkpoints(cls, generator_path: str | Path, codec_path: str | Path, device: str = "auto",
                         name: str = "", defaults: dict | None = None,
                         expect_preset: str | None = None) -> "PrismAudio":
        """A pipeline from a generator checkpoint and a codec checkpoint (the frozen encoders and
        the planner come from the package)."""
        from ..codec.stereo_codec import StereoCodec

        generator = load_generator(generator_path, expect_preset)
        codec = StereoCodec.load(codec_path)
        return cls(generator, codec, *default_encoders(generator.config, device), planner=default_planner(),
                   device=resolve_device(device), name=name or Path(generator_path).stem, defaults=defaults)

    @classmethod
    def for_stems(cls, engine, sample_rate: int = STEM_SAMPLE_RATE, planner: Callable | None = None) -> "PrismAudio":
        """A pipeline with a stem engine only (no generator to load): plan -> stems -> mix."""
        return cls(planner=planner or default_planner(), engines={engine.name: engine}, sample_rate=sample_rate,
                   name=engine.name)

    @classmethod
    def tiny_random(cls, seed: int = 0, device: str = "cpu", config_overrides: dict | None = None) -> "PrismAudio":
        """The tiny preset's generator and codec with random weights, the real frozen encoders.

        Output layers get small random weights instead of zeros, so that every conditioning
        path changes the output (a zero-initialised generator would ignore its inputs).
        """
        from ..codec.config import CodecConfig
        from ..codec.stereo_codec import StereoCodec
        from ..config import load_config
        from ..models.config import CONFIG_DIR, load_model_config
        from ..models.dit import FlowDiT

        torch.manual_seed(seed)
        codec = StereoCodec(load_config(CodecConfig, CONFIG_DIR / "codec_tiny.yaml"))
        config = load_model_config("tiny")
        if config_overrides:
            config = type(config)(**{**config.__dict__, **config_overrides})
        generator = FlowDiT(config)
        with torch.no_grad():  # the zero-initialised residual outputs too, so cross-attention matters
            for name, param in generator.named_parameters():
                if param.dim() == 2 and not param.any():
                    param.normal_(0, 0.02)
        return cls(generator, codec, *default_encoders(config, device, random_sync=True), planner=default_planner(),
                   device=resolve_device(device), name="tiny-random")

    def add_engine(self, engine) -> None:
        """Register a stem engine under its name (generate(..., engine=name) uses it)."""
        self.engines[engine.name] = engine

    def save_bundle(self, folder: str | Path, extra: dict | None = None) -> Path:
        if self.generator is None:
            raise ConfigError("this pipeline has no generator to save")
        return save_bundle(self, folder, extra)

    def _windows(self, job) -> list[float]:
        from ..models.windows import window_starts

        return window_starts(job.duration, self.config.duration, min(self.defaults["overlap"], self.config.duration / 4))

    # ---- the call ---------------------------------------------------------------------
    def generate(self, video: str | Path, plan: Plan | str | Path | None = None, prompt: str | None = None,
                 negative_prompt: str | None = None, duration: float | None = None, seed: int | None = None,
                 num_steps: int | None = None, cfg_strength: float | None = None, progress: bool = False,
                 engine: str = MODEL_ENGINE, loudness: float | None = DEFAULT_LUFS,
                 exemplars: dict | None = None) -> GenerationResult:
        """One video. `plan`: a Plan or a plan file (its exemplar paths are relative to it);
        `engine`: "model" or a registered stem engine's name; `loudness`: LUFS target (None:
        level kept, still peak-limited); `exemplars`: source id -> audio path or mono array."""
        result = self.generate_batch([video], [plan], prompt, negative_prompt, duration, seed, num_steps, cfg_strength,
                                     progress, engine=engine, loudness=loudness, exemplars=exemplars)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def generate_batch(self, videos: list, plans: list | None = None, prompt: str | None = None,
                       negative_prompt: str | None = None, duration: float | None = None, seed: int | None = None,
                       num_steps: int | None = None, cfg_strength: float | None = None, progress: bool = False,
                       engine: str = MODEL_ENGINE, loudness: float | None = DEFAULT_LUFS,
                       exemplars: dict | None = None) -> list[GenerationResult | PrismError]:
        """Generate for several videos. A bad input fails only its own video (a PrismError in its
        slot); running out of memory fails the batch. Each video gets the same seed's noise of
        its own, so its audio does not depend on the batch."""
        opts = self._options(prompt, negative_prompt, duration, seed, num_steps, cfg_strength, engine, loudness,
                             exemplars)
        jobs = [self._job(v, p) for v, p in zip(videos, plans or [None] * len(videos))]
        results: list = [None] * len(jobs)
        for i, job in enumerate(jobs):
            try:
                self._prepare(job, opts)
            except PrismError as e:
                results[i] = e
        live = [j for j, r in zip(jobs, results) if r is None]
        if not live:
            return results
        try:
            made = self._run_model(live, opts, progress) if engine == MODEL_ENGINE else self._run_stems(live, opts)
        except Exception as e:  # noqa: BLE001 - memory errors become one clear line
            if not is_out_of_memory(e):
                raise
            error = OutOfMemory(f"out of memory generating {len(live)} video(s) at once on {self.device.type}; "
                                "lower --batch-size (or --duration)")
            return [error if r is None else r for r in results]
        for job, result in zip(live, made):
            result.plan = clip_duration(result.plan, job.duration)  # the plan of what was made
            result.plan.run = self._record(job, opts)
            results[jobs.index(job)] = result
        return results

    def generate_to_files(self, video: str | Path, audio_out: str | Path, video_out: str | Path | None = None,
                          plan: Plan | str | Path | None = None, prompt: str | None = None,
                          negative_prompt: str | None = None, duration: float | None = None, seed: int | None = None,
                          num_steps: int | None = None, cfg_strength: float | None = None, progress: bool = False,
                          engine: str = MODEL_ENGINE, loudness: float | None = DEFAULT_LUFS,
                          exemplars: dict | None = None, work_dir: str | Path | None = None):
        """One video of any length to files: the soundtrack `audio_out` (.wav/.flac) and, given
        `video_out`, the video with it. A clip of one model window is made in memory (exactly as
        `generate`); a longer one streams window by window in constant memory, keeping finished
        windows in `work_dir` (default: `<audio_out stem>.work` beside it) so that the same call
        resumes an interrupted run. Returns a `StreamResult` (paths, whole plan, mastering)."""
        from .stream import StreamResult, generate_streaming, needs_streaming

        opts = self._options(prompt, negative_prompt, duration, seed, num_steps, cfg_strength, engine, loudness,
                             exemplars)
        job = self._job(video, plan)
        length = opts.duration or media.probe(video).duration
        if not needs_streaming(self, length, engine):
            result = self.generate(video, job.plan if job.plan_dir is None else plan, prompt, negative_prompt, duration,
                                   opts.seed, opts.num_steps, opts.cfg_strength, progress, engine, loudness, exemplars)
            media.write_audio(audio_out, result.waveform, result.sample_rate)
            if video_out is not None:
                media.mux(video, result.waveform, result.sample_rate, video_out, duration)
            return StreamResult(Path(audio_out), Path(video_out) if video_out else None, result.plan,
                                result.sample_rate, result.duration, 1, 0, engine, None, result.timings)
        result = generate_streaming(self, video, audio_out, video_out, job.plan, job.plan_dir, opts, progress, work_dir)
        result.plan.run = self._record(Job(str(video), None, duration=result.duration), opts)
        return result

    # ---- helpers ----------------------------------------------------------------------
    def _options(self, prompt, negative_prompt, duration, seed, num_steps, cfg_strength, engine, loudness,
                 exemplars) -> GenerateOptions:
        opts = GenerateOptions(prompt, negative_prompt, duration,
                               int(seed) if seed is not None else random.randrange(2**31),
                               self.defaults["num_steps"] if num_steps is None else num_steps,
                               self.defaults["cfg_strength"] if cfg_strength is None else cfg_strength,
                               engine, loudness, dict(exemplars or {}))
        stages.check_options(opts)
        if engine != MODEL_ENGINE and engine not in self.engines:
            raise ConfigError(f"unknown engine '{engine}' (this pipeline has: {', '.join([MODEL_ENGINE, *self.engines])})")
        if engine == MODEL_ENGINE and self.generator is None:
            raise ConfigError("this pipeline has no generator model: use a stem engine (--engine library)")
        return opts

    @staticmethod
    def _job(video, plan) -> Job:
        plan_dir = None
        if isinstance(plan, (str, Path)):
            plan_dir = Path(plan).resolve().parent
            plan = Plan.load(plan)
        return Job(str(video), plan, plan_dir)

    def _prepare(self, job: Job, opts: GenerateOptions) -> None:
        """Stages 1-4 for one video: check, decode once, plan, exemplars (+ features for the model)."""
        t0 = time.perf_counter()
        stages.check_inputs(job, opts)
        job.timings["check_inputs"] = time.perf_counter() - t0
        specs = {}
        planner_spec = stages.planner_frame_spec(job, self.planner) if job.plan is None else None
        if planner_spec is not None:
            specs["planner"] = planner_spec
        if opts.engine == MODEL_ENGINE:
            from ..media import FrameSpec

            specs["semantic"] = FrameSpec(self.config.semantic_rate, (224, 224))
            if self.sync_encoder is not None:
                side = 2 * self.sync_encoder.cfg.size  # as SyncEncoder.encode_video decodes
                specs["sync"] = FrameSpec(self.sync_encoder.rate, (side, side))
        stages.decode_video(job, specs, full_length=planner_spec is not None)
        stages.make_plan(job, self.planner)
        stages.load_exemplars(job, opts.exemplars, self.sample_rate)
        if opts.engine == MODEL_ENGINE:
            if job.exemplars:
                log.warning("%s: the model engine has no exemplar conditioning; exemplars are used by stem engines "
                            "(--engine library)", job.video)
            stages.encode_features(job, self.semantic_encoder, self.sync_encoder, self.text_encoder, opts.prompt)

    def _run_model(self, jobs: list[Job], opts: GenerateOptions, progress: bool) -> list[GenerationResult]:
        from ..models.windows import crossfade_join
        from .joint import sample_and_decode

        negative = self.text_encoder.encode_with_mask([opts.negative_prompt] * 4) if opts.negative_prompt else None
        waves = sample_and_decode(self, jobs, [opts.seed] * len(jobs), opts.num_steps, opts.cfg_strength, negative, progress)
        out = []
        for job, (windows, starts, timings) in zip(jobs, waves):
            t0 = time.perf_counter()
            wave = crossfade_join(windows, starts, round(job.duration * self.sample_rate))
            job.timings.update(timings)
            job.timings["decode_audio"] += time.perf_counter() - t0
            t0 = time.perf_counter()
            audio, report = master(wave.numpy(), self.sample_rate, opts.loudness)
            job.timings["mix"] = time.perf_counter() - t0
            out.append(GenerationResult(torch.from_numpy(audio), self.sample_rate, job.plan, job.timings, job.video,
                                        engine=MODEL_ENGINE, mastering=report))
        return out

    def _run_stems(self, jobs: list[Job], opts: GenerateOptions) -> list[GenerationResult]:
        engine = self.engines[opts.engine]
        out = []
        for job in jobs:
            stems = stages.render_stems(job, engine, self.sample_rate, opts.seed)
            mixed = stages.mix_stems(job, stems, self.sample_rate, opts.loudness)
            out.append(GenerationResult(torch.from_numpy(mixed.audio), self.sample_rate, job.plan, job.timings,
                                        job.video, mixed.stems, stems, opts.engine, mixed.report))
        return out

    def _record(self, job: Job, opts: GenerateOptions) -> RunRecord:
        engine = self.engines.get(opts.engine)
        library = getattr(getattr(engine, "library", None), "root", None)
        model = opts.engine == MODEL_ENGINE
        model_name = self.name if model else str(getattr(engine, "model_path", "") or "")
        return RunRecord(engine=opts.engine, model=model_name, seed=opts.seed,
                         duration=round(job.duration, 4), prompt=opts.prompt, negative_prompt=opts.negative_prompt,
                         num_steps=opts.num_steps if model else None, cfg_strength=opts.cfg_strength if model else None,
                         loudness=opts.loudness, library=str(Path(library).resolve()) if library else None,
                         variation=getattr(engine, "template_sigma", None))
