"""Memory freed by a window of a long video goes back to the system before the next one."""

import ctypes.util
import sys

import numpy as np
import pytest

from prismaudio.pipeline.heap import release_free_memory


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS"))


@pytest.mark.skipif(not sys.platform.startswith("linux") or "libc.so" not in str(ctypes.util.find_library("c")),
                    reason="malloc_trim is glibc's")
def test_freed_memory_held_between_live_blocks_is_given_back():
    release_free_memory()  # earlier tests' holes would be reused below without growing the resident size
    before = rss_mb()
    blocks = [np.ones(7000) for _ in range(2000)]  # 56 KB each: from the heap, not mmap
    kept = blocks[::16]  # a few blocks stay alive between the freed ones, as a window's results do
    del blocks
    held = rss_mb()
    assert held - before > 60  # the holes are not returned by free() alone
    assert release_free_memory()
    assert rss_mb() < held - 50
    assert len(kept) == 125
