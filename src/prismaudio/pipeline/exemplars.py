"""Exemplars: recordings of the sound a planned source should make.

Given three ways, later ones winning: the plan's `semantic.sources[].exemplar` (a path relative
to the plan file), the CLI's `--exemplar SOURCE_ID=FILE`, the Python API's `exemplars=`
(paths or mono arrays at the output rate). Every bad one is refused with one line naming the
file and the source: missing, unreadable, empty, silent, longer than MAX_EXEMPLAR_S, or for a
source id the plan does not have.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, MediaError

MAX_EXEMPLAR_S = 30.0  # an example of one sound; longer is almost surely the wrong file
MIN_EXEMPLAR_S = 0.01
SILENT_PEAK = 1e-4  # -80 dBFS


class ExemplarError(ConfigError):
    """An exemplar that cannot be used."""


def parse_exemplar_options(items: list[str] | None) -> dict[str, Path]:
    """['s0=knock.wav', ...] -> {'s0': Path('knock.wav')}; a malformed item is an error."""
    out: dict[str, Path] = {}
    for item in items or []:
        source, sep, file = item.partition("=")
        if not sep or not source.strip() or not file.strip():
            raise ExemplarError(f"--exemplar '{item}': expected SOURCE_ID=FILE")
        out[source.strip()] = Path(file.strip())
    return out


def check_exemplar(wave: np.ndarray, sample_rate: int, where: str) -> np.ndarray:
    """A mono float32 recording, or ExemplarError saying what is wrong with it."""
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1:
        raise ExemplarError(f"{where}: expected a mono recording [N], got shape {wave.shape}")
    if not np.all(np.isfinite(wave)):
        raise ExemplarError(f"{where}: contains NaN or infinite samples")
    seconds = len(wave) / sample_rate
    if seconds < MIN_EXEMPLAR_S:
        raise ExemplarError(f"{where}: is empty ({seconds * 1000:.0f} ms of audio)")
    if seconds > MAX_EXEMPLAR_S:
        raise ExemplarError(f"{where}: is {seconds:.1f} s long; an exemplar is one sound of at most "
                            f"{MAX_EXEMPLAR_S:.0f} s (cut it to the sound you mean)")
    if float(np.abs(wave).max()) < SILENT_PEAK:
        raise ExemplarError(f"{where}: is silent")
    return wave


def load_exemplar(path: str | Path, sample_rate: int, source_id: str) -> np.ndarray:
    from ..media.audio import read_audio

    path = Path(path)
    where = f"exemplar for source '{source_id}' ({path})"
    if not path.is_file():
        raise ExemplarError(f"{where}: file not found")
    try:
        wave = read_audio(path, sample_rate, channels=1).numpy()[0]
    except MediaError as e:
        raise ExemplarError(f"{where}: not readable audio ({e})") from None
    except Exception as e:  # noqa: BLE001 - a decoder's own error on a corrupt file: one line, not a traceback
        raise ExemplarError(f"{where}: not readable audio ({type(e).__name__})") from None
    return check_exemplar(wave, sample_rate, where)


def plan_exemplar_paths(plan, plan_dir: str | Path | None) -> dict[str, Path]:
    """source id -> exemplar path named in the plan, made absolute against the plan's folder."""
    base = Path(plan_dir) if plan_dir is not None else Path.cwd()
    return {s.id: (base / s.exemplar).resolve() for s in plan.semantic.sources if s.exemplar}


def gather_exemplars(plan, given: dict | None, sample_rate: int, plan_dir: str | Path | None = None
                     ) -> dict[str, np.ndarray]:
    """All exemplars of a plan's sources, loaded and checked; `given` (CLI / API) overrides the
    plan's own. Each used path is written back into the plan as an absolute path, so the saved
    plan reproduces the run."""
    ids = [s.id for s in plan.semantic.sources]
    merged: dict = {**plan_exemplar_paths(plan, plan_dir), **(given or {})}
    out: dict[str, np.ndarray] = {}
    for source_id, item in merged.items():
        if source_id not in ids:
            raise ExemplarError(f"exemplar for unknown source id '{source_id}' (the plan has: {', '.join(ids) or 'none'})")
        if isinstance(item, (str, Path)):
            out[source_id] = load_exemplar(item, sample_rate, source_id)
            plan.source(source_id).exemplar = str(Path(item).resolve())
        else:
            out[source_id] = check_exemplar(item, sample_rate, f"exemplar for source '{source_id}'")
    return out
