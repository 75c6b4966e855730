"""Networks over a variable number of items see a few batch shapes only (encoders/batching.py):
a long video no longer grows oneDNN's kernel cache, and every item's output ignores the padding."""

import ctypes

import numpy as np
import pytest
import torch

from prismaudio.encoders.batching import batch_shapes, map_batches, padded_size, padded_to


def test_sizes_are_multiples_of_four_up_to_the_largest():
    assert [padded_size(n, 16) for n in (1, 3, 4, 5, 8, 9, 13, 16)] == [4, 4, 4, 8, 8, 12, 16, 16]
    assert padded_size(40, 64) == 40 and padded_size(45, 47) == 47  # never past the largest
    assert batch_shapes(37, 16) == [(0, 16, 16), (16, 32, 16), (32, 37, 8)]
    assert batch_shapes(0, 16) == []
    sizes = {size for n in range(1, 500) for _, _, size in batch_shapes(n, 64)}
    assert sizes == set(range(4, 65, 4))  # 16 shapes for any number of items
    with pytest.raises(ValueError):
        padded_size(17, 16)


def test_items_come_out_in_order_from_padded_batches():
    x = torch.arange(37, dtype=torch.float32)[:, None]
    seen = []

    def double(batch):
        seen.append(len(batch))
        return batch * 2

    assert torch.equal(map_batches(double, lambda a, b: x[a:b], 37, 16), x * 2)
    assert seen == [16, 16, 8]  # the last 5 items padded to 8


def test_padding_appends_zero_rows_only_where_short():
    x = torch.ones(3, 2, dtype=torch.long)
    assert torch.equal(padded_to(x, 4), torch.tensor([[1, 1], [1, 1], [1, 1], [0, 0]]))
    assert padded_to(x, 3) is x


def test_a_padded_batch_of_images_keeps_their_channels_last_layout():
    """Images permuted from [N, H, W, C] are channels-last, the layout oneDNN runs fastest; a
    padded batch in the default layout ran EfficientNet 1.7x slower than the same batch unpadded."""
    images = torch.rand(5, 8, 8, 3).permute(0, 3, 1, 2)
    padded = padded_to(images, 8)
    assert padded.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(padded[:5], images) and not padded[5:].any()
    plain = torch.rand(5, 3, 8, 8)
    assert padded_to(plain, 8).is_contiguous()  # other tensors keep the default layout


def _heap_in_use_mb() -> float:
    """glibc's bytes in use (mallinfo2): what the kernel cache's blocks count in."""
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                   "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().uordblks / 2**20


def test_the_centre_net_keeps_no_memory_for_new_frame_counts():
    """Every new batch size used to leave ~0.35 MB of compiled kernels behind for good; now 40
    shots of 1..40 looked-at frames leave none after the first few sizes, and each frame's
    centres are what a batch of its padded size gives."""
    from prismaudio.planner.detect.centres import load_detector, net_input

    detector = load_detector()
    if detector is None:
        pytest.skip("centre net not installed")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (80, 48, 48, 3), dtype=np.uint8)
    masks = rng.random((80, 48, 48)) > 0.6
    for n in range(8, 129, 8):  # every padded size once (detector.every = 2: n / 2 + 1 looked at)
        detector(frames[:n], masks[:n])
    before = _heap_in_use_mb()
    for n in range(1, 81):
        detector(frames[:n], masks[:n])
    assert _heap_in_use_mb() - before < 1.0
    with torch.no_grad():
        alone = detector.net(net_input(frames[:8], masks[:8]))[:5]
        padded = map_batches(detector.net, lambda a, b: net_input(frames[a:b], masks[a:b]), 5, 64)
    assert torch.equal(alone, padded)
