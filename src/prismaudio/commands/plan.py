"""`prismaudio plan VIDEO [-o plan.json] [--format text|json]`: write the four-module plan.

`--check PLAN.json` validates a (hand-edited) plan against the video instead: unknown
fields, wrong types, negative times, times past the end and unknown source ids give one
line naming the field and exit code 2. `--llm-url/--llm-model` ask an OpenAI-compatible
endpoint (key from the env var named by `--llm-key-env`), falling back to the default
planner with a warning when its answer does not validate.
"""

from __future__ import annotations

import sys


def register(sub, common) -> None:
    p = sub.add_parser("plan", parents=[common], help="plan a video's soundtrack (semantic, temporal, aesthetic, spatial)")
    p.add_argument("video", help="video file")
    p.add_argument("-o", "--output", help="write the plan JSON here (default: print it)")
    p.add_argument("--format", choices=["text", "json"], default="json", help="what to print (default json)")
    p.add_argument("--config", metavar="YAML", help="planner settings (PlannerConfig, e.g. configs/planner_default.yaml)")
    p.add_argument("--check", metavar="PLAN", help="validate this plan JSON against the video instead of planning")
    p.add_argument("--llm-url", help="OpenAI-compatible base URL (e.g. http://localhost:8000/v1)")
    p.add_argument("--llm-model", default="", help="model name for the LLM backend")
    p.add_argument("--llm-key-env", default="PRISMAUDIO_LLM_KEY", help="environment variable holding the API key")
    p.set_defaults(func=run)


def _render(plan, fmt: str) -> str:
    if fmt == "json":
        return plan.to_json()
    lines = list(plan.module_texts().values())
    lines += [f"Note: {n}" for n in plan.notes]
    return "\n".join(lines)


def run(args) -> int:
    from .. import media
    from ..planner.plan import Plan

    if args.check:
        info = media.probe(args.video)
        plan = Plan.load(args.check).validate(video_duration=info.duration)
        print(f"{args.check}: ok ({len(plan.semantic.sources)} sources, {len(plan.temporal.events)} events)")
        return 0
    if args.llm_url:
        from ..planner.llm import LLMConfig, plan_with_llm

        plan = plan_with_llm(args.video, LLMConfig(url=args.llm_url, model=args.llm_model, key_env=args.llm_key_env))
    else:
        from ..planner.planner import PlannerConfig, plan_video

        cfg = None
        if args.config:
            from ..config import load_config

            cfg = load_config(PlannerConfig, args.config)
        plan = plan_video(args.video, cfg)
    if args.output:
        plan.save(args.output)
        if args.format == "text":
            print(_render(plan, "text"))
        else:
            print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(_render(plan, args.format))
    return 0
