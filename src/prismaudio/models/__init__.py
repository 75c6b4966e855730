"""The generator: a conditional flow-matching DiT over codec latents (see dit.py)."""

from .conditioning import Conditions, module_texts, plan_tracks
from .config import GeneratorConfig, load_model_config
from .dit import FlowDiT
from .sequence import SequenceConfig

__all__ = ["Conditions", "FlowDiT", "GeneratorConfig", "SequenceConfig", "load_model_config", "module_texts", "plan_tracks"]
