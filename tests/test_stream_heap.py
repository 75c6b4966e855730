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


SHARED_HEAP_SCRIPT = """
import importlib.util, sys, threading
import numpy as np

# heap.py alone, without the package (whose import loads torch: seconds, for nothing here)
spec = importlib.util.spec_from_file_location("heap", sys.argv[2])
heap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heap)

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS"))

def churn():  # 160 MB of 56 KB blocks (from the heap, not mmap), one in 16 kept: the rest are holes
    blocks = [np.ones(7000) for _ in range(3000)]
    kept = blocks[::16]
    del blocks
    return kept

shared = sys.argv[1] == "shared" and heap.share_one_heap()
kept, before = [], rss_mb()
worker = threading.Thread(target=lambda: kept.append(churn()))  # as the planning thread does
worker.start()
worker.join()
after_thread = rss_mb()
kept.append(churn())  # then the generating (main) thread
print(after_thread - before, rss_mb() - after_thread)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or "libc.so" not in str(ctypes.util.find_library("c")),
                    reason="arenas are glibc's")
@pytest.mark.parametrize("mode", ["shared", "default"])
def test_with_one_heap_the_main_thread_reuses_what_another_thread_freed(mode):
    import os
    import subprocess

    # a fresh process: the setting is process-wide and must come before any other thread allocates
    import prismaudio.pipeline.heap as heap

    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}  # glibc's defaults
    out = subprocess.run([sys.executable, "-c", SHARED_HEAP_SCRIPT, mode, heap.__file__], capture_output=True,
                         text=True, check=True, timeout=60, env=env).stdout.split()
    thread_growth, main_growth = float(out[0]), float(out[1])
    assert thread_growth > 120  # the worker's blocks and holes
    if mode == "shared":
        assert main_growth < 40  # the main thread's blocks went into the worker's holes
    else:
        assert main_growth > 120  # without it each thread's arena grows on its own: the sum is resident
