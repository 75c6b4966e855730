"""OUTDIR/README.md of a PhysWorld build: what it is, the objects and their sounds, statistics."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...config import dump_yaml
from ...fsutil import atomic_path
from .contacts import IMPACT_MIN_SPEED
from .objects import MODELS, backdrops_for, floors_for
from .options import PhysWorldConfig
from .sounds import SoundChoice


def write_readme(outdir: Path, cfg: PhysWorldConfig, lines: list[dict], sounds: SoundChoice) -> None:
    splits = Counter(d["split"] for d in lines)
    events = Counter((e["kind"], e["visual"]) for d in lines for e in d["events"])
    objects = Counter((d["split"], s["sprite"]) for d in lines for s in d["sources"])
    n_sources = Counter(len(d["sources"]) for d in lines)
    still = sum(d["background"].get("still", False) for d in lines)
    moving = sum(d["background"]["camera"]["motion"] != "static" for d in lines)
    md = [
        "# PhysWorld",
        "",
        "Rendered 3D physics scenes (pybullet, TinyRenderer) with exact ground truth, in SynthCanvas's manifest",
        "format (`prismaudio.canvas.manifest.load_manifest`). Built by `prismaudio canvas build OUT --world physics`.",
        "",
        "- `video/<id>.mp4`: the clip (H.264, blur / noise / compression as in the manifest's `background`);",
        "- `audio/<id>.wav`: the stereo reference rendered from the ground truth (impact loudness from the impulse);",
        "- `physics/<id>.json`: the simulator's ground truth (impacts with partner, approach speed, impulse, peak force;",
        "  rolling / sliding spans; objects; camera; per-frame world positions, distances in metres, visible pixels);",
        "- `manifest.jsonl`, `classes.json`, `build.json` as in SynthCanvas.",
        "",
        f"Impacts: a pair of bodies meeting at >= {IMPACT_MIN_SPEED} m/s; the event's `strength` in the plan is its loudness",
        "relative to the loudest event of the same object. Sources' `sprite` is the object seen (e.g. `soccer ball`).",
        "",
        "## Options",
        "",
        "```yaml",
        dump_yaml(cfg).rstrip(),
        "```",
        "",
        "## Statistics",
        "",
        f"{len(lines)} clips: {dict(splits)}; objects per clip {dict(sorted(n_sources.items()))}; {still} still clips; {moving} with a moving camera.",
        "",
        "| event | visual | count |",
        "|---|---|---|",
    ]
    md += [f"| {k} | {v} | {n} |" for (k, v), n in sorted(events.items())]
    md += ["", "## Objects", "", "| object | material | sound class | held out (test only) | train | val | test |", "|---|---|---|---|---|---|---|"]
    md += [f"| {m.name} | {m.material} | {sounds.objects[m.name]} | {'yes' if m.held_out else ''} | "
           f"{objects[('train', m.name)]} | {objects[('val', m.name)]} | {objects[('test', m.name)]} |" for m in MODELS]
    md += ["", f"Rolling sounds as `{sounds.roll}`, sliding as `{sounds.slide}`.", "",
           f"Floors: train/val {', '.join(floors_for('train'))}; test {', '.join(floors_for('test'))}.",
           f"Backdrops: train/val {', '.join(backdrops_for('train'))}; test {', '.join(backdrops_for('test'))} (or a plain colour).", ""]
    with atomic_path(outdir / "README.md") as tmp:
        tmp.write_text("\n".join(md) + "\n", encoding="utf-8")
