"""HTTP API: POST /v1/generate, POST /v1/plan, GET /v1/files/{job}/{name}, GET /healthz.

Errors are JSON `{"error": message}` with a proper status: 400 bad input, 404 unknown file,
413 upload too large, 429 busy, 504 timeout, 500 anything unexpected.
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from ..errors import PrismError
from ..planner.plan import Plan
from .service import Busy, GenerateOptions, GenerationService, JobTimeout, UploadTooLarge

log = logging.getLogger(__name__)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def status_of(e: Exception) -> int:
    if isinstance(e, UploadTooLarge):
        return 413
    if isinstance(e, Busy):
        return 429
    if isinstance(e, JobTimeout):
        return 504
    if isinstance(e, PrismError):
        return 400
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PrismError)
    async def _prism(request: Request, e: PrismError):
        return error(status_of(e), str(e))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error(500, f"internal error: {type(e).__name__}")


def size_limit_middleware(app: FastAPI, max_bytes: int) -> None:
    """Refuse a request whose declared body is over the limit before reading it."""

    @app.middleware("http")
    async def _limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.method == "POST" and length and length.isdigit() and int(length) > max_bytes + 64 * 1024:
            return error(413, f"upload is larger than the limit of {max_bytes / 2**20:g} MB")
        return await call_next(request)


def _parse_plan(text: str | None) -> Plan | None:
    if not text or not text.strip():
        return None
    return Plan.from_json(text, where="plan")


def build_router(service: GenerationService) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": service.config.model, "jobs_on_disk": service.jobs.job_count()}

    @router.post("/v1/plan")
    async def plan(video: UploadFile = File(...), model: str | None = Form(None)):
        job_id, path = await asyncio.to_thread(service.save_upload, video.file, video.filename)
        result = await asyncio.to_thread(service.plan, job_id, path, model)
        return {"plan": result.to_dict(), "text": result.module_texts()}

    @router.post("/v1/generate")
    async def generate(
        video: UploadFile = File(...),
        plan: str | None = Form(None),
        options: str | None = Form(None, description="JSON object: num_steps, cfg_strength, seed, duration, prompt, negative_prompt, model, engine"),
    ):
        parsed_plan = _parse_plan(plan)
        try:
            opts = GenerateOptions(**json.loads(options)) if options else GenerateOptions()
        except (TypeError, json.JSONDecodeError) as e:
            raise PrismError(f"options: {e}") from None
        job_id, path = await asyncio.to_thread(service.save_upload, video.file, video.filename)
        result = await asyncio.to_thread(service.generate, job_id, path, parsed_plan, opts, False)
        base = f"/v1/files/{result.job_id}"
        files = {"audio": f"{base}/{result.audio.name}", "video": f"{base}/{result.video.name}",
                 "plan": f"{base}/{result.plan_file.name}"}
        if result.stems is not None:
            files["stems"] = f"{base}/{result.stems.name}"
        return {
            "job": result.job_id,
            "sample_rate": result.sample_rate,
            "duration": result.duration,
            "files": files,
            "plan": result.plan.to_dict(),
            "timings": result.timings,
        }

    @router.get("/v1/files/{job_id}/{name}")
    async def files(job_id: str, name: str):
        path = service.jobs.file_path(job_id, name)
        if path is None:
            return error(404, "no such file")
        return FileResponse(path, filename=name)

    return router
