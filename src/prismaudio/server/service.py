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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable

from ..errors import ConfigError, PrismError
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
    """Let a given-up job stop at the generator's next forward call (once per generator);
    `pipeline`: a pipeline with a `generator`, or a generator (torch module) itself."""
    generator = getattr(pipeline, "generator", pipeline)
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


def offered_engines(config: ServerConfig) -> tuple[str, ...]:
    """The engines clients may pick: the joint model always, the stem generator when it ships
    (or config.stem_model names one), the library engine when the server has a sound library."""
    engines = ["model"]
    if config.stem_engine:
        from ..stemgen.engine import default_model_path

        if config.stem_model or default_model_path().is_file():
            engines.append("stem")
    if config.library:
        engines.append("library")
    return tuple(engines)


@dataclass
class Job:
    id: str
    folder: Path
    upload: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False  # a worker holds the folder
    given_up: bool = False  # the request failed: the folder goes once no worker holds it
    exemplars: dict[str, Path] = field(default_factory=dict)  # source id -> its uploaded recording


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
                                   models=self.models.names, engines=offered_engines(config))
        if config.default_engine not in self.limits.engines:
            raise ConfigError(f"default_engine '{config.default_engine}' is not offered by this server "
                              f"(offered: {', '.join(self.limits.engines)}; 'library' needs a library, 'stem' a stem generator)")
        self._stem_pipelines: dict[str, object] = {}  # engine name -> its pipeline (no joint model to load)
        self._stem_lock = threading.Lock()
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

    def stem_pipeline(self, engine: str = "library"):
        """A stem engine's pipeline (no joint model to load), built once: `library` from the
        server's sound library, `stem` the stem generator (its sketches from that library when set)."""
        with self._stem_lock:
            if engine not in self._stem_pipelines:
                from ..pipeline import PrismAudio

                library = None
                if self.config.library:
                    from ..library import SoundLibrary

                    library = SoundLibrary.load(self.config.library)
                if engine == "stem":
                    from ..stemgen.engine import StemGeneratorEngine

                    made = StemGeneratorEngine.load(self.config.stem_model or None, library=library,
                                                    template_sigma=self.config.variation)
                    install_cancel_check(made.model)  # a given-up job stops at the stem generator's next step
                else:
                    from ..engines.library import LibraryEngine

                    made = LibraryEngine(library)
                self._stem_pipelines[engine] = PrismAudio.for_stems(made)
            return self._stem_pipelines[engine]

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

    def save_exemplar(self, job: Job, source_id: str, source: BinaryIO, client_name: str | None) -> Path:
        """Copy an exemplar upload (a recording of the sound source `source_id` should make) into
        the job's folder, under the upload size limit; it is checked when the job runs."""
        if not isinstance(source_id, str) or not source_id.strip() or len(source_id) > 200:
            raise BadRequest("exemplar: needs the id of the plan source it is for")
        limit = int(self.config.max_upload_mb * 1024 * 1024)
        suffix = Path(client_name or "").suffix.lower()
        suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ".audio"
        path = job.folder / f"exemplar-{len(job.exemplars)}{suffix}"
        written = 0
        with open(path, "wb") as out:
            while chunk := source.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise UploadTooLarge(f"exemplar for source '{source_id}' is larger than the limit of "
                                         f"{self.config.max_upload_mb:g} MB")
                out.write(chunk)
        job.exemplars[source_id.strip()] = path
        return path

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
            known.update({str(path): "the uploaded exemplar" for path in job.exemplars.values()})
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
            options = replace(options, engine=options.engine or self.config.default_engine)
            if job.exemplars and options.engine == "model":
                raise BadRequest("exemplars need a stem engine (options.engine: "
                                 f"{' or '.join(e for e in self.limits.engines if e != 'model') or 'none offered'}); "
                                 "the joint model takes no exemplar")
            if options.engine != "model":
                pipeline = self.stem_pipeline(options.engine)
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
        result = pipeline.generate(job.upload, plan=plan, exemplars=dict(job.exemplars) or None,
                                   **kwargs)  # the server's one call into the pipeline
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
