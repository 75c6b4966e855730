"""The recipe's evaluation stage: reference audio, the model before RL and after Fast-GRPO,
scored by the evaluation suite on the same SynthCanvas clips.

Each model generates from the clip's video and its reference plan (so the figures measure
the generator, not the planner; the planner has its own benchmark), one seed per clip. The
generated files are kept, so a killed stage resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from tqdm import tqdm

from .. import media
from ..fsutil import atomic_path
from ..metrics.report import format_value
from .config import RecipeConfig, RecipePaths

log = logging.getLogger(__name__)

VARIANTS = ("reference", "before RL", "after RL")
TABLE_KEYS = ("class-accuracy", "YAMNET-class-prob", "CLAP", "onset-F1", "onset-F1-impact", "onset-F1-sustained",
              "DeSync", "PQ-quality", "FD-YAMNET", "KL-YAMNET-softmax", "ISC-YAMNET", "ITD-error-ms", "ILD-error-dB",
              "side-accuracy")


def eval_clips(samples: list, split: str, count: int) -> list:
    """The first `count` clips of a split among manifest `samples`, by id (the same clips for every model)."""
    return sorted((s for s in samples if s.split == split), key=lambda s: s.id)[:count]


def generate_split(model, samples: list, out_dir: Path, cfg: RecipeConfig) -> None:
    """Write `<id>.wav` for every sample that has none yet (batches of cfg.eval_batch)."""

    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [s for s in samples if not (out_dir / f"{s.id}.wav").is_file()]
    for start in tqdm(range(0, len(todo), cfg.eval_batch), desc=out_dir.name, unit="batch"):
        batch = todo[start:start + cfg.eval_batch]
        plans = [s.plan for s in batch]
        results = model.generate_batch([s.video_path for s in batch], plans, seed=cfg.seed + start,
                                       num_steps=cfg.eval_num_steps, cfg_strength=cfg.eval_cfg_strength)
        for sample, result in zip(batch, results):
            if isinstance(result, Exception):
                log.error("%s: %s", sample.id, result)
                continue
            media.write_audio(out_dir / f"{sample.id}.wav", result.waveform, result.sample_rate)


def copy_references(samples: list, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for s in samples:
        target = out_dir / f"{s.id}.wav"
        if not target.is_file():
            shutil.copyfile(s.audio_path, target)


def evaluate_models(cfg: RecipeConfig, paths: RecipePaths) -> dict:
    """Generate, score, and write results.json and results.md; returns the results."""
    from ..canvas.manifest import load_manifest
    from ..metrics.evaluate import evaluate
    from ..pipeline import from_checkpoints

    models = {"before RL": paths.generator, "after RL": paths.generator_rl}
    manifest = load_manifest(paths.manifest)
    clips = {}
    for split, count in cfg.eval_splits.items():
        clips[split] = eval_clips(manifest, split, count)
        if not clips[split]:
            log.warning("split '%s' has no clips: skipped", split)
            del clips[split]
            continue
        copy_references(clips[split], paths.evaluation / "reference" / split)
    results: dict = {"clips": {split: len(samples) for split, samples in clips.items()}, "scores": {}}
    for variant, checkpoint in models.items():
        if not Path(checkpoint).is_file():
            log.warning("%s: %s missing, not evaluated", variant, checkpoint)
            continue
        model = from_checkpoints(checkpoint, paths.decoding_codec, device="auto", name=variant)
        for split, samples in clips.items():
            generate_split(model, samples, paths.evaluation / slug(variant) / split, cfg)
    for split in clips:
        gt = paths.evaluation / "reference" / split
        for variant in VARIANTS:
            pred = paths.evaluation / slug(variant) / split
            if not pred.is_dir():
                continue
            scored = evaluate(pred, gt, manifest=paths.manifest, cache=paths.evaluation / ".cache")
            results["scores"].setdefault(split, {})[variant] = scored.summary
            log.info("%s %s: %s", split, variant, {k: scored.summary.get(k) for k in TABLE_KEYS})
    with atomic_path(paths.results) as tmp:
        tmp.write_text(json.dumps(results, indent=2, default=float) + "\n")
    with atomic_path(paths.results.with_suffix(".md")) as tmp:
        tmp.write_text(results_table(results))
    return results


def slug(variant: str) -> str:
    return variant.replace(" ", "_").lower()


def results_table(results: dict) -> str:
    """A markdown table per split: one row per variant, one column per metric."""
    lines = []
    for split, rows in results["scores"].items():
        lines += [f"### SynthCanvas {split} ({results['clips'][split]} clips)", "",
                  "| audio | " + " | ".join(TABLE_KEYS) + " |", "|---" * (len(TABLE_KEYS) + 1) + "|"]
        for variant, summary in rows.items():
            cells = [format_value(summary.get(k), ".3f") for k in TABLE_KEYS]
            lines.append(f"| {variant} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
