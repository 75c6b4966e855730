"""Give freed memory back to the system between the windows of a long video.

Measured on a 10-minute video with the stem engine (glibc's mallinfo2 after every window): the
memory the program holds in use stayed at 250-261 MB, while the free memory glibc kept in its
heap grew from 400 to 540 MB and more, and the resident size with it (1.36 -> 1.53 GB over 30
windows). Every window allocates and frees arrays of other sizes (its sources, its frames),
and the holes left between blocks still in use are never returned on their own.
`malloc_trim(0)` returns every free page of every arena (the planning thread's too).

Between two trims each thread's arena still grows to its own high-water mark: the planning
thread's holes cannot take the generating thread's arrays, nor the other way round, so the
resident size was the SUM of the two high-water marks, and a long video's peak came from the
rare window where both were high at once (60 minutes, stem engine: 1691 MB against 1295 MB at
1 minute). `share_one_heap` makes every thread allocate from the one main arena, where what
one thread frees the other reuses. glibc fixes its arena limit when a second thread first
allocates, so it must be called before any other thread exists (`prismaudio generate` calls
it first thing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


@functools.lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _trim():
    return getattr(_libc(), "malloc_trim", None)  # glibc only: musl, macOS and Windows have none


def share_one_heap() -> bool:
    """Let every thread of the process allocate from one heap arena (see the module docstring);
    False where the C library has no such setting. Takes effect only if no thread other than
    the main one has allocated yet; outputs do not change (only where memory comes from)."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None or _trim() is None:  # mallopt alone: not glibc (musl's ignores M_ARENA_MAX)
        return False
    return bool(mallopt(M_ARENA_MAX, 1))


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where the C library cannot."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
