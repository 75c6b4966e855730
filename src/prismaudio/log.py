"""Logging set-up: one logger per module (`logging.getLogger(__name__)`), configured once by the CLI."""

from __future__ import annotations

import logging
import sys


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("prismaudio")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def progress_enabled() -> bool:
    """Progress bars are shown when the package logger would show INFO lines."""
    return logging.getLogger("prismaudio").getEffectiveLevel() <= logging.INFO


class _NoWriter:
    """Stands in for TensorBoard's SummaryWriter when tensorboard is not installed (extra `train`)."""

    def add_scalar(self, *args, **kwargs) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def tensorboard_writer(log_dir: str):
    """TensorBoard's SummaryWriter, or a no-op with one warning line when tensorboard is absent."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logging.getLogger("prismaudio").warning(
            "tensorboard is not installed: no TensorBoard logs (pip install 'prismaudio[train]'); log.jsonl and checkpoints as usual")
        return _NoWriter()
    return SummaryWriter(log_dir)
