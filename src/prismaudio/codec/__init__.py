"""Stereo audio codec: the latent space the generator works in (see stereo_codec.py)."""

from .config import CodecConfig
from .stereo_codec import CodecInputError, StereoCodec

__all__ = ["CodecConfig", "CodecInputError", "StereoCodec"]
