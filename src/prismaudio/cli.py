"""`prismaudio` command line: a thin layer of subcommands over the library.

Each module listed in COMMAND_MODULES exposes `register(subparsers, common)` and adds its
subcommand(s) with `set_defaults(func=...)`; a handler returns the exit code. A
`PrismError` raised anywhere becomes one line on stderr and exit code 2 (a traceback only
with --debug).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable, Iterable, TypeVar

from . import __version__
from .errors import PrismError
from .log import setup_logging

log = logging.getLogger(__name__)

COMMAND_MODULES = [
    "prismaudio.commands.info",
    "prismaudio.commands.train",
    "prismaudio.commands.serve",
    "prismaudio.commands.demo",
    "prismaudio.commands.generate",
    "prismaudio.commands.plan",
    "prismaudio.commands.extract",
    "prismaudio.commands.eval",
    "prismaudio.codec.cli",
    "prismaudio.commands.grpo",
    "prismaudio.commands.canvas",
    "prismaudio.commands.recipe",
    "prismaudio.commands.library",
]

T = TypeVar("T")

# Set by main() from --debug: batch commands then stop at the first error with its traceback.
_debug = False


def common_options() -> argparse.ArgumentParser:
    """Flags accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="warnings and errors only")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="prismaudio",
        description="PrismAudio: synchronized stereo soundtracks for videos, planned in four modules.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"prismaudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def run_each(items: Iterable[T], fn: Callable[[T], None], what: str = "input") -> int:
    """Run `fn` on every item; a PrismError skips that item with one line. Returns the exit code
    (0 when all succeeded, 2 when any failed)."""
    failed = 0
    total = 0
    for item in items:
        total += 1
        try:
            fn(item)
        except PrismError as e:
            if _debug:
                raise
            failed += 1
            print(f"error: {e}", file=sys.stderr)
    if failed:
        print(f"error: {failed} of {total} {what}(s) failed", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    global _debug
    debug = _debug = getattr(args, "debug", False)
    setup_logging(verbose=getattr(args, "verbose", False), quiet=getattr(args, "quiet", False))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except PrismError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
