"""Generate for a video of any length in constant memory, window by window, resumable.

    one decoding pass, window by window (media.frame_stream)
      -> window plan (the planner on the window's frames, or the given plan cut to it)
      -> window audio (model or stem engine, window_audio), saved in the work folder
    -> join the windows with crossfades into one unmastered file (stream_join)
    -> master the file in blocks: -23 LUFS integrated over the WHOLE soundtrack, <= -1 dBTP
       (render.master_stream)
    -> mux it into a copy of the video in blocks (media.mux_stream)
    -> the whole plan, assembled from the window plans (window_plans), with the run record

Only a window's frames, features and audio are in memory at a time; everything that grows
with the video's length is on disk (the windows, the joined file) or a few numbers per 100 ms
(the loudness meter). An interrupted run keeps its finished windows (workdir) and the same
call continues after the last of them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import media
from ..errors import ConfigError
from ..planner.plan import Plan
from ..render.master_stream import StreamMasterReport, master_file
from . import stages
from .stages import MODEL_ENGINE, GenerateOptions, Job
from .heap import release_free_memory, share_one_heap
from .prefetch import prefetch
from .window_audio import model_windows, stem_window, window_seed
from .window_plans import PlanAssembler, clip_duration, slice_plan, window_cores
from .workdir import WorkDir

log = logging.getLogger(__name__)
STEM_WINDOW_S = 8.0  # stem engines are windowed like the model (8 s) so memory stays flat for them too
STEM_OVERLAP_S = 1.0
MODEL_BATCH = 4  # model windows sampled together: faster per window, memory still bounded


@dataclass
class StreamResult:
    audio: Path
    video: Path | None
    plan: Plan  # the whole video's, with plan.run
    sample_rate: int
    duration: float
    windows: int
    resumed_windows: int  # windows found done in the work folder
    engine: str
    mastering: StreamMasterReport | None = None
    timings: dict[str, float] = field(default_factory=dict)


def window_layout(pipe, engine: str) -> tuple[float, float]:
    """(window length, overlap) in seconds for an engine."""
    if engine == MODEL_ENGINE:
        return pipe.config.duration, min(pipe.defaults["overlap"], pipe.config.duration / 4)
    return STEM_WINDOW_S, STEM_OVERLAP_S


def needs_streaming(pipe, duration: float, engine: str) -> bool:
    """More than one window: clips of one window keep the in-memory path (same audio as before)."""
    return duration > window_layout(pipe, engine)[0] + 1e-9


def _manifest(pipe, job: Job, opts: GenerateOptions, starts: list[float], window: float) -> dict:
    stat = os.stat(job.video)
    plan_hash = hashlib.sha256(job.plan.to_json().encode()).hexdigest() if job.plan is not None else None
    exemplars = {k: str(v) if isinstance(v, (str, Path)) else hashlib.sha256(np.asarray(v).tobytes()).hexdigest()
                 for k, v in sorted(opts.exemplars.items())}
    engine = pipe.engines.get(opts.engine)
    library = getattr(getattr(engine, "library", None), "root", None)
    return {"format": "prismaudio-stream-work", "version": 1, "video": str(Path(job.video).resolve()),
            "video_size": stat.st_size, "video_mtime_ns": stat.st_mtime_ns, "engine": opts.engine,
            "model": pipe.name if opts.engine == MODEL_ENGINE else "", "library": str(library) if library else None,
            "seed": opts.seed, "num_steps": opts.num_steps, "cfg_strength": opts.cfg_strength, "prompt": opts.prompt,
            "negative_prompt": opts.negative_prompt, "duration": job.duration, "window": window,
            "starts": [round(s, 6) for s in starts], "plan": plan_hash, "exemplars": exemplars,
            "sample_rate": pipe.sample_rate}


def _frame_specs(pipe, job: Job, engine: str) -> dict[str, media.FrameSpec]:
    specs = {}
    if job.plan is None:
        spec = stages.planner_frame_spec(job, pipe.planner)
        if spec is None:
            raise ConfigError(f"{job.video}: a custom planner cannot plan a long video window by window: pass a plan")
        specs["planner"] = spec
    if engine == MODEL_ENGINE:
        specs["semantic"] = media.FrameSpec(pipe.config.semantic_rate, (224, 224))
        if pipe.sync_encoder is not None:
            side = 2 * pipe.sync_encoder.cfg.size  # as SyncEncoder.encode_video decodes
            specs["sync"] = media.FrameSpec(pipe.sync_encoder.rate, (side, side))
    return specs


def _given_exemplars(job: Job, opts: GenerateOptions, sample_rate: int) -> dict[str, np.ndarray]:
    """Exemplars by source id: for a given plan checked against it; for planned windows, by the
    assembled ids (s0, s1, ... as a previous run's plan names them)."""
    from .exemplars import check_exemplar, gather_exemplars, load_exemplar

    if job.plan is not None:
        return gather_exemplars(job.plan, opts.exemplars, sample_rate, job.plan_dir)
    return {k: load_exemplar(v, sample_rate, k) if isinstance(v, (str, Path))
            else check_exemplar(v, sample_rate, f"exemplar for source '{k}'") for k, v in opts.exemplars.items()}


def generate_streaming(pipe, video: str | Path, audio_out: str | Path, video_out: str | Path | None,
                       plan: Plan | None, plan_dir: Path | None, opts: GenerateOptions, progress: bool = False,
                       work_dir: str | Path | None = None) -> StreamResult:
    """Write the soundtrack of `video` to `audio_out` (.wav/.flac) and, when `video_out` is
    given, a copy of the video with it; see the module docstring."""
    from tqdm.auto import tqdm

    from ..media.frame_stream import Span, iter_span_frames
    from ..media.mux_stream import mux_file
    from ..models.windows import window_starts
    from .stream_join import join_windows

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    audio_out = Path(audio_out)
    job = Job(str(video), plan, plan_dir)
    stages.check_inputs(job, opts)
    window, overlap = window_layout(pipe, opts.engine)
    starts = window_starts(job.duration, window, overlap)
    lengths = [min(window, job.duration - s) for s in starts]
    cores = window_cores(starts, window, job.duration)
    exemplars = _given_exemplars(job, opts, pipe.sample_rate)
    work = WorkDir(work_dir or audio_out.with_name(f"{audio_out.stem}.work"), _manifest(pipe, job, opts, starts, window))
    done = work.open()
    assembler = PlanAssembler(job.duration)
    for k in range(done):  # resumed: the finished windows' plans rebuild the source ids
        renamed = work.load_plan(k)
        if job.plan is None:
            assembler.rename(renamed)
            assembler.add(renamed, starts[k], cores[k])
    if done:
        log.info("%s: resuming, %d of %d windows already made", video, done, len(starts))
    negative = None
    if opts.engine == MODEL_ENGINE and opts.negative_prompt:
        negative = pipe.text_encoder.encode_with_mask([opts.negative_prompt] * 4)
    specs = _frame_specs(pipe, job, opts.engine) if done < len(starts) else {}
    names = list(specs)
    timings["check_inputs"] = time.perf_counter() - t0
    bar = tqdm(total=len(starts), initial=done, desc=Path(video).name, unit="window", disable=not progress)
    spans = [Span(s, n) for s, n in zip(starts, lengths)]
    frames_iter = iter_span_frames(job.video, [specs[n] for n in names], spans, job.info, skip=set(range(done))) \
        if names else ((k, []) for k in range(done, len(starts)))
    batch: list[tuple[int, dict, Plan]] = []  # model windows waiting to be sampled together

    def make(batch: list) -> None:
        if opts.engine == MODEL_ENGINE:
            audios, stage_times = model_windows(
                pipe, [(frames, plan, lengths[k], window_seed(opts.seed, k)) for k, frames, plan in batch],
                opts.num_steps, opts.cfg_strength, opts.prompt, negative)
        else:
            (k, _, plan), = batch
            audio, stage_times = stem_window(pipe, pipe.engines[opts.engine], plan, lengths[k],
                                             window_seed(opts.seed, k), exemplars)
            audios = [audio]
        for name, value in stage_times.items():
            _add(timings, name, value)
        for (k, _, plan), audio in zip(batch, audios):
            work.save(k, plan, audio)
            bar.update(1)
        batch.clear()
        release_free_memory()  # what this window freed, before the next allocates anew (heap.py: why)

    def planned():
        """(window index, its frames, its plan), decoded and planned in order (in the prefetch thread)."""
        from ..planner.planner import PlannerConfig, plan_frames

        planner_cfg = PlannerConfig()
        t0 = time.perf_counter()
        for k, frame_sets in frames_iter:
            frames = dict(zip(names, frame_sets))
            _add(timings, "decode", time.perf_counter() - t0)
            t0 = time.perf_counter()
            if job.plan is not None:
                window_plan = slice_plan(job.plan, starts[k], starts[k] + lengths[k])
            else:
                window_plan = assembler.rename(plan_frames(frames.pop("planner").numpy(), planner_cfg.fps, lengths[k],
                                                           planner_cfg))
                assembler.add(window_plan, starts[k], cores[k])
            _add(timings, "plan", time.perf_counter() - t0)
            yield k, frames, window_plan
            t0 = time.perf_counter()

    # window k + 1 is decoded and planned on one core while window k's audio is made on the
    # others (prefetch.py: why); the caller's thread count comes back afterwards
    share_one_heap()  # the two threads reuse each other's freed memory (heap.py: why; the CLI asked already)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads - 1))
    try:
        for k, frames, window_plan in prefetch(planned(), depth=1, setup=_one_thread):
            batch.append((k, frames, window_plan))
            if opts.engine != MODEL_ENGINE or len(batch) == MODEL_BATCH or k == len(starts) - 1:
                make(batch)
    finally:
        torch.set_num_threads(threads)
    bar.close()
    return _finish(pipe, job, opts, work, starts, assembler, audio_out, video_out, timings, done, len(starts),
                   join_windows, mux_file)


def _finish(pipe, job: Job, opts: GenerateOptions, work: WorkDir, starts: list[float], assembler: PlanAssembler,
            audio_out: Path, video_out, timings: dict, done: int, count: int, join_windows, mux_file) -> StreamResult:
    sr = pipe.sample_rate
    t0 = time.perf_counter()
    total = int(round(job.duration * sr))
    join_windows(work.load_audio, [int(round(s * sr)) for s in starts], total, work.joined_path, sr)
    timings["join"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = master_file(work.joined_path, audio_out, sr, opts.loudness)
    timings["master"] = time.perf_counter() - t0
    plan = clip_duration(job.plan, job.duration) if job.plan is not None else assembler.plan()
    for source_id, item in opts.exemplars.items():  # the saved plan names the exemplar files used
        if isinstance(item, (str, Path)) and any(s.id == source_id for s in plan.semantic.sources):
            plan.source(source_id).exemplar = str(Path(item).resolve())
    if video_out is not None:
        t0 = time.perf_counter()
        mux_file(job.video, audio_out, video_out, job.duration)
        timings["mux"] = time.perf_counter() - t0
    work.remove()
    return StreamResult(audio_out, Path(video_out) if video_out is not None else None, plan, sr, job.duration, count,
                        done, opts.engine, report, timings)


def _one_thread() -> None:
    """The decoding and planning thread computes on one core (the generator keeps the others),
    without autograd (grad mode is per thread; nothing there is trained)."""
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)


def _add(timings: dict, name: str, value: float) -> None:
    timings[name] = timings.get(name, 0.0) + value
