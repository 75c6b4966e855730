"""Writing the evaluation: metrics.json (summary, per sample, problems) and report.md (tables)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..fsutil import atomic_path

# Direction of "better" per key, for the report's arrows.
HIGHER_IS_BETTER = {"ISC-YAMNET", "YAMNET-class-prob", "class-accuracy", "CLAP", "onset-F1", "onset-F1-impact",
                    "onset-F1-sustained", "onset-F1-ref", "PQ-quality", "side-accuracy", "bandwidth-Hz"}


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def format_value(v, spec: str = ".4g") -> str:
    """A table cell: None as n/a, floats with `spec`, anything else as text."""
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return format(v, spec)
    return str(v)


def write_report(result, out_dir: str | Path, settings: dict | None = None) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = _clean({"summary": result.summary, "per_sample": result.per_sample, "problems": result.problems,
                   "settings": settings or {}})
    json_path = out / "metrics.json"
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    lines = ["# PrismAudio evaluation", "", f"{result.summary.get('num_samples', 0)} paired clips.", "",
             "| metric | value | better |", "|---|---|---|"]
    for k, v in result.summary.items():
        if k == "num_samples":
            continue
        arrow = "higher" if k in HIGHER_IS_BETTER else "lower" if not k.endswith("-std") and k not in ("noise-floor-dB",) else ""
        lines.append(f"| {k} | {format_value(v)} | {arrow} |")
    if result.problems:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in result.problems]
    keys = [k for k in next(iter(result.per_sample.values()), {}) if k != "notes"]
    if keys:
        lines += ["", "## Per sample", "", "| id | " + " | ".join(keys) + " | notes |", "|---" * (len(keys) + 2) + "|"]
        for sid, row in result.per_sample.items():
            lines.append(f"| {sid} | " + " | ".join(format_value(row.get(k)) for k in keys) + f" | {'; '.join(row.get('notes', []))} |")
    md_path = out / "report.md"
    with atomic_path(md_path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path
