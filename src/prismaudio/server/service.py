"""The generation service behind both the browser UI and the HTTP API.

It owns the limits (upload size, video duration, concurrent jobs, timeout), the job folders
and the loaded models, so the Gradio app and the FastAPI routes stay thin.

A job's folder has two possible users: the request that created it and the worker that runs
its pipeline. Whichever finishes last removes it on failure, so a timed-out request never
deletes a folder a worker still writes into, and no failure leaves a folder behind. A timed-out
or cancelled job is stopped at the generator's next step (a forward pre-hook checks the job's
cancel flag), which frees its worker slot within one sampling step.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from ..errors import PrismError
from ..planner.plan import Plan
from .config import ServerConfig
from .jobs import JobStore
from .limits import public_message
from .models import ModelRegistry, allow_list
from .options import BadRequest, GenerateOptions, OptionLimits

log = logging.getLogger(__name__)


class UploadTooLarge(PrismError):
    pass


class Busy(PrismError):
    pass


class JobTimeout(PrismError):
    pass


class JobCancelled(Exception):
    """Raised inside a worker whose job was given up (timeout or client gone)."""


# The pipeline speaks CLI; a client should read the name of what it sent.
API_TERMS = {"--num-steps": "options.num_steps", "--cfg-strength": "options.cfg_strength", "--duration": "options.duration",
             "--seed": "options.seed", "--negative-prompt": "options.negative_prompt", "--prompt": "options.prompt",
             "--plan": "plan", "--model": "model"}

_worker = threading.local()  # the cancel flag of the job this worker thread runs


def _stop_if_cancelled(module, args):
    flag = getattr(_worker, "cancel", None)
    if flag is not None and flag.is_set():
        raise JobCancelled()


def install_cancel_check(pipeline) -> None:
    """Let a given-up job stop at the generator's next forward call (once per generator)."""
    generator = getattr(pipeline, "generator", None)
    if generator is not None and hasattr(generator, "register_forward_pre_hook") \
            and not getattr(generator, "_server_cancel_check", False):
        generator.register_forward_pre_hook(_stop_if_cancelled)
        generator._server_cancel_check = True


def warm_encoders(pipeline) -> None:
    """Load what a pipeline otherwise loads on its first job (the text and image encoders), so
    that no request's timeout pays for it."""
    text = getattr(pipeline, "text_encoder", None)
    if hasattr(text, "encode_with_mask"):
        text.encode_with_mask(["warm-up"])
    semantic = getattr(pipeline, "semantic_encoder", None)
    if isinstance(getattr(type(semantic), "model", None), property):
        semantic.model  # noqa: B018 - the property loads and caches the frozen network


def prepare(pipeline):
    install_cancel_check(pipeline)
    warm_encoders(pipeline)
    return pipeline


@dataclass
class Job:
    id: str
    folder: Path
    upload: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False  # a worker holds the folder
    given_up: bool = False  # the request failed: the folder goes once no worker holds it


@dataclass
class JobResult:
    job_id: str
    audio: Path
    video: Path
    plan_file: Path
    plan: Plan
    sample_rate: int
    duration: float
    timings: dict[str, float] = field(default_factory=dict)
    stems: Path | None = None  # stems.zip: one placed stereo file per source (stem engines)


class GenerationService:
    def __init__(self, config: ServerConfig, load_pipeline: Callable[[str, str], object], work_dir: Path):
        self.config = config
        self.work_dir = Path(work_dir)
        self.models = ModelRegistry(allow_list(config.model, config.extra_models),
                                    lambda spec, device: prepare(load_pipeline(spec, device)), config.device)
        self.limits = OptionLimits(max_num_steps=config.max_num_steps, max_cfg_strength=config.max_cfg_strength,
                                   max_duration=config.max_video_seconds, max_plan_bytes=int(config.max_plan_kb * 1024),
                                   models=self.models.names,
                                   engines=("model", "library") if config.library else ("model",))
        self._library_pipeline = None
        self._library_lock = threading.Lock()
        self.jobs = JobStore(self.work_dir / "jobs", config.retention_s)
        self._slots = threading.BoundedSemaphore(config.max_concurrent_jobs)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=config.max_concurrent_jobs + 1)
        self._active: set[str] = set()
        self._active_lock = threading.Lock()

    # ---- resources -------------------------------------------------------------------------
    def pipeline(self, name: str | None = None):
        """An allowed model, loaded (and its lazy encoders warmed) once; called before a job's
        timer starts, so loading never counts against the request timeout."""
        return self.models.get(name)

    def stem_pipeline(self):
        """The library engine's pipeline (no model to load), built once from the server's library."""
        with self._library_lock:
            if self._library_pipeline is None:
                from ..engines.library import LibraryEngine
                from ..library import SoundLibrary
                from ..pipeline import PrismAudio

                self._library_pipeline = PrismAudio.for_stems(LibraryEngine(SoundLibrary.load(self.config.library)))
            return self._library_pipeline

    def warm_up(self) -> None:
        """Load the default model before serving; its failure stops the start (one clear line)."""
        self.models.warm_up()

    def save_upload(self, source: BinaryIO, client_name: str | None) -> Job:
        """Copy an upload into a new job folder, refusing it once it passes the size limit."""
        limit = int(self.config.max_upload_mb * 1024 * 1024)
        job_id, folder = self.jobs.new_job()
        job = Job(job_id, folder, folder / JobStore.upload_name(client_name))
        written = 0
        try:
            with open(job.upload, "wb") as out:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        raise UploadTooLarge(f"upload is larger than the limit of {self.config.max_upload_mb:g} MB")
                    out.write(chunk)
            if written == 0:
                raise BadRequest("video: the uploaded file is empty")
        except BaseException:
            self.jobs.remove(job_id)
            raise
        return job

    def check_video(self, job: Job) -> float:
        """Probe the upload; raises for a non-video or a too long video."""
        from .. import media

        info = media.probe(job.upload)
        if info.duration > self.config.max_video_seconds:
            raise BadRequest(f"video is {info.duration:.1f} s long; this server accepts at most "
                             f"{self.config.max_video_seconds:g} s")
        return info.duration

    def public(self, e: BaseException, job: Job | None = None) -> str:
        """The message of `e` as a client may see it: no server paths."""
        known = {str(self.work_dir.resolve()): "<server>", str(self.work_dir): "<server>", **API_TERMS}
        if job is not None:
            known.update({str(job.upload): "the uploaded video", str(job.folder): "<job>"})
        return public_message(str(e), known)

    # ---- work ------------------------------------------------------------------------------
    def plan(self, job: Job, model: str | None = None, wait: bool = False) -> Plan:
        try:
            self.check_video(job)
            planner = getattr(self.pipeline(model), "planner", None)
            if planner is None:
                raise BadRequest("this model has no planner; send a plan with the video")
            return self._run(job, lambda: planner(str(job.upload)), wait)
        except PrismError as e:
            e.args = (self.public(e, job),)
            raise
        finally:
            self.give_up(job)  # planning keeps nothing

    def generate(self, job: Job, plan: Plan | None, options: GenerateOptions, wait: bool = False) -> JobResult:
        try:
            duration = self.check_video(job)
            if options.duration is not None and options.duration > duration + 0.05:
                raise BadRequest(f"options.duration ({options.duration:g} s) is longer than the video ({duration:.2f} s)")
            if plan is not None:
                plan.validate(video_duration=duration)
            if options.engine == "library":
                pipeline = self.stem_pipeline()
            else:
                pipeline = self.pipeline(options.model)
            return self._run(job, lambda: self._generate(pipeline, job, plan, options), wait)
        except BaseException as e:
            self.give_up(job)
            if isinstance(e, PrismError):
                e.args = (self.public(e, job),)
            raise

    def _generate(self, pipeline, job: Job, plan: Plan | None, options: GenerateOptions) -> JobResult:
        from .. import media

        kwargs = options.pipeline_kwargs(self.config.default_num_steps, self.config.default_cfg_strength)
        result = pipeline.generate(job.upload, plan=plan, **kwargs)  # the server's one call into the pipeline
        audio = media.write_audio(job.folder / "audio.wav", result.waveform, result.sample_rate)
        video = media.mux(job.upload, result.waveform, result.sample_rate, job.folder / "video.mp4")
        plan_file = result.plan.save(job.folder / "plan.json")
        stems = None
        if getattr(result, "stems", None):
            from ..render.stems import stems_zip, write_stems

            stem_dir = write_stems(job.folder / "stems", result.stems, result.sample_rate)
            with media.atomic_path(job.folder / "stems.zip") as tmp:
                tmp.write_bytes(stems_zip(stem_dir))
            stems = job.folder / "stems.zip"
        job.upload.unlink(missing_ok=True)  # the upload is no longer needed
        return JobResult(
            job_id=job.id, audio=audio, video=video, plan_file=plan_file, plan=result.plan,
            sample_rate=result.sample_rate, duration=result.waveform.shape[-1] / result.sample_rate,
            timings=dict(getattr(result, "timings", {}) or {}), stems=stems,
        )

    def _run(self, job: Job, fn, wait: bool):
        """Run `fn` in a worker under the concurrency limit and the per-request timeout."""
        if not self._slots.acquire(blocking=wait, timeout=self.config.request_timeout_s if wait else None):
            raise Busy(f"server busy: {self.config.max_concurrent_jobs} job(s) already running; retry later")

        def work():
            _worker.cancel = job.cancel
            try:
                if job.cancel.is_set():
                    raise JobCancelled()
                return fn()
            finally:
                _worker.cancel = None

        with job.lock:
            job.running = True
        with self._active_lock:
            self._active.add(job.id)
        try:
            future = self._executor.submit(work)
        except BaseException:
            self._worker_done(job)
            raise
        future.add_done_callback(lambda _: self._worker_done(job))  # the slot frees when the work really ends
        try:
            return future.result(timeout=self.config.request_timeout_s)
        except concurrent.futures.TimeoutError:
            job.cancel.set()
            raise JobTimeout(f"generation took longer than {self.config.request_timeout_s:g} s") from None
        except JobCancelled:
            raise JobTimeout("the job was cancelled") from None

    def _worker_done(self, job: Job) -> None:
        self._slots.release()
        with self._active_lock:
            self._active.discard(job.id)
        with job.lock:
            job.running = False
            remove = job.given_up
        if remove:
            self.jobs.remove(job.id)

    def give_up(self, job: Job) -> None:
        """The request is done with a job that keeps nothing: stop its worker, and remove its
        folder now or, while a worker still writes there, as soon as that worker ends."""
        job.cancel.set()
        with job.lock:
            job.given_up = True
            remove = not job.running
        if remove:
            self.jobs.remove(job.id)

    def active_jobs(self) -> int:
        with self._active_lock:
            return len(self._active)

    def cleanup(self) -> int:
        with self._active_lock:
            keep = frozenset(self._active)
        return self.jobs.cleanup(keep=keep)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
