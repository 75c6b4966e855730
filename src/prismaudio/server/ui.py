"""The Gradio page: upload -> editable four-module plan -> generate -> play and download."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import PrismError
from ..planner.plan import Plan
from .service import GenerateOptions, GenerationService

log = logging.getLogger(__name__)

INTRO = """# PrismAudio
Upload a video (or pick an example). **Plan** writes the four-module chain of thought
(semantic: what sounds, temporal: when, aesthetic: how, spatial: where); edit it if you like,
then **Generate** a synchronized stereo soundtrack."""


def _module_markdown(plan: Plan) -> str:
    return "\n\n".join(f"**{name.title()}** — {text.split(':', 1)[1].strip()}" for name, text in plan.module_texts().items())


def build_ui(service: GenerationService, examples: list[str], models: list[str]):
    import gradio as gr

    def upload(video_path: str):
        if not video_path:
            raise gr.Error("Upload a video first.")
        with open(video_path, "rb") as f:
            return service.save_upload(f, Path(video_path).name)

    def make_plan(video_path, model):
        try:
            job_id, path = upload(video_path)
            plan = service.plan(job_id, path, model)
        except PrismError as e:
            raise gr.Error(str(e)) from None
        return plan.to_json(), _module_markdown(plan)

    def generate(video_path, plan_json, steps, cfg, seed, duration, negative, model, engine="model", progress=gr.Progress()):
        try:
            plan = Plan.from_json(plan_json, where="plan") if plan_json and plan_json.strip() else None
            options = GenerateOptions(
                num_steps=int(steps), cfg_strength=float(cfg), seed=int(seed) if seed is not None and seed >= 0 else None,
                duration=float(duration) if duration else None, negative_prompt=negative or None, model=model,
                engine=engine or "model",
            )
            progress(0.05, desc="planning and generating")
            job_id, path = upload(video_path)
            result = service.generate(job_id, path, plan, options, wait=True)
        except PrismError as e:
            raise gr.Error(str(e)) from None
        timing = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
        info = f"Generated {result.duration:.2f} s of stereo audio at {result.sample_rate} Hz. {timing}"
        files = [str(result.video), str(result.audio), str(result.plan_file)] + ([str(result.stems)] if result.stems else [])
        return (str(result.video), str(result.audio), files,
                result.plan.to_json(), _module_markdown(result.plan), info)

    cfg = service.config
    with gr.Blocks(title="PrismAudio", delete_cache=(int(cfg.cleanup_every_s), int(cfg.retention_s))) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                video = gr.Video(label="Video", sources=["upload"], elem_id="input-video")
                if examples:
                    gr.Examples(examples, inputs=[video], label="Examples")
                plan_button = gr.Button("1. Plan", elem_id="plan-button")
                plan_json = gr.Code(label="Plan (JSON, editable)", language="json", elem_id="plan-json")
                plan_text = gr.Markdown(elem_id="plan-text")
                with gr.Accordion("Options", open=False):
                    steps = gr.Slider(1, 64, value=cfg.default_num_steps, step=1, label="Steps")
                    cfg_strength = gr.Slider(1.0, 10.0, value=cfg.default_cfg_strength, step=0.5, label="CFG strength")
                    seed = gr.Number(value=-1, precision=0, label="Seed (-1 = random)")
                    duration = gr.Number(value=0, label="Duration in seconds (0 = the video's)")
                    negative = gr.Textbox(value="", label="Negative prompt", placeholder="e.g. music, speech, hiss")
                    model = gr.Dropdown(models, value=models[0], label="Model")
                    engines = ["model", "library"] if cfg.library else ["model"]
                    engine = gr.Dropdown(engines, value="model", label="Engine (library: per-source stems, downloadable)",
                                         visible=len(engines) > 1)
                generate_button = gr.Button("2. Generate", variant="primary", elem_id="generate-button")
            with gr.Column():
                out_video = gr.Video(label="Video with soundtrack", elem_id="output-video")
                out_audio = gr.Audio(label="Soundtrack", type="filepath", elem_id="output-audio")
                downloads = gr.File(label="Downloads", file_count="multiple")
                info = gr.Markdown(elem_id="result-info")
        plan_button.click(make_plan, [video, model], [plan_json, plan_text], concurrency_limit=cfg.max_concurrent_jobs)
        generate_button.click(
            generate, [video, plan_json, steps, cfg_strength, seed, duration, negative, model, engine],
            [out_video, out_audio, downloads, plan_json, plan_text, info], concurrency_limit=cfg.max_concurrent_jobs,
        )
    demo.queue(max_size=cfg.max_queue, default_concurrency_limit=cfg.max_concurrent_jobs)
    return demo


