"""The one training loop: step until the end, with periodic work between steps.

    run_loop(step, start, end, [Every(25, log), Every(250, validate), Every(100, save, at_end=True)])

`step(i)` runs step (or iteration) i and returns what it measured; after it, every periodic
job whose period divides i + 1 runs (in the order given) with (i + 1, that result), and jobs
marked `at_end` also run after the last step. A progress bar shows the steps when asked; a
job that returns a dict sets the bar's postfix (the running loss, say).
The generator and stem-generator trainers (train/flow_trainer.py), the codec trainer
(codec/trainer.py) and Fast-GRPO (rl/trainer.py) run their fit loops through it, and so do the small heads (the
evaluators, the planner's heads, centre net and sprite probe) through `train/fit.py`, so "what happens every N steps"
has one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Every:
    """Run `job(done, result)` after every `period`-th step (done = steps finished so far);
    period <= 0 never runs it periodically; `at_end`: also after the last step."""

    period: int
    job: Callable[[int, Any], Any]
    at_end: bool = False


def due(done: int, period: int, end: int, at_end: bool) -> bool:
    """Whether a job with this period runs once `done` steps of `end` are finished (pure)."""
    return (period > 0 and done % period == 0) or (at_end and done == end)


def run_loop(step: Callable[[int], Any], start: int, end: int, jobs: list[Every], progress: bool = False,
             desc: str = "train", unit: str = "step", stop: Callable[[], bool] | None = None) -> list[Any]:
    """Steps start..end-1; returns their results in order.

    `stop()`, asked after each step, ends the loop there (a SIGTERM arrived during it, say);
    that step then counts as the last, so the `at_end` jobs (the final checkpoint) still run.
    """
    from tqdm.auto import tqdm

    results = []
    bar = tqdm(total=end, initial=start, desc=desc, unit=unit, disable=not progress)
    for i in range(start, end):
        result = step(i)
        results.append(result)
        bar.update(1)
        stopping = stop is not None and stop()
        last = stopping or i + 1 == end
        for job in jobs:
            if (due(i + 1, job.period, end, False) or (job.at_end and last)) \
                    and isinstance(shown := job.job(i + 1, result), dict):
                bar.set_postfix(**shown)
        if stopping:
            break
    bar.close()
    return results
