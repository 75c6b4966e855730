"""User-facing errors.

A `PrismError` is something the user can fix (a bad file, a bad option, a missing asset).
The CLI prints it as one line naming what and where, exits with code 2, and shows no
traceback unless `--debug` is given. Everything else is a bug and keeps its traceback.
"""


class PrismError(Exception):
    """An error caused by input or environment, reported as one clear line."""

    exit_code = 2


class MediaError(PrismError):
    """A video or audio file that cannot be read or written."""


class ConfigError(PrismError):
    """A configuration or option that is invalid."""


class CheckpointError(PrismError):
    """A checkpoint that is missing, corrupt or of another model."""
