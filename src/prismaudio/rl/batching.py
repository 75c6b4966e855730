"""Batch operations on conditionings: they live in flow/batching.py (the sampler's guidance
needs them too); re-exported here for the RL code's older import path."""

from ..flow.batching import batch_cat, batch_index, batch_repeat, batch_size, unconditional  # noqa: F401
