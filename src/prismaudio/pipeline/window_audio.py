"""One window of a streamed generate: its frames and plan in, its stereo audio out (not yet
mastered: the whole soundtrack is mastered once, after the windows are joined).

The model engine runs the same stages as a short clip (features, sampling, codec decoding) on
the window alone; a stem engine renders the window's sources, places and sums them.
"""

from __future__ import annotations

import numpy as np

from ..planner.plan import Plan
from .stages import Job


def window_seed(seed: int, index: int) -> int:
    """The noise seed of window `index` of a run seeded `seed`: fixed per window, so a resumed
    run makes the windows it had not made yet exactly as an uninterrupted one would."""
    return (int(seed) + 1_000_003 * int(index)) % (2**31)


def model_windows(pipe, windows: list[tuple[dict, Plan, float, int]], num_steps: int, cfg_strength: float,
                  prompt: str | None, negative) -> tuple[list[np.ndarray], dict[str, float]]:
    """[2, n] float32 audio of each window (frames, plan, seconds, seed) by the joint generator,
    sampled together (one batch: a small model uses a CPU or GPU far better that way), and the
    stage timings. Each window's noise comes from its own seed, so its audio does not depend
    on the others in the batch."""
    from . import stages
    from .joint import sample_and_decode

    jobs, timings = [], {}
    for frames, plan, duration, _ in windows:
        job = Job(video="", plan=plan, duration=duration, frames=dict(frames))
        stages.encode_features(job, pipe.semantic_encoder, pipe.sync_encoder, pipe.text_encoder, prompt)
        timings["features"] = timings.get("features", 0.0) + job.timings["features"]
        jobs.append(job)
    made = sample_and_decode(pipe, jobs, [w[3] for w in windows], num_steps, cfg_strength, negative, progress=False)
    for name, value in made[0][2].items():  # shared by the batch
        timings[name] = timings.get(name, 0.0) + value
    return [waves[0].numpy().astype(np.float32) for waves, _, _ in made], timings


def stem_window(pipe, engine, plan: Plan, duration: float, seed: int, exemplars: dict[str, np.ndarray]
                ) -> tuple[np.ndarray, dict[str, float]]:
    """[2, n] float32 audio of one window by a stem engine (stems placed and summed)."""
    from ..render.mix import place_stems, sum_stems
    from . import stages

    ids = {s.id for s in plan.semantic.sources}
    job = Job(video="", plan=plan, duration=duration, exemplars={k: v for k, v in exemplars.items() if k in ids})
    stems = stages.render_stems(job, engine, pipe.sample_rate, seed)
    n = int(round(duration * pipe.sample_rate))
    return sum_stems(place_stems(stems, plan, pipe.sample_rate, n), n).astype(np.float32), job.timings
