"""Run a network over a variable number of items in batches of a few fixed sizes.

Why: oneDNN, which runs torch's CPU convolutions, compiles a kernel for every new input shape
and keeps it (its primitive cache, up to 1024 kernels) for the life of the process: each new
batch size of the planner's centre net left about 0.35 MB behind (7 convolutions), never freed.
The planner feeds its networks however many items a window has (the looked-at frames of each
shot, the crops of each window's tracks), so a long video met new batch sizes for hours: the
cache grew with the video's length, and its small, long-lived blocks, allocated wherever the
heap had room between the large arrays of a window, kept the heap from shrinking back (its
extent after each window's trim rose from 380 MB to 700 MB over the first 45 windows of a
10-minute video, and the resident size with it). Padded with zeros to a multiple of four, a
network sees at most a handful of shapes (4 for EfficientNet's batches of 16, 16 for the centre
net's 64), whatever the video.

Each item's output does not depend on the padding (the kernels compute every item of a batch
alone); batches of the largest size are as they were.
"""

from __future__ import annotations

from typing import Callable

import torch

STEP = 4


def padded_size(n: int, largest: int) -> int:
    """The batch size that `n` items (1 <= n <= largest) are padded to: the next multiple of
    STEP, at most `largest` (at most largest / STEP + 1 sizes; at most STEP - 1 items of padding:
    powers of two wasted up to half a batch, 9 crops computed as 16)."""
    if not 1 <= n <= largest:
        raise ValueError(f"a batch of {n} items does not fit batches of at most {largest}")
    return min(-(-n // STEP) * STEP, largest)


def batch_shapes(count: int, largest: int) -> list[tuple[int, int, int]]:
    """(start, stop, padded size) of each batch over `count` items, `largest` at a time."""
    return [(i, min(i + largest, count), padded_size(min(largest, count - i), largest)) for i in range(0, count, largest)]


def padded_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """`x` [n, ...] with zero rows appended up to `size` rows (as it is where it has that many), in
    `x`'s memory layout: images permuted from [N, H, W, C] are channels-last, and oneDNN's
    channels-last kernels run EfficientNet-Lite0 1.7x faster on CPU than the default layout that
    `torch.cat` gave a padded batch (8 crops: 0.065 s against 0.116 s on one thread)."""
    if size <= len(x):
        return x
    layout = torch.channels_last if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) \
        and not x.is_contiguous() else torch.contiguous_format
    out = x.new_zeros((size, *x.shape[1:])).contiguous(memory_format=layout)
    out[: len(x)] = x
    return out


def map_batches(fn: Callable[[torch.Tensor], torch.Tensor], make: Callable[[int, int], torch.Tensor], count: int,
                largest: int) -> torch.Tensor:
    """fn over `count` items in fixed-size batches: `make(start, stop)` builds the inputs of items
    start..stop-1 ([stop - start, ...]); each batch is zero-padded to its padded size, and the
    outputs of the real items are concatenated."""
    outs = []
    for start, stop, size in batch_shapes(count, largest):
        outs.append(fn(padded_to(make(start, stop), size))[: stop - start])
    return torch.cat(outs)
