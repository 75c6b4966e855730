"""The Gradio page: upload -> editable four-module plan -> generate -> play and download."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import PrismError
from ..planner.plan import Plan
from .options import BadRequest, GenerateOptions, parse_plan
from .service import GenerationService

log = logging.getLogger(__name__)

INTRO = """# PrismAudio
Upload a video (or pick an example). **Plan** writes the four-module chain of thought
(semantic: what sounds, temporal: when, aesthetic: how, spatial: where); edit it if you like,
then **Generate** a synchronized stereo soundtrack."""


EXEMPLAR_SLOTS = 4  # exemplar uploads on the page (a plan with more sources takes the rest from the API)
ENGINE_LABEL = "Engine (stem, library: per-source stems downloadable as a zip, exemplars followed)"


def source_ids(plan_json: str | None) -> list[str]:
    """The source ids of the plan in the editor ([] while it is empty or not valid JSON yet)."""
    import json

    try:
        sources = json.loads(plan_json or "{}").get("semantic", {}).get("sources", [])
        return [str(s["id"]) for s in sources if isinstance(s, dict) and s.get("id")]
    except (ValueError, AttributeError, TypeError):
        return []


def exemplar_choices(slots: list[tuple[str | None, str | None]]) -> dict[str, str]:
    """The page's exemplar slots [(source id, uploaded file)] -> {source id: file}; a slot
    with a file and no source, or two files for one source, is an error (one line)."""
    out: dict[str, str] = {}
    for i, (source, path) in enumerate(slots, 1):
        if not path:
            continue
        if not source:
            raise BadRequest(f"exemplar {i}: pick the plan source it is for")
        if source in out:
            raise BadRequest(f"exemplar {i}: source '{source}' already has an exemplar")
        out[source] = path
    return out


def _module_markdown(plan: Plan) -> str:
    return "\n\n".join(f"**{name.title()}** — {text.split(':', 1)[1].strip()}" for name, text in plan.module_texts().items())


def build_ui(service: GenerationService, examples: list[str]):
    import gradio as gr

    models = list(service.models.names)
    limits = service.limits

    def upload(video_path: str):
        if not video_path:
            raise gr.Error("Upload a video first.")
        with open(video_path, "rb") as f:
            return service.save_upload(f, Path(video_path).name)

    def make_plan(video_path, model):
        try:
            plan = service.plan(upload(video_path), model if model in models else None, wait=True)
        except PrismError as e:
            raise gr.Error(service.public(e)) from None
        return plan.to_json(), _module_markdown(plan)

    def generate(video_path, plan_json, steps, cfg, seed, duration, negative, model, engine=None, *slots,
                 progress=gr.Progress()):
        try:
            exemplars = exemplar_choices(list(zip(slots[0::2], slots[1::2])))
            plan = parse_plan(plan_json, limits)  # the editor's text: size-limited like the API's plan field
            if negative and len(negative) > 1000:
                raise BadRequest("negative prompt: at most 1000 characters")
            options = GenerateOptions(
                num_steps=min(max(int(steps), 1), limits.max_num_steps),
                cfg_strength=min(max(float(cfg), 0.0), limits.max_cfg_strength),
                seed=int(seed) if seed is not None and 0 <= seed < 2**32 else None,
                duration=float(duration) if duration and duration > 0 else None, negative_prompt=negative or None,
                model=model if model in models else None,
                engine=engine if engine in limits.engines else None,
            )
            progress(0.05, desc="planning and generating")
            job = upload(video_path)
            try:
                for source, path in exemplars.items():
                    with open(path, "rb") as f:
                        service.save_exemplar(job, source, f, Path(path).name)
            except BaseException:
                service.give_up(job)
                raise
            result = service.generate(job, plan, options, wait=True)
        except PrismError as e:
            raise gr.Error(service.public(e)) from None
        timing = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
        info = f"Generated {result.duration:.2f} s of stereo audio at {result.sample_rate} Hz. {timing}"
        files = [str(result.video), str(result.audio), str(result.plan_file)] + ([str(result.stems)] if result.stems else [])
        return (str(result.video), str(result.audio), files, result.plan.to_json(), _module_markdown(result.plan), info)

    cfg = service.config
    with gr.Blocks(title="PrismAudio", delete_cache=(int(cfg.cleanup_every_s), int(cfg.retention_s))) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Video", sources=["upload"], elem_id="input-video")
                if examples:
                    gr.Examples(examples, inputs=[video], label="Examples")
                plan_button = gr.Button("1. Plan", elem_id="plan-button")
                plan_json = gr.Code(label=f"Plan (JSON, editable, at most {limits.max_plan_bytes // 1024} KB)",
                                    language="json", elem_id="plan-json")
                plan_text = gr.Markdown(elem_id="plan-text")
                with gr.Accordion("Options", open=False):
                    steps = gr.Slider(1, limits.max_num_steps, value=cfg.default_num_steps, step=1, label="Steps")
                    cfg_strength = gr.Slider(1.0, 10.0, value=cfg.default_cfg_strength, step=0.5, label="CFG strength")
                    seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
                    duration = gr.Number(value=0, label="Duration in seconds (0 = the video's)")
                    negative = gr.Textbox(value="", label="Negative prompt", placeholder="e.g. music, speech, hiss",
                                          max_length=1000)
                    model = gr.Dropdown(models, value=models[0], label="Model")
                    engine = gr.Dropdown(list(limits.engines), value=cfg.default_engine, visible=len(limits.engines) > 1,
                                         label=ENGINE_LABEL, elem_id="engine")
                with gr.Accordion("Exemplars: a recording of the sound a source should make (stem engines)",
                                  open=False, visible=len(limits.engines) > 1):
                    slots = []
                    for i in range(EXEMPLAR_SLOTS):
                        with gr.Row():
                            slots.append(gr.Dropdown([], value=None, label=f"Source {i + 1}", elem_id=f"exemplar-source-{i}"))
                            slots.append(gr.Audio(type="filepath", sources=["upload"], label=f"Exemplar {i + 1}",
                                                  elem_id=f"exemplar-{i}"))
                generate_button = gr.Button("2. Generate", variant="primary", elem_id="generate-button")
            with gr.Column():
                out_video = gr.Video(label="Video with soundtrack", elem_id="output-video")
                out_audio = gr.Audio(label="Soundtrack", type="filepath", elem_id="output-audio")
                downloads = gr.File(label="Downloads", file_count="multiple")
                info = gr.Markdown(elem_id="result-info")
        plan_button.click(make_plan, [video, model], [plan_json, plan_text], concurrency_limit=cfg.max_concurrent_jobs)
        # the source pickers follow the plan in the editor
        plan_json.change(lambda text: [gr.update(choices=source_ids(text))] * EXEMPLAR_SLOTS, [plan_json], slots[0::2])
        generate_button.click(
            generate, [video, plan_json, steps, cfg_strength, seed, duration, negative, model, engine, *slots],
            [out_video, out_audio, downloads, plan_json, plan_text, info], concurrency_limit=cfg.max_concurrent_jobs,
        )
    demo.queue(max_size=cfg.max_queue, default_concurrency_limit=cfg.max_concurrent_jobs)
    return demo


