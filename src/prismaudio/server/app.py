"""Build the web app (FastAPI API + mounted Gradio UI) and serve it."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from .config import ServerConfig
from .service import GenerationService

log = logging.getLogger(__name__)


def default_loader(name: str, device: str):
    from ..pipeline import PrismAudio

    return PrismAudio.from_pretrained(name, device=device)


def _cleanup_loop(service: GenerationService, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            service.cleanup()
        except OSError as e:  # a folder removed under us: try again next round
            log.warning("cleanup: %s", e)


def make_examples(folder: Path, count: int = 2) -> list[str]:
    """A few SynthCanvas clips (out-of-distribution split, never trained on) for the page's
    example list; none when SynthCanvas cannot render here (no emoji font)."""
    from ..canvas.build import build
    from ..canvas.manifest import load_manifest
    from ..canvas.options import CanvasConfig
    from ..errors import PrismError

    try:
        build(folder, CanvasConfig(single_per_class=0, multi=0, ood=count, degraded_fraction=0.0, seed=11,
                                   duration=6.0, workers=1), progress=False)
    except PrismError as e:
        log.warning("no example videos: %s", e)
        return []
    return [str(s.video_path) for s in load_manifest(folder)]


def build_app(config: ServerConfig, load_pipeline: Callable[[str, str], object] = default_loader,
              examples: list[str] | None = None, warm_up: bool = True):
    """The ASGI app: API routes first, then the Gradio page mounted at '/'.

    The default model is loaded here (`warm_up`), before the server answers, so no request's
    timeout pays for it; a model that cannot load stops the start with one clear line.
    `examples=None` renders a couple of SynthCanvas clips for the page to offer.
    """
    from ..optional import require

    require("gradio", "the web demo (prismaudio serve)")  # one line: pip install 'prismaudio[web]'
    require("fastapi", "the web demo's HTTP API (prismaudio serve)")
    owns_dir = not config.work_dir
    work_dir = Path(config.work_dir or tempfile.mkdtemp(prefix="prismaudio-serve-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    # Gradio copies uploads and outputs into its own cache: keep it inside our folder.
    os.environ["GRADIO_TEMP_DIR"] = str(work_dir / "gradio")

    import gradio as gr
    from fastapi import FastAPI

    from .api import build_router, document_errors, guard_api_paths, install_error_handlers
    from .limits import BodyLimit
    from .ui import build_ui

    service = GenerationService(config, load_pipeline, work_dir)
    if warm_up:
        try:
            service.warm_up()
        except BaseException:
            if owns_dir:
                shutil.rmtree(work_dir, ignore_errors=True)
            raise
    if examples is None:
        examples = make_examples(work_dir / "examples")
    stop = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Check often enough that nothing outlives the retention time by much.
        every = min(config.cleanup_every_s, max(1.0, config.retention_s / 4))
        thread = threading.Thread(target=_cleanup_loop, args=(service, stop, every), daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            service.shutdown()
            if owns_dir:
                shutil.rmtree(work_dir, ignore_errors=True)

    app = FastAPI(title="PrismAudio API", lifespan=lifespan)
    app.state.service = service
    install_error_handlers(app, service)
    router = build_router(service)
    app.include_router(router)
    guard_api_paths(app, router)
    document_errors(app)
    demo = build_ui(service, examples)
    app.state.service_ui = demo  # the page's Blocks (its functions are called directly by tests)
    app = gr.mount_gradio_app(app, demo, path="/", max_file_size=int(config.max_upload_mb * 2**20),
                              allowed_paths=[str(work_dir)])
    app.add_middleware(BodyLimit, upload_bytes=int(config.max_upload_mb * 2**20))
    return app


def serve(config: ServerConfig, **kwargs) -> None:
    import uvicorn

    app = build_app(config, **kwargs)
    log.info("serving on http://%s:%d", config.host, config.port)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")
