"""`PlannerConfig`: every setting of the planner's passes, one typed dataclass.

Loads from YAML like every other config (`prismaudio.config.load_config(PlannerConfig, path)`,
unknown keys are errors); the preset is configs/planner_default.yaml and `prismaudio plan
VIDEO --config YAML` takes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .canvas.gate import GateConfig
from .detect.camera import CameraConfig
from .detect.foreground import AnalyserConfig
from .detect.shots import ShotConfig
from .events.impacts import ImpactConfig
from .events.open_world import OpenWorldConfig
from .events.visual import EventConfig
from .identify.scene_motion import SceneMotionConfig
from .identify.scene_sources import SceneSourceConfig
from .repair.ghosts import GhostConfig
from .repair.merged import MergedConfig
from .repair.namesakes import NamesakeConfig
from .repair.onsets import OnsetConfig
from .repair.rests import RestConfig
from .repair.swaps import SwapConfig


@dataclass
class PlannerConfig:
    fps: float = 25.0  # analysis frame rate
    analyser: AnalyserConfig = field(default_factory=AnalyserConfig)
    events: EventConfig = field(default_factory=EventConfig)
    impacts: ImpactConfig = field(default_factory=ImpactConfig)
    merged: MergedConfig = field(default_factory=MergedConfig)  # one track holding two touching objects
    onsets: OnsetConfig = field(default_factory=OnsetConfig)  # objects that appear inside another one's blob
    swaps: SwapConfig = field(default_factory=SwapConfig)  # a track that swapped onto a newcomer, cut at the swap
    namesakes: NamesakeConfig = field(default_factory=NamesakeConfig)  # two objects seen together, given one name
    crops_per_track: int = 5  # crops per track for recognition (EfficientNet cost grows with it)
    impact_length: float = 0.25  # seconds an impact event lasts in the plan
    spatial_rate: float = 5.0  # spatial track points per second
    smooth_frames: int = 3  # x is averaged over this many frames (centroid jitter; more would flatten wobbles)
    box_tolerance: float = 0.2  # x from the box centre where the box is this close to the track's usual size (0: centroid)
    max_sources: int = 6  # the strongest (longest-lived) tracks become sources
    refill_sources: bool = False  # open path: tracks past max_sources take the places of those the scene-motion filter drops
    # (off: on PhysWorld train+val it found 5 more true contacts but planned 18 more, most on moving cameras)
    min_track_seconds: float = 0.2
    head_path: str = ""  # empty: the packaged recognition head
    torch_threads: int = 1  # the planner's tensors are small: one thread is fastest (and leaves a core to decoding)
    camera: CameraConfig = field(default_factory=CameraConfig)  # camera pans are estimated and taken out
    shots: ShotConfig = field(default_factory=ShotConfig)  # edited footage is analysed shot by shot
    gate: GateConfig = field(default_factory=GateConfig)  # SynthCanvas footage or not (canvas/gate.py)
    open_world: OpenWorldConfig = field(default_factory=OpenWorldConfig)  # naming and events from motion elsewhere
    scene_motion: SceneMotionConfig = field(default_factory=SceneMotionConfig)  # regions that move only with the camera
    scene_sources: SceneSourceConfig = field(default_factory=SceneSourceConfig)  # engines of traffic seen as a whole
    rests: RestConfig = field(default_factory=RestConfig)  # open world: tracks extended over the time their object rests in view
    ghosts: GhostConfig = field(default_factory=GhostConfig)  # open world, still camera: tracks of where an object will rest are none
    scene_ambience: float = 0.5  # with no moving object, a scene ImageNet names this surely becomes a quiet ambience
