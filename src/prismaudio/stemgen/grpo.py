"""Fast-GRPO for the stem generator: the RL world of one planned source at a time.

The joint model's trainer (rl/trainer.py), rollouts (rl/rollout.py), SDE step, advantages
and loss run unchanged; this module only builds what they read (an RLEnvironment):

- prompts: random one-source plans (a sound-bank class with its description, impacts or
  sustained spans drawn as stemgen/data.py draws training choreographies), turned into the
  model's conditions and a start latent exactly as the stem engine does for a user's plan
  (engine.conditions: text, the source's own event track, the exemplar bank's entry;
  engine.templates: the sketch, encoded to the mid latent). Rollouts start from that sketch
  at the engine's noise level (`grpo.start_sigma`, the engine's --variation) over the same
  number of steps the engine takes there, so RL optimises the path users run;
- decode: the mono latent's own decoder (one channel, unplaced: the renderer places stems
  exactly, so there is no spatial reward);
- rewards per stem, from prismaudio.rewards: semantic (CLAP-style agreement of the stem with
  the source's label and description), temporal (onset F1 against the source's planned
  events) and aesthetic (the quality predictor);
- periodic evaluation on held-out plans (other seeds) with the class-accuracy classifier
  (an evaluator, never a reward).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import from_dict, load_yaml, merge
from ..errors import ConfigError
from ..rl.config import GRPOConfig
from ..rl.trainer import Prompt, RLEnvironment

log = logging.getLogger(__name__)

STEM_REWARDS = ("semantic", "temporal", "aesthetic")
SOURCE_ID = "source"


@dataclass
class StemPlansConfig:
    """Where the one-source plans come from (the rollout prompts and the held-out set)."""

    stem_model: str | None = None  # stem generator file or checkpoint (None: the shipped one)
    exemplar_bank: str | None = None  # None: the shipped bank beside the shipped model
    codec: str | None = None  # the codec the stem model was trained on (None: the shipped one)
    stem_config: str = "tiny"  # stemgen preset or YAML: its held_out classes are never drawn
    engine_steps: int = 8  # the engine's sampling steps from noise; from a sketch it takes round(steps x variation)
    seconds: float = 4.0  # plan length
    max_impacts: int = 6
    min_gap: float = 0.15
    train_plans: int = 96
    eval_plans: int = 16
    seed: int = 0  # train plans from (seed, i); held-out plans from (seed + 1_000_003, i)


@dataclass
class StemGRPORunConfig:
    plans: StemPlansConfig = field(default_factory=StemPlansConfig)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)

    def __post_init__(self) -> None:
        bad = [k for k in self.grpo.reward_weights if k not in STEM_REWARDS]
        if bad:
            raise ValueError(f"grpo.reward_weights: {', '.join(bad)} is not a stem reward ({', '.join(STEM_REWARDS)}; "
                             "the renderer places stems exactly, so there is no spatial reward)")
        steps = engine_path_steps(self.plans.engine_steps, self.grpo.start_sigma)
        if self.grpo.num_steps != steps:
            raise ValueError(f"grpo.num_steps {self.grpo.num_steps}: the engine takes {steps} steps from a sketch at "
                             f"start_sigma {self.grpo.start_sigma} (engine_steps {self.plans.engine_steps})")


def engine_path_steps(engine_steps: int, variation: float) -> int:
    """Steps the stem engine takes from a sketch at noise level `variation` (engine.render_stems)."""
    return max(2, round(engine_steps * variation)) if variation < 1.0 else engine_steps


def preset_path(name: str) -> Path:
    return Path(__file__).resolve().parents[3] / "configs" / f"grpo_stem_{name}.yaml"


def load_stem_grpo(path_or_name: str | Path, overrides: dict | None = None) -> StemGRPORunConfig:
    path = Path(path_or_name)
    if not path.suffix:
        path = preset_path(str(path_or_name))
    if not path.is_file():
        raise ConfigError(f"{path}: stem GRPO config not found")
    return from_dict(StemGRPORunConfig, merge(load_yaml(path), overrides or {}), where=str(path))


# ---- plans -----------------------------------------------------------------------------------
def plan_classes(stem_config: str) -> list:
    """Sound-bank classes the stem generator was trained on (its held-out classes left out)."""
    from ..canvas.classes import BUILTIN_CLASSES
    from .config import load_stem_run

    held = set(load_stem_run(stem_config).data.held_out)
    return [c for c in BUILTIN_CLASSES if c.name not in held]


def random_plan(sound_class, rng: np.random.Generator, cfg: StemPlansConfig):
    """A one-source plan: the class as label and description, its events drawn like a
    training choreography (data.py: impacts with gaps, or 1-3 sustained spans), centred."""
    from ..planner.plan import Event, Plan, Semantic, SpatialTrack, Source, Spatial, Temporal
    from .data import _strength, impact_times, sustained_spans

    d = cfg.seconds
    if sound_class.kind == "impact":
        events = [Event(SOURCE_ID, t, min(d, t + 0.3), "impact", _strength(rng))
                  for t in impact_times(rng, d, cfg.max_impacts, cfg.min_gap)]
    else:
        events = [Event(SOURCE_ID, a, b, "sustained", _strength(rng)) for a, b in sustained_spans(rng, d)]
    return Plan(duration=d, semantic=Semantic([Source(SOURCE_ID, sound_class.name, sound_class.description)]),
                temporal=Temporal(events), spatial=Spatial([SpatialTrack(SOURCE_ID, [0.0, d], [0.0, 0.0])]))


def plan_set(cfg: StemPlansConfig, held_out: bool) -> list[tuple[str, object]]:
    """(key, plan) of the training plans or the held-out plans (pure given the config)."""
    classes = plan_classes(cfg.stem_config)
    seed, count = (cfg.seed + 1_000_003, cfg.eval_plans) if held_out else (cfg.seed, cfg.train_plans)
    out = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        c = classes[int(rng.integers(len(classes)))]
        out.append((f"{'eval' if held_out else 'train'}{i:04d}:{c.name}", random_plan(c, rng, cfg)))
    return out


def stem_prompts(engine, plans: list[tuple[str, object]], seed: int) -> list[Prompt]:
    """Prompts built by the engine's own code: conditions, sketch -> start latent, reward sample.
    A plan the engine finds no sketch for is left out (counted in the log)."""
    from ..engines.base import StemRequest
    from ..rewards import RewardSample
    from .engine import _resample

    latent = engine.latent
    prompts, skipped = [], 0
    for i, (key, plan) in enumerate(plans):
        request = StemRequest(plan, latent.sample_rate, seed + i, plan.duration)
        cond = engine.conditions(request)
        sketch = engine.templates(request).get(SOURCE_ID)
        if sketch is None:
            skipped += 1
            continue
        n = request.num_samples
        wave = _resample(sketch, request.sample_rate, latent.sample_rate)[:n]
        frames = cond.track.shape[-1]
        start = latent.encode(np.pad(wave, (0, max(0, n - len(wave))))[None])[..., :frames]
        prompts.append(Prompt(key=key, cond=cond, start=start.float(),
                              reward_sample=RewardSample(sample_rate=latent.sample_rate, plan=[plan])))
    if skipped:
        log.warning("%d of %d plans have no sketch (no sound bank?) and were left out", skipped, len(plans))
    if not prompts:
        raise ConfigError("no plan could be sketched: the stem engine's sketches need the sound bank's soundfont")
    return prompts


# ---- the environment -------------------------------------------------------------------------
def class_accuracy(audio: torch.Tensor, sample) -> torch.Tensor:
    """1 where the evaluator classifier hears the plan's class in the stem (the benchmark's
    class accuracy), per clip."""
    from ..rewards.base import as_reward_sample, to_eval_rate
    from .classify import classify

    sample = as_reward_sample(sample)
    x = to_eval_rate(audio, sample.sample_rate)
    got = classify([w.mean(0) for w in x])
    labels = [p.semantic.sources[0].label for p in sample.plans(len(x))]
    return torch.tensor([float(g == lab) for g, lab in zip(got, labels)])


def stem_evaluators() -> dict:
    """The held-out curve per dimension, by the rewards' evaluator twins (trained apart, never
    optimised): class accuracy (classifier), CLAP (clap_eval), quality (quality_eval, 0..1),
    and onset F1 against the planned events (a measurement, no learned model to fool)."""
    from ..rewards.aesthetic import AestheticReward
    from ..rewards.semantic import SemanticReward
    from ..rewards.temporal import TemporalReward

    onsets = TemporalReward()
    return {"class_accuracy": class_accuracy, "clap_eval": SemanticReward("clap_eval"),
            "quality_eval": AestheticReward("quality_eval"), "onset_f1": onsets.score}


def load_engine(cfg: StemPlansConfig, variation: float, model_path: str | Path | None = None):
    from .engine import StemGeneratorEngine
    from .latent import MonoLatent

    engine = StemGeneratorEngine.load(model_path or cfg.stem_model, cfg.exemplar_bank, num_steps=cfg.engine_steps,
                                      template_sigma=variation)
    if cfg.codec:  # a recipe's own codec (the engine loads the shipped one)
        engine.latent = MonoLatent.load(cfg.codec, phase_iterations=16)
    return engine


def build_stem_environment(run: StemGRPORunConfig, rewards: dict | None = None):
    """-> (policy, frozen reference or None, RLEnvironment, StemModelConfig)."""
    import copy

    from ..rewards import RewardsConfig, build_rewards

    cfg = run.grpo
    engine = load_engine(run.plans, cfg.start_sigma)
    model = engine.model
    reference = copy.deepcopy(model).requires_grad_(False) if cfg.beta > 0 else None
    train = stem_prompts(engine, plan_set(run.plans, held_out=False), run.plans.seed)
    held_out = stem_prompts(engine, plan_set(run.plans, held_out=True), run.plans.seed + 1_000_003)
    latent = engine.latent
    n = int(round(run.plans.seconds * latent.sample_rate))
    if rewards is None:
        rewards = build_rewards(list(cfg.reward_weights), cfg=RewardsConfig(weights=dict(cfg.reward_weights)))
    env = RLEnvironment(
        latent_shape=tuple(train[0].start.shape[1:]), decode=lambda z: latent.decode(z.cpu(), n)[:, None],
        rewards=rewards, train_prompts=train, eval_prompts=held_out, evaluators=stem_evaluators(),
    )
    return model.train(False), reference, env, model.config


def export_stem_model(grpo_checkpoint: str | Path, out: str | Path, half: bool = False) -> Path:
    """Ship a stem GRPO checkpoint's EMA policy as a stem generator file (kind stem_generator,
    the model config inside), loadable by `generate --stem-model` and the engine."""
    from ..train.checkpoint import export_weights, load_checkpoint
    from .config import StemModelConfig
    from .model import StemDiT
    from .trainer import CHECKPOINT_KIND, CHECKPOINT_VERSION

    ckpt = load_checkpoint(grpo_checkpoint, kind="grpo")
    mcfg = ckpt.extra.get("model_config")
    if not mcfg:
        raise ConfigError(f"{grpo_checkpoint}: no stem model config inside (not a stem GRPO checkpoint)")
    config = from_dict(StemModelConfig, mcfg, where=f"{grpo_checkpoint} model_config")
    model = StemDiT(config)
    model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    return export_weights(out, CHECKPOINT_KIND, CHECKPOINT_VERSION, config, model.half() if half else model,
                          extra={"grpo_iteration": ckpt.step, "source": Path(grpo_checkpoint).name})
