"""`plan_video(path) -> Plan`: the default, offline planner that works on any video.

decode at 25 fps (analysis size), then the passes of `passes.py` over one Scene:
detect -> track -> repair -> identify -> events -> plan. Impact sources get one event per
contact; sustained sources sound from when they appear to when they leave.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from .compose.canvas_plan import _spans, build_plan, group_tracks  # noqa: F401 (part of this module's API)
from .compose.spatial import smoothed, spatial_track, spatial_x  # noqa: F401 (spatial_x, smoothed: part of this module's API)
from .config import PlannerConfig
from .detect.camera import scene_homographies  # noqa: F401 (part of this module's API)
from .detect.foreground import analysis_size
from .events.visual import VisualEvent
from .identify.recognise import Recognition, Recogniser
from .passes import recogniser_for, run
from .plan import Plan
from .tracks import Analysis
from .scene import Scene

log = logging.getLogger(__name__)


@dataclass
class PlanTrace:
    """What the planner saw, for debugging and for the LLM backend's prompt."""

    analysis: Analysis
    recognitions: list[Recognition]
    visual_events: dict[int, list[VisualEvent]]
    seconds: dict[str, float]
    mode: str = "canvas"  # canvas | open (which path planned the clip)


def _recogniser(cfg: PlannerConfig) -> Recogniser:
    return recogniser_for(cfg.head_path, cfg.crops_per_track)


def decode_for_analysis(path: str | Path, cfg: PlannerConfig) -> tuple[np.ndarray, media.VideoInfo]:
    info = media.probe(path)
    width, height = info.display_size
    size = analysis_size(width, height, cfg.analyser.max_side)
    frames = media.decode_frames(path, fps=cfg.fps, size=size, resize_mode="stretch")
    return frames.numpy(), info


def plan_video(path: str | Path, cfg: PlannerConfig | None = None, trace: list | None = None) -> Plan:
    """Plan the soundtrack of a video offline. Bad files raise MediaError (one line)."""
    cfg = cfg or PlannerConfig()
    t0 = time.perf_counter()
    frames, info = decode_for_analysis(path, cfg)
    t1 = time.perf_counter()
    source_fps = 0.0 if info.variable_fps else float(info.fps)
    plan = plan_frames(frames, cfg.fps, info.duration, cfg, trace=trace, decode_seconds=t1 - t0, source_fps=source_fps)
    return plan


def plan_frames(frames: np.ndarray, fps: float, duration: float, cfg: PlannerConfig | None = None,
                trace: list | None = None, decode_seconds: float = 0.0, source_fps: float = 0.0) -> Plan:
    """`source_fps`: the video's own frame rate when it is constant (0: unknown), so the
    open-world path times contacts on the frames the video really showed."""
    import torch

    cfg = cfg or PlannerConfig()
    before = torch.get_num_threads()
    if cfg.torch_threads > 0:
        torch.set_num_threads(cfg.torch_threads)
    try:
        scene = run(Scene(frames, fps, duration, cfg, source_fps=source_fps))
    finally:
        torch.set_num_threads(before)
    s = scene.seconds
    seconds = {"decode": decode_seconds, "analyse": s["detect"] + s["track"] + s["repair"],
               "recognise_and_events": s["identify"] + s["events"] + s["plan"]}
    log.debug("planner timings: %s (%s path)", seconds, scene.mode)
    if trace is not None:
        trace.append(PlanTrace(scene.analysis, scene.recognitions, scene.visual, seconds, scene.mode))
    return scene.plan


def tracked_objects(frames: np.ndarray, fps: float, cfg: PlannerConfig) -> tuple[Analysis, np.ndarray, dict[int, int], list]:
    """(analysis holding the longest-lived tracks, the frames it was made on (stabilised where the
    camera moved), frame each track appeared at inside another object's blob, the clip's shots):
    the passes up to `repair`."""
    scene = run(Scene(frames, fps, frames.shape[0] / fps, cfg), until="repair")
    return scene.analysis, scene.work, scene.appeared, scene.shots
