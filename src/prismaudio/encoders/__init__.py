"""Conditioning encoders behind one protocol: encode(...) -> Tensor[B, T, D] with `rate` and `dim`."""

from .base import Encoder

__all__ = ["Encoder"]
