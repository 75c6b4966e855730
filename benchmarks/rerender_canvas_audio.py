"""Re-render the reference audio of some SynthCanvas splits with today's spatial renderer.

    nice -n 10 python benchmarks/rerender_canvas_audio.py /work/data/canvas /work/data/canvas_v2 [--splits test,ood]

A build made before the shared renderer got its windowed-sinc ITD (render/spatial.py) has
references whose far ear lost 3-8 dB at 4-6 kHz, which biases their level differences (side
accuracy, ILD, spatial slope). The canvas builder renders whole builds only; this renders the
audio of the chosen splits again from the same specs (same seeds: the same scene, notes and
events; the plan is checked to come out identical) into OUT with a manifest of those clips.
OUT/video links to the source build's videos (the pictures do not change); degraded copies
are left out. Prints how the side accuracy and ILD of the references moved.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("canvas")
    ap.add_argument("out")
    ap.add_argument("--splits", default="test,ood")
    args = ap.parse_args()
    from prismaudio.canvas.backgrounds import choose_background
    from prismaudio.canvas.build import resolve_classes
    from prismaudio.canvas.choreography import make_scene
    from prismaudio.canvas.options import CanvasConfig
    from prismaudio.canvas.render_audio import render_audio
    from prismaudio.canvas.sampler import IN_DIST_SPEED, OOD_SPEED, plan_samples
    from prismaudio.canvas.soundbank import SoundBank
    from prismaudio.config import from_dict
    from prismaudio.fsutil import atomic_path
    from prismaudio.media import write_audio

    src, out = Path(args.canvas), Path(args.out)
    build = json.loads((src / "build.json").read_text())
    cfg = from_dict(CanvasConfig, {**build["config"], "workers": 1}, where=str(src / "build.json"))
    classes = resolve_classes(cfg)
    by_name = {c.name: c for c in classes}
    if [c.name for c in classes] != build["classes"]:
        print(f"error: {src}: its classes differ from what this code resolves; cannot re-render", file=sys.stderr)
        return 2
    splits = {s.strip() for s in args.splits.split(",") if s.strip()}
    rows = {r["id"]: r for r in map(json.loads, (src / "manifest.jsonl").read_text().splitlines()) if r["split"] in splits}
    specs = [s for s in plan_samples(cfg, classes) if s.id in rows]
    bank = SoundBank(cfg.sample_rate, build.get("soundfont"))
    (out / "audio").mkdir(parents=True, exist_ok=True)
    if not (out / "video").exists():
        (out / "video").symlink_to((src / "video").resolve())
    for name in ("build.json", "classes.json"):
        (out / name).write_bytes((src / name).read_bytes())
    lines = []
    for i, spec in enumerate(specs):
        row = dict(rows[spec.id])
        target = out / row["audio"]
        scene_rng, sound_rng, _ = (np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3))
        ood = spec.group == "ood"  # the same draws, in the same order, as render_sample.SampleRenderer
        speed = float(scene_rng.uniform(*(OOD_SPEED if ood else IN_DIST_SPEED)))
        choose_background(scene_rng, ood)
        scene = make_scene(scene_rng, [by_name[n] for n in spec.classes], cfg.width, cfg.height, cfg.fps, cfg.duration,
                           speed, spec.group == "single")
        audio, events, _ = render_audio(scene, by_name, bank, sound_rng, cfg.duration)
        onsets = [round(e.onset, 6) for e in events]
        if onsets != [e["onset"] for e in row["events"]]:
            print(f"error: {spec.id}: re-rendered events differ from the manifest's; not the same build", file=sys.stderr)
            return 2
        if not target.is_file():
            with atomic_path(target) as tmp:
                write_audio(tmp, audio, cfg.sample_rate)
        row["degradations"] = []
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"\r{i + 1}/{len(specs)} clips", end="", flush=True)
    with atomic_path(out / "manifest.jsonl") as tmp:
        tmp.write_text("".join(lines), encoding="utf-8")
    print(f"\nwrote {len(lines)} clips of {', '.join(sorted(splits))} to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
