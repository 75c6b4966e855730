"""`prismaudio grpo` end to end on the real world's parts: the tiny-random generator and codec
(a bundle), a 3-clip feature cache extracted from a tiny SynthCanvas build, the real rewards
(RewardSample, build_rewards) and the evaluation suite for periodic evaluation."""

import json

import torch
import yaml

from prismaudio.cli import main


def _subset(canvas_root, tmp_path, name, ids):
    rows = [json.loads(l) for l in (canvas_root / "manifest.jsonl").read_text().splitlines() if l.strip()]
    keep = [r for r in rows if r["id"] in ids]
    for r in keep:  # absolute media paths: the subset manifest lives elsewhere
        r["video"], r["audio"] = str(canvas_root / r["video"]), str(canvas_root / r["audio"])
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in keep))
    return path


def test_grpo_runs_end_to_end_with_real_rewards_and_evaluators(short_canvas_root, tmp_path):
    canvas_root = short_canvas_root
    from prismaudio.encoders.cache import ExtractConfig, Extractor, extract_manifest
    from prismaudio.pipeline import PrismAudio

    pipe = PrismAudio.tiny_random(seed=0)
    bundle = pipe.save_bundle(tmp_path / "bundle")
    ids = sorted(json.loads(l)["id"] for l in (canvas_root / "manifest.jsonl").read_text().splitlines() if l.strip())[:2]
    extract = ExtractConfig(codec=str(bundle / "codec.safetensors"), semantic_fps=pipe.config.semantic_rate,
                            text_tokens=pipe.config.text_tokens)
    extractor = Extractor(extract, sync=pipe.sync_encoder)  # the trained sync encoder is not shipped
    for name, part in (("train", ids[:1]), ("val", ids[1:])):
        counts = extract_manifest(_subset(canvas_root, tmp_path, name, part), tmp_path / "features" / name, extract,
                                  extractor=extractor)
        assert counts["failed"] == 0
    cfg = {
        "generator_checkpoint": str(bundle / "generator.safetensors"), "codec_checkpoint": str(bundle / "codec.safetensors"),
        "data": str(tmp_path / "features" / "train"), "eval_data": str(tmp_path / "features" / "val"),
        "manifest": str(canvas_root / "manifest.jsonl"), "eval_size": 1, "clip_seconds": 2.0,
        "out_dir": str(tmp_path / "run"), "num_steps": 4, "window": 1, "branches": 2, "trees_per_group": 1,
        "prompts_per_iteration": 1, "micro_batch": 4, "iterations": 1, "eval_every": 1, "checkpoint_every": 1,
        "reward_weights": {"semantic": 1.0, "temporal": 0.6, "spatial": 0.4, "aesthetic": 0.1}, "threads": 2,
    }
    config = tmp_path / "grpo.yaml"
    config.write_text(yaml.safe_dump(cfg))
    assert main(["grpo", "--config", str(config)]) == 0
    rows = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if any(k.startswith("reward/") for k in r)]
    assert len(train_rows) == 1
    for name in ("semantic", "temporal", "spatial", "aesthetic"):
        values = [v for r in train_rows for k, v in r.items() if k.startswith(f"reward/{name}") and "mean" in k]
        assert values and all(-1.0 <= v <= 1.0 for v in values), name  # semantic is a cosine
    evals = {k: v for r in rows for k, v in r.items() if k.startswith("eval/")}
    # the evaluators (clap_eval, quality_eval, classifier, offset_eval), not the rewards
    assert {"eval/CLAP", "eval/PQ-quality", "eval/ITD-error-ms"} <= set(evals)
    assert (tmp_path / "run" / "generator_grpo.safetensors").is_file()
    assert torch.isfinite(torch.tensor([float(v) for v in evals.values()])).all()
