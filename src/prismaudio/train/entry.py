"""One trainer, two ways in: `prismaudio train TARGET ...` and `python -m package.module ...`.

A training module gives its docstring (the help text), a function adding its arguments and
the function that runs it; these two build the subcommand and the module's own entry from
them, so both take the same arguments and run the same code.
"""

from __future__ import annotations

import argparse
import logging
from typing import Callable


Arguments = Callable[[argparse.ArgumentParser], None]
Runner = Callable[[argparse.Namespace], int]


def add_train_target(targets, common, name: str, summary: str, doc: str | None, arguments: Arguments,
                     run: Runner) -> None:
    """Register `prismaudio train NAME` (commands/train.py calls the module's register_train)."""
    p = targets.add_parser(name, parents=[common], help=summary, description=doc,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments(p)
    p.set_defaults(func=run)


def run_as_module(doc: str | None, arguments: Arguments, run: Runner, argv: list[str] | None = None) -> int:
    """`python -m package.module ARGS`: the same arguments, INFO logging to stderr."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments(ap)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return run(args)
