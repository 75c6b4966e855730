"""HTTP API: POST /v1/generate, POST /v1/plan, GET /v1/files/{job}/{name}, GET /healthz.

Every error, whatever raised it, is JSON `{"error": message}` with a proper status: 400 bad input,
404 unknown route or file, 405 method not allowed (with Allow), 413 body too large, 429 busy,
503 model unavailable, 504 timeout, 500 anything unexpected. Messages never show server paths
or Python internals.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time.

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import PrismError
from .limits import public_message
from .models import ModelUnavailable
from .options import BadRequest, check_model, excerpt, parse_options, parse_plan
from .service import Busy, GenerationService, Job, JobTimeout, UploadTooLarge

log = logging.getLogger(__name__)

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


class ErrorBody(BaseModel):
    error: str


class PlanBody(BaseModel):
    plan: dict[str, Any]
    text: dict[str, str]


class GenerateBody(BaseModel):
    job: str
    sample_rate: int
    duration: float
    files: dict[str, str]
    plan: dict[str, Any]
    timings: dict[str, float]


def _errors(*codes: int) -> dict:
    return {code: {"model": ErrorBody} for code in codes}


WORK_ERRORS = _errors(400, 404, 405, 413, 429, 500, 503, 504)


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def status_of(e: Exception) -> int:
    if isinstance(e, UploadTooLarge):
        return 413
    if isinstance(e, Busy):
        return 429
    if isinstance(e, JobTimeout):
        return 504
    if isinstance(e, ModelUnavailable):
        return 503
    if isinstance(e, PrismError):
        return 400
    return 500


def validation_message(errors: list[dict]) -> str:
    """FastAPI's validation errors in the API's words: the field and what it must be, never the
    value received (an uploaded file's internals) nor Python type names."""
    parts = []
    for err in errors[:3]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header")]
        field = loc[0] if loc else ""
        missing = err.get("type") == "missing"
        if field == "video":
            parts.append("video: required: send the video as a multipart file part named 'video'" if missing
                         else "video: must be a file part (multipart/form-data), not text")
        elif field == "exemplar":
            parts.append("exemplar: must be a file part named SOURCE_ID=FILE (e.g. 's0=knock.wav')")
        elif field in ("plan", "options", "model"):
            parts.append(f"{field}: must be a text field, not a file part")
        elif not field:
            parts.append("the request must be multipart/form-data with a file part named 'video'")
        else:
            parts.append(f"{public_message(field)[:40]}: {'required' if missing else 'invalid value'}")
    return "; ".join(dict.fromkeys(parts))


def install_error_handlers(app: FastAPI, service: GenerationService) -> None:
    @app.exception_handler(PrismError)
    async def _prism(request: Request, e: PrismError):
        return error(status_of(e), service.public(e))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        return error(400, validation_message(list(e.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        if e.status_code == 404:
            message = "not found"
        elif e.status_code == 405:
            message = f"method {request.method} is not allowed here"
        elif e.status_code == 400 and "pars" in str(e.detail):
            message = "the request body is not valid multipart/form-data"
        else:
            message = public_message(str(e.detail))
        return error(e.status_code, message, headers=getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error(500, "internal error; the server's log has the details")


async def run_watched(request: Request, job: Job, work):
    """Run blocking `work` in a thread; a client that goes away cancels the job, so its worker
    slot frees at the generator's next step."""
    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.5)
            if done:
                return task.result()
            if await request.is_disconnected():
                job.cancel.set()
    except asyncio.CancelledError:  # the server is stopping or the request was cancelled
        job.cancel.set()
        raise


def exemplar_source(filename: str | None) -> str:
    """'s0=knock.wav' -> 's0': an exemplar part names its source as `generate --exemplar` does."""
    source, sep, _ = (filename or "").partition("=")
    if not sep or not source.strip():
        raise BadRequest(f"exemplar: name the file part SOURCE_ID=FILE (e.g. 's0=knock.wav'), got {excerpt(filename or '')}")
    return source.strip()


def build_router(service: GenerationService) -> APIRouter:
    router = APIRouter()
    limits = service.limits
    model_help = f"one of: {', '.join(limits.models)} (default {service.models.default})"

    @router.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": service.models.default, "models": list(limits.models),
                "jobs_on_disk": service.jobs.job_count(), "jobs_running": service.active_jobs()}

    @router.post("/v1/plan", response_model=PlanBody, responses=WORK_ERRORS)
    async def plan(
        request: Request,
        video: Annotated[UploadFile, File(description="the video file")],
        model: Annotated[str | None, Form(description=model_help)] = None,
    ):
        model = check_model(model, limits)
        job = await asyncio.to_thread(service.save_upload, video.file, video.filename)
        result = await run_watched(request, job, lambda: service.plan(job, model))
        return {"plan": result.to_dict(), "text": result.module_texts()}

    @router.post("/v1/generate", response_model=GenerateBody, responses=WORK_ERRORS)
    async def generate(
        request: Request,
        video: Annotated[UploadFile, File(description="the video file")],
        plan: Annotated[str | None, Form(description=f"plan JSON as POST /v1/plan returns it, at most "
                                                     f"{limits.max_plan_bytes // 1024} KB; empty: the server plans")] = None,
        options: Annotated[str | None, Form(description=(
            f"JSON object, every key optional: num_steps (1-{limits.max_num_steps}), cfg_strength "
            f"(0-{limits.max_cfg_strength:g}), seed (0-{2**32 - 1}), duration (seconds, at most "
            f"{limits.max_duration:g}), prompt, negative_prompt (text), model ({model_help}), engine (one of: "
            f"{', '.join(limits.engines)})"))] = None,
        exemplar: Annotated[list[UploadFile] | None, File(description=(
            "a recording of the sound a plan source should make (stem engines), named SOURCE_ID=FILE "
            "(e.g. 's0=knock.wav'); repeat the part for more sources"))] = None,
    ):
        parsed_plan = parse_plan(plan, limits)
        opts = parse_options(options, limits)
        named = [exemplar_source(part.filename) for part in exemplar or []]
        job = await asyncio.to_thread(service.save_upload, video.file, video.filename)
        try:
            for source_id, part in zip(named, exemplar or []):
                await asyncio.to_thread(service.save_exemplar, job, source_id, part.file, part.filename)
        except BaseException:
            service.give_up(job)
            raise
        result = await run_watched(request, job, lambda: service.generate(job, parsed_plan, opts))
        base = f"/v1/files/{result.job_id}"
        return {
            "job": result.job_id,
            "sample_rate": result.sample_rate,
            "duration": result.duration,
            "files": {"audio": f"{base}/{result.audio.name}", "video": f"{base}/{result.video.name}",
                      "plan": f"{base}/{result.plan_file.name}",
                      **({"stems": f"{base}/{result.stems.name}"} if result.stems is not None else {})},
            "plan": result.plan.to_dict(),
            "timings": result.timings,
        }

    files_ok = {200: {"description": "the result file", "content": {
        t: {} for t in ("audio/wav", "audio/x-wav", "video/mp4", "application/json")}}}

    @router.get("/v1/files/{job_id}/{name}", responses={**files_ok, **_errors(404, 405)}, response_class=FileResponse)
    async def files(job_id: str, name: str):
        path = service.jobs.file_path(job_id, name)
        if path is None:
            return error(404, "no such file")
        return FileResponse(path, filename=name)

    return router


def guard_api_paths(app: FastAPI, router: APIRouter) -> None:
    """Answer the API's own paths here, never in the web page mounted at '/': other methods on an
    API route get 405 with Allow, any other /v1/ path gets 404."""
    for route in list(router.routes):
        allowed = sorted(route.methods | ({"HEAD"} if "GET" in route.methods else set()))
        others = [m for m in ALL_METHODS if m not in allowed]

        async def not_allowed(request: Request, allowed=tuple(allowed), path=route.path):
            return error(405, f"method {request.method} is not allowed on {path}; use {', '.join(allowed)}",
                         headers={"Allow": ", ".join(allowed)})

        app.add_api_route(route.path, not_allowed, methods=others, include_in_schema=False)

    async def not_found(request: Request):
        return error(404, "not found")

    app.add_api_route("/v1/{rest:path}", not_found, methods=list(ALL_METHODS), include_in_schema=False)


def document_errors(app: FastAPI) -> None:
    """The OpenAPI schema as the API behaves: validation errors are 400 `{"error": ...}`, never
    FastAPI's 422 `{"detail": ...}`."""

    def openapi():
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi
