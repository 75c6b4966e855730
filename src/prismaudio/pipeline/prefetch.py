"""Run a producer one step ahead of its consumer, in a thread: the streamed generate decodes and
plans window k + 1 while window k's audio is made.

Why a thread and not more intra-op threads: planning is many small numpy and torch operations
(blob tracking, a small CNN per crop) that keep one core busy but do not split across two.
On the 2-minute benchmark video (17 windows, stem engine) the generating thread used 31.3 CPU s
and the planning thread 18.7: side by side on two cores the wall time is about the larger of
the two, one after the other it is their sum. Numpy, torch and PyAV release the GIL in their
heavy work.

At most `depth` finished items wait, plus the one being made (memory stays bounded: a window's
frames and plan or two), its exceptions come out of the consumer's loop where they would have without the
thread, and stopping early (an error or Ctrl-C in the consumer) stops the producer.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(items: Iterable[T], depth: int = 1, setup: Callable[[], None] | None = None) -> Iterator[T]:
    """The items of `items`, in order, produced in a background thread (at most `depth` waiting).
    `setup` runs first in that thread (e.g. its torch thread count)."""
    if depth < 1:
        raise ValueError(f"prefetch depth must be at least 1, got {depth}")
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        source = iter(items)
        try:
            if setup is not None:
                setup()
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failed(e))
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # a generator stopped early closes what it holds (the video) now
                close()

    worker = threading.Thread(target=run, name="prismaudio-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()
