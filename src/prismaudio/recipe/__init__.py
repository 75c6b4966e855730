"""`prismaudio recipe`: the reproducible path from nothing to the shipped default model.

SynthCanvas -> codec -> features -> generator -> evaluators -> Fast-GRPO -> evaluation ->
bundle, each stage skipped when its output exists (stages.py), configured by one YAML
(configs/recipe_tiny.yaml, config.py).
"""

from .config import RecipeConfig, RecipePaths
from .stages import STAGE_NAMES, STAGES, run_recipe

__all__ = ["RecipeConfig", "RecipePaths", "STAGES", "STAGE_NAMES", "run_recipe"]
