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
    from ..planner.plan import Plan, PlanError
    from ..validate import http_url, output_file

    if args.output:  # before any work: a plan that cannot be written is found out now
        output_file(args.output, "-o", [args.video, args.check])
    if args.llm_url:
        http_url(args.llm_url, "--llm-url")
    if args.check:
        info = media.probe(args.video)
        plan = Plan.load(args.check)
        try:
            plan.validate(video_duration=info.duration)
        except PlanError as e:
            raise PlanError(f"{args.check}: {e}") from None
        print(f"{args.check}: ok ({len(plan.semantic.sources)} sources, {len(plan.temporal.events)} events)")
        if not plan.temporal.events:
            print(f"warning: {args.check}: the plan has no events; generate will make ambience at most", file=sys.stderr)
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
    if not plan.temporal.events:
        print(f"warning: {args.video}: no sound events found; the plan has no events", file=sys.stderr)
    if args.output:
        plan.save(args.output)
        if args.format == "text":
            print(_render(plan, "text"))
        else:
            print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(_render(plan, args.format))
    return 0
