"""Planner: the four-module Plan and the offline video analyser that writes it.

`planner.plan_video(path)` runs the passes of `passes.py` over one `scene.Scene`:
detect/ -> track/ -> repair/ -> identify/ -> events/ -> compose/ (the plan); `canvas/` holds
the SynthCanvas-only gate; the planner's training code lives in `prismaudio.planner_training`.
"""

from .plan import Aesthetic, Event, Plan, PlanError, Semantic, Source, Spatial, SpatialTrack, Temporal

__all__ = ["Aesthetic", "Event", "Plan", "PlanError", "Semantic", "Source", "Spatial", "SpatialTrack", "Temporal"]
