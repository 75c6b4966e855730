"""The generate pipeline: bundle (loading/saving models), device, stages (plan -> stems ->
render -> mix), joint (the model engine), exemplars, and `PrismAudio`, the public entry."""

from .bundle import BUNDLE_INDEX, GENERATOR_KIND, KNOWN_BUNDLES, MODEL_DIRS, RANDOM_NAMES, load_generator
from .core import GenerationResult, PrismAudio
from .device import OutOfMemory, is_out_of_memory, resolve_device
from .stages import GenerateOptions, MODEL_ENGINE

from_checkpoints = PrismAudio.from_checkpoints
load_bundle = PrismAudio.from_bundle

__all__ = ["BUNDLE_INDEX", "GENERATOR_KIND", "KNOWN_BUNDLES", "MODEL_DIRS", "MODEL_ENGINE", "RANDOM_NAMES",
           "GenerateOptions", "GenerationResult", "OutOfMemory", "PrismAudio", "from_checkpoints", "is_out_of_memory",
           "load_bundle", "load_generator", "resolve_device"]
