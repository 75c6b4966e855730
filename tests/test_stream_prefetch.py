"""The streamed generate's prefetch: the next window is produced in a thread while the current
one is consumed, in order, never more than `depth` ahead, with the producer's errors raised in
the consumer and an early stop stopping the producer."""

import threading
import time

import pytest

from prismaudio.pipeline.prefetch import prefetch


def test_prefetch_gives_every_item_in_order_from_another_thread():
    threads = []

    def produce():
        for i in range(20):
            threads.append(threading.current_thread())
            yield i

    assert list(prefetch(produce())) == list(range(20))
    assert threading.current_thread() not in threads


def test_prefetch_stays_at_most_depth_ahead():
    made = []

    def produce():
        for i in range(10):
            made.append(i)
            yield i

    for i in prefetch(produce(), depth=2):
        time.sleep(0.02)  # the producer would race ahead if nothing held it
        assert len(made) <= i + 1 + 2 + 1  # the consumed, the queued, and the one being handed over


def test_prefetch_raises_the_producers_error_in_the_consumer_after_the_good_items():
    def produce():
        yield 1
        yield 2
        raise ValueError("bad frame")

    got = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in prefetch(produce()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_and_closes_the_producer():
    closed = threading.Event()
    made = []

    def produce():
        try:
            for i in range(1000):
                made.append(i)
                yield i
        finally:
            closed.set()

    for item in prefetch(produce()):
        if item == 3:
            break
    assert closed.wait(2.0)
    assert len(made) < 10


def test_setup_runs_in_the_producer_thread_first():
    seen = {}

    def setup():
        seen["setup"] = threading.current_thread()

    def produce():
        seen["produce"] = threading.current_thread()
        yield 1

    assert list(prefetch(produce(), setup=setup)) == [1]
    assert seen["setup"] is seen["produce"] is not threading.current_thread()
