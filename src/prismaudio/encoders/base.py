"""The encoder protocol: every conditioning encoder maps its input to tokens [B, T, D].

`rate` is tokens per second for time-aligned streams (video frames, sync features) and
None for text; `dim` is D. Encoders are frozen feature extractors at inference time.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class Encoder(Protocol):
    rate: float | None
    dim: int

    def encode(self, *inputs, **kwargs) -> torch.Tensor:  # [B, T, D]
        ...
