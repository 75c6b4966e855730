"""The sound library: class counts, real classes with 3+ recordings, YAMNet agreement per
class and overall, build time of a first and a second run, and every dropped file with why.

    python benchmarks/bench_library.py                          # fresh build in /tmp, then a rerun
    python benchmarks/bench_library.py --out data/library --keep # measure (and keep) a real build

Targets (issue 25): >= 300 classes, >= 120 of them real recordings with >= 3 each; YAMNet's
top-5 holds the class's AudioSet label on >= 60 % of kept recordings of 1 s or longer; a
build from the installed packages in < 5 minutes on 2 cores, and a second run reuses what
is done. Needs the packages (`make library-packages`); missing ones are named in the output.
Writes benchmarks/results/library.json. Other processes on the machine lengthen the times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "library.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="library folder (default: a temporary folder, deleted afterwards)")
    ap.add_argument("--keep", action="store_true", help="do not delete --out first (measures a resumed build)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample-rate", type=int, default=44100)
    ap.add_argument("--results", default=str(RESULTS))
    args = ap.parse_args()

    from prismaudio.library.build import LibraryBuildConfig, build_library

    tmp = None
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.keep:
            shutil.rmtree(out)
    else:
        tmp = tempfile.mkdtemp(prefix="bench-library-")
        out = Path(tmp) / "library"
    cfg = LibraryBuildConfig(out=str(out), sample_rate=args.sample_rate, workers=args.workers)
    try:
        t0 = time.perf_counter()
        first = build_library(cfg, progress=False)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = build_library(cfg, progress=False)
        second_s = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in out.rglob("*.flac")) / 1e6
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    r = second.report
    agree = r["yamnet_agreement"] or {}
    result = {
        "classes": r["classes"],
        "classes_by_origin": r["classes_by_origin"],
        "real_classes": r["real_classes"],
        "real_classes_with_3": r["real_classes_with_3"],
        "recordings": r["recordings"],
        "real_recordings": r["real_recordings"],
        "kinds": r["kinds"],
        "library_mb": round(size_mb, 1),
        "sample_rate": args.sample_rate,
        "yamnet_agreement_overall": agree.get("overall"),
        "yamnet_judged_recordings": agree.get("judged_recordings"),
        "yamnet_classes_judged": agree.get("classes_judged"),
        "yamnet_classes_at_least_60pct": agree.get("classes_at_least_60pct"),
        "yamnet_agreement_per_class": agree.get("per_class"),
        "build_first_s": round(first_s, 1),
        "build_first_processed": first.processed,
        "build_first_reused": first.reused,
        "build_second_s": round(second_s, 1),
        "build_second_processed": second.processed,
        "build_second_reused": second.reused,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "recordings_per_real_class": r["recordings_per_real_class"],
        "licences": r["licences"],
        "dropped": r["dropped"],
        "problems": r["problems"],
        "targets": {"classes": 300, "real_classes_with_3": 120, "yamnet_agreement": 0.6, "build_s": 300},
    }
    print(f"classes: {result['classes']} {result['classes_by_origin']}")
    print(f"real classes: {result['real_classes']}, with >= 3 recordings: {result['real_classes_with_3']} (target >= 120)")
    print(f"recordings: {result['recordings']} ({result['real_recordings']} real), {result['library_mb']} MB of FLAC")
    if agree.get("overall") is not None:
        print(f"YAMNet top-5 agreement on kept recordings >= 1 s: {agree['overall']:.1%} of {agree['judged_recordings']} "
              f"(target >= 60%); classes >= 60%: {agree['classes_at_least_60pct']} of {agree['classes_judged']}")
        for name, a in sorted(agree["per_class"].items(), key=lambda kv: kv[1]):
            print(f"  {a:5.0%}  {name}")
    print(f"build: first run {first_s:.1f} s ({first.processed} processed, {first.reused} reused), "
          f"second run {second_s:.1f} s ({second.processed} processed, {second.reused} reused) on {args.workers} workers "
          f"(target < 300 s)")
    print(f"dropped: {len(r['dropped'])}")
    for d in r["dropped"]:
        print(f"  {d['class']}: {d['file']}: {d['reason']}")
    for p in r["problems"]:
        print(f"problem: {p}")
    path = Path(args.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
