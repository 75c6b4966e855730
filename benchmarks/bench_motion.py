"""Planner contacts on plain physics clips (benchmarks/motion_clips.py): exact truth, no SynthCanvas.

    python benchmarks/motion_clips.py /tmp/motion --count 12
    python benchmarks/bench_motion.py /tmp/motion      # prints figures, writes benchmarks/results/planner_motion.json

Contacts within 40 ms (precision, recall), Spearman rank correlation of planned strength
with the true impact speed (matched contacts, per clip, median), and how many clips with
nothing moving (still camera or a pan over a still scene) got a source.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from prismaudio.planner.planner import plan_video

TOL = 0.040


def main() -> int:
    root = Path(sys.argv[1])
    hits_all = pred_all = true_all = invented = still = 0
    rhos, rows = [], []
    for line in (root / "truth.jsonl").read_text().splitlines():
        r = json.loads(line)
        plan = plan_video(root / f"{r['id']}.mp4")
        pred = [e for e in plan.temporal.events if e.kind == "impact"]
        truth = [(c[0], c[1]) for b in r["bodies"] for c in b["contacts"] if c[0] < r["duration"]]
        used, pairs = set(), []
        for e in sorted(pred, key=lambda e: e.onset):
            near = [j for j, (t, _) in enumerate(truth) if j not in used and abs(e.onset - t) <= TOL]
            if near:
                j = min(near, key=lambda j: abs(e.onset - truth[j][0]))
                used.add(j)
                pairs.append((e.strength, truth[j][1]))
        hits_all += len(pairs)
        pred_all += len(pred)
        true_all += len(truth)
        if len(pairs) >= 3:
            rhos.append(float(spearmanr(*zip(*pairs)).correlation))
        if r["kind"] in ("still", "pan"):
            still += 1
            invented += bool(plan.semantic.sources)
        rows.append({"id": r["id"], "hits": len(pairs), "planned": len(pred), "true": len(truth),
                     "sources": [s.label for s in plan.semantic.sources]})
        print(r["id"], f"{len(pairs)} of {len(pred)} planned contacts match {len(truth)} true", rows[-1]["sources"], flush=True)
    res = {"clips": len(rows), "precision": hits_all / max(pred_all, 1), "recall": hits_all / max(true_all, 1),
           "strength_spearman_median": float(np.nanmedian(rhos)) if rhos else None,
           "still_clips": still, "still_clips_with_sources": invented, "per_clip": rows}
    print(f"contacts within 40 ms: precision {res['precision']:.3f}, recall {res['recall']:.3f}; strength rank correlation "
          f"(median per clip) {res['strength_spearman_median']}; still/pan clips with a source: {invented} of {still}")
    out = Path(__file__).resolve().parent / "results" / "planner_motion.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
