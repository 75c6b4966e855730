"""Fuzz the command line (issue 24 target: >= 300 CLI cases, zero tracebacks, zero exit codes
other than 0/2, zero changed inputs).

    PYTHONPATH=src python benchmarks/fuzz_cli.py [--cases-per-family 80] [--seed 0]

Five families of hypothesis-generated cases (plans, manifests, YAML configs, options, output
paths; see tests/cli_fuzz.py) run through `prismaudio.cli.main` in a scratch sandbox. Unlike the
tests, a bad case does not stop the run: every case is counted. Prints the figures and writes
benchmarks/results/fuzz_cli.json (with up to 50 failing cases, if any).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-family", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fuzz_cli.json"))
    args = parser.parse_args()

    import random

    from hypothesis import HealthCheck, given, seed, settings

    import cli_fuzz as fz

    families = {
        "plan": (fz.PLAN_DOCUMENTS, fz.case_plan),
        "manifest": (fz.manifest_documents(), fz.case_manifest),
        "config": (fz.yaml_documents(), fz.case_config),
        "options": (fz.option_cases(), fz.case_options),
        "output": (fz.output_cases(), fz.case_output),
    }
    tally = fz.Tally()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz_cli_") as tmp:
        box = fz.make_sandbox(Path(tmp) / "box")
        for i, (name, (strategy, case)) in enumerate(families.items()):
            @seed(args.seed * 1000 + i)
            @settings(max_examples=args.cases_per_family, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(strategy)
            def run(value):
                case(box, value, tally)  # counted, never asserted: the run goes on

            random.seed(args.seed)
            t0 = time.perf_counter()
            run()
            print(f"{name:<9} {tally.by_family[name]:>4} cases in {time.perf_counter() - t0:5.1f} s", flush=True)
    seconds = time.perf_counter() - start
    result = {
        "cases": tally.cases,
        "by_family": dict(tally.by_family),
        "exit_codes": dict(tally.exit_codes),
        "tracebacks": tally.tracebacks,
        "exit_codes_not_0_or_2": tally.bad_exit_codes,
        "more_than_one_error_line": tally.multi_error_lines,
        "changed_inputs": tally.changed_inputs,
        "files_left_behind": tally.files_left,
        "seconds": round(seconds, 1),
        "seed": args.seed,
        "target": ">= 300 cases; 0 tracebacks, 0 exit codes other than 0/2, 0 changed inputs",
        "met": tally.cases >= 300 and not (tally.tracebacks or tally.bad_exit_codes or tally.changed_inputs),
        "failures": tally.failures,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "failures"}, indent=2))
    print(f"wrote {out}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
