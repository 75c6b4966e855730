"""The generation service behind both the browser UI and the HTTP API.

It owns the limits (upload size, video duration, concurrent jobs, timeout), the job folders
and the loaded pipelines, so the Gradio app and the FastAPI routes stay thin.
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

log = logging.getLogger(__name__)


class UploadTooLarge(PrismError):
    pass


class Busy(PrismError):
    pass


class JobTimeout(PrismError):
    pass


@dataclass
class GenerateOptions:
    num_steps: int | None = None
    cfg_strength: float | None = None
    seed: int | None = None
    duration: float | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    model: str | None = None
    engine: str = "model"  # or "library" (needs the server's `library` folder)


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
        self._load_pipeline = load_pipeline
        self.jobs = JobStore(work_dir / "jobs", config.retention_s)
        self._pipelines: dict[str, object] = {}
        self._pipeline_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(config.max_concurrent_jobs)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=config.max_concurrent_jobs + 1)

    # ---- resources -------------------------------------------------------------------------
    def pipeline(self, name: str | None = None):
        name = name or self.config.model
        with self._pipeline_lock:
            if name not in self._pipelines:
                self._pipelines[name] = self._load_pipeline(name, self.config.device)
            return self._pipelines[name]

    def stem_pipeline(self, engine: str):
        """The pipeline of a stem engine (no model to load)."""
        if engine != "library":
            raise PrismError(f"unknown engine '{engine}' (model or library)")
        if not self.config.library:
            raise PrismError("this server has no sound library: the library engine is off (serve --config with `library:`)")
        with self._pipeline_lock:
            if "engine:library" not in self._pipelines:
                from ..engines.library import LibraryEngine
                from ..library import SoundLibrary
                from ..pipeline import PrismAudio

                self._pipelines["engine:library"] = PrismAudio.for_stems(LibraryEngine(SoundLibrary.load(self.config.library)))
            return self._pipelines["engine:library"]

    def save_upload(self, source: BinaryIO, client_name: str | None) -> tuple[str, Path]:
        """Copy an upload into a new job folder, refusing it once it passes the size limit."""
        limit = int(self.config.max_upload_mb * 1024 * 1024)
        job_id, folder = self.jobs.new_job()
        path = folder / JobStore.upload_name(client_name)
        written = 0
        try:
            with open(path, "wb") as out:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        raise UploadTooLarge(f"upload is larger than the limit of {self.config.max_upload_mb:g} MB")
                    out.write(chunk)
        except BaseException:
            self.jobs.remove(job_id)
            raise
        return job_id, path

    def check_video(self, job_id: str, path: Path) -> float:
        """Probe the upload; a non-video or too long video removes the job and raises."""
        from .. import media

        try:
            info = media.probe(path)
            if info.duration > self.config.max_video_seconds:
                raise PrismError(
                    f"video is {info.duration:.1f} s long; this server accepts at most {self.config.max_video_seconds:g} s"
                )
        except PrismError as e:
            self.jobs.remove(job_id)
            raise PrismError(str(e).replace(str(path), "upload")) from None
        return info.duration

    # ---- work ------------------------------------------------------------------------------
    def plan(self, job_id: str, path: Path, model: str | None = None) -> Plan:
        self.check_video(job_id, path)
        try:
            return self._run_limited(lambda: self._plan(path, model), wait=False)
        finally:
            self.jobs.remove(job_id)

    def _plan(self, path: Path, model: str | None) -> Plan:
        planner = getattr(self.pipeline(model), "planner", None)
        if planner is None:
            raise PrismError("this model has no planner; write the plan yourself")
        return planner(str(path))

    def generate(self, job_id: str, path: Path, plan: Plan | None, options: GenerateOptions, wait: bool = False,
                 progress: Callable[[float, str], None] | None = None) -> JobResult:
        duration = self.check_video(job_id, path)
        if plan is not None:
            plan.validate(video_duration=options.duration or duration)
        try:
            return self._run_limited(lambda: self._generate(job_id, path, plan, options, progress), wait=wait)
        except BaseException:
            self.jobs.remove(job_id)
            raise

    def _generate(self, job_id: str, path: Path, plan: Plan | None, options: GenerateOptions, progress) -> JobResult:
        from .. import media

        stems_engine = options.engine != "model"
        pipeline = self.stem_pipeline(options.engine) if stems_engine else self.pipeline(options.model)
        extra = {"engine": options.engine} if stems_engine else {}
        result = pipeline.generate(
            path, plan=plan, prompt=options.prompt, negative_prompt=options.negative_prompt,
            duration=options.duration, seed=options.seed,
            num_steps=self.config.default_num_steps if options.num_steps is None else options.num_steps,
            cfg_strength=self.config.default_cfg_strength if options.cfg_strength is None else options.cfg_strength,
            **extra,
        )
        folder = path.parent
        audio = media.write_audio(folder / "audio.wav", result.waveform, result.sample_rate)
        video = media.mux(path, result.waveform, result.sample_rate, folder / "video.mp4")
        plan_file = result.plan.save(folder / "plan.json")
        stems = None
        if getattr(result, "stems", None):
            from ..render.stems import stems_zip, write_stems

            stem_dir = write_stems(folder / "stems", result.stems, result.sample_rate)
            with media.atomic_path(folder / "stems.zip") as tmp:
                tmp.write_bytes(stems_zip(stem_dir))
            stems = folder / "stems.zip"
        path.unlink(missing_ok=True)  # the upload is no longer needed
        return JobResult(
            job_id=job_id, audio=audio, video=video, plan_file=plan_file, plan=result.plan,
            sample_rate=result.sample_rate, duration=result.waveform.shape[-1] / result.sample_rate,
            timings=dict(getattr(result, "timings", {}) or {}), stems=stems,
        )

    def _run_limited(self, fn, wait: bool):
        """Run `fn` in a worker under the concurrency limit and the per-request timeout."""
        if not self._slots.acquire(blocking=wait, timeout=self.config.request_timeout_s if wait else None):
            raise Busy(f"server busy: {self.config.max_concurrent_jobs} job(s) already running; retry later")
        try:
            future = self._executor.submit(fn)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())  # the slot frees when the work really ends
        try:
            return future.result(timeout=self.config.request_timeout_s)
        except concurrent.futures.TimeoutError:
            raise JobTimeout(f"generation took longer than {self.config.request_timeout_s:g} s") from None

    def cleanup(self) -> int:
        return self.jobs.cleanup()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
