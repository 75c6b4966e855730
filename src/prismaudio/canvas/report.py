"""OUTDIR/classes.json (the label table) and OUTDIR/README.md (class table + statistics)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..config import dump_yaml, to_dict
from ..media import atomic_path
from .options import CanvasConfig
from .render_audio import MAX_ITD_S, PAN_WIDTH, PEAK_LIMIT
from .sampler import OOD_HELD_OUT


def write_class_table(path: Path, class_dicts: list[dict]) -> None:
    text = json.dumps({"classes": class_dicts}, indent=1, ensure_ascii=False) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _recipe(r: dict) -> str:
    if r["source"] == "gm":
        return f"GM program {r['program']}, keys {r['keys'][0]}-{r['keys'][1]}" + (f", re-struck every {r['retrigger']} s" if r["retrigger"] else "")
    if r["source"] == "drum":
        return f"GM drum key {r['keys'][0]}"
    names = ", ".join(Path(f).name for f in r["files"][:2])
    return f"{r['source']}: {names}" + (f" (+{len(r['files']) - 2})" if len(r["files"]) > 2 else "")


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return out


def write_readme(outdir: Path, cfg: CanvasConfig, class_dicts: list[dict], lines: list[dict], soundfont: str | None) -> None:
    by = Counter((d["group"], d["split"]) for d in lines)
    groups, splits = ["single", "multi", "ood"], ["train", "val", "test", "ood"]
    single_per_class = Counter((d["sources"][0]["class_name"], d["split"]) for d in lines if d["group"] == "single")
    events = Counter(e["kind"] for d in lines for e in d["events"])
    visuals = Counter(e["visual"] for d in lines for e in d["events"])
    n_sources = Counter(len(d["sources"]) for d in lines)
    backgrounds = Counter(d["background"]["kind"] for d in lines)
    degr = Counter(g["kind"] for d in lines for g in d["degradations"])
    snr: dict[str, list[float]] = {}
    for d in lines:
        for g in d["degradations"]:
            if g["snr_db"] is not None:
                snr.setdefault(g["kind"], []).append(g["snr_db"])
    hours = sum(d["duration"] for d in lines) / 3600
    n_impact = sum(c["kind"] == "impact" for c in class_dicts)

    md = [
        "# SynthCanvas",
        "",
        "A synthetic video-to-audio benchmark with exact ground truth for what sounds (semantic), when",
        "(temporal), how it should sound (aesthetic) and where (spatial). Built by `prismaudio canvas build`.",
        "",
        "## Layout",
        "",
        "- `video/<id>.mp4`: H.264, no audio; `audio/<id>.wav`: stereo reference (PCM 16-bit);",
        "- `degraded/<id>.<kind>.wav`: degraded copies (noise, hum, clipping, bandlimit, reverb), recorded in the manifest;",
        "- `manifest.jsonl`: one JSON object per sample (schema and loader: `prismaudio.canvas.manifest.load_manifest`);",
        "- `classes.json`: the class table in label order (`prismaudio.canvas.manifest.load_classes`); `build.json`: build options.",
        "",
        "Impact classes sound once per visual event (bounce, jump, hit, squash, flash) at that exact frame;",
        "sustained classes sound while their sprite is visible, louder when nearer (gain = sprite scale).",
        f"Stereo: constant-power pan (width {PAN_WIDTH}) plus an interaural delay up to {MAX_ITD_S * 1000:.1f} ms from each",
        f"source's horizontal position, per sample; the mix is scaled down only when its peak would exceed {PEAK_LIMIT}.",
        "",
        "## Options",
        "",
        "```yaml",
        dump_yaml({k: v for k, v in to_dict(cfg).items() if not (k == "library" and v is None)}).rstrip(),
        f"# soundfont used: {soundfont}",
        "```",
        "",
        "## Statistics",
        "",
        f"{len(lines)} samples, {hours:.2f} h of audio, {len(class_dicts)} classes ({n_impact} impact, {len(class_dicts) - n_impact} sustained).",
        "",
    ]
    md += _table(["group"] + splits + ["total"], [[g] + [by[(g, s)] for s in splits] + [sum(by[(g, s)] for s in splits)] for g in groups])
    md += [
        "",
        f"- single-source samples per class and split: train {_span(single_per_class, class_dicts, 'train')}, "
        f"val {_span(single_per_class, class_dicts, 'val')}, test {_span(single_per_class, class_dicts, 'test')}",
        f"- sources per sample: {dict(sorted(n_sources.items()))}",
        f"- events: {dict(events)}; visual events: {dict(visuals)}",
        f"- backgrounds: {dict(backgrounds)}",
        "- degradations: " + (", ".join(f"{k} {v} (mean measured SNR {sum(snr.get(k, [0])) / max(1, len(snr.get(k, []))):.1f} dB)" for k, v in sorted(degr.items())) or "none"),
        "",
        "## Out-of-distribution split (`ood`)",
        "",
        "Held out from train (each ood sample lists its factors in `ood_factors`):",
        "",
    ]
    md += [f"- {k}: {v}" for k, v in OOD_HELD_OUT.items()]
    md += ["", "## Classes", ""]
    rows = [[i, c["name"], c["kind"], c["sprite"], _recipe(c["recipe"]), ", ".join(c["audioset"]) or "-", c["description"]]
            for i, c in enumerate(class_dicts)]
    md += _table(["#", "class", "kind", "sprite", "sound", "AudioSet", "description"], rows)
    with atomic_path(outdir / "README.md") as tmp:
        tmp.write_text("\n".join(md) + "\n", encoding="utf-8")


def _span(counter: Counter, class_dicts: list[dict], split: str) -> str:
    values = [counter[(c["name"], split)] for c in class_dicts]
    lo, hi = (min(values), max(values)) if values else (0, 0)
    return f"{lo}" if lo == hi else f"{lo}-{hi}"
