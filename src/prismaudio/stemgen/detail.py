"""Keeping a sketch's detail through the codec: what the stem engine adds back after decoding.

The tiny codec's 24 mid channels carry a sound's envelope and coarse spectrum, not the fine
partials that tell a harp from a honky-tonk piano: encoded and decoded, the sound-bank
sketches of 22 plan-edit clips kept their class (by the evaluation suite's classifier) in
13 of 22, against 20 of 22 before the round trip, and the true phase did not help (also 13),
so the loss is in the magnitude the latent can carry. Starting the flow from a sketch
(SDEdit, template.py) can only keep what the latent holds.

So the decoder's error on the sketch itself is added back: in log magnitude, per STFT bin,
out = decoded(generated) + (sketch - decoded(sketch)), clipped to +-`limit` nepers. Where the
generator kept the sketch, the output is the sketch's own spectrum; where it redrew the
envelope or the spectral balance, that change is applied on top of the sketch's detail
(a gain per bin, as an editor's EQ and envelope would be). Griffin-Lim then starts from the
sketch's phase, so unchanged attacks keep their exact shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# nepers (about +-70 dB). Both magnitudes are floored 60 dB (6.9 nepers) under the sketch's peak,
# so this clips only where the decoding is far louder than the sketch's own peak. At 4 nepers
# (+-35 dB) the clip cut the partials the codec loses most, on the held tones of sustained
# classes (busy signal, oboe, koto, square lead): decoded with their detail, the 80 sketches of
# bench_plan_edit's 40 class-change clips and controls kept their class in 70 at 4, 75 at 8
# and 12, as many as the sketches themselves (docs/stem-generator.md).
RESIDUAL_LIMIT = 8.0
FLOOR_DB = -60.0  # bins this far under the sketch's loudest are silence: no detail is taken from them


@dataclass
class SketchDetail:
    """What the decoder adds back for a batch of sketches: the log-magnitude residual
    [B, F, T], the sketch's phase [B, F, T] (radians) and its silence floor [B, 1, 1]."""

    residual: torch.Tensor
    phase: torch.Tensor
    floor: torch.Tensor


def magnitude_floor(mag: torch.Tensor, floor_db: float = FLOOR_DB) -> torch.Tensor:
    """Per item of the batch [B, F, T]: FLOOR_DB under its loudest bin (at least 1e-8), [B, 1, 1]."""
    peak = mag.flatten(1).amax(dim=1).clamp_min(1e-8)
    return (peak * 10.0 ** (floor_db / 20.0))[:, None, None]


def codec_residual(sketch_mag: torch.Tensor, decoded_mag: torch.Tensor, limit: float = RESIDUAL_LIMIT,
                   floor_db: float = FLOOR_DB) -> torch.Tensor:
    """log(sketch) - log(decoded sketch) per bin [B, F, T], both floored FLOOR_DB under the
    sketch's peak (silence against silence is 0, not the ratio of two noise floors), clipped
    to +-limit."""
    floor = magnitude_floor(sketch_mag, floor_db)
    return (torch.log(sketch_mag + floor) - torch.log(decoded_mag + floor)).clamp(-limit, limit)


def apply_residual(decoded_mag: torch.Tensor, residual: torch.Tensor, floor: torch.Tensor) -> torch.Tensor:
    """A generated magnitude [B, F, T] with a sketch's residual added in log magnitude (the
    inverse of codec_residual: applied to the decoded sketch itself it gives the sketch back,
    up to the clip)."""
    return (torch.exp(torch.log(decoded_mag + floor) + residual) - floor).clamp_min(0.0)
