"""Planner: the four-module Plan and the offline video analyser that writes it."""

from .plan import Aesthetic, Event, Plan, PlanError, Semantic, Source, Spatial, SpatialTrack, Temporal

__all__ = ["Aesthetic", "Event", "Plan", "PlanError", "Semantic", "Source", "Spatial", "SpatialTrack", "Temporal"]
